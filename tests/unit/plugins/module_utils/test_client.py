# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for module_utils/client.py: URL normalisation, retries, TLS settings, secrets, XML hardening."""

from __future__ import annotations

import base64
import http.client
import io
import math
import socket
import ssl
import threading
import time
from email.utils import formatdate

import pytest
import trustme
from hypothesis import given, settings as hypothesis_settings, strategies as st

from ansible_collections.bigfix.core.plugins.module_utils import client as transport
from ansible_collections.bigfix.core.tests.unit.plugins.fakes import OnConnect, ScriptedTransport, make_response
from ansible_collections.bigfix.core.plugins.module_utils.client import (
    BACKOFF_BASE, BACKOFF_CAP, BODY_EXCERPT_CHARS, HINTS, RETRY_AFTER_CAP, BigFixError, ConnectionSettings,
    normalize_url, parse_besapi, retry_after_seconds,
)

LISTING = b'<?xml version="1.0" encoding="UTF-8"?><BESAPI><ComputerMailboxFile><Name>a</Name></ComputerMailboxFile></BESAPI>'
TRANSIENT = (429, 500, 502, 503, 504)


def refused():
    """What connecting raises when nothing listens on the port."""
    return OnConnect(ConnectionRefusedError(111, "Connection refused"))


def reset():
    """What sending raises when the peer drops the connection mid-request."""
    return ConnectionResetError(104, "Connection reset by peer")


def read_timeout():
    return socket.timeout("The read operation timed out")


def connect_timeout():
    return OnConnect(socket.timeout("timed out"))


def cut_answer():
    """An answer whose body breaks off: the peer closed the connection mid-body."""
    return http.client.IncompleteRead(b"<BESAPI>", 100)


def closed_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- normalize_url ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("given_url, expected", [
    ("bigfix.example.com", "https://bigfix.example.com:52311"),
    ("  bigfix.example.com  ", "https://bigfix.example.com:52311"),
    ("https://bigfix.example.com", "https://bigfix.example.com:52311"),
    ("HTTPS://BigFix.Example.COM", "https://bigfix.example.com:52311"),
    ("https://bigfix.example.com:443", "https://bigfix.example.com:443"),
    ("bigfix.example.com:8443", "https://bigfix.example.com:8443"),
    ("https://bigfix.example.com:52311/", "https://bigfix.example.com:52311"),
    ("https://bigfix.example.com:52311/api", "https://bigfix.example.com:52311"),
    ("https://bigfix.example.com:52311/api/", "https://bigfix.example.com:52311"),
    ("https://bigfix.example.com/API", "https://bigfix.example.com:52311"),
    ("https://gateway.example.com/bigfix/api", "https://gateway.example.com:52311/bigfix"),
    ("10.1.2.3", "https://10.1.2.3:52311"),
    ("https://[::1]", "https://[::1]:52311"),
    ("https://[2001:db8::5]:8443/api", "https://[2001:db8::5]:8443"),
    ("[fe80::1]", "https://[fe80::1]:52311"),
])
def test_normalize_url_accepts(given_url, expected):
    assert normalize_url(given_url) == expected


@pytest.mark.parametrize("given_url, fragment", [
    ("", "empty"),
    ("   ", "empty"),
    (None, "empty"),
    ("http://bigfix.example.com", "https"),
    ("ftp://bigfix.example.com", "https"),
    ("https://admin:hunter2@bigfix.example.com", "credentials"),
    ("https://admin@bigfix.example.com", "credentials"),
    ("https://bigfix.example.com/api?x=1", "query"),
    ("https://bigfix.example.com/#top", "fragment"),
    ("https://bigfix.example.com:99999", "port"),
    ("https://bigfix.example.com:port", "port"),
    ("https://bigfix.example.com:0", "port"),
    ("https://:52311", "host"),
    ("https:///api", "host"),
])
def test_normalize_url_refuses(given_url, fragment):
    with pytest.raises(ValueError) as error:
        normalize_url(given_url)
    assert fragment in str(error.value)


def test_normalize_url_does_not_echo_credentials():
    with pytest.raises(ValueError) as error:
        normalize_url("https://admin:hunter2@bigfix.example.com")
    assert "hunter2" not in str(error.value)


