# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures: real clients on fake connections (``fakes.py``) answered by a script or by an
in-memory BigFix mailbox server, a stand-in for AnsibleModule, and a runner for ``main()`` through
Ansible's module argument channel."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import re
import threading
from collections import namedtuple
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import pytest

from ansible.module_utils import basic

from ansible_collections.bigfix.core.plugins.module_utils import arguments
from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixClient, ConnectionSettings
from ansible_collections.bigfix.core.tests.unit.plugins.fakes import FakeConnection, ScriptedTransport, make_response

USERNAME = "ansible-operator"
PASSWORD = "pässwörd-S3cret!"
BASE_URL = "https://bigfix.example.com:52311"

Finished = namedtuple("Finished", "code result out")

ENV_VARIABLES = ("BIGFIX_URL", "BES_ROOT_SERVER", "BIGFIX_USERNAME", "BES_USER_NAME", "BIGFIX_PASSWORD", "BES_PASSWORD",
                 "BIGFIX_VALIDATE_CERTS", "BIGFIX_CA_PATH", "BIGFIX_TIMEOUT", "BIGFIX_RETRIES")


@dataclass
class Harness:
    """A real BigFixClient whose connections ``transport`` makes; ``sleeps`` records every pause."""

    client: BigFixClient
    transport: object
    sleeps: list = field(default_factory=list)


def settings_for(**overrides):
    values = {"url": BASE_URL, "username": USERNAME, "password": PASSWORD, "timeout": 5.0, "retries": 3}
    values.update(overrides)
    return ConnectionSettings(**values)


@pytest.fixture
def connect():
    """``connect(transport, **settings)``: a real client whose connections ``transport`` makes (real
    HTTPS connections when it is None) and that never really sleeps."""
    made = []

    def factory(transport=None, **overrides):
        sleeps = []
        client = BigFixClient(settings_for(**overrides), pool_size=4, sleep=sleeps.append, connection_factory=transport)
        made.append(client)
        return Harness(client, transport, sleeps)

    yield factory
    for client in made:
        client.close()


# --- In-memory mailbox server ---------------------------------------------------------------------------------

MAILBOX = re.compile(r"^/api/mailbox/(\d+)$")
MAILBOX_FILE = re.compile(r"^/api/mailbox/(\d+)/(\d+)$")
FILENAME = re.compile(r'filename="([^"]*)"')


@dataclass
class Fault:
    """Answer the next matching request with ``status`` and ``body``; ``apply`` carries the write out
    first, ``meanwhile`` runs before (another writer acting concurrently)."""

    method: str
    status: int
    computer_id: int | None = None
    apply: bool = False
    times: int = 1
    meanwhile: object = None
    body: bytes = b"scripted failure"


class MailboxServer:
    """``GET/POST /api/mailbox/{cid}``, ``PUT/DELETE /api/mailbox/{cid}/{fid}`` over a dict of mailboxes.

    Listings are BESAPI documents with upper-case SHA-1s; POST takes the name from Content-Disposition,
    PUT from the multipart part. Every answer to a write is the mailbox after it.
    """

    def __init__(self, computers=()):
        self.mailboxes = {cid: [] for cid in computers}
        self.faults = []
        self.log = []
        self.bodies = []
        self._next_id = 100
        self._lock = threading.RLock()

    def add(self, computer_id, name, data=b"", file_id=None):
        """Put an entry straight into a mailbox; returns it."""
        with self._lock:
            if file_id is None:
                self._next_id += 1
                file_id = self._next_id
            entry = {"id": file_id, "name": name, "sha1": hashlib.sha1(data).hexdigest(), "size": len(data), "data": data}
            self.mailboxes.setdefault(computer_id, []).append(entry)
            return entry

    def fail(self, method, status, **options):
        self.faults.append(Fault(method, status, **options))

    def names(self, computer_id):
        return [entry["name"] for entry in self.mailboxes[computer_id]]

    def methods(self, computer_id=None):
        """The methods of the requests received, optionally for one computer only."""
        return [method for method, path in self.log if computer_id is None or path.split("/")[3] == str(computer_id)]

    def writes(self):
        return [method for method in self.methods() if method != "GET"]

    def __call__(self):
        """A new connection to this server (the server is the client's connection factory)."""
        return FakeConnection(self)

    def connecting(self, connection):
        """Connections always open."""

    def answer(self, connection, call):
        del connection
        with self._lock:
            self.log.append((call.method, call.path))
            self.bodies.append(call.body)
            status, content = self._handle(call.method, call.path, call.headers, call.body)
        headers = {"Content-Type": "application/xml" if status == 200 else "text/plain"}
        return make_response(status, content, headers)

    def _fault(self, method, computer_id):
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and fault.computer_id in (None, computer_id):
                fault.times -= 1
                return fault
        return None

    def _handle(self, method, path, headers, body):
        match = MAILBOX.match(path) or MAILBOX_FILE.match(path)
        if not match:
            return 404, b"Requested resource does not exist."
        computer_id = int(match.group(1))
        file_id = int(match.group(2)) if match.lastindex == 2 else None
        if computer_id not in self.mailboxes:
            return 404, b""
        fault = self._fault(method, computer_id)
        if fault is not None:
            if fault.meanwhile is not None:
                fault.meanwhile(self)
            if fault.apply:
                self._operate(method, computer_id, file_id, headers, body)
            return fault.status, fault.body
        return self._operate(method, computer_id, file_id, headers, body)

    def _operate(self, method, computer_id, file_id, headers, body):  # pylint: disable=too-many-arguments
        entries = self.mailboxes[computer_id]
        if method == "GET" and file_id is None:
            return 200, self.listing(computer_id)
        if method == "POST" and file_id is None:
            disposition = headers.get("Content-Disposition", b"")
            if isinstance(disposition, str):
                disposition = disposition.encode("latin-1")
            found = FILENAME.search(disposition.decode("utf-8"))
            if not found:
                return 400, b"no file name"
            self._next_id += 1
            entries.append({"id": self._next_id, "name": found.group(1), "sha1": hashlib.sha1(body).hexdigest(),
                            "size": len(body), "data": body})
            return 200, self.listing(computer_id)
        if file_id is None:
            return 405, b"Method not allowed"
        entry = next((e for e in entries if e["id"] == file_id), None)
        if entry is None:
            return 404, b""
        if method == "DELETE":
            entries.remove(entry)
            return 200, self.listing(computer_id)
        if method == "PUT":
            name, data = parse_multipart(headers["Content-Type"], body)
            entry.update(name=name, sha1=hashlib.sha1(data).hexdigest(), size=len(data), data=data)
            return 200, self.listing(computer_id)
        return 405, b"Method not allowed"

    def listing(self, computer_id):
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<BESAPI xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                 'xsi:noNamespaceSchemaLocation="BESAPI.xsd">']
        for entry in self.mailboxes[computer_id]:
            parts.append('<ComputerMailboxFile Resource="%s/api/mailbox/%d/%d"><Name>%s</Name><ID>%d</ID><SHA1>%s</SHA1>'
                         '<Size>%d</Size><Timestamp>Tue, 19 Mar 2024 22:26:24 +0000</Timestamp></ComputerMailboxFile>'
                         % (BASE_URL, computer_id, entry["id"], escape(entry["name"]), entry["id"], entry["sha1"].upper(),
                            entry["size"]))
        parts.append("</BESAPI>")
        return "\n".join(parts).encode("utf-8")


