"""Cluster mode: real `statuscore serve --cluster` processes on one real PostgreSQL database,
monitors pointing at real local peers, a real webhook receiver.

Leases of 4 s renewed every second, checks every 10 s: failover within 2 x interval + lease.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.support.appliance import ApplianceProcess
from tests.support.net import wait_for
from tests.support.peers import HttpPeer, TcpListener
from tests.support.receiver import Receiver
from tests.support.tcp_proxy import SocketProxy

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("heavy")]

LEASE, BEAT, INTERVAL = 4.0, 1.0, 10  # the API's shortest interval


def node(tmp_path, name: str, url: str, **env) -> ApplianceProcess:
    return ApplianceProcess(tmp_path / name, args=["--cluster"], env={
        "STATUSCORE_DATABASE_URL": url, "STATUSCORE_CLUSTER_LEASE_SECONDS": str(LEASE),
        "STATUSCORE_CLUSTER_HEARTBEAT_SECONDS": str(BEAT), "STATUSCORE_WEBHOOK_TIMEOUT": "3",
        "STATUSCORE_FLUSH_INTERVAL": "0.2", **env})


def start_all(nodes: list[ApplianceProcess]) -> list[ApplianceProcess]:
    """Side by side, as a cluster's nodes come up after a power cut (migrations race too)."""
    for proc in nodes:
        proc.launch()
    try:
        for proc in nodes:
            proc.wait_ready(timeout=60)
    except BaseException:
        stop_all(nodes)
        raise
    return nodes


def stop_all(nodes) -> None:
    for proc in nodes:
        proc.stop()


def sql(url: str, query: str, *params):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def leases(url: str) -> dict[int, str]:
    """monitor id -> the port of the node holding its live lease."""
    rows = sql(url, "SELECT l.monitor_id, n.name FROM monitor_lease l JOIN cluster_node n USING (node_id) "
                    "WHERE l.expires_at > now()")
    return {m: name.rsplit(":", 1)[1] for m, name in rows}


def results(url: str, monitor_id: int, since) -> int:
    return sql(url, "SELECT count(*) FROM results WHERE monitor_id = %s AND checked_at > %s", monitor_id, since)[0][0]


def db_now(url: str):
    return sql(url, "SELECT timezone('UTC', now())")[0][0]


def events(url: str, monitor_id: int) -> list[str]:
    return [e for (e,) in sql(url, "SELECT event FROM state_change WHERE monitor_id = %s ORDER BY id", monitor_id)]


def tcp_monitors(api, admin, listeners, **fields) -> list[dict]:
    return [api.create_monitor(admin, name=f"Service {i}", type="tcp", target="127.0.0.1", port=tcp.port,
                               interval=INTERVAL, retries=0, **fields) for i, tcp in enumerate(listeners)]


def test_it_refuses_cluster_mode_without_postgresql(tmp_path):
    proc = ApplianceProcess(tmp_path / "data", args=["--cluster"])
    with pytest.raises(RuntimeError) as failure:
        proc.start(timeout=30)
    assert "--cluster needs STATUSCORE_DATABASE_URL" in str(failure.value)


def test_three_nodes_share_the_monitors_and_each_is_checked_by_one(tmp_path, postgres_url):
    # Enough monitors that hashing gives every node some (a node with none: 3 x (2/3)^24, 0.02 %).
    listeners = [TcpListener().__enter__() for _ in range(24)]
    nodes = start_all([node(tmp_path, f"n{i}", postgres_url) for i in range(3)])
    try:
        admin = nodes[0].admin()
        monitors = tcp_monitors(nodes[0].api, admin, listeners)
        ids = {m["id"] for m in monitors}
        ports = {str(p.port) for p in nodes}
        wait_for(lambda: set(leases(postgres_url)) == ids and set(leases(postgres_url).values()) == ports,
                 timeout=20, message="every monitor leased, every node holding some")
        owners = leases(postgres_url)
        # Each monitor checked by exactly one node: over a window, one result per interval (two
        # checkers would write twice as many).
        start = db_now(postgres_url)
        time.sleep(3 * INTERVAL)
        assert leases(postgres_url) == owners, "no rebalancing while the nodes stay"
        for monitor_id in ids:
            assert 2 <= results(postgres_url, monitor_id, start) <= 4, monitor_id
        # Each node's engine runs exactly the monitors it holds.
        for proc in nodes:
            metrics = proc.api.get("/metrics", proc.admin()).text
            scheduled = [line for line in metrics.splitlines() if line.startswith("statuscore_monitors_scheduled ")]
            held = sum(1 for port in owners.values() if port == str(proc.port))
            assert scheduled == [f"statuscore_monitors_scheduled {held}"]
            assert "statuscore_cluster_nodes 3" in metrics
        # Any node answers for every monitor, with its live state.
        for proc in nodes:
            body = proc.api.get("/api/monitors", proc.admin()).json()
            listed = body["monitors"] if isinstance(body, dict) else body
            assert {m["id"] for m in listed} >= ids
            assert all(m["status"] == "up" for m in listed if m["id"] in ids)
    finally:
        stop_all(nodes)
        for tcp in listeners:
            tcp.close()


