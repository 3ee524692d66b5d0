"""QR codes as inline SVG: they scan back to the URL, carry a text alternative, and need
nothing the strict CSP forbids."""

import re

import pytest
from markupsafe import Markup

from app.qr import qr_svg
from tests.qr_reading import read_svg_qr, read_with_segno

URLS = [
    "http://127.0.0.1:5000/c/3q2-7wEVR5uPLNmxkr0S7A.f2OvsdcM0lt5-wA9qaOtVB0aYpw",
    "https://onboarding.acme-energy.example/c/AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBB",
]


@pytest.mark.parametrize("url", URLS)
def test_the_inline_svg_scans_back_to_the_url(url):
    svg = qr_svg(url, "QR code")

    assert read_svg_qr(svg) == url
    assert read_with_segno(url) == url


def test_the_svg_needs_no_style_and_no_image_request():
    svg = str(qr_svg(URLS[0], "QR code"))

    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert "style" not in svg  # neither a style attribute nor a <style> element
    assert "data:" not in svg and "href" not in svg and "<image" not in svg
    assert "<script" not in svg


def test_the_svg_has_a_text_alternative():
    svg = str(qr_svg(URLS[0], "QR code that opens the link"))

    assert 'role="img"' in svg
    assert 'aria-label="QR code that opens the link"' in svg
    assert "<title>QR code that opens the link</title>" in svg


def test_the_label_is_escaped():
    svg = qr_svg(URLS[0], 'Scan "me" <now> & go')

    assert isinstance(svg, Markup)
    assert 'aria-label="Scan &#34;me&#34; &lt;now&gt; &amp; go"' in svg
    assert "<now>" not in svg


def test_the_svg_has_a_size_and_a_white_quiet_zone():
    svg = str(qr_svg(URLS[0], "QR code", scale=6))

    width = re.search(r'width="(\d+)"', svg)
    view_box = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    assert width and view_box and width.group(1) == view_box.group(1)
    assert int(width.group(1)) % 6 == 0
    # The light modules (quiet zone included) are painted, so it scans on a dark page too.
    assert 'fill="#fff"' in svg
