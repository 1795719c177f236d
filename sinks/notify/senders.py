"""Sending one notification: an e-mail over SMTP (aiosmtplib), a POST to a chat or JSON webhook (httpx).

Each send either returns (the endpoint took it) or raises `SendFailed` with a reason safe to log
(never a URL: a webhook's URL is its secret; never the message) and whether trying again may help:
a 4xx of SMTP or HTTP 408/429/5xx, a timeout or a refused connection may pass later; an address or
a webhook the endpoint refuses for good (SMTP 5xx, HTTP 4xx) will not.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import formatdate

import aiosmtplib
import httpx
from pydantic import SecretStr

from processors.notify_messages import Text


class SendFailed(Exception):
    def __init__(self, reason: str, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # starttls | tls | none
    sender: str
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = 10.0
    cafile: str | None = None  # a private CA's certificate (a relay with a self-signed one); else the system's


def email_message(sender: str, to: str, text: Text, delivery: str) -> Message:
    """A plain-text e-mail in UTF-8. MIMEText (compat32) rather than EmailMessage: the same bytes on
    the wire for a text/plain part, built ten times faster (it was a quarter of a send's time)."""
    message = MIMEText(text.body, "plain", "utf-8")
    message["From"] = sender
    message["To"] = to
    message["Subject"] = Header(text.subject, "utf-8").encode()  # RFC 2047 words: accents survive any relay
    message["Date"] = formatdate(localtime=False)
    # Stable per delivery: a copy sent again (the windows in sinks/notify/notifier.py) carries the
    # same Message-ID, which a receiver (or a mail store) can drop it by.
    message["Message-ID"] = f"<{delivery}@miroir>"
    message["X-Miroir-Delivery"] = delivery
    return message


class SmtpSessions:
    """SMTP sessions kept open between sends (a relay takes many messages per session; a session per
    e-mail cost a connection, EHLO, STARTTLS and AUTH each time): at most one send per session at a
    time. A session that fails is closed; a send on a kept session that the server closed meanwhile
    (idle timeout) is tried once more on a new one."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.idle: list[aiosmtplib.SMTP] = []

    async def _open(self) -> aiosmtplib.SMTP:
        c = self.config
        session = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            use_tls=c.security == "tls",
            start_tls=c.security == "starttls",
            username=c.username,
            password=c.password.get_secret_value() if c.password else None,
            timeout=c.timeout,
            cert_bundle=c.cafile,
        )
        await session.connect()  # EHLO, STARTTLS and AUTH as configured
        return session

    async def send(self, message: Message) -> None:
        kept = self.idle.pop() if self.idle else None
        try:
            if kept is not None:
                try:
                    await kept.send_message(message)
                    self.idle.append(kept)
                    return
                except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                    _drop(kept)  # closed by the server while idle: a new session, once
            session = await self._open()
            try:
                await session.send_message(message)
            except BaseException:
                _drop(session)
                raise
            self.idle.append(session)
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = sorted({r.code for r in error.recipients})
            raise SendFailed(f"smtp refused the recipient ({codes})", retry=all(c < 500 for c in codes)) from None
        except aiosmtplib.SMTPResponseException as error:
            # 4xx: try later; 5xx: refused (a wrong password included, until someone fixes the settings)
            retry = error.code < 500 or isinstance(error, aiosmtplib.SMTPAuthenticationError)
            raise SendFailed(f"smtp {error.code}", retry=retry) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise SendFailed(f"smtp {type(error).__name__}", retry=True) from None

    async def close(self) -> None:
        while self.idle:
            session = self.idle.pop()
            try:
                await session.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                _drop(session)


def _drop(session: aiosmtplib.SMTP) -> None:
    """Close without a word to the server (it may be gone)."""
    if session.is_connected:
        session.close()


async def post_webhook(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        response = await client.post(url, content=body, headers={"Content-Type": "application/json", **headers})
    except httpx.HTTPError as error:
        raise SendFailed(f"webhook {type(error).__name__}", retry=True) from None
    if response.is_success:
        return
    status = response.status_code
    raise SendFailed(f"webhook answered {status}", retry=status in (408, 425, 429) or status >= 500)
