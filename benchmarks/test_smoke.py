"""Smoke test of the benchmark (``make bench-smoke``): every way at N = 200 against the emulator.

Asserts the exact requests each way makes, the first run and the rerun, and what the report
concludes from records; never a time. Way (c) runs on a 3-computer sample, as the full benchmark
extrapolates it.
"""

import json

import pytest

from benchmarks import bigfile, harness, render, report
from benchmarks.ways import ROLE_GROUP_GETS, Measurement, extrapolate, role_available

N = 200
NAIVE_SAMPLE = 3
MAILBOX_GET = "GET /api/mailbox/{cid}"
MAILBOX_POST = "POST /api/mailbox/{cid}"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    space = harness.Workspace(tmp_path_factory.mktemp("bench"))
    yield space
    space.remove()


@pytest.fixture(scope="module")
def measurement(workspace):
    payload = harness.make_payload(workspace.path("payload.bin"), 64 * 1024)
    return Measurement(workspace, payload, concurrency=8)


def runs_of(records):
    assert [record["run"] for record in records] == ["first", "rerun"]
    return records[0], records[1]


@pytest.mark.parametrize("way", ["b", "d"])
def test_first_run_uploads_once_per_computer_and_rerun_only_reads(way, measurement):
    first, rerun = runs_of(measurement.run(way, N))
    assert first["routes"] == {MAILBOX_GET: N, MAILBOX_POST: N}
    assert (first["requests"], first["gets"], first["writes"]) == (2 * N, N, N)
    assert rerun["routes"] == {MAILBOX_GET: N}
    assert (rerun["requests"], rerun["gets"], rerun["writes"]) == (N, N, 0)
    assert first["counts_ok"] and rerun["counts_ok"]
    assert first["peak_rss_kib"] > 1024 and rerun["peak_rss_kib"] > 1024


def test_role_adds_only_its_group_lookups(measurement):
    assert role_available()
    first, rerun = runs_of(measurement.run("a", N))
    assert first["routes"] == {**ROLE_GROUP_GETS, MAILBOX_GET: N, MAILBOX_POST: N}
    assert rerun["routes"] == {**ROLE_GROUP_GETS, MAILBOX_GET: N}
    assert rerun["writes"] == 0
    assert [process["module"] for process in first["processes"]] == [
        "AnsiballZ_bigfix_computer_group_info.py", "AnsiballZ_bigfix_mailbox_file.py"]


def test_naive_playbook_posts_again_on_rerun_and_extrapolates_linearly(measurement):
    first, rerun = runs_of(measurement.run("c", NAIVE_SAMPLE, fleet_size=N))
    for record in (first, rerun):
        assert record["routes"] == {MAILBOX_GET: NAIVE_SAMPLE, MAILBOX_POST: NAIVE_SAMPLE}
    scaled = extrapolate(first, N, intercept=1.0)
    assert (scaled["n"], scaled["sample"], scaled["requests"], scaled["gets"], scaled["writes"]) == (
        N, NAIVE_SAMPLE, 2 * N, N, N)
    assert scaled["wall"] == pytest.approx(1.0 + (first["wall"] - 1.0) * N / NAIVE_SAMPLE)


def test_large_file_is_hashed_once_and_streamed(workspace):
    size = 4 * harness.MIB
    result = bigfile.run(workspace, size=size, computers=4)
    first, rerun = result["runs"]
    assert first["routes"] == {MAILBOX_GET: 4, MAILBOX_POST: 4}
    assert first["bytes_uploaded"] == 4 * size
    assert rerun["routes"] == {MAILBOX_GET: 4}
    counted = result["hash_count"]
    assert (counted["bytes_hashed"], counted["sha1_objects"]) == (size, 1)
    assert counted["bytes_read_for_upload"] == 4 * size
    assert counted["bytes_received_by_server"] == 4 * size


