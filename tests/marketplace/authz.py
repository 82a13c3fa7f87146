"""The machinery of the authorization matrix (tests/marketplace/test_authorization_matrix.py).

Every route of the URL map, with every method it takes, is tried as each identity below (a
signed-out visitor and one signed-in account per role, two of the roles twice: two consumers,
two heads of different cooperatives) against objects that belong to consumer A: A's order, its
sandbox payment, A's address and A's cart line. The test module declares, in one table, what
each (route, method) must answer; :func:`judge` holds the answers against it.

A *leak* is an answer that gives something to an identity the table does not entitle: a 2xx, a
redirect anywhere but to the sign-in page, a body that shows someone else's private data
(consumer A's mobile, name, address, order number or payment reference; cooperative A's
unlisted product; any account's mobile or name; but not what the request's own URL already
holds), or a change to consumer A's or cooperative A's rows. An identity the table entitles must
get through: 2xx or 3xx (a write with an empty form may also get 400/409/422, past the guard);
401/403 or a redirect to /login for it is a *wrong* answer, as is a signed-out visitor of a page
not sent to /login (401 on the API), and any 5xx. Pages are posted with a valid CSRF token, so
it is the guard, not CSRF, that refuses; a signed-out API call carries consumer A's browser
cookie (cookies must never authorize the API).

How the attempts are kept apart: each identity signs in once (a real sign-in through /login, a
real API token) and every attempt starts a fresh test client with that sign-in's cookie, so a
flash message or a language switch of one attempt never reaches the next. After a write an
identity's sign-in and token are checked and renewed if the attempt ended them (/logout,
DELETE /api/v1/auth/token, signing out elsewhere). Consumer A, the owner, acts last on every
route, and after each of its writes whatever it used up (a cancelled or paid order, a deleted
address, a removed cart line) is made again, under the same private markers.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from marketplace.extensions import db, limiter
from marketplace.models import Role
from tests.conftest import CSRF_RE, PASSWORD, login

PUBLIC = "public"  # a signed-out visitor may use it too
LOGIN = "login"  # a signed-out visitor is sent to /login (pages)
UNAUTHORIZED = "401"  # a signed-out caller gets 401 (the JSON API)
REFUSED = "refused"  # a signed-out caller is refused as anyone not entitled (401/403/404)
ANONYMOUS_OUTCOMES = (PUBLIC, LOGIN, UNAUTHORIZED, REFUSED)

TRIED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/"
LOGIN_PATH = "/login"

OWNER = "consumer_a"

#: who tries every route, in this order (the owner last, so that what it uses up on a route is
#: made again before the next route's attempts); None: signed out
IDENTITIES: dict[str, Role | None] = {
    "anonymous": None,
    "consumer_b": Role.CONSUMER,
    "coop_head_a": Role.COOP_HEAD,
    "coop_head_b": Role.COOP_HEAD,
    "driver": Role.DRIVER,
    "dispatcher": Role.DISPATCHER,
    "complaint_staff": Role.COMPLAINT_STAFF,
    "operator": Role.OPERATOR,
    OWNER: Role.CONSUMER,
}

#: mobiles of the identities' accounts (unlike the demo county's 13x numbers) and a tag that
#: makes every private marker unique on any page
MOBILES = {name: f"1660000{i:04d}" for i, name in enumerate(n for n in IDENTITIES if n != "anonymous")}
TAG = "Authz"
RECIPIENT_MOBILE = "16600009999"
RECIPIENT = f"{TAG} Recipient"
ADDRESS_DETAIL = f"{TAG} Lane 7"
DRAFT_SKU = f"{TAG}-DRAFT-1"  # cooperative A's product not yet on sale: only its head sees it
DRAFT_NAMES = (f"{TAG}未上架样品", f"{TAG} unlisted sample")


@dataclass(frozen=True)
class Rule:
    """What one (route, method) must answer.

    ``allowed``: the signed-in roles that get through. ``anonymous``: PUBLIC (signed-out
    visitors get through too), LOGIN (they are sent to /login), UNAUTHORIZED (401, the API) or
    REFUSED (like anyone not entitled).
    ``owner_only``: the URL names an object of ``owner`` (consumer A), and only that identity is
    entitled; every other one, allowed role or not, is refused (no 2xx, no redirect but to
    /login: 401/403/404, or a 4xx of the empty form). ``sees_others``:
    a staff console whose allowed roles may see other people's private data."""

    allowed: frozenset[Role]
    anonymous: str
    owner_only: bool = False
    owner: str = OWNER
    sees_others: bool = False
    #: roles entitled whoever owns the object in the URL (staff who may see any driver's proof)
    staff: frozenset[Role] = frozenset()

    def __post_init__(self) -> None:
        assert self.anonymous in ANONYMOUS_OUTCOMES, self.anonymous
        assert self.owner in IDENTITIES, self.owner

    def entitles(self, identity: str) -> bool:
        role = IDENTITIES[identity]
        if role is not None and role in self.staff:
            return True
        if self.owner_only and identity != self.owner:
            return False
        if role is None:
            return self.anonymous == PUBLIC
        return role in self.allowed


