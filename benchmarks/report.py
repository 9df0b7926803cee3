"""Summaries, the targets of the issue with PASS/MISS, the printed table and results.json."""

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata

from benchmarks import harness
from benchmarks.ways import WAYS

MIB_KIB = 1024
TARGET_FLOOR_RATIO = 1.3
TARGET_NAIVE_SPEEDUP = 50.0
TARGET_GROWTH = 11.0
TARGET_BIG_RSS_MIB = 100.0


def machine():
    """What the numbers were measured on."""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            cpu = next((line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")), "")
    except OSError:
        pass
    versions = {}
    for package in ("ansible-core", "requests", "urllib3", "lxml"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=harness.REPO, capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1),
            "python": platform.python_version(), "platform": platform.platform(), "versions": versions, "commit": commit}


def summarize(records):
    """One row per (way, n, run): medians over the repeats, and the request counts (which must
    be the same in every repeat)."""
    groups = {}
    for record in records:
        groups.setdefault((record["way"], record["n"], record["run"]), []).append(record)
    rows = []
    for (way, count, run), group in sorted(groups.items(), key=lambda item: (item[0][1], item[0][0], item[0][2] != "first")):
        walls = [record["wall"] for record in group]
        peaks = [record["peak_rss_kib"] for record in group if record["peak_rss_kib"]]
        trees = [record["tree_peak_rss_kib"] for record in group if record["tree_peak_rss_kib"]]
        first = group[0]
        rows.append({
            "way": way, "label": WAYS[way], "n": count, "run": run, "repeats": len(group),
            "wall_median": statistics.median(walls), "wall_min": min(walls), "wall_max": max(walls),
            "requests": first["requests"], "gets": first["gets"], "writes": first["writes"],
            "routes": first["routes"],
            "counts_same_every_repeat": all(record["routes"] == first["routes"] for record in group),
            "counts_ok": all(record["counts_ok"] for record in group),
            "peak_rss_mib_median": statistics.median(peaks) / MIB_KIB if peaks else None,
            "peak_rss_mib_max": max(peaks) / MIB_KIB if peaks else None,
            "tree_peak_rss_mib_median": statistics.median(trees) / MIB_KIB if trees else None,
            "rss_source": first["rss_source"],
            "extrapolated_from": first.get("sample"),
        })
    return rows


def _row(rows, way, count, run):
    return next((row for row in rows if row["way"] == way and row["n"] == count and row["run"] == run), None)


def _paired_ratio(records, way_a, way_b, count, run):
    """Median over repeats of wall(way_a) / wall(way_b), pairing the runs of the same repeat."""
    walls = {}
    for record in records:
        if record["n"] == count and record["run"] == run and record["way"] in (way_a, way_b):
            walls.setdefault(record["repeat"], {})[record["way"]] = record["wall"]
    ratios = [pair[way_a] / pair[way_b] for pair in walls.values() if way_a in pair and way_b in pair]
    return (statistics.median(ratios), ratios) if ratios else (None, [])


def _target(name, value, limit, passed, detail, status=None):
    if status is None:
        status = "PASS" if passed else "MISS"
    return {"target": name, "value": value, "limit": limit, "status": status, "detail": detail}


def targets(records, rows, big, role_missing, sizes):
    """The issue's targets, each with its measured value and PASS, MISS or a reason it was not measured."""
    results = []
    large, small = max(sizes), min(sizes)
    for way in ("a", "b"):
        who = "role (a)" if way == "a" else "module (b), for reference"
        missing = way == "a" and role_missing
        # 1. First run at the large size within 1.3x of the floor.
        name = "first run at N=%d: %s wall <= %.1fx floor (d)" % (large, who, TARGET_FLOOR_RATIO)
        ratio, ratios = _paired_ratio(records, way, "d", large, "first")
        if missing:
            results.append(_target(name, None, TARGET_FLOOR_RATIO, False, "role not available", "N/A"))
        elif ratio is None:
            results.append(_target(name, None, TARGET_FLOOR_RATIO, False, "not measured", "N/A"))
        else:
            results.append(_target(name, ratio, TARGET_FLOOR_RATIO, ratio <= TARGET_FLOOR_RATIO,
                                   "median of per-repeat ratios %s" % ", ".join("%.2f" % r for r in ratios)))
        # 2. At the small size, 50x faster than the naive playbook.
        name = "N=%d: %s >= %dx faster than naive (c)" % (small, who, TARGET_NAIVE_SPEEDUP)
        mine, naive = _row(rows, way, small, "first"), _row(rows, "c", small, "first")
        if missing:
            results.append(_target(name, None, TARGET_NAIVE_SPEEDUP, False, "role not available", "N/A"))
        elif mine is None or naive is None:
            results.append(_target(name, None, TARGET_NAIVE_SPEEDUP, False, "not measured", "N/A"))
        else:
            speedup = naive["wall_median"] / mine["wall_median"]
            rerun_mine, rerun_naive = _row(rows, way, small, "rerun"), _row(rows, "c", small, "rerun")
            detail = "first run: naive %.0f s / %.1f s" % (naive["wall_median"], mine["wall_median"])
            if rerun_mine and rerun_naive:
                detail += "; rerun: %.0fx" % (rerun_naive["wall_median"] / rerun_mine["wall_median"])
            if naive["extrapolated_from"]:
                detail += "; naive extrapolated linearly from a %d-computer sample" % naive["extrapolated_from"]
            results.append(_target(name, speedup, TARGET_NAIVE_SPEEDUP, speedup >= TARGET_NAIVE_SPEEDUP, detail))
        # 3. Rerun: one GET per computer, no write.
        name = "rerun: %s makes exactly one GET per computer and zero writes" % who
        reruns = [record for record in records if record["way"] == way and record["run"] == "rerun"]
        if missing:
            results.append(_target(name, None, None, False, "role not available", "N/A"))
        elif not reruns:
            results.append(_target(name, None, None, False, "not measured", "N/A"))
        else:
            good = all(record["routes"].get("GET /api/mailbox/{cid}") == record["n"] and record["writes"] == 0
                       and record["counts_ok"] for record in reruns)
            detail = "; ".join("N=%d: %d mailbox GETs, %d other GETs, %d writes" % (
                record["n"], record["routes"].get("GET /api/mailbox/{cid}", 0),
                record["gets"] - record["routes"].get("GET /api/mailbox/{cid}", 0), record["writes"])
                for record in reruns if record["repeat"] == reruns[0]["repeat"])
            results.append(_target(name, None, None, good, detail + " (every repeat)"))
        # 4. Linear growth.
        for run in ("first", "rerun"):
            name = "%s: %s N=%d wall <= %.0fx N=%d" % (run, who, large, TARGET_GROWTH, small)
            big_row, small_row = _row(rows, way, large, run), _row(rows, way, small, run)
            if missing:
                results.append(_target(name, None, TARGET_GROWTH, False, "role not available", "N/A"))
            elif big_row is None or small_row is None or large == small:
                results.append(_target(name, None, TARGET_GROWTH, False, "not measured", "N/A"))
            else:
                growth = big_row["wall_median"] / small_row["wall_median"]
                limit = TARGET_GROWTH * large / small / 10.0
                results.append(_target(name, growth, limit, growth <= limit, "medians %.1f s / %.1f s" % (
                    big_row["wall_median"], small_row["wall_median"])))
    if big is not None:
        first = big["runs"][0]
        name = "%.0f MiB file to %d computers: module peak RSS <= %.0f MiB" % (
            big["size"] / harness.MIB, big["computers"], TARGET_BIG_RSS_MIB)
        peak = first["peak_rss_kib"] / MIB_KIB
        results.append(_target(name, peak, TARGET_BIG_RSS_MIB, peak <= TARGET_BIG_RSS_MIB,
                               "throughput %.0f MiB/s over the module's lifetime" % first["throughput_mib_s"]))
        counted = big.get("hash_count")
        name = "large file hashed once per task, not once per computer"
        if counted is None:
            results.append(_target(name, None, None, False, "not measured", "N/A"))
        else:
            passes = counted["bytes_hashed"] / counted["size"]
            results.append(_target(name, passes, 1, counted["bytes_hashed"] == counted["size"],
                                   "%d bytes hashed (%.2f passes) by %d SHA-1 object(s) for %d computers; %d bytes read "
                                   "for uploads" % (counted["bytes_hashed"], passes, counted["sha1_objects"],
                                                    counted["computers"], counted["bytes_read_for_upload"])))
    return results


def _fmt(value, pattern="%.1f"):
    return "-" if value is None else pattern % value


def table(rows):
    """The measured table as text."""
    header = ("way", "N", "run", "wall s", "min-max", "requests", "GETs", "writes", "peak RSS MiB", "tree MiB", "note")
    lines = [header]
    for row in rows:
        notes = []
        if row["extrapolated_from"]:
            notes.append("extrapolated from %d computers" % row["extrapolated_from"])
        if not row["counts_ok"]:
            notes.append("UNEXPECTED REQUEST COUNTS")
        if row["repeats"] > 1:
            notes.append("median of %d" % row["repeats"])
        lines.append(("%s %s" % (row["way"], row["label"]), str(row["n"]), row["run"], _fmt(row["wall_median"], "%.2f"),
                      "%.2f-%.2f" % (row["wall_min"], row["wall_max"]) if row["repeats"] > 1 else "",
                      str(row["requests"]), str(row["gets"]), str(row["writes"]),
                      _fmt(row["peak_rss_mib_median"]), _fmt(row["tree_peak_rss_mib_median"]), ", ".join(notes)))
    widths = [max(len(line[index]) for line in lines) for index in range(len(header))]
    text = []
    for number, line in enumerate(lines):
        text.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
        if number == 0:
            text.append("  ".join("-" * width for width in widths))
    return "\n".join(text)


def targets_text(results):
    lines = []
    for result in results:
        value = result["value"]
        shown = "" if value is None else ("%.2f" % value if isinstance(value, float) else str(value))
        lines.append("%-4s %s%s  (%s)" % (result["status"], result["target"], ": " + shown if shown else "", result["detail"]))
    return "\n".join(lines)


def big_text(big):
    if big is None:
        return "large file: not measured"
    first, rerun = big["runs"][0], big["runs"][1]
    lines = ["large file: %.0f MiB to %d computers (concurrency %d)" % (big["size"] / harness.MIB, big["computers"], big["concurrency"]),
             "  first run: ansible wall %.1f s, module process %.1f s, %.0f MiB/s uploaded over the module's lifetime, "
             "module peak RSS %.1f MiB, controller tree peak %.1f MiB; requests %d (%d GET, %d writes)" % (
                 first["wall"], first["module_seconds"], first["throughput_mib_s"], first["peak_rss_kib"] / MIB_KIB,
                 first["tree_peak_rss_kib"] / MIB_KIB, first["requests"], first["gets"], first["writes"]),
             "  rerun: ansible wall %.1f s, module process %.1f s (start-up + one SHA-1 pass + %d GETs), peak RSS %.1f MiB, %d writes" % (
                 rerun["wall"], rerun["module_seconds"], rerun["gets"], rerun["peak_rss_kib"] / MIB_KIB, rerun["writes"]),
             "  one SHA-1 pass over the file: %.1f s; copying it once (timed alone; what the action plugin adds"
             " where it must copy src: another host, become, async): %.1f s"
             % (big["sha1_pass_seconds"], big["copy_seconds"])]
    counted = big.get("hash_count")
    if counted:
        lines.append("  counted in-process: %d bytes hashed for %d computers (%.2f passes), %d bytes read for uploads, "
                     "server received %d bytes" % (counted["bytes_hashed"], counted["computers"],
                                                   counted["bytes_hashed"] / counted["size"], counted["bytes_read_for_upload"],
                                                   counted["bytes_received_by_server"]))
    return "\n".join(lines)


def write_results(path, options, records, rows, target_results, big, started, notes):
    document = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "duration_seconds": time.time() - started,
        "command": " ".join([os.path.basename(sys.executable), "-m", "benchmarks"] + sys.argv[1:]),
        "options": options,
        "machine": machine(),
        "notes": notes,
        "summary": rows,
        "targets": target_results,
        "big_file": big,
        "records": records,
    }
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=1, sort_keys=False)
        stream.write("\n")
    return document
