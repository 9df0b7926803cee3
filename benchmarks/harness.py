"""What every way shares: the generated fleet, the emulator, the environment of ansible, and
running one measured command.

Each measurement gets a fresh emulator (a generated fleet starts in well under a second), so a
first run really uploads and a rerun finds exactly what the first run left.
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.emulator.launcher import Emulator

REPO = Path(__file__).resolve().parents[1]
HERE = REPO / "benchmarks"
PLAYBOOKS = HERE / "playbooks"
COLLECTIONS = REPO / ".collections"
BIN = Path(sys.executable).parent

USER = "bench"
PASSWORD = "Bench-Passw0rd-9Kq"
SITE = "custom/Bench"
GROUP = "bench-group-1"
FIRST_ID = 1000001
MIB = 1024 * 1024

# The Python that ansible runs a module with when its peak RSS is to be known exactly: it forks,
# execs the real interpreter with the same arguments, and logs the child's ru_maxrss from wait4().
RSS_WRAPPER = """#!{python} -S
import os
import sys
import time

REAL = {python!r}
started = time.monotonic()
pid = os.fork()
if pid == 0:
    os.execv(REAL, [REAL] + sys.argv[1:])
unused, status, usage = os.wait4(pid, 0)
seconds = time.monotonic() - started
log = os.environ.get("BENCH_RSS_LOG")
if log:
    with open(log, "a", encoding="utf-8") as stream:
        name = os.path.basename(sys.argv[1]) if len(sys.argv) > 1 else "-"
        cpu = usage.ru_utime + usage.ru_stime
        stream.write("%d %.3f %.3f %s\\n" % (usage.ru_maxrss, seconds, cpu, name))
sys.exit(os.waitstatus_to_exitcode(status))
"""


class BenchError(RuntimeError):
    """A run failed or counted requests that make its numbers meaningless."""


def fleet(count, store_content=False, group_size=None):
    """A master operator and ``count`` computers (ids from FIRST_ID) in groups of one site.

    ``store_content: false`` keeps only the SHA-1 and size of each upload, so the emulator spends
    no time on disk writes and a 1 GiB file sent four times costs no disk space.
    """
    return {
        "operators": [{"name": USER, "password": PASSWORD, "master": True}],
        "generate": {"computers": count, "group_size": group_size or count, "site": SITE, "first_id": FIRST_ID,
                     "name_prefix": "bench-"},
        "store_content": store_content,
    }


def computer_ids(count):
    return list(range(FIRST_ID, FIRST_ID + count))


def emulator(count, store_content=False):
    """A not yet started Emulator for a generated fleet of ``count`` computers."""
    return Emulator(fleet(count, store_content))


class Workspace:
    """A scratch directory (benchmarks/work by default) with ansible's temporary and home
    directories, extra-vars files, logs and the RSS wrapper."""

    def __init__(self, root=None):
        self.root = Path(root or HERE / "work")
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="run-", dir=self.root))
        self.wrapper = self.tmp / "python-rss"
        self.wrapper.write_text(RSS_WRAPPER.format(python=sys.executable), encoding="utf-8")
        self.wrapper.chmod(self.wrapper.stat().st_mode | stat.S_IXUSR)
        self._serial = 0

    def path(self, name):
        return self.tmp / name

    def remove(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def next_name(self, prefix):
        self._serial += 1
        return "%s-%03d" % (prefix, self._serial)

    def write_json(self, name, data):
        target = self.path(name)
        target.write_text(json.dumps(data), encoding="utf-8")
        return target

    def ansible_env(self, emu):
        """The environment of ansible-playbook: collection paths, BIGFIX_* and private ansible dirs."""
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "PYTHONPATH": str(COLLECTIONS),
            "ANSIBLE_LOCAL_TEMP": str(self.tmp / "ansible-tmp"),
            "ANSIBLE_HOME": str(self.tmp / "ansible-home"),
            "ANSIBLE_REMOTE_TMP": str(self.tmp / "ansible-remote-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_PIPELINING": "0",
            "ANSIBLE_KEEP_REMOTE_FILES": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "BIGFIX_URL": emu.url,
            "BIGFIX_USERNAME": USER,
            "BIGFIX_PASSWORD": PASSWORD,
            "BIGFIX_CA_PATH": emu.ca_path,
        })
        return env

    def playbook_command(self, playbook, extra_vars, exact_rss=True):
        """ansible-playbook on localhost; with ``exact_rss`` modules run under the RSS wrapper."""
        command = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(PLAYBOOKS / playbook),
                   "-e", "@%s" % self.write_json(self.next_name("vars") + ".json", extra_vars)]
        interpreter = self.wrapper if exact_rss else sys.executable
        command += ["-e", json.dumps({"ansible_python_interpreter": str(interpreter)})]
        return command

    def measure(self, command, env, match=None, rss_log=None):
        """Run ``command`` under benchmarks.measure; returns its JSON plus the output file paths
        and, with ``rss_log``, the lines the RSS wrapper wrote."""
        label = self.next_name("cmd")
        stdout, stderr = self.path(label + ".out"), self.path(label + ".err")
        wrapper = [sys.executable, "-m", "benchmarks.measure", "--stdout", str(stdout), "--stderr", str(stderr)]
        if match:
            wrapper += ["--match", match]
        env = dict(env)
        if rss_log is not None:
            env["BENCH_RSS_LOG"] = str(rss_log)
            Path(rss_log).write_text("", encoding="utf-8")
        # benchmarks.measure is imported from the repository root, whatever PYTHONPATH the command needs.
        env["PYTHONPATH"] = os.pathsep.join(part for part in (str(REPO), env.get("PYTHONPATH", "")) if part)
        done = subprocess.run(wrapper + ["--"] + [str(part) for part in command], env=env, cwd=REPO,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BenchError("measure failed: %s" % done.stderr[-2000:])
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["stdout_path"] = str(stdout)
        result["stderr_path"] = str(stderr)
        if rss_log is not None:
            lines = [line.split(" ", 3) for line in Path(rss_log).read_text(encoding="utf-8").splitlines() if line]
            # (peak RSS KiB, module file name, seconds the module process lived, its CPU seconds)
            result["wrapped"] = [(int(kib), name, float(seconds), float(cpu)) for kib, seconds, cpu, name in lines]
        return result


def cpu_seconds(pid):
    """User + system CPU seconds a live process has used so far (from /proc/PID/stat)."""
    with open("/proc/%d/stat" % pid, encoding="ascii") as stream:
        fields = stream.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tail(path, chars=3000):
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


def request_counts(stats):
    """(total, GETs, writes, per-route counts) from an emulator stats snapshot."""
    routes = dict(stats["requests"])
    gets = sum(n for key, n in routes.items() if key.startswith("GET "))
    return stats["total"], gets, stats["total"] - gets, routes


def make_payload(path, size, seed=b"bigfix.core benchmark"):
    """A file of ``size`` bytes that does not compress: one MiB of SHA-512 output, repeated with
    its first 8 bytes set to the MiB's index so that no two MiB are equal."""
    block = bytearray()
    counter = 0
    while len(block) < min(size, MIB):
        block += hashlib.sha512(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    block = bytes(block[:MIB])
    with open(path, "wb") as stream:
        left = size
        index = 0
        while left > 0:
            chunk = index.to_bytes(8, "big") + block[8:]
            stream.write(chunk[:left])
            left -= min(left, len(chunk))
            index += 1
    return path
