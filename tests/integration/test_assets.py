"""Static files: versioned URLs that browsers may keep for a year."""

import os
import re

from flask import url_for

from app.templating import _version_static_urls


def test_pages_link_static_files_by_content_hash(client):
    page = client.get("/auth/login")
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert links
    for link in links:
        assert re.search(r"\?v=[0-9a-f]{12}$", link), link
        with client.get(link) as answer:
            assert answer.status_code == 200
            assert "max-age=31536000" in answer.headers["Cache-Control"]


def _edited_css_urls(app, tmp_path) -> tuple[str, str]:
    """The URL of a stylesheet, before and after the file changed."""
    static = tmp_path / "static"
    static.mkdir()
    (static / "a.css").write_text("a { color: red }")
    app.static_folder = str(static)
    _version_static_urls(app)
    with app.test_request_context():
        first = url_for("static", filename="a.css")
        (static / "a.css").write_text("a { color: blue }")
        os.utime(static / "a.css", (1, 1))
        return first, url_for("static", filename="a.css")


def test_in_development_a_changed_file_gets_a_new_url_at_once(app, tmp_path):
    app.debug = True
    first, then = _edited_css_urls(app, tmp_path)
    assert then != first


def test_otherwise_a_files_hash_is_read_once_per_process(app, tmp_path):
    # Files change with a deploy, which starts new workers: a page does not stat them.
    assert not app.debug
    first, then = _edited_css_urls(app, tmp_path)
    assert then == first and "?v=" in first


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    with client.get(response.location) as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
