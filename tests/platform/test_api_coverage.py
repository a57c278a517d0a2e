"""Every operation of the API schema keeps the project's promises: each mutating
operation (POST, PUT, PATCH, DELETE) leaves an audit row when it succeeds, and each
list operation paginates. The operations are read from /api/schema/, so an endpoint
added without a scenario here fails the test instead of slipping through."""
from __future__ import annotations

import pytest
import yaml
from rest_framework.test import APIClient

from audit.models import AuditEvent
from consent.invitations import accept_invitation, create_invitation
from consent.services import grant_consent
from tests.conftest import corpus_file
from tests.platform.conftest import as_user

MUTATING = ("post", "put", "patch", "delete")
# POSTs that change nothing: C2PA soft-binding look-ups (a POST by the C2PA specification,
# public and read-only). They are checked to write no row at all.
# POST, but a public look-up that writes nothing (byContent is an authenticated
# verification of an uploaded file, audited like /api/verify/).
READ_ONLY = {"c2pa_matches_byBinding_create"}


def schema_operations(client) -> dict[str, tuple[str, str, dict]]:
    spec = yaml.safe_load(client.get("/api/schema/").content)
    ops = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                ops[op["operationId"]] = (method, path, op)
    return ops


@pytest.fixture
def world(make_user, creator, consenting_subject, faces, settings, tiny_detector):
    """A creator with a consenting subject, a subject account that accepted an invitation
    and enrolled, a moderator, an auditor."""
    settings.VERITALK_DETECTOR_MODEL = str(tiny_detector)
    bea = make_user("bea", role="subject", vetted=False)
    subject = accept_invitation(account=bea, invitation=create_invitation(creator=creator, display_name="Bea B")[0])
    subject.face_embedding = faces("obama_1")
    subject.enrolment_embeddings = [subject.face_embedding]
    from django.utils import timezone
    subject.enrolled_at = timezone.now()
    subject.save()
    consent = grant_consent(subject=subject, creator=creator, actor=bea, purposes=["test"])
    return {"creator": creator, "subject": consenting_subject, "bea": bea, "bea_subject": subject,
            "bea_consent": consent, "moderator": make_user("mo", role="moderator", vetted=False),
            "auditor": make_user("audrey", role="auditor", vetted=False),
            "pending": make_user("newbie", role="creator", vetted=False)}


def _files(*names):
    return [open(corpus_file(n), "rb") for n in names]


# operationId -> a successful call as the right user (returns the response)
def _faces(w):
    with open(corpus_file("photos/elizabeth_olsen.jpg"), "rb") as f:
        return as_user(w["creator"]).post("/api/faces/", {"photo": f}, format="multipart")


def _jobs(w):
    with open(corpus_file("photos/elizabeth_olsen.jpg"), "rb") as p, \
            open(corpus_file("audio/sr_english_en.wav"), "rb") as a:
        return as_user(w["creator"]).post("/api/jobs/", {"subject": w["subject"].pk, "photo": p, "audio": a,
                                                         "purpose": "test", "size": 256}, format="multipart")


def _invite(w):
    return as_user(w["creator"]).post("/api/invitations/", {"display_name": "Cy"}, format="json")


def _accept(w):
    _, token = create_invitation(creator=w["creator"], display_name="Dee")
    from django.contrib.auth import get_user_model
    dee = get_user_model().objects.create_user("dee", password="x-pw-12345", role="subject")
    return as_user(dee).post("/api/invitations/accept/", {"token": token}, format="json")


def _enrol(w):
    with open(corpus_file("photos/obama_1.jpg"), "rb") as f:
        return as_user(w["bea"]).post("/api/subjects/enrol/", {"selfies": [f]}, format="multipart")


def _grant(w):
    return as_user(w["bea"]).post("/api/grants/", {"creator": w["creator"].username, "purposes": ["education"],
                                                   "agree": True}, format="json")