# --- retry_after_seconds ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("header, expected", [
    (None, None),
    ("", None),
    ("7", 7.0),
    ("0", 0.0),
    ("2.5", 2.5),
    ("-3", 0.0),
    ("100000", RETRY_AFTER_CAP),
    ("soon", None),
    ("nan", None),
])
def test_retry_after_seconds(header, expected):
    assert retry_after_seconds(header) == expected


def test_retry_after_http_date_in_the_future():
    delay = retry_after_seconds(formatdate(time.time() + 30, usegmt=True))
    assert 28 <= delay <= 31


def test_retry_after_http_date_in_the_past_or_far_future():
    assert retry_after_seconds(formatdate(time.time() - 3600, usegmt=True)) == 0.0
    assert retry_after_seconds(formatdate(time.time() + 86400, usegmt=True)) == RETRY_AFTER_CAP


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.from_regex(r"\A[+-]?(nan|inf|infinity|[0-9]{1,5}(\.[0-9]*)?)\Z")))
def test_retry_after_is_none_or_a_sleepable_delay(header):
    delay = retry_after_seconds(header)
    assert delay is None or (math.isfinite(delay) and 0.0 <= delay <= RETRY_AFTER_CAP)


# --- GET retries ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", TRANSIENT)
def test_get_retries_transient_status_then_succeeds(scripted, status):
    harness = scripted((status, "busy"), (status, "busy"), (200, LISTING))
    reply = harness.client.get("mailbox/1")
    assert reply.status == 200 and reply.content == LISTING
    assert len(harness.transport.calls) == 3
    assert len(harness.sleeps) == 2
    assert harness.client.retry_counts[status] == 2


@pytest.mark.parametrize("status", TRANSIENT)
def test_get_gives_up_after_retries_with_status_and_hint(scripted, status):
    harness = scripted(*[(status, "try later")] * 3, retries=2)
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert len(harness.transport.calls) == 3
    assert len(harness.sleeps) == 2
    assert error.value.status == status
    assert error.value.transient is True
    assert error.value.hint == HINTS[status]
    text = str(error.value)
    assert "GET /api/mailbox/1" in text and "HTTP %d" % status in text and HINTS[status] in text and "try later" in text


def test_get_with_zero_retries_tries_once(scripted):
    harness = scripted((503, ""), retries=0)
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert len(harness.transport.calls) == 1 and harness.sleeps == []
    assert "(empty body)" in str(error.value)


@pytest.mark.parametrize("failure", [refused, reset, read_timeout, connect_timeout, cut_answer])
def test_get_retries_connection_failures(scripted, failure):
    harness = scripted(failure(), failure(), (200, LISTING))
    assert harness.client.get("mailbox/1").content == LISTING
    assert len(harness.transport.calls) == 3
    assert harness.client.retry_counts["connection"] == 2


def test_get_connection_failures_exhaust_retries(scripted):
    harness = scripted(refused(), refused(), refused(), retries=2)
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert len(harness.transport.calls) == 3
    assert error.value.transient and error.value.status is None
    assert "Connection refused" in str(error.value)
    assert "server is running" in error.value.hint


def test_broken_body_is_transient_and_retried(scripted, respond):
    class BrokenRaw(io.RawIOBase):
        def readable(self):
            return True

        def read(self, size=-1):
            raise http.client.IncompleteRead(b"", 10)

    def broken(call):
        del call
        return respond(200, raw=BrokenRaw())

    harness = scripted(broken, (200, LISTING))
    assert harness.client.get("mailbox/1").content == LISTING
    assert len(harness.transport.calls) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409])
def test_get_does_not_retry_client_errors_and_gives_hints(scripted, status):
    harness = scripted((status, "Requested resource does not exist."))
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert len(harness.transport.calls) == 1 and harness.sleeps == []
    assert error.value.status == status and not error.value.transient and not error.value.outcome_unknown
    assert error.value.hint == HINTS[status]
    assert "hint: " + HINTS[status] in str(error.value)
    assert not harness.client.retry_counts


def test_redirect_is_not_followed(scripted):
    harness = scripted((302, "", {"Location": "https://login.example.com/"}))
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert "unexpected redirect to https://login.example.com/" in str(error.value)
    assert len(harness.transport.calls) == 1


def test_expected_status_is_returned(scripted):
    harness = scripted((404, ""))
    assert harness.client.get("mailbox/1", expect=(200, 404)).status == 404


# --- Retry-After and backoff ------------------------------------------------------------------------------------

