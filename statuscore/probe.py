"""`statuscore probe`: this machine as a remote location of an appliance."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from appliance import __version__


def add_to(commands) -> None:
    probe = commands.add_parser("probe", help="run as a remote location of an appliance")
    probe.add_argument("--server", required=True, help="the appliance's URL, e.g. https://status.example.com")
    probe.add_argument("--token", help="the probe token from POST /api/admin/probes (or STATUSCORE_PROBE_TOKEN)")
    probe.add_argument("--location", required=True, help="this probe's location name, as registered")
    probe.add_argument("--source-address", help="bind outgoing checks to this local address")
    probe.add_argument("--data-dir", help="where results are spooled while the appliance is unreachable")
    probe.add_argument("--ca-file", help="extra CA certificates https checks trust")
    probe.add_argument("--check-workers", type=int, default=16, help="checks run in parallel (default 16)")
    probe.set_defaults(handler=cmd_probe)


def cmd_probe(args: argparse.Namespace) -> int:
    from appliance.config import default_data_dir
    from appliance.probe import ProbeAgent

    token = args.token or os.environ.get("STATUSCORE_PROBE_TOKEN")
    if not token:
        print("statuscore: give the probe token with --token or STATUSCORE_PROBE_TOKEN", file=sys.stderr)
        return 2
    data_dir = Path(args.data_dir or os.environ.get("STATUSCORE_DATA_DIR") or default_data_dir() / "probe")
    agent = ProbeAgent(args.server, token, args.location, data_dir, source_address=args.source_address,
                       ca_file=args.ca_file, workers=args.check_workers)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    print(f"StatusCore probe {__version__}: location {args.location}, reporting to {args.server} "
          f"(spool in {data_dir})", flush=True)
    try:
        agent.run()
    except KeyboardInterrupt:
        agent.stop()
    return 0
