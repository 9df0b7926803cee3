# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets: the password and the Basic ``Authorization`` value never show up in ``ansible-playbook -vvvv``
output, in module results, in exception text, or in any URL the server receives, even from a server
that echoes the request back. ``validate_certs: false`` warns.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from ansible_collections.bigfix.core.plugins.module_utils import mailbox
from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixClient, BigFixError, normalize_url
from ansible_collections.bigfix.core.plugins.modules import bigfix_mailbox_file, bigfix_mailbox_info
from tests.emulator.launcher import Emulator

from .conftest import (
    BASIC_TOKEN, PASSWORD, SECRETS, ansible_env, computer_ids, fleet, module_args, playbook_command, record, run,
    run_module, settings, write_playbook,
)
from .servers import Answer, CertificateAuthority, HostileServer

# Forms a secret could take in a URL or a log line.
SECRET_FORMS = SECRETS + (quote(PASSWORD, safe=""), quote(PASSWORD), "Basic " + BASIC_TOKEN)
VALIDATE_CERTS_WARNING = "validate_certs is false: the BigFix server's identity is not verified"


def assert_no_secret(text, where):
    for secret in SECRET_FORMS:
        assert secret not in text, "a credential (%r...) leaked into %s" % (secret[:4], where)


def echo(headers):
    """The request's headers and the decoded password, as a careless server or proxy would echo them."""
    lines = ["%s: %s" % item for item in headers.items()]
    return ("request was:\n%s\npassword was: %s\n" % ("\n".join(lines), PASSWORD)).encode("utf-8")


class Echo:
    """Answers every request by echoing its credentials back, in one of several ways."""

    def __init__(self, style):
        self.style = style
        self.server = None

    def __call__(self, method, path):
        headers = self.server.seen[-1].headers
        if self.style == "500 body":
            return Answer(500, echo(headers), {"Content-Type": "text/plain"})
        if self.style == "401 body":
            return Answer(401, echo(headers), {"Content-Type": "text/plain", "WWW-Authenticate": 'Basic realm="BigFix Server"'})
        if self.style == "redirect":
            return Answer(302, b"", {"Location": "https://login.example.com/?user=%s&auth=%s" % (quote(PASSWORD), BASIC_TOKEN)})
        names = "".join("<ComputerMailboxFile><Name>%s</Name><ID>%d</ID></ComputerMailboxFile>" % (text, number)
                        for number, text in enumerate((PASSWORD, headers.get("Authorization", "")), start=1))
        return Answer(200, ("<BESAPI>%s</BESAPI>" % names).encode("utf-8"), {"Content-Type": "application/xml"})


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return CertificateAuthority(tmp_path_factory.mktemp("echo-ca"))


def echo_server(authority, style):
    answer = Echo(style)
    server = HostileServer(authority, answer)
    answer.server = server
    return server


@pytest.mark.parametrize("style", ["500 body", "401 body", "redirect"])
def test_exception_text_never_carries_credentials(authority, style):
    with echo_server(authority, style) as server:
        with BigFixClient(settings(server.url, server.ca_path, retries=1), sleep=lambda delay: None) as client:
            with pytest.raises(BigFixError) as error:
                mailbox.list_files(client, 1)
        sent = [seen.headers.get("Authorization") for seen in server.seen]
    assert sent and all(value == "Basic " + BASIC_TOKEN for value in sent), "the credentials were not even sent"
    assert str(error.value).startswith("GET /api/mailbox/1: ")
    assert_no_secret(str(error.value), "the exception text (%s)" % style)
    assert_no_secret(repr(error.value.args), "the exception args (%s)" % style)


