# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transport for the BigFix REST API.

One client per task over Python's own ``http.client``: a pool of keep-alive HTTPS connections,
Basic authentication on every request, TLS verification, timeouts, bounded retries with backoff for
reads, a hardened XML parser, and a single error type whose message never carries a credential.
Nothing here imports Ansible.

Why ``http.client`` and not a higher-level library: one task talks to one server thousands of times,
and per request the wire protocol is all that is needed. The layers a general-purpose library adds
(cookies, redirects, hooks, adapters, environment lookups) cost more CPU than the BigFix server
spends answering, which made the module, not the server, the bottleneck.
"""

from __future__ import annotations

import base64
import http.client
import math
import os
import random
import select
import socket
import ssl
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote, urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment

try:
    from lxml import etree
except ImportError:
    HAS_LXML = False
    LXML_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_LXML = True
    LXML_IMPORT_ERROR = None


DEFAULT_PORT = 52311
DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
# Statuses that say "try again later" or "a gateway lost the answer".
TRANSIENT_STATUSES = frozenset((429, 500, 502, 503, 504))
# Statuses after which the server certainly did not act on the request.
NOT_PROCESSED_STATUSES = frozenset((429, 503))
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 120.0
# A BESAPI answer larger than this is refused rather than held in memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
BODY_EXCERPT_CHARS = 300
# A whole answer may take at most this many times the timeout; checked this often (seconds).
BODY_TIMEOUT_FACTOR = 10
DEADLINE_CHECK_INTERVAL = 0.5
# Bytes per read of an answer and per write of a streamed upload (http.client's default is 8 KiB).
BLOCK_SIZE = 64 * 1024
# A connection idle for less than this many seconds is reused without checking that the server kept it
# open: servers keep idle connections for several seconds, and a read that finds it closed is retried.
IDLE_CHECK_AFTER = 1.0
# CA bundles named in the environment, honoured when ca_path is not given (before the system's store).
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

HINTS = {
    400: "the server refused the request as malformed; check the file name and parameters",
    401: "check username and password; the operator must be allowed to use the REST API",
    403: "the operator lacks a permission (Can use REST API, Custom Content) or does not administer this computer",
    404: "the computer, file or group does not exist, or the operator cannot see it",
    405: "this BigFix version does not support this request",
    409: "the server refused a file name that already exists",
    429: "the server is rate limiting; lower concurrency",
    500: "the server failed; see the BigFix server logs",
    502: "a gateway between you and the server failed",
    503: "the server is overloaded or restarting; lower concurrency or retry later",
    504: "a gateway timed out waiting for the server",
}


class BigFixError(Exception):
    """Any failure talking to BigFix, with a message fit for a user.

    ``transient`` says a later attempt may succeed; ``outcome_unknown`` says a write may or may
    not have been carried out, so the caller must look before sending it again.
    """

    def __init__(self, message, method=None, path=None, status=None, hint=None,
                 transient=False, outcome_unknown=False, retry_after=None):
        self.method = method
        self.path = path
        self.status = status
        self.hint = hint
        self.transient = transient
        self.outcome_unknown = outcome_unknown
        self.retry_after = retry_after
        parts = []
        if method and path:
            parts.append("%s %s" % (method, path))
        if status is not None:
            parts.append("HTTP %s" % status)
        parts.append(message)
        text = ": ".join(parts)
        if hint:
            text = "%s (hint: %s)" % (text, hint)
        super().__init__(text)


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and how to reach the BigFix server. The password never appears in ``repr``."""

    url: str
    username: str
    password: str = field(repr=False)
    validate_certs: bool = True
    ca_path: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES


