"""Vega-Lite specs from chart data: the one place a chart's look is decided.

The console draws the spec with vega-embed (bundled under api/static/vendor/) and Slack
posts it rendered to PNG by vl-convert, so a chart reads the same in both: axes with
titles, a label under every bar and the value written on it.
"""

from __future__ import annotations

from typing import Any

from crmassist.crm.pipeline import ChartSpec

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
COLOURS = ["#0a6cbd", "#f2994a", "#6fbf73", "#9b6fc3", "#d9534f", "#7fb3e0"]


def vega_lite(chart: ChartSpec, width: int = 560, height: int = 240) -> dict[str, Any]:
    """A bar (or line) chart of `chart`: one colour per series, bars side by side when
    there are several (currencies are never stacked into one sum)."""
    several = len(chart.series) > 1
    values = [
        {"label": label, "series": name, "value": points[i]}
        for name, points in chart.series.items()
        for i, label in enumerate(chart.labels)
        if points[i] or not several  # a currency's 0 under a group is "none", not a bar
    ]
    top = max((abs(p) for points in chart.series.values() for p in points), default=0.0)
    number = ",.0f" if top >= 1000 else ",.2~f"
    x = {
        "field": "label",
        "type": "ordinal" if chart.kind == "line" else "nominal",
        "sort": chart.labels,
        "title": chart.x_label,
        "axis": {"labelAngle": -35 if len(chart.labels) > 6 else 0, "labelLimit": 140},
    }
    encoding: dict[str, Any] = {
        "x": x,
        "y": {"field": "value", "type": "quantitative", "title": chart.y_label,
              "axis": {"format": "~s" if top >= 10**6 else ",~r"}},
        "tooltip": [
            {"field": "label", "title": chart.x_label},
            {"field": "series", "title": "series"},
            {"field": "value", "title": chart.y_label, "format": number},
        ],
    }  # fmt: skip
    if several:
        encoding["color"] = {
            "field": "series",
            "type": "nominal",
            "title": None,
            "scale": {"range": COLOURS},
        }
        if chart.kind != "line":
            encoding["xOffset"] = {"field": "series"}
    mark: dict[str, Any] = (
        {"type": "line", "point": True, "color": COLOURS[0]}
        if chart.kind == "line"
        else {"type": "bar", "color": COLOURS[0]}
    )
    if several:
        mark.pop("color")
    text = {"type": "text", "dy": -6, "baseline": "bottom", "fontSize": 10, "color": "#1d2733"}
    return {
        "$schema": SCHEMA,
        "title": {"text": chart.title, "anchor": "start", "fontSize": 13},
        "width": width,
        "height": height,
        "background": "white",
        "data": {"values": values},
        "encoding": encoding,
        "layer": [
            {"mark": mark},
            {"mark": text, "encoding": {"text": {"field": "value", "format": number}}},
        ],
    }
