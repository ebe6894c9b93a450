"""Checkers: one module per kind of check, each a Checker with check(spec) -> CheckResult
(base.py). Which type uses which checker is declared by the monitor types
(appliance/monitor_types), which build them: monitor_types.build_checkers.
"""

from __future__ import annotations

from appliance.checkers.base import Checker, CheckerContext, CheckResult

__all__ = ["Checker", "CheckerContext", "CheckResult"]
