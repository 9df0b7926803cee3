# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault matrix: staging one file to 500 computers through injected 500/502/503 answers, connection
resets, 2-second latency spikes and sessions expiring mid-run.

Every case must converge: exactly one copy of the file with the right SHA-1 in every mailbox, each
computer reported as created, no read tried more than ``retries + 1`` times, one retry per injected
fault, and a rerun without faults that changes nothing (500 GETs, no write). Most cases run the
mailbox layer in-process with a client that does not sleep; one runs the module through
ansible-playbook with real backoff.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field

import pytest
import requests

from ansible_collections.bigfix.core.plugins.module_utils import mailbox_state
from ansible_collections.bigfix.core.plugins.module_utils.mailbox import LocalFile

from .conftest import (
    FAULTS_OFF, OPERATOR, PASSWORD, CountingClient, ansible_env, computer_ids, copies, injected, playbook_command,
    read_json, record, run, save_task, settings, write_playbook, writes,
)

COMPUTERS = computer_ids(500)
CONCURRENCY = 16


@dataclass(frozen=True)
class FaultCase:
    """One row of the matrix: emulator fault switches and the client's retries and timeout."""

    name: str
    faults: dict = field(default_factory=dict)
    retries: int = 3
    timeout: float = 10.0


MATRIX = [
    FaultCase("5xx 10%", {"fraction_500": 0.034, "fraction_502": 0.033, "fraction_503": 0.033, "retry_after": 0}, retries=6),
    FaultCase("5xx 30%", {"fraction_500": 0.1, "fraction_502": 0.1, "fraction_503": 0.1, "retry_after": 0}, retries=12),
    FaultCase("503 30% with Retry-After 1", {"fraction_503": 0.3, "retry_after": 1}, retries=12),
    FaultCase("resets 10%", {"fraction_reset": 0.1}, retries=6),
    FaultCase("resets 30%", {"fraction_reset": 0.3}, retries=12),
    FaultCase("2 s latency spikes 3%", {"fraction_spike": 0.03, "spike_seconds": 2.0}, retries=3, timeout=10.0),
]


def content_for(case_name):
    return ("reliability %s\n" % case_name).encode("utf-8") * 40


def file_name_for(case_name):
    return "fault-%s.conf" % hashlib.sha1(case_name.encode("utf-8")).hexdigest()[:8]


def assert_converged(emu, local, ids):
    """Exactly one copy of ``local`` in every mailbox, and a rerun without faults that changes nothing."""
    emu.configure(faults=FAULTS_OFF)
    emu.reset_stats()
    with CountingClient(settings(emu.url, emu.ca_path, retries=0)) as client:
        rerun = mailbox_state.ensure_present(client, ids, local, concurrency=CONCURRENCY)
    stats = emu.stats()
    assert mailbox_state.count(rerun)["unchanged"] == len(ids), mailbox_state.count(rerun)
    assert not any(outcome.changed for outcome in rerun)
    assert stats["requests"] == {"GET /api/mailbox/{cid}": len(ids)}, stats["requests"]
    for outcome in rerun:
        held = [entry for entry in outcome.after if entry.name == local.name]
        assert len(held) == 1, (outcome.computer_id, held)
        assert held[0].sha1 == local.sha1 and held[0].size == local.size
    return stats


