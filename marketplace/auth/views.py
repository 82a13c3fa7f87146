"""Sign-up, sign-in, sign-out, password change, account page and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from ..cart import services as cart_services
from ..errors import BadRequest, DomainError, NotFound
from ..extensions import limit, login_manager
from ..inputs import safe_next
from . import services, sms
from .forms import ChangePasswordForm, LoginForm, RegisterForm, RequestCodeForm, ResetPasswordForm
from .models import Role

bp = Blueprint("auth", __name__, template_folder="templates")

login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"
login_manager.user_loader(services.load_user)


login_manager.login_message = _l("Please sign in to continue.")
login_manager.localize_callback = str  # evaluate the lazy text in the request's language


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirects)."""
    return safe_next(target, url_for("auth.home_for_role"))


def _sign_in(user, remember: bool = False) -> None:
    """A recorded sign-in on this device (revocable), then flask-login's cookies, then the
    guest cart joins the account's."""
    services.open_session(user, remember=remember, user_agent=request.user_agent.string,
                          ip=request.remote_addr or "")
    login_user(user, remember=remember)
    cart_services.merge_session_cart_into(user.id)


def _apply_field_error(form, error: DomainError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


@bp.post("/register/code")
@limit("REGISTER_RATE_LIMIT", methods=["POST"])
def register_code():
    """Step 1 of registration: text a code to the number (see services.request_code)."""
    return _send_code(services.REGISTER, "auth.register",
                      _("We sent a text message to %(mobile)s. Enter the code from it below."))


def _code_form(**kwargs) -> RequestCodeForm:
    """Step 1's form, on the same page as step 2's (its fields prefixed "send-")."""
    form = RequestCodeForm(prefix="send", **kwargs)
    if not form.mobile.data:
        form.mobile.data = request.args.get("mobile", "")[:11]
    return form


def _send_code(purpose: str, endpoint: str, sent: str):
    form = _code_form()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for(endpoint, next=request.args.get("next")))
    mobile = form.mobile.data
    try:
        services.request_code(mobile, purpose)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(sent % {"mobile": services.masked(mobile)}, "info")
    return redirect(url_for(endpoint, mobile=mobile, next=request.args.get("next")))


@bp.route("/register", methods=["GET", "POST"])
@limit("REGISTER_RATE_LIMIT", methods=["POST"])
def register():
    """Step 2 of registration: the code, a name and a password."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.home_for_role"))
    form = RegisterForm()
    status = 200
    if request.method == "GET" and request.args.get("mobile"):
        form.mobile.data = request.args["mobile"][:11]
    if form.validate_on_submit():
        try:
            user = services.register_with_code(
                form.mobile.data, form.code.data, form.password.data, form.name.data, session.get("lang")
            )
        except DomainError as error:
            _apply_field_error(form, error)
            status = error.status
        else:
            _sign_in(user)
            flash(_("Welcome to Shanhuo! Your account is ready."), "success")
            return redirect(_safe_next(request.args.get("next")))
    elif form.errors:
        status = 422
    return render_template("auth/register.html", form=form, code_form=_code_form(formdata=None)), status


@bp.post("/password/code")
@limit("REGISTER_RATE_LIMIT", methods=["POST"])
def reset_code():
    return _send_code(services.RESET, "auth.reset_password",
                      _("If %(mobile)s belongs to an account, a text message with a code is on its way."))


@bp.route("/password/reset", methods=["GET", "POST"])
@limit("REGISTER_RATE_LIMIT", methods=["POST"])
def reset_password():
    """Forgotten password: a code texted to the account's number, then a new password."""
    form = ResetPasswordForm()
    status = 200
    if request.method == "GET" and request.args.get("mobile"):
        form.mobile.data = request.args["mobile"][:11]
    if form.validate_on_submit():
        try:
            services.reset_password(form.mobile.data, form.code.data, form.password.data)
        except DomainError as error:
            _apply_field_error(form, error)
            status = error.status
        else:
            flash(_("Your password has been reset. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    elif form.errors:
        status = 422
    return render_template("auth/reset.html", form=form, code_form=_code_form(formdata=None)), status


@bp.get("/sandbox/sms")
def sandbox_sms():
    """The sandbox SMS gateway's outbox, for the demo only (SMS_SANDBOX_INBOX): it shows every
    code, so it is never served by a deployment reached over HTTPS."""
    if not current_app.config.get("SMS_SANDBOX_INBOX") or current_app.config.get("HTTPS"):
        raise NotFound()
    return render_template("auth/sandbox_sms.html", messages=sms.outbox())


@bp.route("/login", methods=["GET", "POST"])
@limit("LOGIN_RATE_LIMIT", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home_for_role"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.mobile.data, form.password.data)
        except DomainError as error:
            flash(error.message, "error")
            return render_template("auth/login.html", form=form), error.status
        _sign_in(user, remember=bool(form.remember.data))
        if user.locale and "lang" not in session:
            session["lang"] = user.locale
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), (422 if form.errors else 200)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        services.close_session(current_user)
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("catalog.home"))


@bp.get("/account")
@login_required
def account():
    return render_template("auth/account.html", sessions=services.active_sessions(current_user))


@bp.post("/account/sessions/sign-out-others")
@login_required
def sign_out_elsewhere():
    count = services.sign_out_elsewhere(current_user, keep=current_user.login_session_id)
    flash(_("Signed out of %(count)d other devices; your API tokens no longer work.", count=count), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limit("PASSWORD_RATE_LIMIT", per_account=True, methods=["POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.password.data)
        except DomainError as error:
            _apply_field_error(form, error)
            return render_template("auth/password.html", form=form), error.status
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/password.html", form=form), (422 if form.errors else 200)


@bp.get("/home")
@login_required
def home_for_role():
    """Where each role lands after signing in."""
    target = {
        Role.CONSUMER: "catalog.home",
        Role.COOP_HEAD: "coop.index",
        Role.DISPATCHER: "dispatch.index",
        Role.COMPLAINT_STAFF: "complaints.index",
        Role.OPERATOR: "admin.index",
        Role.DRIVER: "driver.index",  # today's route, next stop first
    }[current_user.role]
    return redirect(url_for(target))


@bp.route("/lang/<code>", methods=["GET", "POST"])
def set_language(code: str):
    """Switch the interface language. A GET (the guests' link) changes only this session; a POST
    (the signed-in header's form, CSRF-checked) also keeps the choice on the account, so a GET
    never changes stored data."""
    languages = current_app.config["LANGUAGES"]
    if code not in languages:
        raise BadRequest(_("Unknown language “%(code)s”. Choose one of: %(choices)s.",
                           code=code[:16], choices=", ".join(languages)))
    session["lang"] = code
    if request.method == "POST" and current_user.is_authenticated:
        services.set_locale(current_user, code)
    return redirect(_safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))