def test_kill_9_fails_over_without_false_down_and_alerts_once(tmp_path, postgres_url):
    listeners = [TcpListener().__enter__() for _ in range(6)]
    nodes = start_all([node(tmp_path, f"n{i}", postgres_url) for i in range(3)])
    try:
        with HttpPeer() as web, Receiver() as hook:
            admin = nodes[0].admin()
            response = nodes[0].api.post("/api/settings/webhooks", admin, json={
                "url": hook.url, "format": "generic", "events": ["monitor.down", "monitor.up"]})
            assert response.status_code == 201, response.text
            monitors = tcp_monitors(nodes[0].api, admin, listeners)
            site = nodes[0].api.create_monitor(admin, name="Site", type="http", target=web.url + "/",
                                               interval=INTERVAL, retries=0)
            ids = {m["id"] for m in monitors} | {site["id"]}
            wait_for(lambda: set(leases(postgres_url)) == ids, timeout=20, message="every monitor leased")
            wait_for(lambda: all(nodes[1].api.get(f"/api/monitors/{i}", admin).json()["status"] == "up"
                                 for i in ids), timeout=20, message="every monitor up")
            owners = leases(postgres_url)
            victim = next(p for p in nodes if str(p.port) == owners[site["id"]])
            survivors = [p for p in nodes if p is not victim]
            orphans = [m for m, port in owners.items() if port == str(victim.port)]

            victim.kill()
            killed_at = db_now(postgres_url)
            web.set_status(503)  # the site goes down while its node is gone

            def checked_again():
                return all(results(postgres_url, m, killed_at) >= 1 for m in orphans)

            wait_for(checked_again, timeout=2 * INTERVAL + LEASE + 2 * BEAT + 3,
                     message="the dead node's monitors checked by the others")
            taken = leases(postgres_url)
            assert all(taken.get(m) in {str(p.port) for p in survivors} for m in orphans)
            wait_for(lambda: hook.events() == ["monitor.down"], timeout=20, message="one down alert")
            time.sleep(INTERVAL + LEASE)
            assert hook.events() == ["monitor.down"], "the down is announced once"
            for monitor_id in ids - {site["id"]}:
                assert events(postgres_url, monitor_id) == [], "no false down for a target that stayed up"
            assert events(postgres_url, site["id"]) == ["monitor.down"]
            web.set_status(None)
            wait_for(lambda: hook.events() == ["monitor.down", "monitor.up"], timeout=20, message="the recovery")
    finally:
        stop_all(nodes)
        for tcp in listeners:
            tcp.close()


def test_an_edit_through_one_node_reaches_the_others(tmp_path, postgres_url):
    listeners = [TcpListener().__enter__() for _ in range(12)]
    nodes = start_all([node(tmp_path, f"n{i}", postgres_url) for i in range(2)])
    try:
        a, b = nodes
        admin = a.admin()
        monitors = tcp_monitors(a.api, admin, listeners)
        wait_for(lambda: len(leases(postgres_url)) == len(monitors) and str(b.port) in leases(postgres_url).values(),
                 timeout=20, message="every monitor leased, node B holding some")
        owners = leases(postgres_url)
        theirs = next(m["id"] for m in monitors if owners[m["id"]] == str(b.port))
        # Renamed through A: B answers with the new name within a few heartbeats.
        assert a.api.put(f"/api/monitors/{theirs}", admin, json={"name": "Renamed"}).status_code == 200
        wait_for(lambda: b.api.get(f"/api/monitors/{theirs}", b.admin()).json()["name"] == "Renamed",
                 timeout=5 * BEAT + 2, message="node B to see the new name")
        # Pointed at a closed port through A: B (its owner) checks the new target and sees it down.
        with TcpListener() as spare:
            closed = spare.port
        assert a.api.put(f"/api/monitors/{theirs}", admin,
                           json={"port": closed}).status_code == 200
        wait_for(lambda: a.api.get(f"/api/monitors/{theirs}", admin).json()["status"] == "down",
                 timeout=5 * BEAT + 2 * INTERVAL + 2, message="node B to check the edited target")
        assert events(postgres_url, theirs) == ["monitor.down"]

        # A heartbeat monitor's job calls whichever node the load balancer picks: pings at the node
        # that does not own it reach the owner, which sees no missed deadline.
        job = a.api.create_monitor(admin, name="Job", type="heartbeat", interval=INTERVAL, grace=0)
        token = job["heartbeat_token"] if "heartbeat_token" in job else job["heartbeat_url"].rsplit("/", 1)[1]
        # The job runs from the start: its deadline counts from creation, and waiting for the
        # lease without a call could outlast the interval on a loaded box (a rightful down).
        def called_and_leased():
            assert a.api.get(f"/api/heartbeat/{token}").status_code == 200
            return job["id"] in leases(postgres_url)

        wait_for(called_and_leased, timeout=10, interval=1, message="the job's monitor leased")
        other = a if leases(postgres_url)[job["id"]] == str(b.port) else b
        for _ in range(int(2.5 * INTERVAL / 2)):
            assert other.api.get(f"/api/heartbeat/{token}").status_code == 200
            time.sleep(2)
        assert a.api.get(f"/api/monitors/{job['id']}", admin).json()["status"] == "up"
        assert events(postgres_url, job["id"]) == []
    finally:
        stop_all(nodes)
        for tcp in listeners:
            tcp.close()


