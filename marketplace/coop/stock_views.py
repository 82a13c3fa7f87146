"""Stock per location, adjustments with a reason, the ledger; batches and traceability."""

from __future__ import annotations

from datetime import date

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import DomainError, NotFound
from ..i18n import localized
from ..inputs import query_id
from . import stock as service
from .services import cooperative_of
from .stock_forms import AdjustForm, BatchForm, ThresholdForm
from .views import bp


def _fail(form, error: DomainError) -> int:
    """A service's refusal shown on its field (or as a flash message); the status to answer."""
    field = getattr(form, error.field or "", None)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")
    return error.status


# --- batches -----------------------------------------------------------------------------------

def _batch_form(coop) -> BatchForm:
    form = BatchForm()
    form.product_id.choices = [(0, _("Choose a product"))] + [
        (p.id, f"{localized(p)} · {p.sku}") for p in service.products_of(coop.id)]
    form.origin_village_id.choices = [(v.id, f"{localized(v.town)} · {localized(v)}")
                                      for v in service.villages_for(coop.id)]
    if not form.is_submitted():
        form.origin_village_id.data = coop.village_id
        form.production_date.data = service.local_today()
        form.product_id.data = request.args.get("product", type=int) or 0
    return form


@bp.route("/batches", methods=["GET", "POST"])
def batches():
    coop = cooperative_of(current_user)
    form = _batch_form(coop)
    status = 200
    if form.validate_on_submit():
        try:
            batch = service.add_batch(coop.id, product_id=form.product_id.data,
                                      production_date=form.production_date.data,
                                      origin_village_id=form.origin_village_id.data, quantity=form.quantity.data,
                                      actor_id=current_user.id)
        except DomainError as error:
            status = _fail(form, error)
        else:
            flash(_("Batch %(code)s recorded: %(n)d units received at your site.", code=batch.code,
                    n=batch.quantity), "success")
            return redirect(url_for(".batches"))
    elif form.is_submitted():
        status = 422
    return render_template("coop/batches.html", coop=coop, form=form, today=service.local_today(),
                           groups=service.batches(coop.id)), status


# --- stock per location ------------------------------------------------------------------------

def _stock_page(coop, failed: dict | None = None, status: int = 200):
    return render_template("coop/stock.html", coop=coop, groups=service.stock_overview(coop.id),
                           failed=failed or {}, reasons=service.ADJUST_REASONS,
                           adjust_form=AdjustForm(formdata=None), threshold_form=ThresholdForm(formdata=None),
                           low=service.low_stock(coop.id)), status


@bp.get("/stock")
def stock():
    return _stock_page(cooperative_of(current_user))


@bp.post("/stock/<int:stock_id>/adjust")
def stock_adjust(stock_id: int):
    coop = cooperative_of(current_user)
    row = service.own_stock(coop.id, stock_id)  # another cooperative's row: 404 before anything
    form = AdjustForm()
    if form.validate_on_submit():
        try:
            service.adjust_stock(coop.id, stock_id, reason=form.reason.data, quantity=form.quantity.data,
                                 note=form.note.data or "", actor_id=current_user.id)
        except DomainError as error:
            return _stock_page(coop, {stock_id: form}, _fail(form, error))
        flash(_("Stock of %(product)s at %(place)s adjusted: %(n)d on hand.", product=localized(row.product),
                place=localized(row.location), n=row.on_hand), "success")
        return redirect(url_for(".stock", _anchor=f"stock-{stock_id}"))
    return _stock_page(coop, {stock_id: form}, 422)


@bp.post("/stock/<int:stock_id>/threshold")
def stock_threshold(stock_id: int):
    coop = cooperative_of(current_user)
    service.own_stock(coop.id, stock_id)
    form = ThresholdForm()
    if form.validate_on_submit():
        try:
            service.set_threshold(coop.id, stock_id, form.threshold.data)
        except DomainError as error:
            return _stock_page(coop, {stock_id: form}, _fail(form, error))
        flash(_("Low-stock warning now at %(n)d units or fewer.", n=form.threshold.data), "success")
        return redirect(url_for(".stock", _anchor=f"stock-{stock_id}"))
    return _stock_page(coop, {stock_id: form}, 422)


# --- the ledger --------------------------------------------------------------------------------

def _day(name: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        flash(_("Enter the day as year-month-day, e.g. 2026-12-01."), "error")
        return None


def _filters() -> service.LedgerFilter:
    reason = (request.args.get("reason") or "").strip() or None
    return service.LedgerFilter(product_id=query_id("product"), location_id=query_id("location"), reason=reason,
                                date_from=_day("from"), date_to=_day("to"))


def _reason_names() -> dict[str, str]:
    return {key: str(name) for key, name in service.REASON_NAMES.items()}


@bp.get("/stock/ledger")
def ledger():
    coop = cooperative_of(current_user)
    filters = _filters()
    status = 200
    try:
        result = service.ledger(coop.id, filters, request.args.get("page", 1, type=int))
    except NotFound:
        raise
    except DomainError as error:
        flash(error.message, "error")
        filters, status = service.LedgerFilter(), error.status
        result = service.ledger(coop.id, filters)
    return render_template("coop/ledger.html", coop=coop, result=result, filters=filters,
                           products=service.products_of(coop.id), locations=service.ledger_locations(coop.id),
                           reasons=_reason_names()), status


@bp.get("/stock/ledger.csv")
def ledger_csv():
    coop = cooperative_of(current_user)
    filters = _filters()
    # written whole (a cooperative's ledger is thousands of rows, not millions): the filters are
    # checked (404, 422) and the session used up before the response starts
    body = "".join(service.ledger_csv(coop.id, filters, _reason_names()))
    name = f"stock-ledger-{coop.code}-{service.local_today():%Y%m%d}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# --- traceability on the storefront's pages ----------------------------------------------------
# (catalog/_batches.html on the product page, the batch of each line on the consumer's order page)

bp.add_app_template_global(service.recent_batches, "recent_batches")
bp.add_app_template_global(service.line_batches, "line_batches")
