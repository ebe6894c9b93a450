"""`host[:port]` settings, now parsed in appliance.targets (host_port, ascii_host).

Kept as a re-export only while appliance/config.py, being reworked elsewhere, still imports
from here; point that import at appliance.targets and delete this module.
"""

from appliance.targets import ascii_host as check_host
from appliance.targets import host_port as parse_host_port

__all__ = ["check_host", "parse_host_port"]
