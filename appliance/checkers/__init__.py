"""Checker registry: monitor type -> checker. Explicit imports (no dotted-string loading) so
PyInstaller sees every module; adding a type means one module here and one line below."""

from __future__ import annotations

from appliance.checkers.base import Checker, CheckerContext, CheckResult
from appliance.checkers.http import HttpChecker
from appliance.checkers.tcp import TcpChecker

__all__ = ["Checker", "CheckerContext", "CheckResult", "build_checkers"]


def build_checkers(context: CheckerContext) -> dict[str, Checker]:
    http = HttpChecker(context)
    return {
        "http": http,
        "https": http,
        "tcp": TcpChecker(context),
    }
