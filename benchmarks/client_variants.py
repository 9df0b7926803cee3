"""Measure candidate changes to the client, in this process, before anyone makes them.

    PYTHONPATH=.collections:. python -m benchmarks.client_variants [--count 10000] [--repeats 3]

Runs bigfix_mailbox_file's ``run()`` (no ansible process) on a fresh emulator per run, first run
then rerun, for each variant of ``BigFixClient``, interleaved, and prints median wall and CPU
seconds. The variants are patched in here only; the collection's code is not changed:

- ``as-is``: the client as it is (``http.client`` connections from a pool).
- ``urllib3``: the client's connections replaced by one ``urllib3.HTTPSConnectionPool`` for the
  happy path only, to compare the cost per request of a pooling library with the client's own pool.
"""

import argparse
import base64
import statistics
import sys
import time

import urllib3

from benchmarks import harness
from benchmarks.profile_module import FakeModule, params_for

from ansible_collections.bigfix.core.plugins.modules import bigfix_mailbox_file as module_code
from ansible_collections.bigfix.core.plugins.module_utils import arguments
from ansible_collections.bigfix.core.plugins.module_utils import client as transport


def _urllib3_init(original_init):
    def init(self, settings, pool_size=8, **kwargs):
        original_init(self, settings, pool_size=pool_size, **kwargs)
        host, unused, port = self.base_url[len("https://"):].partition(":")
        self._pool = urllib3.HTTPSConnectionPool(
            host, int(port or 443), maxsize=max(1, pool_size), block=True, ca_certs=settings.ca_path,
            cert_reqs="CERT_REQUIRED", retries=False, timeout=urllib3.Timeout(settings.timeout))
        token = base64.b64encode(b"%s:%s" % (settings.username.encode("utf-8"), settings.password.encode("utf-8")))
        self._headers = {"Authorization": "Basic " + token.decode("ascii"), "User-Agent": "bigfix.core"}
    return init


def _urllib3_send(self, method, path, data=None, headers=None, expect=(200,)):
    shown = self._display_path(path)  # pylint: disable=protected-access
    merged = dict(self._headers)  # pylint: disable=protected-access
    merged.update(headers or {})
    if hasattr(data, "read"):
        # A file body goes out with a Content-Length, not chunked.
        position = data.tell()
        data.seek(0, 2)
        merged["Content-Length"] = str(data.tell() - position)
        data.seek(position)
    response = self._pool.urlopen(method, shown, body=data, headers=merged, redirect=False,  # pylint: disable=protected-access
                                  retries=False, preload_content=True)
    if response.status not in expect:
        raise transport.BigFixError("HTTP %d" % response.status, method=method, path=shown, status=response.status)
    return transport.Reply(response.status, response.data, response.headers)


VARIANTS = ("as-is", "urllib3")


def patched(variant):
    """Patch BigFixClient for ``variant``; returns a function that undoes it."""
    cls = transport.BigFixClient
    saved = {name: cls.__dict__[name] for name in ("__init__", "_send")}
    if variant == "urllib3":
        cls.__init__ = _urllib3_init(saved["__init__"])
        cls._send = _urllib3_send  # pylint: disable=protected-access

    def undo():
        for name, value in saved.items():
            setattr(cls, name, value)
    return undo


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=64 * 1024)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args(argv)
    workspace = harness.Workspace()
    src = harness.make_payload(workspace.path("payload.bin"), args.size)
    variants = [variant for variant in args.variants.split(",") if variant]
    measured = {}
    try:
        for repeat in range(args.repeats):
            for variant in variants[repeat % len(variants):] + variants[:repeat % len(variants)]:
                undo = patched(variant)
                try:
                    with harness.emulator(args.count) as emu:
                        for run in ("first", "rerun"):
                            emu.reset_stats()
                            module = FakeModule(params_for(emu, harness.computer_ids(args.count), str(src),
                                                           "variant-%d.bin" % repeat, args.concurrency))
                            emulator_cpu = harness.cpu_seconds(emu.pid)
                            cpu, started = time.process_time(), time.perf_counter()
                            result = arguments.run_with_client(module, module_code.run)
                            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                            emulator_cpu = harness.cpu_seconds(emu.pid) - emulator_cpu
                            total, gets, writes, unused = harness.request_counts(emu.stats())
                            if result["counts"]["failed"]:
                                raise harness.BenchError("%s: %s" % (variant, result["msg"]))
                            measured.setdefault((variant, run), []).append((wall, cpu, emulator_cpu))
                            print("%-9s %-5s repeat %d: wall %6.2f s, client CPU %6.2f s, emulator CPU %5.2f s, "
                                  "%d requests (%d GET, %d writes)" % (variant, run, repeat + 1, wall, cpu, emulator_cpu,
                                                                       total, gets, writes), flush=True)
                finally:
                    undo()
    finally:
        workspace.remove()
    print("\nmedians over %d repeats, N=%d:" % (args.repeats, args.count))
    for (variant, run), values in sorted(measured.items(), key=lambda item: (item[0][1], VARIANTS.index(item[0][0]))):
        print("%-9s %-5s wall %6.2f s  client CPU %6.2f s  emulator CPU %5.2f s" % (
            variant, run, statistics.median(v[0] for v in values), statistics.median(v[1] for v in values),
            statistics.median(v[2] for v in values)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
