"""The red team against live sessions: the same ways around the consent gate as for
jobs (test_red_team.py), tried through the REST API and through the portal's live
page. A session is refused with the reason that applies, its refusal is recorded
(job row with the decision, audit rows) and nothing is stored; controls show the
same doors open a session when the consent covers `live`. Revocation, expiry and
take-down during a session are in tests/live/test_live_sessions.py."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from consent.protected import protect_person
from consent.services import elevate_consent, revoke_consent
from live.models import LiveSession
from tests.policies.conftest import assert_nothing_written, consent_to, enrol, join, photo


def open_live(world, via, *, subject, photo_path, user=None, channel="web"):
    """Ask for a live session as `user` (ana by default): (HTTP status, session or None, body)."""
    user = user or world.ana
    before = set(LiveSession.objects.values_list("pk", flat=True))
    with open(photo_path, "rb") as p:
        if via == "api":
            r = world.api(user).post("/api/live/sessions/", {"subject": subject.pk, "photo": p, "channel": channel,
                                                             "size": 256}, format="multipart")
        else:
            r = world.portal(user).post(reverse("live:new"), {"subject": subject.pk, "photo": p, "channel": channel,
                                                              "emotion": "neutral", "head_motion": 1,
                                                              "blink_rate": 15, "size": 256})
    session = LiveSession.objects.exclude(pk__in=before).select_related("job").first()
    return r.status_code, session, r.content.decode()


def denied(world, via, rule: str, text: str, **attempt):
    status, session, body = open_live(world, via, **attempt)
    assert session is not None and session.status == "denied", (status, body[:400])
    assert status == (201 if via == "api" else 302)
    job = session.job
    assert job.status == "denied" and job.purpose == "live" and rule in job.decision["rules"], job.decision
    assert text in " ".join(job.decision["reasons"]) and text in session.end_message
    assert job.decision["stage"] == "live start"
    assert AuditEvent.objects.filter(action="live.denied", target_id=str(session.pk)).exists()
    assert AuditEvent.objects.filter(action="policy.decision", target_id=str(job.pk)).exists()
    assert_nothing_written()
    if via == "portal":   # the creator is shown why on the session page
        page = world.portal(attempt.get("user") or world.ana).get(reverse("live:session", args=[session.pk]))
        assert text.replace("'", "&#x27;") in page.content.decode()
    return session


def allowed(world, via, **attempt):
    status, session, body = open_live(world, via, **attempt)
    assert session is not None and session.status == "ready", (status, body[:400])
    assert session.job.registry_entry.state == "reserved"
    return session


def test_live_01_consent_without_live_purpose(world, via):
    # Bea consented to education videos on the web: not to live sessions.
    denied(world, via, "consent-scope", "Subject 'Bea' did not consent to videos for 'live'",
           subject=world.bea, photo_path=photo("obama_2"))
    consent_to(world.bea_account, world.ana, purposes=["live"])
    allowed(world, via, subject=world.bea, photo_path=photo("obama_2"))


def test_live_02_no_consent_at_all(world, via):
    denied(world, via, "consent-active", "No consent from subject 'Dan' to creator 'ana'",
           subject=world.dan, photo_path=photo("jeff_bezos"))


def test_live_03_unvetted_creator(world, via, make_user, faces):
    newbie = make_user("newbie", vetted=False)
    account = make_user("fay", role="subject", vetted=False)
    fay, _ = join(newbie, account, "Fay")
    enrol(fay, faces("obama_1"))
    consent_to(account, newbie, purposes=["live"])
    denied(world, via, "creator-vetted", "Creator 'newbie' has not been vetted yet",
           user=newbie, subject=fay, photo_path=photo("obama_2"))


def test_live_04_protected_person(world, via, make_user):
    admin = make_user("root", role="admin")
    protect_person(name="Barack Obama", photos=[photo("obama_2").read_bytes()], by=admin, note="public official")
    live_consent = consent_to(world.bea_account, world.ana, purposes=["live"])
    denied(world, via, "protected-person", "protected list; videos of them need an elevated consent",
           subject=world.bea, photo_path=photo("obama_2"))
    elevate_consent(live_consent, by=make_user("mod", role="moderator"), note="confirmed with the office")
    allowed(world, via, subject=world.bea, photo_path=photo("obama_2"))


def test_live_05_photo_of_someone_else(world, via):
    consent_to(world.bea_account, world.ana, purposes=["live"])
    denied(world, via, "identity-match", "The photo does not show subject 'Bea'",
           subject=world.bea, photo_path=photo("jeff_bezos"))


def test_live_06_revoked_and_expired_consents(world, via):
    revoke_consent(world.bea_consent, actor=world.bea_account, reason="not education either")
    live_consent = consent_to(world.bea_account, world.ana, purposes=["live"])
    revoke_consent(live_consent, actor=world.bea_account, reason="no")
    denied(world, via, "consent-active", "was revoked on", subject=world.bea, photo_path=photo("obama_2"))
    expiring = consent_to(world.bea_account, world.ana, purposes=["live"])
    type(expiring).objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    denied(world, via, "consent-active", "expired on", subject=world.bea, photo_path=photo("obama_2"))


def test_live_07_another_creators_subject_is_not_offered(world, via):
    """Eve's subject Cy consented to Eve: Ana cannot open a session of Cy."""
    consent_to(world.bea_account, world.ana, purposes=["live"])
    status, session, body = open_live(world, via, subject=world.cy, photo_path=photo("biden_1"))
    assert session is None and status == 400 and "not one of your subjects" in body.replace("&#x27;", "'")
    assert_nothing_written()


def test_live_08_other_roles_cannot_open_sessions(world, via, make_user):
    auditor = make_user("audrey", role="auditor", vetted=False)
    status, session, _ = open_live(world, via, user=auditor, subject=world.bea, photo_path=photo("obama_2"))
    assert session is None and status == 403
    assert_nothing_written()


@pytest.mark.parametrize("who", ["stranger", "moderator"])
def test_live_09_only_the_creator_streams_it(world, make_user, who):
    """The stream is claimed by its creator only: anyone else is refused before the gate."""
    from live.services import LiveError, claim
    consent_to(world.bea_account, world.ana, purposes=["live"])
    session = allowed(world, "api", subject=world.bea, photo_path=photo("obama_2"))
    other = make_user(who, role="creator" if who == "stranger" else "moderator")
    with pytest.raises(LiveError) as caught:
        claim(session.pk, other, "test")
    assert caught.value.status == 404
    assert LiveSession.objects.get(pk=session.pk).status == "ready"


def test_live_10_a_live_only_consent_makes_no_recorded_video(world, via):
    # Bea consents to live sessions only: a recorded job may not borrow the purpose `live`.
    consent_to(world.bea_account, world.ana, purposes=["live"])
    out = world.attempt(via, subject=world.bea, photo_path=photo("obama_2"), purpose="live")
    assert out.job is None and out.http == 400, (out.http, out.text[:300])
    assert "only for live sessions" in out.text or "is not one of the available choices" in out.text
    assert_nothing_written()
    if via == "portal":   # the form never offers it
        page = world.portal(world.ana).get(reverse("portal:new_job")).content.decode()
        assert 'value="live"' not in page
