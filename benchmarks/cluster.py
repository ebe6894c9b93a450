"""Cluster mode at scale: N TCP monitors at 60 s, to local listeners, across three
`statuscore serve --cluster` nodes on one PostgreSQL (a throwaway cluster, fsync on).

Prints, per node: monitors held, CPU (share of one core over the measuring window) and RSS; then
kills one node with -9 and prints the failover time: from the kill until every monitor it held
has a new result written by another node.

    .venv/bin/python benchmarks/cluster.py --monitors 1000
    .venv/bin/python benchmarks/cluster.py --monitors 10000 --window 120
    .venv/bin/python benchmarks/cluster.py --monitors 10000 --profile /tmp/prof

--profile DIR also counts SQL statements per check (pg_stat_statements over the window) and, when
py-spy is installed (a dev tool: `pip install py-spy`, run as root), samples one node over the
window into DIR/node.collapsed (folded stacks, on-CPU only); `benchmarks/profile_share.py` sums them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import shutil
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.appliance import ApplianceProcess  # noqa: E402
from tests.support.net import wait_for  # noqa: E402
from tests.support.peers import TcpListener  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402

INTERVAL = 60
LEASE, BEAT = 15.0, 3.0  # the defaults


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def postgres_cpu_seconds(pg: PostgresServer) -> float:
    """The PostgreSQL server's CPU: the postmaster with its exited children, plus the live ones."""
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for child in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split():
        try:
            total += cpu_seconds(int(child))
        except (FileNotFoundError, ProcessLookupError):
            pass  # exited meanwhile (its time is now in the postmaster's)
    return total


