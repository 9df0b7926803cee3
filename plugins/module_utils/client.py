# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transport for the BigFix REST API.

One ``requests`` session per task: Basic authentication on every request, TLS verification,
timeouts, bounded retries with backoff for reads, a hardened XML parser, and a single error type
whose message never carries a credential. Nothing here imports Ansible.
"""

from __future__ import annotations

import base64
import math
import os
import random
import ssl
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

try:
    import requests
    from requests.auth import HTTPBasicAuth
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

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


def parse_besapi(text, method=None, path=None):
    """Parse a BESAPI document with entity expansion, DTDs and network access all off."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(text, parser=parser)
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
    """One pooled, authenticated session to a BigFix root server, safe to share across threads."""

    def __init__(self, settings, pool_size=8, sleep=time.sleep):
        self.settings = settings
        self.base_url = normalize_url(settings.url)
        self.retry_counts = Counter()
        # When the server last gave a real answer, and the error that showed it down, if it is.
        self._last_answer = 0.0
        self._down = None
        self._deadlines = _Deadlines()
        self._sleep = sleep
        self._lock = threading.Lock()
        # requests would encode a str credential as Latin-1; BigFix expects UTF-8.
        self._auth = HTTPBasicAuth(settings.username.encode("utf-8"), settings.password.encode("utf-8"))
        token = base64.b64encode(b"%s:%s" % (settings.username.encode("utf-8"), settings.password.encode("utf-8")))
        # Texts that must never reach a message, even when a server echoes them back.
        self.secrets = tuple(secret for secret in (settings.password, token.decode("ascii")) if secret)
        # verify is passed on every request rather than set on the session.
        if not settings.validate_certs:
            self._verify = False
        else:
            # As requests itself would with trust_env: the CA bundle named in the environment, else certifi's.
            self._verify = settings.ca_path or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.session = requests.Session()
        # Proxies come from the environment, looked up once: with trust_env, requests scans the whole
        # environment twice per request, a quarter of the client's CPU at thousands of computers.
        self.session.proxies = requests.utils.get_environ_proxies(self.base_url)
        self.session.trust_env = False
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(1, pool_size),
                                                max_retries=0, pool_block=True)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "bigfix.core"

    def close(self):
        self.session.close()

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
        """Send a write once. A failure says whether the server may have carried it out."""
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

    def _send(self, method, path, data=None, headers=None, expect=(200,)):
        shown = self._display_path(path)
        if self._down is not None:
            raise BigFixError("not sent, because the server stopped answering earlier in this task: %s" % self._down,
                              method=method, path=shown)
        url = self.base_url + shown
        write = method != "GET"
        try:
            response = self.session.request(method, url, data=data, headers=headers, auth=self._auth,
                                            verify=self._verify, timeout=self.settings.timeout,
                                            allow_redirects=False, stream=True)
        except requests.exceptions.SSLError as exc:
            if _caused_by(exc, ssl.SSLCertVerificationError):
                raise BigFixError("TLS verification failed: %s" % _reason(exc), method=method, path=shown,
                                  hint="set ca_path to the PEM file of the CA that signed the server "
                                       "certificate, or validate_certs=false for a test server") from None
            if _caused_by(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError)):
                # The connection was cut inside TLS (a reset or a closed keep-alive socket): a broken
                # connection like any other, not a certificate problem.
                raise BigFixError("the connection broke: %s" % _reason(exc), method=method, path=shown,
                                  transient=True, outcome_unknown=write) from None
            raise BigFixError("TLS handshake failed: %s" % _reason(exc), method=method, path=shown,
                              hint="check that url points at the BigFix server's HTTPS port (52311 by default)") from None
        except requests.exceptions.ConnectTimeout:
            raise BigFixError("connecting timed out after %ss" % self.settings.timeout, method=method, path=shown,
                              hint="check url, the port (52311 by default) and firewalls",
                              transient=True) from None
        except requests.exceptions.ConnectionError as exc:
            reason = _reason(exc)
            unresolved = "Name or service not known" in reason or "NameResolutionError" in reason \
                or "nodename nor servname" in reason or "getaddrinfo failed" in reason
            if unresolved:
                raise BigFixError("cannot resolve the server name: %s" % reason, method=method, path=shown,
                                  hint="check the host name in url (DNS)") from None
            refused = "NewConnectionError" in reason or "Connection refused" in reason
            raise BigFixError("connection failed: %s" % reason, method=method, path=shown,
                              hint="check url and that the BigFix server is running" if refused else None,
                              transient=True, outcome_unknown=write and not refused) from None
        except requests.exceptions.Timeout:
            raise BigFixError("no answer within %ss" % self.settings.timeout, method=method, path=shown,
                              hint="raise timeout, or lower concurrency", transient=True,
                              outcome_unknown=write) from None
        except requests.exceptions.RequestException as exc:
            raise BigFixError("request failed: %s" % _reason(exc), method=method, path=shown,
                              transient=True, outcome_unknown=write) from None
        try:
            body = self._read_body(response, method, shown)
        finally:
            response.close()
        status = response.status_code
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

    def _scrub(self, text):
        for secret in self.secrets:
            text = text.replace(secret, "********")
        return text

    def _read_body(self, response, method, shown):
        chunks = []
        size = 0
        # The timeout bounds each read; a server that drips its answer needs a bound on the whole.
        allowed = self.settings.timeout * BODY_TIMEOUT_FACTOR
        token = self._deadlines.watch(response, allowed)
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise BigFixError("the answer is larger than %d MiB; refused" % (MAX_RESPONSE_BYTES // (1024 * 1024)),
                                      method=method, path=shown)
                chunks.append(chunk)
        except (requests.exceptions.RequestException, OSError, ValueError, AttributeError) as exc:
            if not self._deadlines.release(token):
                if not isinstance(exc, requests.exceptions.RequestException):
                    raise
                raise BigFixError("the connection broke while reading the answer: %s" % _reason(exc),
                                  method=method, path=shown, transient=True,
                                  outcome_unknown=method != "GET") from None
            token = None
        if token is None or self._deadlines.release(token):
            raise BigFixError("the answer did not arrive within %ss" % allowed, method=method, path=shown,
                              hint="the server or a proxy sends too slowly", transient=True,
                              outcome_unknown=method != "GET")
        return b"".join(chunks)


class _Deadlines:
    """Closes answers still being read after their deadline: one watcher thread for the whole client,
    started on first use, instead of a timer per request."""

    def __init__(self):
        self._lock = threading.Lock()
        self._watched = {}
        self._expired = set()
        self._thread = None

    def watch(self, response, seconds):
        """Start watching ``response``; returns the token for release()."""
        token = object()
        with self._lock:
            self._watched[token] = (time.monotonic() + seconds, response)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bigfix-deadlines", daemon=True)
                self._thread.start()
        return token

    def release(self, token):
        """Stop watching; True when the deadline had passed and the answer was closed."""
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
                late = [token for token, (deadline, response) in self._watched.items() if deadline <= now]
                responses = [self._watched.pop(token)[1] for token in late]
                self._expired.update(late)
            for response in responses:
                response.close()


def _caused_by(exc, kinds):
    """Whether ``exc`` or anything it wraps (as args, reason, cause or context) is one of ``kinds``."""
    seen = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kinds):
            return True
        pending.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        pending.extend((getattr(current, "reason", None), current.__cause__, current.__context__))
    return False


def _reason(exc):
    """The innermost useful text of a requests exception, without URLs' credentials (there are none)."""
    reason = exc
    while getattr(reason, "args", None) and isinstance(reason.args[0], Exception):
        reason = reason.args[0]
    inner = getattr(reason, "reason", None)
    if inner is not None:
        reason = inner
    return str(reason)
