"""Fixtures for the platform: signing material, users, subjects and consents,
and helpers to see what reached the broker and the media folder."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from consent.invitations import create_invitation
from consent.models import Subject
from consent.services import grant_consent
from jobs.models import Job
from moderation.services import open_output, open_upload, run_analysis
from provenance.signing import mint_platform_chain
from registry.models import RegistryEntry
from tests.conftest import corpus_file


@pytest.fixture(scope="session", autouse=True)
def signing_material():
    d = Path(settings.VERITALK_SIGNING_DIR)
    if not (d / "signer.key").exists():
        mint_platform_chain(d)
    return d


@pytest.fixture(autouse=True)
def isolated_media(settings, tmp_path):
    """Each test gets its own media folder, so file assertions see only its own files."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def make_user(django_user_model):
    def make(username, role="creator", vetted=True, password="pw-for-tests-1"):
        user = django_user_model.objects.create_user(username=username, password=password, role=role, vetted=vetted)
        user.raw_password = password
        return user
    return make


@pytest.fixture
def creator(make_user):
    return make_user("ana", "creator", vetted=True)


@pytest.fixture
def subject(creator, portrait, faces):
    """Bea, enrolled from the portrait the tests generate from (so the identity check passes);
    the embedding is computed once per session (tests/platform/test_enrolment.py covers enrolling)."""
    from django.utils import timezone

    from consent.models import Subject
    embedding = faces(portrait.stem)
    return Subject.objects.create(display_name="Bea", created_by=creator, face_embedding=embedding,
                                  enrolment_embeddings=[embedding], enrolled_at=timezone.now())


@pytest.fixture(scope="session")
def faces():
    """Embeddings of corpus photos by name ("obama_1"), computed once per session, for tests
    whose subject is not the enrolment itself."""
    from consent.identity import embed_photo
    from tests.conftest import CORPUS, corpus_file
    cache = {}

    def get(name: str) -> list[float]:
        if name not in cache:
            found = sorted(CORPUS.glob(f"photos/{name}.*"))
            cache[name] = embed_photo(corpus_file(f"photos/{found[0].name if found else name}").read_bytes())
        return cache[name]
    return get


@pytest.fixture
def consenting_subject(subject, creator):
    grant_consent(subject=subject, creator=creator, purposes=["test"], statement="yes")
    return subject


