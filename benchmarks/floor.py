"""Way (d), the floor: the fewest HTTP requests that stage one file, with nothing else around them.

For each computer: GET its mailbox; POST the file only when no entry of that name holds the same
SHA-1 already. A pool of ``--concurrency`` threads, each with its own keep-alive HTTPS connection
(``http.client``), Basic authentication on every request, the file read into memory once.

    python -m benchmarks.floor --url URL --ca-path CA --username U --password-env BENCH_PASSWORD \
        --first-id 1 --count 1000 --src FILE --name NAME [--concurrency 8]

Prints one JSON line: wall seconds, GETs, POSTs, failures and this process's peak RSS (VmHWM).
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import ssl
import sys
import threading
import time
from urllib.parse import urlsplit

_ENTRY = re.compile(rb"<Name>([^<]*)</Name>.*?<SHA1>([0-9a-fA-F]*)</SHA1>", re.S)


def vm_hwm_kib(pid="self"):
    """Peak resident set size (VmHWM) of a process in KiB, or None when unknown."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as stream:
            for line in stream:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Floor:
    """Shared settings plus one keep-alive connection per worker thread."""

    def __init__(self, url, ca_path, username, password, name, data):
        parts = urlsplit(url)
        self.host = parts.hostname
        self.port = parts.port
        self.context = ssl.create_default_context(cafile=ca_path)
        token = base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")
        self.authorization = "Basic " + token
        self.name = name
        self.name_xml = name.encode("utf-8")
        self.data = data
        self.sha1 = hashlib.sha1(data).hexdigest()
        self.local = threading.local()
        self.lock = threading.Lock()
        self.gets = 0
        self.posts = 0
        self.failures = []

    def connection(self):
        if getattr(self.local, "connection", None) is None:
            self.local.connection = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=60)
        return self.local.connection

    def request(self, method, path, body=None, headers=None):
        connection = self.connection()
        all_headers = {"Authorization": self.authorization}
        all_headers.update(headers or {})
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            self.local.connection = None
            raise

    def present(self, listing):
        for name, sha1 in _ENTRY.findall(listing):
            if name == self.name_xml and sha1.decode("ascii").lower() == self.sha1:
                return True
        return False

    def stage(self, computer_id):
        path = f"/api/mailbox/{computer_id}"
        status, body = self.request("GET", path)
        with self.lock:
            self.gets += 1
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}")
        if self.present(body):
            return
        status, body = self.request("POST", path, body=self.data, headers={
            "Content-Disposition": f'attachment; filename="{self.name}"',
            "Content-Type": "application/octet-stream"})
        with self.lock:
            self.posts += 1
        if status != 200:
            raise RuntimeError(f"POST {path}: HTTP {status}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca-path", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password-env", default="BIGFIX_PASSWORD", help="environment variable holding the password")
    parser.add_argument("--first-id", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--src", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    with open(args.src, "rb") as stream:
        data = stream.read()
    floor = Floor(args.url, args.ca_path, args.username, os.environ[args.password_env], args.name, data)
    computers = iter(range(args.first_id, args.first_id + args.count))
    lock = threading.Lock()

    # Plain worker threads taking the next computer from a shared iterator, as the modules' fan-out
    # does: a future per computer would cost the floor more CPU than the modules spend.
    def work():
        while True:
            with lock:
                computer_id = next(computers, None)
            if computer_id is None:
                return
            try:
                floor.stage(computer_id)
            except (RuntimeError, OSError, http.client.HTTPException) as exc:
                with lock:
                    floor.failures.append(str(exc))

    workers = [threading.Thread(target=work) for unused in range(args.concurrency)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    print(json.dumps({"wall": wall, "gets": floor.gets, "posts": floor.posts, "failures": len(floor.failures),
                      "first_failures": floor.failures[:3], "peak_rss_kib": vm_hwm_kib()}))
    return 1 if floor.failures else 0


if __name__ == "__main__":
    sys.exit(main())