def parse_multipart(content_type, body):
    """The file name and content of the single part of a multipart/form-data body."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("ascii") + b"\r\n\r\n" + body)
    parts = list(message.iter_parts())
    assert len(parts) == 1, "expected exactly one part"
    return parts[0].get_filename(), parts[0].get_payload(decode=True)


@pytest.fixture
def server():
    """An in-memory BigFix server knowing computers 1, 2 and 3, all with empty mailboxes."""
    return MailboxServer(computers=(1, 2, 3))


@pytest.fixture
def bigfix(server, connect):
    """A real client on the in-memory server, with the default of 3 retries."""
    return connect(server)


# --- Module helpers ----------------------------------------------------------------------------------------------

class FakeModule:
    """The parts of AnsibleModule that ``run`` and ``run_with_client`` use."""

    def __init__(self, params, check_mode=False, diff=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []
        self.failed = None
        self.no_log_values = set()

    def warn(self, warning):
        self.warnings.append(warning)

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)


@pytest.fixture
def make_module():
    """``make_module(module_options, check_mode=False, diff=False, **params)``: every option of the module
    present in ``params``, with its default unless given, as AnsibleModule fills them in."""

    def factory(module_options, check_mode=False, diff=False, **params):
        spec = arguments.argument_spec(arguments.TARGET_SPEC, arguments.CONCURRENCY_SPEC, module_options)
        filled = {name: option.get("default") for name, option in spec.items()}
        filled.update(url=BASE_URL, username=USERNAME, password=PASSWORD)
        filled.update(params)
        return FakeModule(filled, check_mode=check_mode, diff=diff)

    return factory


@pytest.fixture
def no_proxy(monkeypatch):
    """Requests to real sockets go straight to them, whatever proxy the machine sets."""
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def clean_env(monkeypatch):
    """No BIGFIX_* or BES_* variable from the machine reaches the module."""
    for name in ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def run_main(clean_env, capsys):
    """``run_main(main, args)``: run a module's main() with ``args`` as its JSON arguments; returns
    ``Finished(code, result, out)``: the exit code, the result dict and the raw standard output."""

    def runner(main, args):
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8")
        clean_env.setattr(basic, "_ANSIBLE_ARGS", payload)
        clean_env.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
        with pytest.raises(SystemExit) as exit_info:
            main()
        out = capsys.readouterr().out
        return Finished(exit_info.value.code, json.loads(out), out)

    return runner


@pytest.fixture
def served(server, clean_env):
    """Make every BigFixClient that a module builds talk to the in-memory ``server`` without sleeping.

    Returns a list that receives the ConnectionSettings of each client built.
    """
    seen = []
    real = BigFixClient

    def build(settings, pool_size=8, sleep=None):
        del sleep
        seen.append(settings)
        return real(settings, pool_size=pool_size, sleep=lambda delay: None, connection_factory=server)

    clean_env.setattr(arguments.transport, "BigFixClient", build)
    return seen


@pytest.fixture
def scripted(connect):
    """``scripted(*steps, **settings)``: a real client whose requests a ScriptedTransport answers."""

    def factory(*steps, **overrides):
        return connect(ScriptedTransport(*steps), **overrides)

    return factory


@pytest.fixture
def respond():
    """``respond(status, body=b"", headers=None, raw=None)`` builds a FakeResponse for a script step."""
    return make_response
