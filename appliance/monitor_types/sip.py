"""sip: a SIP OPTIONS request (UDP by default, port 5060) gets any final response."""

from appliance import targets
from appliance.checkers.sip import SipChecker
from appliance.monitor_types.base import MonitorType


def _parse_target(target: str) -> tuple[str, int | None]:
    parsed = targets.sip(targets.plain(target))
    return parsed.stored(), parsed.port  # the port a target names goes to the port field


TYPE = MonitorType(
    name="sip",
    summary="a SIP OPTIONS request (UDP, or TCP with ;transport=tcp; port 5060) gets a final response",
    parse_target=_parse_target,
    target_hint="host or sip:host[:port]",
    options=("port",),
    make_checker=lambda context, shared: SipChecker(context),
)
