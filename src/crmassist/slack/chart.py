"""A chart as PNG for Slack, which shows images, not chart specs.

The picture is the console's Vega-Lite spec (`crmassist.charts`) rendered by vl-convert
(Vega and Vega-Lite compiled into the wheel, no browser or Node), so both show the same
axes, labels and values.
"""

from __future__ import annotations

from typing import Any

import vl_convert

from crmassist.charts import vega_lite
from crmassist.crm.pipeline import ChartSpec

VEGA_LITE_VERSION = "5.21"
"""The bundled console's Vega-Lite (api/static/vendor/README.md), so both draw alike."""


def bar_chart_png(chart: dict[str, Any], scale: float = 2.0) -> bytes:
    """`chart` is a reply's chart (a `ChartSpec` as JSON); `scale` 2 stays sharp on
    high-density screens."""
    spec = vega_lite(ChartSpec.model_validate(chart))
    png: bytes = vl_convert.vegalite_to_png(vl_spec=spec, scale=scale, vl_version=VEGA_LITE_VERSION)
    return png
