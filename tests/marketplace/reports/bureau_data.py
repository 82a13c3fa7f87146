"""A small county written straight into the tables for the bureau report's tests: two towns, two
window classes, three cooperatives, two categories, and orders, complaints, compensations and
remedies on both sides of November 2026's edges in Shanghai (00:00 on the 1st, 24:00 on the
30th), so that what falls in the month is known by hand (EXPECTED) and by SQL (tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from marketplace.complaints.models import ResolutionKind
from marketplace.extensions import db
from marketplace.models import (
    Category,
    Compensation,
    CompensationKind,
    Complaint,
    ComplaintCategory,
    ComplaintResolution,
    Cooperative,
    CooperativeStatus,
    County,
    Location,
    LocationKind,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    Product,
    ProductStatus,
    Role,
    Town,
    Village,
    WindowClass,
    Zone,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def shanghai(text: str) -> datetime:
    """"2026-11-30 23:50" in Shanghai as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class ReportCounty:
    consumer_id: int
    orders: dict[str, int] = field(default_factory=dict)
    complaints: dict[str, int] = field(default_factory=dict)
    coop_codes: tuple[str, ...] = ()


# What November 2026 holds, worked out by hand from build() below.
EXPECTED = {
    "orders": {"placed": 8, "delivered": 3, "in_progress": 2, "cancelled": 1, "expired": 1, "pending_payment": 1,
               "sold": 5, "reships": 1},
    "sales": {"orders": 5, "units": 10, "goods_fen": 14800, "delivery_fee_fen": 1900, "total_fen": 16700},
    "by_category": {"BX": (1, 2, 2000), "BY": (4, 8, 12800)},  # slug → (orders, units, fen)
    "by_cooperative": {"BA": (3, 6, 4800), "BB": (3, 4, 10000), "BC": (0, 0, 0)},
    "by_town": {"BT1": (2, 1, 2700), "BT2": (3, 2, 12100)},  # code → (orders, delivered, fen)
    "windows": {"B2": (2, 2, 1, 1, 0), "B6": (3, 1, 1, 0, 1)},  # (orders, delivered, on time, late, overdue)
    "compensation": {"coupon": (1, 500), "refund": (0, 0)},
    "complaints": {"late": 1, "damaged": 1},
    "resolved": 1,
    "mean_resolution_seconds": 3 * 3600,
    "resolutions": {"refund": (1, 1200), "coupon": (1, 800), "reship": (1, 2500)},
}


