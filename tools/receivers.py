"""Real receivers for notifications, for the tests, the bench and chaos: an SMTP server (aiosmtpd)
and an HTTP webhook receiver, each on a free local port in a thread of its own, recording what they
got and when it arrived.

    with SmtpReceiver() as smtp, WebhookReceiver() as hooks:
        ...  # MIROIR_NOTIFY_SMTP_HOST=smtp.host, _SMTP_PORT=smtp.port, _SMTP_SECURITY=none
        smtp.messages      # [ReceivedMail(sender, recipients, message, arrived)]
        hooks.requests     # [ReceivedPost(path, headers, body, arrived)]
        hooks.fail_for(10) # answer 500 for the next 10 seconds (an endpoint down)

The SMTP receiver can require AUTH (`users={"name": "password"}`) and offer STARTTLS
(`tls_context=`), so a test can check the settings that use them.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    """`check()`'s first truthy result within `timeout` seconds, else its last one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(every)
    return check()


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage
    arrived: float  # time.time() when the server took it

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        return body.get_content() if body is not None else ""


class SmtpReceiver:
    """aiosmtpd's SMTP server in a thread; every message taken is kept in `messages`."""

    def __init__(
        self, users: dict[str, str] | None = None, tls_context: ssl.SSLContext | None = None, host: str = "127.0.0.1"
    ) -> None:
        self.host, self.port = host, free_port()
        self.messages: list[ReceivedMail] = []
        self.users = users
        self.tls_context = tls_context
        self._lock = threading.Lock()
        self._controller: Any = None
        self._sessions: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        mail = ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), message, time.time())
        with self._lock:
            self.messages.append(mail)
        return "250 Message accepted for delivery"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (self.users or {}).get(auth_data.login.decode()) == (
            auth_data.password.decode()
        )
        return AuthResult(success=ok)

    def start(self) -> SmtpReceiver:
        from aiosmtpd.controller import Controller

        extra: dict[str, Any] = {}
        if self.users is not None:
            extra.update(authenticator=self._authenticate, auth_required=True)
            extra["auth_require_tls"] = self.tls_context is not None
        if self.tls_context is not None:
            extra.update(tls_context=self.tls_context, require_starttls=True)
        sessions = self._sessions

        class Tracking(Controller):
            def factory(self) -> Any:
                session = super().factory()
                sessions.append(session)
                return session

        self._controller = Tracking(self, hostname=self.host, port=self.port, **extra)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop, closing the sessions clients keep open (a notifier keeps its own between sends)."""
        if self._controller is not None:

            async def close_sessions() -> None:
                for session in self._sessions:
                    if session.transport is not None:
                        session.transport.abort()  # at once, TLS ones included (no goodbye to wait for)
                await asyncio.sleep(0.05)  # their connection_lost runs before the loop stops

            asyncio.run_coroutine_threadsafe(close_sessions(), self._controller.loop).result(timeout=5)
            self._sessions.clear()
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self.messages)


@dataclass(frozen=True)
class ReceivedPost:
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float
    status: int  # what the receiver answered

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """A local HTTP server taking POSTs: records each (answered 200, or 500 while told to fail)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, free_port()
        self.requests: list[ReceivedPost] = []
        self._lock = threading.Lock()
        self._failing_until = 0.0
        self._statuses: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def fail_for(self, seconds: float) -> None:
        """Answer 500 to every POST for the next `seconds` (0: answer 200 again)."""
        self._failing_until = time.monotonic() + seconds

    def answer(self, path: str, status: int) -> None:
        """Always answer `status` to POSTs to `path` (e.g. 404: a webhook deleted)."""
        self._statuses[path] = status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real webhook endpoints do

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = 500 if time.monotonic() < receiver._failing_until else receiver._statuses.get(self.path, 200)
                post = ReceivedPost(self.path, dict(self.headers.items()), body, time.time(), status)
                with receiver._lock:
                    receiver.requests.append(post)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `requests`
                return

        return Handler

    def start(self) -> WebhookReceiver:
        self._server = ThreadingHTTPServer((self.host, self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def received(self, path: str | None = None, status: int | None = 200) -> list[ReceivedPost]:
        """The POSTs taken (answered `status`; None: all), to `path` when given."""
        with self._lock:
            return [
                r for r in self.requests if (path is None or r.path == path) and (status is None or r.status == status)
            ]
