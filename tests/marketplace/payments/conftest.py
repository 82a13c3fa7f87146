"""Payment fixtures: an online order awaiting payment in the demo county, built directly with the
models (2 units reserved on a warehouse stock row, a sandbox payment opened), and a way to send
the provider's notification exactly as the provider would."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from marketplace.columns import utcnow
from marketplace.extensions import db
from marketplace.inventory import services as inventory
from marketplace.models import (
    Location,
    LocationKind,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    Product,
    ProductStatus,
    Role,
    Stock,
    User,
    Village,
    Warehouse,
    WindowClass,
)
from marketplace.payments import sandbox, services

OWNER_MOBILE = "13957800001"  # demo consumer 王晓丽
OTHER_MOBILE = "13957800002"  # demo consumer 陈志远
DEMO_PASSWORD = "shanhuo123"
QUANTITY = 2


@dataclass(frozen=True)
class PendingOrder:
    order_id: int
    number: str
    stock_id: int
    provider_ref: str
    amount_fen: int
    expires_at: datetime


@pytest.fixture
def make_pending_order(app: Flask, seeded) -> Callable[..., PendingOrder]:
    """An order awaiting online payment (or a confirmed COD order) of the demo consumer."""

    def make(*, expires_in: timedelta = timedelta(minutes=15),
             method: PaymentMethod = PaymentMethod.ONLINE) -> PendingOrder:
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.mobile == OWNER_MOBILE, User.role == Role.CONSUMER))
            warehouse = db.session.scalar(sa.select(Warehouse).order_by(Warehouse.code).limit(1))
            stock = db.session.scalar(
                sa.select(Stock).join(Stock.product).join(Location, Location.id == Stock.location_id)
                .where(Location.kind == LocationKind.WAREHOUSE, Product.status == ProductStatus.ACTIVE,
                       Stock.on_hand - Stock.reserved >= QUANTITY)
                .order_by(Stock.id).limit(1)
            )
            product = db.session.get(Product, stock.product_id)
            village = db.session.scalar(sa.select(Village).order_by(Village.code).limit(1))
            window = db.session.scalar(sa.select(WindowClass).order_by(WindowClass.hours.desc()).limit(1))
            now = utcnow()
            subtotal = product.price_fen * QUANTITY
            order = Order(
                number="SHT" + secrets.token_hex(6).upper(), user_id=user.id,
                status=OrderStatus.PENDING_PAYMENT if method == PaymentMethod.ONLINE else OrderStatus.CONFIRMED,
                payment_method=method, village_id=village.id, zone_id=village.zone_id,
                recipient_name=user.name, recipient_mobile=user.mobile, address_text="测试路 1 号",
                lat=village.lat, lon=village.lon, window_class_id=window.id, placed_at=now,
                deadline_at=now + timedelta(hours=window.hours), warehouse_id=warehouse.id,
                subtotal_fen=subtotal, delivery_fee_fen=window.fee_fen, total_fen=subtotal + window.fee_fen,
                payment_expires_at=now + max(expires_in, timedelta(minutes=1))
                if method == PaymentMethod.ONLINE else None,
            )
            order.lines.append(OrderLine(
                product_id=product.id, source_location_id=stock.location_id, product_name_zh=product.name_zh,
                product_name_en=product.name_en, unit_price_fen=product.price_fen, quantity=QUANTITY,
                line_total_fen=subtotal, weight_g=product.weight_g * QUANTITY,
                volume_cm3=product.volume_cm3 * QUANTITY,
            ))
            order.events.append(OrderEvent(kind="placed", to_status=order.status.value))
            db.session.add(order)
            db.session.flush()
            inventory.reserve(stock.id, QUANTITY, order_id=order.id)
            if method == PaymentMethod.ONLINE:
                payment = services.start_payment(order)
                # An order whose time ran out: opened in time, the deadline since passed.
                order.payment_expires_at = payment.expires_at = now + expires_in
            else:
                payment = services.record_cash_on_delivery(order)
            db.session.commit()
            made = PendingOrder(order.id, order.number, stock.id, payment.provider_ref, payment.amount_fen,
                                order.payment_expires_at or now)
            db.session.remove()
            return made

    return make


@pytest.fixture
def pending_order(make_pending_order) -> PendingOrder:
    return make_pending_order()


@pytest.fixture
def notification(pending_order: PendingOrder) -> dict:
    """A genuine "succeeded" notification for the pending order."""
    return {
        "notification_id": "ntf_" + secrets.token_hex(16),
        "provider_ref": pending_order.provider_ref,
        "amount_fen": pending_order.amount_fen,
        "status": "succeeded",
        "paid_at": utcnow().isoformat(),
    }


def encode(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


@pytest.fixture
def send_callback(app: Flask, client: FlaskClient):
    """POST a notification to /pay/callback; signed with the provider's secret unless a
    signature (or None: no header) is given."""

    def send(body: dict | bytes, signature: str | None | bool = True):
        raw = body if isinstance(body, bytes) else encode(body)
        headers = {"Content-Type": "application/json"}
        if signature is True:
            with app.app_context():
                headers[sandbox.SIGNATURE_HEADER] = sandbox.sign(raw)
        elif signature:
            headers[sandbox.SIGNATURE_HEADER] = signature
        return client.post("/pay/callback", data=raw, headers=headers)

    return send
