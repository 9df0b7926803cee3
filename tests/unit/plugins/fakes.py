# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fakes of what the client uses of ``http.client``, so that the real client code runs in unit tests:
connections that a script or an in-memory server answers."""

from __future__ import annotations

import base64
import http.client
import io
import socket
from dataclasses import dataclass


def assert_no_secret(out, password, username="operator"):
    """Neither ``password`` nor the Basic credentials made of it appear in ``out``."""
    token = base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")
    assert password not in out and token not in out


def read_body(body):
    """The bytes a request body puts on the wire (streams are read to the end)."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    chunks = []
    while True:
        chunk = body.read(8192)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


class FakeResponse:
    """What the client uses of ``http.client.HTTPResponse``: status, headers, read(amt)."""

    def __init__(self, status=200, body=b"", headers=None, raw=None):
        self.status = status
        self.headers = http.client.HTTPMessage()
        for name, value in (headers or {}).items():
            self.headers[name] = value
        self._raw = raw if raw is not None else io.BytesIO(body)

    def read(self, amt=None):
        return self._raw.read(amt if amt is not None else -1)


def make_response(status=200, body=b"", headers=None, raw=None):
    """A FakeResponse whose body is ``body`` (str is UTF-8) or is read from ``raw``."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return FakeResponse(status, body, headers, raw)


@dataclass
class Call:
    """One request a fake connection received: method, path, headers as given, body as sent and as bytes."""

    method: str
    path: str
    headers: dict
    sent: object
    body: bytes
    connection: object = None


@dataclass
class OnConnect:
    """A script step: opening the connection raises ``error`` (nothing is sent)."""

    error: BaseException


class FakeConnection:
    """What the client uses of ``http.client.HTTPSConnection``; ``transport`` answers each request.

    Its socket is one end of a real socket pair, so that the client's idle check and the deadline
    watcher's shutdown act on it as on a network socket.
    """

    def __init__(self, transport):
        self.transport = transport
        self.sock = None
        self.closes = 0
        self._peer = None
        self._response = None

    def connect(self):
        self.transport.connecting(self)
        self.sock, self._peer = socket.socketpair()

    def request(self, method, url, body=None, headers=None):
        headers = dict(headers or {})
        data = read_body(body)
        if "Content-Length" in headers:
            assert int(headers["Content-Length"]) == len(data), "Content-Length does not match the body"
        self._response = self.transport.answer(self, Call(method, url, headers, body, data, self))

    def getresponse(self):
        response, self._response = self._response, None
        return response

    def close(self):
        if self.sock is not None:
            self.closes += 1
        for end in (self.sock, self._peer):
            if end is not None:
                end.close()
        self.sock = self._peer = None

    def hang_up(self):
        """The server closes the connection (as after its keep-alive timeout)."""
        self._peer.close()
        self._peer = None

    def cut(self):
        """Whether the connection's socket was shut down (by the deadline watcher)."""
        try:
            return self._peer is None or self._peer.recv(1, socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False


class ScriptedTransport:
    """Answers requests from a script; calling it makes a connection, as a connection factory.

    A step is ``(status, body[, headers])``, an exception raised when the request is sent, an
    ``OnConnect`` whose error is raised when a connection opens, or a callable taking the Call and
    returning a FakeResponse. ``calls`` has every request, and every failed connection attempt as
    a Call with method ``"CONNECT"``; ``made`` the connections, ``connections`` how often one opened.
    """

    def __init__(self, *steps):
        self.steps = list(steps)
        self.calls = []
        self.made = []
        self.connections = 0

    def __call__(self):
        connection = FakeConnection(self)
        self.made.append(connection)
        return connection

    def connecting(self, connection):
        del connection
        self.connections += 1
        if self.steps and isinstance(self.steps[0], OnConnect):
            self.calls.append(Call("CONNECT", "", {}, None, b""))
            raise self.steps.pop(0).error

    def answer(self, connection, call):
        del connection
        self.calls.append(call)
        if not self.steps:
            raise AssertionError("unexpected request %s %s" % (call.method, call.path))
        step = self.steps.pop(0)
        assert not isinstance(step, OnConnect), "a connect failure was scripted, but the connection was open"
        if isinstance(step, BaseException):
            raise step
        if callable(step):
            return step(call)
        return make_response(*step)