# --- the URL map ---------------------------------------------------------------------------------

_CONVERTED = re.compile(r"<(?:[^<>:]+:)?(\w+)>")


def rule_key(rule: str) -> str:
    """A rule string without its converters (``/orders/<int(min=1):id>`` → ``/orders/<id>``): the
    table survives a change of converter or framework as long as the URL stays the same."""
    return _CONVERTED.sub(r"<\1>", rule)


def skipped(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def routes(app: Flask) -> dict[tuple[str, str], str]:
    """(rule key, method) → the rule string, for every route and method the matrix tries."""
    found: dict[tuple[str, str], str] = {}
    for rule in app.url_map.iter_rules():
        if skipped(rule.endpoint):
            continue
        for method in sorted((rule.methods or set()) & set(TRIED_METHODS)):
            key = (rule_key(rule.rule), method)
            assert key not in found, f"{key} is routed twice ({found[key]} and {rule.rule})"
            found[key] = rule.rule
    return found


def parameters(rule: str) -> list[str]:
    return _CONVERTED.findall(rule)


# --- the world: accounts and consumer A's objects ------------------------------------------------


@dataclass
class Identity:
    name: str
    role: Role | None
    user_id: int | None = None
    cookie: str = ""  # the session cookie of its sign-in (signed out: with a CSRF secret)
    csrf: str = ""
    token: str | None = None


@dataclass
class World:
    app: Flask
    identities: dict[str, Identity]
    shop: object  # tests.marketplace.checkout.conftest.Shop of consumer A
    order_number: str = ""
    provider_ref: str = ""
    village_id: int = 0
    town_id: int = 0
    category_slug: str = ""
    cooperative_id: int = 0
    #: identity → strings only it (and staff consoles) may see
    markers: dict[str, set[str]] = field(default_factory=dict)
    #: the driver identity's route, a stop on it and a proof photo (made on first use)
    driver_objects: dict[str, object] = field(default_factory=dict)

    def path(self, rule: str) -> str:
        def fill(match: re.Match) -> str:
            name = match.group(1)
            if name not in FILLERS:
                raise UnfilledParameter(rule, name)
            return quote(str(FILLERS[name](self)), safe="")

        return _CONVERTED.sub(fill, rule)

    def private(self, identity: str) -> set[str]:
        """Everyone's private markers but ``identity``'s own."""
        return {m for owner, found in self.markers.items() if owner != identity for m in found}


#: URL parameters, by name. A route with a parameter not here fails the test: add a filler.
FILLERS: dict[str, Callable[[World], object]] = {
    "number": lambda w: w.order_number,  # consumer A's order (online, awaiting payment)
    "provider_ref": lambda w: w.provider_ref,  # its open sandbox payment
    "address_id": lambda w: w.shop.address_id,  # consumer A's default address
    "product_id": lambda w: w.shop.product_id,  # on sale, and in consumer A's cart
    "cooperative_id": lambda w: w.cooperative_id,  # cooperative A (its head: coop_head_a)
    "village_id": lambda w: w.village_id,  # consumer A's village
    "town_id": lambda w: w.town_id,
    "slug": lambda w: w.category_slug,  # the product's category
    "code": lambda w: "zh_CN",  # a language (the default one: nothing else changes)
    "own_route_id": lambda w: driver_objects(w)["route_id"],  # the driver identity's route today
    "stop_id": lambda w: driver_objects(w)["stop_id"],  # a delivery still to be made on it
    "photo_id": lambda w: driver_objects(w)["photo_id"],  # the proof photo of a delivery made on it
    "warehouse": lambda w: dispatch_filler(w, "warehouse"),  # the code of consumer A's order's warehouse
    "route_id": lambda w: dispatch_filler(w, "route_id"),  # a route of that warehouse (of its active plan)
    "alert_id": lambda w: dispatch_filler(w, "alert_id"),  # an alert of that warehouse (made if it has none)
    "job_id": lambda w: "job_runs_prune",  # a scheduled job (quick, touches nothing but the run log)
    # stock (brief B): the shop product's stock row at consumer A's warehouse (cooperative A's product)
    "stock_id": lambda w: w.shop.stock_id,
    "parameter_id": lambda w: parameter_filler(w, "parameter_id"),  # a zone's travel factor (seeded)
    "change_id": lambda w: parameter_filler(w, "change_id"),  # its latest change (a revert needs a reason)
    # fleet administration (brief F): consumer A's account, the warehouse of consumer A's order,
    # a vehicle of it, the driver identity's record, the 18-hour window class
    "user_id": lambda w: w.shop.user_id,
    "warehouse_id": lambda w: w.shop.warehouse_id,
    "vehicle_id": lambda w: fleet_filler(w, "vehicle_id"),
    "driver_id": lambda w: fleet_filler(w, "driver_id"),
    "window_class_id": lambda w: fleet_filler(w, "window_class_id"),
    # pick lists and replenishment (brief C): a pickup stop at cooperative A's site on an active
    # plan, and a milk run of cooperative A (made when missing; never of the shop's product)
    "pickup_id": lambda w: coop_pickup_filler(w, "pickup_id"),
    "move_id": lambda w: coop_pickup_filler(w, "move_id"),
    # listings (brief L): a photo of cooperative A's product (made again when an attempt removed it),
    # a pending revision of cooperative A's unlisted product, a prohibited term
    "product_photo_id": lambda w: listing_filler(w, "product_photo_id"),
    "revision_id": lambda w: listing_filler(w, "revision_id"),
    "term_id": lambda w: listing_filler(w, "term_id"),
    "certificate_id": lambda w: listing_filler(w, "certificate_id"),  # the product's certificate scan
    # storefront photos (brief S): the file of that photo of the shop product (on sale: public)
    "file_id": lambda w: photo_file_filler(w),
    # complaints (brief I): a complaint of consumer A about their order (linked to a delivered
    # stop of the demo history, given a proof photo), and a photo of that complaint
    "complaint_number": lambda w: complaint_filler(w, "complaint_number"),
    "complaint_photo_id": lambda w: complaint_filler(w, "complaint_photo_id"),
    "report_id": lambda w: bureau_report_filler(w),  # a stored bureau report (of yesterday)
}


def complaint_filler(world: World, name: str) -> str:
    """Consumer A's complaint about their order, with a photo, linked to a delivered stop of the
    demo history given a proof photo (made once per world; the files are written again under the
    same ids when another filler has pointed UPLOAD_DIR at a new folder)."""
    from marketplace import uploads
    from marketplace.complaints.models import Complaint, ComplaintCategory
    from marketplace.dispatch.models import Stop, StopKind, StopStatus
    from marketplace.orders.models import Order
    from tests.marketplace.images import png_bytes

    app = world.app
    made = world.__dict__.setdefault("complaint_objects", {})
    with app.app_context():
        try:
            if not made:
                order = db.session.scalar(sa.select(Order).where(Order.number == world.order_number))
                stop = db.session.scalar(sa.select(Stop).where(
                    Stop.kind == StopKind.DELIVERY, Stop.status == StopStatus.DONE,
                    Stop.order_id.not_in(sa.select(Order.id).where(Order.user_id == order.user_id)))
                    .order_by(Stop.id).limit(1))
                complaint = Complaint(number="CPAUTHZ000001", order_id=order.id, user_id=order.user_id,
                                      category=ComplaintCategory.DAMAGED, description="authz", stop_id=stop.id,
                                      route_id=stop.route_id, idempotency_key="authz-complaint")
                db.session.add(complaint)
                db.session.flush()
                complaint.photos = [f"{complaint.id}-{'c' * 32}"]
                stop.proof = {**(stop.proof or {}), "kind": "photo", "photo": f"{stop.id}-{'d' * 32}"}
                db.session.commit()
                made.update(complaint_number=complaint.number, complaint_photo_id=complaint.photos[0],
                            proof=stop.proof["photo"])
            for photo_id, kind in ((made["complaint_photo_id"], "complaint"), (made["proof"], "proof")):
                if not uploads.path_of(photo_id, kind).is_file():
                    owner, key = photo_id.split("-")
                    uploads.store(int(owner), png_bytes(), kind, key=key)
        finally:
            db.session.remove()
    return made[name]


def photo_file_filler(world: World) -> str:
    """The upload id of a photo of the shop product (made when it has none), as the public photo
    route /media/products/<file_id>.jpg names it."""
    from marketplace import uploads
    from marketplace.catalog.models import ProductPhoto
    from tests.marketplace.images import png_bytes

    with world.app.app_context():
        try:
            photo = db.session.scalar(sa.select(ProductPhoto).where(ProductPhoto.product_id == world.shop.product_id)
                                      .order_by(ProductPhoto.position, ProductPhoto.id).limit(1))
            if photo is None:
                file_id = uploads.store(world.shop.product_id, png_bytes(), "product")
                photo = ProductPhoto(product_id=world.shop.product_id, file_id=file_id, position=0)
                db.session.add(photo)
                db.session.commit()
            _restore_upload(photo.file_id, "product")  # made by listing_filler before UPLOAD_DIR moved
            return photo.file_id
        finally:
            db.session.remove()


def fleet_filler(world: World, name: str) -> object:
    """A vehicle of the warehouse of consumer A's order, the driver identity's Driver row, the
    18-hour window class."""
    from marketplace.logistics.models import Driver, Vehicle, WindowClass

    with world.app.app_context():
        try:
            if name == "vehicle_id":
                return db.session.scalar(sa.select(Vehicle.id).where(Vehicle.warehouse_id == world.shop.warehouse_id)
                                         .order_by(Vehicle.id).limit(1))
            if name == "driver_id":
                return db.session.scalar(sa.select(Driver.id).where(
                    Driver.user_id == world.identities["driver"].user_id).limit(1))
            return db.session.scalar(sa.select(WindowClass.id).where(WindowClass.code == "18h"))
        finally:
            db.session.remove()


def parameter_filler(world: World, name: str) -> object:
    """A seeded logistics parameter (a zone's travel factor) and its latest change."""
    from marketplace.logistics.models import LogisticsParameter, ParameterChange

    with world.app.app_context():
        parameter_id = db.session.scalar(sa.select(LogisticsParameter.id).where(
            LogisticsParameter.key == "travel_factor").order_by(LogisticsParameter.id).limit(1))
        if name == "parameter_id":
            return parameter_id
        return db.session.scalar(sa.select(sa.func.max(ParameterChange.id)).where(
            ParameterChange.parameter_id == parameter_id))


def dispatch_filler(world: World, name: str) -> object:
    """The warehouse of consumer A's order (by code), a route of it (of its active plan if it has
    one), an alert of it (one is raised if it has none): read at each attempt, as attempts re-plan."""
    from marketplace.dispatch.models import Alert, AlertSeverity, Plan, PlanStatus, Route
    from marketplace.logistics.models import Warehouse
    from marketplace.orders.models import Order

    with world.app.app_context():
        try:
            warehouse = db.session.scalar(sa.select(Warehouse).join(Order, Order.warehouse_id == Warehouse.id)
                                          .where(Order.number == world.order_number))
            if name == "warehouse":
                return warehouse.code
            if name == "route_id":
                return db.session.scalar(sa.select(Route.id).join(Plan, Plan.id == Route.plan_id)
                                         .where(Plan.warehouse_id == warehouse.id)
                                         .order_by((Plan.status == PlanStatus.ACTIVE).desc(), Route.id.desc()).limit(1))
            alert_id = db.session.scalar(sa.select(Alert.id).where(Alert.warehouse_id == warehouse.id)
                                         .order_by(Alert.id).limit(1))
            if alert_id is None:
                alert = Alert(kind="replan_failed", severity=AlertSeverity.WARNING, warehouse_id=warehouse.id,
                              message="authorization matrix")
                db.session.add(alert)
                db.session.commit()
                alert_id = alert.id
            return alert_id
        finally:
            db.session.remove()


def _own_upload_dir(world: World) -> None:
    """Uploads made for the matrix go to a folder of their own, never the instance folder."""
    import tempfile
    from pathlib import Path

    from marketplace.config import INSTANCE_DIR

    if Path(world.app.config["UPLOAD_DIR"]).resolve().is_relative_to(INSTANCE_DIR.resolve()):
        world.app.config["UPLOAD_DIR"] = tempfile.mkdtemp(prefix="authz-uploads-")


def _restore_upload(file_id: str, kind: str) -> None:
    """A picture stored before driver_objects moved UPLOAD_DIR is written again where the app now
    looks, under the same id (its row stays as it is)."""
    from marketplace import uploads
    from tests.marketplace.images import png_bytes

    path = uploads.path_of(file_id, kind)
    if path is not None and not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(uploads.web_jpeg(png_bytes()))


def listing_filler(world: World, name: str) -> object:
    """A photo and the certificate scan of the product (cooperative A's: <product_id>), a pending
    revision of cooperative A's unlisted product, a prohibited term: read at each attempt, made
    when missing."""
    from marketplace import uploads
    from marketplace.catalog.models import (
        ListingRevision,
        Product,
        ProductPhoto,
        ProhibitedTerm,
        RevisionStatus,
    )
    from tests.marketplace.images import png_bytes

    if name in ("product_photo_id", "certificate_id"):
        _own_upload_dir(world)
    with world.app.app_context():
        try:
            if name == "product_photo_id":
                photo = db.session.scalar(sa.select(ProductPhoto).where(ProductPhoto.product_id == world.shop.product_id)
                                          .order_by(ProductPhoto.position, ProductPhoto.id).limit(1))
                if photo is not None:
                    _restore_upload(photo.file_id, "product")
                if photo is None:
                    file_id = uploads.store(world.shop.product_id, png_bytes(), "product")
                    photo = ProductPhoto(product_id=world.shop.product_id, file_id=file_id, position=0)
                    db.session.add(photo)
                    db.session.commit()
                return photo.id
            if name == "revision_id":
                draft = db.session.scalar(sa.select(Product).where(Product.sku == DRAFT_SKU))
                revision = db.session.scalar(sa.select(ListingRevision).where(ListingRevision.product_id == draft.id)
                                             .order_by(ListingRevision.id.desc()).limit(1))
                if revision is None or revision.status != RevisionStatus.PENDING:
                    revision = ListingRevision(product_id=draft.id, is_new=True, changes={"name_zh": draft.name_zh})
                    db.session.add(revision)
                    db.session.commit()
                return revision.id
            if name == "certificate_id":
                product = db.session.get(Product, world.shop.product_id)
                if product.certificate_file:
                    _restore_upload(product.certificate_file, "certificate")
                else:
                    product.certificate_file = uploads.store(product.id, png_bytes(), "certificate")
                    db.session.commit()
                return product.certificate_file
            term = db.session.scalar(sa.select(ProhibitedTerm).where(ProhibitedTerm.term == f"{TAG}term"))
            if term is None:
                term = ProhibitedTerm(term=f"{TAG}term")
                db.session.add(term)
                db.session.commit()
            return term.id
        finally:
            db.session.remove()


def coop_pickup_filler(world: World, name: str) -> object:
    """A milk run of cooperative A (requested through its service, 1 unit of one of its products
    other than the shop's, so the shop's stock stays as it was) and a pickup stop for it at
    cooperative A's site on an active route of its warehouse: read at each attempt, made again
    when an attempt cancelled the move or a re-plan took the stop."""
    from marketplace.coop import replenishment
    from marketplace.dispatch.models import (
        Plan,
        PlanStatus,
        Replenishment,
        ReplenishmentStatus,
        Route,
        Stop,
        StopKind,
    )
    from marketplace.inventory.models import Location, Stock
    from marketplace.logistics.models import Warehouse

    with world.app.app_context():
        try:
            site_ids = sa.select(Location.id).where(Location.cooperative_id == world.cooperative_id)
            move = db.session.scalar(sa.select(Replenishment).where(
                Replenishment.from_location_id.in_(site_ids), Replenishment.status == ReplenishmentStatus.REQUESTED)
                .order_by(Replenishment.id.desc()).limit(1))
            if move is None:
                stock = db.session.scalar(sa.select(Stock).where(
                    Stock.location_id.in_(site_ids), Stock.product_id != world.shop.product_id,
                    Stock.on_hand - Stock.reserved >= 1).order_by(Stock.id).limit(1))
                warehouse = db.session.scalar(sa.select(Warehouse).where(Warehouse.active.is_(True))
                                              .order_by(Warehouse.id).limit(1))
                move = replenishment.accept(world.cooperative_id, world.identities["coop_head_a"].user_id,
                                            stock.product_id, warehouse.id, 1)
            if name == "move_id":
                return move.id
            stop = db.session.scalar(sa.select(Stop).join(Route, Route.id == Stop.route_id).join(Plan)
                                     .where(Stop.replenishment_id == move.id, Stop.kind == StopKind.REPLENISH_PICKUP,
                                            Plan.status == PlanStatus.ACTIVE).limit(1))
            if stop is None:
                warehouse = db.session.scalar(sa.select(Warehouse).where(Warehouse.location_id == move.to_location_id))
                route = db.session.scalar(sa.select(Route).join(Plan).where(
                    Plan.warehouse_id == warehouse.id, Plan.status == PlanStatus.ACTIVE).order_by(Route.id).limit(1))
                site = db.session.get(Location, move.from_location_id)
                last = max((s.sequence for s in route.stops), default=0)
                stop = Stop(route_id=route.id, sequence=last + 1, kind=StopKind.REPLENISH_PICKUP,
                            replenishment_id=move.id, location_id=site.id, lat=site.lat, lon=site.lon,
                            planned_arrival_at=route.end_at, planned_departure_at=route.end_at)
                db.session.add(stop)
                db.session.commit()
            return stop.id
        finally:
            db.session.remove()


def driver_objects(world: World) -> dict[str, object]:
    """The driver identity drives the van of an active plan's route that carries none of consumer
    A's orders (the seed's driver swaps vans with them); one of its deliveries is made with a
    proof photo (in a folder of its own: uploads stay out of the instance folder)."""
    if world.driver_objects:
        return world.driver_objects
    import tempfile

    from marketplace import uploads as photos
    from marketplace.columns import utcnow
    from marketplace.dispatch import services as dispatch
    from marketplace.dispatch.models import Plan, PlanStatus, Route, Stop, StopKind, StopStatus
    from marketplace.logistics.models import Driver, Vehicle
    from marketplace.orders.models import Order
    from tests.marketplace.images import png_bytes

    app = world.app
    app.config["UPLOAD_DIR"] = tempfile.mkdtemp(prefix="authz-uploads-")
    with app.app_context():
        driver = db.session.scalar(sa.select(Driver).where(Driver.user_id == world.identities["driver"].user_id))
        theirs = sa.select(Order.id).where(Order.user_id == world.shop.user_id)
        for route in db.session.scalars(sa.select(Route).join(Plan).where(Plan.status == PlanStatus.ACTIVE)
                                        .order_by(Route.id)):
            deliveries = [s for s in route.stops if s.kind == StopKind.DELIVERY and s.status == StopStatus.PENDING]
            if len(deliveries) >= 2 and not db.session.scalar(
                    sa.select(sa.func.count()).select_from(Stop).where(Stop.route_id == route.id,
                                                                       Stop.order_id.in_(theirs))):
                break
        else:
            raise AssertionError("no route for the driver identity in the demo county's active plans")
        vehicle = db.session.get(Vehicle, route.vehicle_id)
        vehicle.driver_id = driver.id
        db.session.commit()
        made = deliveries[-1]
        photo_id = photos.store(made.id, png_bytes())
        dispatch.record_stop(made.id, StopStatus.DONE, proof={"kind": "photo", "value": photo_id, "photo": photo_id,
                                                              "name": None, "at": utcnow().isoformat()})
        world.driver_objects.update(route_id=route.id, stop_id=deliveries[0].id, photo_id=photo_id)
        db.session.remove()
    return world.driver_objects


class UnfilledParameter(Exception):
    def __init__(self, rule: str, name: str) -> None:
        super().__init__(
            f"{rule}: no value for <{name}>. Add a filler for '{name}' to FILLERS in "
            f"tests/marketplace/authz.py (an object of consumer A's or cooperative A's where the "
            f"parameter names one), so the authorization matrix can try the route.")
        self.rule, self.name = rule, name


def build_world(app: Flask, make_user) -> World:
    """Consumer A with an address, an online order awaiting payment (with its sandbox payment)
    and a cart line; cooperative A (the product's) with an unlisted product; an account per
    identity, signed in, with an API token. Needs the demo county (``seeded``)."""
    from marketplace.catalog.models import Product, ProductStatus
    from marketplace.geo.models import Address
    from marketplace.logistics.models import Driver
    from marketplace.models import Cooperative, User
    from tests.marketplace.checkout.conftest import make_shop

    shop = make_shop(app, make_user, mobile=MOBILES[OWNER])
    identities = {OWNER: Identity(OWNER, Role.CONSUMER, shop.user_id)}
    with app.app_context():
        product = db.session.get(Product, shop.product_id)
        village = db.session.get(Address, shop.address_id).village
        coop_a = product.cooperative_id
        coop_b = db.session.scalar(sa.select(Cooperative.id).where(Cooperative.id != coop_a).order_by(Cooperative.id))
        draft = Product(
            sku=DRAFT_SKU, cooperative_id=coop_a, category_id=product.category_id,
            name_zh=DRAFT_NAMES[0], name_en=DRAFT_NAMES[1], unit_zh=product.unit_zh,
            unit_en=product.unit_en, price_fen=product.price_fen, weight_g=product.weight_g,
            volume_cm3=product.volume_cm3, status=ProductStatus.DRAFT)
        db.session.add(draft)
        db.session.commit()
        world = World(app, identities, shop, village_id=village.id, town_id=village.town_id,
                      category_slug=product.category.slug, cooperative_id=coop_a)
    for name, role in IDENTITIES.items():
        if name in identities:
            continue
        if role is None:
            identities[name] = Identity(name, None)
            continue
        extra = {"cooperative_id": coop_a if name == "coop_head_a" else coop_b} if role == Role.COOP_HEAD else {}
        user = make_user(role, mobile=MOBILES[name], name=f"{TAG} {name}", **extra)
        identities[name] = Identity(name, role, user.id)
        if role == Role.DRIVER:
            with app.app_context():
                db.session.add(Driver(name=f"{TAG} {name}", mobile=MOBILES[name], user_id=user.id))
                db.session.commit()
    with app.app_context():
        owner = db.session.get(User, shop.user_id)
        owner.name = f"{TAG} {OWNER}"
        db.session.commit()
    for identity in identities.values():
        world.markers[identity.name] = {MOBILES[identity.name], f"{TAG} {identity.name}"} if identity.role else set()
    world.markers[OWNER] |= {RECIPIENT_MOBILE, ADDRESS_DETAIL, RECIPIENT}
    world.markers["coop_head_a"] |= {DRAFT_SKU, *DRAFT_NAMES}
    restore_owner(world)
    for identity in identities.values():
        sign_in(app, identity)
    return world


def restore_owner(world: World) -> None:
    """Consumer A has a live default address, an online order awaiting payment with an open
    sandbox payment, and the product in its cart (made again where an attempt used them up)."""
    from marketplace.cart.models import Cart, CartItem
    from marketplace.geo import services as geo
    from marketplace.geo.models import Address
    from marketplace.orders.models import Order, OrderStatus
    from marketplace.payments import services as payments
    from marketplace.payments.models import Payment, PaymentStatus
    from tests.marketplace.checkout.conftest import place_offered

    shop = world.shop
    with world.app.app_context():
        address = db.session.get(Address, shop.address_id)
        if address.deleted_at is not None:
            address = geo.add_address(shop.user_id, village_id=address.village_id, detail=ADDRESS_DETAIL,
                                      recipient_name=RECIPIENT, recipient_mobile=RECIPIENT_MOBILE, make_default=True)
            shop.address_id = address.id
        elif address.detail != ADDRESS_DETAIL:  # make_shop's address, once
            address.detail, address.recipient_name, address.recipient_mobile = (
                ADDRESS_DETAIL, RECIPIENT, RECIPIENT_MOBILE)
            db.session.commit()
        order = db.session.scalar(sa.select(Order).where(Order.number == world.order_number))
        payment = db.session.scalar(sa.select(Payment).where(Payment.provider_ref == world.provider_ref))
        if (order is None or order.status != OrderStatus.PENDING_PAYMENT or payment is None
                or payment.status != PaymentStatus.PENDING):
            order = place_offered(shop, method="online")
            payment = payments.start_payment(order)
            db.session.commit()
            world.order_number, world.provider_ref = order.number, payment.provider_ref
            world.markers[OWNER] |= {order.number, payment.provider_ref}
        cart = db.session.scalar(sa.select(Cart).where(Cart.user_id == shop.user_id))
        if cart is None:
            cart = Cart(user_id=shop.user_id)
            db.session.add(cart)
        if not any(item.product_id == shop.product_id for item in cart.items):
            cart.items.append(CartItem(product_id=shop.product_id, quantity=1))
        db.session.commit()
        db.session.remove()


def sign_in(app: Flask, identity: Identity) -> None:
    """A real sign-in (and an API token) for the identity; signed out: a session with a CSRF
    secret. Its cookie is then given to a fresh client for every attempt."""
    from marketplace.auth import services as auth_services
    from marketplace.models import User

    limiter.reset()
    client = app.test_client()
    if identity.role is None:
        page = "/login"
    else:
        with app.app_context():
            mobile = db.session.get(User, identity.user_id).mobile
        response = login(client, mobile, PASSWORD)
        assert response.status_code == 302 and urlsplit(response.headers["Location"]).path != LOGIN_PATH, (
            f"{identity.name} could not sign in: {response.status_code}")
        page = "/account/password"  # a form every signed-in role can open
        with app.app_context():
            identity.token = auth_services.issue_token(db.session.get(User, identity.user_id), "authz matrix")
    html = client.get(page).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {page} for {identity.name}"
    identity.csrf = match.group(1)
    identity.cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def still_signed_in(app: Flask, identity: Identity) -> bool:
    """Whether an attempt (/logout, DELETE /api/v1/auth/token, signing out elsewhere…) ended the
    identity's sign-in or revoked its token."""
    from marketplace.auth import services as auth_services

    if identity.role is None:
        return True
    client = _client(app, identity)
    if client.get("/account").status_code != 200:
        return False
    with app.app_context():
        alive = auth_services.user_for_token(identity.token or "") is not None
        db.session.remove()
    return alive


def _client(app: Flask, identity: Identity) -> FlaskClient:
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], identity.cookie)
    return client


