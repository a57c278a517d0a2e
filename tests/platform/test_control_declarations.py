"""A generation control is declared once (generation.controls.CONTROLS): a control
added there shows in the portal form, the API's OpenAPI schema and the command-line
flags, and is checked by name on every path without another edit."""
import pytest
from django.core.management import load_command_class
from django.urls import reverse

from generation import controls as declarations
from generation.controls import Control, Controls
from generation.errors import InvalidControl
from jobs.management.control_flags import controls_from_options
from tests.platform.conftest import as_user


@pytest.fixture
def mouth_open(monkeypatch):
    """One more control, a number from 0 to 1, declared the way every control is."""
    extra = Control("mouth_open", "number", 0.5, "Mouth opening", "How far the mouth opens at rest.",
                    low=0.0, high=1.0)
    monkeypatch.setattr(declarations, "CONTROLS", declarations.CONTROLS + (extra,))
    return extra


@pytest.mark.django_db
def test_a_declared_control_reaches_the_portal_form(client, creator, mouth_open):
    client.force_login(creator)
    page = client.get(reverse("portal:new_job")).content.decode()
    assert 'name="mouth_open"' in page and "Mouth opening" in page and "How far the mouth opens" in page
    assert 'min="0.0"' in page.split('name="mouth_open"')[1].split(">")[0]


@pytest.mark.django_db
def test_a_declared_control_reaches_the_api_schema(client, mouth_open):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    field = schema["components"]["schemas"]["JobCreateRequest"]["properties"]["mouth_open"]
    assert field["type"] == "number" and (field["minimum"], field["maximum"], field["default"]) == (0, 1, 0.5)
    assert field["description"] == "How far the mouth opens at rest."


def test_a_declared_control_reaches_the_command_line(mouth_open):
    command = load_command_class("jobs", "generate")
    parser = command.create_parser("manage.py", "generate")
    assert "--mouth-open" in parser.format_help() and "0 to 1; default 0.5" in " ".join(parser.format_help().split())
    opts = vars(parser.parse_args(["--creator", "ana", "--subject", "Bea", "--photo", "p.jpg", "--audio", "a.wav",
                                   "--mouth-open", "0.25", "--size", "256"]))
    assert controls_from_options(opts) == {"mouth_open": "0.25", "size": "256"}
    assert Controls.from_mapping(controls_from_options(opts)).mouth_open == 0.25


@pytest.mark.django_db
def test_a_declared_control_is_checked_by_name_everywhere(creator, mouth_open):
    with pytest.raises(InvalidControl) as err:
        Controls.from_mapping({"mouth_open": "1.5"})
    assert err.value.field == "mouth_open" and "mouth-open must be a number from 0 to 1" in err.value.message
    assert Controls().mouth_open == 0.5 and Controls().as_dict()["mouth_open"] == 0.5
    r = as_user(creator).post("/api/jobs/", {"mouth_open": "7"}, format="multipart")
    assert r.status_code == 400 and "mouth-open must be a number from 0 to 1" in r.json()["mouth_open"][0]


@pytest.mark.django_db(transaction=True)
def test_a_declared_control_is_stored_with_the_job(creator, consenting_subject, portrait, short_speech, mouth_open,
                                                   empty_broker):
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        r = as_user(creator).post("/api/jobs/", {"subject": consenting_subject.pk, "photo": p, "audio": a,
                                                 "purpose": "test", "mouth_open": "0.75"}, format="multipart")
    assert r.status_code == 202, r.content   # accepted, checking at the intake
    assert r.json()["controls"]["mouth_open"] == 0.75


def test_every_control_declares_a_default_it_accepts():
    for c in declarations.CONTROLS:
        assert c.check(c.default) == c.default or c.kind == "pair", c.name
        assert c.clean(c.text(c.default)) == c.check(c.default), c.name
