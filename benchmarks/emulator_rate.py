"""Request rate of the BigFix REST API emulator.

Starts the emulator on a generated 10,000-computer fleet, then runs CLIENTS client processes, each
with one keep-alive HTTPS connection sending Basic auth on every request, cycling POST (raw upload),
GET (list) and DELETE on ``/api/mailbox`` of random computers. Stops after ``--requests`` requests
or ``--seconds`` seconds, whichever comes first, and prints requests/second and latency percentiles.

    .venv/bin/python benchmarks/emulator_rate.py [--clients 16] [--seconds 10] [--requests 40000]
"""

import argparse
import base64
import http.client
import multiprocessing
import random
import re
import ssl
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.emulator.launcher import Emulator  # noqa: E402  (needs the repository root on sys.path)

USER = "bench"
PASSWORD = "bench-password"
FLEET = {
    "operators": [{"name": USER, "password": PASSWORD, "master": True}],
    "generate": {"computers": 10000, "group_size": 2000, "site": "custom/Load"},
}
PAYLOAD = b"x" * 512


def run_client(index, url, ca_path, quota, seconds, barrier, results):
    """One client process: POST, GET, DELETE cycles on one keep-alive connection."""
    parts = urlsplit(url)
    connection = http.client.HTTPSConnection(parts.hostname, parts.port, context=ssl.create_default_context(cafile=ca_path),
                                             timeout=60)
    authorization = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode("utf-8")).decode("ascii")
    chooser = random.Random(index)
    latencies = []
    failures = 0
    connection.connect()
    barrier.wait(timeout=60)
    started = time.monotonic()
    deadline = started + seconds
    cycle = 0
    while len(latencies) < quota and time.monotonic() < deadline:
        computer_id = chooser.randint(1, 10000)
        name = f"bench-{index}-{cycle}.txt"
        cycle += 1
        file_id = None
        for method in ("POST", "GET", "DELETE"):
            if len(latencies) >= quota:
                break
            headers = {"Authorization": authorization}
            body = None
            path = f"/api/mailbox/{computer_id}"
            if method == "POST":
                headers["Content-Disposition"] = f'attachment; filename="{name}"'
                body = PAYLOAD
            elif method == "DELETE":
                if file_id is None:
                    break
                path = f"{path}/{file_id}"
            sent = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            latencies.append(time.perf_counter() - sent)
            if response.status != 200:
                failures += 1
            elif method == "POST":
                match = re.search(rb"<Name>" + re.escape(name.encode("utf-8")) + rb"</Name>\s*<ID>(\d+)</ID>", data)
                file_id = match.group(1).decode("ascii") if match else None
    results.put((started, time.monotonic(), latencies, failures))
    connection.close()


def percentile(ordered, fraction):
    """Nearest-rank percentile of an ascending list."""
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=40000, help="total request budget")
    args = parser.parse_args()

    with Emulator(FLEET) as emulator:
        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(args.clients)
        results = context.Queue()
        quota = max(1, args.requests // args.clients)
        # Daemon processes: a client that hangs cannot keep the benchmark from ending.
        clients = [context.Process(target=run_client, args=(index, emulator.url, emulator.ca_path, quota, args.seconds,
                                                            barrier, results), daemon=True)
                   for index in range(args.clients)]
        for client in clients:
            client.start()
        reports = [results.get(timeout=args.seconds + 120) for unused_client in clients]
        for client in clients:
            client.join(timeout=30)
        stats = emulator.stats()

    latencies = sorted(latency for report in reports for latency in report[2])
    failures = sum(report[3] for report in reports)
    elapsed = max(report[1] for report in reports) - min(report[0] for report in reports)
    print(f"emulator_rate: {args.clients} keep-alive clients, {len(FLEET['operators'])} operator, "
          f"{FLEET['generate']['computers']} computers, mix POST/GET/DELETE on /api/mailbox")
    print(f"requests: {len(latencies)} in {elapsed:.2f} s = {len(latencies) / elapsed:.0f} requests/s; non-200: {failures}")
    print(f"latency: p50 {percentile(latencies, 0.50) * 1000:.2f} ms, p99 {percentile(latencies, 0.99) * 1000:.2f} ms, "
          f"max {latencies[-1] * 1000:.2f} ms")
    print(f"emulator counted {stats['total']} requests: "
          + ", ".join(f"{key} {count}" for key, count in sorted(stats["requests"].items())))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
