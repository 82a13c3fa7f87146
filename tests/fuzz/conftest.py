"""The fuzz tests' world: a consumer of the seeded county with an address, a cart, an order
awaiting online payment and a cash-on-delivery one, sized by ``FUZZ_EXAMPLES``.

Each fuzz test is one pytest test that runs its hypothesis examples inside (``@given`` on an
inner function): the rows it creates live from the first example to the last, and the conftest's
``_clean_database`` wipes them once, after the test. (A ``@given`` test function with the
function-scoped ``seeded`` fixture would share the fixture between examples anyway, and hypothesis
rightly warns about it; here that sharing is the point: the shop keeps what the fuzz did to it.)

Sizes: ``FUZZ_EXAMPLES`` (default :data:`DEFAULT_EXAMPLES`) examples per fuzz test; the default
run is derandomized (the same examples every run, so a CI run is repeatable); a run with
``FUZZ_EXAMPLES`` set is random (a failure is reported with the request that caused it).
``FUZZ_REPORT=path`` appends each test's figures there as a JSON line (``make fuzz`` prints them).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings

from marketplace.extensions import db
from marketplace.models import Category, Product, Stock, Town, User, Village, WindowClass
from tests.invariants import check_invariants

DEFAULT_EXAMPLES = 150


def examples() -> int:
    return int(os.environ.get("FUZZ_EXAMPLES") or DEFAULT_EXAMPLES)


def fuzz_settings() -> settings:
    """Hypothesis settings of one fuzz run: no deadline (a checkout quotes, a sign-in hashes), no
    example database (the examples act on a shared, changing shop: replaying one alone proves
    nothing), no shrinking (failures are collected, not raised, so one run reports them all)."""
    large = bool(os.environ.get("FUZZ_EXAMPLES"))
    return settings(max_examples=examples(), deadline=None, database=None, derandomize=not large,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck), print_blob=False)


@dataclass
class World:
    user_id: int
    mobile: str
    token: str
    address_id: int
    home_village_id: int  # the address's village (V001, in the county town)
    product_ids: list[int]  # on sale, stocked where the consumer's village is served
    town_ids: list[int]
    village_ids: list[int]
    category_ids: list[int]
    window_codes: list[str]
    order_numbers: list[str]
    provider_refs: list[str]


@dataclass
class Tally:
    """What a fuzz run did and found; failures keep the first example of each kind."""

    name: str
    requests: int = 0
    examples: int = 0
    server_errors: int = 0
    statuses: Counter = field(default_factory=Counter)
    operations: Counter = field(default_factory=Counter)  # "POST /cart/add 302": how many
    samples: dict[str, str] = field(default_factory=dict)  # "POST /cart/add 302": the first answer
    failures: dict[str, str] = field(default_factory=dict)
    violations: dict[str, str] = field(default_factory=dict)
    known: Counter = field(default_factory=Counter)  # failures already reported (test_regressions.py)
    started: float = field(default_factory=time.perf_counter)
    reported: bool = False  # its figures written to FUZZ_REPORT

    def fail(self, key: str, text: str) -> None:
        self.failures.setdefault(key, text)

    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def summary(self, app) -> dict:
        return {"test": self.name, "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0],
                "examples": self.examples, "requests": self.requests, "server_errors": self.server_errors,
                "invariant_violations": len(self.violations), "failures": len(self.failures),
                "known": dict(self.known),
                "seconds": round(self.seconds(), 1),
                "statuses": {str(k): v for k, v in sorted(self.statuses.items(), key=lambda kv: str(kv[0]))},
                "operations": dict(sorted(self.operations.items())),
                "samples": dict(sorted(self.samples.items()))}

    def report(self, app) -> str:
        summary = self.summary(app)
        path = os.environ.get("FUZZ_REPORT")
        if path and not self.reported:
            self.reported = True
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps(summary, ensure_ascii=False) + "\n")
        lines = [f"{self.name}: {summary['examples']} examples, {summary['requests']} requests, "
                 f"{summary['server_errors']} HTTP 5xx, {summary['invariant_violations']} invariant violations, "
                 f"{summary['seconds']} s on {summary['database']}", f"  statuses: {summary['statuses']}"]
        lines += [f"  known, reported: {key} × {count}" for key, count in self.known.items()]
        lines += [f"  FAILURE {key}\n{text}" for key, text in self.failures.items()]
        lines += [f"  VIOLATION {key}\n{text}" for key, text in self.violations.items()]
        return "\n".join(lines)


class ServerErrorLog(logging.Handler):
    """The tracebacks the app logs for its HTTP 500s (``errors._unexpected``), newest last."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.records.append(text)

    def take(self) -> str:
        text = "\n".join(self.records[-2:])
        self.records.clear()
        return text


@pytest.fixture
def server_errors():
    handler = ServerErrorLog()
    logger = logging.getLogger("shanhuo.errors")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def check_world(app, tally: Tally, what: str) -> None:
    """The invariants, now; a violation is recorded once, with what was just done."""
    with app.app_context():
        violations = check_invariants()
        db.session.remove()
    for violation in violations:
        tally.violations.setdefault(violation, what)


@pytest.fixture
def world(app, seeded, make_user) -> World:
    """The seeded county plus a consumer with an address, a cart and two orders (one awaiting
    online payment, one cash on delivery); the invariants hold before any fuzzing."""
    from marketplace.auth import services as auth_services
    from marketplace.checkout import services as checkout
    from marketplace.payments import services as payments
    from tests.marketplace.checkout.conftest import make_shop

    shop = make_shop(app, make_user, mobile="13811118888")
    with app.app_context():
        token = auth_services.issue_token(db.session.get(User, shop.user_id), "fuzz")
        village = db.session.get(Village, db.session.scalar(
            sa.select(Village.id).join(Village.town).where(Village.code == "V001")))
        products = list(db.session.scalars(
            sa.select(Stock.product_id).join(Product, Product.id == Stock.product_id)
            .where(Stock.on_hand - Stock.reserved >= 5, Product.status == "active")
            .group_by(Stock.product_id).order_by(Stock.product_id).limit(8)))
        products = sorted({shop.product_id, *products})
        numbers, refs = [], []
        for method in ("online", "cod"):
            cart = {shop.product_id: 1}
            offered = [w.code for w in checkout.quote(shop.user_id, shop.address_id, cart).windows if w.feasible]
            assert offered, "no window offered for the fuzz consumer"
            order = checkout.place_order(shop.user_id, shop.address_id, offered[-1], method, uuid.uuid4().hex,
                                         cart_items=cart)
            numbers.append(order.number)
            if method == "online":
                refs.append(payments.start_payment(order).provider_ref)
                db.session.commit()
        result = World(
            user_id=shop.user_id, mobile=shop.mobile, token=token, address_id=shop.address_id,
            home_village_id=village.id,
            product_ids=products,
            town_ids=list(db.session.scalars(sa.select(Town.id).order_by(Town.id))),
            village_ids=sorted({village.id, *db.session.scalars(sa.select(Village.id).order_by(Village.id).limit(6))}),
            category_ids=list(db.session.scalars(sa.select(Category.id).order_by(Category.id))),
            window_codes=list(db.session.scalars(sa.select(WindowClass.code).order_by(WindowClass.id))),
            order_numbers=numbers, provider_refs=refs)
        violations = check_invariants()
        db.session.remove()
    assert violations == [], "the invariants fail before any fuzzing:\n" + "\n".join(violations)
    return result