def normalize_url(url):
    """Return ``https://host:port`` for a server given as a host name or URL.

    Adds ``https://`` and port 52311 when missing, drops a trailing ``/`` or ``/api``, and
    refuses what cannot be a BigFix REST API base URL.
    """
    text = (url or "").strip()
    if not text:
        raise ValueError("url is empty: give the root server, e.g. https://bigfix.example.com:52311")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.username or parts.password:
        raise ValueError("url must not contain credentials; use username and password")
    if parts.scheme.lower() != "https":
        raise ValueError("url %r: the BigFix REST API is served over HTTPS; use https://" % url)
    if not parts.hostname:
        raise ValueError("url %r has no host name" % url)
    if parts.query or parts.fragment:
        raise ValueError("url %r must not contain a query or fragment" % url)
    try:
        port = DEFAULT_PORT if parts.port is None else parts.port
    except ValueError:
        raise ValueError("url %r has an invalid port" % url) from None
    if port == 0:
        raise ValueError("url %r has an invalid port" % url)
    path = parts.path.rstrip("/")
    if path.lower().endswith("/api"):
        path = path[:-4]
    host = parts.hostname
    if ":" in host:
        host = "[%s]" % host
    return "https://%s:%d%s" % (host, port, path)


def path_segment(value):
    """Percent-encode one path segment; a ``/`` inside it becomes ``%2F``."""
    return quote(str(value), safe="")


_PARSERS = threading.local()


def _parser():
    """This thread's hardened parser: an lxml parser must not be shared across threads, and making
    one per document costs more than parsing a mailbox listing."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                                   dtd_validation=False, huge_tree=False, remove_comments=True)
    return parser


def parse_besapi(text, method=None, path=None):
    """Parse a BESAPI document with entity expansion, DTDs and network access all off."""
    try:
        root = etree.fromstring(text, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise BigFixError("the server answered with a body that is not XML (%s): %s" % (exc, excerpt(text)),
                          method=method, path=path,
                          hint="is url pointing at the BigFix root server's REST API?") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise BigFixError("the server answered with XML that declares a DTD; refused for safety",
                          method=method, path=path)
    if root.tag != "BESAPI":
        raise BigFixError("expected a BESAPI document, got <%s>" % root.tag, method=method, path=path)
    return root


def integer_text(text):
    """The whole number an XML text holds, or None (BESAPI sizes and IDs are free text)."""
    text = (text or "").strip()
    return int(text) if text.isdecimal() and text.isascii() else None


def excerpt(body):
    """The start of a response body, decoded leniently, on one line."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    text = " ".join(body.split())
    if len(text) > BODY_EXCERPT_CHARS:
        text = text[:BODY_EXCERPT_CHARS] + "..."
    return text


def retry_after_seconds(value):
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


@dataclass(frozen=True)
class Reply:
    """A fully read answer: status, body bytes and headers."""

    status: int
    content: bytes
    headers: dict