def _record(way, count, run, wall, repeat=0, routes=None):
    routes = routes or ({MAILBOX_GET: count, MAILBOX_POST: count} if run == "first" else {MAILBOX_GET: count})
    gets = sum(n for key, n in routes.items() if key.startswith("GET "))
    return {"way": way, "n": count, "run": run, "repeat": repeat, "wall": wall, "routes": routes,
            "requests": sum(routes.values()), "gets": gets, "writes": sum(routes.values()) - gets,
            "counts_ok": True, "peak_rss_kib": 40960, "tree_peak_rss_kib": 61440, "rss_source": "test"}


def test_report_judges_targets_from_records(tmp_path):
    records = []
    for repeat, (role, floor) in enumerate([(12.0, 10.0), (13.0, 10.0), (14.0, 10.0)]):
        records.append(_record("a", 10000, "first", role, repeat, {**ROLE_GROUP_GETS, MAILBOX_GET: 10000, MAILBOX_POST: 10000}))
        records.append(_record("d", 10000, "first", floor, repeat))
    records.append(_record("a", 1000, "first", 2.0, routes={**ROLE_GROUP_GETS, MAILBOX_GET: 1000, MAILBOX_POST: 1000}))
    records.append(_record("a", 1000, "rerun", 1.0, routes={**ROLE_GROUP_GETS, MAILBOX_GET: 1000}))
    records.append(_record("a", 10000, "rerun", 12.0, routes={**ROLE_GROUP_GETS, MAILBOX_GET: 10000, MAILBOX_POST: 1}))
    records.append(dict(_record("c", 1000, "first", 90.0), sample=250))
    rows = report.summarize(records)
    results = {result["target"]: result for result in report.targets(records, rows, None, False, [1000, 10000])}
    floor = results["first run at N=10000: role (a) wall <= 1.3x floor (d)"]
    assert (floor["status"], floor["value"]) == ("PASS", pytest.approx(1.3))
    naive = results["N=1000: role (a) >= 50x faster than naive (c)"]
    assert (naive["status"], naive["value"]) == ("MISS", pytest.approx(45.0))
    assert "extrapolated linearly from a 250-computer sample" in naive["detail"]
    rerun = results["rerun: role (a) makes exactly one GET per computer and zero writes"]
    assert rerun["status"] == "MISS"
    growth = results["first: role (a) N=10000 wall <= 11x N=1000"]
    assert (growth["status"], growth["value"]) == ("PASS", pytest.approx(6.5))
    assert results["first run at N=10000: module (b), for reference wall <= 1.3x floor (d)"]["status"] == "N/A"
    missing = report.targets(records, rows, None, True, [1000, 10000])
    assert {result["status"] for result in missing if "role (a)" in result["target"]} == {"N/A"}
    text = report.table(rows)
    assert "extrapolated from 250 computers" in text and "median of 3" in text
    path = tmp_path / "results.json"
    report.write_results(path, {"sizes": "1000,10000"}, records, rows, list(results.values()), None, 0.0, [])
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["machine"]["nproc"] >= 1 and len(written["records"]) == len(records)


def test_render_shows_module_process_time_and_client_cpu():
    role = dict(_record("a", 1000, "first", 5.0), cpu_seconds={"command_tree": 6.0, "emulator": 1.5, "modules": 3.3},
                processes=[{"module": "AnsiballZ_bigfix_computer_group_info.py", "seconds": 0.5, "cpu_seconds": 0.25,
                            "peak_rss_kib": 30000},
                           {"module": "AnsiballZ_bigfix_mailbox_file.py", "seconds": 3.5, "cpu_seconds": 3.0,
                            "peak_rss_kib": 40960}])
    floor = dict(_record("d", 1000, "first", 2.0), cpu_seconds={"command_tree": 1.7, "emulator": 1.2})
    rows = report.summarize([role, floor])
    table = render.summary_table({"records": [role, floor], "summary": rows}).splitlines()
    assert table[2].split(" | ")[5:] == ["4.00", "2000", "1000", "1000", "40.0", "60.0", "3.3", "1.5 |"]
    assert table[3].split(" | ")[5:] == ["-", "2000", "1000", "1000", "40.0", "60.0", "1.7", "1.2 |"]
