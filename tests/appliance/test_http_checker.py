"""The http/https checker against real peers on 127.0.0.1: statuses, keywords, redirects,
deadlines against slow or hostile peers, bounded reads, and certificate checks with a test CA."""

from __future__ import annotations

import gc
import socket
import ssl
import threading
import time
import warnings
from datetime import datetime, timedelta, timezone

import pytest
import trustme

from appliance.checkers.base import CheckerContext
from appliance.checkers.http import MAX_REDIRECTS, HttpChecker
from appliance.spec import MonitorSpec
from tests.support.net import free_port
from tests.support.peers import HttpPeer


def spec(target: str, **fields) -> MonitorSpec:
    values = {"id": 1, "user_id": 1, "name": "check", "type": "https" if target.startswith("https") else "http",
              "target": target, "timeout": 5}
    values.update(fields)
    return MonitorSpec(**values)


def timed(checker, monitor):
    started = time.monotonic()
    result = checker.check(monitor)
    return result, time.monotonic() - started


@pytest.fixture(scope="module")
def peer():
    with HttpPeer() as running:
        yield running


@pytest.fixture(scope="module")
def checker():
    return HttpChecker()


class RawPeer:
    """A one-request-at-a-time TCP server that answers with scripted byte pieces and pauses."""

    def __init__(self, pieces: list[tuple[bytes, float]]):
        self.pieces = pieces
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)  # the request (small, arrives in one piece on loopback)
                    for data, pause in self.pieces:
                        conn.sendall(data)
                        if pause:
                            time.sleep(pause)
                except OSError:
                    pass

    def __enter__(self) -> "RawPeer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


# ---- status codes --------------------------------------------------------------------------

def test_it_is_up_on_200(peer, checker):
    result = checker.check(spec(peer.url + "/"))
    assert result.up, result.error
    assert result.error is None
    assert result.details["status_code"] == 200
    assert result.response_time_ms is not None and result.response_time_ms >= 0


def test_it_is_down_on_500_with_the_status_in_the_error(peer, checker):
    result = checker.check(spec(peer.url + "/status/500"))
    assert not result.up
    assert "HTTP 500" in result.error
    assert result.details["status_code"] == 500
    assert result.response_time_ms is not None and result.response_time_ms >= 0  # an answer came: timed


def test_it_is_up_when_the_expected_status_matches(peer, checker):
    result = checker.check(spec(peer.url + "/status/404", expected_status=404))
    assert result.up, result.error


def test_it_is_down_when_the_expected_status_does_not_match(peer, checker):
    result = checker.check(spec(peer.url + "/status/200", expected_status=204))
    assert not result.up
    assert "200" in result.error and "204" in result.error


# ---- keywords ------------------------------------------------------------------------------

def test_it_is_up_when_the_keyword_is_found(peer, checker):
    result = checker.check(spec(peer.url + "/body?text=all+systems+operational", keyword="operational"))
    assert result.up, result.error


def test_it_is_down_when_the_keyword_is_not_found(peer, checker):
    result = checker.check(spec(peer.url + "/body?text=maintenance", keyword="operational"))
    assert not result.up
    assert "operational" in result.error and "not found" in result.error


def test_it_finds_a_keyword_split_across_read_chunks(checker):
    first = b"x" * 70_000 + b"opera"
    second = b"tional" + b"y" * 100
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (len(first) + len(second))
    with RawPeer([(head + first, 0.3), (second, 0)]) as raw:
        result = checker.check(spec(raw.url + "/", keyword="operational"))
    assert result.up, result.error


