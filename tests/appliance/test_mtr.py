"""MTR: the per-hop summary (pure), the host taken from each kind of monitor target, and real
runs to 127.0.0.1 (one hop) with the bounds around them: runs at once, permission, name
lookups that hang. The multi-hop path through network namespaces is test_mtr_namespaces.py."""

from __future__ import annotations

import socket
import threading

import pytest
from icmplib import ICMPRequest, ICMPv4Socket
from icmplib.exceptions import SocketPermissionError
from icmplib.utils import unique_identifier

import appliance.tools.mtr as mtr_module
from appliance.tools.mtr import (MTR_HELP, Mtr, MtrBusy, MtrPermissionError, MtrResolveError, build_report,
                                 system_resolve, target_host)
from tests.support.icmp import needs_raw_icmp


def hosts_file_name(address: str) -> str:
    """The first name /etc/hosts gives the address (what getnameinfo answers without DNS)."""
    try:
        with open("/etc/hosts") as hosts:
            for line in hosts:
                fields = line.split("#", 1)[0].split()
                if len(fields) > 1 and fields[0] == address:
                    return fields[1]
    except OSError:
        pass
    pytest.skip(f"/etc/hosts does not name {address}")


# ---- the host of a monitor's target ----------------------------------------------------------

@pytest.mark.parametrize("kind, target, host", [
    ("http", "http://127.0.0.1:8080/health", "127.0.0.1"),
    ("https", "https://Example.COM/path?q=1", "example.com"),
    ("https", "https://[2001:db8::1]:8443/", "2001:db8::1"),
    ("https", "https://user:pw@example.com:444/", "example.com"),
    ("tcp", "db.internal", "db.internal"),
    ("tcp", "127.0.0.1:5432", "127.0.0.1"),
    ("tcp", "[::1]:5432", "::1"),
    ("ping", "127.10.0.1", "127.10.0.1"),
    ("ping", "::1", "::1"),
    ("ping", "example.com.", "example.com"),
    ("domain", "example.com", "example.com"),
    ("sip", "sip:pbx.example.com:5060", "pbx.example.com"),
    ("sip", "sip:alice@127.0.0.1;transport=tcp", "127.0.0.1"),
    ("sip", "127.0.0.1:5061", "127.0.0.1"),
    ("sip", "sip:[::1]:5060", "::1"),
])
def test_it_takes_the_host_from_every_kind_of_target(kind, target, host):
    assert target_host(kind, target) == host


@pytest.mark.parametrize("kind, target", [
    ("heartbeat", None), ("http", ""), ("http", "http:///nohost"), ("https", "https://exa mple.com/"),
    ("tcp", "   "),
])
def test_it_refuses_targets_without_a_host(kind, target):
    with pytest.raises(ValueError):
        target_host(kind, target)


@pytest.mark.parametrize("kind, target", [("tcp", "[::1"), ("tcp", "[::1]x"), ("sip", "sip:[::1")])
def test_it_refuses_a_bracketed_address_that_is_not_closed_or_followed_by_a_port(kind, target):
    # It used to trace ::1, for a target no checker (and no host:port setting) reads as ::1.
    with pytest.raises(ValueError, match="cannot find a host"):
        target_host(kind, target)


# ---- the summary --------------------------------------------------------------------------------

def test_it_summarises_each_hop_over_the_rounds():
    rounds = [
        {1: ("127.10.0.1", 1.0, "hop"), 2: ("127.10.1.1", 5.0, "hop"), 3: ("127.0.2.7", 10.0, "end"),
         4: ("127.0.2.7", 10.5, "end")},  # the first round probes past the end too
        {1: ("127.10.0.1", 3.0, "hop"), 3: ("127.0.2.7", 12.0, "end")},  # hop 2 lost
        {1: ("127.10.0.1", 2.0, "hop"), 2: ("127.10.1.1", 7.0, "hop"), 3: ("127.0.2.7", 14.0, "end")},
    ]
    report = build_report("example.com", "127.0.2.7", rounds, names={"127.10.0.1": "gw.lan"})
    assert report.reached and report.rounds == 3
    assert [h.hop for h in report.hops] == [1, 2, 3]
    first, second, last = report.hops
    assert (first.host, first.address) == ("gw.lan", "127.10.0.1")
    assert (first.sent, first.loss_pct, first.last, first.best, first.worst, first.avg) == (3, 0.0, 2.0, 1.0, 3.0, 2.0)
    assert first.stdev == 1.0
    assert (second.host, second.sent, second.loss_pct, second.last, second.avg) == ("127.10.1.1", 3, 33.3, 7.0, 6.0)
    assert (last.address, last.best, last.worst, last.avg, last.stdev) == ("127.0.2.7", 10.0, 14.0, 12.0, 2.0)
    body = report.to_dict()
    assert set(body) == {"target", "address", "rounds", "reached", "hops"}
    assert set(body["hops"][0]) == {"hop", "host", "address", "loss_pct", "sent", "last", "avg", "best",
                                    "worst", "stdev"}


