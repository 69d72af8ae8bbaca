"""One Vega-Lite spec per chart (crmassist.charts), drawn by vega-embed in the console and
rendered to PNG by vl-convert for Slack: axes with titles, every label, every value."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import vl_convert

from crmassist.charts import vega_lite
from crmassist.crm.pipeline import ChartSpec
from crmassist.slack.chart import VEGA_LITE_VERSION, bar_chart_png

VENDOR = Path(__file__).resolve().parents[1] / "src" / "crmassist" / "api" / "static" / "vendor"
STAGES = ChartSpec(
    title="sum of open deals by stage",
    x_label="stage",
    y_label="sum",
    labels=["negotiation", "proposal", "prospecting"],
    series={"USD": [250906.0, 237730.0, 0.0], "EUR": [0.0, 12500.5, 9000.0]},
)


def _texts(svg: str) -> list[str]:
    return [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_the_spec_holds_the_data_in_the_given_order_without_a_currency_gap() -> None:
    spec = vega_lite(STAGES)
    values = spec["data"]["values"]
    assert {"label": "proposal", "series": "EUR", "value": 12500.5} in values
    # A currency with nothing under a group draws no zero bar (the series fill gaps with 0).
    assert len(values) == 4 and all(v["value"] for v in values)
    assert spec["encoding"]["x"]["sort"] == STAGES.labels
    assert spec["encoding"]["x"]["title"] == "stage" and spec["encoding"]["y"]["title"] == "sum"
    assert spec["encoding"]["xOffset"] == {"field": "series"}  # side by side, never stacked
    assert spec["encoding"]["color"]["field"] == "series"


def test_one_series_keeps_its_zeros_and_needs_no_legend() -> None:
    spec = vega_lite(ChartSpec(title="t", x_label="stage", y_label="count",
                               labels=["a", "b"], series={"deals": [3.0, 0.0]}))  # fmt: skip
    assert [v["value"] for v in spec["data"]["values"]] == [3.0, 0.0]
    assert "color" not in spec["encoding"] and "xOffset" not in spec["encoding"]
    assert spec["layer"][1]["encoding"]["text"]["format"] == ",.2~f"


def test_the_rendering_shows_axes_labels_and_values() -> None:
    svg = vl_convert.vegalite_to_svg(vl_spec=vega_lite(STAGES), vl_version=VEGA_LITE_VERSION)
    texts = _texts(svg)
    for expected in ("sum of open deals by stage", "stage", "sum", *STAGES.labels,
                     "250,906", "237,730", "12,501", "9,000", "USD", "EUR"):  # fmt: skip
        assert expected in texts, (expected, texts)


def test_a_line_chart_for_a_trend() -> None:
    trend = ChartSpec(kind="line", title="CSAT", x_label="month", y_label="average CSAT",
                      labels=["2026-09", "2026-10"], series={"CSAT": [3.5, 4.25]})  # fmt: skip
    spec = vega_lite(trend)
    assert spec["layer"][0]["mark"]["type"] == "line"
    texts = _texts(vl_convert.vegalite_to_svg(vl_spec=spec, vl_version=VEGA_LITE_VERSION))
    assert {"2026-09", "2026-10", "3.5", "4.25", "average CSAT"} <= set(texts)


def test_slack_gets_the_same_spec_as_a_sharp_png() -> None:
    png = bar_chart_png(STAGES.model_dump())
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert width > 2 * 560 and height > 2 * 240  # the plot at scale 2, plus axes and legend


def test_the_console_bundles_the_vega_lite_that_slack_renders_with() -> None:
    bundled = (VENDOR / "vega-lite.min.js").read_text(encoding="utf-8")
    assert f'var n="{VEGA_LITE_VERSION}.0"' in bundled
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "marked.umd.js",
                 "purify.min.js"):  # fmt: skip
        assert (VENDOR / name).stat().st_size > 10_000 and f"| {name} |" in readme
