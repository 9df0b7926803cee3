"""``python -m benchmarks``: stage one file to many computers four ways against the emulator,
print a table and the issue's targets, and write benchmarks/results.json.

Run it from the repository root with PYTHONPATH and ANSIBLE_COLLECTIONS_PATH set to .collections
(``make bench`` does). See docs/performance.md for the method and the latest measured table.
"""

import argparse
import os
import sys
import time

from benchmarks import bigfile, harness, report
from benchmarks.ways import WAYS, Measurement, extrapolate, naive_baseline, role_available

DEFAULT_SIZES = "1000,10000"
DEFAULT_REPEATS = 3
DEFAULT_NAIVE_SAMPLE = 250


def parse_size(text):
    """Bytes from ``65536``, ``64KiB``, ``1GiB``, ``512MiB``."""
    units = {"kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    lowered = text.strip().lower()
    for suffix, factor in sorted(units.items(), key=lambda item: -len(item[0])):
        if lowered.endswith(suffix):
            return int(float(lowered[:-len(suffix)]) * factor)
    return int(lowered)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="computer counts N, comma-separated (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS,
                        help="runs of ways a, b and d per size; the table shows medians (default: %(default)s)")
    parser.add_argument("--only", default="a,b,c,d", help="ways to run, comma-separated, from a,b,c,d (default: all)")
    parser.add_argument("--concurrency", type=int, default=8, help="parallel requests of every way (default: %(default)s)")
    parser.add_argument("--payload-size", type=parse_size, default=64 * 1024, help="staged file size (default: 64KiB)")
    parser.add_argument("--naive-sample", type=int, default=DEFAULT_NAIVE_SAMPLE,
                        help="way c runs on this many computers of the largest fleet, once, and is extrapolated "
                             "linearly to every size; 0 runs it in full at every size (default: %(default)s)")
    parser.add_argument("--naive-repeats", type=int, default=1, help="runs of way c (default: %(default)s)")
    parser.add_argument("--big-size", type=parse_size, default=bigfile.GIB, help="large file size (default: 1GiB)")
    parser.add_argument("--big-computers", type=int, default=4, help="computers the large file goes to (default: 4)")
    parser.add_argument("--no-big", action="store_true", help="skip the large file")
    parser.add_argument("--output", default=str(harness.HERE / "results.json"), help="results file (default: %(default)s)")
    parser.add_argument("--workdir", default=str(harness.HERE / "work"), help="scratch directory (default: %(default)s)")
    parser.add_argument("--keep-work", action="store_true", help="keep this run's scratch files (logs, ansible output)")
    args = parser.parse_args(argv)
    args.size_list = sorted({int(size) for size in args.sizes.split(",") if size.strip()})
    args.way_list = [way.strip() for way in args.only.split(",") if way.strip()]
    unknown = [way for way in args.way_list if way not in WAYS]
    if unknown or not args.size_list or min(args.size_list) < 1 or args.repeats < 1:
        parser.error("--only takes ways from a,b,c,d; --sizes positive numbers; --repeats at least 1")
    return args


def log(text):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), text), flush=True)


def run_naive(args, measurement, workspace, records, notes):
    largest = max(args.size_list)
    sample = args.naive_sample
    if sample <= 0 or sample >= largest:
        for repeat in range(args.naive_repeats):
            for count in args.size_list:
                log("way c, N=%d, repeat %d (full)" % (count, repeat + 1))
                records.extend(measurement.run("c", count, repeat=repeat))
        return
    log("way c: ansible's fixed cost (empty computer list)")
    intercept = naive_baseline(workspace, measurement.payload)
    notes.append("way c ran on a %d-computer sample of the %d-computer fleet (%d run(s)) and is extrapolated linearly to "
                 "each N: wall = t0 + (wall_sample - t0) * N / %d with t0 = %.2f s, the same playbook on an empty list; "
                 "request counts scale by N / %d. Measured sample values are in the records' sample_* fields."
                 % (sample, largest, args.naive_repeats, sample, intercept, sample))
    for repeat in range(args.naive_repeats):
        log("way c, %d-computer sample, repeat %d" % (sample, repeat + 1))
        for record in measurement.run("c", sample, fleet_size=largest, repeat=repeat):
            for count in args.size_list:
                records.append(extrapolate(record, count, intercept))


def main(argv=None):
    args = parse_args(argv)
    started = time.time()
    workspace = harness.Workspace(args.workdir)
    payload = harness.make_payload(workspace.path("payload.bin"), args.payload_size)
    measurement = Measurement(workspace, payload, concurrency=args.concurrency)
    notes = ["every measurement uses a fresh emulator (store_content: false: uploads are hashed, not kept) and a new "
             "file name; concurrency %d for ways a, b and d; way c is sequential, as ansible runs a loop"
             % args.concurrency]
    role_missing = "a" in args.way_list and not role_available()
    if role_missing:
        notes.append("way a: NOT AVAILABLE, %s does not exist; no number is reported for it"
                     % os.path.relpath(harness.REPO / "roles" / "mailbox_stage" / "tasks" / "main.yml", harness.REPO))
        log(notes[-1])
    fast_ways = [way for way in ("d", "b", "a") if way in args.way_list and not (way == "a" and role_missing)]
    records = []
    for repeat in range(args.repeats):
        # Rotate the order every repeat so that no way always runs first or last.
        order = fast_ways[repeat % len(fast_ways):] + fast_ways[:repeat % len(fast_ways)] if fast_ways else []
        for count in args.size_list:
            for way in order:
                log("way %s (%s), N=%d, repeat %d/%d" % (way, WAYS[way], count, repeat + 1, args.repeats))
                records.extend(measurement.run(way, count, repeat=repeat))
    if "c" in args.way_list:
        run_naive(args, measurement, workspace, records, notes)
    big = None
    if not args.no_big:
        log("large file: %d bytes to %d computers" % (args.big_size, args.big_computers))
        big = bigfile.run(workspace, size=args.big_size, computers=args.big_computers, concurrency=args.concurrency)
    rows = report.summarize(records)
    target_results = report.targets(records, rows, big, role_missing, args.size_list)
    options = {key: value for key, value in vars(args).items() if key not in ("size_list", "way_list")}
    report.write_results(args.output, options, records, rows, target_results, big, started, notes)
    print()
    print(report.table(rows))
    print()
    print(report.big_text(big))
    print()
    print("notes:")
    for note in notes:
        print("- " + note)
    print()
    print("targets:")
    print(report.targets_text(target_results))
    print()
    if args.keep_work:
        print("scratch files kept in %s" % workspace.tmp)
    else:
        workspace.remove()
    print("wrote %s in %.0f s" % (args.output, time.time() - started))
    bad = [row for row in rows if not row["counts_ok"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