def test_it_shows_a_silent_hop_as_lost_and_ends_at_the_last_answer_without_the_destination():
    rounds = [{1: ("127.10.0.1", 1.0, "hop"), 3: ("127.10.2.1", 3.0, "hop")}, {1: ("127.10.0.1", 1.5, "hop")}]
    report = build_report("127.19.9.9", "127.19.9.9", rounds)
    assert not report.reached
    assert [h.hop for h in report.hops] == [1, 2, 3]
    silent = report.hops[1]
    assert (silent.host, silent.address, silent.loss_pct, silent.sent) == ("???", None, 100.0, 2)
    assert silent.last is silent.avg is silent.best is silent.worst is silent.stdev is None
    assert report.hops[2].loss_pct == 50.0 and report.hops[2].stdev == 0.0


def test_it_ends_the_path_at_the_nearest_end_answer_of_any_round():
    rounds = [{1: ("127.10.0.1", 1.0, "hop"), 2: ("127.10.0.9", 2.0, "end")},
              {1: ("127.10.0.9", 1.0, "end"), 2: ("127.10.0.9", 2.0, "end")}]
    report = build_report("127.10.0.9", "127.10.0.9", rounds)
    assert [h.hop for h in report.hops] == [1]


def test_it_reports_no_hops_when_nothing_answered():
    report = build_report("127.19.9.9", "127.19.9.9", [{}, {}])
    assert report.hops == () and not report.reached and report.rounds == 2


# ---- real runs to 127.0.0.1 ------------------------------------------------------------------

@needs_raw_icmp
def test_it_traces_loopback_as_one_hop_with_its_name():
    report = Mtr(interval=0.05).run("127.0.0.1", rounds=3, timeout=2)
    assert report.reached and report.rounds == 3
    (hop,) = report.hops
    assert hop.hop == 1 and hop.address == "127.0.0.1"
    assert hop.host == hosts_file_name("127.0.0.1")  # from /etc/hosts: no DNS server is asked
    assert hop.sent == 3 and hop.loss_pct == 0.0
    assert 0 <= hop.best <= hop.avg <= hop.worst and hop.stdev >= 0
    assert hop.last is not None


@needs_raw_icmp
def test_a_reply_that_arrived_before_the_process_could_read_it_is_not_a_loss():
    # A busy box: this thread gets the CPU back only after the round's deadline, with the
    # answer already waiting in the socket (timeout 0 stands for that delay). It was counted
    # lost: 50 % loss to 127.0.0.1 in a loaded test run.
    with ICMPv4Socket(privileged=True) as sock:
        answers = mtr_module._probe_round(sock, "127.0.0.1", 4, unique_identifier(), 0, 3, timeout=0.0)
    assert list(answers) == [1] and answers[1][0] == "127.0.0.1" and answers[1][2] == "end"


@needs_raw_icmp
def test_other_icmp_queued_on_its_socket_between_rounds_does_not_crowd_out_the_answers():
    # A raw ICMP socket gets a copy of every ICMP packet on the host. Another program's pings
    # during the pause between rounds filled its buffer, and the kernel dropped the next round's
    # answer (50 % loss to 127.0.0.1 while the fuzz test traced at the same time).
    with ICMPv4Socket(privileged=True) as sock, ICMPv4Socket(privileged=True) as other:
        ident = unique_identifier()
        noise = (ident + 1) & 0xFFFF
        for sequence in range(1500):  # 3,000 packets (requests, replies) queue on `sock`: full
            other.send(ICMPRequest(destination="127.0.0.1", id=noise, sequence=sequence))
        answers = mtr_module._probe_round(sock, "127.0.0.1", 4, ident, 1, 1, timeout=1.0)
    assert answers and answers[1][0] == "127.0.0.1"


