"""The four ways of staging one file, each measured as a first run and a rerun on a fresh emulator.

(a) the ``bigfix.core.mailbox_stage`` role, targeting one computer group;
(b) ``bigfix.core.bigfix_mailbox_file`` directly, with the computer list;
(c) the naive ``ansible.builtin.uri`` playbook (GET then POST per computer, no idempotency);
(d) the floor: ``benchmarks.floor``, the necessary requests only, same concurrency.

Peak RSS is of the process that talks to the server: for (a) and (b) the module processes, run
under an interpreter wrapper that logs each one's ``ru_maxrss`` from ``wait4()`` (exact); for (c)
the ``uri`` module processes, sampled from /proc every 50 ms (the largest VmHWM seen); for (d)
the script's own VmHWM at its end. ``tree_peak_rss_kib`` is ``RUSAGE_CHILDREN.ru_maxrss`` of the
whole command (for the ansible ways it is the controller, ansible-playbook, that peaks there).
"""

import json
import os
import sys
from pathlib import Path

from benchmarks import harness

WAYS = {
    "a": "mailbox_stage role",
    "b": "bigfix_mailbox_file",
    "c": "naive uri playbook",
    "d": "floor (plain script)",
}
ROLE_TASKS = harness.REPO / "roles" / "mailbox_stage" / "tasks" / "main.yml"
# The role resolves one group by name: GET /api/computergroups/{site}, then its member list.
ROLE_GROUP_GETS = {"GET /api/computergroups/{site}": 1, "GET /api/computergroup/{site}/{id}/computers": 1}
NAIVE_RSS_INTERVAL = 0.05


def role_available():
    """Whether roles/mailbox_stage/tasks/main.yml exists (way (a) needs it)."""
    return ROLE_TASKS.is_file()


def expected_requests(way, count, run):
    """The exact per-route request counts a way must make for ``count`` computers."""
    expected = {"GET /api/mailbox/{cid}": count}
    if run == "first" or way == "c":
        expected["POST /api/mailbox/{cid}"] = count
    if way == "a":
        expected.update(ROLE_GROUP_GETS)
    return expected


