"""The Server-Timing header: off unless configured; when on, it splits a request's time
into the view, its database statements and the audit lock's wait (bench.load reads it)."""
import re

import pytest

from tests.platform.conftest import as_user
from veritalk.timing import add_wait

pytestmark = pytest.mark.django_db


def test_no_header_by_default(creator):
    response = as_user(creator).get("/api/jobs/")
    assert response.status_code == 200
    assert "Server-Timing" not in response


def test_header_names_view_database_and_lock_time(settings, creator):
    settings.VERITALK_SERVER_TIMING = True
    response = as_user(creator).get("/api/jobs/")
    assert response.status_code == 200
    header = response["Server-Timing"]
    parts = dict(re.findall(r"(\w+);dur=([\d.]+)", header))
    assert set(parts) == {"app", "cpu", "db", "slot", "lock"}
    assert float(parts["app"]) >= float(parts["db"]) > 0
    statements = int(re.search(r'desc="(\d+) statements"', header).group(1))
    assert statements >= 1


def test_lock_wait_outside_a_request_is_ignored():
    add_wait("lock", 1.0)  # a worker's transaction: no request to charge it to, no error
