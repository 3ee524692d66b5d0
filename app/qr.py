"""QR codes drawn by segno as inline SVG, for pages that hand a link to a phone.

Inline, so no image request and no data: URL; drawn with presentation attributes
(fill, stroke) only, so it carries no style attribute or element and works under the
strict CSP (`style-src 'self'`). The SVG has role="img" and a text alternative; the macro
`qr_code` in templates/macros/qr.html shows the link as text beside it.
"""

from __future__ import annotations

import re

import segno
from flask import Flask
from markupsafe import Markup, escape

# Module size in CSS pixels: a version 4-5 code (a consent link) is about 200-230 px wide,
# large enough to scan from a tablet held at arm's length.
DEFAULT_SCALE = 6
_VIEWBOX = re.compile(r'viewBox="0 0 (\d+) (\d+)"')


def qr_svg(data: str, label: str, *, scale: int = DEFAULT_SCALE) -> Markup:
    """`data` (a URL) as an inline SVG QR code whose accessible name is `label`.

    Dark modules on a white square with the standard four-module quiet zone, so it scans on
    a dark page too; error correction M (15 %) or better, for a glossy screen in sunlight.
    """
    code = segno.make(str(data), error="m", micro=False)
    svg = code.svg_inline(
        scale=scale,
        dark="#000",
        light="#fff",
        border=4,
        omitsize=True,  # a viewBox, so CSS may shrink it on a narrow screen
        svgclass="qr-code__image",
        lineclass=None,
    )
    size = _VIEWBOX.search(svg)
    width, height = (size.group(1), size.group(2)) if size else ("", "")
    name = escape(label)
    opening = (
        f'<svg role="img" aria-label="{name}" width="{width}" height="{height}" focusable="false" '
    )
    svg = svg.replace("<svg ", opening, 1)
    svg = svg.replace(">", f"><title>{name}</title>", 1)
    return Markup(svg)


def init_app(app: Flask) -> None:
    app.add_template_filter(qr_svg, "qr_svg")