# --- what consumer A and cooperative A own -------------------------------------------------------


SNAPSHOT = {
    "user": "SELECT name, mobile, password_hash, locale, active, role FROM users WHERE id = :u",
    "addresses": "SELECT id, detail, recipient_name, recipient_mobile, is_default, deleted_at IS NULL"
                 " FROM addresses WHERE user_id = :u ORDER BY id",
    "orders": "SELECT number, status, address_id, total_fen FROM orders WHERE user_id = :u ORDER BY id",
    "payments": "SELECT p.provider_ref, p.status, p.amount_fen FROM payments p JOIN orders o ON o.id = p.order_id"
                " WHERE o.user_id = :u ORDER BY p.id",
    "cart": "SELECT i.product_id, i.quantity FROM cart_items i JOIN carts c ON c.id = i.cart_id"
            " WHERE c.user_id = :u ORDER BY i.product_id",
    "API tokens": "SELECT id, revoked_at IS NULL FROM api_tokens WHERE user_id = :u ORDER BY id",
    "sign-ins": "SELECT id, revoked_at IS NULL FROM login_sessions WHERE user_id = :u ORDER BY id",
    "products of cooperative A": "SELECT id, sku, status, price_fen, name_zh FROM products"
                                 " WHERE cooperative_id = :c ORDER BY id",
    "cooperative A": "SELECT name_zh, licence_no, head_mobile FROM cooperatives WHERE id = :c",
    "stock of the product": "SELECT location_id, on_hand, reserved FROM stocks WHERE product_id = :p"
                            " ORDER BY location_id",
}