@pytest.mark.parametrize("case", MATRIX, ids=[case.name for case in MATRIX])
def test_fault_matrix_converges(case, quiet):
    emu = quiet
    local = LocalFile.from_bytes(content_for(case.name), file_name_for(case.name))
    emu.configure(faults=case.faults, seed=MATRIX.index(case) + 1)
    client = CountingClient(settings(emu.url, emu.ca_path, retries=case.retries, timeout=case.timeout))
    started = time.monotonic()
    with client:
        outcomes = mailbox_state.ensure_present(client, COMPUTERS, local, concurrency=CONCURRENCY)
    elapsed = time.monotonic() - started
    stats = emu.stats()
    emu.configure(faults=FAULTS_OFF)

    failures = [outcome.msg for outcome in outcomes if outcome.action == mailbox_state.FAILED]
    assert not failures, "%d computers failed, e.g. %s" % (len(failures), failures[:3])
    counts = mailbox_state.count(outcomes)
    # Every mailbox was empty: each one changed, and must say so even when a write's answer was lost.
    assert counts["created"] == len(COMPUTERS), counts
    # Retries stay within their bound: no read sent more than retries + 1 times, no pause beyond the budget.
    assert max(client.read_attempts) <= case.retries + 1, client.read_attempts
    assert max(client.pauses, default=0) <= case.retries, client.pauses
    # Every request sent reached the server, and every injected fault cost exactly one retry, no more.
    assert stats["total"] == sum(client.sent.values())
    assert sum(client.pauses.values()) == injected(stats), (client.pauses, stats["faults"])
    if case.faults.get("fraction_spike"):
        assert stats["faults"]["spike"] > 0
    else:
        assert injected(stats) > 0
    if case.faults.get("retry_after"):
        # Only 503s here, each answered with Retry-After: 1, which the client honours instead of its backoff.
        assert client.sleeps == [1.0] * stats["faults"]["503"]
    rerun = assert_converged(emu, local, COMPUTERS)
    record("fault matrix: %s" % case.name, computers=len(COMPUTERS), retries_allowed=case.retries,
           requests=stats["total"], faults=injected(stats), spikes=stats["faults"]["spike"],
           retries_used=sum(client.pauses.values()), max_attempts_per_read=max(client.read_attempts),
           max_pause_attempt=max(client.pauses, default=0), seconds=round(elapsed, 1),
           rerun_requests=rerun["total"], rerun_writes=writes(rerun))


def test_session_expiring_mid_run(quiet):
    """Sessions expire (idle timeout 0.01 s, and every session dropped every 20 ms) while 500 mailboxes
    are staged with 10% 503s: the modules authenticate every request, so nothing notices."""
    emu = quiet
    token = requests.get(emu.url + "/api/login", auth=(OPERATOR.encode("utf-8"), PASSWORD.encode("utf-8")),
                         verify=emu.ca_path, timeout=10).headers["SessionToken"]
    emu.reset_stats()
    local = LocalFile.from_bytes(b"session expiry\n", "session-expiry.txt")
    emu.configure(faults={"fraction_503": 0.1, "retry_after": 0}, session_idle_timeout=0.01)
    client = CountingClient(settings(emu.url, emu.ca_path, retries=6))
    done = threading.Event()
    outcomes = []

    def stage():
        try:
            with client:
                outcomes.extend(mailbox_state.ensure_present(client, COMPUTERS, local, concurrency=CONCURRENCY))
        finally:
            done.set()

    worker = threading.Thread(target=stage)
    worker.start()
    expirations = 0
    while not done.wait(0.02):
        emu.expire_sessions()
        expirations += 1
    worker.join()
    stats = emu.stats()
    emu.configure(faults=FAULTS_OFF, session_idle_timeout=300)
    stale = requests.get(emu.url + "/api/mailbox/%d" % COMPUTERS[0], headers={"SessionToken": token},
                         verify=emu.ca_path, timeout=10)
    assert stale.status_code == 401, "the session opened before the run should have expired"
    assert expirations > 0
    assert not [outcome.msg for outcome in outcomes if outcome.action == mailbox_state.FAILED]
    assert mailbox_state.count(outcomes)["created"] == len(COMPUTERS)
    assert "GET /api/login" not in stats["requests"]
    assert max(client.read_attempts) <= 7
    assert_converged(emu, local, COMPUTERS)
    record("fault matrix: session expiring mid-run", computers=len(COMPUTERS), session_expirations=expirations,
           requests=stats["total"], faults=injected(stats), retries_used=sum(client.pauses.values()))


