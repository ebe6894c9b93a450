"""A small authoritative DNS responder on 127.0.0.1 (UDP and TCP on the same port), built with
dnspython: configured A/AAAA records, NOERROR/no-data for other types of a known name, NXDOMAIN
for unknown names. Answers too big for the client's UDP size go out truncated (TC), so the client
retries over TCP. Modes for failures: "drop" (never answer), "servfail"."""

from __future__ import annotations

import select
import socket
import struct
import threading

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class DnsServer:
    """records: {"example.com": {"A": ["127.0.2.1"], "AAAA": ["2001:db8::1"]}}."""

    def __init__(self, records: dict[str, dict[str, list[str]]] | None = None, mode: str = "answer",
                 ttl: int = 60):
        self.records = {dns.name.from_text(name): rrs for name, rrs in (records or {}).items()}
        self.mode = mode
        self.ttl = ttl
        self.queries: list[tuple[str, str, str]] = []  # (name, type, "udp"|"tcp")
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.udp, self.tcp = self._bind()
        self.port = self.udp.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @staticmethod
    def _bind() -> tuple[socket.socket, socket.socket]:
        for _ in range(20):  # the UDP port picked may be taken for TCP; try another
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("127.0.0.1", 0))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind(("127.0.0.1", udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(16)
            return udp, tcp
        raise RuntimeError("no free port for both UDP and TCP")

    def __enter__(self) -> "DnsServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self.udp.close()
        self.tcp.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.udp, self.tcp], [], [], 0.1)
            for sock in ready:
                if sock is self.udp:
                    try:
                        data, peer = self.udp.recvfrom(65535)
                    except OSError:
                        continue
                    reply = self._answer(data, "udp")
                    if reply is not None:
                        self.udp.sendto(reply, peer)
                else:
                    try:
                        conn, _ = self.tcp.accept()
                    except OSError:
                        continue
                    threading.Thread(target=self._handle_tcp, args=(conn,), daemon=True).start()

    def _handle_tcp(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2.0)
            try:
                while not self._stop.is_set():
                    head = _recv_exactly(conn, 2)
                    if head is None:
                        return
                    data = _recv_exactly(conn, struct.unpack("!H", head)[0])
                    if data is None:
                        return
                    reply = self._answer(data, "tcp")
                    if reply is None:
                        return
                    conn.sendall(struct.pack("!H", len(reply)) + reply)
            except OSError:
                return

    def _answer(self, data: bytes, transport: str) -> bytes | None:
        try:
            query = dns.message.from_wire(data)
        except Exception:  # noqa: BLE001 - junk in, nothing out
            return None
        if not query.question:
            return None
        question = query.question[0]
        with self._lock:
            self.queries.append((question.name.to_text(omit_final_dot=True),
                                 dns.rdatatype.to_text(question.rdtype), transport))
        if self.mode == "drop":
            return None
        response = dns.message.make_response(query)
        if self.mode == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        response.flags |= dns.flags.AA
        rrs = self.records.get(question.name)
        if rrs is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response.to_wire()
        values = rrs.get(dns.rdatatype.to_text(question.rdtype), [])
        if values:
            response.answer.append(dns.rrset.from_text_list(
                question.name, self.ttl, dns.rdataclass.IN, question.rdtype, values))
        if transport == "tcp":
            return response.to_wire()
        limit = max(512, query.payload) if query.edns >= 0 else 512
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:  # too big for UDP: truncated, the client retries over TCP
            response.answer = []
            response.flags |= dns.flags.TC
            return response.to_wire()


def _recv_exactly(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
