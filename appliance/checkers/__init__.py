"""Checker registry: monitor type -> checker (heartbeat is wired by the Appliance, which feeds it). Explicit imports (no dotted-string loading) so
PyInstaller sees every module; adding a type means one module here and one line below."""

from __future__ import annotations

from appliance.checkers.base import Checker, CheckerContext, CheckResult
from appliance.checkers.domain import DomainChecker
from appliance.checkers.http import HttpChecker
from appliance.checkers.ping import PingChecker
from appliance.checkers.sip import SipChecker
from appliance.checkers.tcp import TcpChecker

__all__ = ["Checker", "CheckerContext", "CheckResult", "build_checkers"]


def build_checkers(context: CheckerContext, whois=None) -> dict[str, Checker]:
    """`whois`: the appliance's shared WhoisClient (one cache for checks and the WHOIS tool)."""
    http = HttpChecker(context)
    return {
        "http": http,
        "https": http,
        "tcp": TcpChecker(context),
        "ping": PingChecker(context),
        "sip": SipChecker(context),
        "domain": DomainChecker(context, whois=whois),
    }
