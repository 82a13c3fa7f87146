"""The authorization matrix: every route of the app, with every method it takes, tried as a
signed-out visitor and as an account of every role (two consumers, two heads of different
cooperatives, a driver, a dispatcher, complaint staff, an operator) against consumer A's order,
payment, address and cart line, and held against the one table below.

A new route fails this test until it is declared in RULES (who may use it; whether the object in
its URL must be the caller's); a declared route that is gone fails it too, and so does a URL
parameter the matrix has no value for (add one to FILLERS in tests/marketplace/authz.py). Rules
are keyed by the URL rule without converters and the method, never by endpoint names, so moving
a view to another blueprint or framework keeps its rule. The machinery, and what counts as a leak,
is in tests/marketplace/authz.py.
"""

from __future__ import annotations

from marketplace.models import Role
from tests.marketplace.authz import (
    FILLERS,
    IDENTITIES,
    LOGIN,
    PUBLIC,
    REFUSED,
    UNAUTHORIZED,
    Rule,
    build_world,
    parameters,
    routes,
    run_matrix,
)

EVERYONE = tuple(Role)
CONSUMER = Role.CONSUMER


def public(*roles: Role, owner_only: bool = False) -> Rule:
    """Signed-out visitors get through, and the signed-in ``roles`` (default: every role)."""
    return Rule(frozenset(roles or EVERYONE), PUBLIC, owner_only=owner_only)


def page(*roles: Role, owner_only: bool = False, sees_others: bool = False) -> Rule:
    """A page for signed-in ``roles``; a signed-out visitor is sent to /login."""
    return Rule(frozenset(roles), LOGIN, owner_only=owner_only, sees_others=sees_others)


def api(*roles: Role, owner_only: bool = False) -> Rule:
    """An API operation for ``roles`` (by bearer token); without a token: 401."""
    return Rule(frozenset(roles), UNAUTHORIZED, owner_only=owner_only)


#: the driver identity's own route or stop (another identity, driver or not, is refused)
DRIVER_OWN = Rule(frozenset({Role.DRIVER}), LOGIN, owner_only=True, owner="driver")

#: cooperative A's product (the <product_id> filler): only its head (cooperative B's head gets 404)
COOP_A_OWN = Rule(frozenset({Role.COOP_HEAD}), LOGIN, owner_only=True, owner="coop_head_a")