@pytest.mark.parametrize("style", ["500 body", "401 body", "XML names"])
@pytest.mark.parametrize("module", [bigfix_mailbox_file, bigfix_mailbox_info], ids=["bigfix_mailbox_file", "bigfix_mailbox_info"])
def test_module_results_never_carry_credentials(authority, module, style):
    extra = {"name": "a.txt", "content": "x"} if module is bigfix_mailbox_file else {}
    with echo_server(authority, style) as server:
        code, result, raw = run_module(module.main, module_args(server.url, server.ca_path, computer_id=1, retries=0, **extra))
    assert_no_secret(raw, "the result of %s (%s)" % (module.__name__.rsplit(".", 1)[-1], style))
    if style == "XML names":
        assert code == 0, result["msg"]
        if module is bigfix_mailbox_info:
            # Ansible masks an exact no_log value with its marker and a value inside a text with stars.
            assert [entry["name"] for entry in result["files"]] == ["VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "Basic ********"]
    else:
        assert code == 1 and "HTTP %s" % style[:3] in result["msg"]


def test_playbook_vvvv_never_shows_credentials(authority, tmp_path):
    """ansible-playbook -vvvv: success, failures and an echoing server; nothing shows a credential, and the
    emulator's request log (every request line it received) carries none either."""
    with Emulator(fleet(10), extra_args=("--verbose",)) as emu, echo_server(authority, "500 body") as echoing:
        ids = computer_ids(3)
        playbook = write_playbook(tmp_path / "secrets.yml", [
            {"name": "Stage with the password from BIGFIX_PASSWORD",
             "bigfix.core.bigfix_mailbox_file": {"computers": ids, "name": "secret-test.txt", "content": "hello\n"}},
            {"name": "Stage again with the password as an option, without certificate checks",
             "bigfix.core.bigfix_mailbox_file": {"computers": ids, "name": "secret-test.txt", "content": "hello again\n",
                                                 "password": "{{ bigfix_password }}", "validate_certs": False}},
            {"name": "List the mailboxes",
             "bigfix.core.bigfix_mailbox_info": {"computers": ids, "password": "{{ bigfix_password }}"}},
            {"name": "Fail on an unknown computer",
             "bigfix.core.bigfix_mailbox_file": {"computer_id": 99999, "name": "secret-test.txt", "content": "x"},
             "register": "unknown", "ignore_errors": True},
            {"name": "Fail on a server that echoes the credentials",
             "bigfix.core.bigfix_mailbox_info": {"computer_id": 1, "url": echoing.url, "ca_path": echoing.ca_path, "retries": 0},
             "register": "echoed", "ignore_errors": True},
        ], variables={"bigfix_password": PASSWORD})
        result = run(playbook_command(playbook, "-vvvv"), ansible_env(tmp_path, emu.url, emu.ca_path))
        server_log = emu.stderr_text()
        echoed_headers = [seen.headers.get("Authorization") for seen in echoing.seen]
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "ok=5" in result.stdout and "failed=0" in result.stdout and "ignored=2" in result.stdout, result.stdout[-1500:]
    assert "computer 99999: GET /api/mailbox/99999: HTTP 404" in output
    assert "GET /api/mailbox/1: HTTP 500" in output
    assert echoed_headers == ["Basic " + BASIC_TOKEN], "the echoing server did not get the credentials to echo"
    assert_no_secret(output, "ansible-playbook -vvvv output")
    assert "[WARNING]: " + VALIDATE_CERTS_WARNING in output
    assert output.count(VALIDATE_CERTS_WARNING) == 1
    assert '"GET /api/mailbox/1001 HTTP/1.1" 200' in server_log, server_log[-1500:]
    assert '"POST /api/mailbox/1001 HTTP/1.1" 200' in server_log
    assert_no_secret(server_log, "the URLs and request lines the emulator received")
    record("secrets: ansible-playbook -vvvv", output_bytes=len(output), emulator_log_lines=server_log.count("\n"),
           leaks=0)


def warning_text(result):
    """The module's warnings as one text (Ansible 2.19 sends them as structured events)."""
    return json.dumps(result.get("warnings", []))


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_validate_certs_false_warns_and_true_does_not(tmp_path):
    with Emulator(fleet(2)) as emu:
        base = module_args(emu.url, computer_id=1001, name="warn.txt", content="x")
        code, result, unused_raw = run_module(bigfix_mailbox_file.main, dict(base, validate_certs=False))
        assert code == 0, result
        assert VALIDATE_CERTS_WARNING in warning_text(result)
        code, result, unused_raw = run_module(bigfix_mailbox_file.main, dict(base, ca_path=emu.ca_path))
        assert code == 0, result
        assert "validate_certs" not in warning_text(result)
        # Without the CA and with verification on, the same server is refused.
        code, result, unused_raw = run_module(bigfix_mailbox_file.main, dict(base, ca_path=str(tmp_path / "missing.pem"), retries=0))
        assert code == 1 and "ca_path" in result["msg"]


@pytest.mark.parametrize("url", [
    "http://ops:Other-Secret-42@bigfix.example.com:52311",
    "ftp://ops:Other-Secret-42@bigfix.example.com",
    "https://ops:Other-Secret-42@bigfix.example.com",
    "https://ops:Other-Secret-42@bigfix.example.com:99999/api?x=1",
])
def test_url_with_credentials_is_refused_without_echoing_them(url):
    with pytest.raises(ValueError) as error:
        normalize_url(url)
    assert "Other-Secret-42" not in str(error.value), str(error.value)
