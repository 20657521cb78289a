"""Evidence highlighting: the document text cut into plain and highlighted segments.

The template prints each segment through Jinja's autoescaping, so crawled text can never become
markup; there is no HTML built here and no ``|safe`` anywhere. Spans may overlap: a segment
carries every label whose span covers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adwatch.labels import LABELS, label_zh


@dataclass(frozen=True)
class Segment:
    text: str
    labels: tuple[str, ...] = ()  # label ids, only ids AdWatch knows (safe for CSS class names)
    rules: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        names = "、".join(label_zh(x) for x in self.labels)
        return f"{names}（{'；'.join(self.rules)}）" if self.rules else names

    @property
    def css(self) -> str:
        return " ".join(f"ev-{x}" for x in self.labels)


def valid_spans(text: str, evidence: list[Any]) -> list[dict[str, Any]]:
    """Spans that point inside ``text`` with a known label; the rest are dropped, not trusted."""
    spans = []
    for ev in evidence or []:
        if not isinstance(ev, dict):
            continue
        start, end, label = ev.get("start"), ev.get("end"), ev.get("label")
        if not isinstance(start, int) or not isinstance(end, int) or label not in LABELS:
            continue
        if 0 <= start < end <= len(text):
            spans.append({"start": start, "end": end, "label": label, "rule": str(ev.get("rule") or "")[:80]})
    return spans


def segments(text: str, evidence: list[Any]) -> list[Segment]:
    """``text`` as consecutive segments; highlighted ones carry their labels and rules."""
    spans = valid_spans(text, evidence)
    cuts = sorted({0, len(text), *(s["start"] for s in spans), *(s["end"] for s in spans)})
    out: list[Segment] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        covering = [s for s in spans if s["start"] <= a and b <= s["end"]]
        labels = tuple(dict.fromkeys(s["label"] for s in covering))
        rules = tuple(dict.fromkeys(s["rule"] for s in covering if s["rule"]))
        out.append(Segment(text[a:b], labels, rules))
    return out