def _elevate(w):
    return as_user(w["moderator"]).post(f"/api/grants/{w['bea_consent'].pk}/elevate/",
                                        {"note": "checked by phone"}, format="json")


def _revoke(w):
    return as_user(w["bea"]).post("/api/revocations/", {"consent": w["bea_consent"].pk, "reason": "no"},
                                  format="json")


def _vet(w):
    return as_user(w["moderator"]).post("/api/vetting/", {"username": "newbie", "vetted": True,
                                                          "note": "id checked"}, format="json")


def _token(w):
    return as_user(w["auditor"]).post("/api/token/", {}, format="json")


def _token_delete(w):
    return as_user(w["auditor"]).delete("/api/token/")


def _verify(w):
    with open(corpus_file("photos/obama_1.jpg"), "rb") as f:
        return as_user(w["auditor"]).post("/api/verify/", {"file": f}, format="multipart")


def _open_case(w):
    with open(corpus_file("videos/voxceleb2_00373.mp4"), "rb") as f:
        return as_user(w["moderator"]).post("/api/moderation/cases/", {"file": f}, format="multipart")


def _case_action(w):
    from moderation.services import run_analysis
    case_id = _open_case(w).json()["id"]
    run_analysis(case_id)  # what the detection worker runs
    return as_user(w["moderator"]).post(f"/api/moderation/cases/{case_id}/action/", {"action": "flag"},
                                        format="json")


def _by_binding(w):
    return APIClient().post("/api/c2pa/matches/byBinding", {"alg": "com.veritalk.vtss-1", "value": "AAAAAaSZokQ="},
                            format="json")


def _by_content(w):
    with open(corpus_file("photos/obama_1.jpg"), "rb") as f:
        return as_user(w["auditor"]).post("/api/c2pa/matches/byContent", {"file": f}, format="multipart")


