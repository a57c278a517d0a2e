"""A moderator's path in the browser. Until the moderation app (detector queue, flag,
take-down) is in the project, this covers what moderators do today: vet a new
creator with a note, which is what lets the creator generate."""
import pytest

from audit.models import AuditEvent
from tests.browser.conftest import log_in


@pytest.mark.django_db(transaction=True)
def test_moderator_vets_a_creator_with_a_note(new_page, make_user):
    moderator = make_user("mo", role="moderator", vetted=False)
    newbie = make_user("newbie", role="creator", vetted=False)
    page = new_page("moderator")
    log_in(page, moderator)
    page.wait_for_url("**/moderation/vetting/")
    row = page.locator("tr", has_text="newbie")
    assert "not vetted" in row.inner_text()
    row.get_by_label("Note").fill("Identity checked against a passport on a video call.")
    page.shot("vetting")
    row.get_by_role("button", name="Vet").click()
    page.wait_for_load_state()
    assert "newbie is now vetted" in page.inner_text("main")
    newbie.refresh_from_db()
    assert newbie.vetted and newbie.vetted_by_id == moderator.pk
    assert AuditEvent.objects.filter(action="account.vetted", actor="mo").exists()
    page.shot("vetted")
    assert page.js_errors == []
