"""sip: a SIP OPTIONS request (UDP by default, port 5060) gets any final response."""

from appliance import targets
from appliance.checkers.sip import SipChecker
from appliance.monitor_types.base import MonitorType

TYPE = MonitorType(
    name="sip",
    summary="a SIP OPTIONS request (UDP, or TCP with ;transport=tcp; port 5060) gets a final response",
    parse_target=lambda target: targets.sip(targets.plain(target)),
    options=("port",),
    make_checker=lambda context, shared: SipChecker(context),
)
