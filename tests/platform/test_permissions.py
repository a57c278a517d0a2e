"""One permissions module (accounts.permissions) answers who may do what, by role, for
the API, the portal and the services alike: a superuser counts as an admin, and an admin
may do what creators and moderators do, on every path."""
import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from accounts.models import Role
from accounts.permissions import can_moderate, can_see_every_job, is_admin, is_creator, is_subject
from tests.platform.conftest import as_user

CHECKS = (is_admin, is_creator, is_subject, can_moderate, can_see_every_job)
# role -> (admin, creator, subject, moderate, every job)
EXPECTED = {
    Role.CREATOR: (False, True, False, False, False),
    Role.SUBJECT: (False, False, True, False, False),
    Role.AUDITOR: (False, False, False, False, True),
    Role.MODERATOR: (False, False, False, True, True),
    Role.ADMIN: (True, True, False, True, True),
}


@pytest.mark.django_db
def test_each_role_may_do_what_its_row_says(make_user):
    for role, expected in EXPECTED.items():
        user = make_user(f"u-{role}", role=role)
        assert tuple(check(user) for check in CHECKS) == expected, role
    assert not any(check(AnonymousUser()) for check in CHECKS)


@pytest.mark.django_db
def test_a_superuser_is_an_admin_on_every_path(make_user, client):
    root = make_user("root", role=Role.AUDITOR, vetted=True)
    root.is_superuser = True
    root.save()
    assert is_admin(root) and is_creator(root) and can_moderate(root)
    api = as_user(root)
    r = api.post("/api/invitations/", {"display_name": "Cy"}, format="json")      # the consent API
    assert r.status_code == 201, r.content
    assert api.get("/api/vetting/").status_code == 200                             # the moderators' API
    assert api.get("/api/moderation/cases/").status_code == 200
    client.force_login(root)
    assert client.get(reverse("consent_portal:invite")).status_code == 200        # the creator's portal page
    assert client.get(reverse("moderation_portal:queue")).status_code == 200      # the moderators' page


@pytest.mark.django_db
def test_pages_for_another_role_are_refused_with_403(make_user, client):
    client.force_login(make_user("cleo", role=Role.CREATOR))
    assert client.get(reverse("consent_portal:me")).status_code == 403
    assert client.get(reverse("moderation_portal:queue")).status_code == 403
    assert client.get(reverse("consent_portal:vetting")).status_code == 403
    client.force_login(make_user("sam", role=Role.SUBJECT, vetted=False))
    assert client.get(reverse("consent_portal:invite")).status_code == 403
