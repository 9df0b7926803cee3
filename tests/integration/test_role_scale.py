"""The role against a 2,000-computer group: one module call per file, and an unchanged rerun."""

import os
import re
import sys
import time
from pathlib import Path

import pytest

from tests.emulator.launcher import Emulator

from .conftest import HERE, REPO, run

PASSWORD = "Large-Group-Operator-8Hq3"
FLEET = {
    "seed": 3,
    "operators": [{"name": "ansible", "password": PASSWORD, "master": True}],
    "generate": {"computers": 2000, "group_size": 2000, "site": "custom/Large", "first_id": 100001, "name_prefix": "large-"},
    "store_content": False,
}


@pytest.fixture(scope="module")
def large_emulator():
    with Emulator(FLEET) as emu:
        yield emu


def stage(emulator):
    env = dict(os.environ, BIGFIX_URL=emulator.url, BIGFIX_USERNAME="ansible", BIGFIX_PASSWORD=PASSWORD,
               BIGFIX_CA_PATH=emulator.ca_path, ANSIBLE_INVENTORY=str(HERE / "inventory.ini"), ANSIBLE_NOCOLOR="1")
    started = time.monotonic()
    result = run([str(Path(sys.executable).parent / "ansible-playbook"), str(HERE / "stage_2000.yml")], env, cwd=REPO)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout, elapsed


def module_calls(output):
    """The items of the role's staging task, as the playbook output shows them."""
    section = output.split("Stage each file to every target computer", 1)[1].split("TASK [", 1)[0]
    return re.findall(r"^(ok|changed): \[localhost\] => \(item=(.+?) \(present\)\)", section, re.MULTILINE)


def test_two_files_to_2000_computers(large_emulator, capsys):
    first, first_seconds = stage(large_emulator)
    assert module_calls(first) == [("changed", "large-group-a.txt"), ("changed", "large-group-b.txt")]
    assert '"computers_targeted": 2000' in first
    assert first.count('"created": 2000') == 2
    stats = large_emulator.stats()["requests"]
    assert stats["POST /api/mailbox/{cid}"] == 4000
    assert stats["GET /api/mailbox/{cid}"] == 4000
    large_emulator.reset_stats()

    second, second_seconds = stage(large_emulator)
    assert module_calls(second) == [("ok", "large-group-a.txt"), ("ok", "large-group-b.txt")]
    assert second.count('"unchanged": 2000') == 2
    stats = large_emulator.stats()["requests"]
    assert stats["GET /api/mailbox/{cid}"] == 4000
    assert not [key for key in stats if key.split()[0] in ("POST", "PUT", "DELETE")]
    with capsys.disabled():
        print("\nrole, two files to 2,000 computers: first run %.1f s, rerun %.1f s" % (first_seconds, second_seconds))
