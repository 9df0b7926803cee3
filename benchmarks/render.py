"""Print the tables of a results.json as Markdown, for docs/performance.md.

    python -m benchmarks.render [benchmarks/results.json]
"""

import json
import sys

from benchmarks import harness

MIB_KIB = 1024


def _num(value, pattern="%.1f"):
    return "-" if value is None else pattern % value


def _median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else None


def summary_table(document):
    """Medians per way, N and run. "module process s" is the lifetime of the module processes (for
    way a both modules), so that wall minus it is what ansible itself costs around them; "client CPU
    s" is the CPU of whatever talks to the server: the module processes, or the floor script."""
    lines = ["| way | N | run | wall s (median) | min-max | module process s | requests | GETs | writes | peak RSS MiB "
             "| tree peak RSS MiB | client CPU s | emulator CPU s |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    records = document["records"]
    for row in document["summary"]:
        group = [r for r in records if (r["way"], r["n"], r["run"]) == (row["way"], row["n"], row["run"])]
        wall = _num(row["wall_median"], "%.2f")
        if row["extrapolated_from"]:
            wall += " (extrapolated from %d)" % row["extrapolated_from"]
        spread = "%.2f-%.2f" % (row["wall_min"], row["wall_max"]) if row["repeats"] > 1 else ""
        process_seconds = client_cpu = emulator_cpu = None
        if row["way"] in "ab":
            process_seconds = _median(sum(p["seconds"] for p in r.get("processes", [])) for r in group)
            client_cpu = _median(r["cpu_seconds"].get("modules", 0.0) for r in group)
        elif row["way"] == "d":
            client_cpu = _median(r["cpu_seconds"]["command_tree"] for r in group)
        if not row["extrapolated_from"]:
            emulator_cpu = _median(r["cpu_seconds"]["emulator"] for r in group)
        lines.append("| %s %s | %d | %s | %s | %s | %s | %d | %d | %d | %s | %s | %s | %s |" % (
            row["way"], row["label"], row["n"], row["run"], wall, spread, _num(process_seconds, "%.2f"), row["requests"],
            row["gets"], row["writes"], _num(row["peak_rss_mib_median"]), _num(row["tree_peak_rss_mib_median"]),
            _num(client_cpu), _num(emulator_cpu)))
    return "\n".join(lines)


def targets_table(document):
    lines = ["| target | measured | status | detail |", "|---|---:|---|---|"]
    for target in document["targets"]:
        value = target["value"]
        shown = "" if value is None else ("%.2f" % value if isinstance(value, float) else str(value))
        lines.append("| %s | %s | %s | %s |" % (target["target"], shown, target["status"], target["detail"]))
    return "\n".join(lines)


def big_table(document):
    big = document.get("big_file")
    if not big:
        return "(not measured)"
    lines = ["| run | ansible wall s | module process s | module CPU s | emulator CPU s | throughput MiB/s | module peak RSS MiB "
             "| requests | writes |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run in big["runs"]:
        lines.append("| %s | %.1f | %.1f | %.1f | %s | %s | %.1f | %d | %d |" % (
            run["run"], run["wall"], run["module_seconds"], run.get("module_cpu_seconds", 0.0),
            _num(run.get("emulator_cpu_seconds")),
            _num(run["throughput_mib_s"], "%.0f"), run["peak_rss_kib"] / MIB_KIB, run["requests"], run["writes"]))
    counted = big.get("hash_count") or {}
    lines.append("")
    lines.append("File %.0f MiB to %d computers; one SHA-1 pass %.1f s; one copy of the file %.1f s; counted in-process: "
                 "%s bytes hashed, %s bytes read for uploads." % (
                     big["size"] / harness.MIB, big["computers"], big["sha1_pass_seconds"], big["copy_seconds"],
                     counted.get("bytes_hashed"), counted.get("bytes_read_for_upload")))
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    path = argv[0] if argv else str(harness.HERE / "results.json")
    with open(path, encoding="utf-8") as stream:
        document = json.load(stream)
    machine = document["machine"]
    print("Run %s, %.0f s, `%s`, commit %s; %d CPUs (%s), %.1f GiB, Python %s, %s.\n" % (
        document["generated"], document["duration_seconds"], document["command"], machine["commit"], machine["nproc"],
        machine["cpu"], machine["memory_gib"], machine["python"],
        ", ".join("%s %s" % item for item in machine["versions"].items())))
    print(summary_table(document))
    print()
    print(targets_table(document))
    print()
    print(big_table(document))
    print()
    for note in document["notes"]:
        print("- " + note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