def test_retry_after_seconds_is_honoured(scripted):
    harness = scripted((503, "", {"Retry-After": "7"}), (429, "", {"Retry-After": "2"}), (200, LISTING))
    harness.client.get("mailbox/1")
    assert harness.sleeps == [7.0, 2.0]


def test_retry_after_http_date_is_honoured(scripted):
    harness = scripted((503, "", {"Retry-After": formatdate(time.time() + 20, usegmt=True)}), (200, LISTING))
    harness.client.get("mailbox/1")
    assert len(harness.sleeps) == 1 and 18 <= harness.sleeps[0] <= 21


def test_retry_after_is_capped(scripted):
    harness = scripted((503, "", {"Retry-After": "86400"}), (200, LISTING))
    harness.client.get("mailbox/1")
    assert harness.sleeps == [RETRY_AFTER_CAP]


def test_retry_after_is_read_only_on_transient_statuses(scripted):
    harness = scripted((404, "", {"Retry-After": "5"}))
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert error.value.retry_after is None


def test_backoff_grows_exponentially_up_to_the_cap(scripted, monkeypatch):
    bounds = []

    def uniform(low, high):
        bounds.append((low, high))
        return high

    monkeypatch.setattr(transport.random, "uniform", uniform)
    harness = scripted(*[(500, "")] * 9, retries=8)
    with pytest.raises(BigFixError):
        harness.client.get("mailbox/1")
    expected = [min(BACKOFF_CAP, BACKOFF_BASE * 2 ** n) for n in range(8)]
    assert harness.sleeps == expected
    assert bounds == [(0, bound) for bound in expected]
    assert expected[-1] == BACKOFF_CAP


def test_backoff_is_jittered_within_bounds(connect):
    harness = connect(None)
    error = BigFixError("busy", status=503, transient=True)
    attempts = sorted(list(range(1, 11)) * 20)
    for attempt in attempts:
        harness.client.pause(attempt, error)
    assert len(harness.sleeps) == 200
    for attempt, delay in zip(attempts, harness.sleeps):
        assert 0 <= delay <= min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    assert len(set(harness.sleeps[-20:])) > 1
    assert harness.client.retry_counts == {503: 200}


def test_pause_counts_connection_failures_without_status(connect):
    harness = connect(None)
    harness.client.pause(1, BigFixError("refused", transient=True, retry_after=None))
    assert harness.client.retry_counts == {"connection": 1}


# --- writes -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("status, unknown", [(500, True), (502, True), (504, True), (429, False), (503, False)])
def test_writes_are_never_retried(scripted, method, status, unknown):
    harness = scripted((status, "failure"))
    with pytest.raises(BigFixError) as error:
        harness.client.send(method, "mailbox/1", data=b"x")
    assert len(harness.transport.calls) == 1 and harness.sleeps == []
    assert error.value.transient is True
    assert error.value.outcome_unknown is unknown
    assert error.value.status == status


@pytest.mark.parametrize("failure, unknown", [
    (read_timeout, True),
    (reset, True),
    (cut_answer, True),
    (lambda: http.client.RemoteDisconnected("Remote end closed connection without response"), True),
    (refused, False),
    (connect_timeout, False),
])
def test_write_connection_failures_say_whether_the_outcome_is_known(scripted, failure, unknown):
    harness = scripted(failure())
    with pytest.raises(BigFixError) as error:
        harness.client.send("POST", "mailbox/1", data=b"x")
    assert len(harness.transport.calls) == 1 and harness.sleeps == []
    assert error.value.transient is True
    assert error.value.outcome_unknown is unknown


@pytest.mark.parametrize("status", [400, 403, 404, 409])
def test_write_client_errors_are_known_outcomes(scripted, status):
    harness = scripted((status, ""))
    with pytest.raises(BigFixError) as error:
        harness.client.send("POST", "mailbox/1", data=b"x")
    assert not error.value.transient and not error.value.outcome_unknown
    assert error.value.hint == HINTS[status]


def test_reads_are_never_outcome_unknown(scripted):
    harness = scripted((504, ""), retries=0)
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert error.value.outcome_unknown is False


# --- TLS, DNS, refused ------------------------------------------------------------------------------------------

def test_ssl_error_points_at_ca_path(scripted):
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate")
    harness = scripted(OnConnect(cause))
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert len(harness.transport.calls) == 1
    assert not error.value.transient
    text = str(error.value)
    assert "TLS verification failed" in text and "certificate verify failed" in text
    assert "ca_path" in text and "validate_certs" in text


