"""A video file for Chromium's fake camera: a barcode held still in front of the lens.

Chromium plays a Y4M file as the camera (`--use-fake-device-for-media-stream
--use-file-for-fake-video-capture=<file>.y4m`), looping it. Y4M is a text header, then per
frame `FRAME\\n` and the raw Y, U and V planes (4:2:0: U and V at half width and height).
The barcode is drawn by ZXing-C++ (the `zxing-cpp` package), the same library that reads it
in the browser, as grey levels on a white card; U and V stay neutral (no colour).
"""

from __future__ import annotations

from pathlib import Path

import zxingcpp

WHITE = 0xFF
NEUTRAL = 0x80  # no colour in U and V


def barcode_video(
    path: Path,
    text: str,
    barcode_format: zxingcpp.BarcodeFormat = zxingcpp.BarcodeFormat.Code128,
    *,
    width: int = 640,
    height: int = 480,
    scale: int = 2,
    frames: int = 5,
) -> Path:
    """Write a Y4M video of `text` as a barcode in the middle of a white frame; return `path`."""
    image = memoryview(zxingcpp.create_barcode(text, barcode_format).to_image(scale=scale))
    rows, columns = image.shape
    if columns > width or rows > height:
        raise ValueError(f"a {columns}x{rows} barcode does not fit a {width}x{height} frame")
    pixels = image.tobytes()
    luma = bytearray([WHITE]) * (width * height)
    top, left = (height - rows) // 2, (width - columns) // 2
    for row in range(rows):
        start = (top + row) * width + left
        luma[start : start + columns] = pixels[row * columns : (row + 1) * columns]
    chroma = bytes([NEUTRAL]) * ((width // 2) * (height // 2))
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)
    return path
