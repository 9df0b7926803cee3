# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared helpers of the reliability and security suite.

The suite drives the real client and modules against the BigFix REST API emulator
(``tests/emulator``) and against small hostile servers (``servers.py``). This file holds the
fleet, the connection settings, a client that counts its own attempts, an ansible-playbook
runner, and the recorder whose measurements end up in ``tests/output/reliability-results.json``
and in the terminal summary (the numbers quoted by ``docs/reliability.md``).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.bigfix.core.plugins.module_utils import mailbox
from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixClient, ConnectionSettings
from ansible_collections.bigfix.core.plugins.module_utils.concurrency import fan_out
from tests.emulator.launcher import Emulator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = Path(sys.executable).parent
RESULTS_FILE = REPO / "tests" / "output" / "reliability-results.json"

OPERATOR = "ansible"
# Non-ASCII, a double quote, spaces and a '#': whatever can go wrong in quoting goes wrong with it.
PASSWORD = 'Rel1ab "quoted" Pässwörd #9Lw-x'
BASIC_TOKEN = base64.b64encode(("%s:%s" % (OPERATOR, PASSWORD)).encode("utf-8")).decode("ascii")
SECRETS = (PASSWORD, BASIC_TOKEN)

FIRST_ID = 1001
FAULTS_OFF = {"fraction_500": 0, "fraction_502": 0, "fraction_503": 0, "fraction_reset": 0,
              "retry_after": 1, "latency": 0, "fraction_spike": 0, "spike_seconds": 0}
INJECTED = ("500", "502", "503", "reset_before", "reset_after")

_MEASUREMENTS = []


def fleet(computers, first_id=FIRST_ID, policy="append", seed=20240611):
    """A fleet of ``computers`` computers (ids from ``first_id``) and one master operator."""
    return {
        "seed": seed,
        "generate": {"computers": computers, "group_size": computers, "site": "custom/Reliability", "first_id": first_id},
        "operators": [{"name": OPERATOR, "password": PASSWORD, "master": True}],
        "behaviour": {"duplicate_name_policy": policy},
        # Only SHA-1 and size are kept: what the tests compare, without writing every upload to disk.
        "store_content": False,
    }


def computer_ids(count, first_id=FIRST_ID):
    return list(range(first_id, first_id + count))


def settings(url, ca_path=None, **overrides):
    """ConnectionSettings for the suite's operator."""
    values = {"url": url, "username": OPERATOR, "password": PASSWORD, "ca_path": ca_path, "timeout": 10.0, "retries": 3}
    values.update(overrides)
    return ConnectionSettings(**values)


def injected(stats):
    """How many error statuses and resets the emulator injected."""
    return sum(stats["faults"][kind] for kind in INJECTED)


def writes(stats):
    """How many write requests (POST, PUT, DELETE) the emulator received."""
    return sum(count for key, count in stats["requests"].items() if key.split(" ")[0] in ("POST", "PUT", "DELETE"))


class CountingClient(BigFixClient):
    """A real BigFixClient that never sleeps, and counts what it does.

    ``read_attempts[n]``: how many logical reads needed n attempts. ``pauses[n]``: how many
    pauses before attempt number n (reads and re-planned writes alike). ``sent``: requests sent,
    by method. ``sleeps``: the delays it was asked to wait.
    """

    def __init__(self, connection, pool_size=16, before_get=None):
        self.sleeps = []
        super().__init__(connection, pool_size=pool_size, sleep=self.sleeps.append)
        self.read_attempts = Counter()
        self.pauses = Counter()
        self.sent = Counter()
        self._before_get = before_get
        self._local = threading.local()
        self._counter_lock = threading.Lock()

    def get(self, path, expect=(200,)):
        self._local.attempts = 0
        try:
            return super().get(path, expect)
        finally:
            with self._counter_lock:
                self.read_attempts[self._local.attempts] += 1

    def pause(self, attempt, error):
        with self._counter_lock:
            self.pauses[attempt] += 1
        super().pause(attempt, error)

    def _send(self, method, path, data=None, headers=None, expect=(200,)):
        if method == "GET":
            self._local.attempts = getattr(self._local, "attempts", 0) + 1
        with self._counter_lock:
            self.sent[method] += 1
        reply = super()._send(method, path, data=data, headers=headers, expect=expect)
        if method == "GET" and self._before_get is not None:
            self._before_get(path)
        return reply


