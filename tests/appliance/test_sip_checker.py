"""The sip checker against real SIP peers on 127.0.0.1: SIPp (a real SIP stack) over UDP and TCP,
and a scripted Python responder for the matching rules (branch, Call-ID, CSeq, provisional
responses, compact headers, framing), retransmissions, hostile peers and down cases."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from appliance import __version__
from appliance.checkers.base import CheckerContext
from appliance.checkers.sip import MAX_STREAM_BYTES, SipChecker, _Failure, _StreamReader
from appliance.spec import MonitorSpec
from appliance.targets import read_sip
from appliance.validation import InvalidMonitor, normalize_monitor
from tests.support.net import free_port, wait_for
from tests.support.sip_peer import SipPeer, header, parse_request

SCENARIO = Path(__file__).parent / "sip" / "options_uas.xml"
SIPP = shutil.which("sipp")
needs_sipp = pytest.mark.skipif(SIPP is None, reason="sipp not installed (Debian package sip-tester; "
                                                     "install.sh test installs it)")


def spec(target: str, **fields) -> MonitorSpec:
    values = {"id": 1, "user_id": 1, "name": "pbx", "type": "sip", "target": target, "timeout": 5}
    values.update(fields)
    return MonitorSpec(**values)


def timed(monitor, context: CheckerContext | None = None):
    started = time.monotonic()
    result = SipChecker(context).check(monitor)
    return result, time.monotonic() - started


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- SIPp ----------------------------------------------------------------------------------------

def _bound(port: int, transport: str) -> bool:
    """Whether 127.0.0.1:port is bound (UDP) or listening (TCP), from /proc/net (no traffic)."""
    table, state = ("/proc/net/udp", "07") if transport == "udp" else ("/proc/net/tcp", "0A")
    wanted = f"0100007F:{port:04X}"
    try:
        rows = Path(table).read_text().splitlines()[1:]
    except OSError:
        return True  # no /proc: rely on the check's own retransmissions and timeout
    return any(row.split()[1] == wanted and row.split()[3] == state for row in rows)


@contextmanager
def sipp_uas(transport: str, workdir: Path):
    """sipp answering OPTIONS on 127.0.0.1 (our scenario), killed whatever happens."""
    port = free_udp_port() if transport == "udp" else free_port()
    command = [SIPP, "-sf", str(SCENARIO), "-i", "127.0.0.1", "-p", str(port),
               "-t", "u1" if transport == "udp" else "t1", "-nostdin", "-timeout", "60s"]
    log_path = workdir / f"sipp-{transport}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: proc.poll() is not None or _bound(port, transport), timeout=10,
                     message=f"sipp to listen on {transport} port {port}")
            if proc.poll() is not None:
                pytest.fail(f"sipp exited with {proc.returncode}: {' '.join(command)}\n"
                            f"{log_path.read_text(errors='replace')[-2000:]}")
            yield port
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


@needs_sipp
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_it_is_up_when_sipp_answers_options(transport, tmp_path):
    with sipp_uas(transport, tmp_path) as port:
        suffix = ";transport=tcp" if transport == "tcp" else ""
        for _ in range(2):  # a fresh Call-ID each time: SIPp sees a new call and answers again
            result, _ = timed(spec(f"sip:127.0.0.1:{port}{suffix}"))
            assert result.up, result.error
            assert result.details["sip_status"] == 200
            assert result.details["sip_reason"] == "OK"
            assert result.details["transport"] == transport
            assert result.details["sip_server"] == "SIPp options_uas"
            assert result.response_time_ms > 0


@needs_sipp
def test_it_takes_the_port_from_the_monitor_when_sipp_listens_there(tmp_path):
    with sipp_uas("udp", tmp_path) as port:
        result, _ = timed(spec("127.0.0.1", port=port))
    assert result.up, result.error


# -- the request ---------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_it_sends_a_well_formed_options_request(transport):
    with SipPeer(transport) as peer:
        result, _ = timed(spec(peer.target()))
    assert result.up, result.error
    request, source = peer.requests[0], peer.sources[0]
    line, headers = parse_request(request)
    suffix = ";transport=tcp" if transport == "tcp" else ""
    assert line == f"OPTIONS sip:127.0.0.1:{peer.port}{suffix} SIP/2.0"
    assert request.endswith(b"\r\n\r\n")
    via = header(headers, "via")
    assert via.startswith(f"SIP/2.0/{transport.upper()} 127.0.0.1:{source[1]};")
    params = via.split(";")[1:]
    assert "rport" in params
    branch = next(p for p in params if p.startswith("branch="))[len("branch="):]
    assert branch.startswith("z9hG4bK") and len(branch) > len("z9hG4bK") + 8
    assert header(headers, "max-forwards") == "70"
    assert ";tag=" in header(headers, "from")
    assert header(headers, "to") == f"<sip:127.0.0.1:{peer.port}{suffix}>"
    assert header(headers, "call-id")
    assert header(headers, "cseq") == "1 OPTIONS"
    assert header(headers, "contact") == f"<sip:statuscore@127.0.0.1:{source[1]}{suffix}>"
    assert header(headers, "accept") == "application/sdp"
    assert header(headers, "user-agent") == f"StatusCore/{__version__}"
    assert header(headers, "content-length") == "0"


def test_it_uses_a_fresh_branch_call_id_and_tag_for_each_check():
    with SipPeer() as peer:
        for _ in range(2):
            assert SipChecker().check(spec(peer.target())).up
    first, second = (dict(parse_request(r)[1]) for r in peer.requests[:2])
    for name in ("via", "call-id", "from"):
        assert first[name] != second[name]


def test_it_binds_to_the_source_address_of_the_context():
    with SipPeer() as peer:
        result, _ = timed(spec(peer.target()), CheckerContext(source_address="127.0.0.1"))
    assert result.up, result.error
    assert peer.sources[0][0] == "127.0.0.1"


def test_it_prefers_the_monitor_port_to_the_default():
    with SipPeer() as peer:
        result, _ = timed(spec("127.0.0.1", port=peer.port))
    assert result.up, result.error
    assert parse_request(peer.requests[0])[0] == f"OPTIONS sip:127.0.0.1:{peer.port} SIP/2.0"


# -- answers that count --------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_it_is_up_with_the_code_and_reason_of_a_200(transport):
    with SipPeer(transport) as peer:
        result, _ = timed(spec(peer.target()))
    assert result.up and result.error is None
    assert result.details["sip_status"] == 200 and result.details["sip_reason"] == "OK"
    assert result.response_time_ms > 0


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("status", [404, 405, 503])
def test_it_counts_any_final_response_as_up(transport, status):
    with SipPeer(transport, status=status) as peer:
        result, _ = timed(spec(peer.target()))
    assert result.up, result.error
    assert result.details["sip_status"] == status
    assert result.details["sip_reason"] == peer.reason


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_it_waits_past_100_trying_for_the_final_response(transport):
    with SipPeer(transport, "trying", delay=0.8) as peer:
        result, _ = timed(spec(peer.target(), timeout=5))
    assert result.up, result.error
    assert result.details["sip_status"] == 200
    assert result.response_time_ms >= 700  # the time to the final answer, not to the 100


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_it_is_down_when_only_a_provisional_response_arrives(transport):
    with SipPeer(transport, "trying", delay=30) as peer:
        result, _ = timed(spec(peer.target(), timeout=1))
    assert not result.up
    assert "provisional" in result.error and "1 s" in result.error


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_it_understands_compact_header_names(transport):
    with SipPeer(transport, compact=True, status=404) as peer:
        result, _ = timed(spec(peer.target()))
    assert result.up, result.error
    assert result.details["sip_status"] == 404


def test_it_frames_tcp_messages_by_content_length():
    with SipPeer("tcp", "framed") as peer:
        result, _ = timed(spec(peer.target()))
    assert result.up, result.error
    assert result.details["sip_status"] == 200


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_it_takes_the_real_answer_after_an_unrelated_one(transport):
    with SipPeer(transport, "unrelated_first") as peer:
        result, _ = timed(spec(peer.target()))
    assert result.up, result.error


def test_it_retransmits_over_udp_until_answered():
    with SipPeer("udp", ignore_first=2) as peer:
        result, _ = timed(spec(peer.target(), timeout=5))
    assert result.up, result.error
    assert len(peer.requests) >= 3
    assert len(set(peer.requests[:3])) == 1  # retransmissions are the same request
    assert result.details["retransmissions"] >= 2


# -- answers that do not count -------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("mode", ["wrong_branch", "wrong_call_id", "wrong_cseq"])
def test_it_ignores_a_response_to_another_request(transport, mode):
    with SipPeer(transport, mode) as peer:
        result, _ = timed(spec(peer.target(), timeout=1))
    assert not result.up
    assert "no matching SIP answer within 1 s" in result.error
    assert peer.requests  # the peer did answer: it just did not count


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_it_says_not_a_sip_response_when_the_peer_sends_garbage(transport):
    with SipPeer(transport, "garbage") as peer:
        result, _ = timed(spec(peer.target(), timeout=1))
    assert not result.up
    assert result.error.startswith("not a SIP response")
    assert "HTTP/1.1 400" in result.error


def test_it_fails_fast_on_binary_garbage_over_tcp():
    with SipPeer("tcp", "garbage", garbage=b"\x16\x03\x01\x02\x00\x01") as peer:
        result, elapsed = timed(spec(peer.target(), timeout=10))
    assert not result.up
    assert result.error.startswith("not a SIP response")
    assert elapsed < 8


def test_it_stops_reading_a_peer_that_sends_endless_provisional_responses():
    with SipPeer("tcp", "flood") as peer:
        result, elapsed = timed(spec(peer.target(), timeout=10))
    assert not result.up
    assert result.error == f"the peer sent more than {MAX_STREAM_BYTES // 1024} KiB without a final SIP answer"
    assert elapsed < 8  # stopped by the byte bound, not the timeout


def test_it_stops_reading_a_header_that_never_ends():
    with SipPeer("tcp", "flood_header") as peer:
        result, elapsed = timed(spec(peer.target(), timeout=10))
    assert not result.up
    assert "header longer than" in result.error
    assert elapsed < 8


def test_it_reads_at_most_its_bound_from_a_tcp_stream():
    class EndlessSocket:
        """Stands in for a connection whose peer never stops sending matching 100 Trying."""

        def __init__(self):
            self.read = 0

        def settimeout(self, value):
            pass

        def recv(self, size):
            data = (b"SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n" * 2000)[:size]
            self.read += len(data)
            return data

    sock = EndlessSocket()
    reader = _StreamReader(sock, time.monotonic() + 30)
    with pytest.raises(_Failure):
        for _ in range(1_000_000):
            reader.next_message()
    assert sock.read <= MAX_STREAM_BYTES


def test_it_is_down_when_the_tcp_peer_closes_without_answering():
    with SipPeer("tcp", "close") as peer:
        result, _ = timed(spec(peer.target(), timeout=5))
    assert not result.up
    assert "closed the connection" in result.error


# -- down ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_it_is_down_after_the_timeout_when_the_peer_is_silent(transport):
    with SipPeer(transport, "silent") as peer:
        result, elapsed = timed(spec(peer.target(), timeout=1))
    assert not result.up
    assert result.error == "no SIP answer within 1 s"
    assert 0.9 <= elapsed < 5
    if transport == "udp":
        assert len(peer.requests) >= 2  # sent at 0 and retransmitted at 0.5 s (timer E)


def test_it_is_down_quickly_when_nothing_listens_on_the_udp_port():
    port = free_udp_port()
    result, elapsed = timed(spec(f"sip:127.0.0.1:{port}", timeout=5))
    assert not result.up
    assert "ICMP port unreachable" in result.error and str(port) in result.error
    assert elapsed < 4  # long before the 5 s timeout


def test_it_is_down_when_the_tcp_connection_is_refused():
    port = free_port()
    result, _ = timed(spec(f"sip:127.0.0.1:{port};transport=tcp", timeout=5))
    assert not result.up
    assert "connection refused" in result.error


def test_it_reports_a_target_it_cannot_use():
    result = SipChecker().check(spec("sips:127.0.0.1"))
    assert not result.up and "not supported" in result.error
    result = SipChecker().check(spec("sip:127.0.0.1;transport=sctp"))
    assert not result.up and "transport" in result.error


# -- targets -------------------------------------------------------------------------------------

def _normalize(target: str, port: int | None = None) -> dict:
    fields = {"name": "pbx", "type": "sip", "target": target, "port": port, "ssl_check": None,
              "check_locations": None, "interval": 60, "timeout": 10, "retries": 1, "grace": None,
              "keyword": None, "expected_status": None}
    return normalize_monitor(fields, {"local"})


@pytest.mark.parametrize("target, normalized, port", [
    ("pbx.example.com", "pbx.example.com", None),
    ("sip:PBX.example.com:5080", "pbx.example.com", 5080),
    ("sip:pbx.example.com;transport=UDP", "pbx.example.com", None),
    ("sip:pbx.example.com:5060;transport=tcp", "sip:pbx.example.com;transport=tcp", 5060),
    ("sip:[::1]:5061;Transport=TCP", "sip:[::1];transport=tcp", 5061),
])
def test_it_accepts_and_normalises_a_transport_parameter(target, normalized, port):
    out = _normalize(target)
    assert (out["target"], out["port"]) == (normalized, port)
    again = _normalize(out["target"], out["port"])  # a stored target validates to itself
    assert (again["target"], again["port"]) == (normalized, port)
    parsed = read_sip(out["target"])
    assert parsed.transport == ("tcp" if "tcp" in target.lower() else "udp")


@pytest.mark.parametrize("target", ["sip:pbx.example.com;transport=tls", "sip:pbx.example.com;lr",
                                    "sip:pbx.example.com;transport=tcp;transport=udp"])
def test_it_rejects_other_sip_parameters(target):
    with pytest.raises(InvalidMonitor) as caught:
        _normalize(target)
    assert "target" in caught.value.details


@pytest.mark.parametrize("target", ["sip:[::1", "[2001:db8::1", "sip:[::1;transport=tcp"])
def test_it_rejects_an_ipv6_address_without_its_closing_bracket(target):
    # Both parsers used to read it as the address (the API stored sip:[::1;transport=tcp as
    # sip:[::1];transport=tcp); the host:port settings refuse it, and so do they now.
    with pytest.raises(InvalidMonitor) as caught:
        _normalize(target)
    assert "not a valid sip target" in caught.value.details["target"]
    with pytest.raises(ValueError, match="is not a valid sip target"):
        read_sip(target)


@pytest.mark.parametrize("port", ["\u00b2", "\u0665\u0660\u0666\u0660"], ids=["superscript two", "arabic-indic 5060"])
def test_it_takes_only_ascii_digits_as_a_port(port):
    # str.isdigit() is true for both: "²" then failed in int() with Python's own message, and
    # Arabic-Indic digits passed although validation (and SIP's grammar) take ASCII digits only.
    with pytest.raises(ValueError, match="is not a number between 1 and 65535"):
        read_sip(f"sip:pbx.example.com:{port}")
