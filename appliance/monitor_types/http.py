"""http: a GET answers 2xx/3xx (or `expected_status`) within the timeout, containing `keyword` if set."""

from appliance import targets
from appliance.checkers.http import HttpChecker
from appliance.monitor_types.base import MonitorType

TYPE = MonitorType(
    name="http",
    summary="a GET (redirects followed) answers 2xx/3xx, or expected_status, in time, with keyword if set",
    parse_target=lambda target: (targets.url("http", targets.plain(target)), None),
    target_hint="http://example.com/health",
    options=("keyword", "expected_status"),
    shown=("keyword", "expected_status"),
    make_checker=lambda context, shared: HttpChecker(context),
)