def snapshot(world: World) -> dict[str, list]:
    """Consumer A's and cooperative A's rows as an attempt could change them (no last-seen
    times): taken after every attempt by anyone else, and compared with the one before."""
    params = {"u": world.shop.user_id, "c": world.cooperative_id, "p": world.shop.product_id}
    with world.app.app_context():
        taken = {name: [tuple(row) for row in db.session.execute(sa.text(sql), params)]
                 for name, sql in SNAPSHOT.items()}
        db.session.remove()
    return taken


def changed(before: dict[str, list], after: dict[str, list]) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


# --- one attempt, and the verdict ----------------------------------------------------------------


@dataclass
class Attempt:
    identity: str
    key: tuple[str, str]
    path: str
    status: int
    location: str
    verdict: str  # "ok", "leak" or "wrong"
    why: str = ""

    def line(self) -> str:
        where = f" → {self.location}" if self.location else ""
        return f"{self.verdict.upper()}: {self.key[1]} {self.key[0]} as {self.identity} ({self.path}): {self.status}{where}: {self.why}"


def attempt(world: World, identity: Identity, rule: str, method: str) -> tuple[object, str]:
    """Send one request: pages with the identity's cookie and a valid CSRF token, the API with
    its bearer token. A write carries an empty form (or ``{}``). A signed-out API caller
    brings consumer A's browser cookie along: cookies must never authorize the API."""
    path = world.path(rule)
    limiter.reset()
    kwargs: dict = {}
    if path.startswith(API_PREFIX):
        if identity.token:
            client = world.app.test_client()
            kwargs["headers"] = {"Authorization": f"Bearer {identity.token}"}
        else:
            client = _client(world.app, world.identities[OWNER])
        if method in WRITES - {"DELETE"}:
            kwargs["json"] = {}
    else:
        client = _client(world.app, identity)
        if method in WRITES:
            kwargs["data"] = {"csrf_token": identity.csrf}
    return client.open(path, method=method, **kwargs), path


