"""The API's Swagger page works offline: with every request outside the live server
refused, it renders the schema's operations from the project's own static files."""
from urllib.parse import urlparse

import pytest


@pytest.mark.django_db(transaction=True)
def test_docs_page_renders_without_the_internet(new_page, live_server):
    page = new_page("docs")
    host = urlparse(live_server.url).netloc
    outside = []

    def only_local(route):
        if urlparse(route.request.url).netloc == host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()
    page.route("**/*", only_local)
    page.goto("/api/docs/")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .opblock").count() > 20
    assert "/api/jobs/" in page.inner_text(".swagger-ui")
    page.shot("swagger")
    assert outside == [] and page.js_errors == []
