"""The emulator process: command line, ready line, TLS, quietness, signals, and the launcher."""

import json
import os
import signal
import subprocess
import sys

import pytest
import requests

from tests.emulator.__main__ import parse_args
from tests.emulator.launcher import REPO_ROOT, Emulator, EmulatorError
from tests.emulator.tests.helpers import DEMO_FLEET, MASTER, Client, besapi_root

SMALL_FLEET = {"operators": [{"name": "op", "password": "pw", "master": True}], "computers": [{"id": 1, "name": "one"}]}


def run_emulator(*args, timeout=30):
    return subprocess.run([sys.executable, "-m", "tests.emulator", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_help_documents_the_flags():
    result = run_emulator("--help")
    assert result.returncode == 0
    for flag in ("--fleet", "--host", "--port", "--tls-dir", "--verbose"):
        assert flag in result.stdout


def test_defaults():
    args = parse_args(["--fleet", "fleet.yml"])
    assert (args.host, args.port, args.tls_dir, args.verbose) == ("127.0.0.1", 52311, None, False)


def test_invalid_fleet_is_rejected_naming_the_field(tmp_path):
    fleet = tmp_path / "bad.yml"
    fleet.write_text("operators:\n  - name: op\n    password: pw\n    master: maybe\n", encoding="utf-8")
    result = run_emulator("--fleet", str(fleet), "--port", "0")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "operators[0].master" in result.stderr
    with pytest.raises(EmulatorError, match=r"computers\[0\]\.id"):
        Emulator({"operators": SMALL_FLEET["operators"], "computers": [{"name": "no id"}]}).start()


def test_ready_line_tls_and_clean_sigterm():
    process = subprocess.Popen([sys.executable, "-m", "tests.emulator", "--fleet", str(DEMO_FLEET), "--port", "0"],
                               cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(process.stdout.readline())
        assert set(ready) == {"url", "ca_path"}
        assert ready["url"].startswith("https://127.0.0.1:")
        port = int(ready["url"].rsplit(":", 1)[1])
        assert port not in (0, 52311)
        with open(ready["ca_path"], encoding="ascii") as pem:
            assert pem.read().startswith("-----BEGIN CERTIFICATE-----")
        session = requests.Session()
        assert session.get(ready["url"] + "/api/login", auth=MASTER, verify=ready["ca_path"], timeout=10).text == "ok"
        assert session.get(f"https://localhost:{port}/api/login", auth=MASTER, verify=ready["ca_path"], timeout=10).ok
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(ready["url"] + "/api/login", auth=MASTER, verify=True, timeout=10)
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/api/login", auth=MASTER, timeout=10)
        # The keep-alive connection of `session` stays open while the emulator stops.
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stdout.read() == ""
        stderr = process.stderr.read()
        assert "Traceback" not in stderr
        assert not os.path.exists(ready["ca_path"])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_sigint_exits_zero():
    emulator = Emulator(SMALL_FLEET).start()
    emulator.process.send_signal(signal.SIGINT)
    assert emulator.process.wait(timeout=10) == 0
    assert "Traceback" not in emulator.stderr_text()
    emulator.stop()


def test_quiet_by_default_and_verbose_logs_requests():
    with Emulator(SMALL_FLEET) as quiet:
        client = Client(quiet, ("op", "pw"))
        besapi_root(client.get("/api/computers"))
        client.get("/api/computers", auth=None)
        quiet.configure(faults={"fraction_reset": 1.0})
        for unused_request in range(2):
            with pytest.raises(requests.exceptions.ConnectionError):
                requests.get(quiet.url + "/api/computers", auth=("op", "pw"), verify=quiet.ca_path, timeout=10)
        assert quiet.stop() == 0
        assert quiet.stderr_text() == ""
    with Emulator(SMALL_FLEET, extra_args=["--verbose"]) as verbose:
        Client(verbose, ("op", "pw")).get("/api/computers")
        assert verbose.stop() == 0
        assert '"GET /api/computers HTTP/1.1" 200' in verbose.stderr_text()


def test_tls_dir_is_created_then_reused(tmp_path):
    tls_dir = tmp_path / "tls"
    with Emulator(SMALL_FLEET, tls_dir=tls_dir) as first:
        assert first.ca_path == str(tls_dir / "ca.pem")
        Client(first, ("op", "pw")).get("/api/login").raise_for_status()
    files = {name: (tls_dir / name).read_bytes() for name in ("ca.pem", "server.pem", "server-key.pem")}
    with Emulator(SMALL_FLEET, tls_dir=tls_dir) as second:
        Client(second, ("op", "pw")).get("/api/login").raise_for_status()
    assert {name: (tls_dir / name).read_bytes() for name in files} == files


def test_launcher_accepts_a_dict_fleet_and_reports_a_dead_process():
    with Emulator(SMALL_FLEET) as emulator:
        assert emulator.stats()["total"] == 0
        fleet_file = emulator.process.args[emulator.process.args.index("--fleet") + 1]
        assert os.path.exists(fleet_file)
    assert not os.path.exists(fleet_file)
    assert emulator.process.returncode == 0
    with pytest.raises(EmulatorError, match="exited with status 2"):
        Emulator("/nonexistent/fleet.yml").start()