def queued_messages() -> list[Path]:
    """Messages waiting in the embedded (filesystem) broker."""
    return sorted(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"]).glob("*.msg"))


def stored_job_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "jobs"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def empty_broker():
    for p in queued_messages():
        p.unlink()
    yield


def run_command(*args) -> tuple[int, str, str]:
    """Run a management command as the CLI would: (exit code, stdout, stderr)."""
    import io

    from django.core.management.base import CommandError
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def tiny_detector(tmp_path_factory):
    """A detector trained in a second on synthetic feature windows, for tests of the
    moderation workflow rather than of the detector's accuracy (tests/detection and
    bench.detector measure that)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from detection.features import FEATURE_NAMES
    from detection.model import save
    from detection.train import train_tiny
    rng = np.random.default_rng(0)
    n = len(FEATURE_NAMES)
    X = np.concatenate([rng.normal(0, 1, (40, n)), rng.normal(0.7, 1, (40, n))]).astype(np.float32)
    with threadpool_limits(1):  # OpenMP threads on a busy 2-core machine: 20 s instead of a tenth of one
        det = train_tiny(X, np.repeat([0, 1], 40), np.repeat(np.arange(8), 10))
    det.thresholds = {"suspicious": 0.4, "likely_generated": 0.6}
    manifest = {"version": det.version, "trained_on": ["veritalk", "hallo"],
                "measured": {"tpr_at_1pct_fpr": {"value": 0.7, "low": 0.5, "high": 0.85},
                             "tpr_at_5pct_fpr": {"value": 0.9, "low": 0.8, "high": 0.95},
                             "real_above_suspicious": {"value": 0.04, "low": 0.01, "high": 0.14}}}
    return save(det, tmp_path_factory.mktemp("model") / "tiny.skops", manifest=manifest)


def as_user(user=None):
    """An API client authenticated as `user` (anonymous without one)."""
    from rest_framework.test import APIClient
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def bea_account(make_user, creator, faces):
    """Bea's subject account, invited by the creator and enrolled with obama_1's face."""
    from consent.invitations import accept_invitation, create_invitation
    account = make_user("bea", role="subject", vetted=False)
    subject = accept_invitation(account=account, invitation=create_invitation(creator=creator,
                                                                              display_name="Bea")[0])
    subject.face_embedding = faces("obama_1")
    subject.save()
    return account


def verify_json(path) -> dict:
    """`manage.py verify --json` on `path`, checked for DESIGN.md's keys."""
    import json
    rc, out, err = run_command("verify", str(path), "--json")
    assert rc == 0, err
    result = json.loads(out)
    assert set(result) >= {"verdict", "c2pa", "watermark", "registry"}
    assert set(result["c2pa"]) >= {"state", "issuer", "actions", "errors"}
    assert set(result["watermark"]) >= {"found", "payload", "confidence"}
    assert set(result["registry"]) >= {"match", "job", "consent", "revoked"}
    return result


@pytest.fixture
def portal_world(transactional_db, settings, tmp_path, make_user, creator, subject, portrait, tiny_detector):
    """The portal with something on every page, for the checks that visit them all
    (tests/platform/test_french_pages.py, tests/browser/test_accessibility.py): ana (creator)
    with a made video, a refused one and an invitation sent; bea (subject) enrolled and
    consenting, with an invitation waiting; mo (moderator) with analysed cases, one on ana's
    video; audrey (auditor)."""
    settings.VERITALK_DETECTOR_MODEL = str(tiny_detector)
    bea = make_user("bea", "subject", vetted=False)
    subject.account = bea
    subject.save()
    consent = grant_consent(subject=subject, creator=creator, purposes=["test", "education"], channels=["web"],
                            statement="yes", max_videos=5)
    rc, out, err = run_command("generate", "--creator", "ana", "--subject", "Bea", "--photo", str(portrait),
                               "--audio", str(corpus_file("audio/sr_english_en.wav")), "--out",
                               str(tmp_path / "out.mp4"), "--size", "256", "--purpose", "test", "--channel", "web",
                               "--json")
    assert rc == 0, err
    made = Job.objects.get(pk=json.loads(out)["job"])
    refused = Subject.objects.create(display_name="Cy", created_by=creator)
    run_command("generate", "--creator", "ana", "--subject", "Cy", "--photo", str(portrait), "--audio",
                str(corpus_file("audio/sr_english_en.wav")), "--out", str(tmp_path / "no.mp4"), "--purpose", "test")
    denied = Job.objects.get(subject=refused)
    other = make_user("zoe", "creator")
    inv, token = create_invitation(creator=other, display_name="Bea B.", invitee=bea, message="Hello")
    _, open_token = create_invitation(creator=creator, display_name="Dee")
    moderator = make_user("mo", "moderator", vetted=False)
    case = open_output(moderator, RegistryEntry.objects.get(job=made))
    run_analysis(case.pk)
    with open(corpus_file("videos/voxceleb2_00373.mp4"), "rb") as fh:
        upload_case = open_upload(moderator, SimpleUploadedFile("clip.mp4", fh.read(), content_type="video/mp4"))
    run_analysis(upload_case.pk)
    auditor = make_user("audrey", "auditor", vetted=False)
    unvetted = make_user("uli", "creator", vetted=False)
    names = {"ana", "bea", "Bea", "B.", "Cy", "Dee", "zoe", "mo", "audrey", "uli", "Hello", "yes", "Veritalk", "Inc",
             "voxceleb2_00373", "clip", "elizabeth_olsen", "tiny-test"}
    return {"creator": creator, "subject": bea, "moderator": moderator, "auditor": auditor, "made": made,
            "denied": denied, "consent": consent, "case": case, "upload_case": upload_case, "token": open_token,
            "unvetted": unvetted, "names": names}