def test_spikes_longer_than_timeout_heal_on_rerun(quiet):
    """A POST that times out on the client may still be carried out by the server later. Listing the
    mailbox again cannot see it yet, so the module posts again: under duplicate_name_policy append
    this can leave two copies. The next run removes the extra copy."""
    emu = quiet
    local = LocalFile.from_bytes(b"late write\n" * 10, "late-write.txt")
    emu.configure(faults={"fraction_spike": 0.05, "spike_seconds": 2.0}, seed=5)
    client = CountingClient(settings(emu.url, emu.ca_path, retries=6, timeout=1.0))
    with client:
        outcomes = mailbox_state.ensure_present(client, COMPUTERS, local, concurrency=CONCURRENCY)
    stats = emu.stats()
    emu.configure(faults=FAULTS_OFF)
    time.sleep(2.5)  # let the server finish the spiked requests the client gave up on
    assert not [outcome.msg for outcome in outcomes if outcome.action == mailbox_state.FAILED]
    assert max(client.read_attempts) <= 7
    held = copies(emu.url, emu.ca_path, COMPUTERS, local.name)
    assert all(entries and all(entry.sha1 == local.sha1 for entry in entries) for entries in held.values())
    doubled = sorted(cid for cid, entries in held.items() if len(entries) > 1)
    extra = sum(len(entries) - 1 for entries in held.values())
    emu.reset_stats()
    with CountingClient(settings(emu.url, emu.ca_path, retries=0)) as healer:
        healed = mailbox_state.ensure_present(healer, COMPUTERS, local, concurrency=CONCURRENCY)
    heal_stats = emu.stats()
    assert sorted(outcome.computer_id for outcome in healed if outcome.changed) == doubled
    assert heal_stats["requests"].get("DELETE /api/mailbox/{cid}/{fid}", 0) == extra
    assert writes(heal_stats) == extra
    assert_converged(emu, local, COMPUTERS)
    record("fault matrix: 2 s spikes with timeout 1 s (append policy)", computers=len(COMPUTERS),
           spikes=stats["faults"]["spike"], timeouts_retried=sum(client.pauses.values()),
           mailboxes_with_duplicates=len(doubled), healed_by_rerun=len(doubled))


def test_playbook_converges_through_30_percent_faults_with_real_backoff(quiet, tmp_path):
    """ansible-playbook stages to 500 computers while 30% of requests fail (7.5% each of 500, 502, 503 and
    connection resets), with the client's real backoff; then a rerun changes nothing."""
    emu = quiet
    retries = 12
    text = "staged through faults by ansible-playbook\n"
    name = "playbook-faults.conf"
    out = tmp_path / "staged.json"
    playbook = write_playbook(tmp_path / "stage.yml", [
        {"name": "Stage the file to 500 computers",
         "bigfix.core.bigfix_mailbox_file": {"computers": COMPUTERS, "name": name, "content": text,
                                             "retries": retries, "concurrency": CONCURRENCY},
         "register": "staged"},
        save_task("staged", out),
    ])
    env = ansible_env(tmp_path, emu.url, emu.ca_path)
    emu.configure(faults={"fraction_500": 0.075, "fraction_502": 0.075, "fraction_503": 0.075, "fraction_reset": 0.075,
                          "retry_after": 0}, seed=30)
    started = time.monotonic()
    first = run(playbook_command(playbook), env)
    elapsed = time.monotonic() - started
    stats = emu.stats()
    emu.configure(faults=FAULTS_OFF)
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    staged = read_json(out)
    assert staged["changed"] is True
    assert staged["counts"]["created"] == len(COMPUTERS), staged["counts"]
    retried = [warning for warning in staged.get("warnings", []) if "retried" in warning]
    assert len(retried) == 1, staged.get("warnings")
    retry_total = int(retried[0].split("retried ")[1].split(" ")[0])
    assert retry_total == injected(stats), (retried, stats["faults"])
    # Upper bound of requests: per computer, at most retries + 1 listings of at most retries + 1 attempts,
    # and at most retries + 1 uploads.
    assert stats["total"] <= len(COMPUTERS) * ((retries + 1) ** 2 + retries + 1)

    emu.reset_stats()
    second = run(playbook_command(playbook), env)
    rerun_stats = emu.stats()
    assert second.returncode == 0, (second.stdout + second.stderr)[-4000:]
    again = read_json(out)
    assert again["changed"] is False and again["counts"]["unchanged"] == len(COMPUTERS), again["counts"]
    assert rerun_stats["requests"] == {"GET /api/mailbox/{cid}": len(COMPUTERS)}
    sha1 = hashlib.sha1(text.encode("utf-8")).hexdigest()
    held = copies(emu.url, emu.ca_path, COMPUTERS, name)
    assert all(len(entries) == 1 and entries[0].sha1 == sha1 for entries in held.values())
    record("ansible-playbook: 30% mixed faults, real backoff", computers=len(COMPUTERS), retries_allowed=retries,
           requests=stats["total"], faults=injected(stats), fault_kinds=stats["faults"], retries_reported=retry_total,
           seconds=round(elapsed, 1), rerun_requests=rerun_stats["total"], rerun_writes=writes(rerun_stats))
