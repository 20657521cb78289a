"""Charts for the statistics page and files: small inline SVG, built as text, every label escaped.

No plotting library and no script: a bar is a ``<rect>``, a label a ``<text>``. Labels come from
the database (source names, reviewer names), so everything is escaped before it is placed.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

FONT = "'WenQuanYi Zen Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
PALETTE = ("#2f6db5", "#d9822b", "#8a8f98", "#3c9d5d", "#b5452f", "#7a5bb5")


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    t = escape(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="{t}" font-family="{escape(FONT)}" font-size="12">'
        f"<title>{t}</title>"
        f'<text x="8" y="18" font-size="14" font-weight="bold">{t}</text>' + "".join(body) + "</svg>"
    )


def bar_chart(
    title: str, bars: Sequence[tuple[str, float]], width: int = 640, color: str = PALETTE[0]
) -> str:
    """Horizontal bars, one per (label, value): for labels, sources, findings, reviewers."""
    label_w, row_h, top = 180, 22, 30
    height = top + row_h * max(1, len(bars)) + 10
    top_value = max((v for _, v in bars), default=0) or 1
    span = width - label_w - 60
    body = []
    if not bars:
        body.append(f'<text x="8" y="{top + 14}" fill="#666">无数据</text>')
    for i, (label, value) in enumerate(bars):
        y = top + i * row_h
        w = round(span * value / top_value, 1)
        text = escape(str(label))
        body.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{text}</text>')
        body.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row_h - 6}" fill="{escape(color)}"><title>{text}: {_num(value)}</title></rect>'
        )
        body.append(f'<text x="{label_w + w + 4}" y="{y + 15}">{_num(value)}</text>')
    return _svg(width, height, title, body)


def stacked_columns(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    width: int = 640,
    height: int = 260,
) -> str:
    """Stacked columns, one per category (e.g. week), one colour per series (e.g. status), with a legend."""
    left, right, top, bottom = 40, 10, 46, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    top_value = max(totals, default=0) or 1
    body = []
    for j, (name, _) in enumerate(series):
        x = left + j * 110
        body.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>')
        body.append(f'<text x="{x + 14}" y="35">{escape(name)}</text>')
    body.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>'
    )
    body.append(f'<text x="{left - 4}" y="{top + 10}" text-anchor="end">{_num(top_value)}</text>')
    if not categories:
        body.append(f'<text x="{left + 8}" y="{top + 20}" fill="#666">无数据</text>')
    slot = plot_w / max(1, len(categories))
    bar_w = max(2.0, slot * 0.7)
    for i, category in enumerate(categories):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        for j, (name, values) in enumerate(series):
            h = plot_h * values[i] / top_value
            if h <= 0:
                continue
            y -= h
            tip = f"{escape(str(category))} {escape(name)}: {_num(values[i])}"
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}"'
                f' fill="{PALETTE[j % len(PALETTE)]}"><title>{tip}</title></rect>'
            )
        if len(categories) <= 16 or i % max(1, len(categories) // 8) == 0:
            body.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" font-size="10">'
                f"{escape(str(category))}</text>"
            )
    return _svg(width, height, title, body)
