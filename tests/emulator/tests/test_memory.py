"""Large uploads stream to disk (or only to a hash): the emulator's memory must not grow with them."""

import hashlib
import os

import pytest

from tests.emulator.launcher import Emulator
from tests.emulator.tests.helpers import Client, entry_named, mailbox_entries

MIB = 1024 * 1024
UPLOAD_SIZE = 50 * MIB
# Holding the upload once would raise the peak by 50 MiB; streaming costs a few 64 KiB chunks.
ALLOWED_GROWTH = 16 * MIB


def memory_kib(pid, field):
    """VmRSS or VmHWM (peak resident set) of a process, in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} not in /proc/{pid}/status")


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """A 50 MiB file and its SHA-1."""
    path = tmp_path_factory.mktemp("big") / "big.bin"
    block = os.urandom(MIB)
    digest = hashlib.sha1()
    with open(path, "wb") as stream:
        for index in range(UPLOAD_SIZE // MIB):
            chunk = bytes([index]) + block[1:]
            stream.write(chunk)
            digest.update(chunk)
    return path, digest.hexdigest()


def upload_and_measure(client, pid, computer_id, name, send):
    """Run ``send`` after a warm-up request; return the mailbox entry and the peak RSS growth."""
    client.upload(computer_id, "warm-up.txt", b"warm up")
    baseline = memory_kib(pid, "VmRSS")
    response = send()
    growth = memory_kib(pid, "VmHWM") - baseline
    return entry_named(mailbox_entries(response), name), growth


def test_raw_upload_streams(emulator, master, big_file):
    path, sha1 = big_file
    with open(path, "rb") as stream:
        entry, growth = upload_and_measure(master, emulator.pid, 1018, "big-raw.bin", lambda: master.post(
            "/api/mailbox/1018", data=stream, headers={"Content-Disposition": 'attachment; filename="big-raw.bin"'}))
    assert entry["size"] == UPLOAD_SIZE
    assert entry["sha1"] == sha1
    assert growth < ALLOWED_GROWTH, f"peak RSS grew by {growth / MIB:.1f} MiB"


def test_multipart_upload_streams(emulator, master, big_file):
    path, sha1 = big_file
    with open(path, "rb") as stream:
        entry, growth = upload_and_measure(master, emulator.pid, 1019, "big-multipart.bin", lambda: master.post(
            "/api/mailbox/1019", files=[("file", ("big-multipart.bin", stream))]))
    assert entry["size"] == UPLOAD_SIZE
    assert entry["sha1"] == sha1
    assert growth < ALLOWED_GROWTH, f"peak RSS grew by {growth / MIB:.1f} MiB"


def test_hash_only_mode_without_stored_content(big_file):
    path, sha1 = big_file
    fleet = {"store_content": False, "operators": [{"name": "op", "password": "pw", "master": True}],
             "computers": [{"id": 7, "name": "seven"}],
             "mailbox_files": [{"computer": 7, "name": "seeded.txt", "content": "seed"}]}
    with Emulator(fleet) as emulator, open(path, "rb") as stream:
        client = Client(emulator, ("op", "pw"))
        entry, growth = upload_and_measure(client, emulator.pid, 7, "hash-only.bin", lambda: client.post(
            "/api/mailbox/7", data=stream, headers={"Content-Disposition": 'attachment; filename="hash-only.bin"'}))
        assert entry["sha1"] == sha1
        assert growth < ALLOWED_GROWTH
        entries = mailbox_entries(client.delete(f"/api/mailbox/7/{entry['id']}"))
        assert [item["name"] for item in entries] == ["seeded.txt", "warm-up.txt"]
        assert entries[0]["sha1"] == hashlib.sha1(b"seed").hexdigest()
