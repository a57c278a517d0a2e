"""schemathesis against /api/schema/: every operation of the API, called through the
WSGI app by an authenticated creator with generated (mostly invalid) input, must
answer without a server error. Bad input is a 4xx naming the problem. The module's
last test checks that at least 500 requests were sent."""
from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from veritalk.wsgi import application

MIN_REQUESTS = 500
EXAMPLES_PER_OPERATION = 15

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
SENT: dict[str, int] = {}


@pytest.fixture
def fuzz_creator(creator, consenting_subject):
    # (test_settings lifts the per-user throttle: the budget of requests must not run into it)
    # As Django's test client does: the WSGI handler must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield creator
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                     suppress_health_check=list(HealthCheck))
def test_no_server_error(case, fuzz_creator):
    # The token is looked up again for each case: the token endpoints replace or delete it.
    token, _ = Token.objects.get_or_create(user=fuzz_creator)
    response = case.call(headers={"Authorization": f"Token {token.key}"})
    key = f"{case.method} {case.path}"
    SENT[key] = SENT.get(key, 0) + 1
    case.validate_response(response, checks=[not_a_server_error])


MODERATED = "^/api/(moderation|detection|vetting|grants/.+/elevate)"


@pytest.mark.django_db
@schema.include(path_regex=MODERATED).parametrize()
@hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                     suppress_health_check=list(HealthCheck))
def test_no_server_error_as_moderator(case, fuzz_creator, make_user, settings, tiny_detector):
    """The moderators' operations again, by a moderator (the creator above is refused them)."""
    settings.VERITALK_DETECTOR_MODEL = str(tiny_detector)
    moderator = type(fuzz_creator).objects.filter(username="mo").first() or make_user("mo", role="moderator")
    token, _ = Token.objects.get_or_create(user=moderator)
    response = case.call(headers={"Authorization": f"Token {token.key}"})
    key = f"moderator {case.method} {case.path}"
    SENT[key] = SENT.get(key, 0) + 1
    case.validate_response(response, checks=[not_a_server_error])


def test_at_least_500_requests_were_sent(portrait):
    """Runs after the operations above (pytest keeps the module's order). Needs the corpus
    portrait as they do (their subject is enrolled from it): without the corpus they all
    skip, and so does this count, with the same reason."""
    operations = {f"{op.method.upper()} {op.path}" for op in (r.ok() for r in schema.get_all_operations())}
    untested = sorted(operations - set(SENT))
    assert not untested, f"operations not exercised (run the whole module): {untested}"
    total = sum(SENT.values())
    print(f"schemathesis sent {total} requests ({len(SENT)} method and path pairs)")
    assert total >= MIN_REQUESTS, SENT
