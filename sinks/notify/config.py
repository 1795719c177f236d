"""The notifier's configuration: from the settings, the sites file and the channels file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import yaml

from config.settings import Settings
from processors.access import Hierarchy, load_hierarchy
from processors.notifications import Backoff, ChatChannel, NotifyError, parse_channels
from sinks.notify.senders import SmtpConfig


@dataclass(frozen=True)
class NotifyConfig:
    link_base: str  # the managers' app: a case is at <link_base>/callbacks/<id>
    hierarchy: Hierarchy
    smtp: SmtpConfig | None = None
    channels: tuple[ChatChannel, ...] = ()
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Paris"))
    digest_hour: int = 8
    backoff: Backoff = field(default_factory=Backoff)
    concurrency: int = 16
    webhook_timeout: float = 10.0
    orphan_idle: float = 60.0
    sent_kept: float = 30 * 86400.0
    batch: int = 200

    @property
    def send_deadline(self) -> float:
        """The longest one send may take (aiosmtplib's timeout bounds each command, not the whole)."""
        return max(self.smtp.timeout if self.smtp else 0.0, self.webhook_timeout) * 3

    @property
    def lease(self) -> float:
        """How long a taken delivery is this notifier's: a send's deadline, the time to start it and
        to mark it sent (notifier.py), and no more: after a crash, what it held is sent this late."""
        return 2 * self.send_deadline

    @property
    def mark_margin(self) -> float:
        """What a lease keeps after a send's deadline, for marking it sent."""
        return self.send_deadline / 3

    @property
    def anything(self) -> bool:
        return self.smtp is not None or bool(self.channels)


def load_config(settings: Settings) -> NotifyConfig:
    """From the settings, the sites file and the channels file (its URLs and secrets from the environment)."""
    notify = settings.notify
    smtp = None
    if notify.smtp_host:
        smtp = SmtpConfig(
            notify.smtp_host,
            notify.smtp_port,
            notify.smtp_security,
            notify.smtp_from,
            notify.smtp_username,
            notify.smtp_password,
            notify.smtp_timeout,
            str(notify.smtp_cafile) if notify.smtp_cafile else None,
        )
    try:
        data = yaml.safe_load(notify.channels_file.read_text()) if notify.channels_file.exists() else None
    except (OSError, yaml.YAMLError) as error:
        raise NotifyError(f"channels file {notify.channels_file}: {error}") from None
    return NotifyConfig(
        link_base=settings.managers.url,
        hierarchy=load_hierarchy(settings.managers.sites_file),
        smtp=smtp,
        channels=tuple(parse_channels(data, os.environ, str(notify.channels_file))),
        zone=ZoneInfo(notify.time_zone),
        digest_hour=notify.digest_hour,
        backoff=Backoff(notify.retry_first, notify.retry_max, notify.give_up_after),
        concurrency=notify.concurrency,
        webhook_timeout=notify.webhook_timeout,
        orphan_idle=notify.orphan_idle,
        sent_kept=notify.sent_kept,
    )