def build(consumer_id: int) -> ReportCounty:
    """Write the county (inside an app context; commits)."""
    zone = Zone(code="BZ", name_zh="报表片区", name_en="Report zone")
    county = County(code="BCTY", name_zh="报表县", name_en="Report County", lat=28.6, lon=119.3)
    towns = {code: Town(code=code, county=county, zone=zone, name_zh=zh, name_en=en, lat=28.6, lon=119.3)
             for code, zh, en in (("BT1", "甲镇", "Jia Town"), ("BT2", "乙镇", "Yi Town"))}
    villages = {code: Village(code=code, town=towns[town], zone=zone, name_zh=zh, name_en=en, lat=28.6, lon=119.3)
                for code, town, zh, en in (("BV1", "BT1", "甲村", "Jia Village"), ("BV2", "BT2", "乙村", "Yi Village"))}
    windows = {code: WindowClass(code=code, hours=hours, fee_fen=fee, name_zh=f"{hours}小时达", name_en=f"Within {hours} h")
               for code, hours, fee in (("B2", 2, 500), ("B6", 6, 300))}
    coops = {}
    for code, zh, status in (("BA", "甲合作社", CooperativeStatus.APPROVED), ("BB", "=乙合作社", CooperativeStatus.APPROVED),
                             ("BC", "丙合作社", CooperativeStatus.APPROVED), ("BP", "待审合作社", CooperativeStatus.PENDING)):
        coops[code] = Cooperative(code=code, name_zh=zh, name_en=f"Co-op {code}", licence_no=f"LIC{code}",
                                  village=villages["BV1"], head_name="测试", head_mobile="13900000000", status=status)
    categories = {slug: Category(slug=slug, name_zh=zh, name_en=en, sort=sort)
                  for slug, zh, en, sort in (("BX", "山货干货", "Dried goods", 1), ("BY", "茶叶", "Tea", 2))}
    products = {}
    for sku, coop, category, price in (("AX", "BA", "BX", 1000), ("AY", "BA", "BY", 700), ("BY", "BB", "BY", 2500)):
        products[sku] = Product(sku=f"BR-{sku}", cooperative=coops[coop], category=categories[category],
                                name_zh=f"商品{sku}", name_en=f"Product {sku}", unit_zh="袋", unit_en="bag",
                                price_fen=price, weight_g=500, volume_cm3=1000, status=ProductStatus.ACTIVE)
    db.session.add_all([*villages.values(), *products.values(), *windows.values(), *coops.values()])
    db.session.flush()
    site = Location(kind=LocationKind.WAREHOUSE, code="BW", name_zh="报表仓", name_en="Report depot",
                    village_id=villages["BV1"].id, zone_id=zone.id, lat=28.6, lon=119.3)
    db.session.add(site)
    db.session.flush()

    made = ReportCounty(consumer_id=consumer_id, coop_codes=tuple(coops))

    def order(name: str, placed: str, status: OrderStatus, window: str, village: str, lines: dict[str, int],
              delivered_after: timedelta | None = None) -> Order:
        w = windows[window]
        placed_at = shanghai(placed)
        o = Order(number=f"BR{len(made.orders) + 1:06d}", user_id=consumer_id, status=status,
                  payment_method=PaymentMethod.ONLINE, village_id=villages[village].id, zone_id=zone.id,
                  recipient_name="报表", recipient_mobile="13800000000", address_text="报表路 1 号", lat=28.6, lon=119.3,
                  window_class_id=w.id, placed_at=placed_at, deadline_at=placed_at + timedelta(hours=w.hours),
                  delivered_at=placed_at + delivered_after if delivered_after is not None else None,
                  subtotal_fen=0, delivery_fee_fen=w.fee_fen, total_fen=0, created_at=placed_at)
        subtotal = 0
        for sku, quantity in lines.items():
            p = products[sku]
            o.lines.append(OrderLine(product_id=p.id, source_location_id=site.id, product_name_zh=p.name_zh,
                                     product_name_en=p.name_en, unit_price_fen=p.price_fen, quantity=quantity,
                                     line_total_fen=p.price_fen * quantity, weight_g=500 * quantity,
                                     volume_cm3=1000 * quantity))
            subtotal += p.price_fen * quantity
        o.subtotal_fen, o.total_fen = subtotal, subtotal + w.fee_fen
        db.session.add(o)
        db.session.flush()
        made.orders[name] = o.id
        return o

    on_time, late = timedelta(hours=1), timedelta(hours=3)
    delivered = OrderStatus.DELIVERED
    # October's last second and December's first minutes: never November's
    order("O0", "2026-10-31 23:59:59", delivered, "B2", "BV1", {"AX": 5}, on_time)
    order("O3", "2026-12-01 00:00", OrderStatus.CONFIRMED, "B2", "BV2", {"BY": 4})  # the first instant after
    # November
    order("O1", "2026-11-01 00:00", delivered, "B2", "BV1", {"AX": 2}, on_time)
    order("O2", "2026-11-30 23:50", OrderStatus.CONFIRMED, "B6", "BV2", {"BY": 1, "AY": 3})
    o4 = order("O4", "2026-11-15 09:00", delivered, "B2", "BV2", {"BY": 2}, late)
    order("O5", "2026-11-12 10:00", OrderStatus.CANCELLED, "B2", "BV1", {"AX": 1})
    order("O6", "2026-11-12 11:00", OrderStatus.EXPIRED, "B2", "BV1", {"AX": 1})
    order("O7", "2026-11-30 23:40", OrderStatus.PENDING_PAYMENT, "B2", "BV1", {"AX": 1})
    order("O8", "2026-11-29 08:00", OrderStatus.DISPATCHED, "B6", "BV1", {"AY": 1})  # overdue by Dec 1
    r1 = order("R1", "2026-11-20 10:00", delivered, "B6", "BV2", {"BY": 1}, on_time)  # a reship

    # late-delivery compensation (automatic: no complaint) in and out of November
    db.session.add_all([
        Compensation(order_id=o4.id, kind=CompensationKind.COUPON, amount_fen=500, late_seconds=3600,
                     created_at=shanghai("2026-11-15 12:00")),
        Compensation(order_id=made.orders["O0"], kind=CompensationKind.REFUND, amount_fen=300,
                     created_at=shanghai("2026-12-01 00:05")),
    ])

    def complaint(name: str, order_name: str, category: ComplaintCategory, filed: str,
                  resolved_after: timedelta | None = None) -> Complaint:
        created = shanghai(filed)
        c = Complaint(number=f"BRC{len(made.complaints) + 1:05d}", order_id=made.orders[order_name],
                      user_id=consumer_id, category=category, description="测试", created_at=created,
                      resolved_at=created + resolved_after if resolved_after is not None else None)
        db.session.add(c)
        db.session.flush()
        made.complaints[name] = c.id
        return c

    c1 = complaint("C1", "O4", ComplaintCategory.LATE, "2026-11-15 10:00", timedelta(hours=3))
    c2 = complaint("C2", "O1", ComplaintCategory.DAMAGED, "2026-11-30 23:50")
    complaint("C3", "O1", ComplaintCategory.QUALITY, "2026-12-01 00:10", timedelta(hours=1))
    complaint("C4", "O0", ComplaintCategory.WRONG_ITEM, "2026-10-31 23:59")

    coupon = Compensation(order_id=o4.id, kind=CompensationKind.COUPON, amount_fen=800, complaint_id=c1.id,
                          created_at=shanghai("2026-11-15 13:00"))
    db.session.add(coupon)
    db.session.flush()
    db.session.add_all([
        ComplaintResolution(complaint_id=c1.id, kind=ResolutionKind.COUPON, idempotency_key="br-1", amount_fen=800,
                            compensation_id=coupon.id, created_at=shanghai("2026-11-15 13:00")),
        ComplaintResolution(complaint_id=c1.id, kind=ResolutionKind.RESHIP, idempotency_key="br-2",
                            reship_order_id=r1.id, created_at=shanghai("2026-11-20 10:00")),
        ComplaintResolution(complaint_id=c2.id, kind=ResolutionKind.REFUND, idempotency_key="br-3", amount_fen=1200,
                            created_at=shanghai("2026-11-30 23:55")),
        ComplaintResolution(complaint_id=c2.id, kind=ResolutionKind.REFUND, idempotency_key="br-4", amount_fen=999,
                            created_at=shanghai("2026-12-01 00:10")),
    ])
    db.session.commit()
    return made


def make_county(app, make_user) -> ReportCounty:
    consumer = make_user(Role.CONSUMER, mobile="13700004242")
    with app.app_context():
        made = build(consumer.id)
        db.session.remove()
    return made


