# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input, property-based: file names, computer IDs, ``src`` and ``content``.

Each input either works (the mailbox then holds exactly that name with exactly those bytes) or
fails with a message naming the field at fault, and invalid input never reaches the server: the
emulator's counters stay at zero. Names and IDs go through the module's ``main()`` with Ansible's
own argument handling; ``src`` goes through ansible-playbook, where the action plugin resolves it.
"""

from __future__ import annotations

import hashlib
import os
import sys
import unicodedata
from collections import Counter, defaultdict
from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings, strategies as st

from ansible_collections.bigfix.core.plugins.module_utils import arguments
from ansible_collections.bigfix.core.plugins.module_utils.mailbox import MAX_COMPUTER_ID
from ansible_collections.bigfix.core.plugins.modules import bigfix_mailbox_file
from tests.emulator.launcher import Emulator

from .conftest import (
    ansible_env, computer_ids, copies, fleet, module_args, playbook_command, read_json, record, run,
    run_module, save_task, write_playbook,
)

KNOWN = computer_ids(40)
PROPERTY = hypothesis_settings(max_examples=60, derandomize=True, deadline=None, database=None,
                               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
# Characters that break quoting, paths, headers or XML, plus a few scripts and emoji.
SPECIAL = ' \t"\'/\\;:=%&<>*?|.,_-~`$#@!()[]{}\u00a0\u0085\u200b\u200e\u2028\u202e\ufeff\ufffe\uffff\u00e9\u4e2d\u0634\U0001f600x'
NAMES = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=24),
    st.text(st.sampled_from(SPECIAL), min_size=1, max_size=12),
    st.text(st.characters(min_codepoint=0x80, exclude_categories=("Cs",)), min_size=60, max_size=140),
    st.text(st.sampled_from("abc.-_"), min_size=240, max_size=320),
)


def name_problem(name):
    """Why the module must refuse ``name`` before any request, or None when it must work."""
    if name in ("", ".", ".."):
        return "empty or a directory reference"
    if any(char in name for char in '/\\"'):
        return "a path separator or a double quote"
    if any(unicodedata.category(char) in ("Cc", "Cs") or char in "\ufffe\uffff" for char in name):
        return "a control character or a character XML cannot carry"
    if name.startswith("__") or name.lower().endswith(".fxf"):
        return "reserved by BigFix"
    if len(name.encode("utf-8")) > 255:
        return "longer than 255 bytes"
    return None


@pytest.fixture(scope="module")
def emulator():
    with Emulator(fleet(len(KNOWN))) as emu:
        yield emu


@pytest.fixture(scope="module")
def tally():
    """Per property, how many generated examples worked and how many were refused; recorded at the end."""
    counts = defaultdict(Counter)
    yield counts
    for prop, outcomes in sorted(counts.items()):
        record("hostile input: %s" % prop, examples=sum(outcomes.values()), **dict(sorted(outcomes.items())))


def stage(emu, **args):
    """Reset the counters, run bigfix_mailbox_file's main() with ``args``; returns (code, result, requests)."""
    emu.reset_stats()
    code, result, unused_raw = run_module(bigfix_mailbox_file.main, module_args(emu.url, emu.ca_path, retries=0, **args))
    return code, result, emu.stats()["total"]


@PROPERTY
@given(name=NAMES)
@example(name="")
@example(name="with spaces in it.txt")
@example(name=" leading and trailing ")
@example(name='double"quote.txt')
@example(name="single'quote.txt")
@example(name="semi;colon=equals.txt")
@example(name="dir/file.txt")
@example(name="dir\\file.txt")
@example(name="..")
@example(name="__BESData")
@example(name="fixlet.FXF")
@example(name="x" * 255)
@example(name="x" * 256)
@example(name="x" * 300)
@example(name="\u00e9" * 128)
@example(name="\u4e2d\u6587\u6587\u4ef6\u540d.txt")
@example(name="emoji-\U0001f600.txt")
@example(name="rtl-\u202egnp.exe")
@example(name="tab\there.txt")
@example(name="line\u0085break.txt")
@example(name="not-xml-\ufffe.txt")
@example(name="%2F-encoded.txt")
def test_file_names(emulator, tally, name):
    cid = KNOWN[len(name) % len(KNOWN)]
    content = "content for %r\n" % name
    code, result, requests = stage(emulator, computer_id=cid, name=name, content=content)
    problem = name_problem(name)
    if problem:
        assert code == 1, "a name that is %s was accepted: %r" % (problem, name)
        assert result["msg"].startswith("name "), result["msg"]
        assert requests == 0, "an invalid name (%s) reached the server: %r" % (problem, name)
        tally["file names"]["refused before any request"] += 1
        return
    assert code == 0, result["msg"]
    assert result["name"] == name
    sha1 = hashlib.sha1(content.encode("utf-8")).hexdigest()
    held = copies(emulator.url, emulator.ca_path, [cid], name)[cid]
    assert [(entry.name, entry.sha1) for entry in held] == [(name, sha1)]
    tally["file names"]["worked"] += 1