def test_connection_cut_inside_tls_is_a_broken_connection_and_retried(scripted):
    cut = ssl.SSLEOFError(8, "EOF occurred in violation of protocol (_ssl.c:2427)")
    harness = scripted(cut, (200, LISTING))
    assert harness.client.get("mailbox/1").status == 200
    assert len(harness.transport.calls) == 2


def test_connection_cut_inside_tls_during_a_write_has_an_unknown_outcome(scripted):
    harness = scripted(ssl.SSLEOFError(8, "EOF occurred in violation of protocol"))
    with pytest.raises(BigFixError) as error:
        harness.client.send("POST", "mailbox/1", data=b"x")
    assert error.value.transient and error.value.outcome_unknown
    assert "TLS verification" not in str(error.value)


def test_other_tls_failure_is_a_handshake_error_not_retried(scripted):
    harness = scripted(OnConnect(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")))
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert len(harness.transport.calls) == 1
    assert not error.value.transient
    assert "TLS handshake failed" in str(error.value) and "52311" in str(error.value)


def test_unresolvable_host_hints_at_the_host_name(connect, monkeypatch, no_proxy):
    def getaddrinfo(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    harness = connect(None, url="https://bigfix.invalid", retries=0)
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert "cannot resolve the server name" in str(error.value)
    assert "host name" in error.value.hint


def test_refused_connection_on_a_real_socket(connect, no_proxy):
    harness = connect(None, url="https://127.0.0.1:%d" % closed_port(), retries=0)
    with pytest.raises(BigFixError) as error:
        harness.client.send("POST", "mailbox/1", data=b"x")
    assert error.value.transient and not error.value.outcome_unknown
    assert "connection failed" in str(error.value)
    assert "server is running" in error.value.hint


# --- verify, timeout and authentication on every request ----------------------------------------------------------

class RecordedConnection:
    """Stands in for http.client.HTTPSConnection: records how the client builds its connections."""

    made = []

    def __init__(self, host, port, **kwargs):
        self.host, self.port, self.kwargs, self.tunnel = host, port, kwargs, None
        self.made.append(self)

    def set_tunnel(self, host, port=None, headers=None):
        self.tunnel = (host, port, headers)


@pytest.fixture
def recorded(monkeypatch):
    RecordedConnection.made = []
    monkeypatch.setattr(transport.http.client, "HTTPSConnection", RecordedConnection)
    return RecordedConnection.made


@pytest.fixture
def cafiles(monkeypatch):
    """The cafile of every TLS context the client builds (None: the system's trust store)."""
    seen = []
    real = ssl.create_default_context

    def spy(*args, cafile=None, **kwargs):
        seen.append(cafile)
        return real(*args, cafile=cafile, **kwargs)

    monkeypatch.setattr(transport.ssl, "create_default_context", spy)
    return seen


def test_connections_verify_with_ca_path_despite_environment(connect, recorded, cafiles, monkeypatch, tmp_path):
    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "other.pem"))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(tmp_path / "curl.pem"))
    monkeypatch.delenv("https_proxy", raising=False)
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    harness = connect(None, url="https://bigfix.example.com:52311", ca_path=str(ca_file), timeout=12.5)
    connection = harness.client._new_connection()  # pylint: disable=protected-access
    assert cafiles == [str(ca_file)]
    assert (connection.host, connection.port, connection.tunnel) == ("bigfix.example.com", 52311, None)
    assert connection.kwargs["timeout"] == 12.5
    context = connection.kwargs["context"]
    assert context is harness.client.tls
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert not context.hostname_checks_common_name


def test_no_verification_when_validate_certs_is_false(connect, recorded, monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "other.pem"))
    harness = connect(None, validate_certs=False, ca_path=str(tmp_path / "ignored.pem"))
    context = harness.client._new_connection().kwargs["context"]  # pylint: disable=protected-access
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname


