"""Display names of stored codes (statuses, categories, roles…), in the page's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS = {
    "role_names": {
        "consumer": _l("Consumer"), "coop_head": _l("Cooperative head"), "dispatcher": _l("Dispatcher"),
        "complaint_staff": _l("Complaint staff"), "operator": _l("Operator"), "driver": _l("Driver"),
    },
    "cert_names": {
        "none": _l("None"), "green_food": _l("Green Food"), "organic": _l("Organic"),
        "geo_indication": _l("Geographical Indication"), "sc_licence": _l("SC food production licence"),
    },
    "order_status_names": {
        "pending_payment": _l("Awaiting payment"), "confirmed": _l("Confirmed"), "dispatched": _l("On the way"),
        "delivered": _l("Delivered"), "cancelled": _l("Cancelled"), "expired": _l("Expired"),
    },
    "order_event_names": {
        "placed": _l("Order placed"), "paid": _l("Paid"), "confirmed": _l("Confirmed"),
        "dispatched": _l("On the way"), "delivered": _l("Delivered"), "cancelled": _l("Cancelled"),
        "expired": _l("Expired: not paid in time"), "compensated": _l("Compensated"),
        "late": _l("Late: the guaranteed time has passed"), "refunded": _l("Refunded"),
        "promise_broken": _l("Delayed: it cannot arrive in time"), "cod_collected": _l("Cash collected"),
    },
    "window_names": {"2h": _l("Within 2 h"), "6h": _l("Within 6 h"), "12h": _l("Within 12 h"), "18h": _l("Within 18 h")},
    "product_status_names": {
        "draft": _l("Draft"), "pending": _l("Waiting for approval"), "active": _l("On sale"),
        "review": _l("Under quality review"), "delisted": _l("Delisted"),
    },
    "complaint_category_names": {
        "late": _l("Late delivery"), "damaged": _l("Damaged goods"), "wrong_item": _l("Wrong item"),
        "missing_item": _l("Missing item"), "quality": _l("Quality"), "courier_conduct": _l("Courier conduct"),
        "other": _l("Other"),
    },
    "complaint_status_names": {
        "open": _l("Open"), "in_progress": _l("In progress"), "waiting_customer": _l("Waiting for the customer"),
        "resolved": _l("Resolved"), "closed": _l("Closed"),
    },
    "alert_kind_names": {"unassigned": _l("Cannot be planned"), "at_risk": _l("At risk"), "late": _l("Late")},
}
