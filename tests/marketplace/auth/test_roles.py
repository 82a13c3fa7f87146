"""Every area's index, opened by every role: its own roles get in, everyone else gets 403,
and a signed-out visitor is sent to sign in."""

from __future__ import annotations

import pytest

from marketplace.models import Role
from tests.conftest import login

# area index -> roles that may open it (None: anyone, signed in or not)
AREAS = {
    "/": None,
    "/categories": None,
    "/cart/": {Role.CONSUMER, "guest"},
    "/orders/": {Role.CONSUMER},
    "/coop/": {Role.COOP_HEAD},
    "/dispatch/": {Role.DISPATCHER, Role.OPERATOR},
    "/complaints/": {Role.COMPLAINT_STAFF, Role.OPERATOR},
    "/admin/": {Role.OPERATOR},
    "/reports/": {Role.OPERATOR},
    "/account": set(Role),
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_exactly_its_own_areas(client, make_user, role):
    user = make_user(role)
    assert login(client, user.mobile).status_code == 302
    for path, allowed in AREAS.items():
        status = client.get(path).status_code
        expected = 200 if allowed is None or role in allowed else 403
        assert status == expected, f"{role.value} opening {path}: {status}, expected {expected}"


def test_signed_out_visitor_is_sent_to_sign_in(client):
    for path, allowed in AREAS.items():
        response = client.get(path)
        if allowed is None or "guest" in allowed:
            assert response.status_code == 200, path
        else:
            assert response.status_code == 302, path
            assert "/login" in response.headers["Location"]


def test_forbidden_page_speaks_the_page_language(client, make_user):
    user = make_user(Role.CONSUMER)
    login(client, user.mobile)
    assert "您无权访问此页面" in client.get("/admin/").get_data(as_text=True)
    client.get("/lang/en")
    assert "You do not have access" in client.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "landing"),
    [(Role.CONSUMER, "/"), (Role.COOP_HEAD, "/coop/"), (Role.DISPATCHER, "/dispatch/"),
     (Role.COMPLAINT_STAFF, "/complaints/"), (Role.OPERATOR, "/admin/"), (Role.DRIVER, "/driver/")],
)
def test_each_role_lands_on_its_area_after_sign_in(client, make_user, role, landing):
    user = make_user(role)
    response = login(client, user.mobile)
    assert client.get(response.headers["Location"]).headers["Location"].endswith(landing)
    page = client.get(landing).get_data(as_text=True)
    assert 'class="areanav' in page and f'href="{landing}"' in page  # the area bar leads back to it