def test_environment_bundle_without_ca_path(connect, cafiles, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/pki/bundle.pem")
    with pytest.raises(ValueError) as error:
        connect(None)
    assert cafiles == ["/etc/pki/bundle.pem"]
    assert "/etc/pki/bundle.pem" in str(error.value) and "ca_path" in str(error.value)


def test_system_trust_store_without_ca_path_or_environment(connect, cafiles, monkeypatch):
    for name in transport.CA_BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    harness = connect(None)
    assert cafiles == [None]
    assert harness.client.tls.verify_mode == ssl.CERT_REQUIRED


def test_https_proxy_tunnels_with_its_credentials(connect, recorded, monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy%40user:s3cr%C3%A9t@proxy.example.com:3128")
    monkeypatch.setenv("no_proxy", "localhost,.internal.example.com")
    harness = connect(None, url="https://bigfix.example.com:52311")
    connection = harness.client._new_connection()  # pylint: disable=protected-access
    assert (connection.host, connection.port) == ("proxy.example.com", 3128)
    token = base64.b64encode("proxy@user:s3crét".encode("utf-8")).decode("ascii")
    assert connection.tunnel == ("bigfix.example.com", 52311, {"Proxy-Authorization": "Basic " + token})
    assert "s3crét" in harness.client.secrets


@pytest.mark.parametrize("no_proxy", ["*", "bigfix.example.com", ".example.com", "bigfix.example.com:52311"])
def test_no_proxy_goes_straight_to_the_server(connect, recorded, monkeypatch, no_proxy):
    monkeypatch.setenv("https_proxy", "http://proxy.example.com:3128")
    monkeypatch.setenv("no_proxy", no_proxy)
    harness = connect(None, url="https://bigfix.example.com:52311")
    connection = harness.client._new_connection()  # pylint: disable=protected-access
    assert (connection.host, connection.port, connection.tunnel) == ("bigfix.example.com", 52311, None)


def test_an_https_proxy_url_is_refused(connect, monkeypatch):
    monkeypatch.setenv("https_proxy", "https://proxy.example.com:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with pytest.raises(ValueError) as error:
        connect(None)
    assert "https_proxy" in str(error.value) and "http://" in str(error.value)


def test_basic_auth_is_utf8_on_every_request(scripted):
    harness = scripted((500, ""), (200, LISTING), (200, ""), username="opérateur", password="pässwörd")
    harness.client.get("mailbox/1")
    harness.client.send("PUT", "mailbox/1/2", data=b"x")
    expected = "Basic " + base64.b64encode("opérateur:pässwörd".encode("utf-8")).decode("ascii")
    assert [call.headers["Authorization"] for call in harness.transport.calls] == [expected] * 3


def test_requests_go_to_api_under_the_base_url(scripted):
    harness = scripted((200, LISTING), url="bigfix.example.com/api/")
    harness.client.get("/mailbox/7")
    call = harness.transport.calls[0]
    assert call.path == "/api/mailbox/7"
    assert call.headers["User-Agent"] == "bigfix.core"


def test_settings_repr_hides_the_password():
    settings = ConnectionSettings(url="h", username="u", password="hunter2-secret")
    assert "hunter2-secret" not in repr(settings)


# --- secrets never reach a message -------------------------------------------------------------------------------

SECRET = "Zx9-pässwörd-S3cret!"
OPERATOR = "ansible-operator"
TOKEN = base64.b64encode(("%s:%s" % (OPERATOR, SECRET)).encode("utf-8")).decode("ascii")


def assert_no_secret(error):
    texts = [str(error), repr(error), str(error.hint)] + [str(arg) for arg in error.args]
    for text in texts:
        assert SECRET not in text
        assert TOKEN not in text


def test_password_echoed_in_an_error_body_is_masked(scripted):
    body = "Login failed for %s with password %s; Authorization: Basic %s" % (OPERATOR, SECRET, TOKEN)
    harness = scripted((401, body, {"WWW-Authenticate": 'Basic realm="BigFix Server"'}), username=OPERATOR, password=SECRET)
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert harness.transport.calls[0].headers["Authorization"] == "Basic " + TOKEN
    assert error.value.status == 401 and error.value.hint == HINTS[401]
    assert_no_secret(error.value)
    assert "********" in str(error.value) and "Login failed" in str(error.value)


@pytest.mark.parametrize("status", [200, 404])
def test_secrets_echoed_in_a_non_xml_body_are_masked_by_get_xml(scripted, status):
    body = "<html><body>Hello %s, token Basic %s<br></body></html>" % (SECRET, TOKEN)
    harness = scripted((status, body), username=OPERATOR, password=SECRET)
    with pytest.raises(BigFixError) as error:
        harness.client.get_xml("mailbox/1")
    assert "Hello" in str(error.value)
    assert_no_secret(error.value)


def test_password_cut_by_the_excerpt_limit_is_not_leaked(scripted):
    body = "x" * (BODY_EXCERPT_CHARS - 10) + SECRET + " and more text after it"
    harness = scripted((401, body), username=OPERATOR, password=SECRET)
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert SECRET[:8] not in str(error.value)


def test_password_with_inner_whitespace_is_not_leaked(scripted):
    harness = scripted((403, "denied for password 'correct  horse\tbattery staple'"),
                       password="correct  horse\tbattery staple")
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert "correct horse battery staple" not in str(error.value)


# --- XML hardening ----------------------------------------------------------------------------------------------

def test_parse_besapi_accepts_a_listing():
    root = parse_besapi(LISTING)
    assert root.tag == "BESAPI" and root.findtext("ComputerMailboxFile/Name") == "a"


def test_parse_besapi_refuses_external_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    document = ('<?xml version="1.0"?><!DOCTYPE BESAPI [<!ENTITY x SYSTEM "file://%s">]>'
                '<BESAPI><ComputerMailboxFile><Name>&x;</Name></ComputerMailboxFile></BESAPI>' % secret).encode()
    with pytest.raises(BigFixError) as error:
        parse_besapi(document, "GET", "/api/mailbox/1")
    assert "DTD" in str(error.value)
    assert "TOP-SECRET-CONTENT" not in str(error.value)


def test_parse_besapi_refuses_an_external_dtd(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY x SYSTEM "file://%s">' % secret)
    document = ('<?xml version="1.0"?><!DOCTYPE BESAPI SYSTEM "file://%s"><BESAPI><ComputerMailboxFile>'
                '<Name>&x;</Name></ComputerMailboxFile></BESAPI>' % dtd).encode()
    with pytest.raises(BigFixError) as error:
        parse_besapi(document)
    assert "TOP-SECRET-CONTENT" not in str(error.value)


def test_parse_besapi_refuses_billion_laughs():
    entities = '<!ENTITY lol0 "lol">' + "".join(
        '<!ENTITY lol%d "%s">' % (n, ("&lol%d;" % (n - 1)) * 10) for n in range(1, 10))
    document = ('<?xml version="1.0"?><!DOCTYPE BESAPI [%s]><BESAPI><Name>&lol9;</Name></BESAPI>' % entities).encode()
    started = time.monotonic()
    with pytest.raises(BigFixError) as error:
        parse_besapi(document)
    assert time.monotonic() - started < 2
    assert "lollollol" not in str(error.value)


def test_parse_besapi_refuses_html():
    page = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><p>Please log in<br></body></html>"
    with pytest.raises(BigFixError) as error:
        parse_besapi(page, "GET", "/api/mailbox/1")
    text = str(error.value)
    assert "not XML" in text and "Please log in" in text
    assert "url" in error.value.hint


@pytest.mark.parametrize("document, tag", [
    (b"<html><body>hi</body></html>", "html"),
    (b'<BES xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>', "BES"),
])
def test_parse_besapi_refuses_another_root(document, tag):
    with pytest.raises(BigFixError) as error:
        parse_besapi(document)
    assert "expected a BESAPI document, got <%s>" % tag in str(error.value)


@pytest.mark.parametrize("document", [b"", b"   ", b"Requested resource does not exist."])
def test_parse_besapi_refuses_non_xml(document):
    with pytest.raises(BigFixError) as error:
        parse_besapi(document)
    assert "not XML" in str(error.value)


def test_get_xml_parses_the_answer(scripted):
    harness = scripted((200, LISTING))
    assert harness.client.get_xml("mailbox/1").findtext("ComputerMailboxFile/Name") == "a"


def test_get_xml_error_names_the_request(scripted):
    harness = scripted((200, "<Other/>"))
    with pytest.raises(BigFixError) as error:
        harness.client.get_xml("mailbox/9")
    assert str(error.value).startswith("GET /api/mailbox/9: expected a BESAPI document")


# --- response size limit ----------------------------------------------------------------------------------------

class CountingRaw(io.RawIOBase):
    """An endless body of zeros that counts the bytes handed out."""

    def __init__(self, total):
        super().__init__()
        self.total = total
        self.served = 0

    def readable(self):
        return True

    def read(self, size=-1):
        size = self.total - self.served if size is None or size < 0 else min(size, self.total - self.served)
        self.served += size
        return b"\0" * size


def test_oversized_answer_is_refused_without_reading_it_all(scripted, respond, monkeypatch):
    monkeypatch.setattr(transport, "MAX_RESPONSE_BYTES", 1024 * 1024)
    raw = CountingRaw(64 * 1024 * 1024)
    harness = scripted(lambda call: respond(200, raw=raw))
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert "larger than 1 MiB" in str(error.value) and "refused" in str(error.value)
    assert raw.served <= 1024 * 1024 + 2 * 64 * 1024
    assert len(harness.transport.calls) == 1


def test_answer_at_the_size_limit_is_accepted(scripted, monkeypatch):
    monkeypatch.setattr(transport, "MAX_RESPONSE_BYTES", 1000)
    harness = scripted((200, b"a" * 1000))
    assert len(harness.client.get("mailbox/1").content) == 1000


def test_a_short_password_does_not_corrupt_a_listing(scripted):
    """Secrets are masked in messages only: a password that occurs in a valid answer leaves it intact."""
    listing = (b'<?xml version="1.0" encoding="UTF-8"?><BESAPI xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
               b'xsi:noNamespaceSchemaLocation="BESAPI.xsd"><ComputerMailboxFile><Name>app.conf</Name></ComputerMailboxFile></BESAPI>')
    harness = scripted((200, listing), password="p")
    root = harness.client.get_xml("mailbox/1")
    assert root.findtext("ComputerMailboxFile/Name") == "app.conf"
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation") == "BESAPI.xsd"


# --- keep-alive connections ---------------------------------------------------------------------------------------

def test_requests_reuse_one_keep_alive_connection(scripted):
    harness = scripted((200, LISTING), (200, ""), (404, ""), (200, LISTING))
    harness.client.get("mailbox/1")
    harness.client.send("POST", "mailbox/1", data=b"x")
    harness.client.get("mailbox/2", expect=(200, 404))
    harness.client.get("mailbox/3")
    assert len(harness.transport.calls) == 4
    assert harness.transport.connections == 1


def test_a_broken_connection_is_not_reused(scripted):
    harness = scripted(reset(), (200, LISTING), (200, LISTING))
    harness.client.get("mailbox/1")
    harness.client.get("mailbox/1")
    assert len(harness.transport.calls) == 3
    assert harness.transport.connections == 2


def test_an_idle_connection_the_server_closed_is_dropped_before_use(scripted, monkeypatch):
    """A write on a connection the server has closed would fail with an unknown outcome; it is not tried."""
    monkeypatch.setattr(transport, "IDLE_CHECK_AFTER", 0.0)
    harness = scripted((200, LISTING), (200, ""))
    harness.client.get("mailbox/1")
    harness.transport.made[0].hang_up()
    harness.client.send("POST", "mailbox/1", data=b"x")
    assert [call.method for call in harness.transport.calls] == ["GET", "POST"]
    assert harness.transport.connections == 2
    assert harness.transport.calls[1].connection is harness.transport.made[1]


def test_concurrent_requests_each_get_a_connection_and_at_most_pool_size_stay_idle(connect):
    inside = threading.Barrier(6)

    class Transport(ScriptedTransport):
        def answer(self, connection, call):
            inside.wait(timeout=10)
            return make_response(200, LISTING)

    harness = connect(Transport())
    threads = [threading.Thread(target=harness.client.get, args=("mailbox/%d" % number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert harness.transport.connections == 6
    harness.client.close()
    assert sum(connection.sock is not None for connection in harness.transport.made) == 0
    assert sum(connection.closes for connection in harness.transport.made) == 6


def test_an_answer_still_arriving_after_its_deadline_is_cut(scripted, monkeypatch):
    """The per-read timeout cannot bound a server that drips its answer; the watcher cuts the socket."""
    monkeypatch.setattr(transport, "DEADLINE_CHECK_INTERVAL", 0.05)

    class Drip(io.RawIOBase):
        def __init__(self, connection):
            super().__init__()
            self.connection = connection

        def readable(self):
            return True

        def read(self, size=-1):
            time.sleep(0.02)
            if self.connection.cut():
                raise http.client.IncompleteRead(b"", 1)
            return b" "

    def dripping(call):
        return make_response(200, raw=Drip(call.connection))

    harness = scripted(dripping, timeout=0.05, retries=0)
    started = time.monotonic()
    with pytest.raises(BigFixError) as error:
        harness.client.get("mailbox/1")
    assert "did not arrive within 0.5s" in str(error.value)
    assert error.value.transient and time.monotonic() - started < 5
