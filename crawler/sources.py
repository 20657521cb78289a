"""Source definitions: the schema, and reading it from YAML with file/line/field in every error.

A source is data, never code: YAML is read with the safe loader, anchors/aliases are refused,
unknown fields are refused, every URL, regex, selector and cron expression is checked here, so a
definition that passes :func:`parse_source` can be crawled without further checks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from croniter import croniter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from adwatch.errors import AdWatchError
from adwatch.timeutil import CHINA

KINDS = ("list", "sitemap", "feed", "search")
RENDERS = ("static", "browser")
MAX_FILE_BYTES = 256 * 1024
NAME_RE = re.compile(r"^\w[\w.-]{0,99}$")
SELECTOR_FIELDS = ("title", "text", "published_at", "author")

# Link hops followed from an entry page when a source does not say (entry pages are: the start
# pages of a list, the pages a sitemap or feed lists, the result pages of a search).
DEFAULT_MAX_DEPTH = {"list": 2, "sitemap": 0, "feed": 0, "search": 1}


@dataclass(frozen=True)
class SourceProblem:
    """One thing wrong with a source definition, located as precisely as the input allows."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class SourcesInvalid(AdWatchError):
    """One or more source definitions are wrong; nothing was imported."""

    def __init__(self, problems: list[SourceProblem]) -> None:
        self.problems = problems
        lines = "\n  ".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} problem(s) in source definitions, nothing imported:\n  {lines}")


# ---------------------------------------------------------------------------------------------
# Field checks
# ---------------------------------------------------------------------------------------------


def check_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{value!r} is not an http(s) URL")
    if not parts.hostname:
        raise ValueError(f"{value!r} has no host")
    if parts.username or parts.password:
        raise ValueError(f"{value!r} carries credentials; sources must not hold secrets")
    return value


def check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from None
    return value


def check_selector(value: str) -> str:
    """A CSS selector, or an XPath expression written ``xpath:…``."""
    from cssselect import SelectorError
    from lxml import etree
    from parsel.csstranslator import HTMLTranslator

    if value.startswith("xpath:"):
        try:
            etree.XPath(value[len("xpath:") :])
        except etree.XPathError as exc:
            raise ValueError(f"{value!r} is not a valid XPath expression: {exc}") from None
    else:
        try:
            HTMLTranslator().css_to_xpath(value.removeprefix("css:"))
        except SelectorError as exc:
            raise ValueError(f"{value!r} is not a valid CSS selector: {exc}") from None
    return value


def check_cron(value: str) -> str:
    """Five-field cron (minute hour day month weekday), read in China time."""
    fields = value.split()
    if len(fields) != 5:
        raise ValueError(
            f"{value!r} is not a 5-field cron expression (minute hour day-of-month month day-of-week)"
        )
    if not croniter.is_valid(value):
        raise ValueError(f"{value!r} is not a valid cron expression")
    try:
        croniter(value, dt.datetime.now(CHINA)).get_next(dt.datetime)
    except Exception as exc:  # croniter raises several types for impossible dates
        raise ValueError(f"{value!r} never fires: {exc}") from None
    return value


def check_domain(value: str) -> str:
    value = value.strip().lower()
    if not value or "/" in value or ":" in value or " " in value:
        raise ValueError(f"{value!r} is not a bare host name (no scheme, port or path)")
    return value


# ---------------------------------------------------------------------------------------------
# The schema
# ---------------------------------------------------------------------------------------------