def body_text(response) -> str:
    if response.is_json:
        try:
            return json.dumps(response.get_json(), ensure_ascii=False)
        except ValueError:
            pass
    return response.get_data().decode("utf-8", "replace")  # a picture too (a proof photo)


def judge(world: World, rule: Rule, identity: Identity, method: str, path: str, response) -> tuple[str, str]:
    """("ok" | "leak" | "wrong", why)."""
    status = response.status_code
    location = response.headers.get("Location", "")
    to_login = 300 <= status < 400 and urlsplit(location).path == LOGIN_PATH
    entitled = rule.entitles(identity.name)
    if status >= 500:
        return "wrong", "server error"
    if not (entitled and rule.sees_others):
        text = body_text(response) + "\n" + location
        shown = sorted(m for m in world.private(identity.name) if m in text and m not in path)
        if shown:
            return "leak", f"shows someone else's private data: {', '.join(shown)}"
    if identity.role is None and rule.anonymous in (LOGIN, UNAUTHORIZED):
        if rule.anonymous == LOGIN and to_login:
            return "ok", ""
        if rule.anonymous == UNAUTHORIZED and status == 401:
            return "ok", ""
        verdict = "leak" if 200 <= status < 400 else "wrong"
        return verdict, f"a signed-out caller should get {'a redirect to /login' if rule.anonymous == LOGIN else '401'}"
    if entitled:
        if status in (401, 403) or to_login:
            return "wrong", "refused, but the table allows this identity"
        if 200 <= status < 400:
            return "ok", ""
        if method in WRITES and status in (400, 409, 422):
            return "ok", ""  # past the guard, refused as an empty form
        return "wrong", "an allowed identity should get 2xx/3xx (or 400/409/422 for an empty write)"
    if 200 <= status < 300:
        return "leak", "answered 2xx to an identity the table does not allow"
    if 300 <= status < 400 and not to_login:
        return "leak", "redirected somewhere other than /login"
    return "ok", ""


