"""Start and drive an emulator process from tests and benchmarks.

    with Emulator("tests/emulator/fleets/demo.yml") as emu:
        requests.get(emu.url + "/api/computers", auth=("bigfix", "bigfix"), verify=emu.ca_path)
        emu.configure(duplicate_name_policy="reject")
        print(emu.stats()["total"])
"""

import http.client
import json
import os
import queue
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 15
STOP_TIMEOUT = 10


class EmulatorError(RuntimeError):
    """The emulator did not start, or a control request failed."""


class Emulator:
    """An emulator subprocess; ``fleet`` is a YAML path or a dict (written to a temporary file)."""

    def __init__(self, fleet, tls_dir=None, extra_args=()):
        self.fleet = fleet
        self.tls_dir = tls_dir
        self.extra_args = tuple(extra_args)
        self.url = None
        self.ca_path = None
        self.process = None
        self._fleet_file = None
        self._stderr = None
        self._ssl_context = None

    @property
    def pid(self):
        """Process id of the running emulator."""
        return self.process.pid

    def start(self):
        """Start the process and wait (START_TIMEOUT seconds at most) for its JSON line."""
        if isinstance(self.fleet, dict):
            with tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="fleet-", delete=False, encoding="utf-8") as stream:
                yaml.safe_dump(self.fleet, stream)
            self._fleet_file = stream.name
            fleet_path = stream.name
        else:
            fleet_path = str(self.fleet)
        command = [sys.executable, "-m", "tests.emulator", "--fleet", fleet_path, "--port", "0"]
        if self.tls_dir is not None:
            command += ["--tls-dir", str(self.tls_dir)]
        command += self.extra_args
        # stderr goes to a file: a chatty emulator must never block on a full pipe.
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=self._stderr)
        lines = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            self.process.kill()
            self.process.wait()
            self._cleanup()
            raise EmulatorError(f"emulator did not start within {START_TIMEOUT} s; stderr:\n{self.stderr_text()}") from None
        if not line:
            self.process.wait()
            self._cleanup()
            raise EmulatorError(f"emulator exited with status {self.process.returncode}; stderr:\n{self.stderr_text()}")
        ready = json.loads(line)
        self.url = ready["url"]
        self.ca_path = ready["ca_path"]
        self._ssl_context = ssl.create_default_context(cafile=self.ca_path)
        return self

    def stop(self):
        """SIGTERM the process and wait for it; returns its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._cleanup()
        return self.process.returncode

    def stderr_text(self):
        """Everything the emulator wrote to stderr so far."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", errors="replace")

    def _cleanup(self):
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self._fleet_file is not None:
            os.unlink(self._fleet_file)
            self._fleet_file = None

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc_value, traceback):
        self.stop()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # Control endpoints ------------------------------------------------------------------------------

    def _control(self, method, path, payload=None):
        parts = urlsplit(self.url)
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, context=self._ssl_context, timeout=30)
        try:
            body = None if payload is None else json.dumps(payload).encode("utf-8")
            headers = {} if body is None else {"Content-Type": "application/json"}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise EmulatorError(f"{method} {path}: HTTP {response.status}: {data.decode('utf-8', errors='replace')}")
        return json.loads(data)

    def stats(self):
        """The ``/_emulator/stats`` counters."""
        return self._control("GET", "/_emulator/stats")

    def reset_stats(self):
        """Zero the counters."""
        return self._control("POST", "/_emulator/reset")

    def configure(self, **switches):
        """Change run-time switches (duplicate_name_policy, out_of_scope_status, session_idle_timeout,
        faults={...}, seed); returns the resulting switches."""
        return self._control("POST", "/_emulator/config", switches)

    def expire_sessions(self):
        """Expire every session token; returns how many there were."""
        return self._control("POST", "/_emulator/expire-sessions")["expired"]
