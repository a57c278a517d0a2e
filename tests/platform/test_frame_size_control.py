"""The size control (16:9 and 9:16 besides the squares) reaches the portal, the API's
schema and the command line from its one declaration, and bad sizes are refused by name."""
import pytest
from django.core.management import load_command_class
from django.urls import reverse

from generation.controls import Controls
from jobs.management.control_flags import controls_from_options
from tests.platform.conftest import as_user


@pytest.mark.django_db
def test_the_portal_offers_every_size(client, creator):
    client.force_login(creator)
    page = client.get(reverse("portal:new_job")).content.decode()
    select = page.split('name="size"')[1].split("</select>")[0]
    for value, label in (("512x512", "512 x 512"), ("1280x720", "1280 x 720 (16:9)"),
                         ("1080x1920", "1080 x 1920 (9:16)")):
        assert f'value="{value}"' in select and label in select


@pytest.mark.django_db
def test_the_api_schema_lists_the_sizes(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    field = schema["components"]["schemas"]["JobCreateRequest"]["properties"]["size"]
    enum = schema["components"]["schemas"]["SizeEnum"]["enum"]    # the choices, as a named enum
    assert field["allOf"] == [{"$ref": "#/components/schemas/SizeEnum"}]
    assert {"1280x720", "720x1280", "1920x1080", "1080x1920", "256x256"} <= set(enum)
    assert field["default"] == "512x512"


def test_the_command_line_takes_wxh():
    parser = load_command_class("jobs", "generate").create_parser("manage.py", "generate")
    assert "1920x1080" in parser.format_help()
    opts = vars(parser.parse_args(["--creator", "ana", "--subject", "Bea", "--photo", "p.jpg", "--audio", "a.wav",
                                   "--size", "1920x1080"]))
    c = Controls.from_mapping(controls_from_options(opts))
    assert (c.width, c.height) == (1920, 1080)


@pytest.mark.django_db
def test_a_bad_size_is_refused_by_name(creator):
    r = as_user(creator).post("/api/jobs/", {"size": "1000x700"}, format="multipart")
    assert r.status_code == 400 and "size must be one of" in r.json()["size"][0]
    assert "1280x720" in r.json()["size"][0]
