"""Load and validate the TOML config. No business logic: typed values only.

Errors name the file and the key path (``watchlists[2].queries[0]``), say what is wrong
and how to fix it, and are raised as ConfigError.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
import tomllib
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.digest import check_templates
from monitor.errors import ConfigError
from monitor.http.fetch import Limits
from monitor.match import language_code, parse_query
from monitor.outbox.apprise import Endpoint, endpoint
from monitor.polling.cadence import Cadence
from monitor.schedule import Schedule, parse_duration, parse_schedule

DEFAULT_PATH = Path("config/monitor.toml")
EXAMPLE_PATH = Path("config/monitor.example.toml")  # in a checkout: a link to PACKAGED_EXAMPLE
PACKAGED_EXAMPLE = Path(__file__).resolve().with_name("example.toml")
STORAGE_URL_ENV = "MONITOR_STORAGE_URL"
_EMAIL = re.compile(r"[^@\s<>\",]+@[^@\s<>\",]+\.[^@\s<>\",]+")
_NAME = re.compile(r"\w[\w .-]*")


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError('write a duration as a string such as "15m"')
    return parse_duration(value)


def _schedule(value: Any) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if not isinstance(value, str):
        raise ValueError('write a schedule as a string such as "daily 08:00"')
    return parse_schedule(value)


def _digest_schedule(value: Any) -> Schedule | None:
    return None if value == "none" else _schedule(value)


def _timezone(value: Any) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f'{value!r} is not an IANA time zone; write a name such as "Europe/Belgrade" or "UTC"'
        ) from None


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an email address; write it as name@example.org")
    return value


def _query(value: str) -> str:
    parse_query(value)
    return value


def _language(value: str | None) -> str | None:
    """The matcher's code (``sr`` for "sr_RS", "Serbian", "srp"): a hint it cannot read would
    cost the feed every hit it decides."""
    return None if value is None else language_code(value)


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{value!r}: a name starts with a letter or digit and uses letters, digits, space, . - _"
        )
    return value


def _notify_url(value: str) -> str:
    endpoint(value)
    return value


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+\S*", value):
        raise ValueError(f"{value!r} is not an http(s) URL; write it as https://example.org/rss")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration), PlainSerializer(str)]
DigestSchedule = Annotated[
    Schedule | None,
    BeforeValidator(_digest_schedule),
    PlainSerializer(lambda s: s.text if s else "none"),
]
TimeZone = Annotated[ZoneInfo, BeforeValidator(_timezone), PlainSerializer(str)]
Email = Annotated[str, AfterValidator(_email)]
QueryText = Annotated[str, AfterValidator(_query)]
Name = Annotated[str, AfterValidator(_name)]
NotifyUrl = Annotated[str, AfterValidator(_notify_url)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class StorageConfig(_Strict):
    url: str = "sqlite:///data/monitor.db"

    @field_validator("url")
    @classmethod
    def _resolve(cls, url: str, info: ValidationInfo) -> str:
        """Relative SQLite paths resolve against the config file's folder; postgresql uses psycopg 3."""
        base = Path((info.context or {}).get("base_dir", "."))
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            return "postgresql+psycopg://" + url.split("://", 1)[1]
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            path = Path(url.removeprefix("sqlite:///"))
            return f"sqlite:///{path if path.is_absolute() else (base / path).resolve()}"
        if not url.startswith(("sqlite", "postgresql")):
            raise ValueError(
                f"{url!r}: use sqlite:///path/to/monitor.db or postgresql://user@host:5432/dbname"
            )
        return url


