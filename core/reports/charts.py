"""Report charts as inline SVG, drawn by pygal: no JavaScript, no external file, so a chart
shows offline, in a saved page and in mail clients that render SVG. pygal's tooltip script
and comments are stripped; the values stay in the SVG (``<desc>``) for screen readers."""

from __future__ import annotations

import re

import pygal
from pygal.style import Style

from core.types import ReportChart

__all__ = ["chart_svg"]

_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#333333",
    foreground_strong="#111111",
    foreground_subtle="#d9d9d9",
    colors=("#c8102e", "#8c8c8c", "#1f77b4", "#2ca02c", "#ff7f0e"),
    font_family='"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif',
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    value_font_size=10,
)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _text(mapping: object, locale: str, fallback: str) -> str:
    if isinstance(mapping, dict):
        return str(mapping.get(locale) or mapping.get("zh-CN") or fallback)
    return fallback


def chart_svg(chart: ReportChart, locale: str, *, width: int = 640, height: int = 260) -> str:
    """The chart as an ``<svg>`` element (markup to embed as is)."""
    kind = pygal.Line if chart.kind == "line" else pygal.Bar
    figure = kind(
        style=_STYLE,
        width=width,
        height=height,
        js=[],  # no <script src=…> (pygal would load its tooltips from a CDN)
        disable_xml_declaration=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=max(1, len(chart.series)),
        show_y_guides=True,
        print_values=False,
        dots_size=3,
        margin=8,
        truncate_label=-1,
        x_label_rotation=0,
        explicit_size=False,
    )
    labels = chart.label_text.get(locale) if chart.label_text else None
    figure.x_labels = list(labels or chart.labels)
    for name, values in chart.series.items():
        figure.add(_text(chart.series_labels.get(name), locale, name), list(values))
    svg = figure.render(is_unicode=True)
    return _COMMENT.sub("", _SCRIPT.sub("", svg))
