"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records every message and answers as scripted.

    with SmtpServer() as smtp:                          # plain SMTP, accepts everything
        smtp.refuse(times=1)                            # the next message gets 451, then accepted
        smtp.refuse(times=1, reply="550 5.1.1 no such user")
        smtp.stall(3.0)                                 # the next message's answer comes 3 s late
        [mail] = smtp.wait_for_count(1)                 # bounded wait; a snapshot
    SmtpServer(tls=trustme_ca.issue_cert("127.0.0.1"))  # offers STARTTLS and requires it
    SmtpServer(implicit_tls=cert)                       # TLS from the first byte (SMTPS, "tls")
    SmtpServer(login=("alerts", "s3cret"))              # AUTH PLAIN/LOGIN with these only

`port=` binds a given port, so a channel can point at a server that is not running yet.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import threading
import warnings
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.net import free_port, wait_for


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: tuple[str, ...]
    message: email.message.EmailMessage
    tls: bool  # the message came over an encrypted connection
    login: str | None  # who authenticated, if anyone

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None and body.get_content_subtype() == subtype, f"no text/{subtype} part"
        return body.get_content()


class _Handler:
    def __init__(self, server: "SmtpServer"):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 (aiosmtpd naming)
        delay = self.server._take_stall()
        if delay:
            await asyncio.sleep(delay)
        return self.server._arrived(session, envelope)


class SmtpServer:
    def __init__(self, port: int = 0, tls=None, login: tuple[str, str] | None = None, implicit_tls=None):
        self.port = port or free_port()
        self.mails: list[Mail] = []
        self.refused = 0
        self._script: list[str] = []
        self._stall = 0.0
        self._lock = threading.Lock()
        self._login = login
        self._implicit = implicit_tls is not None
        kwargs: dict = {"auth_require_tls": bool(tls)}
        if tls is not None:  # a trustme LeafCert: STARTTLS offered and required
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.configure_cert(context)
            kwargs.update(tls_context=context, require_starttls=True)
        if implicit_tls is not None:  # a trustme LeafCert: the whole connection is TLS
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            implicit_tls.configure_cert(context)
            kwargs.update(ssl_context=context, auth_require_tls=False)
        if login is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        with warnings.catch_warnings():  # AUTH without TLS: what the plain-SMTP login test wants
            warnings.simplefilter("ignore", UserWarning)
            self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)

    # ---- scripting ----
    def refuse(self, times: int = 1, reply: str = "451 4.3.0 Try again later") -> None:
        with self._lock:
            self._script += [reply] * times

    def stall(self, seconds: float) -> None:
        """Answer the next message only after `seconds` (bounded: tests pass a few seconds)."""
        with self._lock:
            self._stall = min(seconds, 30.0)

    def _take_stall(self) -> float:
        with self._lock:
            delay, self._stall = self._stall, 0.0
            return delay

    # ---- lifecycle ----
    def start(self) -> "SmtpServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "SmtpServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- what arrived ----
    def wait_for_count(self, count: int, timeout: float = 15.0) -> list[Mail]:
        wait_for(lambda: len(self.mails) >= count, timeout=timeout, message=f"{count} mail(s)")
        with self._lock:
            return list(self.mails)

    def _arrived(self, session, envelope) -> str:
        with self._lock:
            if self._script:
                self.refused += 1
                return self._script.pop(0)
            message = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=email.policy.default)
            encrypted = session.ssl is not None or self._implicit
            login = getattr(session, "test_login", None)
            self.mails.append(Mail(envelope.mail_from, tuple(envelope.rcpt_tos), message,
                                   encrypted, login))
            return "250 OK"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and (auth_data.login.decode(), auth_data.password.decode()) == self._login)
        if ok:
            session.test_login = auth_data.login.decode()
        return AuthResult(success=ok, handled=False)
