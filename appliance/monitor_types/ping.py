"""ping: ICMP echo replies come back; response time is the average round trip."""

from appliance import targets
from appliance.checkers.ping import PingChecker
from appliance.monitor_types.base import MonitorType

TYPE = MonitorType(
    name="ping",
    summary="ICMP echo replies come back (response time: the average round trip; packet loss reported)",
    parse_target=lambda target: (targets.host(targets.plain(target)), None),
    target_hint="host name or IP, e.g. 192.0.2.10",
    make_checker=lambda context, shared: PingChecker(context),
)
