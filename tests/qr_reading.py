"""Reading the QR codes the app draws, as a phone's camera would (zxing-cpp).

`read_svg_qr` rasterises the inline SVG that `app.qr.qr_svg` puts in a page (segno's
path of horizontal runs, one module high) and decodes the picture: it proves the markup
a person sees scans, not only that segno can draw the same data.
"""

from __future__ import annotations

import io
import re

import segno
import zxingcpp
from PIL import Image, ImageDraw

_SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.S)
_DARK_PATH = re.compile(r'<path\b[^>]*\bstroke="#000"[^>]*\bd="([^"]+)"')
_VIEWBOX = re.compile(r'viewBox="0 0 (\d+) (\d+)"')
_SCALE = re.compile(r"scale\((\d+)\)")
_COMMAND = re.compile(r"([MmHhVv])\s*(-?\d+(?:\.\d+)?)(?:[\s,]+(-?\d+(?:\.\d+)?))?")


def decode(image: Image.Image) -> list[str]:
    """The texts of every QR code in the picture."""
    return [
        result.text
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode
    ]


def svgs_in(html: str) -> list[str]:
    return _SVG.findall(html)


def rasterise(svg: str, pixels_per_module: int = 8) -> Image.Image:
    """The SVG's dark modules drawn black on white (its quiet zone included)."""
    match = _DARK_PATH.search(svg)
    assert match, "no dark path in the SVG"
    size = _VIEWBOX.search(svg)
    scale = _SCALE.search(svg)
    assert size and scale, "the SVG has no viewBox or scale"
    modules = int(size.group(1)) // int(scale.group(1))
    image = Image.new("L", (modules * pixels_per_module,) * 2, 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, first, second in _COMMAND.findall(match.group(1)):
        if command in "Mm":
            dx, dy = float(first), float(second)
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        elif command in "Hh":
            end = float(first) if command == "H" else x + float(first)
            # A stroke one module wide, centred on y (y is the middle of a module row).
            top = (y - 0.5) * pixels_per_module
            draw.rectangle(
                (
                    min(x, end) * pixels_per_module,
                    top,
                    max(x, end) * pixels_per_module - 1,
                    top + pixels_per_module - 1,
                ),
                fill=0,
            )
            x = end
        else:
            raise AssertionError(f"unexpected path command {command}")
    return image


def read_svg_qr(svg: str) -> str:
    [text] = decode(rasterise(svg))
    return text


def read_with_segno(data: str) -> str:
    """Draw `data` as segno would for us, as a PNG, and read it back."""
    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buffer, kind="png", scale=6, border=4)
    buffer.seek(0)
    [text] = decode(Image.open(buffer))
    return text
