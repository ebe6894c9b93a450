"""Network tools: MTR to a monitor's target (pro users) and WHOIS for a domain or an IP address.

- MTR runs on the appliance's `Mtr` (appliance/tools/mtr.py), which bounds how many runs go at
  once and needs raw ICMP sockets (Unavailable, saying what to do, when they are refused).
- WHOIS goes through the appliance's one WhoisClient, the domain checker's too, so both share
  its cache (hours). The target is checked before any traffic; nothing user-given reaches a
  shell or a file path.
"""

from __future__ import annotations

from appliance.models import User
from appliance.services.errors import Forbidden, Invalid, NotFound, Unavailable, UpstreamFailed, UpstreamTimeout
from appliance.tools.mtr import MtrBusy, MtrError, MtrPermissionError, MtrReport, MtrResolveError, target_host
from appliance.tools.whois import WhoisError, WhoisNotFound, WhoisResult, WhoisTimeout

PREMIUM_MESSAGE = "MTR is a premium feature"


class Tools:
    def __init__(self, appliance):
        self._app = appliance  # its Mtr and WhoisClient, as they are at each call

    def premium(self, user: User) -> None:
        if user.subscription_tier == "free":
            raise Forbidden(PREMIUM_MESSAGE)

    def mtr_host(self, user: User, monitor_id: int) -> str:
        """The host an MTR for this monitor traces (its target's)."""
        self.premium(user)
        monitor = self._app.entities.get_monitor(monitor_id, user.id)
        if monitor is None:
            raise NotFound()
        try:
            return target_host(monitor.type, monitor.target)
        except ValueError as exc:
            raise Invalid(f"Cannot run MTR for this monitor: {exc}.", {"target": str(exc)}) from None

    def mtr(self, host: str, rounds: int, max_hops: int, timeout: float) -> MtrReport:
        try:
            return self._app.mtr.run(host, rounds=rounds, max_hops=max_hops, timeout=timeout)
        except (MtrBusy, MtrPermissionError) as exc:
            raise Unavailable(f"{_sentence(exc)}.") from None
        except MtrResolveError as exc:
            raise UpstreamFailed(f"MTR failed: {exc}.") from None
        except MtrError as exc:
            raise UpstreamFailed(f"MTR to {host} failed: {exc}.") from None

    def whois(self, target: str) -> WhoisResult:
        try:
            return self._app.whois.lookup(target)
        except ValueError as exc:
            raise Invalid(f"Invalid WHOIS target: {exc}.", {"target": str(exc)}) from None
        except WhoisNotFound as exc:
            raise NotFound.said(f"{_sentence(exc)}.") from None
        except WhoisTimeout as exc:
            raise UpstreamTimeout(f"WHOIS lookup timed out: {exc}.") from None
        except WhoisError as exc:
            raise UpstreamFailed(f"WHOIS lookup failed: {exc}.") from None


def _sentence(exc: Exception) -> str:
    text = str(exc).rstrip(".")
    return text[:1].upper() + text[1:]
