"""domain: the name resolves (DNS) and its registration (WHOIS) has not expired."""

from appliance import targets
from appliance.checkers.domain import DomainChecker
from appliance.monitor_types.base import MonitorType

TYPE = MonitorType(
    name="domain",
    summary="the name resolves and its registration (WHOIS) has not expired; an alert under 30 days left",
    parse_target=lambda target: (targets.domain(targets.plain(target)), None),
    target_hint="example.com",
    details={"domain": None},
    make_checker=lambda context, shared: DomainChecker(context, whois=shared.get("whois")),
)
