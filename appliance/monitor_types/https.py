"""https: http over TLS, and with ssl_check (the default) a valid certificate for the host."""

from appliance import targets
from appliance.checkers.http import HttpChecker
from appliance.monitor_types.base import MonitorType

TYPE = MonitorType(
    name="https",
    summary="as http, over TLS; with ssl_check the certificate must be valid for the host and not expired",
    parse_target=lambda target: (targets.url("https", targets.plain(target)), None),
    target_hint="https://example.com/health",
    options=("ssl_check", "keyword", "expected_status"),
    defaults={"ssl_check": True},
    shown=("keyword", "expected_status"),
    details={"ssl": "ssl_check"},
    make_checker=lambda context, shared: HttpChecker(context),
)
