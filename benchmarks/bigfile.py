"""A large file (1 GiB by default) staged with bigfix_mailbox_file to a few computers (4).

Measures, on a fresh emulator that keeps only the SHA-1 and size of uploads:
- the ansible run (first run, then a rerun that finds the file everywhere): wall time, the module
  process's exact peak RSS and lifetime, and throughput = bytes uploaded / module lifetime;
- what one copy of the file costs, timed separately with ``shutil.copyfile`` (what the local
  connection's ``put_file`` does): the action plugin pays it where the module cannot read ``src``
  in place (another host, become, async), not in this run, which uses the local connection;
- one SHA-1 pass over the file, timed in this process (the rerun's module lifetime is about this
  plus start-up and 4 GETs: a per-computer hash would show as 4 passes);
- in a separate process (benchmarks.hashcount), the bytes the module code hashes and reads for
  uploads, counted exactly: hashed once means ``bytes_hashed == size``.
"""

import hashlib
import json
import shutil
import sys
import time

from benchmarks import harness

GIB = 1024 * 1024 * 1024


def sha1_pass_seconds(path):
    started = time.perf_counter()
    digest = hashlib.sha1()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(harness.MIB), b""):
            digest.update(chunk)
    return time.perf_counter() - started


def run(workspace, size=GIB, computers=4, concurrency=8, count_hashing=True):
    """The large-file measurements as one dict."""
    started = time.perf_counter()
    path = harness.make_payload(workspace.path("big.bin"), size)
    generate_seconds = time.perf_counter() - started
    copy_target = workspace.path("big-copy.bin")
    started = time.perf_counter()
    shutil.copyfile(path, copy_target)
    copy_seconds = time.perf_counter() - started
    copy_target.unlink()
    hash_seconds = sha1_pass_seconds(path)
    result = {"size": size, "computers": computers, "concurrency": concurrency,
              "generate_seconds": generate_seconds, "copy_seconds": copy_seconds, "sha1_pass_seconds": hash_seconds,
              "runs": []}
    name = "big.bin"
    try:
        with harness.emulator(computers, store_content=False) as emu:
            env = workspace.ansible_env(emu)
            extra = {"bench_computers": harness.computer_ids(computers), "bench_src": str(path), "bench_name": name,
                     "bench_concurrency": concurrency}
            for run_name in ("first", "rerun"):
                emu.reset_stats()
                rss_log = workspace.path(workspace.next_name("rss") + ".log")
                emulator_cpu = harness.cpu_seconds(emu.pid)
                measured = workspace.measure(workspace.playbook_command("module.yml", extra, exact_rss=True), env,
                                             rss_log=rss_log)
                emulator_cpu = harness.cpu_seconds(emu.pid) - emulator_cpu
                if measured["returncode"] != 0:
                    raise harness.BenchError("large file run failed:\n%s" % harness.tail(measured["stdout_path"]))
                stats = emu.stats()
                total, gets, writes, routes = harness.request_counts(stats)
                kib, unused, seconds, cpu = max(measured["wrapped"])
                uploaded = stats["bytes_received"]
                result["runs"].append({
                    "run": run_name, "wall": measured["wall"], "module_seconds": seconds, "module_cpu_seconds": cpu,
                    "emulator_cpu_seconds": emulator_cpu,
                    "peak_rss_kib": kib,
                    "tree_peak_rss_kib": measured["tree_peak_rss_kib"], "requests": total, "gets": gets,
                    "writes": writes, "routes": routes, "bytes_uploaded": uploaded,
                    "throughput_mib_s": uploaded / harness.MIB / seconds if uploaded else None,
                })
            if count_hashing:
                emu.reset_stats()
                command = [sys.executable, "-m", "benchmarks.hashcount", "--url", emu.url, "--ca-path", emu.ca_path,
                           "--username", harness.USER, "--src", str(path), "--name", "big-counted.bin",
                           "--first-id", str(harness.FIRST_ID), "--count", str(computers),
                           "--concurrency", str(concurrency)]
                env = dict(env)
                env["PYTHONPATH"] = str(harness.COLLECTIONS)
                measured = workspace.measure(command, env)
                output = harness.tail(measured["stdout_path"], 5000).strip()
                if measured["returncode"] != 0 or not output:
                    raise harness.BenchError("hash count failed: %s" % harness.tail(measured["stderr_path"]))
                result["hash_count"] = json.loads(output.splitlines()[-1])
                result["hash_count"]["bytes_received_by_server"] = emu.stats()["bytes_received"]
    finally:
        path.unlink()
    return result
