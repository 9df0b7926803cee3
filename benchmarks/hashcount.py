"""Count how often bigfix_mailbox_file reads and hashes its source file, in this process.

    PYTHONPATH=.collections:. python -m benchmarks.hashcount --url URL --ca-path CA --src FILE \
        --name NAME --first-id ID --count N [--concurrency 8]

Runs the module's ``run()`` (no ansible process) with two probes: every SHA-1 object the mailbox
code creates counts the bytes it is fed, and every stream ``LocalFile.open()`` returns counts the
bytes read from it (the uploads). Prints one JSON line with both counts, the request outcome, the
wall time and this process's peak RSS. The password comes from BIGFIX_PASSWORD.
"""

import argparse
import json
import os
import sys
import threading
import time
import types

from benchmarks.floor import vm_hwm_kib
from benchmarks.profile_module import FakeModule

from ansible_collections.bigfix.core.plugins.modules import bigfix_mailbox_file as module_code
from ansible_collections.bigfix.core.plugins.module_utils import arguments
from ansible_collections.bigfix.core.plugins.module_utils import mailbox


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.hashed = 0
        self.hashers = 0
        self.read = 0
        self.opened = 0

    def add(self, field, value):
        with self.lock:
            setattr(self, field, getattr(self, field) + value)


class CountingHash:
    """A hashlib object that counts the bytes it is fed."""

    def __init__(self, real, counter):
        self._real = real
        self._counter = counter
        counter.add("hashers", 1)

    def update(self, data):
        self._counter.add("hashed", len(data))
        self._real.update(data)

    def __getattr__(self, name):
        return getattr(self._real, name)


class CountingStream:
    """A file object that counts the bytes read from it."""

    def __init__(self, real, counter):
        self._real = real
        self._counter = counter
        counter.add("opened", 1)

    def read(self, size=-1):
        data = self._real.read(size)
        self._counter.add("read", len(data))
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._real.close()

    def __getattr__(self, name):
        return getattr(self._real, name)


def install_probes(counter):
    """Patch the mailbox module utils; returns a function that undoes it."""
    real_hashlib = mailbox.hashlib
    real_open = mailbox.LocalFile.open

    def sha1(*args, **kwargs):
        hasher = CountingHash(real_hashlib.sha1(), counter)
        for data in args:
            hasher.update(data)
        del kwargs
        return hasher

    mailbox.hashlib = types.SimpleNamespace(sha1=sha1)
    mailbox.LocalFile.open = lambda self: CountingStream(real_open(self), counter)

    def undo():
        mailbox.hashlib = real_hashlib
        mailbox.LocalFile.open = real_open
    return undo


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca-path", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--src", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--first-id", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    params = {option: spec.get("default") for option, spec in arguments.argument_spec(
        arguments.TARGET_SPEC, arguments.CONCURRENCY_SPEC, module_code.MODULE_OPTIONS).items()}
    params.update(url=args.url, username=args.username, password=os.environ["BIGFIX_PASSWORD"], ca_path=args.ca_path,
                  computers=list(range(args.first_id, args.first_id + args.count)), src=args.src, name=args.name,
                  concurrency=args.concurrency)
    counter = Counter()
    undo = install_probes(counter)
    started = time.perf_counter()
    try:
        result = arguments.run_with_client(FakeModule(params), module_code.run)
    finally:
        undo()
    print(json.dumps({
        "wall": time.perf_counter() - started, "size": os.path.getsize(args.src), "computers": args.count,
        "bytes_hashed": counter.hashed, "sha1_objects": counter.hashers,
        "streams_opened": counter.opened, "bytes_read_for_upload": counter.read,
        "counts": result["counts"], "peak_rss_kib": vm_hwm_kib(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
