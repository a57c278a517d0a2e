"""API clients: tokens minted through the endpoint or the command (audited, the old
one stops working), per-user throttling, and the docs page that needs no CDN."""
import json
import re

import pytest
from django.contrib.staticfiles import finders
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.platform.conftest import run_command


@pytest.mark.django_db
def test_token_by_password_then_by_session_replaces_the_old_one(creator):
    anon = APIClient()
    assert anon.post("/api/token/", {"username": "ana", "password": "wrong"}, format="json").status_code == 401
    r = anon.post("/api/token/", {"username": "ana", "password": creator.raw_password}, format="json")
    assert r.status_code == 201 and r.json()["role"] == "creator"
    first = r.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert client.get("/api/me/").json() == {"username": "ana", "role": "creator", "vetted": True}
    session = APIClient()
    session.force_login(creator)
    second = session.post("/api/token/", {}, format="json").json()["token"]
    assert second != first and Token.objects.get(user=creator).key == second
    assert client.get("/api/me/").status_code == 401          # the first token no longer works
    assert AuditEvent.objects.filter(action="token.minted", actor="ana").count() == 2
    client.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert client.delete("/api/token/").status_code == 204
    assert not Token.objects.filter(user=creator).exists()
    assert AuditEvent.objects.filter(action="token.revoked", actor="ana").exists()


@pytest.mark.django_db
def test_mint_token_command(creator):
    code, out, _ = run_command("mint_token", "ana", "--json")
    data = json.loads(out)
    assert code == 0 and data["username"] == "ana" and Token.objects.get(user=creator).key == data["token"]
    code, _, err = run_command("mint_token", "nobody")
    assert code == 2 and "no account 'nobody'" in err


@pytest.mark.django_db
def test_each_user_is_throttled_on_their_own(creator, make_user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "anon": "2/minute"}}
    from django.core.cache import cache
    cache.clear()
    ana, eve = APIClient(), APIClient()
    ana.force_authenticate(creator)
    eve.force_authenticate(make_user("eve"))
    assert [ana.get("/api/jobs/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert eve.get("/api/jobs/").status_code == 200          # eve has her own budget
    r = ana.get("/api/jobs/")
    assert r.status_code == 429 and "Retry-After" in r and "throttled" in r.json()["detail"]
    cache.clear()


@pytest.mark.django_db
def test_docs_page_loads_its_assets_from_our_static_files(client):
    page = client.get("/api/docs/").content.decode()
    assert "cdn" not in page.lower() and "jsdelivr" not in page.lower() and "unpkg" not in page.lower()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', page)
    assert any("swagger-ui" in a for a in assets), page[:1000]
    for asset in assets:
        name = asset.split("/static/", 1)[-1]
        assert finders.find(name), f"{asset} is not one of our static files"


@pytest.mark.django_db
def test_missing_or_invalid_token_is_a_401_with_a_token_challenge(creator):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Token not-a-token"}):
        client = APIClient()
        client.credentials(**headers)
        r = client.get("/api/jobs/")
        assert r.status_code == 401 and r["WWW-Authenticate"] == "Token", (headers, r.status_code)
    session = APIClient()
    session.force_login(creator)
    assert session.get("/api/me/").status_code == 200          # the portal's session still works