def as_computer_id(value):
    """What Ansible's ``int`` type makes of ``value`` (None when it refuses it); bools are refused by the module."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, (float, str)):
        try:
            number = Decimal(value)
            return int(number) if number == int(number) else None
        except (InvalidOperation, ValueError):
            return None
    return None


def convertible(value):
    """ansible-core itself crashes on infinities (OverflowError) and takes forever on 1e999999999: not ours to test."""
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else None
    except InvalidOperation:
        return True
    return number is None or (number.is_finite() and number.adjusted() < 100) or number.is_nan()


ID_VALUES = st.one_of(
    st.integers(),
    st.sampled_from(KNOWN),
    st.integers(min_value=MAX_COMPUTER_ID - 2, max_value=MAX_COMPUTER_ID + 2),
    st.integers(min_value=-3, max_value=1),
    st.floats(allow_infinity=False),
    st.booleans(),
    st.text(max_size=12).filter(convertible),
    st.from_regex(r"\A\s?[-+]?[0-9]{1,12}(\.0+)?\s?\Z"),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
)


@PROPERTY
@given(value=ID_VALUES)
@example(value=-1)
@example(value=0)
@example(value=2 ** 63)
@example(value=10 ** 30)
@example(value="1001")
@example(value=" 1002 ")
@example(value="abc")
@example(value="")
@example(value="12abc")
@example(value="1e3")
@example(value="0x10")
@example(value=1003.0)
@example(value=1.5)
@example(value=True)
@example(value=[1001])
def test_computer_ids(emulator, tally, value):
    code, result, requests = stage(emulator, computer_id=value, name="ids.txt", content="x")
    wanted = as_computer_id(value)
    if wanted is None or not 1 <= wanted <= MAX_COMPUTER_ID:
        assert code == 1, "computer_id %r was accepted" % (value,)
        assert "computer_id" in result["msg"], result["msg"]
        assert requests == 0
        tally["computer_id"]["refused before any request"] += 1
    elif wanted in KNOWN:
        assert code == 0, result["msg"]
        assert [entry["computer_id"] for entry in result["results"]] == [wanted]
        tally["computer_id"]["worked"] += 1
    else:
        tally["computer_id"]["valid but unknown to the server (404)"] += 1
        assert code == 1
        assert result["msg"] == "1 of 1 computers failed: computer %d: GET /api/mailbox/%d: HTTP 404: (empty body) " \
                                "(hint: the computer, file or group does not exist, or the operator cannot see it)" % (wanted, wanted)
        assert requests == 1


@PROPERTY
@given(values=st.lists(ID_VALUES, max_size=4))
@example(values=[])
@example(values=[1001, 1001, "1001"])
@example(values=[1002, -5])
@example(values=[1003, "many"])
def test_computer_lists(emulator, tally, values):
    code, result, requests = stage(emulator, computers=values, name="lists.txt", content="x")
    wanted = [as_computer_id(value) for value in values]
    if not values or any(number is None or not 1 <= number <= MAX_COMPUTER_ID for number in wanted):
        assert code == 1
        assert "computers" in result["msg"], result["msg"]
        assert requests == 0
        tally["computers"]["refused before any request"] += 1
        return
    unique = list(dict.fromkeys(wanted))
    assert [entry["computer_id"] for entry in result["results"]] == unique
    unknown = [number for number in unique if number not in KNOWN]
    assert code == (1 if unknown else 0), result["msg"]
    assert result["counts"]["failed"] == len(unknown)
    tally["computers"]["some unknown to the server (404)" if unknown else "worked"] += 1


@PROPERTY
@given(text=st.text(st.characters(exclude_categories=("Cs",)), max_size=200))
@example(text="")
@example(text="\x00\x01\x02\x7f")
@example(text="\r\n\r\n--boundary--\r\n")
@example(text="\ufeffBOM and \U0001f600")
def test_content_strings(emulator, tally, text):
    """Any Unicode text: the mailbox holds exactly its UTF-8 bytes."""
    cid = KNOWN[len(text) % len(KNOWN)]
    name = "content-%d.txt" % len(text)
    code, result, unused_requests = stage(emulator, computer_id=cid, name=name, content=text)
    data = text.encode("utf-8")
    assert code == 0, result["msg"]
    assert (result["sha1"], result["size"]) == (hashlib.sha1(data).hexdigest(), len(data))
    held = copies(emulator.url, emulator.ca_path, [cid], name)[cid]
    assert [(entry.sha1, entry.size) for entry in held] == [(hashlib.sha1(data).hexdigest(), len(data))]
    tally["content (Unicode text)"]["worked"] += 1


class FakeModule:
    """What ``run_with_client`` needs of AnsibleModule, for strings AnsibleModule itself cannot log."""

    def __init__(self, params):
        spec = arguments.argument_spec(arguments.TARGET_SPEC, arguments.CONCURRENCY_SPEC, bigfix_mailbox_file.MODULE_OPTIONS)
        self.params = {key: option.get("default") for key, option in spec.items()}
        self.params.update(params)
        self.check_mode = False
        self._diff = False
        self.failed = None
        self.no_log_values = set()

    def warn(self, warning):
        """Ignored."""

    def fail_json(self, **result):
        self.failed = result
        raise SystemExit(1)


@PROPERTY
@given(data=st.binary(max_size=300))
@example(data=b"\xff\xfe\x00\x80")
@example(data="é".encode("latin-1"))
def test_content_bytes_through_surrogateescape(emulator, tally, data):
    """Bytes that are not UTF-8 reach the module as surrogate escapes; exactly those bytes are uploaded."""
    cid = KNOWN[len(data) % len(KNOWN)]
    name = "bytes-%d.bin" % len(data)
    module = FakeModule(module_args(emulator.url, emulator.ca_path, computer_id=cid, name=name,
                                    content=data.decode("utf-8", errors="surrogateescape")))
    result = arguments.run_with_client(module, bigfix_mailbox_file.run)
    assert result["sha1"] == hashlib.sha1(data).hexdigest() and result["size"] == len(data)
    held = copies(emulator.url, emulator.ca_path, [cid], name)[cid]
    assert [entry.sha1 for entry in held] == [hashlib.sha1(data).hexdigest()]
    tally["content (any bytes, surrogate-escaped)"]["worked"] += 1


@PROPERTY
@given(text=st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDC7F), min_size=1, max_size=3))
def test_content_that_is_not_unicode_is_refused(emulator, tally, text):
    """A lone surrogate that no byte maps to cannot be sent: refused, naming content, before any request."""
    emulator.reset_stats()
    module = FakeModule(module_args(emulator.url, emulator.ca_path, computer_id=KNOWN[0], name="bad.txt", content="ok" + text))
    with pytest.raises(SystemExit):
        arguments.run_with_client(module, bigfix_mailbox_file.run)
    assert module.failed["msg"].startswith("content "), module.failed["msg"]
    assert emulator.stats()["total"] == 0
    tally["content (lone surrogates)"]["refused before any request"] += 1


# --- src through ansible-playbook --------------------------------------------------------------------------------

DROP_FILE_CAPABILITIES = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH: root then obeys file modes
    if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
        sys.exit("cannot drop capability %d: errno %d" % (capability, ctypes.get_errno()))
os.execv(sys.argv[1], sys.argv[1:])
"""


