"""Crawl requests as JSON, for the shared Redis queue.

scrapy-redis serialises requests with pickle by default: anyone who can write to Redis could
then run code in every worker. Here a request travels as plain JSON: bytes (bodies, headers) as
base64, callbacks as *names* resolved against the spider and refused unless the spider lists
them in ``REMOTE_CALLBACKS``, no ``_class`` (only plain ``scrapy.Request``), and the browser's
per-request settings (which hold Python functions) rebuilt by the spider on arrival instead of
travelling. Anything else that is not JSON data is refused at once, on the sending side.

``dumps``/``loads`` are the serializer module scrapy-redis accepts (``SCHEDULER_SERIALIZER``);
``encode_request``/``decode_request`` are what the queue uses.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import scrapy

MAX_ENCODED_BYTES = 1_000_000  # a request is small; anything bigger in Redis is not ours
BYTES = "$b"  # {"$b": base64} is a bytes value
PAIRS = "$d"  # {"$d": [[key, value], ...]} is a dict whose keys are not plain strings
REQUEST_FIELDS = (
    "url",
    "method",
    "headers",
    "body",
    "cookies",
    "meta",
    "encoding",
    "priority",
    "dont_filter",
    "flags",
    "cb_kwargs",
)
# Meta the sending worker keeps to itself: Playwright's page methods (Python functions, rebuilt
# by the receiving spider from its source) and per-process bookkeeping.
LOCAL_META_PREFIXES = ("playwright", "_")
LOCAL_META = frozenset({"download_latency", "download_slot", "depth_stats"})


class CodecError(ValueError):
    """A request that cannot travel through Redis, or data in Redis that is not a request."""


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray):
        return {BYTES: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, list | tuple):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v, f"{where}.{k}") for k, v in value.items()}
        return {PAIRS: [[_encode(k, where), _encode(v, f"{where}.{k!r}")] for k, v in value.items()]}
    raise CodecError(f"{where}: a {type(value).__name__} cannot travel through Redis (JSON data only)")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {BYTES}:
            return base64.b64decode(value[BYTES], validate=True)
        if set(value) == {PAIRS}:
            return {_hashable(_decode(k)): _decode(v) for k, v in value[PAIRS]}
        return {k: _decode(v) for k, v in value.items()}
    return value


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def dumps(obj: Any) -> bytes:
    """JSON bytes of ``obj`` (dicts, lists, strings, numbers, bytes); refuses anything else."""
    return json.dumps(_encode(obj, "request"), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str) -> Any:
    """The object ``dumps`` made; refuses anything that is not JSON (pickle above all)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_ENCODED_BYTES:
        raise CodecError(f"queued request of {len(data)} bytes is larger than {MAX_ENCODED_BYTES}")
    if data[:1] == b"\x80":
        raise CodecError("queued request is a pickle; AdWatch only reads JSON requests (refused)")
    try:
        return _decode(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError) as exc:
        raise CodecError(f"queued request is not AdWatch JSON: {exc}") from None


def _callback_name(spider: scrapy.Spider, func: Any, kind: str) -> str | None:
    if func is None:
        return None
    name = getattr(func, "__name__", None)
    allowed = getattr(spider, "REMOTE_CALLBACKS", frozenset())
    if name not in allowed or getattr(spider, name, None) != func:
        raise CodecError(f"{kind} {func!r} is not one of the spider's remote callbacks {sorted(allowed)}")
    return name


def encode_request(request: scrapy.Request, spider: scrapy.Spider) -> bytes:
    """The JSON bytes for a request of ``spider``."""
    if type(request) is not scrapy.Request:
        raise CodecError(f"only plain scrapy.Request travels through Redis, not {type(request).__name__}")
    data: dict[str, Any] = {name: getattr(request, name) for name in REQUEST_FIELDS}
    data["headers"] = [[k, v] for k, v in request.headers.items()]
    data["meta"] = {
        k: v for k, v in request.meta.items() if k not in LOCAL_META and not k.startswith(LOCAL_META_PREFIXES)
    }
    data["callback"] = _callback_name(spider, request.callback, "callback")
    data["errback"] = _callback_name(spider, request.errback, "errback")
    return dumps(data)


def decode_request(raw: bytes | str, spider: scrapy.Spider) -> scrapy.Request:
    """A request from the queue, its callbacks resolved by name against ``spider``."""
    data = loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        raise CodecError("queued request is not an object with a url")
    unknown = set(data) - {*REQUEST_FIELDS, "callback", "errback"}
    if unknown:
        raise CodecError(f"queued request has unknown fields {sorted(unknown)}")
    allowed = getattr(spider, "REMOTE_CALLBACKS", frozenset())
    kwargs: dict[str, Any] = {k: data[k] for k in REQUEST_FIELDS if k in data}
    for kind in ("callback", "errback"):
        name = data.get(kind)
        if name is None:
            continue
        if not isinstance(name, str) or name not in allowed:
            raise CodecError(f"queued request names {kind} {name!r}, not one of {sorted(allowed)}")
        kwargs[kind] = getattr(spider, name)
    headers = kwargs.get("headers") or []
    if not isinstance(headers, list):
        raise CodecError("queued request headers are not a list")
    kwargs["headers"] = [(k, v) for k, v in headers]
    meta = kwargs.get("meta") or {}
    if not isinstance(meta, dict):
        raise CodecError("queued request meta is not an object")
    rebuild = getattr(spider, "local_meta", None)
    if rebuild is not None:
        meta.update(rebuild(meta))
    kwargs["meta"] = meta
    try:
        return scrapy.Request(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CodecError(f"queued request cannot be rebuilt: {exc}") from None
