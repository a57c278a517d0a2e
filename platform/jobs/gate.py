"""The policy gate as the platform sees it: gather facts from the database and
ask the policies library for a decision. Called before dispatch and again in the
worker before generation and before release."""
from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from policies import Decision, evaluate, load_policy


def current_policy():
    return load_policy(settings.VERITALK_POLICY_FILE) if settings.VERITALK_POLICY_FILE else load_policy()


def gather_facts(*, creator, subject, face_count: int, purpose: str = "", now=None) -> tuple[dict, object]:
    now = now or timezone.now()
    consent = subject.active_consent(creator, now)
    facts = {
        "now": now.isoformat(),
        "creator": creator.policy_facts(),
        "subject": {"id": subject.pk, "name": subject.display_name},
        "consent": consent.policy_facts() if consent else None,
        "photo": {"face_count": face_count},
        "purpose": purpose,
    }
    return facts, consent


def decide(*, creator, subject, face_count: int, purpose: str = "") -> tuple[Decision, object]:
    facts, consent = gather_facts(creator=creator, subject=subject, face_count=face_count, purpose=purpose)
    decision = evaluate(facts, current_policy())
    return decision, (consent if consent is not None and consent.is_active() else None)
