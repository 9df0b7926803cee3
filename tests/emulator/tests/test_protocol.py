"""HTTP/1.1 details seen on the wire: keep-alive, pipelining, HEAD, Expect: 100-continue, bad requests."""

import base64
import socket
import ssl
from urllib.parse import urlsplit

import pytest

from tests.emulator.tests.helpers import MASTER, sha1_hex

AUTHORIZATION = b"Authorization: Basic " + base64.b64encode(":".join(MASTER).encode("utf-8")) + b"\r\n"


class Wire:
    """A raw TLS connection to the emulator that reads whole responses."""

    def __init__(self, emulator):
        parts = urlsplit(emulator.url)
        context = ssl.create_default_context(cafile=emulator.ca_path)
        self.socket = context.wrap_socket(socket.create_connection((parts.hostname, parts.port), timeout=10),
                                          server_hostname=parts.hostname)
        self.buffer = b""

    def send(self, data):
        self.socket.sendall(data)

    def _fill(self):
        data = self.socket.recv(65536)
        if not data:
            raise ConnectionError("closed by the emulator")
        self.buffer += data

    def response(self, head_only=False):
        """(status line, {lower-case header: value}, body)."""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in lines[1:])}
        length = 0 if head_only else int(headers["content-length"])
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return lines[0], headers, body

    def closed(self):
        """True once the emulator has closed the connection."""
        try:
            return self.socket.recv(1) == b""
        except ConnectionError:
            return True

    def close(self):
        self.socket.close()


@pytest.fixture
def wire(emulator):
    connection = Wire(emulator)
    yield connection
    connection.close()


def test_pipelined_requests_are_answered_in_order(wire):
    wire.send(b"GET /api/mailbox/1001 HTTP/1.1\r\nHost: x\r\n" + AUTHORIZATION + b"\r\n"
              b"GET /api/login HTTP/1.1\r\nHost: x\r\n" + AUTHORIZATION + b"\r\n")
    first_status, first_headers, first_body = wire.response()
    second_status, second_headers, second_body = wire.response()
    assert first_status == "HTTP/1.1 200 OK"
    assert first_headers["content-type"] == "application/xml"
    assert b"<Name>app.conf</Name>" in first_body
    assert second_status == "HTTP/1.1 200 OK"
    assert second_body == b"ok"
    assert "sessiontoken" in second_headers
    assert not wire.buffer


def test_head_is_405_without_a_body_and_the_connection_goes_on(wire):
    wire.send(b"HEAD /api/mailbox/1001 HTTP/1.1\r\nHost: x\r\n" + AUTHORIZATION + b"\r\n")
    status, headers, body = wire.response(head_only=True)
    assert status == "HTTP/1.1 405 Method Not Allowed"
    assert int(headers["content-length"]) > 0
    assert body == b""
    wire.send(b"GET /api/login HTTP/1.1\r\nHost: x\r\n" + AUTHORIZATION + b"\r\n")
    assert wire.response()[2] == b"ok"


def test_expect_100_continue_upload(wire):
    content = b"sent after 100 Continue"
    wire.send(b"POST /api/mailbox/1013 HTTP/1.1\r\nHost: x\r\n" + AUTHORIZATION +
              b"Expect: 100-continue\r\nContent-Disposition: attachment; filename=\"expect.txt\"\r\n"
              b"Content-Length: %d\r\n\r\n" % len(content))
    assert wire.response(head_only=True)[0] == "HTTP/1.1 100 Continue"
    wire.send(content)
    status, unused_headers, body = wire.response()
    assert status == "HTTP/1.1 200 OK"
    assert sha1_hex(content).encode("ascii") in body


def test_connection_close_and_http_1_0(emulator):
    for request in (b"GET /api/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + AUTHORIZATION + b"\r\n",
                    b"GET /api/login HTTP/1.0\r\n" + AUTHORIZATION + b"\r\n"):
        wire = Wire(emulator)
        try:
            wire.send(request)
            status, headers, body = wire.response()
            assert status.endswith("200 OK")
            assert headers["connection"] == "close"
            assert body == b"ok"
            assert wire.closed()
        finally:
            wire.close()


@pytest.mark.parametrize("request_line, status", [(b"GARBAGE", "HTTP/1.1 400 Bad request line"),
                                                  (b"GET /api/login HTTP/2.0", "HTTP/1.1 400 Bad request line"),
                                                  (b"FROB /api/login HTTP/1.1", "HTTP/1.1 501 Unsupported method ('FROB')")])
def test_bad_requests_get_plain_text_errors(wire, request_line, status):
    wire.send(request_line + b"\r\nHost: x\r\n\r\n")
    line, headers, body = wire.response()
    assert line == status
    assert headers["content-type"] == "text/plain"
    assert b"<" not in body
    assert wire.closed()


def test_bad_body_framing_is_400_and_closes(wire):
    wire.send(b"POST /api/mailbox/1013 HTTP/1.1\r\nHost: x\r\n" + AUTHORIZATION + b"Content-Length: lots\r\n\r\n")
    status, headers, body = wire.response()
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["connection"] == "close"
    assert body == b"invalid Content-Length"
    assert wire.closed()
