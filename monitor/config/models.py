"""The config's pydantic models: typed values and the rules between them, no business logic."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.config.types import (
    DigestSchedule,
    Duration,
    Email,
    FeedName,
    HttpUrl,
    LanguageHint,
    Listen,
    LocaleTag,
    Name,
    NotifyUrl,
    QueryText,
    Script,
    TimeZone,
    checks,
    is_telegram,
    parse_schedule,
    telegram_preview,
)
from monitor.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class StorageConfig(_Strict):
    url: str = "sqlite:///data/monitor.db"
    keep_items: Duration | None = None  # items older than this without hits are pruned; None: all kept

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

    @field_validator("keep_items")
    @classmethod
    def _long_enough(cls, keep: timedelta | None) -> timedelta | None:
        """An item pruned while its feed still lists it would be stored again as new."""
        if keep is not None and keep < timedelta(days=1):
            raise ValueError(
                "shorter than a day, but a feed lists its items for days, and one pruned would "
                'be stored again as new; write a number of days such as "365d", or leave it out '
                "to keep every item"
            )
        return keep


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


class ServerConfig(_Strict):
    """The HTTP face (/healthz, /metrics): off unless ``listen`` is set. Off loopback it asks
    for a bearer token, read from the environment only, for all but /healthz."""

    listen: Listen | None = None  # host:port, e.g. "127.0.0.1:8080"; None: no server
    token_env: str = "MONITOR_SERVER_TOKEN"

    @property
    def token(self) -> str:
        """Read when the server starts, from the environment only, so it is never in a file."""
        return os.environ.get(self.token_env, "")


class LoggingConfig(_Strict):
    """The tool's log level, when neither ``-v`` nor ``--log-level`` ($MONITOR_LOG_LEVEL) says."""

    level: Literal["debug", "info", "warning", "error"] = "info"


class FeedConfig(_Strict):
    url: HttpUrl
    name: FeedName
    # feed: RSS, Atom or JSON Feed; telegram: a public channel's web preview (t.me/s/NAME),
    # which a t.me channel link implies
    type: Literal["feed", "telegram"] = "feed"
    language: LanguageHint = None
    interval: Duration | None = None  # None: adaptive, between polling.min_interval and max_interval
    enabled: bool = True
    tags: list[Name] = []
    fulltext: bool = False  # fetch each new item's page and match on its article text too

    @model_validator(mode="before")
    @classmethod
    def _telegram(cls, raw: object) -> object:
        """A t.me channel's link is read as the channel's preview, at its preview's address."""
        if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
            return raw
        if raw.get("type") in (None, "telegram") and (preview := telegram_preview(raw["url"])):
            return {**raw, "type": "telegram", "url": preview}
        if raw.get("type") == "telegram" and is_telegram(raw["url"]):
            raise ValueError(
                f"{raw['url']!r} is not a public channel's link; write it as https://t.me/s/CHANNEL "
                "(invitations to private chats and links to single posts cannot be read)"
            )
        return raw

    @model_validator(mode="after")
    def _whole_posts(self) -> FeedConfig:
        if self.fulltext and self.type == "telegram":
            raise ValueError(
                "fulltext = true on a Telegram channel: its posts are read whole already; remove fulltext"
            )
        return self


class WatchlistConfig(_Strict):
    name: Name
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
    locale: LocaleTag = "en"  # the language of the digest's own words, its dates and plurals
    script: Script | None = None  # Serbian items shown in this script; None: as published
    fulltext: bool = False  # the feeds it watches are read in full text (see FeedConfig.fulltext)

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

    def watches(self, feed: FeedConfig) -> bool:
        if self.feeds is None:
            return True
        return feed.name in self.feeds or any(f"tag:{tag}" in self.feeds for tag in feed.tags)


def _valid(key: str, value: object) -> bool:
    adapter = _LOCALE if key == "locale" else _SCRIPT
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return value is not None


_LOCALE, _SCRIPT = TypeAdapter(LocaleTag), TypeAdapter(Script)


class Config(_Strict):
    path: Path = Path("monitor.toml")
    storage: StorageConfig = StorageConfig()
    smtp: SmtpConfig = SmtpConfig()
    polling: PollingConfig = PollingConfig()
    outbox: OutboxConfig = OutboxConfig()
    server: ServerConfig = ServerConfig()
    logging: LoggingConfig = LoggingConfig()
    templates: Path | None = None  # digest.html / digest.txt that replace the packaged ones
    # every watchlist's locale and script, unless it sets its own
    locale: LocaleTag | None = None
    script: Script | None = None
    feeds: list[FeedConfig] = Field(min_length=1)
    watchlists: list[WatchlistConfig] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _reader_defaults(cls, raw: object) -> object:
        """Hand the top-level ``locale`` and ``script`` to each watchlist that sets neither;
        a wrong one is reported at the top level only, not again at every watchlist."""
        if not isinstance(raw, dict) or not isinstance(raw.get("watchlists"), list):
            return raw
        defaults = {key: raw[key] for key in ("locale", "script") if _valid(key, raw.get(key))}
        watchlists = [
            {**defaults, **watchlist} if isinstance(watchlist, dict) else watchlist
            for watchlist in raw["watchlists"]
        ]
        return {**raw, "watchlists": watchlists}

    @field_validator("templates")
    @classmethod
    def _templates(cls, folder: Path | None, info: ValidationInfo) -> Path | None:
        """Relative to the config file's folder; the templates in it must compile (checked)."""
        if folder is None:
            return None
        folder = (Path((info.context or {}).get("base_dir", ".")) / folder).resolve()
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a folder; make it, with digest.html and/or digest.txt")
        if found := checks(info):
            found.templates(folder)
        return folder

    def watchlists_for(self, feed: FeedConfig) -> list[WatchlistConfig]:
        return [watchlist for watchlist in self.watchlists if watchlist.watches(feed)]

    def fulltext(self, feed: FeedConfig) -> bool:
        """Whether the feed's new items are read from their pages: it says so, or a watchlist
        that watches it does (a channel's posts are whole already)."""
        if feed.type == "telegram":
            return False
        return feed.fulltext or any(watchlist.fulltext for watchlist in self.watchlists_for(feed))

    def watchlist(self, name: str) -> WatchlistConfig:
        for watchlist in self.watchlists:
            if watchlist.name == name:
                return watchlist
        names = ", ".join(w.name for w in self.watchlists)
        raise ConfigError(f"{self.path}: no watchlist named {name!r}; the watchlists are: {names}")