# (URL rule without converters, method) → who may use it. owner_only: the URL names consumer A's
# object, so only consumer A may; any other consumer (or role) must be refused (401/403/404).
RULES: dict[tuple[str, str], Rule] = {
    # the storefront
    ("/", "GET"): public(),
    ("/categories", "GET"): public(),
    ("/c/<slug>", "GET"): public(),
    ("/search", "GET"): public(),
    ("/co/<cooperative_id>", "GET"): public(),  # cooperative A's shop front: its listed products only
    ("/v/<village_id>", "GET"): public(),
    ("/p/<product_id>", "GET"): public(),
    ("/media/products/<file_id>.jpg", "GET"): public(),  # a photo of a product on sale (else 404)
    # accounts
    ("/login", "GET"): public(),
    ("/login", "POST"): public(),
    ("/logout", "POST"): public(),
    ("/register", "GET"): public(),
    ("/register", "POST"): public(),
    ("/register/code", "POST"): public(),
    ("/password/code", "POST"): public(),
    ("/password/reset", "GET"): public(),
    ("/password/reset", "POST"): public(),
    ("/lang/<code>", "GET"): public(),
    ("/lang/<code>", "POST"): public(),
    ("/home", "GET"): page(*EVERYONE),
    ("/account", "GET"): page(*EVERYONE),
    ("/account/password", "GET"): page(*EVERYONE),
    ("/account/password", "POST"): page(*EVERYONE),
    ("/account/sessions/sign-out-others", "POST"): page(*EVERYONE),
    # the demo's SMS outbox: off unless SMS_SANDBOX_INBOX, and then open to anyone (every code)
    ("/sandbox/sms", "GET"): Rule(frozenset(), REFUSED),
    # the cart: guests and consumers, each their own (staff accounts do not shop)
    ("/cart/", "GET"): public(CONSUMER),
    ("/cart/add", "POST"): public(CONSUMER),
    ("/cart/update/<product_id>", "POST"): public(CONSUMER),  # sets the caller's own line
    ("/cart/remove/<product_id>", "POST"): public(CONSUMER, owner_only=True),  # consumer A's line
    # addresses, checkout, orders
    ("/addresses/", "GET"): page(CONSUMER),
    ("/addresses/new", "GET"): page(CONSUMER),
    ("/addresses/new", "POST"): page(CONSUMER),
    ("/addresses/<address_id>/delete", "POST"): page(CONSUMER, owner_only=True),
    ("/addresses/villages", "GET"): public(),  # the gazetteer behind the address form
    ("/checkout/", "GET"): page(CONSUMER),
    ("/checkout/place", "POST"): page(CONSUMER),
    ("/orders/", "GET"): page(CONSUMER),
    ("/orders/<number>", "GET"): page(CONSUMER, owner_only=True),
    ("/orders/<number>/cancel", "POST"): page(CONSUMER, owner_only=True),
    # payments: the sandbox provider's pages belong to the order's owner
    ("/pay/orders/<number>", "POST"): page(CONSUMER, owner_only=True),
    ("/pay/sandbox/<provider_ref>", "GET"): page(CONSUMER, owner_only=True),
    ("/pay/sandbox/<provider_ref>/pay", "POST"): page(CONSUMER, owner_only=True),
    ("/pay/sandbox/<provider_ref>/cancel", "POST"): page(CONSUMER, owner_only=True),
    ("/pay/return/<provider_ref>", "GET"): page(CONSUMER, owner_only=True),
    ("/pay/callback", "POST"): public(),  # the provider's notification: its signature, not a session
    # staff areas
    ("/coop/", "GET"): page(Role.COOP_HEAD),  # the head's own cooperative
    ("/coop/licence", "GET"): page(Role.COOP_HEAD),  # its own licence scan (none yet: back to the overview)
    # batches, stock and its ledger (brief B): the head's own cooperative only; a stock row of
    # cooperative A's answers 404 to cooperative B's head. The ledger names the orders that
    # reserved its goods (numbers, for traceability; never a consumer's name or mobile)
    ("/coop/batches", "GET"): page(Role.COOP_HEAD),
    ("/coop/batches", "POST"): page(Role.COOP_HEAD),
    ("/coop/stock", "GET"): page(Role.COOP_HEAD),
    ("/coop/stock/<stock_id>/adjust", "POST"): Rule(frozenset({Role.COOP_HEAD}), LOGIN, owner_only=True,
                                                    owner="coop_head_a"),
    ("/coop/stock/<stock_id>/threshold", "POST"): Rule(frozenset({Role.COOP_HEAD}), LOGIN, owner_only=True,
                                                       owner="coop_head_a"),
    ("/coop/stock/ledger", "GET"): page(Role.COOP_HEAD, sees_others=True),
    ("/coop/stock/ledger.csv", "GET"): page(Role.COOP_HEAD, sees_others=True),
    ("/coop/stats", "GET"): page(Role.COOP_HEAD),  # the own cooperative's statistics (no id in the URL)
    ("/coop/stats.csv", "GET"): page(Role.COOP_HEAD),  # their CSV export (an empty query: the last 7 days' table)
    ("/dispatch/", "GET"): page(Role.DISPATCHER, Role.OPERATOR),
    # a warehouse's console: its state (recipients and addresses on the routes), the driver manifests
    ("/dispatch/<warehouse>/", "GET"): page(Role.DISPATCHER, Role.OPERATOR, sees_others=True),
    ("/dispatch/<warehouse>/state.json", "GET"): page(Role.DISPATCHER, Role.OPERATOR, sees_others=True),
    ("/dispatch/<warehouse>/routes/<route_id>/manifest", "GET"): page(Role.DISPATCHER, Role.OPERATOR, sees_others=True),
    ("/dispatch/<warehouse>/alerts/<alert_id>/acknowledge", "POST"): page(Role.DISPATCHER, Role.OPERATOR),
    ("/dispatch/<warehouse>/alerts/<alert_id>/resolve", "POST"): page(Role.DISPATCHER, Role.OPERATOR),
    # the console's actions (ids posted in the form must be of the warehouse in the URL: 404
    # otherwise, see tests/marketplace/dispatch/test_actions_views.py); a re-plan's diff lists orders
    ("/dispatch/replan", "POST"): page(Role.DISPATCHER, Role.OPERATOR),
    ("/dispatch/replan", "GET"): page(Role.DISPATCHER, Role.OPERATOR, sees_others=True),
    ("/dispatch/<warehouse>/replan", "POST"): page(Role.DISPATCHER, Role.OPERATOR),
    ("/dispatch/<warehouse>/lock", "POST"): page(Role.DISPATCHER, Role.OPERATOR),
    ("/dispatch/<warehouse>/unlock", "POST"): page(Role.DISPATCHER, Role.OPERATOR),
    ("/dispatch/<warehouse>/pin", "POST"): page(Role.DISPATCHER, Role.OPERATOR),
    ("/dispatch/<warehouse>/unpin", "POST"): page(Role.DISPATCHER, Role.OPERATOR),
    ("/dispatch/<warehouse>/move", "POST"): page(Role.DISPATCHER, Role.OPERATOR),
    ("/dispatch/<warehouse>/breakdown", "POST"): page(Role.DISPATCHER, Role.OPERATOR),
    ("/complaints/", "GET"): page(Role.COMPLAINT_STAFF, Role.OPERATOR, sees_others=True),
    # complaints (brief I): the console and phone intake (staff see the customers' details);
    # the consumer's complaint form and photos on their own order's page
    ("/complaints/new", "GET"): page(Role.COMPLAINT_STAFF, Role.OPERATOR, sees_others=True),
    ("/complaints/new", "POST"): page(Role.COMPLAINT_STAFF, Role.OPERATOR, sees_others=True),
    ("/complaints/<complaint_number>", "GET"): page(Role.COMPLAINT_STAFF, Role.OPERATOR, sees_others=True),
    ("/complaints/<complaint_number>/status", "POST"): page(Role.COMPLAINT_STAFF, Role.OPERATOR),
    ("/complaints/<complaint_number>/reply", "POST"): page(Role.COMPLAINT_STAFF, Role.OPERATOR),
    ("/complaints/<complaint_number>/note", "POST"): page(Role.COMPLAINT_STAFF, Role.OPERATOR),
    ("/complaints/<complaint_number>/macro", "POST"): page(Role.COMPLAINT_STAFF, Role.OPERATOR),
    ("/complaints/<complaint_number>/assign", "POST"): page(Role.COMPLAINT_STAFF, Role.OPERATOR),
    ("/complaints/<complaint_number>/refund", "POST"): page(Role.COMPLAINT_STAFF, Role.OPERATOR),
    ("/complaints/<complaint_number>/coupon", "POST"): page(Role.COMPLAINT_STAFF, Role.OPERATOR),
    ("/complaints/<complaint_number>/reship", "POST"): page(Role.COMPLAINT_STAFF, Role.OPERATOR),
    ("/complaints/<complaint_number>/photos/<complaint_photo_id>", "GET"): page(Role.COMPLAINT_STAFF, Role.OPERATOR),
    ("/complaints/<complaint_number>/proof", "GET"): page(Role.COMPLAINT_STAFF, Role.OPERATOR),
    ("/orders/<number>/complaint", "GET"): page(CONSUMER, owner_only=True),
    ("/orders/<number>/complaint", "POST"): page(CONSUMER, owner_only=True),
    ("/orders/<number>/complaints/<complaint_number>/photos/<complaint_photo_id>", "GET"): page(CONSUMER,
                                                                                                owner_only=True),
    ("/admin/", "GET"): page(Role.OPERATOR),
    ("/admin/jobs", "GET"): page(Role.OPERATOR),  # the scheduler's run log
    ("/admin/jobs/<job_id>/run", "POST"): page(Role.OPERATOR),  # "run now"
    ("/admin/parameters", "GET"): page(Role.OPERATOR),  # learned logistics parameters
    ("/admin/parameters/<parameter_id>", "GET"): page(Role.OPERATOR),  # history, provenance, effect
    ("/admin/parameters/changes/<change_id>/revert", "POST"): page(Role.OPERATOR),  # undo with a reason
    # users and roles, warehouses, vehicles, drivers, window classes (brief F): operators only;
    # the pages show accounts' and drivers' names and mobiles; an empty form posted changes nothing
    ("/admin/users", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/users/new", "GET"): page(Role.OPERATOR),
    ("/admin/users/new", "POST"): page(Role.OPERATOR),
    ("/admin/users/<user_id>", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/users/<user_id>/role", "POST"): page(Role.OPERATOR, sees_others=True),
    ("/admin/users/<user_id>/active", "POST"): page(Role.OPERATOR, sees_others=True),
    ("/admin/warehouses", "GET"): page(Role.OPERATOR),
    ("/admin/warehouses/new", "GET"): page(Role.OPERATOR),
    ("/admin/warehouses/new", "POST"): page(Role.OPERATOR),
    ("/admin/warehouses/<warehouse_id>", "GET"): page(Role.OPERATOR),
    ("/admin/warehouses/<warehouse_id>", "POST"): page(Role.OPERATOR),
    ("/admin/vehicles", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/vehicles/new", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/vehicles/new", "POST"): page(Role.OPERATOR, sees_others=True),
    ("/admin/vehicles/<vehicle_id>", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/vehicles/<vehicle_id>", "POST"): page(Role.OPERATOR, sees_others=True),
    ("/admin/drivers", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/drivers/new", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/drivers/new", "POST"): page(Role.OPERATOR, sees_others=True),
    ("/admin/drivers/<driver_id>", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/drivers/<driver_id>", "POST"): page(Role.OPERATOR, sees_others=True),
    ("/admin/window-classes", "GET"): page(Role.OPERATOR),
    ("/admin/window-classes/<window_class_id>", "GET"): page(Role.OPERATOR),
    ("/admin/window-classes/<window_class_id>", "POST"): page(Role.OPERATOR),
    # cooperatives (operators only; the pages show heads' mobiles and unlisted products) and the
    # audit log. The licence scan is the operator's here; a head sees its own through
    # admin.coops.licence_scan_path (operator or that cooperative's head, else 404)
    ("/admin/cooperatives", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/cooperatives/new", "GET"): page(Role.OPERATOR),
    ("/admin/cooperatives/new", "POST"): page(Role.OPERATOR),
    ("/admin/cooperatives/<cooperative_id>", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/cooperatives/<cooperative_id>/approve", "POST"): page(Role.OPERATOR, sees_others=True),
    ("/admin/cooperatives/<cooperative_id>/suspend", "POST"): page(Role.OPERATOR, sees_others=True),
    ("/admin/cooperatives/<cooperative_id>/reinstate", "POST"): page(Role.OPERATOR, sees_others=True),
    ("/admin/cooperatives/<cooperative_id>/licence", "GET"): page(Role.OPERATOR),
    ("/admin/cooperatives/<cooperative_id>/licence", "POST"): page(Role.OPERATOR),
    ("/admin/audit", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/reports/", "GET"): page(Role.OPERATOR),
    # the bureau reports (issue 23): history, generating, a stored report and its downloads; the
    # <report_id> filler is a report of yesterday (tests/marketplace/authz.py)
    ("/reports/bureau", "GET"): page(Role.OPERATOR),
    ("/reports/bureau", "POST"): page(Role.OPERATOR),
    ("/reports/bureau/<report_id>", "GET"): page(Role.OPERATOR),
    ("/reports/bureau/<report_id>.csv", "GET"): page(Role.OPERATOR),
    ("/reports/bureau/<report_id>.xlsx", "GET"): page(Role.OPERATOR),
    ("/reports/bureau/<report_id>.pdf", "GET"): page(Role.OPERATOR),
    # the driver's phone page: the stops of their own route (recipients' names and phones, as a
    # driver needs them); the ids in the URLs are the driver identity's (FILLERS), so only it may
    ("/driver/", "GET"): page(Role.DRIVER, sees_others=True),
    ("/driver/routes/<own_route_id>/start", "POST"): DRIVER_OWN,
    ("/driver/routes/<own_route_id>/back", "POST"): DRIVER_OWN,
    ("/driver/stops/<stop_id>/arrive", "POST"): DRIVER_OWN,
    ("/driver/stops/<stop_id>/deliver", "POST"): DRIVER_OWN,
    ("/driver/stops/<stop_id>/fail", "POST"): DRIVER_OWN,
    # a proof photo: its driver, dispatchers and operators (and its order's consumer: not an
    # identity here, see tests/marketplace/driver/test_views.py)
    ("/driver/photos/<photo_id>", "GET"): Rule(frozenset({Role.DRIVER}), LOGIN, owner_only=True, owner="driver",
                                               staff=frozenset({Role.DISPATCHER, Role.OPERATOR})),
    # listings (brief L): the head's own cooperative's products only (cooperative B's head: 404);
    # a product's photos and certificate scans are private to its head and the operators until sold
    ("/coop/listings", "GET"): page(Role.COOP_HEAD),
    ("/coop/listings/new", "GET"): page(Role.COOP_HEAD),
    ("/coop/listings/new", "POST"): page(Role.COOP_HEAD),
    ("/coop/listings/<product_id>/edit", "GET"): COOP_A_OWN,
    ("/coop/listings/<product_id>/edit", "POST"): COOP_A_OWN,
    ("/coop/listings/<product_id>/withdraw", "POST"): COOP_A_OWN,
    ("/coop/listings/<product_id>/photos", "POST"): COOP_A_OWN,
    ("/coop/listings/<product_id>/photos/<product_photo_id>", "GET"): COOP_A_OWN,
    ("/coop/listings/<product_id>/photos/<product_photo_id>/remove", "POST"): COOP_A_OWN,
    ("/coop/listings/<product_id>/photos/<product_photo_id>/move", "POST"): COOP_A_OWN,
    ("/coop/listings/<product_id>/certificates/<certificate_id>", "GET"): COOP_A_OWN,
    ("/admin/listings", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/listings/<revision_id>", "GET"): page(Role.OPERATOR, sees_others=True),
    ("/admin/listings/<revision_id>/decide", "POST"): page(Role.OPERATOR, sees_others=True),  # a refusal shows the page
    ("/admin/products/<product_id>/photos/<product_photo_id>", "GET"): page(Role.OPERATOR),
    ("/admin/products/<product_id>/certificates/<certificate_id>", "GET"): page(Role.OPERATOR),
    ("/admin/terms", "GET"): page(Role.OPERATOR),
    ("/admin/terms", "POST"): page(Role.OPERATOR),
    ("/admin/terms/<term_id>/active", "POST"): page(Role.OPERATOR),
    # pick lists, handovers and replenishment (brief C): the head's own cooperative only; a pickup
    # or move id of cooperative A's answers 404 to cooperative B's head
    ("/coop/pickups", "GET"): page(Role.COOP_HEAD),
    ("/coop/pickups/print", "GET"): page(Role.COOP_HEAD),
    ("/coop/pickups/<pickup_id>/handover", "GET"): Rule(frozenset({Role.COOP_HEAD}), LOGIN, owner_only=True,
                                                         owner="coop_head_a"),
    ("/coop/pickups/<pickup_id>/handover", "POST"): Rule(frozenset({Role.COOP_HEAD}), LOGIN, owner_only=True,
                                                          owner="coop_head_a"),
    ("/coop/replenishment", "GET"): page(Role.COOP_HEAD),
    ("/coop/replenishment/accept", "POST"): page(Role.COOP_HEAD),  # ids in the form: another's → 404
    ("/coop/replenishment/<move_id>/cancel", "POST"): Rule(frozenset({Role.COOP_HEAD}), LOGIN, owner_only=True,
                                                            owner="coop_head_a"),
    # the JSON API (bearer tokens only; cookies never authorize it)
    ("/api/v1/", "GET"): public(),
    ("/api/v1/openapi.json", "GET"): public(),
    ("/api/v1/docs", "GET"): public(),
    ("/api/v1/auth/register", "POST"): public(),
    ("/api/v1/auth/code", "POST"): public(),
    ("/api/v1/auth/password/reset", "POST"): public(),
    ("/api/v1/auth/token", "POST"): public(),
    ("/api/v1/auth/token", "DELETE"): api(*EVERYONE),
    ("/api/v1/categories", "GET"): public(),
    ("/api/v1/products", "GET"): public(),
    ("/api/v1/products/<product_id>", "GET"): public(),
    ("/api/v1/towns", "GET"): public(),
    ("/api/v1/towns/<town_id>/villages", "GET"): public(),
    ("/api/v1/addresses", "GET"): api(CONSUMER),
    ("/api/v1/addresses", "POST"): api(CONSUMER),
    ("/api/v1/addresses/<address_id>", "DELETE"): api(CONSUMER, owner_only=True),
    ("/api/v1/cart", "GET"): api(CONSUMER),
    ("/api/v1/cart/items/<product_id>", "PUT"): api(CONSUMER),  # sets the caller's own line
    ("/api/v1/cart/items/<product_id>", "DELETE"): api(CONSUMER, owner_only=True),
    ("/api/v1/quote", "POST"): api(CONSUMER),
    ("/api/v1/orders", "GET"): api(CONSUMER),
    ("/api/v1/orders", "POST"): api(CONSUMER),
    ("/api/v1/orders/<number>", "GET"): api(CONSUMER, owner_only=True),
    ("/api/v1/orders/<number>/cancel", "POST"): api(CONSUMER, owner_only=True),
    ("/api/v1/orders/<number>/complaints", "GET"): api(CONSUMER, owner_only=True),
    ("/api/v1/orders/<number>/complaints", "POST"): api(CONSUMER, owner_only=True),
    ("/api/v1/complaints/<complaint_number>", "GET"): api(CONSUMER, owner_only=True),
    ("/api/v1/complaints/<complaint_number>/photos/<complaint_photo_id>", "GET"): api(CONSUMER, owner_only=True),
}

HOW_TO_DECLARE = (
    "declare it in RULES of tests/marketplace/test_authorization_matrix.py: who may use it "
    "(public(), page(roles…) or api(roles…)), and owner_only=True when its URL names one consumer's object"
)


def test_every_route_is_declared(app):
    undeclared = sorted(set(routes(app)) - set(RULES))
    assert not undeclared, "routes without an authorization rule: " + ", ".join(
        f"{method} {rule}" for rule, method in undeclared) + f"; {HOW_TO_DECLARE}"


def test_every_declared_rule_has_a_route(app):
    stale = sorted(set(RULES) - set(routes(app)))
    assert not stale, "rules for routes that no longer exist (remove them from RULES): " + ", ".join(
        f"{method} {rule}" for rule, method in stale)


def test_every_url_parameter_has_a_value(app):
    unfilled = sorted({(name, rule) for rule in routes(app).values() for name in parameters(rule)
                       if name not in FILLERS})
    assert not unfilled, "URL parameters the matrix cannot fill (add them to FILLERS in tests/marketplace/authz.py): " + (
        ", ".join(f"<{name}> of {rule}" for name, rule in unfilled))


def test_every_role_is_tried():
    assert set(Role) <= set(IDENTITIES.values()), (
        f"no identity of role {sorted(set(Role) - set(IDENTITIES.values()))}: add one to IDENTITIES in tests/marketplace/authz.py")


def test_no_identity_gets_what_the_table_does_not_give_it(app, seeded, make_user):
    world = build_world(app, make_user)
    report = run_matrix(world, RULES)

    routed = routes(app)
    undeclared = sorted(set(routed) - set(RULES))
    tried = {a.key for a in report.attempts}
    n_routes = len({rule for rule, _method in routed})
    n_identities = len(IDENTITIES)
    print(f"\nauthorization matrix: {n_routes} routes, {len(routed)} (route, method) pairs, {n_identities} identities, "
          f"{len(report.attempts)} attempts: {len(report.leaks)} leaks, {len(report.wrong)} wrong answers; "
          f"statuses {dict(sorted(report.statuses().items()))}")
    problems = [a.line() for a in report.leaks + report.wrong] + report.problems
    problems += [f"undeclared: {method} {rule}; {HOW_TO_DECLARE}" for rule, method in undeclared]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert tried == set(routed)
    assert len(report.attempts) == len(routed) * n_identities >= n_routes * n_identities
