# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrency: two runs staging the same file to the same computers at the same time.

The BigFix REST API has no conditional write, so two writers that both list a mailbox before
either posts will both post. What the server then does with the second copy decides the outcome
(``duplicate_name_policy``): ``replace`` and ``reject`` end with one copy, ``append`` with two. The
next run of the task removes the extra copy. The in-process tests force the interleaving; the
ansible-playbook test runs two real processes at once and checks the same invariants.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time

import pytest

from ansible_collections.bigfix.core.plugins.module_utils import mailbox_state
from ansible_collections.bigfix.core.plugins.module_utils.mailbox import LocalFile

from .conftest import (
    FAULTS_OFF, CountingClient, ansible_env, computer_ids, copies, playbook_command, read_json, record, run, save_task,
    settings, write_playbook, writes,
)


def race(emu, cid, local):
    """Two writers list mailbox ``cid``, and only then does either of them write. Returns both outcomes."""
    barrier = threading.Barrier(2, timeout=20)
    outcomes = [None, None]

    def writer(slot):
        waited = []

        def wait_once(path):
            if not waited:
                waited.append(path)
                barrier.wait()

        with CountingClient(settings(emu.url, emu.ca_path, retries=3), before_get=wait_once) as client:
            outcomes[slot] = mailbox_state.ensure_present(client, [cid], local, concurrency=1)[0]

    threads = [threading.Thread(target=writer, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


@pytest.mark.parametrize("policy, copies_after_race, actions", [
    ("append", 2, ["created", "created"]),
    ("replace", 1, ["created", "created"]),
    ("reject", 1, ["created", "unchanged"]),
])
def test_forced_race_per_duplicate_name_policy(quiet, policy, copies_after_race, actions):
    emu = quiet
    emu.configure(duplicate_name_policy=policy)
    cid = {"append": 1491, "replace": 1492, "reject": 1493}[policy]
    local = LocalFile.from_bytes(b"raced\n", "raced-%s.txt" % policy)
    outcomes = race(emu, cid, local)
    assert sorted(outcome.action for outcome in outcomes) == actions, [outcome.msg for outcome in outcomes]
    held = copies(emu.url, emu.ca_path, [cid], local.name)[cid]
    assert len(held) == copies_after_race
    assert all(entry.sha1 == local.sha1 for entry in held)
    emu.reset_stats()
    with CountingClient(settings(emu.url, emu.ca_path)) as client:
        rerun = mailbox_state.ensure_present(client, [cid], local)[0]
    assert rerun.action == ("updated" if copies_after_race > 1 else "unchanged")
    assert emu.stats()["requests"].get("DELETE /api/mailbox/{cid}/{fid}", 0) == copies_after_race - 1
    assert len(copies(emu.url, emu.ca_path, [cid], local.name)[cid]) == 1
    record("concurrency: forced race, policy %s" % policy, copies_after_race=copies_after_race,
           first_run_actions="/".join(actions), rerun=rerun.action)


WAIT_FOR_FILE = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]):\n    time.sleep(0.01)\n"


def test_two_playbooks_at_once_then_rerun_heals(quiet, tmp_path):
    """Two ansible-playbook processes stage the same file to the same 128 computers at the same time,
    under the worst policy (append). Every copy that exists is right; a mailbox may hold two; a rerun
    leaves exactly one everywhere and a second rerun changes nothing."""
    emu = quiet
    ids = computer_ids(128, first_id=1201)
    text = "two playbooks at once\n"
    name = "concurrent.conf"
    sha1 = hashlib.sha1(text.encode("utf-8")).hexdigest()
    go = tmp_path / "go"

    def playbook(label, gate=True):
        out = tmp_path / ("%s.json" % label)
        tasks = []
        if gate:
            # Both processes start staging within a few milliseconds of each other.
            tasks += [
                {"name": "Say this run is ready", "ansible.builtin.file": {"path": str(tmp_path / ("%s.ready" % label)), "state": "touch",
                                                                           "mode": "0600"}},
                {"name": "Wait for the other run", "changed_when": False,
                 "ansible.builtin.command": {"argv": ["{{ ansible_playbook_python }}", "-c", WAIT_FOR_FILE, str(go)]}},
            ]
        tasks += [
            {"name": "Stage the same file to the same computers",
             "bigfix.core.bigfix_mailbox_file": {"computers": ids, "name": name, "content": text, "concurrency": 64},
             "register": "staged"},
            save_task("staged", out),
        ]
        return write_playbook(tmp_path / ("%s.yml" % label), tasks), out

    (first_book, first_out), (second_book, second_out) = playbook("first"), playbook("second")
    rerun_book, rerun_out = playbook("rerun", gate=False)
    env = ansible_env(tmp_path, emu.url, emu.ca_path)
    # Each request waits 1 s on the server: the two runs overlap unless they start more than 1 s apart.
    emu.configure(duplicate_name_policy="append", faults={"latency": 1.0})
    processes = [subprocess.Popen(playbook_command(book), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for book in (first_book, second_book)]
    try:
        deadline = time.monotonic() + 120
        while not all((tmp_path / ("%s.ready" % label)).exists() for label in ("first", "second")):
            assert time.monotonic() < deadline and all(process.poll() is None for process in processes), "a run did not get ready"
            time.sleep(0.01)
        go.touch()
        outputs = [process.communicate(timeout=600)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]
    stats = emu.stats()
    emu.configure(faults=FAULTS_OFF)
    created = read_json(first_out)["counts"]["created"] + read_json(second_out)["counts"]["created"]

    held = copies(emu.url, emu.ca_path, ids, name)
    assert all(entries and all(entry.sha1 == sha1 for entry in entries) for entries in held.values())
    total = sum(len(entries) for entries in held.values())
    doubled = sorted(cid for cid, entries in held.items() if len(entries) > 1)
    # Every upload made one copy, and every copy comes from an upload one of the runs reported.
    assert total == stats["requests"]["POST /api/mailbox/{cid}"] == created
    assert writes(stats) == total

    emu.reset_stats()
    healed = run(playbook_command(rerun_book), env)
    assert healed.returncode == 0, (healed.stdout + healed.stderr)[-3000:]
    heal = read_json(rerun_out)
    heal_stats = emu.stats()
    assert heal["changed"] is bool(doubled)
    assert heal["counts"]["updated"] == len(doubled) and heal["counts"]["unchanged"] == len(ids) - len(doubled)
    assert heal_stats["requests"].get("DELETE /api/mailbox/{cid}/{fid}", 0) == total - len(ids)
    assert "POST /api/mailbox/{cid}" not in heal_stats["requests"]
    assert all(len(entries) == 1 for entries in copies(emu.url, emu.ca_path, ids, name).values())

    emu.reset_stats()
    again = run(playbook_command(rerun_book), env)
    assert again.returncode == 0
    assert read_json(rerun_out)["changed"] is False
    assert emu.stats()["requests"] == {"GET /api/mailbox/{cid}": len(ids)}
    record("concurrency: two ansible-playbook runs at once (append)", computers=len(ids), uploads=total,
           mailboxes_with_two_copies=len(doubled), healed_by_rerun=heal["counts"]["updated"])
