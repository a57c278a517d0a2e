"""The bound on upload-reading requests per web process: while every slot is taken, the
next submission waits, then gets a 503 with Retry-After; reads are never held back."""
import threading

import pytest
from django.test import RequestFactory
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobs.api import FacePreviewView, JobViewSet
from jobs.models import Job
from portal.views import dashboard, new_job
from veritalk.middleware import HeavyRequestLimitMiddleware


@pytest.fixture
def limited(settings):
    settings.VERITALK_WEB_HEAVY_CONCURRENCY = 1
    settings.VERITALK_WEB_HEAVY_WAIT_SECONDS = 0.2
    return HeavyRequestLimitMiddleware(lambda request: None)


@pytest.mark.parametrize("view,path", [
    (JobViewSet.as_view({"get": "list", "post": "create"}), "/api/jobs/"),
    (FacePreviewView.as_view(), "/api/faces/"),
    (new_job, "/jobs/new/"),
])
def test_uploads_beyond_the_bound_get_a_503_with_retry_after(limited, view, path):
    factory = RequestFactory()
    first = factory.post(path)
    assert limited.process_view(first, view, (), {}) is None          # takes the only slot
    busy = limited.process_view(factory.post(path), view, (), {})
    assert busy.status_code == 503 and busy["Retry-After"] == "1"
    assert ("busy" in busy.content.decode()) and (busy["Content-Type"].startswith("application/json")
                                                  == path.startswith("/api/"))
    assert limited.process_view(factory.get(path), view, (), {}) is None   # reads never wait
    limited(first)                                                     # the first request ends: slot freed
    second = factory.post(path)
    assert limited.process_view(second, view, (), {}) is None
    limited(second)


def test_other_posts_and_pages_are_not_bounded(limited):
    factory = RequestFactory()
    held = factory.post("/api/jobs/")
    limited.process_view(held, JobViewSet.as_view({"post": "create"}), (), {})
    assert limited.process_view(factory.post("/"), dashboard, (), {}) is None
    limited(held)


def test_a_waiting_upload_gets_the_slot_once_it_is_freed(settings):
    settings.VERITALK_WEB_HEAVY_CONCURRENCY = 1
    settings.VERITALK_WEB_HEAVY_WAIT_SECONDS = 10.0
    mw = HeavyRequestLimitMiddleware(lambda request: None)
    factory = RequestFactory()
    first = factory.post("/api/jobs/")
    view = JobViewSet.as_view({"post": "create"})
    mw.process_view(first, view, (), {})
    threading.Timer(0.3, mw, args=(first,)).start()                   # the first upload ends after 0.3 s
    assert mw.process_view(factory.post("/api/jobs/"), view, (), {}) is None


@pytest.mark.django_db
def test_a_real_submission_releases_its_slot(settings, creator, consenting_subject, portrait, short_speech):
    """Through the whole stack (middleware in settings): one slot, two submissions in a row."""
    settings.VERITALK_WEB_HEAVY_CONCURRENCY = 1
    settings.VERITALK_WEB_HEAVY_WAIT_SECONDS = 0.5
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=creator).key}")
    for _ in range(2):
        with open(portrait, "rb") as p, open(short_speech, "rb") as a:
            r = api.post("/api/jobs/", {"subject": consenting_subject.pk, "photo": p, "audio": a,
                                        "purpose": "test"}, format="multipart")
        assert r.status_code == 202, r.content
    assert Job.objects.filter(status="checking").count() == 2
