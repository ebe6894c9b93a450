"""heartbeat: the monitored job calls its heartbeat URL; down when no call came within
interval + grace seconds (pushed: the appliance feeds appliance.checkers.heartbeat itself)."""

from appliance.monitor_types.base import MonitorType

TYPE = MonitorType(
    name="heartbeat",
    summary="the job calls GET|POST /api/heartbeat/<token> at least every interval + grace seconds",
    parse_target=None,
    options=("grace",),
    defaults={"grace": 60},
    shown=("heartbeat_url", "heartbeat_full_url", "grace"),
    pushed=True,
)