class SmtpConfig(_Strict):
    model_config = ConfigDict(populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str = ""
    password_env: str = "MONITOR_SMTP_PASSWORD"
    sender: Email = Field("monitor@localhost.localdomain", alias="from")
    timeout: Duration = timedelta(seconds=30)
    attempts: int = Field(3, ge=1, le=10)  # tries per run when the failure is temporary
    retry_wait: Duration = timedelta(seconds=5)  # before the second try; doubled after each

    @property
    def password(self) -> str:
        """Read at send time, from the environment only, so it is never in a file or a log."""
        return os.environ.get(self.password_env, "")


class OutboxConfig(_Strict):
    """How often the daemon tries again the messages some recipient still waits for, and for
    how long."""

    retry_every: Duration = timedelta(minutes=10)  # the retry job's period, and the first wait
    retry_max: Duration = timedelta(hours=6)  # the longest wait; each failed try doubles it
    give_up_after: Duration = timedelta(days=3)  # a recipient still failing then is refused

    @model_validator(mode="after")
    def _ordered(self) -> OutboxConfig:
        if self.retry_every > self.retry_max:
            raise ValueError("retry_every is longer than retry_max; swap them or change one")
        if self.give_up_after < self.retry_max:
            raise ValueError(
                "give_up_after is shorter than retry_max, so no message would ever wait that long; "
                "make give_up_after at least retry_max, or lower retry_max"
            )
        return self


class PollingConfig(_Strict):
    """How feeds are polled: adaptive intervals between the bounds, politeness, limits."""

    min_interval: Duration = timedelta(minutes=5)
    max_interval: Duration = timedelta(hours=2)
    concurrency: int = Field(32, ge=1, le=1000)
    per_host: int = Field(2, ge=1, le=100)
    timeout: Duration = timedelta(seconds=60)
    max_body_mb: int = Field(10, ge=1, le=1000)
    allow_private_redirects: bool = False  # may a feed at a public address redirect to a private one

    @model_validator(mode="after")
    def _ordered(self) -> PollingConfig:
        if self.min_interval > self.max_interval:
            raise ValueError("min_interval is longer than max_interval; swap them or change one")
        if self.min_interval < timedelta(minutes=1):
            raise ValueError("min_interval is under a minute; publishers ask for at least a few minutes")
        return self

    def cadence(self) -> Cadence:
        return Cadence(self.min_interval, self.max_interval)

    def limits(self) -> Limits:
        return Limits(
            concurrency=self.concurrency,
            per_host=self.per_host,
            deadline=self.timeout.total_seconds(),
            max_bytes=self.max_body_mb * 1024 * 1024,
            allow_private_redirects=self.allow_private_redirects,
        )


class FeedConfig(_Strict):
    url: Annotated[str, AfterValidator(_http_url)]
    name: Name
    language: Annotated[str | None, AfterValidator(_language)] = None
    interval: Duration | None = None  # None: adaptive, between polling.min_interval and max_interval
    enabled: bool = True
    tags: list[Name] = []


class WatchlistConfig(_Strict):
    name: Annotated[str, AfterValidator(_name)]
    queries: list[QueryText] = Field(min_length=1)
    recipients: list[Email]  # may be empty when ``notify`` names a channel
    notify: list[NotifyUrl] = []  # Apprise URLs; secrets as ${ENV_NAME}
    digest: DigestSchedule = parse_schedule("daily 08:00")  # None: "none", no digest
    alert: Literal["none", "immediate"] = "none"  # immediate: an alert after each poll with hits
    timezone: TimeZone = ZoneInfo("UTC")
    feeds: list[str] | None = None
    max_entries: int = Field(200, ge=1)  # entries shown in one digest; the rest are counted
    send_empty: bool = False  # send a "nothing new" digest rather than nothing
    group_by: Literal["time", "feed"] = "time"  # the digest's order: newest first, or by outlet

    @model_validator(mode="after")
    def _sends_something(self) -> WatchlistConfig:
        if not self.recipients and not self.notify:
            raise ValueError(
                "no recipients and no notify: add an email address to recipients, "
                'or an Apprise URL such as "tgram://${BOT_TOKEN}/CHAT_ID" to notify'
            )
        if self.digest is None and self.alert == "none":
            raise ValueError(
                'digest = "none" and alert = "none": the watchlist would send nothing; '
                'give it a digest schedule such as "daily 08:00", or alert = "immediate"'
            )
        return self

    def channels(self) -> list[Endpoint]:
        """The ``notify`` channels, their secrets read from the environment now."""
        return [endpoint(url) for url in self.notify]

    def watches(self, feed: FeedConfig) -> bool:
        if self.feeds is None:
            return True
        return feed.name in self.feeds or any(f"tag:{tag}" in self.feeds for tag in feed.tags)


class Config(_Strict):
    path: Path = Path("monitor.toml")
    storage: StorageConfig = StorageConfig()
    smtp: SmtpConfig = SmtpConfig()
    polling: PollingConfig = PollingConfig()
    outbox: OutboxConfig = OutboxConfig()
    templates: Path | None = None  # digest.html / digest.txt that replace the packaged ones
    feeds: list[FeedConfig] = Field(min_length=1)
    watchlists: list[WatchlistConfig] = Field(min_length=1)

    @field_validator("templates")
    @classmethod
    def _templates(cls, folder: Path | None, info: ValidationInfo) -> Path | None:
        """Relative to the config file's folder; the templates in it must compile."""
        if folder is None:
            return None
        folder = (Path((info.context or {}).get("base_dir", ".")) / folder).resolve()
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a folder; make it, with digest.html and/or digest.txt")
        try:
            check_templates(folder)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return folder

    def watchlists_for(self, feed: FeedConfig) -> list[WatchlistConfig]:
        return [watchlist for watchlist in self.watchlists if watchlist.watches(feed)]

    def watchlist(self, name: str) -> WatchlistConfig:
        for watchlist in self.watchlists:
            if watchlist.name == name:
                return watchlist
        names = ", ".join(w.name for w in self.watchlists)
        raise ConfigError(f"{self.path}: no watchlist named {name!r}; the watchlists are: {names}")


def resolve_path(option: str | None) -> Path:
    """The config file to use: the option, else $MONITOR_CONFIG, else the default, else the
    example beside it (in a checkout), else the example inside the package."""
    chosen = option or os.environ.get("MONITOR_CONFIG")
    if chosen:
        return Path(chosen)
    if DEFAULT_PATH.exists():
        return DEFAULT_PATH
    example = EXAMPLE_PATH if EXAMPLE_PATH.exists() else PACKAGED_EXAMPLE
    shown = EXAMPLE_PATH if example == EXAMPLE_PATH else "the example config"
    where = "" if example == EXAMPLE_PATH else f", its database in {user_data_dir()}"
    print(
        f"note: {DEFAULT_PATH} not found; using {shown}{where}. "
        f"Write your own with `monitor init`, or pass -c FILE.",
        file=sys.stderr,
    )
    return example


def user_data_dir() -> Path:
    """Where the packaged example keeps its database: the user's data folder (platformdirs)."""
    return platformdirs.user_data_path("monitor")


def load(path: Path) -> Config:
    """Read, parse and validate ``path``; every problem becomes one ConfigError."""
    return _validate(path, _read(path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file; write one there with `monitor init {path.parent}`, "
            "or pass -c FILE (also $MONITOR_CONFIG)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from exc


def _validate(path: Path, text: str) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    if "path" in raw:
        raise ConfigError(f"{path}: path: unknown key; remove it")
    if url := os.environ.get(STORAGE_URL_ENV):
        raw.setdefault("storage", {})["url"] = url
    try:
        # the packaged example's relative paths (its database) are in the user's data folder
        base_dir = user_data_dir() if path == PACKAGED_EXAMPLE else path.absolute().parent
        config = Config.model_validate({**raw, "path": path}, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    problems = list(_reference_problems(config))
    if problems:
        raise ConfigError("\n".join(f"{path}: {where}: {what}" for where, what in problems))
    return config


def append_feed(
    config: Config, url: str, name: str, language: str | None = None, tags: Sequence[str] = ()
) -> str:
    """Add a ``[[feeds]]`` table at the end of the config file, keeping everything else as
    written; the new file is validated before it replaces the old one. Returns the table."""
    path = config.path
    if path.resolve() in (EXAMPLE_PATH.resolve(), PACKAGED_EXAMPLE):
        raise ConfigError(
            f"{path} is the example config; write your own with `monitor init` and add feeds there"
        )
    for index, feed in enumerate(config.feeds):
        if feed.url == url:
            raise ConfigError(f"{path}: feeds[{index}] ({feed.name!r}) already polls {url}")
        if feed.name == name:
            raise ConfigError(f"{path}: feeds[{index}] is already named {name!r}; choose another with --name")
    lines = ["[[feeds]]", f"url = {_toml(url)}", f"name = {_toml(name)}"]
    if language:
        lines.append(f"language = {_toml(language)}")
    if tags:
        lines.append(f"tags = [{', '.join(map(_toml, tags))}]")
    table = "\n".join(lines) + "\n"
    text = _read(path).rstrip("\n") + "\n\n" + table
    _validate(path, text)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.chmod(path.stat().st_mode)  # the file keeps its permissions
    os.replace(partial, path)  # atomic: the daemon never reads half a file
    return table


def feed_name(title: str, fallback: str) -> str:
    """A valid feed name from a feed's title (or ``fallback``, its host)."""
    name = re.sub(r"\s+", " ", re.sub(r"[^\w .-]", " ", title)).strip(" .-")[:60].strip()
    return name if name and _NAME.fullmatch(name) else fallback


def _toml(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(value, ensure_ascii=False)


def _reference_problems(config: Config) -> Iterator[tuple[str, str]]:
    """Duplicate names and watchlist feed references that point nowhere."""
    feed_names = [feed.name for feed in config.feeds]
    watchlist_names = [watchlist.name for watchlist in config.watchlists]
    for kind, names_in_order in (("feeds", feed_names), ("watchlists", watchlist_names)):
        seen: set[str] = set()
        for index, name in enumerate(names_in_order):
            if name in seen:
                yield f"{kind}[{index}].name", f"{name!r} is used twice; names must be unique"
            seen.add(name)
    names = set(feed_names)
    tags = {tag for feed in config.feeds for tag in feed.tags}
    for index, watchlist in enumerate(config.watchlists):
        for position, ref in enumerate(watchlist.feeds or []):
            tag = ref.removeprefix("tag:")
            if (ref.startswith("tag:") and tag not in tags) or (ref == tag and ref not in names):
                kind = "tag" if ref.startswith("tag:") else "feed name"
                known = ", ".join(sorted(tags if ref.startswith("tag:") else names))
                yield (
                    f"watchlists[{index}].feeds[{position}]",
                    f"no feed has the {kind} {tag!r}; known: {known}",
                )


def _key_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _known_keys() -> set[str]:
    models = (Config, StorageConfig, SmtpConfig, OutboxConfig, PollingConfig, FeedConfig, WatchlistConfig)
    return {f.alias or name for model in models for name, f in model.model_fields.items()} - {"path"}


def _describe(path: Path, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = _key_path(loc)
        if error["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(loc[-1]), _known_keys(), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "check its spelling or remove it"
            what = f"unknown key {str(loc[-1])!r}; {hint}"
        elif error["type"] == "missing":
            what = "required key is missing; add it"
        else:
            what = error["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {where}: {what}")
    return "\n".join(lines)
