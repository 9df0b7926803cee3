"""Fixtures for the integration tests: one emulated BigFix server and an ansible runner."""

import base64
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.emulator.launcher import Emulator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FLEET = HERE / "fleet.yml"


def operator(name):
    """The fleet's entry for one operator."""
    return next(op for op in yaml.safe_load(FLEET.read_text(encoding="utf-8"))["operators"] if op["name"] == name)


@pytest.fixture(scope="session")
def emulator():
    with Emulator(FLEET) as emu:
        yield emu


@pytest.fixture(scope="session")
def secrets():
    """Texts that must never appear in any output: the password and its Basic token."""
    admin = operator("ansible")
    token = base64.b64encode(("%s:%s" % (admin["name"], admin["password"])).encode("utf-8")).decode("ascii")
    return [admin["password"], token]


@pytest.fixture
def ansible_env(emulator, tmp_path):
    """The environment of an ansible command: the BIGFIX_* connection and a private ansible home."""
    admin = operator("ansible")
    env = dict(os.environ)
    env.update({
        "BIGFIX_URL": emulator.url,
        "BIGFIX_USERNAME": admin["name"],
        "BIGFIX_PASSWORD": admin["password"],
        "BIGFIX_CA_PATH": emulator.ca_path,
        "ANSIBLE_ROLES_PATH": str(HERE / "targets"),
        "ANSIBLE_INVENTORY": str(HERE / "inventory.ini"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    })
    return env


def run(command, env, cwd=REPO):
    """Run an ansible command; its output is returned, not checked."""
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
