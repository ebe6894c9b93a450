"""tcp: a TCP connection to target:port completes within the timeout."""

from appliance import targets
from appliance.checkers.tcp import TcpChecker
from appliance.monitor_types.base import MonitorType

TYPE = MonitorType(
    name="tcp",
    summary="a TCP connection to target:port completes in time",
    parse_target=lambda target: (targets.host(targets.plain(target)), None),
    target_hint="host name or IP (and the port below)",
    options=("port",),
    required=("port",),
    make_checker=lambda context, shared: TcpChecker(context),
)
