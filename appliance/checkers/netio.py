"""Socket helpers shared by the checkers: connect and read under one overall deadline.

A per-operation socket timeout is not enough: a peer that sends one byte a second keeps every
single recv() under the timeout forever. Reads here check the remaining time before each recv.
"""

from __future__ import annotations

import io
import select
import socket
import ssl
import time


class DeadlineExceeded(socket.timeout):
    pass


def remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("timed out")
    return left


def connect(host: str, port: int, deadline: float, source_address: str | None = None) -> socket.socket:
    source = (source_address, 0) if source_address else None
    return socket.create_connection((host, port), timeout=remaining(deadline), source_address=source)


class _DeadlineRaw(io.RawIOBase):
    def __init__(self, sock: socket.socket, deadline: float):
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._sock.settimeout(remaining(self._deadline))
        return self._sock.recv_into(buffer)


class DeadlineSocket:
    """The part of the socket API http.client uses, with every read bounded by the deadline."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock = sock
        self.deadline = deadline

    def sendall(self, data: bytes) -> None:
        self.sock.settimeout(remaining(self.deadline))
        self.sock.sendall(data)

    def makefile(self, mode: str = "rb", *args, **kwargs):
        return io.BufferedReader(_DeadlineRaw(self.sock, self.deadline), buffer_size=16384)

    def settimeout(self, value) -> None:  # http.client may call it; the deadline rules instead
        pass

    def close(self) -> None:
        # http.client closes its connection as soon as a response says `Connection: close`,
        # before the body is read; the checker that opened the socket closes it when done.
        pass


def tls_handshake(sock: socket.socket, context: ssl.SSLContext, host: str, deadline: float) -> ssl.SSLSocket:
    """TLS handshake bounded by the deadline as a whole (a peer that trickles bytes cannot stall it)."""
    tls = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    try:
        tls.setblocking(False)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                ready = select.select([tls], [], [], remaining(deadline))[0]
            except ssl.SSLWantWriteError:
                ready = select.select([], [tls], [], remaining(deadline))[1]
            if not ready:
                raise DeadlineExceeded("timed out")
        tls.setblocking(True)
    except BaseException:  # the caller never sees this socket: close it here
        tls.close()
        raise
    return tls
