"""The HTML forms fuzzed with hypothesis, as a signed-in consumer (and as a guest for the sign-in
and sign-up forms), each post with the session's valid CSRF token.

The forms are not listed by hand: the pages a consumer and a guest see are fetched and every
``<form>`` on them is read (action, method, fields, the choices of radios and selects), so a form
added to a template is fuzzed too. Each example submits one to three of them, each field either
a value the page offers (or a plausible one: a mobile number, the password, a fresh idempotency
key...), a hostile one (huge, negative and 20-digit numbers, unicode digits, NUL and control
characters, very long text, SQL and markup), left out, or sent twice; sometimes an unknown field
is added, or an id in the action's path or its ``next`` is replaced. No answer may be an HTTP
5xx, and after every example the database invariants (tests/invariants.py) must hold.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from marketplace.extensions import limiter
from tests.conftest import PASSWORD, login

from .conftest import Tally, check_world, fuzz_settings

# --- reading the forms of a page ------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # hidden, text, password, radio, checkbox, select, textarea, number...
    values: tuple[str, ...]  # what the page offers: its value, or the choices


@dataclass(frozen=True)
class Form:
    page: str  # where it was found
    method: str  # GET or POST
    action: str  # path and query
    fields: tuple[Field, ...]
    guest: bool  # submitted by a visitor who is not signed in

    @property
    def shape(self) -> tuple:
        """Forms of one kind (the same action but for an id, the same fields) are fuzzed as one."""
        return self.guest, self.method, re.sub(r"/[^/?]*\d[^/?]*", "/N", urlsplit(self.action).path), \
            tuple(sorted(f.name for f in self.fields))

    def label(self) -> str:
        return f"{'guest ' if self.guest else ''}{self.method} {self.shape[2]}"


class _FormReader(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[tuple[str, str, dict[str, tuple[str, list[str]]]]] = []
        self._form: tuple[str, str, dict[str, tuple[str, list[str]]]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str | None, kind: str, value: str | None) -> None:
        if self._form is None or not name:
            return
        kind_seen, values = self._form[2].setdefault(name, (kind, []))
        if value is not None and value not in values:
            values.append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = (a.get("method", "get").upper(), a.get("action") or self.page, {})
            self.forms.append(self._form)
        elif tag == "input" and a.get("type", "text") not in ("submit", "button", "image", "reset", "file"):
            self._add(a.get("name"), a.get("type", "text"), a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select":
            self._select = a.get("name")
            self._add(self._select, "select", None)
        elif tag == "option" and self._select:
            self._add(self._select, "select", a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._add(self._textarea, "textarea", "")
        elif tag == "button" and a.get("name"):
            self._add(a.get("name"), "button", a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def read_forms(page: str, html: str, guest: bool) -> list[Form]:
    reader = _FormReader(page)
    reader.feed(html)
    return [Form(page, method, action, tuple(Field(name, kind, tuple(values)) for name, (kind, values) in fields.items()),
                 guest) for method, action, fields in reader.forms]


# --- values ---------------------------------------------------------------------------------------

NUMBERS = ["99999999999999999999", "18446744073709551616", "9223372036854775808", "2147483648", "2147483647",
           "-1", "-2147483649", "0", "00000000000000000001", "1e9", "1e309", "NaN", "inf", "-0", "+1", " 1 ",
           "1_000", "0x1f", "１２", "١٢٣", "²", "𝟗", "1.5", "1,5", ""]
STRINGS = ["\x00", "a\x00b", "1\x00", "\x01\x02\x1b[31m", "\x7f", "\r\n\r\n", "\t", "\u202eevil", "\ufeff1",
           "\u200b", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "../../etc/passwd", "//evil.example/",
           "/\\evil.example", "javascript:alert(1)", "null", "true", "[]", "{}", "😀" * 3, "山" * 65, " "]
HOSTILE = st.one_of(
    st.sampled_from(NUMBERS), st.sampled_from(STRINGS),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=40),  # any code point but surrogates: control characters included
    st.builds(lambda unit, n: unit * n, st.sampled_from(["a", "山", "9", "\x00", "é"]),
              st.sampled_from([201, 4097, 100_000])),
)

#: a plausible value where the page offers none (text inputs are empty on a fresh form)
PLAUSIBLE = {
    "mobile": "13900001234", "recipient_mobile": "13812345678", "password": PASSWORD, "confirm": PASSWORD,
    "current": PASSWORD, "detail": "园区路 18 号", "recipient_name": "测试", "name": "测试", "code": "000000",
    "reason": "不要了", "q": "茶", "quantity": "1",
}


# --- the fuzz -------------------------------------------------------------------------------------


class Shopper:
    """The signed-in consumer's browser (and fresh guests' ones), counting every request."""

    def __init__(self, app, world, tally: Tally) -> None:
        self.app, self.world, self.tally = app, world, tally
        self.client = None
        self.sign_in()

    def request(self, client, method: str, path: str, **kwargs):
        response = client.open(path, method=method, **kwargs)
        self.tally.requests += 1
        self.tally.statuses[response.status_code] += 1
        return response

    def sign_in(self) -> None:
        self.client = self.app.test_client()
        response = login(self.client, self.world.mobile)
        self.tally.requests += 2
        assert response.status_code == 302, f"the fuzz consumer cannot sign in: {response.status_code}"
        self.token = self.csrf(self.client, "/account")

    def csrf(self, client, page: str, required: bool = True) -> str | None:
        html = self.request(client, "GET", page).get_data(as_text=True)
        match = re.search(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"', html)
        assert match or not required, f"no CSRF token on {page}"
        return match.group(1) if match else None

    def signed_in(self) -> bool:
        return self.request(self.client, "GET", "/account").status_code == 200


def discover(shopper: Shopper, world) -> list[Form]:
    """The forms on the pages a consumer and a guest see, one of each shape."""
    client = shopper.client
    shopper.request(client, "POST", "/cart/add", data={"product_id": str(world.product_ids[0]), "quantity": "1",
                                                       "csrf_token": shopper.token})
    pages = ["/", "/search?q=茶", f"/p/{world.product_ids[0]}", "/cart/", "/checkout/", "/addresses/",
             "/addresses/new", "/account", "/account/password", "/orders/",
             *(f"/orders/{number}" for number in world.order_numbers),
             *(f"/pay/sandbox/{ref}" for ref in world.provider_refs),
             *(f"/pay/return/{ref}" for ref in world.provider_refs)]
    guest_pages = ["/login", "/register", f"/register?mobile={PLAUSIBLE['mobile']}", "/password/reset",
                   f"/password/reset?mobile={world.mobile}", f"/p/{world.product_ids[0]}"]
    found: dict[tuple, Form] = {}
    for guest, paths in ((False, pages), (True, guest_pages)):
        for path in paths:
            who = shopper.app.test_client() if guest else client
            response = shopper.request(who, "GET", path)
            if response.status_code != 200:
                continue
            for form in read_forms(path, response.get_data(as_text=True), guest):
                found.setdefault(form.shape, form)
    return list(found.values())


def _valid(field: Field, mobile: str) -> st.SearchStrategy[str]:
    if field.name == "idempotency_key":
        return st.builds(lambda: uuid.uuid4().hex)
    choices = [v for v in field.values if v]
    if field.kind in ("radio", "select", "checkbox", "hidden", "button") and choices:
        return st.sampled_from(choices)
    if choices:
        return st.just(choices[0])
    bare = field.name.rsplit("-", 1)[-1]  # "send-mobile" is a mobile number too
    if bare == "mobile":  # the consumer's (sign-in, a reset code) or a new one (registration)
        return st.sampled_from([mobile, PLAUSIBLE["mobile"]])
    return st.just(PLAUSIBLE.get(bare, "测试"))


@st.composite
def submissions(draw, form: Form, token: str, mobile: str):
    """The fields of one post of ``form``: each valid, hostile, left out or sent twice."""
    everything_valid = draw(st.sampled_from([False, False, True]), label="all valid")
    pairs: list[tuple[str, str]] = []
    for field in form.fields:
        if field.name.endswith("csrf_token"):
            pairs.append((field.name, token))
            continue
        what = "valid" if everything_valid else draw(
            st.sampled_from(["valid", "hostile", "hostile", "missing", "twice"]), label=field.name)
        if what == "valid":
            pairs.append((field.name, draw(_valid(field, mobile))))
        elif what == "hostile":
            pairs.append((field.name, draw(HOSTILE)))
        elif what == "twice":
            pairs += [(field.name, draw(_valid(field, mobile))), (field.name, draw(HOSTILE))]
    if not everything_valid and draw(st.sampled_from([False, False, False, True]), label="extra field"):
        pairs.append((draw(st.sampled_from(["id", "user_id", "price_fen", "role", "csrf_token", "next"]) | HOSTILE),
                      draw(HOSTILE)))
    action = form.action
    if not everything_valid and draw(st.sampled_from([False, False, False, True]), label="mangle action"):
        path, _, query = action.partition("?")
        segments = path.split("/")
        at = [i for i, s in enumerate(segments) if s and i > 1]  # an id, a code, an order number...
        if at:
            segments[draw(st.sampled_from(at))] = quote(draw(HOSTILE), safe="")
        query = f"next={quote(draw(HOSTILE), safe='')}"
        action = "/".join(segments) + "?" + query
    return action, pairs


def test_the_html_forms_survive_hostile_input(app, world, server_errors):
    tally = Tally("form fuzz (hypothesis)")
    shopper = Shopper(app, world, tally)
    forms = discover(shopper, world)
    labels = sorted({form.label() for form in forms})
    wanted = ["POST /login", "POST /register", "POST /addresses/new", "POST /cart/add", "POST /checkout/place",
              "POST /account/password", "POST /lang/", "POST /orders/N/cancel", "POST /logout"]
    missing = [w for w in wanted if not any(w in label for label in labels)]
    assert not missing, f"forms not found on the pages: {missing} (found: {labels})"

    def submit(form: Form, action: str, pairs: list[tuple[str, str]]) -> None:
        headers = {}
        if form.guest:  # a visitor's first page, then the form (a cached page has no token: Origin instead)
            client = app.test_client()
            token = shopper.csrf(client, form.page, required=False)
            pairs = [(name, token if name.endswith("csrf_token") and value == shopper.token else value)
                     for name, value in pairs]
            headers["Origin"] = "http://localhost"
        else:
            client = shopper.client
        if form.method == "GET":
            response = shopper.request(client, "GET", action.partition("?")[0], query_string=MultiDict(pairs))
        else:
            response = shopper.request(client, "POST", action, data=MultiDict(pairs), headers=headers)
        shown = ", ".join(f"{name}={value[:60]!r}{'…' if len(value) > 60 else ''}" for name, value in pairs)
        what = f"{form.label()}: {form.method} {action[:200]} [{shown}] → {response.status_code}"
        outcome = f"{form.label()} {response.status_code}"
        tally.operations[outcome] += 1
        if response.status_code >= 500:
            tally.server_errors += 1
            tally.fail(outcome, what + "\n" + server_errors.take())

    @fuzz_settings()
    @given(data=st.data())
    def fuzz(data) -> None:
        limiter.reset()  # rate limits are tested elsewhere: here they would answer most posts with 429
        steps = data.draw(st.integers(1, 3), label="posts")
        done = []
        for _ in range(steps):
            form = data.draw(st.sampled_from(forms), label="form")
            action, pairs = data.draw(submissions(form, shopper.token, world.mobile), label="fields")
            submit(form, action, pairs)
            done.append(f"{form.method} {action[:100]}")
        tally.examples += 1
        if any(re.search(r"/logout|/lang/|/account/|/login|/register|/password", d) for d in done) \
                and not shopper.signed_in():
            shopper.sign_in()  # the fuzz signed the consumer out (or changed what the session is)
        check_world(app, tally, " ; ".join(done))

    fuzz()
    print("\n" + tally.report(app))
    assert tally.examples > 0
    assert not tally.failures, f"{len(tally.failures)} kinds of server error:\n" + tally.report(app)
    assert not tally.violations, "invariants broken:\n" + tally.report(app)
    if not os.environ.get("FUZZ_EXAMPLES"):  # the modest run reaches the services, not only refusals
        assert tally.statuses[302] > tally.examples // 10, tally.report(app)