class BigFixClient:
    """One authenticated client of a BigFix root server, safe to share across threads.

    Each request borrows a keep-alive connection from a pool and gives it back once the answer is
    read; ``connection_factory`` makes new connections (tests pass a fake one).
    """

    def __init__(self, settings, pool_size=8, sleep=time.sleep, connection_factory=None):
        self.settings = settings
        self.base_url = normalize_url(settings.url)
        self.retry_counts = Counter()
        # When the server last gave a real answer, and the error that showed it down, if it is.
        self._last_answer = 0.0
        self._down = None
        self._deadlines = _Deadlines()
        self._sleep = sleep
        self._lock = threading.Lock()
        parts = urlsplit(self.base_url)
        self.host, self.port = parts.hostname, parts.port
        self._prefix = parts.path
        # BigFix expects the credentials in UTF-8.
        token = base64.b64encode(b"%s:%s" % (settings.username.encode("utf-8"), settings.password.encode("utf-8")))
        self._headers = {"Authorization": "Basic " + token.decode("ascii"), "User-Agent": "bigfix.core"}
        self.proxy = proxy_for(self.base_url)
        # Texts that must never reach a message, even when a server echoes them back.
        self.secrets = tuple(secret for secret in (settings.password, token.decode("ascii"),
                                                   self.proxy.password if self.proxy else None) if secret)
        self.tls = tls_context(settings)
        self._connections = _Pool(connection_factory or self._new_connection, max(1, pool_size))

    def close(self):
        self._connections.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def get(self, path, expect=(200,)):
        """GET ``/api/<path>``; transient failures are retried up to ``settings.retries`` times."""
        attempt = 0
        started = time.monotonic()
        while True:
            try:
                return self._send("GET", path, expect=expect)
            except BigFixError as exc:
                if not exc.transient or attempt >= self.settings.retries:
                    if exc.transient and self._last_answer < started:
                        # Nothing has answered since this request began: the server is down, and the
                        # other computers of the task fail at once instead of each waiting out its retries.
                        self._down = exc
                    raise
                attempt += 1
                self.pause(attempt, exc)

    def send(self, method, path, data=None, headers=None, expect=(200,)):
        """Send a write once. A failure says whether the server may have carried it out.

        ``data`` is bytes or a readable stream, sent with a Content-Length (never chunked).
        """
        return self._send(method, path, data=data, headers=headers, expect=expect)

    def get_xml(self, path):
        """GET a BESAPI document and parse it. A parse error quotes the body, so its text is masked."""
        content = self.get(path).content
        try:
            return parse_besapi(content, "GET", self._display_path(path))
        except BigFixError as exc:
            raise BigFixError(self._scrub(str(exc))) from None

    def pause(self, attempt, error):
        """Wait before attempt number ``attempt`` (1-based) of something that failed with ``error``.

        Exponential backoff with full jitter, or the server's ``Retry-After`` when it sent one.
        """
        with self._lock:
            self.retry_counts[error.status or "connection"] += 1
        if error.retry_after is not None:
            delay = error.retry_after
        else:
            delay = random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * (2 ** (attempt - 1))))
        self._sleep(delay)

    def _display_path(self, path):
        return "/api/" + path.lstrip("/")

    def _new_connection(self):
        if self.proxy is None:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.settings.timeout,
                                               context=self.tls, blocksize=BLOCK_SIZE)
        connection = http.client.HTTPSConnection(self.proxy.host, self.proxy.port, timeout=self.settings.timeout,
                                                 context=self.tls, blocksize=BLOCK_SIZE)
        connection.set_tunnel(self.host, self.port, headers=self.proxy.headers)
        return connection

    def _send(self, method, path, data=None, headers=None, expect=(200,)):
        shown = self._display_path(path)
        if self._down is not None:
            raise BigFixError("not sent, because the server stopped answering earlier in this task: %s" % self._down,
                              method=method, path=shown)
        write = method != "GET"
        request_headers = dict(self._headers)
        request_headers.update(headers or {})
        if data is not None:
            request_headers["Content-Length"] = str(body_length(data))
        connection = self._connections.take()
        connecting = connection.sock is None
        try:
            if connecting:
                connection.connect()
                connecting = False
            connection.request(method, self._prefix + shown, body=data, headers=request_headers)
            response = connection.getresponse()
            body = self._read_body(response, connection, method, shown)
        except BigFixError:
            connection.close()
            raise
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise self._failure(exc, method, shown, write, connecting) from None
        finally:
            self._connections.give(connection)
        status = response.status
        if status not in TRANSIENT_STATUSES:
            self._last_answer = time.monotonic()
        if status in expect:
            return Reply(status, body, response.headers)
        transient = status in TRANSIENT_STATUSES
        # Mask before cutting: an excerpt could split a secret or fold its white space.
        message = excerpt(self._scrub(body.decode("utf-8", errors="replace"))) or "(empty body)"
        if 300 <= status < 400:
            target = urlsplit(response.headers.get("Location", ""))
            # Only where it points: a Location header could carry credentials or tokens.
            message = self._scrub("unexpected redirect to %s://%s%s" % (target.scheme, target.hostname, target.path))
        raise BigFixError(message, method=method, path=shown, status=status, hint=HINTS.get(status),
                          transient=transient,
                          outcome_unknown=write and transient and status not in NOT_PROCESSED_STATUSES,
                          retry_after=retry_after_seconds(response.headers.get("Retry-After")) if transient else None)

    def _failure(self, exc, method, shown, write, connecting):
        """The BigFixError for an exception raised while connecting, sending or reading."""
        reason = self._scrub(str(exc) or type(exc).__name__)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return BigFixError("TLS verification failed: %s" % reason, method=method, path=shown,
                               hint="set ca_path to the PEM file of the CA that signed the server "
                                    "certificate, or validate_certs=false for a test server")
        if isinstance(exc, ssl.SSLError) and not isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
            return BigFixError("TLS handshake failed: %s" % reason, method=method, path=shown,
                               hint="check that url points at the BigFix server's HTTPS port (52311 by default)")
        if isinstance(exc, socket.gaierror):
            return BigFixError("cannot resolve the server name: %s" % reason, method=method, path=shown,
                               hint="check the host name in url (DNS)" if self.proxy is None
                               else "check the host name in the https_proxy environment variable")
        if isinstance(exc, socket.timeout):
            if connecting:
                return BigFixError("connecting timed out after %ss" % self.settings.timeout, method=method,
                                   path=shown, hint="check url, the port (52311 by default) and firewalls",
                                   transient=True)
            return BigFixError("no answer within %ss" % self.settings.timeout, method=method, path=shown,
                               hint="raise timeout, or lower concurrency", transient=True, outcome_unknown=write)
        if connecting:
            # Nothing was sent: the write certainly did not happen.
            refused = isinstance(exc, ConnectionRefusedError)
            hint = "check url and that the BigFix server is running" if refused else None
            if self.proxy is not None:
                hint = "check the proxy in the https_proxy environment variable, or exclude the server with no_proxy"
            return BigFixError("connection failed: %s" % reason, method=method, path=shown, hint=hint, transient=True)
        # A reset, a closed keep-alive socket, a cut inside TLS or a malformed answer: the
        # connection broke, and a write may have been carried out.
        return BigFixError("the connection broke: %s" % reason, method=method, path=shown,
                           transient=True, outcome_unknown=write)

    def _scrub(self, text):
        for secret in self.secrets:
            text = text.replace(secret, "********")
        return text

    def _read_body(self, response, connection, method, shown):
        chunks = []
        size = 0
        # The timeout bounds each read; a server that drips its answer needs a bound on the whole.
        allowed = self.settings.timeout * BODY_TIMEOUT_FACTOR
        token = self._deadlines.watch(connection, allowed)
        try:
            while True:
                chunk = response.read(BLOCK_SIZE)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise BigFixError("the answer is larger than %d MiB; refused" % (MAX_RESPONSE_BYTES // (1024 * 1024)),
                                      method=method, path=shown)
                chunks.append(chunk)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if not self._deadlines.release(token):
                raise self._failure(exc, method, shown, method != "GET", False) from None
            token = None
        if token is None or self._deadlines.release(token):
            raise BigFixError("the answer did not arrive within %ss" % allowed, method=method, path=shown,
                              hint="the server or a proxy sends too slowly", transient=True,
                              outcome_unknown=method != "GET")
        return b"".join(chunks)


def body_length(data):
    """The number of bytes a request body holds from its current position."""
    if isinstance(data, (bytes, bytearray)):
        return len(data)
    if hasattr(data, "__len__"):
        return len(data)
    position = data.tell()
    end = data.seek(0, os.SEEK_END)
    data.seek(position)
    return end - position


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy that tunnels (CONNECT) to the server."""

    host: str
    port: int
    password: str | None = field(default=None, repr=False)
    headers: dict = field(default_factory=dict, repr=False)


def proxy_for(base_url):
    """The proxy for ``base_url`` from ``https_proxy``/``all_proxy`` and ``no_proxy``, or None."""
    proxies = getproxies_environment()
    address = proxies.get("https") or proxies.get("all")
    server = urlsplit(base_url)
    # no_proxy entries may name the host alone or host:port; an IPv6 address is matched alone.
    target = server.hostname if ":" in server.hostname else "%s:%d" % (server.hostname, server.port)
    if not address or proxy_bypass_environment(target, proxies):
        return None
    if "://" not in address:
        address = "http://" + address
    parts = urlsplit(address)
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise ValueError("the https_proxy environment variable must be an http:// proxy URL, like http://proxy.example.com:3128")
    headers = {}
    password = None
    if parts.username is not None:
        password = unquote(parts.password or "")
        token = base64.b64encode(("%s:%s" % (unquote(parts.username), password)).encode("utf-8")).decode("ascii")
        headers["Proxy-Authorization"] = "Basic " + token
    return Proxy(parts.hostname, parts.port or 80, password or None, headers)


def tls_context(settings):
    """Verification with ``ca_path``, else a bundle named by REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, else
    the system's trust store; none with ``validate_certs`` false."""
    if not settings.validate_certs:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    bundle = settings.ca_path or next((os.environ[name] for name in CA_BUNDLE_VARIABLES if os.environ.get(name)), None)
    try:
        context = ssl.create_default_context(cafile=bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError("the CA bundle %r cannot be loaded (%s); give a PEM file in ca_path" % (bundle, exc)) from None
    # The name must be in the Subject Alternative Name: a Common Name alone is refused, as modern clients do.
    context.hostname_checks_common_name = False
    return context


class _Pool:
    """Idle keep-alive connections, at most ``size`` of them; any thread takes one or gets a new one."""

    def __init__(self, factory, size):
        self._factory = factory
        self._size = size
        self._idle = []
        self._lock = threading.Lock()

    def take(self):
        while True:
            with self._lock:
                connection, since = self._idle.pop() if self._idle else (None, None)
            if connection is None:
                return self._factory()
            if time.monotonic() - since < IDLE_CHECK_AFTER or _usable(connection):
                return connection
            connection.close()

    def give(self, connection):
        with self._lock:
            if len(self._idle) < self._size:
                self._idle.append((connection, time.monotonic()))
                return
        connection.close()

    def close(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for connection, unused_since in idle:
            connection.close()


def _usable(connection):
    """Whether an idle connection can carry another request: closed ones reconnect; one the server
    has closed (readable while idle) would fail the request, so it is dropped first."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        return not select.select([sock], [], [], 0)[0]
    except (OSError, ValueError):
        return False


class _Deadlines:
    """Cuts the connections of answers still being read after their deadline: one watcher thread
    for the whole client, started on first use, instead of a timer per request."""

    def __init__(self):
        self._lock = threading.Lock()
        self._watched = {}
        self._expired = set()
        self._thread = None

    def watch(self, connection, seconds):
        """Start watching ``connection``; returns the token for release()."""
        token = object()
        with self._lock:
            self._watched[token] = (time.monotonic() + seconds, connection)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bigfix-deadlines", daemon=True)
                self._thread.start()
        return token

    def release(self, token):
        """Stop watching; True when the deadline had passed and the connection was cut."""
        with self._lock:
            self._watched.pop(token, None)
            if token in self._expired:
                self._expired.discard(token)
                return True
            return False

    def _run(self):
        while True:
            time.sleep(DEADLINE_CHECK_INTERVAL)
            now = time.monotonic()
            with self._lock:
                late = [token for token, (deadline, connection) in self._watched.items() if deadline <= now]
                connections = [self._watched.pop(token)[1] for token in late]
                self._expired.update(late)
            for connection in connections:
                # A blocked read returns at once when its socket is shut down; close() alone may not wake it.
                try:
                    connection.sock.shutdown(socket.SHUT_RDWR)
                except (AttributeError, OSError):
                    pass