Url = Annotated[str, AfterValidator(check_url)]
Regex = Annotated[str, AfterValidator(check_regex)]
Selector = Annotated[str, AfterValidator(check_selector)]
Domain = Annotated[str, AfterValidator(check_domain)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class FollowRules(_Strict):
    """Which links are followed: regexes on the absolute URL (both lists empty = follow all)."""

    allow: list[Regex] = Field(default_factory=list)
    deny: list[Regex] = Field(default_factory=list)

    def allows(self, url: str) -> bool:
        if self.deny and any(re.search(p, url) for p in self.deny):
            return False
        return not self.allow or any(re.search(p, url) for p in self.allow)


class Selectors(_Strict):
    """Optional selectors for the page's fields; the default extractor is used for the rest."""

    title: Selector | None = None
    text: Selector | None = None
    published_at: Selector | None = None
    author: Selector | None = None


class SourceDef(_Strict):
    """One source. See ``sources/README.md`` for what each field means, with examples."""

    name: str
    kind: Literal["list", "sitemap", "feed", "search"]
    description: str = ""
    start_urls: list[Url] = Field(default_factory=list)
    search_url: str | None = None
    keywords: list[str] = Field(default_factory=list)
    keyword_encoding: str = "utf-8"
    allowed_domains: list[Domain] = Field(default_factory=list)
    follow: FollowRules = Field(default_factory=FollowRules)
    selectors: Selectors | None = None
    render: Literal["static", "browser"] = "static"
    wait_for: Selector | None = None
    screenshot: bool = True
    delay: float | None = Field(default=None, ge=0, le=600)
    concurrency: int | None = Field(default=None, ge=1, le=64)
    max_pages: int = Field(default=1000, ge=1, le=10_000_000)
    max_depth: int | None = Field(default=None, ge=0, le=50)
    schedule: str | None = None
    enabled: bool = True
    ignore_robots: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError(
                f"{v!r} is not a valid name: use letters, digits, '_', '-' or '.', at most 100 characters"
            )
        return v

    @field_validator("search_url")
    @classmethod
    def _search_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if v.count("{keyword}") != 1:
            raise ValueError(f"{v!r} must contain the placeholder {{keyword}} exactly once")
        check_url(v.replace("{keyword}", "k"))
        return v

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, v: list[str]) -> list[str]:
        cleaned = [k.strip() for k in v]
        if any(not k for k in cleaned):
            raise ValueError("keywords must not be empty strings")
        return cleaned

    @field_validator("keyword_encoding")
    @classmethod
    def _encoding(cls, v: str) -> str:
        import codecs

        try:
            return codecs.lookup(v).name
        except LookupError:
            raise ValueError(f"{v!r} is not a known text encoding (e.g. utf-8, gbk, big5)") from None

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str | None) -> str | None:
        return None if v in (None, "") else check_cron(v)

    # -- derived values ----------------------------------------------------------------------

    @property
    def depth_limit(self) -> int:
        return DEFAULT_MAX_DEPTH[self.kind] if self.max_depth is None else self.max_depth

    @property
    def entry_urls(self) -> list[str]:
        """What the crawl starts from: start URLs, or the search URL expanded over the keywords."""
        if self.kind == "search" and self.search_url:
            from urllib.parse import quote

            return [
                self.search_url.replace("{keyword}", quote(k, safe="", encoding=self.keyword_encoding))
                for k in self.keywords
            ]
        return list(self.start_urls)

    @property
    def domains(self) -> list[str]:
        """Allowed host names: as configured, or the hosts of the entry URLs."""
        if self.allowed_domains:
            return list(self.allowed_domains)
        hosts = {urlsplit(u).hostname for u in [*self.start_urls, self.search_url or ""] if u}
        return sorted(h for h in hosts if h)

    def to_definition(self) -> dict[str, Any]:
        """JSON for ``Source.definition``: explicit values only, so defaults can evolve."""
        return self.model_dump(mode="json", exclude_unset=True)


def consistency_problems(defn: SourceDef) -> list[tuple[str, str]]:
    """Checks across fields, as (field, message)."""
    problems: list[tuple[str, str]] = []
    if defn.kind == "search":
        if not defn.search_url:
            problems.append(("search_url", "kind search needs a search_url containing {keyword}"))
        if not defn.keywords:
            problems.append(("keywords", "kind search needs at least one keyword"))
        if defn.start_urls:
            problems.append(("start_urls", "kind search does not use start_urls; put the URL in search_url"))
    else:
        if not defn.start_urls:
            problems.append(("start_urls", f"kind {defn.kind} needs at least one start URL"))
        if defn.search_url or defn.keywords:
            field = "search_url" if defn.search_url else "keywords"
            problems.append((field, f"only kind search uses {field}"))
    if defn.render == "static" and defn.wait_for:
        problems.append(("wait_for", "wait_for needs render: browser"))
    if defn.domains:
        for url in defn.entry_urls:
            host = urlsplit(url).hostname or ""
            if not any(host == d or host.endswith("." + d) for d in defn.domains):
                field = "search_url" if defn.kind == "search" else "start_urls"
                problems.append((field, f"{url} is outside allowed_domains {defn.domains}"))
    return problems


# ---------------------------------------------------------------------------------------------
# Reading YAML with line numbers
# ---------------------------------------------------------------------------------------------


def _line_of(root: yaml.Node | None, loc: Iterable[str | int]) -> int | None:
    """The line (1-based) of the node at ``loc``, or of its nearest existing ancestor."""
    if root is None:
        return None
    node = root
    line = node.start_mark.line + 1
    for part in loc:
        nxt: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    nxt = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
            line = nxt.start_mark.line + 1
        if nxt is None:
            return line
        node = nxt
    return line


