"""Send one e-mail message through the channel's SMTP server (smtplib; STARTTLS, TLS or none).

Every failure becomes a one-line error for the delivery log, never a traceback; the password is
used for AUTH only and appears in no error. A 5xx reply is final (the server refuses for good:
retrying the same message will not help, as with a webhook's 4xx); anything else is retried.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
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
    try:
        if security == "tls":
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if security == "starttls":
                client.ehlo()
                if not client.has_extn("starttls"):
                    return done(f"{host}:{port} does not offer STARTTLS; choose security tls or none", final=True)
                client.starttls(context=context)
                client.ehlo()
            if settings.get("username"):
                client.login(settings["username"], settings.get("password") or "")
            client.send_message(message(settings, payload, delivery_uuid))
        return done(None)
    except smtplib.SMTPAuthenticationError as exc:
        return done(f"the SMTP server refused the login ({exc.smtp_code} {_text(exc.smtp_error)}); "
                    "check the username and password", final=True)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        return done(f"the SMTP server refused the recipient ({code} {_text(text)})", final=code >= 500)
    except smtplib.SMTPResponseException as exc:
        return done(f"the SMTP server answered {exc.smtp_code} {_text(exc.smtp_error)}", final=exc.smtp_code >= 500)
    except smtplib.SMTPNotSupportedError as exc:
        return done(f"the SMTP server does not support {_text(exc)}", final=True)
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPException) as exc:
        return done(f"the SMTP conversation failed: {_text(exc) or type(exc).__name__}")
    except ssl.SSLCertVerificationError as exc:
        return done(f"TLS certificate of {host} is not valid: {exc.verify_message or exc.reason}")
    except ssl.SSLError as exc:
        return done(f"TLS with {host} failed: {exc.reason or exc}")
    except socket.gaierror:
        return done(f"cannot resolve {host}")
    except (socket.timeout, TimeoutError):
        return done(f"no answer from {host}:{port} within {timeout:g} s")
    except OSError as exc:
        return done(f"cannot connect to {host}:{port}: {exc.strerror or exc}")


def _text(value) -> str:
    """An SMTP reply as one line of text."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:300]
