"""The HTTPS server: connections, request accounting, fault injection and ``/_emulator`` control.

One thread per connection (HTTP/1.1 keep-alive). Each request is counted, may receive an injected
fault, is answered by ``api.Api``, and always gets a Content-Length. A response is written with a
single send so that small replies leave in one TLS record.
"""

import http.server
import json
import logging
import socket
import socketserver
import struct
import threading
import time
from http import HTTPStatus

from .api import UNMATCHED, Api, json_reply, match_route, text_reply
from .faults import Fault, FaultInjector
from .fleet import FleetError
from .store import Stats
from .uploads import BadRequest, BodyReader

LOG = logging.getLogger("tests.emulator")
HANDSHAKE_TIMEOUT = 10
_MAX_HEADERS = 100
_MAX_HEADER_LINE = 65536
_CONTROL_BODY_LIMIT = 64 * 1024
_NO_FAULT = Fault(None, 0.0, False)
_PHRASES = {status.value: status.phrase for status in HTTPStatus}
_CONTROL_METHODS = {
    "/_emulator/stats": "GET",
    "/_emulator/reset": "POST",
    "/_emulator/config": "POST",
    "/_emulator/expire-sessions": "POST",
}


class EmulatorApp:
    """Everything a request needs: the API over the store, statistics and the fault injector."""

    def __init__(self, store, base_url, seed):
        self.store = store
        self.api = Api(store, base_url)
        self.stats = Stats()
        self.injector = FaultInjector(seed)
        self.seed = seed
        self._config_lock = threading.Lock()

    def switches(self):
        """The run-time switches, as ``/_emulator/config`` reports them."""
        return {**self.store.behaviour.to_dict(), "seed": self.seed}

    def fault_reply(self, kind):
        """The reply for an injected error status."""
        status = int(kind)
        headers = (("Retry-After", str(self.store.behaviour.faults.retry_after)),) if status == 503 else ()
        return text_reply(status, _PHRASES[status], headers)

    def control(self, method, path, body):
        """Answer an ``/_emulator/...`` request (no authentication, never faulted or counted)."""
        expected = _CONTROL_METHODS.get(path)
        if expected is None:
            return text_reply(404, "Unknown emulator control endpoint.")
        if method != expected:
            return text_reply(405, "Method Not Allowed", (("Allow", expected),))
        if path == "/_emulator/stats":
            return json_reply(self.stats.snapshot())
        if path == "/_emulator/reset":
            self.stats.reset()
            return json_reply(self.stats.snapshot())
        if path == "/_emulator/expire-sessions":
            return json_reply({"expired": self.store.expire_sessions()})
        return self._configure(body)

    def _configure(self, body):
        try:
            changes = json.loads(body.read_all(_CONTROL_BODY_LIMIT) or b"{}")
        except ValueError:
            return text_reply(400, "config: body must be a JSON object")
        if not isinstance(changes, dict):
            return text_reply(400, "config: body must be a JSON object")
        reseed = "seed" in changes
        seed = changes.pop("seed", None)
        with self._config_lock:
            try:
                if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                    raise FleetError("config.seed: must be an integer or null")
                behaviour = self.store.behaviour.updated(changes)
            except FleetError as err:
                return text_reply(400, str(err))
            self.store.behaviour = behaviour
            if reseed:
                self.injector.reseed(seed)
                self.seed = seed
            return json_reply(self.switches())


class Headers(dict):
    """Request headers by lower-cased name; the first occurrence of a repeated header wins."""

    def get(self, key, default=None):
        return dict.get(self, key.lower(), default)


