"""Send one message through Apprise (Telegram, Teams, PagerDuty, ntfy, Gotify, Pushover, Matrix…
one URL each), and say whether Apprise can read an Apprise URL at all.

An Apprise URL carries the service's tokens: Apprise's own log lines (which may show parts of
it) never reach ours, and the error kept for a delivery has the URL's secret parts cut out.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import parse_qsl, urlsplit

import apprise

from appliance.notifiers.transport import Outcome

# Apprise's lines, and those of the HTTP library under it (urllib3, used by nothing else in the
# appliance: its own HTTP goes through http.client), can carry a URL's token (a bot token in a
# path, at DEBUG): they stop here. The delivery log and our own lines say what happened.
for _name in (apprise.LOGGER_NAME, "urllib3"):
    logging.getLogger(_name).propagate = False
    logging.getLogger(_name).addHandler(logging.NullHandler())
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def _asset(timeout: float) -> apprise.AppriseAsset:
    # Memory only: Apprise keeps no state on disk; one budget per service, retries included.
    return apprise.AppriseAsset(storage_mode="memory", service_timeout=timeout, secure_logging=True)


def url_problem(url: str) -> str | None:
    """Why Apprise cannot use this URL, in a sentence (None when it can)."""
    match = SCHEME.match(url)
    if not match:
        return "is not an Apprise URL (write it like ntfy://host/topic or tgram://bottoken/chatid)"
    scheme = match.group(1).lower()
    if scheme not in _known_schemes():
        return f"uses {scheme}://, which Apprise does not know (see the Apprise wiki for its services)"
    try:
        plugin = apprise.Apprise.instantiate(url, asset=_asset(10.0))
    except Exception:  # a plugin that trips over odd input: the URL is still one it cannot read
        plugin = None
    if plugin is None:
        return f"is not a {scheme}:// URL Apprise can read (check its parts against the Apprise wiki)"
    return None


def _known_schemes() -> set[str]:
    return {s.lower() for s in apprise.NotificationManager().schemas()}


def masked(url: str) -> str:
    """What the API shows of an Apprise URL after it was set: its scheme only."""
    match = SCHEME.match(url)
    return f"{match.group(1).lower()}://…" if match else "…"


def send(url: str, payload: dict, timeout: float) -> Outcome:
    started = time.monotonic()

    def done(error: str | None, final: bool = False) -> Outcome:
        return Outcome(None, error, int((time.monotonic() - started) * 1000), delivered=error is None, final=final)

    notifier = apprise.Apprise(asset=_asset(timeout))
    if not notifier.add(url):
        return done("Apprise cannot read this URL any more; set it again", final=True)
    try:
        result = notifier.notify(body=payload["body"], title=payload["title"],
                                 notify_type=payload.get("type", "info"))
    except Exception as exc:  # a plugin's bug must not take the dispatcher thread with it
        return done(_redact(f"Apprise failed: {type(exc).__name__}", url))
    if result:
        return done(None)
    return done(_redact(_reason(result), url))


def _reason(result) -> str:
    """The last warning or error Apprise noted for this call, as one line."""
    lines = []
    for service in getattr(result, "results", ()):
        lines += [e.message for e in service.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    status = getattr(getattr(result, "status", None), "name", "FAILURE")
    if not lines:
        return "Apprise timed out" if status == "TIMEOUT" else "Apprise could not deliver the message"
    return " ".join(lines[-1].split())[:300]


def _redact(text: str, url: str) -> str:
    """Cut every secret-looking part of the URL (password, path segments, query values) out of text."""
    parts = urlsplit(url)
    secrets = [parts.password or "", parts.username or ""]
    secrets += [seg for seg in parts.path.split("/")]
    secrets += [value for _, value in parse_qsl(parts.query)]
    host = parts.netloc.rsplit("@", 1)[-1]
    if "." not in host and not host.startswith("["):
        secrets.append(host)  # no host name: a token in its place (tgram://BOTTOKEN/CHATID)
    for secret in sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True):
        text = text.replace(secret, "…")
    return text
