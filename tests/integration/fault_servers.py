"""Misbehaving loopback servers for fault tests: raw sockets, one thread per connection, port 0.

Each ``FaultServer`` runs a handler for every connection it accepts.  Handlers
read the request head first: closing a socket with unread input makes the
kernel send a reset, and a test of "closed without answering" must not turn
into a test of "reset".  ``stop()`` wakes stalled handlers, closes every socket
and joins every thread, so a test can check nothing was left behind.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator

Handler = Callable[["Connection"], None]


class Connection:
    """One accepted connection, as a handler sees it."""

    def __init__(self, sock: socket.socket, stopping: threading.Event):
        self.sock = sock
        self.stopping = stopping
        self._buffer = b""

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            return False
        self._buffer += chunk
        return bool(chunk)

    def read_request(self) -> bytes:
        """Read one request: its head (returned) and its Content-Length body; b"" when the client went away."""
        while b"\r\n\r\n" not in self._buffer:
            if not self._fill():
                return b""
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        while len(self._buffer) < length:
            if not self._fill():
                break
        self._buffer = self._buffer[length:]
        return head + b"\r\n\r\n"

    def send(self, data: bytes) -> bool:
        """Send bytes; False when the client has gone."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0) instead of an orderly FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def stall(self) -> None:
        """Hold the connection open, saying nothing, until the server stops."""
        self.stopping.wait()


class FaultServer:
    """A threaded loopback TCP server (optionally TLS) that runs ``handler`` per connection."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None):
        self.handler = handler
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.sockets: list[socket.socket] = []
        self.handler_errors: list[BaseException] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"fault-server-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> "FaultServer":
        """Start accepting connections."""
        self._acceptor.start()
        return self

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            sock.settimeout(5)
            thread = threading.Thread(target=self._serve, args=(sock,), name=f"fault-conn-{self.port}", daemon=True)
            with self._lock:
                self.connections += 1
                self.threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                try:
                    sock.do_handshake()
                except (ssl.SSLError, OSError):
                    _close_after_alert(sock)  # a failed handshake is what the TLS tests are about
                    return
            with self._lock:
                self.sockets.append(sock)
            self.handler(Connection(sock, self.stopping))
        except OSError:
            pass  # the client went away mid-handler
        except BaseException as exc:  # surfaced by the test: a broken handler must not pass silently
            self.handler_errors.append(exc)
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def stop(self) -> None:
        """Wake every handler, close every socket, join every thread."""
        self.stopping.set()
        self._acceptor.join()
        self.listener.close()
        with self._lock:
            sockets, threads = list(self.sockets), list(self.threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join()
        assert not self.handler_errors, self.handler_errors

    def __enter__(self) -> "FaultServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> Iterator[FaultServer]:
    """Run a ``FaultServer`` for the duration of a ``with`` block."""
    server = FaultServer(handler, tls).start()
    try:
        yield server
    finally:
        server.stop()


def _close_after_alert(sock: socket.socket) -> None:
    """Close after a failed handshake so the client reads our TLS alert rather than a reset.

    Closing with unread input (the client may already have sent its request) makes
    the kernel send a reset, which would hide the alert; so half-close, then drain.
    """
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass


class StdlibServer:
    """A stdlib ``ThreadingHTTPServer`` on a free loopback port, serving ``handler`` from a daemon thread until ``close()``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving, close the socket, join the thread (bounded)."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def closed_port() -> int:
    """A loopback port nothing listens on (connecting is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def unanswered_port() -> Iterator[int]:
    """A port whose accept queue is full, so a connect attempt hangs until it times out.

    The listener never accepts; filler connections occupy its backlog.  Linux then
    drops further SYNs, which is what a host that does not answer looks like.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(32):
            probe = socket.socket()
            probe.settimeout(0.2)
            try:
                probe.connect(("127.0.0.1", port))
            except socket.timeout:
                probe.close()
                break
            fillers.append(probe)
        else:  # pragma: no cover - a kernel that never fills the queue
            raise RuntimeError("could not fill the listen backlog")
        yield port
    finally:
        for sock in fillers:
            sock.close()
        listener.close()


# -- handlers --------------------------------------------------------------------------------------


def respond(status: str = "200 OK", body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    """A handler answering every request on the connection with one fixed response."""
    fields = {"Content-Length": str(len(body)), **(headers or {})}
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"

    def handler(conn: Connection) -> None:
        while conn.read_request():
            if not conn.send(head.encode("latin-1") + body):
                return

    return handler


def stall(conn: Connection) -> None:
    """Read the request, then say nothing (a read timeout)."""
    conn.read_request()
    conn.stall()


def close_silently(conn: Connection) -> None:
    """Read the request, then close without answering."""
    conn.read_request()


def reset_mid_body(conn: Connection) -> None:
    """Send a head and part of the body, then reset the connection."""
    conn.read_request()
    conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n" + b"x" * 100)
    conn.reset()


def garbage(conn: Connection) -> None:
    """Answer with bytes that are not HTTP."""
    conn.read_request()
    conn.send(b"\x00\x01 this is not HTTP at all \xff\r\n\r\n")


def half_body(conn: Connection) -> None:
    """A chunked body that stops after the first chunk: the connection closes mid-stream."""
    conn.read_request()
    conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5\r\nhello\r\n")


def content_length_lie(conn: Connection) -> None:
    """Claim 100 bytes, send 10, close."""
    conn.read_request()
    conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\n0123456789")


def endless_body(conn: Connection) -> None:
    """A chunked body that never ends (until the client hangs up or the server stops)."""
    conn.read_request()
    if not conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n"):
        return
    chunk = b"%x\r\n%s\r\n" % (65536, b"z" * 65536)
    while not conn.stopping.is_set() and conn.send(chunk):
        pass


def redirect_loop(conn: Connection) -> None:
    """Every request is redirected to the same path again."""
    while conn.read_request():
        if not conn.send(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"):
            return