class RequestHandler(http.server.BaseHTTPRequestHandler):
    """Serves requests on one keep-alive connection."""

    protocol_version = "HTTP/1.1"
    server_version = "BigFixEmulator"
    disable_nagle_algorithm = True
    timeout = 120
    # http.server's own errors (bad request line, unknown method) in the plain-text form of BigFix errors.
    error_content_type = "text/plain"
    error_message_format = "%(message)s"

    def version_string(self):
        return self.server_version

    def do_GET(self):
        """Every method goes through the same path; routes decide what is allowed."""
        self._serve()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def parse_request(self):
        """Parse the request line and headers.

        Replaces http.server's parser, whose email-package header parsing took about half of the
        emulator's CPU time per request. Keeps its keep-alive and ``Expect: 100-continue`` rules.
        """
        self.command = None
        self.request_version = "HTTP/1.0"
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request line")
            return False
        self.command, self.path, self.request_version = words
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")
        headers = Headers()
        last_name = None
        for unused_count in range(_MAX_HEADERS + 1):
            line = self.rfile.readline(_MAX_HEADER_LINE + 1)
            if len(line) > _MAX_HEADER_LINE:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Header line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            text = line.decode("iso-8859-1")
            if text[0] in " \t" and last_name is not None:
                headers[last_name] += " " + text.strip()
                continue
            name, separator, value = text.partition(":")
            if not separator:
                self.send_error(HTTPStatus.BAD_REQUEST, "Malformed header line")
                return False
            last_name = name.strip().lower()
            headers.setdefault(last_name, value.strip())
        else:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
            return False
        self.headers = headers
        connection = headers.get("Connection", "").lower()
        if self.request_version == "HTTP/1.1":
            self.close_connection = "close" in connection
            if headers.get("Expect", "").lower() == "100-continue" and not self.handle_expect_100():
                return False
        else:
            self.close_connection = "keep-alive" not in connection
        return True

    def log_message(self, *args):
        """Route http.server's messages (and the --verbose access log) to logging."""
        if LOG.isEnabledFor(logging.INFO):
            LOG.info("%s %s", self.address_string(), args[0] % args[1:])

    def _serve(self):
        app = self.server.app
        path, unused_mark, query = self.path.partition("?")
        try:
            body = BodyReader(self.rfile, self.headers)
        except BadRequest as err:
            self.close_connection = True
            self._send(text_reply(400, str(err)))
            return
        if path.startswith("/_emulator/"):
            self._respond(app.control(self.command, path, body), body)
            return
        route = match_route(path)
        app.stats.count_request(f"{self.command} {route.pattern if route else UNMATCHED}")
        is_api = path == "/api" or path.startswith("/api/")
        fault = app.injector.decide(app.store.behaviour.faults) if is_api else _NO_FAULT
        if fault.delay:
            time.sleep(fault.delay)
        if fault.spiked:
            app.stats.count_fault("spike")
        if fault.kind:
            app.stats.count_fault(fault.kind)
        if fault.kind == "reset_before":
            self._reset_connection()
            return
        if fault.kind in ("500", "502", "503"):
            reply = app.fault_reply(fault.kind)
        else:
            try:
                reply = app.api.handle(self.command, route, query, self.headers, body)
            except BadRequest as err:
                reply = text_reply(400, str(err))
        self._finish_body(body)
        app.stats.add_bytes(body.received)
        if fault.kind == "reset_after":
            self._reset_connection()
            return
        self._send(reply)

    def _finish_body(self, body):
        """Consume what the handler left unread; a body that cannot be read ends the connection."""
        if not body.complete:
            try:
                body.drain()
            except BadRequest:
                self.close_connection = True

    def _respond(self, reply, body):
        self._finish_body(body)
        self._send(reply)

    def _send(self, reply):
        head = [f"HTTP/1.1 {reply.status} {_PHRASES.get(reply.status, '')}\r\n",
                f"Server: {self.version_string()}\r\n",
                f"Date: {self.date_time_string()}\r\n"]
        if reply.content_type:
            head.append(f"Content-Type: {reply.content_type}\r\n")
        head.append(f"Content-Length: {len(reply.body)}\r\n")
        head.extend(f"{name}: {value}\r\n" for name, value in reply.headers)
        if self.close_connection:
            head.append("Connection: close\r\n")
        head.append("\r\n")
        # A response to HEAD announces its Content-Length but carries no body.
        body = b"" if self.command == "HEAD" else reply.body
        self.wfile.write("".join(head).encode("latin-1") + body)
        self.log_request(reply.status, len(reply.body))

    def _reset_connection(self):
        """Abort the connection with a TCP reset and no response."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        # rfile holds a reference to the socket: the descriptor closes (sending the RST) with it.
        self.rfile.close()


class EmulatorServer(http.server.ThreadingHTTPServer):
    """A threaded HTTPS server whose TLS handshakes run in the connection threads."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 256

    def __init__(self, address, ssl_context):
        # The app needs the URL, known only once the port is bound: set it before serve_forever().
        self.app = None
        self.ssl_context = ssl_context
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, RequestHandler)

    def server_bind(self):
        # HTTPServer.server_bind resolves the host's FQDN, which can stall where DNS is unreachable.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        connection, address = self.socket.accept()
        return self.ssl_context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request, client_address):
        # Handshaking here rather than in accept() keeps a slow or silent client from blocking others.
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            request.do_handshake()
        except OSError as err:
            LOG.info("TLS handshake with %s failed: %s", client_address, err)
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        LOG.info("connection from %s ended with an error", client_address, exc_info=True)
