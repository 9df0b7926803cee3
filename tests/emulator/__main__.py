"""Command line: ``python -m tests.emulator --fleet FILE [--port 0]`` from the repository root.

Prints one JSON line, ``{"url": ..., "ca_path": ...}``, on stdout once the server accepts requests;
logs go to stderr. SIGTERM or SIGINT stop it with exit status 0.
"""

import argparse
import json
import logging
import shutil
import signal
import sys
import tempfile
import threading

from . import fleet as fleet_module
from . import tls
from .server import EmulatorApp, EmulatorServer
from .store import Store


def parse_args(argv):
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulator",
        description="BigFix REST API emulator for tests: HTTPS, operators, computers, groups, mailbox files, "
                    "session relevance basics and fault injection, all described by a fleet YAML file "
                    "(see tests/emulator/README.md).")
    parser.add_argument("--fleet", required=True, metavar="FILE", help="fleet YAML file")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=52311, help="port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--tls-dir", metavar="DIR",
                        help="reuse ca.pem, server.pem and server-key.pem from DIR, or create them there "
                             "(default: a temporary directory removed on exit)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def main(argv=None):
    """Run the emulator until SIGTERM or SIGINT; returns the exit status."""
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s emulator %(levelname)s %(message)s")
    try:
        fleet = fleet_module.load(args.fleet)
    except fleet_module.FleetError as err:
        print(f"error: fleet file {args.fleet}: {err}", file=sys.stderr)
        return 2

    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda number, frame: stop.set())

    temporary_dirs = []
    try:
        if args.tls_dir:
            tls_dir = args.tls_dir
        else:
            tls_dir = tempfile.mkdtemp(prefix="bigfix-emulator-tls-")
            temporary_dirs.append(tls_dir)
        files = tls.ensure_files(tls_dir, args.host)
        content_dir = tempfile.mkdtemp(prefix="bigfix-emulator-content-")
        temporary_dirs.append(content_dir)

        server = EmulatorServer((args.host, args.port), tls.server_context(files))
        host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
        host = f"[{host}]" if ":" in host else host
        url = f"https://{host}:{server.server_port}"
        server.app = EmulatorApp(Store(fleet, content_dir), url, fleet.seed)
        serving = threading.Thread(target=server.serve_forever, args=(0.1,), name="emulator-accept",
                                   daemon=True)
        serving.start()
        print(json.dumps({"url": url, "ca_path": files.ca_path}), flush=True)
        logging.getLogger("tests.emulator").info("serving %s with fleet %s", url, args.fleet)

        stop.wait()
        server.shutdown()
        server.server_close()
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        for directory in temporary_dirs:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
