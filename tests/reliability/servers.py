# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small servers for the reliability suite, each in a thread of the test process.

``HostileServer``: HTTPS with a certificate from a throwaway CA (trustme); a test-supplied function
answers every request and every request is recorded. ``BlackHole``: a TCP listener that accepts
connections and never says a word. ``closed_port()``: a port nothing listens on.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
from dataclasses import dataclass, field

import trustme


@dataclass
class Answer:
    """What a HostileServer sends: ``body`` is bytes, or an iterable of byte chunks (sent chunked
    unless ``length`` is given)."""

    status: int = 200
    body: object = b""
    headers: dict = field(default_factory=dict)
    length: int | None = None


@dataclass
class Seen:
    """One request a HostileServer received."""

    method: str
    path: str
    headers: dict
    body: bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, *args):
        """Quiet."""

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
        answer = self.server.answer(self.command, self.path)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        try:
            if isinstance(answer.body, bytes):
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            elif answer.length is not None:
                self.send_header("Content-Length", str(answer.length))
                self.end_headers()
                for chunk in answer.body:
                    self.wfile.write(chunk)
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in answer.body:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            # The client gave up on a body it refused: that is the point of the test.
            self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context, answer):
        self.seen = []
        self.answer = answer
        self._context = context
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self):
        connection, address = self.socket.accept()
        return self._context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            request.do_handshake()
        except OSError:
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        """A client that hangs up early is expected here."""


class CertificateAuthority:
    """A throwaway CA and a server certificate for 127.0.0.1, with the CA's PEM written to ``ca_path``."""

    def __init__(self, directory):
        self._ca = trustme.CA()
        self._certificate = self._ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = str(directory / "hostile-ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_path)

    def server_context(self):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._certificate.configure_cert(context)
        return context


class HostileServer:
    """``with HostileServer(authority, answer) as server``: ``answer(method, path)`` returns an Answer;
    ``server.url``, ``server.seen``."""

    def __init__(self, authority, answer):
        self.ca_path = authority.ca_path
        self._server = _Server(authority.server_context(), answer)
        self.url = "https://127.0.0.1:%d" % self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def seen(self):
        return self._server.seen

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


class BlackHole:
    """A listener that accepts every connection and never answers (nor closes) it."""

    def __init__(self):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(256)
        self._socket.settimeout(0.05)
        self.url = "https://127.0.0.1:%d" % self._socket.getsockname()[1]
        self.accepted = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while not self._stop.is_set():
            try:
                connection, unused_address = self._socket.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted.append(connection)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(5)
        for connection in self.accepted:
            connection.close()
        self._socket.close()


def closed_port_url():
    """The URL of a local port on which nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return "https://127.0.0.1:%d" % port
