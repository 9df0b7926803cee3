"""Profile bigfix_mailbox_file's ``run()`` in this process against the emulator (cProfile).

    PYTHONPATH=.collections:. python -m benchmarks.profile_module [--count 1000] [--size 65536] [--top 30]

Starts an emulator with ``--count`` computers, stages a file of ``--size`` bytes (first run), then
stages it again (rerun), each under cProfile, and prints the functions with the most cumulative
and internal time plus the wall time and request counts of both runs. No ansible process is
involved: this is the module's own cost, not ansible's.
"""

import argparse
import cProfile
import io
import pstats
import threading
import time

from benchmarks import harness

from ansible_collections.bigfix.core.plugins.modules import bigfix_mailbox_file as module_code
from ansible_collections.bigfix.core.plugins.module_utils import arguments
from ansible_collections.bigfix.core.plugins.module_utils import mailbox_state


TIMERS = {"cpu": time.thread_time, "wall": time.perf_counter}


class FakeModule:
    """The little of AnsibleModule that ``run()`` uses."""

    check_mode = False
    _diff = False

    def __init__(self, params):
        self.params = params
        self.warnings = []
        self.no_log_values = set()

    def warn(self, text):
        self.warnings.append(text)

    def fail_json(self, **kwargs):
        raise RuntimeError(kwargs.get("msg"))


def params_for(emu, computers, src, name, concurrency):
    params = {option: spec.get("default") for option, spec in arguments.argument_spec(
        arguments.TARGET_SPEC, arguments.CONCURRENCY_SPEC, module_code.MODULE_OPTIONS).items()}
    params.update(url=emu.url, username=harness.USER, password=harness.PASSWORD, ca_path=emu.ca_path,
                  computers=computers, src=src, name=name, concurrency=concurrency)
    return params


def profiled_run(module, timer):
    """Run the module code with one profiler in the calling thread and one in each fan-out thread
    (cProfile sees only the thread that enabled it); returns the result, wall time and merged stats."""
    profilers = {}
    lock = threading.Lock()
    original = mailbox_state.fan_out

    def thread_profiler():
        with lock:
            return profilers.setdefault(threading.get_ident(), cProfile.Profile(timer))

    def profiled(func):
        def call(item):
            profiler = thread_profiler()
            profiler.enable()
            try:
                return func(item)
            finally:
                profiler.disable()
        return call

    mailbox_state.fan_out = lambda func, items, concurrency: original(profiled(func), items, concurrency)
    main_profiler = cProfile.Profile(timer)
    started = time.perf_counter()
    try:
        main_profiler.enable()
        result = arguments.run_with_client(module, module_code.run)
        main_profiler.disable()
    finally:
        mailbox_state.fan_out = original
    wall = time.perf_counter() - started
    stats = pstats.Stats(main_profiler)
    for profiler in profilers.values():
        stats.add(profiler)
    return result, wall, stats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--size", type=int, default=64 * 1024)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime,cumulative")
    parser.add_argument("--timer", choices=sorted(TIMERS), default="cpu",
                        help="cpu: each thread's CPU time (time.thread_time), so that waiting for the GIL or the "
                             "server is not counted; wall: elapsed time per thread")
    args = parser.parse_args(argv)
    workspace = harness.Workspace()
    src = harness.make_payload(workspace.path("payload.bin"), args.size)
    with harness.emulator(args.count) as emu:
        for run in ("first", "rerun"):
            emu.reset_stats()
            module = FakeModule(params_for(emu, harness.computer_ids(args.count), str(src), "profile.bin", args.concurrency))
            result, wall, stats = profiled_run(module, TIMERS[args.timer])
            total, gets, writes, unused_routes = harness.request_counts(emu.stats())
            print("== %s run: %.2f s under cProfile, %d requests (%d GET, %d writes), counts %s"
                  % (run, wall, total, gets, writes, result["counts"]))
            for key in args.sort.split(","):
                text = io.StringIO()
                stats.stream = text
                stats.sort_stats(key).print_stats(args.top)
                print(text.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