def _live_session(w):
    """A live session waiting for its stream (the subject consented to `live`)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from live.services import start_session
    grant_consent(subject=w["subject"], creator=w["creator"], purposes=["live"])
    return start_session(creator=w["creator"], subject=w["subject"], controls={"size": 256},
                         photo=SimpleUploadedFile("p.jpg", corpus_file("photos/elizabeth_olsen.jpg").read_bytes()))


def _live_create(w):
    with open(corpus_file("photos/elizabeth_olsen.jpg"), "rb") as p:
        return as_user(w["creator"]).post("/api/live/sessions/", {"subject": w["subject"].pk, "photo": p,
                                                                  "size": 256}, format="multipart")


def _live_stop(w):
    return as_user(w["creator"]).post(f"/api/live/sessions/{_live_session(w).pk}/stop/", format="json")


def _live_take_down(w):
    return as_user(w["moderator"]).post(f"/api/live/sessions/{_live_session(w).pk}/take_down/",
                                        {"note": "reported"}, format="json")


def _vetting_request(w):
    return as_user(w["pending"]).post("/api/me/vetting-request/", {"message": "Films for my theatre company."},
                                      format="json")


def _job_cancel(w):
    job_id = _jobs(w).json()["id"]
    return as_user(w["creator"]).post(f"/api/jobs/{job_id}/cancel/", format="json")


def all_rows() -> int:
    from django.apps import apps
    return sum(m.objects.count() for m in apps.get_models())


SCENARIOS = {
    "c2pa_matches_byBinding_create": _by_binding, "c2pa_matches_byContent_create": _by_content,
    "moderation_cases_create": _open_case, "moderation_cases_action_create": _case_action,
    "faces_create": _faces, "jobs_create": _jobs, "invitations_create": _invite,
    "invitations_accept_create": _accept, "subjects_enrol_create": _enrol, "grants_create": _grant,
    "grants_elevate_create": _elevate, "revocations_create": _revoke, "vetting_create": _vet,
    "token_create": _token, "token_destroy": _token_delete, "verify_create": _verify,
    "live_sessions_create": _live_create, "live_sessions_stop_create": _live_stop,
    "live_sessions_take_down_create": _live_take_down, "jobs_cancel_create": _job_cancel,
    "me_vetting_request_create": _vetting_request,
}

# Operations that document more than one success: the code this test's scenario must get.
SCENARIO_STATUS = {"jobs_create": [202]}   # an accepted submission (201 is an immediate denial)


@pytest.mark.django_db
def test_every_mutating_operation_leaves_an_audit_row(client, world):
    ops = schema_operations(client)
    mutating = sorted(op_id for op_id, (method, _, _) in ops.items() if method in MUTATING)
    missing = [op_id for op_id in mutating if op_id not in SCENARIOS]
    assert not missing, f"mutating operations with no audit scenario in this test: {missing}"
    assert len(mutating) >= 12
    for op_id in mutating:
        before, rows = AuditEvent.objects.count(), all_rows()
        r = SCENARIOS[op_id](world)
        documented = [int(code) for code in ops[op_id][2]["responses"] if code.startswith("2")]
        expected = SCENARIO_STATUS.get(op_id, documented)
        assert set(expected) <= set(documented), (op_id, expected, documented)
        assert [r.status_code] == expected, (op_id, r.status_code, documented, r.content[:300])
        if op_id in READ_ONLY:
            assert all_rows() == rows, f"{op_id} is declared read-only but wrote rows"
        else:
            assert AuditEvent.objects.count() > before, f"{op_id} succeeded without an audit row"


# operationId of each list -> who lists it
LISTERS = {"grants_list": "creator", "invitations_list": "creator", "jobs_list": "creator",
           "revocations_list": "bea", "subjects_list": "creator", "subjects_videos_list": "bea",
           "vetting_list": "moderator", "moderation_cases_list": "moderator", "live_sessions_list": "creator"}


def _response_schema(op) -> dict:
    return op["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})


@pytest.mark.django_db
def test_every_list_operation_paginates(client, world, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 1}
    ops = schema_operations(client)
    lists = {op_id: (path, op) for op_id, (method, path, op) in ops.items() if method == "get" and (
        op_id.endswith("_list") or _response_schema(op).get("type") == "array"
        or _response_schema(op).get("$ref", "").rsplit("/", 1)[-1].startswith("Paginated"))}
    missing = sorted(set(lists) - set(LISTERS))
    assert not missing, f"list operations with no lister in this test: {missing}"
    assert set(LISTERS) <= set(lists)
    # Two of everything, so that page 1 of size 1 has a next page.
    second = grant_consent(subject=world["bea_subject"], creator=world["creator"], actor=world["bea"],
                           purposes=["test"])
    for consent in (world["bea_consent"], second):
        r = as_user(world["bea"]).post("/api/revocations/", {"consent": consent.pk}, format="json")
        assert r.status_code == 201
    _invite(world)
    _open_case(world)
    _open_case(world)
    _jobs(world)
    _jobs(world)
    _live_create(world)
    _live_create(world)
    from jobs.models import Job
    Job.objects.filter(creator=world["creator"]).update(subject=world["bea_subject"])  # videos of Bea
    for op_id, (path, op) in sorted(lists.items()):
        assert _response_schema(op).get("$ref", "").rsplit("/", 1)[-1].startswith("Paginated"), \
            f"{op_id}: the schema does not describe a paginated list"
        assert "page" in {p["name"] for p in op.get("parameters", [])}, f"{op_id}: no page parameter in the schema"
        r = as_user(world[LISTERS[op_id]]).get(path.replace("{id}", str(world["bea_subject"].pk)))
        assert r.status_code == 200, (op_id, r.status_code, r.content[:200])
        body = r.json()
        assert set(body) >= {"count", "next", "previous", "results"}, (op_id, body)
        assert body["count"] >= 2 and len(body["results"]) == 1 and body["next"], (op_id, body)