@dataclass
class Report:
    attempts: list[Attempt] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def leaks(self) -> list[Attempt]:
        return [a for a in self.attempts if a.verdict == "leak"]

    @property
    def wrong(self) -> list[Attempt]:
        return [a for a in self.attempts if a.verdict == "wrong"]

    def statuses(self) -> Counter:
        return Counter(a.status for a in self.attempts)


def run_matrix(world: World, table: dict[tuple[str, str], Rule]) -> Report:
    """Every declared and routed (route, method), as every identity, the owner last."""
    report = Report()
    routed = routes(world.app)
    baseline = snapshot(world)
    for key in sorted(routed):
        rule = table.get(key)
        if rule is None:
            continue  # the coverage check names it
        method = key[1]
        for name in IDENTITIES:
            identity = world.identities[name]
            try:
                response, path = attempt(world, identity, routed[key], method)
            except UnfilledParameter as error:
                report.problems.append(str(error))
                break
            verdict, why = judge(world, rule, identity, method, path, response)
            if name != rule.owner:
                now = snapshot(world)
                moved = changed(baseline, now)
                baseline = now
                if moved:
                    verdict, why = "leak", f"changed consumer A's or cooperative A's rows: {', '.join(moved)}"
            report.attempts.append(Attempt(name, key, path, response.status_code,
                                           response.headers.get("Location", ""), verdict, why))
            if method in WRITES and not still_signed_in(world.app, identity):
                sign_in(world.app, identity)
            if name == rule.owner:
                if method in WRITES:
                    restore_owner(world)
                baseline = snapshot(world)
    return report


def bureau_report_filler(world: World) -> int:
    """A bureau report of yesterday (Shanghai), stored once per world by the scheduler (no
    account named on it)."""
    from datetime import timedelta

    from marketplace.coop.stats import Period, today_local
    from marketplace.reports import bureau

    made = world.__dict__.setdefault("bureau_report", {})
    if "id" not in made:
        with world.app.app_context():
            yesterday = today_local() - timedelta(days=1)
            report, _made = bureau.generate(Period(yesterday, yesterday), kind=bureau.ON_DEMAND)
            made["id"] = report.id
            db.session.remove()
    return made["id"]