def test_a_partitioned_node_stops_and_rejoins(tmp_path, postgres_server, postgres_url):
    listeners = [TcpListener().__enter__() for _ in range(16)]  # the proxied node holds none: 2 x 2^-16
    name = urlsplit(postgres_url).path.strip("/")
    with SocketProxy(postgres_server.dir / ".s.PGSQL.5432") as proxy:
        via_proxy = f"postgresql://postgres@127.0.0.1:{proxy.port}/{name}?connect_timeout=2"
        nodes = start_all([node(tmp_path, "direct", postgres_url), node(tmp_path, "proxied", via_proxy)])
        direct, cut_off = nodes
        try:
            admin = direct.admin()
            monitors = tcp_monitors(direct.api, admin, listeners)
            ids = [m["id"] for m in monitors]
            wait_for(lambda: set(leases(postgres_url)) == set(ids)
                     and str(cut_off.port) in leases(postgres_url).values(),
                     timeout=20, message="both nodes holding monitors")
            proxy.cut()
            cut_at = db_now(postgres_url)
            # Within its lease the cut-off node stops; then the other takes every monitor over.
            wait_for(lambda: set(leases(postgres_url).values()) == {str(direct.port)}
                     and len(leases(postgres_url)) == len(ids),
                     timeout=LEASE + 3 * BEAT + 5, message="the reachable node to hold every monitor")
            time.sleep(BEAT)
            # Each target is connected to by one checker only: one check per interval (the cut-off
            # node still checking its share would double those).
            before = [tcp.accepted for tcp in listeners]
            time.sleep(3 * INTERVAL)
            for tcp, was in zip(listeners, before):
                assert 2 <= tcp.accepted - was <= 4, "a cut-off node must stop checking"
            for monitor_id in ids:
                assert results(postgres_url, monitor_id, cut_at) >= 1
                assert events(postgres_url, monitor_id) == []
            assert "stopped checking" in cut_off.log()
            proxy.heal()
            wait_for(lambda: str(cut_off.port) in leases(postgres_url).values(), timeout=LEASE + 10 * BEAT + 10,
                     message="the healed node to rejoin")
            assert "cluster heartbeat works again" in cut_off.log()
        finally:
            stop_all(nodes)
            for tcp in listeners:
                tcp.close()


def test_many_monitors_taken_at_once_are_spread_over_their_interval(tmp_path, postgres_url):
    # A cluster's first start (or an import) hands a node many never-checked monitors at once:
    # checked together they would stay together, a burst every interval (at 10,000 monitors the
    # schedule lagged 19 s). More than the check workers at once are spread as a start spreads them.
    from appliance.models import Monitor
    from appliance.storage.entities import EntityStore
    from tests.support.appliance import cheap_hasher

    with TcpListener() as tcp:
        proc = start_all([node(tmp_path, "a", postgres_url, STATUSCORE_CHECK_WORKERS="2")])[0]
        try:
            admin = proc.admin()
            store = EntityStore(postgres_url, hasher=cheap_hasher())
            with store.session() as s:  # in one transaction, as an import writes them
                s.add_all([Monitor(user_id=admin.id, name=f"m{i}", type="tcp", target="127.0.0.1", port=tcp.port,
                                   interval=INTERVAL) for i in range(12)])
                s.commit()
            store.close()

            def first_checks():
                return sql(postgres_url, "SELECT monitor_id, min(checked_at) FROM results GROUP BY monitor_id")

            wait_for(lambda: len(first_checks()) == 12, timeout=3 * INTERVAL, message="every monitor checked")
            firsts = sorted(at for _m, at in first_checks())
            # Spread: first checks over most of the interval (checked at once: within a second).
            assert (firsts[-1] - firsts[0]).total_seconds() >= INTERVAL * 0.4, firsts
        finally:
            stop_all([proc])