def src_cases(tmp_path):
    """(label, src, expected) where expected is None for a failure naming src, else the content uploaded."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "empty.txt").write_bytes(b"")
    (files / "target.txt").write_bytes(b"behind a symlink\n")
    (files / "unreadable.txt").write_bytes(b"secret\n")
    (files / "unreadable.txt").chmod(0)
    (files / "adir").mkdir()
    (files / "link.txt").symlink_to(files / "target.txt")
    (files / "dangling.txt").symlink_to(files / "nowhere.txt")
    (files / "linkdir").symlink_to(files / "adir")
    os.mkfifo(files / "fifo")
    return [
        ("missing", str(files / "missing.txt"), None),
        ("a directory", str(files / "adir"), None),
        ("a directory with a trailing /", str(files / "adir") + "/", None),
        ("unreadable (mode 000)", str(files / "unreadable.txt"), None),
        ("empty", str(files / "empty.txt"), b""),
        ("a symlink to a file", str(files / "link.txt"), b"behind a symlink\n"),
        ("a dangling symlink", str(files / "dangling.txt"), None),
        ("a symlink to a directory", str(files / "linkdir"), None),
        ("an empty string", "", None),
        ("a named pipe", str(files / "fifo"), None),
    ]


def test_src_through_ansible_playbook(emulator, tmp_path):
    cases = src_cases(tmp_path)
    out = tmp_path / "src.json"
    playbook = write_playbook(tmp_path / "src.yml", [
        {"name": "Stage each src",
         "bigfix.core.bigfix_mailbox_file": {"computer_id": KNOWN[-1], "src": "{{ item }}"},
         "loop": [case[1] for case in cases], "register": "staged", "ignore_errors": True},
        save_task("staged", out),
    ])
    command = playbook_command(playbook)
    if os.geteuid() == 0:
        # Root reads a mode-000 file anyway; without these two capabilities it is refused as for anyone else.
        command = [sys.executable, "-c", DROP_FILE_CAPABILITIES] + command
    emulator.reset_stats()
    result = run(command, ansible_env(tmp_path, emulator.url, emulator.ca_path))
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    requests = emulator.stats()["requests"]
    outcomes = read_json(out)["results"]
    assert len(outcomes) == len(cases)
    works = 0
    for (label, src, expected), outcome in zip(cases, outcomes):
        assert outcome["item"] == src
        if expected is None:
            assert outcome.get("failed") is True, (label, outcome.get("msg"))
            assert outcome["msg"].startswith("src "), "src %s: %s" % (label, outcome["msg"])
        else:
            works += 1
            assert outcome.get("failed") is not True, (label, outcome.get("msg"))
            assert outcome["name"] == os.path.basename(src)
            assert (outcome["sha1"], outcome["size"]) == (hashlib.sha1(expected).hexdigest(), len(expected))
    # Only the cases that work reached the server: one listing and one upload each.
    assert requests == {"GET /api/mailbox/{cid}": works, "POST /api/mailbox/{cid}": works}, requests
    record("hostile input: src through ansible-playbook", cases=len(cases), worked=works,
           refused_before_any_request=len(cases) - works)


MODULE_SRC_CASES = ("missing", "a directory", "a directory with a trailing /", "empty", "a symlink to a file",
                    "a dangling symlink", "a symlink to a directory", "an empty string")


def test_src_through_the_module_itself(emulator, tmp_path):
    """The module's own checks, for a src that is already on the managed host."""
    # Unreadable files and named pipes are covered through ansible-playbook, where the controller reads src.
    for label, src, expected in [case for case in src_cases(tmp_path) if case[0] in MODULE_SRC_CASES]:
        code, result, requests = stage(emulator, computer_id=KNOWN[-2], src=src)
        if expected is None:
            assert code == 1, label
            assert result["msg"].startswith(("src ", "name ")), (label, result["msg"])
            assert requests == 0, label
        else:
            assert code == 0, (label, result["msg"])
            assert result["sha1"] == hashlib.sha1(expected).hexdigest()


def test_missing_connection_options_name_the_field(emulator):
    for missing in ("url", "username", "password"):
        emulator.reset_stats()
        args = module_args(emulator.url, emulator.ca_path, computer_id=KNOWN[0], name="a.txt", content="x")
        del args[missing]
        code, result, unused_raw = run_module(bigfix_mailbox_file.main, args)
        assert code == 1
        assert result["msg"].startswith("%s is required" % missing), result["msg"]
        assert emulator.stats()["total"] == 0
