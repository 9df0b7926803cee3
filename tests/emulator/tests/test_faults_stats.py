"""Request statistics, run-time configuration and fault injection."""

import time

import pytest
import requests

from tests.emulator.launcher import Emulator, EmulatorError
from tests.emulator.tests.helpers import Client, assert_text, mailbox_entries

NO_FAULTS = {"fraction_500": 0.0, "fraction_502": 0.0, "fraction_503": 0.0, "fraction_reset": 0.0, "retry_after": 1,
             "latency": 0.0, "fraction_spike": 0.0, "spike_seconds": 0.0}
ZERO_FAULT_COUNTS = {"500": 0, "502": 0, "503": 0, "reset_before": 0, "reset_after": 0, "spike": 0}


def faults(**changes):
    return {**NO_FAULTS, **changes}


def test_stats_count_route_patterns_and_body_bytes(switches, master):
    switches.reset_stats()
    body = b"0123456789" * 10
    master.get("/api/mailbox/1001")
    master.get("/api/mailbox/1001")
    master.get("/api/mailbox/1001/1")
    master.upload(1016, "stats.txt", body)
    master.get("/api/computergroup/custom/Public%2fWindows/301/computers")
    master.get("/api/nothing/here")
    master.get("/favicon.ico")
    master.get("/api/login", auth=None)
    switches.configure()
    assert switches.stats() == {
        "requests": {"GET /api/mailbox/{cid}": 2, "GET /api/mailbox/{cid}/{fid}": 1, "POST /api/mailbox/{cid}": 1,
                     "GET /api/computergroup/{site}/{id}/computers": 1, "GET <unmatched>": 2, "GET /api/login": 1},
        "total": 8,
        "bytes_received": len(body),
        "faults": ZERO_FAULT_COUNTS,
    }


def test_reset_clears_counters(switches, master):
    master.get("/api/computers")
    assert switches.stats()["total"] >= 1
    assert switches.reset_stats() == {"requests": {}, "total": 0, "bytes_received": 0, "faults": ZERO_FAULT_COUNTS}
    assert switches.stats()["total"] == 0


def test_config_returns_all_switches(switches):
    result = switches.configure(out_of_scope_status=404, faults={"latency": 0.0, "retry_after": 5}, seed=3)
    assert result == {"duplicate_name_policy": "replace", "out_of_scope_status": 404, "session_idle_timeout": 300.0,
                      "faults": faults(retry_after=5), "seed": 3}


@pytest.mark.parametrize("changes, field", [
    ({"duplicate_name_policy": "sometimes"}, "config.duplicate_name_policy"),
    ({"out_of_scope_status": 500}, "config.out_of_scope_status"),
    ({"session_idle_timeout": -1}, "config.session_idle_timeout"),
    ({"faults": {"fraction_500": 1.5}}, "config.faults.fraction_500"),
    ({"faults": {"fraction_500": 0.6, "fraction_503": 0.6}}, "config.faults"),
    ({"faults": {"bogus": 1}}, "config.faults.bogus"),
    ({"colour": "blue"}, "config.colour"),
    ({"seed": "x"}, "config.seed"),
])
def test_config_rejects_invalid_switches(switches, default_switches, changes, field):
    with pytest.raises(EmulatorError) as raised:
        switches.configure(**changes)
    assert "HTTP 400" in str(raised.value)
    assert field in str(raised.value)
    assert switches.configure() == default_switches


@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_status_faults_at_fraction_one(switches, master, status):
    switches.configure(faults=faults(**{f"fraction_{status}": 1.0}))
    switches.reset_stats()
    for unused_request in range(5):
        response = master.get("/api/computers")
        assert_text(response, int(status))
        assert ("Retry-After" in response.headers) == (status == "503")
    stats = switches.stats()
    assert stats["faults"] == {**ZERO_FAULT_COUNTS, status: 5}
    assert stats["requests"] == {"GET /api/computers": 5}