def test_it_reads_the_body_of_an_http_1_0_answer_that_ends_with_the_connection(checker):
    # No Content-Length: the body is everything until the server closes (a common old server).
    with RawPeer([(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall systems operational", 0)]) as raw:
        result = checker.check(spec(raw.url + "/", keyword="operational"))
    assert result.up, result.error


def test_it_finds_a_keyword_split_across_chunks_of_a_chunked_answer(checker):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    with RawPeer([(head + b"5\r\nopera\r\n", 0.3), (b"6\r\ntional\r\n0\r\n\r\n", 0)]) as raw:
        result = checker.check(spec(raw.url + "/", keyword="operational"))
    assert result.up, result.error


def test_it_does_not_find_a_keyword_that_is_only_split_by_other_bytes(checker):
    first = b"x" * 70_000 + b"opera"
    second = b"-tional"
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (len(first) + len(second))
    with RawPeer([(head + first, 0.3), (second, 0)]) as raw:
        result = checker.check(spec(raw.url + "/", keyword="operational"))
    assert not result.up


# ---- redirects -----------------------------------------------------------------------------

def test_it_follows_redirects(peer, checker):
    result = checker.check(spec(peer.url + "/redirect/3", keyword="arrived"))
    assert result.up, result.error
    assert result.details["status_code"] == 200


def test_it_does_not_follow_a_redirect_it_expects(peer, checker):
    result = checker.check(spec(peer.url + "/redirect/1", expected_status=302))
    assert result.up, result.error
    assert result.details["status_code"] == 302


def test_it_bounds_a_redirect_loop_with_a_clear_error(peer, checker):
    before = peer.hits
    result = checker.check(spec(peer.url + "/loop"))
    assert not result.up
    assert "redirect" in result.error
    assert peer.hits - before <= MAX_REDIRECTS + 1


@pytest.mark.parametrize("location", ["http://127.0.0.1:99999/", "http://127.0.0.1:port/"])
def test_it_fails_clearly_on_a_redirect_to_a_broken_url(checker, location):
    answer = f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with RawPeer([(answer.encode(), 0)]) as raw:
        result = checker.check(spec(raw.url + "/"))
    assert not result.up
    assert result.error == f"bad port in {location}"


def test_it_fails_clearly_on_a_redirect_to_a_url_urllib_refuses(checker):
    # urljoin raises ValueError on an unclosed [: it used to escape check() instead of a result.
    answer = "HTTP/1.1 302 Found\r\nLocation: http://[oops/x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with RawPeer([(answer.encode(), 0)]) as raw:
        result = checker.check(spec(raw.url + "/"))
    assert not result.up
    assert result.error == "redirected to an invalid URL http://[oops/x"


# ---- deadlines and bounded reads -----------------------------------------------------------

def test_it_gives_up_on_a_hanging_target_within_the_timeout(peer, checker):
    result, elapsed = timed(checker, spec(peer.url + "/slow?seconds=30", timeout=1))
    assert not result.up
    assert "within 1 s" in result.error
    assert elapsed < 3


def test_it_gives_up_on_a_target_that_drips_bytes_slower_than_the_deadline(peer, checker):
    # Every single recv gets a byte within 0.5 s; only an overall deadline stops this.
    result, elapsed = timed(checker, spec(peer.url + "/drip?seconds=0.5", timeout=1))
    assert not result.up
    assert "within 1 s" in result.error
    assert elapsed < 3


def test_it_reads_a_bounded_amount_of_a_huge_body_looking_for_a_keyword(peer, checker):
    result, elapsed = timed(checker, spec(peer.url + "/big?mb=100", keyword="needle-not-there", timeout=20))
    assert not result.up
    assert "not found" in result.error
    assert elapsed < 20


def test_it_stops_reading_a_huge_body_after_a_bounded_amount(checker):
    # On loopback even 100 MiB reads fast, so count what the peer managed to send instead.
    size = 100 * 1024 * 1024
    sent = []

    def serve(listener: socket.socket) -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            chunk, total = b"x" * 65536, 0
            conn.settimeout(5)
            try:
                while total < size:
                    conn.sendall(chunk)
                    total += len(chunk)
            except OSError:
                pass
            sent.append(total)

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(5)
        server = threading.Thread(target=serve, args=(listener,), daemon=True)
        server.start()
        port = listener.getsockname()[1]
        result = checker.check(spec(f"http://127.0.0.1:{port}/", keyword="needle-not-there", timeout=10))
        server.join(10)
    assert not result.up and "not found" in result.error
    assert sent and sent[0] < 32 * 1024 * 1024  # about the 4 MiB read plus socket buffers


def test_it_is_down_with_a_readable_error_when_the_connection_is_refused(checker):
    port = free_port()  # bound and released: nothing listens there now
    result = checker.check(spec(f"http://127.0.0.1:{port}/"))
    assert not result.up
    assert "refused" in result.error
    assert result.response_time_ms is None  # nothing answered: no response time (the API shows null)


def test_it_is_down_when_the_server_closes_without_answering(checker):
    with RawPeer([]) as raw:
        result = checker.check(spec(raw.url + "/"))
    assert not result.up
    assert result.error
    assert result.response_time_ms is None


# ---- https -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def trusting(ca_file):
    return HttpChecker(CheckerContext(ca_file=ca_file))


def https_peer(cert: trustme.LeafCert) -> HttpPeer:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    return HttpPeer(ssl_context=context)


def test_it_is_up_on_https_with_a_valid_certificate_and_reports_it(ca, trusting):
    with https_peer(ca.issue_cert("127.0.0.1", "localhost")) as peer:
        result = trusting.check(spec(peer.url + "/", ssl_check=True))
    assert result.up, result.error
    info = result.details["ssl"]
    assert info["valid"] is True
    assert isinstance(info["expires_at"], datetime)
    assert info["expires_at"] > datetime.now(timezone.utc)
    assert isinstance(info["days_left"], int) and info["days_left"] > 14
    assert info["issuer"]


def test_it_is_down_on_a_certificate_for_another_host(ca, trusting):
    with https_peer(ca.issue_cert("wrong.example")) as peer:
        result = trusting.check(spec(peer.url + "/", ssl_check=True))
    assert not result.up
    assert "certificate" in result.error
    assert result.details["ssl"]["valid"] is False


def test_it_is_down_on_an_expired_certificate(ca, trusting):
    now = datetime.now(timezone.utc)
    expired = ca.issue_cert("127.0.0.1", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))
    with https_peer(expired) as peer:
        result = trusting.check(spec(peer.url + "/", ssl_check=True))
    assert not result.up
    assert "certificate" in result.error
    assert "expired" in result.error


def test_it_is_down_on_a_certificate_from_an_untrusted_ca(trusting):
    stranger = trustme.CA()
    with https_peer(stranger.issue_cert("127.0.0.1")) as peer:
        result = trusting.check(spec(peer.url + "/", ssl_check=True))
    assert not result.up
    assert "certificate" in result.error


def test_it_does_not_verify_the_certificate_when_ssl_check_is_off(ca, trusting):
    now = datetime.now(timezone.utc)
    bad = trustme.CA().issue_cert("wrong.example", not_before=now - timedelta(days=30),
                                  not_after=now - timedelta(days=1))
    with https_peer(bad) as peer:
        result = trusting.check(spec(peer.url + "/", ssl_check=False))
    assert result.up, result.error
    assert "ssl" not in result.details


def test_it_reports_the_certificate_of_an_https_target_that_redirects(ca, trusting):
    with https_peer(ca.issue_cert("127.0.0.1")) as peer:
        result = trusting.check(spec(peer.url + "/redirect/2", ssl_check=True))
    assert result.up, result.error
    assert result.details["ssl"]["valid"] is True


def test_it_closes_its_tls_connections_whatever_the_outcome(ca, trusting):
    def unclosed_sockets(target: str) -> list:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            trusting.check(spec(target, ssl_check=True, timeout=2))
            gc.collect()
        return [w for w in caught if issubclass(w.category, ResourceWarning) and "socket" in str(w.message)]

    with https_peer(ca.issue_cert("127.0.0.1")) as good, https_peer(ca.issue_cert("wrong.example")) as bad:
        assert unclosed_sockets(good.url + "/body?text=fine") == []
        assert unclosed_sockets(bad.url + "/") == []


def test_it_gives_up_on_a_tls_server_that_never_completes_the_handshake(trusting):
    # The kernel completes the TCP handshake from the backlog; nobody ever reads or answers.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        result, elapsed = timed(trusting, spec(f"https://127.0.0.1:{port}/", ssl_check=True, timeout=1))
    assert not result.up
    assert "within 1 s" in result.error
    assert elapsed < 3