def statement_counts(sql, checks: int) -> None:
    """The statements PostgreSQL ran over the window, most frequent first, per check."""
    rows = sql("SELECT calls, total_exec_time, rows, regexp_replace(query, '\\s+', ' ', 'g') "
               "FROM pg_stat_statements ORDER BY calls DESC LIMIT 15")
    total = sql("SELECT sum(calls), sum(total_exec_time) FROM pg_stat_statements")[0]
    print(f"\nSQL over the window: {total[0]} statements ({total[0] / max(checks, 1):.2f} per check), "
          f"{total[1] / 1000:.1f} s executing")
    print("| calls | per check | ms total | rows | statement |")
    print("|---:|---:|---:|---:|---|")
    for calls, ms, nrows, query in rows:
        print(f"| {calls} | {calls / max(checks, 1):.3f} | {ms:.0f} | {nrows} | `{query[:110]}` |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--window", type=float, default=120.0, help="seconds CPU is measured over")
    parser.add_argument("--profile", type=Path, help="folder for a py-spy profile of one node and SQL counts")
    args = parser.parse_args()

    pg = PostgresServer().start(durable=True, options="-c shared_preload_libraries=pg_stat_statements"
                                if args.profile else "")
    workdir = Path(tempfile.mkdtemp(prefix="statuscore-cluster-bench-"))
    listeners = [TcpListener().__enter__() for _ in range(8)]
    nodes: list[ApplianceProcess] = []
    try:
        url = pg.create_database()
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        env = {"STATUSCORE_DATABASE_URL": url, "STATUSCORE_PRO_MAX_MONITORS": "0", "STATUSCORE_LOG_LEVEL": "WARNING"}
        nodes = [ApplianceProcess(workdir / f"node{i}", args=["--cluster"], env=env).start(timeout=120)
                 for i in range(3)]
        admin = nodes[0].admin()
        started = time.monotonic()
        # Written straight into the shared database in one transaction (as an import would): the
        # API's create reloads the creating node's monitor cache on every call, quadratic at 10,000.
        from appliance.models import Monitor
        from appliance.storage.entities import EntityStore

        store = EntityStore(url)
        with store.session() as s:
            s.add_all([Monitor(user_id=admin.id, name=f"m{i}", type="tcp", target="127.0.0.1",
                               port=listeners[i % len(listeners)].port, interval=INTERVAL)
                       for i in range(args.monitors)])
            s.commit()
        store.close()
        print(f"wrote {args.monitors} monitors in {time.monotonic() - started:.1f} s")

        def sql(query, *params):
            with psycopg.connect(url, autocommit=True) as conn:
                return conn.execute(query, params).fetchall()

        def held() -> dict[str, int]:
            return dict(sql("SELECT n.name, count(*) FROM monitor_lease l JOIN cluster_node n USING (node_id) "
                            "WHERE l.expires_at > now() GROUP BY n.name"))

        wait_for(lambda: sum(held().values()) == args.monitors, timeout=120, interval=1,
                 message="every monitor leased")
        time.sleep(INTERVAL)  # the first spread interval: every monitor checked once

        def engine(p) -> dict:
            return p.api.get("/api/admin/engine", admin).json()

        spy = None
        if args.profile:
            sql("SELECT pg_stat_statements_reset()")
            py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
            if py_spy:
                spy = subprocess.Popen([py_spy, "record", "--nonblocking", "-r", "50", "-f", "raw",
                                        "-d", str(int(args.window)), "-p", str(nodes[1].proc.pid),
                                        "-o", str(args.profile / "node.collapsed")],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        before = {p.port: cpu_seconds(p.proc.pid) for p in nodes}
        checks_before = {p.port: engine(p)["checks_completed"] for p in nodes}
        pg_before = postgres_cpu_seconds(pg)
        rows_before = sql("SELECT count(*) FROM results")[0][0]
        time.sleep(args.window)
        rows = sql("SELECT count(*) FROM results")[0][0] - rows_before
        pg_cpu = (postgres_cpu_seconds(pg) - pg_before) / args.window * 100
        status = {p.port: engine(p) for p in nodes}
        if spy is not None:
            spy.wait(timeout=60)
        shares = held()
        print(f"\n{args.monitors} monitors @ {INTERVAL} s, lease {LEASE:.0f} s, heartbeat {BEAT:.0f} s; "
              f"{rows} results in {args.window:.0f} s (expected {args.monitors * args.window / INTERVAL:.0f})")
        print("| node | monitors held | CPU (% of a core) | RSS (MB) | checks | CPU ms per check | lag p99 (s) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for p in nodes:
            used = cpu_seconds(p.proc.pid) - before[p.port]
            checks = status[p.port]["checks_completed"] - checks_before[p.port]
            lag = status[p.port]["lag_p99_ms"]
            print(f"| {p.port} | {shares.get(next(k for k in shares if k.endswith(f':{p.port}')), 0)} | "
                  f"{used / args.window * 100:.1f} | {rss_mb(p.proc.pid):.0f} | {checks} | "
                  f"{used * 1000 / max(checks, 1):.2f} | {lag and lag / 1000:.1f} |")
        print(f"PostgreSQL: {pg_cpu:.1f} % of a core")
        if args.profile:
            statement_counts(sql, rows)

        victim = nodes[0]
        orphans = [m for (m,) in sql("SELECT l.monitor_id FROM monitor_lease l JOIN cluster_node n USING (node_id) "
                                     "WHERE n.name LIKE %s", f"%:{victim.port}")]
        killed = time.monotonic()
        killed_at = sql("SELECT timezone('UTC', now())")[0][0]
        victim.kill()

        def remaining() -> int:
            return sql("SELECT count(*) FROM unnest(%s::integer[]) AS m WHERE NOT EXISTS "
                       "(SELECT 1 FROM results r WHERE r.monitor_id = m AND r.checked_at > %s)", orphans, killed_at)[0][0]

        taken = None
        while time.monotonic() - killed < 2 * INTERVAL + LEASE + 60:
            if taken is None and not any(k.endswith(f":{victim.port}") for k in held()):
                taken = time.monotonic() - killed
            if remaining() == 0:
                break
            time.sleep(0.5)
        print(f"\nkill -9 of a node holding {len(orphans)} monitors: leases taken over after "
              f"{taken if taken is None else round(taken, 1)} s; every one checked again after "
              f"{time.monotonic() - killed:.1f} s (bound: 2 x {INTERVAL} + {LEASE:.0f} = {2 * INTERVAL + LEASE:.0f} s); "
              f"not checked again: {remaining()}")
        downs = sql("SELECT count(*) FROM state_change WHERE event = 'monitor.down'")[0][0]
        print(f"down alerts (all targets stayed up): {downs}")
    finally:
        for p in nodes:
            p.stop()
        for tcp in listeners:
            tcp.close()
        pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
