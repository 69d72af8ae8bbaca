"""A bar chart as PNG, drawn with the standard library: Slack shows images, not chart specs.

Deliberately plain (bars, a baseline, one colour per series); the numbers and labels are
in the table posted with it.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

COLOURS = [(10, 108, 189), (127, 179, 224), (242, 153, 74), (120, 190, 120)]
BACKGROUND = (255, 255, 255)
AXIS = (160, 168, 176)


def bar_chart_png(chart: dict[str, Any], width: int = 640, height: int = 300) -> bytes:
    pixels = [[BACKGROUND] * width for _ in range(height)]
    labels: list[str] = chart.get("labels", [])
    series = list(chart.get("series", {}).values())
    top = max([1.0, *(float(v) for values in series for v in values)])
    margin, base = 20, height - 20
    band = (width - 2 * margin) / max(1, len(labels))
    for i in range(len(labels)):
        for s, values in enumerate(series):
            bar = (band - 8) / max(1, len(series))
            x0 = int(margin + i * band + 4 + s * bar)
            x1 = max(x0 + 1, int(x0 + bar - 2))
            y0 = int(base - (float(values[i]) / top) * (base - margin))
            for y in range(max(0, y0), base):
                pixels[y][x0:x1] = [COLOURS[s % len(COLOURS)]] * (x1 - x0)
    pixels[base][margin : width - margin] = [AXIS] * (width - 2 * margin)
    return _png(pixels, width, height)


def _png(pixels: list[list[tuple[int, int, int]]], width: int, height: int) -> bytes:
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