@needs_raw_icmp
def test_it_traces_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    report = Mtr(interval=0.05, reverse=None).run("::1", rounds=2, timeout=2)  # no PTR query for ::1
    assert report.reached and [(h.hop, h.address, h.sent, h.loss_pct) for h in report.hops] == [(1, "::1", 2, 0.0)]


@needs_raw_icmp
def test_it_never_waits_for_a_reverse_lookup_that_hangs():
    release = threading.Event()
    asked = []

    def hanging_reverse(address):
        asked.append(address)
        release.wait(30)
        return "late.example"

    try:
        report = Mtr(interval=0.05, reverse=hanging_reverse, ptr_timeout=0.2).run("127.0.0.1", rounds=1)
        assert asked == ["127.0.0.1"]
        assert not release.is_set()  # the lookup still hangs, and the report is here
        assert report.hops[0].host == "127.0.0.1"
    finally:
        release.set()


@needs_raw_icmp
def test_it_keeps_only_names_that_look_like_host_names():
    report = Mtr(interval=0.05, reverse=lambda address: "evil\r\nname; rm -rf /").run("127.0.0.1", rounds=1)
    assert report.hops[0].host == "127.0.0.1"
    report = Mtr(interval=0.05, reverse=None).run("127.0.0.1", rounds=1)
    assert report.hops[0].host == "127.0.0.1"


def test_it_bounds_the_runs_in_progress():
    entered, release = threading.Barrier(3), threading.Event()

    def slow_resolve(host):  # holds a run inside its slot until released
        entered.wait(10)
        release.wait(30)
        raise MtrResolveError(f"cannot resolve {host}: test")

    tool = Mtr(max_concurrent=2, resolve=slow_resolve)
    errors = []

    def run():
        try:
            tool.run("held.test")
        except MtrResolveError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        entered.wait(10)  # both runs hold their slot now
        with pytest.raises(MtrBusy, match="at most 2 at a time"):
            tool.run("third.test")
    finally:
        release.set()
        for thread in threads:
            thread.join(10)
    assert len(errors) == 2

    def unknown(host):
        raise MtrResolveError(f"cannot resolve {host}: test")

    tool.resolve = unknown
    for _ in range(3):  # the slots are free again: each run gets one and gives it back
        with pytest.raises(MtrResolveError):
            tool.run("again.test")


def test_it_explains_that_raw_icmp_is_needed(monkeypatch):
    class Refused:
        def __init__(self, *args, **kwargs):
            raise SocketPermissionError(True)

    monkeypatch.setattr(mtr_module, "ICMPv4Socket", Refused)
    with pytest.raises(MtrPermissionError) as caught:
        Mtr().run("127.0.0.1")
    assert str(caught.value) == MTR_HELP == "MTR needs raw ICMP sockets: run as root or grant CAP_NET_RAW"


def test_it_checks_its_arguments():
    tool = Mtr()
    for kwargs in ({"rounds": 0}, {"rounds": 101}, {"max_hops": 0}, {"max_hops": 65}, {"timeout": 0}):
        with pytest.raises(ValueError):
            tool.run("127.0.0.1", **kwargs)


def test_it_resolves_addresses_without_any_lookup_and_reports_unknown_names(monkeypatch):
    def no_lookup(*args, **kwargs):
        raise AssertionError("an IP address needs no lookup")

    monkeypatch.setattr(mtr_module.socket, "getaddrinfo", no_lookup)
    assert system_resolve("127.0.0.1") == "127.0.0.1"
    assert system_resolve("::1") == "::1"

    def unknown(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(mtr_module.socket, "getaddrinfo", unknown)
    with pytest.raises(MtrResolveError, match="cannot resolve nowhere.test: Name or service not known"):
        system_resolve("nowhere.test")


def test_the_appliance_owns_one_mtr_bounded_by_its_setting(tmp_path):
    from appliance.config import Settings
    from appliance.service import Appliance

    appliance = Appliance(Settings.load({"data_dir": tmp_path / "data", "mtr_concurrency": 3}, env={}))
    try:
        assert isinstance(appliance.mtr, Mtr) and appliance.mtr.max_concurrent == 3
    finally:
        appliance.stop()
