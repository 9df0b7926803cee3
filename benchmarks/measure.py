"""Run one command and measure it: wall time, exit status and peak memory of its process tree.

    python -m benchmarks.measure [--match TEXT] [--interval S] -- COMMAND...

Runs in a process of its own so that ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` covers exactly one
command: it is the largest peak RSS of any process of the tree that was waited for (the command
itself, ansible's workers, the module processes). With ``--match``, the process tree is also
sampled from /proc every ``--interval`` seconds and the largest VmHWM of any process whose command
line contains TEXT is reported, with how many such processes were seen (a process that lives less
than one interval may be missed). Prints one JSON line; the command's own output goes to files.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time

from benchmarks.floor import vm_hwm_kib


def children(pid):
    """Direct children of a process, from /proc/PID/task/*/children."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as stream:
                found.extend(int(child) for child in stream.read().split())
        except OSError:
            continue
    return found


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            return stream.read().replace(b"\0", b" ").decode("utf-8", errors="replace")
    except OSError:
        return ""


class Sampler(threading.Thread):
    """Polls the tree under ``root`` for processes whose command line contains ``match``."""

    def __init__(self, root, match, interval):
        super().__init__(daemon=True)
        self.root = root
        self.match = match
        self.interval = interval
        self.peaks = {}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            pending = [self.root]
            while pending:
                pid = pending.pop()
                kids = children(pid)
                pending.extend(kids)
                if pid not in self.peaks and self.match not in cmdline(pid):
                    continue
                peak = vm_hwm_kib(pid)
                if peak is not None:
                    self.peaks[pid] = max(peak, self.peaks.get(pid, 0))
            self.stop.wait(self.interval)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--match", help="sample the VmHWM of descendants whose command line contains this")
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--stdout", default=os.devnull, help="file for the command's standard output")
    parser.add_argument("--stderr", default=os.devnull, help="file for the command's standard error")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    with open(args.stdout, "wb") as out, open(args.stderr, "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        sampler = None
        if args.match:
            sampler = Sampler(process.pid, args.match, args.interval)
            sampler.start()
        returncode = process.wait()
        wall = time.perf_counter() - started
        if sampler is not None:
            sampler.stop.set()
            sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "wall": wall,
        "returncode": returncode,
        "tree_peak_rss_kib": usage.ru_maxrss,
        "tree_cpu_seconds": usage.ru_utime + usage.ru_stime,
    }
    if sampler is not None:
        result["matched_processes"] = len(sampler.peaks)
        result["matched_peak_rss_kib"] = max(sampler.peaks.values(), default=None)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