def copies(url, ca_path, ids, name):
    """``{computer id: [MailboxFile named name]}``, read with a fresh client (no retries)."""
    with BigFixClient(settings(url, ca_path, retries=0), pool_size=16) as client:
        triples = fan_out(lambda cid: mailbox.list_files(client, cid), ids, 16)
    errors = [triple[2] for triple in triples if triple[2] is not None]
    assert not errors, errors[:3]
    return {cid: [entry for entry in files if entry.name == name] for cid, files, unused_error in triples}


def record(case, **values):
    """Keep a measurement for the terminal summary and tests/output/reliability-results.json."""
    _MEASUREMENTS.append(dict(values, case=case))


def pytest_terminal_summary(terminalreporter):
    """Print what the suite measured, and save it as JSON."""
    if not _MEASUREMENTS:
        return
    terminalreporter.section("reliability measurements")
    for entry in _MEASUREMENTS:
        details = ", ".join("%s=%s" % (key, value) for key, value in entry.items() if key != "case")
        terminalreporter.write_line("%s: %s" % (entry["case"], details))
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(_MEASUREMENTS, indent=2, default=str), encoding="utf-8")


# --- modules in-process ------------------------------------------------------------------------------------------

def module_args(url, ca_path=None, **args):
    """Module arguments with the suite's connection; ``ca_path`` None means the system trust store."""
    values = {"url": url, "username": OPERATOR, "password": PASSWORD}
    if ca_path is not None:
        values["ca_path"] = ca_path
    values.update(args)
    return values


def run_module(main, args):
    """Run a module's ``main()`` in this process with ``args`` as its JSON arguments, as Ansible would.

    Returns ``(exit code, result dict, raw stdout)``. No BIGFIX_* or BES_* variable of this process
    reaches the module.
    """
    saved_env = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith(("BIGFIX_", "BES_"))}
    saved = (basic._ANSIBLE_ARGS, getattr(basic, "_ANSIBLE_PROFILE", None))
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8")
    basic._ANSIBLE_PROFILE = "legacy"
    # Warnings collect in module-global state: each run starts without the previous run's.
    for registry in ("_global_warnings", "_global_deprecations"):
        getattr(ansible_warnings, registry, {}).clear()
    out = io.StringIO()
    code = None
    try:
        with contextlib.redirect_stdout(out):
            try:
                main()
            except SystemExit as exit_info:
                code = exit_info.code
    finally:
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = saved
        os.environ.update(saved_env)
    assert code is not None, "the module returned without exit_json or fail_json"
    text = out.getvalue()
    return code, json.loads(text), text


# --- ansible-playbook ---------------------------------------------------------------------------------------------

def ansible_env(tmp_path, url, ca_path=None, password=PASSWORD):
    """The environment of an ansible command: BIGFIX_* for ``url``, and a private ansible home and temp."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("BIGFIX_", "BES_"))}
    env.update({
        "BIGFIX_URL": url,
        "BIGFIX_USERNAME": OPERATOR,
        "BIGFIX_PASSWORD": password,
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    })
    if ca_path:
        env["BIGFIX_CA_PATH"] = ca_path
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".collections"))
    return env


def write_playbook(path, tasks, name="Reliability case", variables=None):
    """Write a one-play playbook for localhost (with play ``variables``) and its inventory; returns the playbook path."""
    inventory = path.parent / "inventory.ini"
    inventory.write_text('localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n',
                         encoding="utf-8")
    play = {"name": name, "hosts": "localhost", "gather_facts": False, "vars": variables or {}, "tasks": tasks}
    path.write_text(yaml.safe_dump([play], sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def save_task(variable, dest):
    """A task that writes a registered variable as JSON to ``dest``."""
    return {"name": "Save %s" % variable,
            "ansible.builtin.copy": {"content": "{{ %s | to_json }}" % variable, "dest": str(dest), "mode": "0600"}}


def playbook_command(playbook, *options):
    return [str(BIN / "ansible-playbook"), "-i", str(playbook.parent / "inventory.ini"), *options, str(playbook)]


def run(command, env, timeout=600):
    """Run a command from the repository root; the CompletedProcess is returned, not checked."""
    return subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)


def read_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


# --- fixtures -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def emulator_500():
    """An emulated server with 500 computers (ids 1001-1500) and duplicate_name_policy append."""
    with Emulator(fleet(500)) as emu:
        yield emu


@pytest.fixture
def quiet(emulator_500):
    """The 500-computer emulator with faults off and zeroed counters, before and after the test."""
    emulator_500.configure(faults=FAULTS_OFF, duplicate_name_policy="append")
    emulator_500.reset_stats()
    yield emulator_500
    emulator_500.configure(faults=FAULTS_OFF, duplicate_name_policy="append")