def test_retry_after_is_configurable(switches, master):
    switches.configure(faults=faults(fraction_503=1.0))
    assert master.get("/api/login").headers["Retry-After"] == "1"
    switches.configure(faults=faults(fraction_503=1.0, retry_after=7))
    assert master.get("/api/login").headers["Retry-After"] == "7"


def test_faults_hit_only_api_paths(switches, master):
    switches.configure(faults=faults(fraction_500=1.0))
    assert master.get("/api/computers").status_code == 500
    assert master.get("/elsewhere").status_code == 404
    assert switches.stats()["faults"]["500"] >= 1


def test_fractional_faults_are_reproducible_with_a_seed(switches, master):
    def statuses():
        switches.configure(faults=faults(fraction_500=0.25, fraction_502=0.25), seed=1234)
        return [master.get("/api/login").status_code for unused_request in range(60)]

    switches.reset_stats()
    first = statuses()
    second = statuses()
    assert first == second
    stats = switches.stats()
    assert stats["faults"]["500"] == 2 * first.count(500)
    assert stats["faults"]["502"] == 2 * first.count(502)
    assert stats["requests"] == {"GET /api/login": 120}
    assert 5 <= first.count(500) <= 25
    assert 5 <= first.count(502) <= 25
    assert first.count(200) == 60 - first.count(500) - first.count(502)


def test_connection_resets_half_before_half_after_processing(switches, master):
    switches.configure(faults=faults(fraction_reset=1.0), seed=5)
    switches.reset_stats()
    body = b"reset me"
    for number in range(4):
        with pytest.raises(requests.exceptions.ConnectionError):
            # A fresh connection per request: a reset connection cannot be reused.
            requests.post(f"{switches.url}/api/mailbox/1017", data=body, auth=master.auth, verify=switches.ca_path, timeout=30,
                          headers={"Content-Disposition": f'attachment; filename="reset-{number}.txt"'})
    stats = switches.stats()
    switches.configure(faults=NO_FAULTS)
    assert stats["faults"] == {**ZERO_FAULT_COUNTS, "reset_before": 2, "reset_after": 2}
    assert stats["requests"] == {"POST /api/mailbox/{cid}": 4}
    assert stats["bytes_received"] == 2 * len(body)
    names = {entry["name"] for entry in mailbox_entries(master.get("/api/mailbox/1017"))}
    assert {"reset-1.txt", "reset-3.txt"} <= names
    assert not {"reset-0.txt", "reset-2.txt"} & names


def test_resets_at_half_fraction_are_counted(switches, master):
    switches.configure(faults=faults(fraction_reset=0.5), seed=99)
    switches.reset_stats()
    failures = 0
    for unused_request in range(30):
        try:
            requests.get(f"{switches.url}/api/login", auth=master.auth, verify=switches.ca_path, timeout=30)
        except requests.exceptions.ConnectionError:
            failures += 1
    faults_seen = switches.stats()["faults"]
    assert faults_seen["reset_before"] + faults_seen["reset_after"] == failures
    assert faults_seen["reset_before"] - faults_seen["reset_after"] in (0, 1)
    assert 5 <= failures <= 25


def test_fixed_latency(switches, master):
    switches.configure(faults=faults(latency=0.3))
    started = time.monotonic()
    assert master.get("/api/login").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_latency_spikes(switches, master):
    switches.configure(faults=faults(fraction_spike=1.0, spike_seconds=0.25))
    switches.reset_stats()
    started = time.monotonic()
    for unused_request in range(2):
        assert master.get("/api/login").status_code == 200
    assert time.monotonic() - started >= 0.5
    assert switches.stats()["faults"]["spike"] == 2


def test_seeded_fleet_faults_apply_from_start():
    fleet = {"seed": 42, "operators": [{"name": "op", "password": "pw", "master": True}],
             "computers": [{"id": 1, "name": "one"}], "behaviour": {"faults": {"fraction_503": 1.0, "retry_after": 3}}}
    with Emulator(fleet) as emulator:
        response = Client(emulator, ("op", "pw")).get("/api/computers")
        assert_text(response, 503)
        assert response.headers["Retry-After"] == "3"
        assert emulator.configure()["seed"] == 42
