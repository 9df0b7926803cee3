# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A server that stays down: a closed port, and a listener that accepts connections and never answers.

With ``timeout: 1`` and ``retries: 2`` the task must fail, not hang, within about
``timeout x (retries + 1)`` plus the backoff between attempts, however many computers it targets,
and its message must name the cause.
"""

from __future__ import annotations

import time

import pytest

from ansible_collections.bigfix.core.plugins.module_utils.client import BACKOFF_BASE, BACKOFF_CAP
from ansible_collections.bigfix.core.plugins.modules import bigfix_mailbox_file, bigfix_mailbox_info

from .conftest import ansible_env, module_args, playbook_command, record, run, run_module, write_playbook
from .servers import BlackHole, closed_port_url

TIMEOUT = 1.0
RETRIES = 2
# The longest the backoff can wait in total before the last attempt.
BACKOFF_TOTAL = sum(min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)) for attempt in range(1, RETRIES + 1))
# Process start, TLS set-up and a loaded test machine; generous on purpose.
SLACK = 10.0
BOUND = TIMEOUT * (RETRIES + 1) + BACKOFF_TOTAL + SLACK
CAUSES = {
    "closed port": ("connection failed", "Connection refused", "check url and that the BigFix server is running"),
    "silent listener": ("connecting timed out after 1.0s", "check url, the port"),
}


class _Closed:
    """A context manager with the ``url`` of a closed port."""

    def __enter__(self):
        self.url = closed_port_url()
        return self

    def __exit__(self, *exc_info):
        return None


SERVERS = {"closed port": _Closed, "silent listener": BlackHole}


@pytest.mark.parametrize("computers", [1, 64], ids=["1 computer", "64 computers"])
@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_down_server_fails_the_task_within_the_bound(kind, computers):
    with SERVERS[kind]() as server:
        args = module_args(server.url, timeout=TIMEOUT, retries=RETRIES, computers=list(range(1, computers + 1)),
                           name="down.txt", content="never delivered\n")
        started = time.monotonic()
        code, result, unused_raw = run_module(bigfix_mailbox_file.main, args)
        elapsed = time.monotonic() - started
    assert code == 1 and result["failed"] is True
    assert result["counts"]["failed"] == computers
    assert result["msg"].startswith("%d of %d computers failed: computer 1: GET /api/mailbox/1: " % (computers, computers))
    for phrase in CAUSES[kind]:
        assert phrase in result["msg"], result["msg"]
    assert elapsed < BOUND, "the task took %.1f s against a %s; the bound is %.1f s" % (elapsed, kind, BOUND)
    record("server down: %s, %d computer%s" % (kind, computers, "" if computers == 1 else "s"),
           seconds=round(elapsed, 1), bound=round(BOUND, 1))


def test_down_server_fails_the_info_module_too():
    with BlackHole() as server:
        started = time.monotonic()
        args = module_args(server.url, timeout=TIMEOUT, retries=RETRIES, computer_id=7)
        code, result, unused_raw = run_module(bigfix_mailbox_info.main, args)
        elapsed = time.monotonic() - started
    assert code == 1 and result["failed"] is True
    assert "computer 7: GET /api/mailbox/7: connecting timed out after 1.0s" in result["msg"], result["msg"]
    assert elapsed < BOUND


def test_down_server_through_ansible_playbook(tmp_path):
    """The same through ansible-playbook: the play fails, the message names the cause, nothing hangs."""
    with BlackHole() as server:
        playbook = write_playbook(tmp_path / "down.yml", [
            {"name": "Stage to a server that never answers",
             "bigfix.core.bigfix_mailbox_file": {"computer_id": 1001, "name": "down.txt", "content": "x",
                                                 "timeout": TIMEOUT, "retries": RETRIES}},
        ])
        started = time.monotonic()
        result = run(playbook_command(playbook), ansible_env(tmp_path, server.url), timeout=120)
        elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    assert "failed=1" in result.stdout
    assert "GET /api/mailbox/1001: connecting timed out after 1.0s" in output, output[-3000:]
    # ansible-playbook itself needs a few seconds to start: allow 20 s more than the module's bound.
    assert elapsed < BOUND + 20
    record("server down: silent listener through ansible-playbook", seconds=round(elapsed, 1), bound=round(BOUND + 20, 1))
