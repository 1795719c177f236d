"""Sending one notification: an e-mail over SMTP (aiosmtplib), a POST to a chat or JSON webhook (httpx).

Each send either returns (the endpoint took it) or raises `SendFailed` with a reason safe to log
(never a URL: a webhook's URL is its secret; never the message) and whether trying again may help:
a 4xx of SMTP or HTTP 408/429/5xx, a timeout or a refused connection may pass later; an address or
a webhook the endpoint refuses for good (SMTP 5xx, HTTP 4xx) will not.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
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


def email_message(sender: str, to: str, text: Text, delivery: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = text.subject
    message["Date"] = formatdate(localtime=False)
    # Stable per delivery: a copy sent again (the one window, see streams/notifier.py) carries the
    # same Message-ID, which mail clients and receivers use to drop it.
    message["Message-ID"] = f"<{delivery}@miroir>"
    message["X-Miroir-Delivery"] = delivery
    message.set_content(text.body)
    return message


async def send_email(config: SmtpConfig, message: EmailMessage) -> None:
    try:
        await aiosmtplib.send(
            message,
            hostname=config.host,
            port=config.port,
            use_tls=config.security == "tls",
            start_tls=config.security == "starttls",
            username=config.username,
            password=config.password.get_secret_value() if config.password else None,
            timeout=config.timeout,
            cert_bundle=config.cafile,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = sorted({r.code for r in error.recipients})
        raise SendFailed(f"smtp refused the recipient ({codes})", retry=all(c < 500 for c in codes)) from None
    except aiosmtplib.SMTPResponseException as error:
        # 4xx: try later; 5xx: refused (a wrong password included, until someone fixes the settings)
        retry = error.code < 500 or isinstance(error, aiosmtplib.SMTPAuthenticationError)
        raise SendFailed(f"smtp {error.code}", retry=retry) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        raise SendFailed(f"smtp {type(error).__name__}", retry=True) from None


async def post_webhook(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        response = await client.post(url, content=body, headers={"Content-Type": "application/json", **headers})
    except httpx.HTTPError as error:
        raise SendFailed(f"webhook {type(error).__name__}", retry=True) from None
    if response.is_success:
        return
    status = response.status_code
    raise SendFailed(f"webhook answered {status}", retry=status in (408, 425, 429) or status >= 500)
