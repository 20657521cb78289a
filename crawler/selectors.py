"""A source's optional ``selectors``: the page's title, text, time and author picked by CSS/XPath.

The crawler evaluates them on the page it fetched (the rendered DOM for browser pages) and hands
the results over in ``FetchedPage.fields``; fields a source does not select are left to the
pipeline's default extractor.
"""

from __future__ import annotations

from parsel import Selector

from crawler.sources import SELECTOR_FIELDS, Selectors

MAX_FIELD_CHARS = 200_000


def _query(root: Selector, expression: str) -> list[str]:
    if expression.startswith("xpath:"):
        nodes = root.xpath(expression[len("xpath:") :])
    else:
        nodes = root.css(expression.removeprefix("css:"))
    texts = []
    for node in nodes:
        value = node.get() if isinstance(node.root, str) else " ".join(node.xpath(".//text()").getall())
        value = " ".join(value.split())
        if value:
            texts.append(value)
    return texts


def select_fields(html: str, selectors: Selectors | None) -> dict[str, str]:
    """{field: text} for each selector that matched (matches joined by newlines, bounded)."""
    if selectors is None:
        return {}
    root = Selector(text=html)
    found: dict[str, str] = {}
    for name in SELECTOR_FIELDS:
        expression = getattr(selectors, name)
        if not expression:
            continue
        texts = _query(root, expression)
        if texts:
            found[name] = "\n".join(texts)[:MAX_FIELD_CHARS]
    return found
