"""Send one e-mail message through the channel's SMTP server (smtplib; STARTTLS, TLS or none).

Every failure becomes a one-line error for the delivery log, never a traceback; the password is
used for AUTH only and appears in no error. A 5xx reply is final (the server refuses for good:
retrying the same message will not help, as with a webhook's 4xx); anything else is retried.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from appliance import __version__
from appliance.notifiers.transport import Outcome

SECURITY = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


def message(settings: dict, payload: dict, delivery_uuid: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = payload["subject"]
    msg["From"] = settings["from"]
    msg["To"] = ", ".join(settings["to"])
    msg["Date"] = formatdate(usegmt=True)
    # The same id on every retry, so a mail system that saw an attempt through can drop a copy.
    msg["Message-ID"] = make_msgid(idstring=delivery_uuid, domain="statuscore")
    msg["X-StatusCore-Delivery"] = delivery_uuid
    msg["User-Agent"] = f"StatusCore/{__version__}"
    msg.set_content(payload["text"])
    msg.add_alternative(payload["html"], subtype="html")
    return msg


def send(settings: dict, payload: dict, delivery_uuid: str, timeout: float,
         tls_context: ssl.SSLContext | None = None) -> Outcome:
    started = time.monotonic()

    def done(error: str | None, final: bool = False) -> Outcome:
        return Outcome(None, error, int((time.monotonic() - started) * 1000), delivered=error is None, final=final)

    host, security = settings["host"], settings.get("security", "starttls")
    port = settings.get("port") or DEFAULT_PORTS[security]
    context = tls_context or ssl.create_default_context()
    # smtplib's timeout is per read: one overall deadline, so a server that answers slowly line by
    # line cannot hold a dispatcher thread past its claim (which would send the message twice).
    clients: list[smtplib.SMTP] = []
    expired = threading.Event()
    watchdog = threading.Timer(timeout, _cut, (clients, expired))
    watchdog.daemon = True
    watchdog.start()
    try:
        return _converse(clients, host, port, security, context, timeout, settings, payload, delivery_uuid, done)
    except Exception as exc:
        if expired.is_set():
            return done(f"the SMTP server {host}:{port} did not finish within {timeout:g} s")
        return _failed(exc, host, port, timeout, done)
    finally:
        watchdog.cancel()
        for client in clients:
            client.close()


def _cut(clients: list, expired: threading.Event) -> None:
    expired.set()
    for client in list(clients):
        sock = getattr(client, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once
            except OSError:
                pass


def _converse(clients, host, port, security, context, timeout, settings, payload, delivery_uuid, done) -> Outcome:
    if security == "tls":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    clients.append(client)
    if security == "starttls":
        client.ehlo()
        if not client.has_extn("starttls"):
            return done(f"{host}:{port} does not offer STARTTLS; choose security tls or none", final=True)
        client.starttls(context=context)
    client.ehlo_or_helo_if_needed()
    if settings.get("username"):
        client.login(settings["username"], settings.get("password") or "")
    client.send_message(message(settings, payload, delivery_uuid))
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass  # accepted already: a lost goodbye changes nothing
    return done(None)


def _failed(exc: Exception, host: str, port: int, timeout: float, done) -> Outcome:
    """One line for the delivery log; final when the server refused for good (5xx, a login)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return done(f"the SMTP server refused the login ({exc.smtp_code} {_text(exc.smtp_error)}); "
                    "check the username and password", final=True)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return done(f"the SMTP server refused the recipient ({code} {_text(text)})", final=code >= 500)
    if isinstance(exc, smtplib.SMTPResponseException):
        return done(f"the SMTP server answered {exc.smtp_code} {_text(exc.smtp_error)}", final=exc.smtp_code >= 500)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return done(f"the SMTP server does not support {_text(exc)}", final=True)
    if isinstance(exc, smtplib.SMTPException):  # also SMTPServerDisconnected
        return done(f"the SMTP conversation failed: {_text(exc) or type(exc).__name__}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return done(f"TLS certificate of {host} is not valid: {exc.verify_message or exc.reason}")
    if isinstance(exc, ssl.SSLError):
        return done(f"TLS with {host} failed: {exc.reason or exc}")
    if isinstance(exc, socket.gaierror):
        return done(f"cannot resolve {host}")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return done(f"no answer from {host}:{port} within {timeout:g} s")
    if isinstance(exc, OSError):
        return done(f"cannot connect to {host}:{port}: {exc.strerror or exc}")
    # Anything else (a message the email package cannot encode, say): one line, not a traceback.
    return done(f"the message could not be sent: {_text(exc) or type(exc).__name__}")


def _text(value) -> str:
    """An SMTP reply as one line of text."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:300]
