"""Run each integration target with ansible-playbook -vvvv against the emulator."""

import hashlib
import json
import sys
from pathlib import Path

import pytest
import requests
from lxml import etree

from .conftest import HERE, operator, run

BIN = Path(sys.executable).parent


def vault_file(tmp_path, env):
    """A vault-encrypted file, its password file and the SHA-1 of its plain text."""
    plain = b"decrypted before upload\n"
    source = tmp_path / "secret.txt"
    source.write_bytes(plain)
    password_file = tmp_path / "vault-password"
    password_file.write_text("vault-pass-for-tests\n", encoding="utf-8")
    result = run([str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password_file), str(source)], env)
    assert result.returncode == 0, result.stderr
    assert source.read_bytes().startswith(b"$ANSIBLE_VAULT")
    return source, password_file, hashlib.sha1(plain).hexdigest()


def group_id(emulator, name):
    """The ID the emulator gave a generated group, read through the API."""
    admin = operator("ansible")
    response = requests.get(emulator.url + "/api/computergroups/custom/Integration", auth=(admin["name"], admin["password"].encode("utf-8")),
                            verify=emulator.ca_path, timeout=30)
    response.raise_for_status()
    root = etree.fromstring(response.content)
    return next(int(group.findtext("ID")) for group in root.findall("ComputerGroup") if group.findtext("Name") == name)


@pytest.mark.parametrize("target", ["bigfix_mailbox_file", "bigfix_mailbox_info", "bigfix_computer_group_info", "mailbox_stage"])
def test_target(target, emulator, ansible_env, secrets, tmp_path):
    source, password_file, sha1 = vault_file(tmp_path, ansible_env)
    extra = {"target": target, "emulator_url": emulator.url, "emulator_ca": emulator.ca_path,
             "vaulted_src": str(source), "vaulted_sha1": sha1, "group_one_id": group_id(emulator, "gen-group-1")}
    result = run([str(BIN / "ansible-playbook"), "-vvvv", "--vault-password-file", str(password_file),
                  "-e", json.dumps(extra), str(HERE / "run_target.yml")], ansible_env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "failed=0" in result.stdout
    for secret in secrets:
        assert secret not in output, "a credential leaked into the -vvvv output"


def test_adhoc_command(emulator, ansible_env):
    """The README's ad-hoc command works with only BIGFIX_* exported, and its rerun changes nothing."""
    command = [str(BIN / "ansible"), "localhost", "-m", "bigfix.core.bigfix_mailbox_file",
               "-a", "computer_id=1590 name=hello.txt content=hi"]
    emulator.reset_stats()
    first = run(command, ansible_env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "localhost | CHANGED" in first.stdout
    assert '"action": "created"' in first.stdout
    second = run(command, ansible_env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "localhost | SUCCESS" in second.stdout
    assert '"action": "unchanged"' in second.stdout
    requests = emulator.stats()["requests"]
    assert requests.get("POST /api/mailbox/{cid}") == 1
    assert requests.get("GET /api/mailbox/{cid}") == 2


@pytest.mark.parametrize("computer_id, options, copied", [
    (1201, [], False),
    # Asynchronous tasks outlive the action, so the file travels to the task's temporary directory.
    (1202, ["-B", "60", "-P", "1"], True),
])
def test_src_is_copied_only_when_the_module_cannot_read_it_in_place(emulator, ansible_env, tmp_path,
                                                                    computer_id, options, copied):
    source = tmp_path / "payload.bin"
    source.write_bytes(b"read in place\n" * 1000)
    command = [str(BIN / "ansible"), "localhost", "-vvv", "-m", "bigfix.core.bigfix_mailbox_file",
               "-a", "computer_id=%d src=%s" % (computer_id, source)] + options
    emulator.reset_stats()
    result = run(command, ansible_env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "CHANGED" in result.stdout
    assert ("/mailbox-source" in output) is copied, output[-6000:]
    assert emulator.stats()["requests"].get("POST /api/mailbox/{cid}") == 1
    admin = operator("ansible")
    listing = requests.get("%s/api/mailbox/%d" % (emulator.url, computer_id), verify=emulator.ca_path, timeout=30,
                           auth=(admin["name"], admin["password"].encode("utf-8")))
    listing.raise_for_status()
    files = etree.fromstring(listing.content).findall("ComputerMailboxFile")
    assert [f.findtext("SHA1").lower() for f in files if f.findtext("Name") == "payload.bin"] == [
        hashlib.sha1(source.read_bytes()).hexdigest()]