class Measurement:
    """Runs one way on ``count`` computers of a fresh emulator: a first run, then a rerun."""

    def __init__(self, workspace, payload, concurrency=8):
        self.workspace = workspace
        self.payload = Path(payload)
        self.concurrency = concurrency

    def run(self, way, count, fleet_size=None, repeat=0, store_content=False):
        """Two records (first, rerun) for ``way`` staging to the first ``count`` computers of a
        fleet of ``fleet_size`` (default ``count``) computers."""
        fleet_size = fleet_size or count
        name = "%s.bin" % self.workspace.next_name("bench-%s-%d" % (way, count))
        records = []
        with harness.emulator(fleet_size, store_content=store_content) as emu:
            env = self.workspace.ansible_env(emu)
            for run in ("first", "rerun"):
                emu.reset_stats()
                load = os.getloadavg()[0]
                emulator_cpu = harness.cpu_seconds(emu.pid)
                result = getattr(self, "_run_" + way)(emu, env, count, name)
                emulator_cpu = harness.cpu_seconds(emu.pid) - emulator_cpu
                total, gets, writes, routes = harness.request_counts(emu.stats())
                record = {
                    "way": way, "n": count, "run": run, "repeat": repeat, "fleet": fleet_size,
                    "wall": result["wall"], "requests": total, "gets": gets, "writes": writes, "routes": routes,
                    "peak_rss_kib": result["peak_rss_kib"], "rss_source": result["rss_source"],
                    "tree_peak_rss_kib": result["tree_peak_rss_kib"], "loadavg_1m": load,
                    "cpu_seconds": {"command_tree": result["tree_cpu_seconds"], "emulator": emulator_cpu},
                    "expected_routes": expected_requests(way, count, run),
                }
                record["counts_ok"] = routes == record["expected_routes"]
                if "processes" in result:
                    record["processes"] = result["processes"]
                    record["cpu_seconds"]["modules"] = sum(process["cpu_seconds"] for process in result["processes"])
                records.append(record)
        return records

    # The ways ----------------------------------------------------------------------------------

    def _playbook(self, env, playbook, extra, exact_rss, match=None):
        rss_log = self.workspace.path(self.workspace.next_name("rss") + ".log")
        command = self.workspace.playbook_command(playbook, extra, exact_rss=exact_rss)
        result = self.workspace.measure(command, env, match=match, rss_log=rss_log)
        if result["returncode"] != 0:
            raise harness.BenchError("%s failed (exit %d):\n%s\n%s" % (
                playbook, result["returncode"], harness.tail(result["stdout_path"]), harness.tail(result["stderr_path"])))
        return result

    def _extra(self, count, name, computers=True):
        """The playbooks' variables; the role finds its computers through the group, so it gets no list."""
        extra = {"bench_src": str(self.payload), "bench_name": name, "bench_concurrency": self.concurrency,
                 "bench_site": harness.SITE, "bench_group": harness.GROUP}
        if computers:
            extra["bench_computers"] = harness.computer_ids(count)
        return extra

    def _run_a(self, unused_emu, env, count, name):
        result = self._playbook(env, "role.yml", self._extra(count, name, computers=False), exact_rss=True)
        if not any(module.startswith("AnsiballZ_bigfix_mailbox_file") for unused, module, unused2, unused3 in result["wrapped"]):
            raise harness.BenchError("the role ran no bigfix_mailbox_file module: %s" % result["wrapped"])
        return self._modules_result(result, "module processes, exact (wait4 ru_maxrss)")

    def _run_b(self, unused_emu, env, count, name):
        result = self._playbook(env, "module.yml", self._extra(count, name), exact_rss=True)
        return self._modules_result(result, "module process, exact (wait4 ru_maxrss)")

    @staticmethod
    def _modules_result(result, source):
        modules = result["wrapped"]
        return {"wall": result["wall"], "peak_rss_kib": max(kib for kib, unused, unused2, unused3 in modules),
                "rss_source": source, "tree_peak_rss_kib": result["tree_peak_rss_kib"],
                "tree_cpu_seconds": result["tree_cpu_seconds"],
                "processes": [{"module": module, "peak_rss_kib": kib, "seconds": seconds, "cpu_seconds": cpu}
                              for kib, module, seconds, cpu in modules]}

    def _run_c(self, unused_emu, env, count, name):
        result = self._playbook(env, "naive.yml", self._extra(count, name), exact_rss=False, match="AnsiballZ_uri")
        return {"wall": result["wall"], "peak_rss_kib": result.get("matched_peak_rss_kib"),
                "rss_source": "uri module processes, sampled every %d ms" % (NAIVE_RSS_INTERVAL * 1000),
                "tree_peak_rss_kib": result["tree_peak_rss_kib"], "tree_cpu_seconds": result["tree_cpu_seconds"]}

    def _run_d(self, emu, env, count, name):
        command = [sys.executable, "-m", "benchmarks.floor", "--url", emu.url, "--ca-path", emu.ca_path,
                   "--username", harness.USER, "--password-env", "BIGFIX_PASSWORD", "--first-id", str(harness.FIRST_ID),
                   "--count", str(count), "--src", str(self.payload), "--name", name,
                   "--concurrency", str(self.concurrency)]
        result = self.workspace.measure(command, env)
        output = Path(result["stdout_path"]).read_text(encoding="utf-8").strip()
        if result["returncode"] != 0 or not output:
            raise harness.BenchError("floor failed (exit %d): %s %s" % (result["returncode"], output,
                                                                        harness.tail(result["stderr_path"])))
        floor = json.loads(output.splitlines()[-1])
        return {"wall": result["wall"], "peak_rss_kib": floor["peak_rss_kib"], "rss_source": "the script's own VmHWM",
                "tree_peak_rss_kib": result["tree_peak_rss_kib"], "tree_cpu_seconds": result["tree_cpu_seconds"]}


def naive_baseline(workspace, payload):
    """Wall time of the naive playbook over an empty computer list: ansible's fixed cost, the
    intercept of the linear extrapolation of a sampled (c)."""
    measurement = Measurement(workspace, payload)
    with harness.emulator(1) as emu:
        result = measurement._playbook(workspace.ansible_env(emu), "naive.yml",  # pylint: disable=protected-access
                                       measurement._extra(0, "empty.bin"), exact_rss=False)  # pylint: disable=protected-access
    return result["wall"]


def extrapolate(record, count, intercept):
    """A sampled (c) record scaled to ``count`` computers: wall = t0 + (wall - t0) * count / sample,
    request counts times count / sample. The measured values stay in ``sample_*`` fields."""
    sample = record["n"]
    factor = count / sample
    scaled = dict(record)
    scaled.update({
        "n": count, "sample": sample, "sample_wall": record["wall"], "sample_requests": record["requests"],
        "intercept_wall": intercept,
        "wall": intercept + (record["wall"] - intercept) * factor,
        "requests": round(record["requests"] * factor), "gets": round(record["gets"] * factor),
        "writes": round(record["writes"] * factor), "extrapolated": True,
    })
    return scaled
