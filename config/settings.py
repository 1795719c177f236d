"""Every knob of Miroir, in one typed place.

One settings class per external system (Kafka, Redis, Grafana), plus the
pipeline's own, the local stack's and each HTTP service's (intake, managers).
Each reads `MIROIR_*` environment variables; every default works on the local
stack (`miroir stack up`). Long on purpose: every knob in one file, one class
per system, is the point (README, "Configuration").
"""

from __future__ import annotations

import re
import ssl
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config import topics as names

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str | int | float) -> float:
    """'90s', '5m', '1h', '30d' or a number of seconds -> seconds."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"duration {value!r}: expected a number with s, m, h or d (e.g. '5m')")
        seconds = float(int(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"])
    if seconds <= 0:
        raise ValueError(f"duration {value!r} must be positive")
    return seconds


def _local_port(address: str, what: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{what} {address!r}: expected host:port")
    return host, int(port)


class KafkaSettings(BaseSettings):
    """The Kafka cluster. SASL/TLS options pass through to faust and kafka-python."""

    model_config = SettingsConfigDict(env_prefix="MIROIR_KAFKA_", extra="ignore")

    bootstrap_servers: str = "localhost:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    topic_partitions: int = Field(default=4, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    # How long the group waits for a worker that stopped answering before its
    # partitions move: a SIGKILLed worker's inputs wait this long. faust's own
    # default (60s) suits event loops blocked for long; ours take short batches.
    session_timeout: float = Field(default=10.0, ge=6.0)
    heartbeat_interval: float = Field(default=2.0, gt=0)

    @property
    def first_server(self) -> tuple[str, int]:
        return _local_port(self.bootstrap_servers.split(",")[0].strip(), "Kafka server")

    @property
    def faust_broker(self) -> str:
        return ";".join(f"kafka://{s.strip()}" for s in self.bootstrap_servers.split(","))

    def ssl_context(self) -> ssl.SSLContext | None:
        if "SSL" not in self.security_protocol:
            return None
        return ssl.create_default_context(cafile=str(self.ssl_cafile) if self.ssl_cafile else None)

    def faust_credentials(self) -> Any:
        """faust's credentials object for this security protocol (None for PLAINTEXT)."""
        import faust

        if self.security_protocol.startswith("SASL"):
            return faust.SASLCredentials(
                username=self.sasl_username,
                password=self.sasl_password.get_secret_value() if self.sasl_password else None,
                ssl_context=self.ssl_context(),
                mechanism=self.sasl_mechanism or "PLAIN",
            )
        context = self.ssl_context()
        return faust.SSLCredentials(context) if context else None

    def aiokafka_config(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's clients (the callback sink's own consumer)."""
        config: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            config["sasl_mechanism"] = self.sasl_mechanism
            config["sasl_plain_username"] = self.sasl_username
            config["sasl_plain_password"] = self.sasl_password.get_secret_value() if self.sasl_password else None
        if context := self.ssl_context():
            config["ssl_context"] = context
        return config

    def client_config(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's producer, consumer and admin clients."""
        config: dict[str, Any] = {
            "bootstrap_servers": [s.strip() for s in self.bootstrap_servers.split(",")],
            "security_protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            config["sasl_mechanism"] = self.sasl_mechanism
            config["sasl_plain_username"] = self.sasl_username
            config["sasl_plain_password"] = self.sasl_password.get_secret_value() if self.sasl_password else None
        if self.ssl_cafile:
            config["ssl_cafile"] = str(self.ssl_cafile)
        return config


class RedisSettings(BaseSettings):
    """The Redis that holds the managers' callback queue and the mirror snapshot."""

    model_config = SettingsConfigDict(env_prefix="MIROIR_REDIS_", extra="ignore")

    url: SecretStr = SecretStr("redis://localhost:6379/0")

    @property
    def dsn(self) -> str:
        return self.url.get_secret_value()

    @property
    def port(self) -> int:
        return urlparse(self.dsn).port or 6379

    @property
    def host(self) -> str:
        return urlparse(self.dsn).hostname or "localhost"

    @property
    def password(self) -> str | None:
        return urlparse(self.dsn).password


class GrafanaSettings(BaseSettings):
    """Optional: where step alerts are posted as annotations."""

    model_config = SettingsConfigDict(env_prefix="MIROIR_GRAFANA_", extra="ignore")

    url: str | None = None
    token: SecretStr | None = None


class PipelineSettings(BaseSettings):
    """The faust worker and the mirror's windows and thresholds."""

    model_config = SettingsConfigDict(env_prefix="MIROIR_", extra="ignore")

    app_id: str = "miroir"
    # Topic names (config/topics.py has the defaults); a pilot or a chaos run may use its own.
    survey_topic: str = names.SURVEY_RESPONSES
    staff_topic: str = names.STAFF_FEEDBACK
    callback_request_topic: str = names.CALLBACK_REQUESTS
    callback_outcome_topic: str = names.CALLBACK_OUTCOMES
    mirror_state_topic: str = names.MIRROR_STATES
    step_alert_topic: str = names.STEP_ALERTS
    dead_letter_topic: str = names.DEAD_LETTERS
    dead_letter_log_topic: str = names.DEAD_LETTER_LOG
    # Where a new consumer group starts: "earliest" reads the topics' history,
    # "latest" only what comes after (the demo's fresh pilots use it).
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    store: str = "memory://"
    web_host: str = "localhost"
    web_port: int = 6066
    web_token: SecretStr | None = None
    data_dir: Path = Path(".run/worker")
    live_window: float = 3600.0
    live_step: float = 300.0
    long_window: float = 30 * 86400.0
    long_step: float = 86400.0
    thresholds_file: Path | None = None  # journey files added to the shipped ones...
    journeys_only: bool = False  # ...or read instead of them
    snapshot_interval: float = 30.0
    escalation_interval: float = 30.0
    batch_size: int = Field(default=1000, ge=1)
    batch_within: float = 0.1

    @property
    def topics(self) -> names.Topics:
        return names.Topics(
            app_id=self.app_id,
            survey_responses=self.survey_topic,
            staff_feedback=self.staff_topic,
            mirror_states=self.mirror_state_topic,
            step_alerts=self.step_alert_topic,
            callback_requests=self.callback_request_topic,
            callback_outcomes=self.callback_outcome_topic,
            dead_letters=self.dead_letter_topic,
            dead_letter_log=self.dead_letter_log_topic,
        )

    @field_validator(
        "live_window",
        "live_step",
        "long_window",
        "long_step",
        "snapshot_interval",
        "escalation_interval",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: str | float) -> float:
        return parse_duration(value)


class StackSettings(BaseSettings):
    """The local stack started by `miroir stack up` (no Docker)."""

    model_config = SettingsConfigDict(env_prefix="MIROIR_", extra="ignore")

    run_dir: Path = Path(".run")
    kafka_libs_dir: Path = Path(".run/kafka-libs")
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    start_timeout: float = 90.0


class IntakeSettings(BaseSettings):
    """The intake: the HTTP front door survey tools and people send answers to (`miroir intake serve`)."""

    model_config = SettingsConfigDict(env_prefix="MIROIR_INTAKE_", extra="ignore")

    host: str = "localhost"
    port: int = Field(default=8088, ge=1, le=65535)
    # A request body over this is refused (413) before it is read whole.
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # The most records in one JSON array (more: 413).
    batch_max: int = Field(default=500, ge=1)
    # Requests per second per token (a token bucket of `rate_burst` requests): 429 beyond.
    rate_per_token: float = Field(default=20.0, gt=0)
    rate_burst: int = Field(default=40, ge=1)
    # How long a request waits for Kafka to acknowledge its records before it answers 503.
    send_timeout: float = 10.0
    # The Retry-After of a 503, in seconds (a 429's says when its token's bucket has room again).
    retry_after: int = Field(default=5, ge=1)

    @property
    def url(self) -> str:
        """Where clients on this machine reach it."""
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @field_validator("send_timeout", mode="before")
    @classmethod
    def _duration(cls, value: str | float) -> float:
        return parse_duration(value)


class ManagersSettings(BaseSettings):
    """The managers' app: accounts, sign-in and the callbacks' JSON API (`miroir managers serve`)."""

    model_config = SettingsConfigDict(env_prefix="MIROIR_MANAGERS_", extra="ignore")

    host: str = "localhost"
    port: int = Field(default=8090, ge=1, le=65535)
    # Where people and the CLI reach it when that is not host:port (behind a proxy, over TLS).
    public_url: str | None = None
    # Regions and their sites (a regional lead sees their region's); the shipped file has the demo's.
    sites_file: Path = Path(__file__).resolve().parent / "sites.yaml"
    # True behind TLS: the session cookie is then Secure (and named __Host-…).
    secure_cookies: bool = False
    # Signs the sign-in form's CSRF token. Unset: a random key per process, so a form shown by one
    # process and posted to another is refused: set it when more than one process serves.
    session_secret: SecretStr | None = None
    # A session ends after this long unused, and after `session_max` whatever its use.
    session_idle: float = 2 * 3600.0
    session_max: float = 12 * 3600.0
    # `signin_max_failures` wrong passwords for one name within `signin_window` lock its sign-in
    # for `signin_lock` (the right password included): 429 with Retry-After.
    signin_max_failures: int = Field(default=5, ge=1)
    signin_window: float = 15 * 60.0
    signin_lock: float = 15 * 60.0
    # How long a resolve waits for Kafka to take its CallbackOutcome before it answers 503.
    send_timeout: float = 10.0
    # The root causes a resolution names (id, French and English labels); the shipped list by default.
    root_causes_file: Path = Path(__file__).resolve().parent / "root_causes.yaml"
    # The live inbox (GET /v1/events): a comment this often keeps proxies from closing an idle stream.
    events_heartbeat: float = 15.0

    @property
    def url(self) -> str:
        """Where clients reach it."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @field_validator(
        "session_idle", "session_max", "signin_window", "signin_lock", "send_timeout", "events_heartbeat", mode="before"
    )
    @classmethod
    def _duration(cls, value: str | float) -> float:
        return parse_duration(value)


class NotifySettings(BaseSettings):
    """Notifications to managers of each admitted callback and each escalation: e-mail over SMTP and
    chat webhooks (Slack, Teams, signed JSON), sent by the worker's notifier (streams/notifier.py)."""

    model_config = SettingsConfigDict(env_prefix="MIROIR_NOTIFY_", extra="ignore")

    # Off: the worker runs no notifier (admissions and escalations wait in the outbox meanwhile).
    enabled: bool = True
    # The SMTP server; unset: no e-mail. `smtp_security`: starttls (port 587), tls (implicit, 465) or
    # none (a relay on localhost, the tests' server).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Miroir <miroir@localhost>"
    # The CA certificate that signed the SMTP server's (a relay with a private CA); else the system's.
    smtp_cafile: Path | None = None
    smtp_timeout: float = 10.0
    # Chat webhooks per site or region (kind, sites/regions, the env variables holding URL and secret).
    channels_file: Path = Path(__file__).resolve().parent / "channels.yaml"
    webhook_timeout: float = 10.0
    # Quiet hours and digests are read in this time zone; due times are written in it.
    time_zone: str = "Europe/Paris"
    digest_hour: int = Field(default=8, ge=0, le=23)
    # A failed send is retried after retry_first, doubling up to retry_max, until give_up_after
    # from when it was first due (then logged with its reason and counted as failed).
    retry_first: float = 5.0
    retry_max: float = 600.0
    give_up_after: float = 86400.0
    # Sends in flight at once; how long the notifier waits for news between rounds.
    concurrency: int = Field(default=16, ge=1)
    poll_interval: float = 1.0
    # An outbox entry another notifier took and left this long (it died) is taken over.
    orphan_idle: float = 60.0
    # How long a sent delivery is remembered (so it is never sent again).
    sent_kept: float = 30 * 86400.0

    @field_validator(
        "smtp_timeout",
        "webhook_timeout",
        "retry_first",
        "retry_max",
        "give_up_after",
        "poll_interval",
        "orphan_idle",
        "sent_kept",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: str | float) -> float:
        return parse_duration(value)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time zone {value!r}: expected an IANA name, e.g. Europe/Paris") from None
        return value


class PrivacySettings(BaseSettings):
    """Personal data: how long each kind is kept, and the secret of the keyed hashes that say who a
    record is about (processors/privacy.py). README: Your data."""

    model_config = SettingsConfigDict(env_prefix="MIROIR_PRIVACY_", extra="ignore")

    # The key of the subject hashes (erasures, pseudonymous staff). Unset: one is made at random and
    # kept in Redis, shared by every process of this Redis (fine for a pilot; set it in production,
    # and keep it: a new secret forgets every erasure for the intake and the pipeline).
    secret: SecretStr | None = None
    # A closed callback's contact details (name, e-mail, phone) are removed this long after it closed.
    contact_days: float = Field(default=30.0, gt=0)
    # A closed callback is anonymised this long after it closed: verbatim, customer ref, notes go.
    case_days: float = Field(default=365.0, gt=0)
    # dead-letters (original bytes of rejected inputs) and the input topics keep this long
    # (`retention.ms`, set by the stack and printed by `miroir topics show`); dead-letter-log (each
    # dead letter's reason and origin, no bytes) keeps case_days.
    dead_letter_days: float = Field(default=14.0, gt=0)
    input_days: float = Field(default=35.0, gt=0)
    # How often the worker purges what is past its retention; how often it reads new erasures.
    purge_interval: float = 86400.0
    erasures_interval: float = 5.0
    # A staff story is shown as evidence only once its site has had this many tellers (their
    # pseudonyms): a story from a smaller team could point at the one who told it.
    min_staff: int = Field(default=5, ge=1)

    @field_validator("purge_interval", "erasures_interval", mode="before")
    @classmethod
    def _duration(cls, value: str | float) -> float:
        return parse_duration(value)


class Settings:
    """All settings, read once from the environment."""

    @cached_property
    def kafka(self) -> KafkaSettings:
        return KafkaSettings()

    @cached_property
    def redis(self) -> RedisSettings:
        return RedisSettings()

    @cached_property
    def grafana(self) -> GrafanaSettings:
        return GrafanaSettings()

    @cached_property
    def pipeline(self) -> PipelineSettings:
        return PipelineSettings()

    @cached_property
    def stack(self) -> StackSettings:
        return StackSettings()

    @cached_property
    def intake(self) -> IntakeSettings:
        return IntakeSettings()

    @cached_property
    def managers(self) -> ManagersSettings:
        return ManagersSettings()

    @cached_property
    def notify(self) -> NotifySettings:
        return NotifySettings()

    @cached_property
    def privacy(self) -> PrivacySettings:
        return PrivacySettings()


settings = Settings()