def _duplicate_keys(node: yaml.Node | None, path: tuple[str, ...] = ()) -> list[tuple[str, int]]:
    """PyYAML keeps the last of two equal keys silently; a definition must not depend on that."""
    found: list[tuple[str, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                found.append((".".join((*path, name)), key.start_mark.line + 1))
            seen.add(name)
            found += _duplicate_keys(value, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found += _duplicate_keys(item, (*path, str(i)))
    return found


def _field_name(loc: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-")))


def _pydantic_message(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see sources/README.md for the fields)"
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        return f"{err['msg'].removeprefix('Input should be ')}; got {err.get('input')!r}"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _by_line(problems: list[SourceProblem]) -> list[SourceProblem]:
    return sorted(problems, key=lambda p: p.line or 0)


def parse_source(
    text: str, file: str, default_name: str | None = None
) -> tuple[SourceDef | None, list[SourceProblem]]:
    """Parse one YAML document into a SourceDef, or return every problem found in it."""

    def problem(line: int | None, field: str, message: str) -> SourceProblem:
        return SourceProblem(file, line, field, message)

    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        return None, [problem(None, "", f"file is larger than {MAX_FILE_BYTES // 1024} KB")]
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return None, [
                    problem(event.start_mark.line + 1, "", "YAML anchors and aliases are not allowed here")
                ]
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [problem(mark.line + 1 if mark else None, "", f"malformed YAML: {reason}")]
    if data is None:
        return None, [problem(1, "", "empty file: a source needs at least name, kind and start_urls")]
    if not isinstance(data, dict):
        return None, [problem(_line_of(root, ()), "", "a source must be a mapping of field: value")]

    problems = [problem(line, key, "duplicate field") for key, line in _duplicate_keys(root)]
    if "name" not in data and default_name is not None:
        data = {"name": default_name, **data}
    try:
        defn = SourceDef.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(problem(_line_of(root, loc), _field_name(loc), _pydantic_message(err)))
        return None, _by_line(problems)
    for field, message in consistency_problems(defn):
        problems.append(problem(_line_of(root, (field,)), field, message))
    return (None if problems else defn), _by_line(problems)


def load_source_file(path: Path) -> tuple[SourceDef | None, list[SourceProblem]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [SourceProblem(str(path), None, "", f"cannot read: {exc.strerror}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [
            SourceProblem(str(path), None, "", f"not UTF-8 text (byte {exc.start}); save it as UTF-8")
        ]
    return parse_source(text, str(path), default_name=path.stem)


def source_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_sources_dir(directory: Path) -> tuple[list[tuple[Path, SourceDef]], list[SourceProblem]]:
    """Every source file in ``directory``; problems include names used twice across files."""
    loaded: list[tuple[Path, SourceDef]] = []
    problems: list[SourceProblem] = []
    first_seen: dict[str, Path] = {}
    for path in source_files(directory):
        defn, errs = load_source_file(path)
        problems += errs
        if defn is None:
            continue
        if defn.name in first_seen:
            problems.append(
                SourceProblem(
                    str(path),
                    _name_line(path),
                    "name",
                    f"{defn.name!r} is already used by {first_seen[defn.name]}",
                )
            )
            continue
        first_seen[defn.name] = path
        loaded.append((path, defn))
    return loaded, problems


def _name_line(path: Path) -> int | None:
    try:
        return _line_of(yaml.compose(path.read_text("utf-8-sig"), Loader=yaml.SafeLoader), ("name",))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None


def source_from_mapping(data: dict[str, Any], where: str) -> SourceDef:
    """A SourceDef from plain data (command-line options, a stored definition), or SourcesInvalid
    naming ``where`` and each wrong field."""
    try:
        defn = SourceDef.model_validate(data)
    except ValidationError as exc:
        raise SourcesInvalid(
            [
                SourceProblem(where, None, _field_name(tuple(e["loc"])), _pydantic_message(e))
                for e in exc.errors()
            ]
        ) from None
    problems = consistency_problems(defn)
    if problems:
        raise SourcesInvalid([SourceProblem(where, None, f, m) for f, m in problems])
    return defn


def definition_of(data: dict[str, Any]) -> SourceDef:
    """A SourceDef from a stored ``Source.definition`` (validated again: stored data may be old)."""
    return source_from_mapping(data, "<database>")
