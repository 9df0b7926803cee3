# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the bigfix_mailbox_file module: run() against the in-memory server, and main() end to end."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket

import pytest

from ansible_collections.bigfix.core.plugins.module_utils import mailbox
from ansible_collections.bigfix.core.plugins.modules import bigfix_mailbox_file as module_under_test
from ansible_collections.bigfix.core.plugins.modules.bigfix_mailbox_file import MODULE_OPTIONS, file_name, local_file, run
from ansible_collections.bigfix.core.tests.unit.plugins.fakes import assert_no_secret

TEXT = "Saturday 02:00-04:00 UTC\n"
DATA = TEXT.encode("utf-8")
SHA1 = hashlib.sha1(DATA).hexdigest()
OLD = b"old content"
SECRET = "Zx9-pässwörd-S3cret!"
URL = "https://bigfix.example.com:52311"


def line(data, name="window.txt"):
    """One entry of a diff listing."""
    return "%s sha1=%s size=%d\n" % (name, hashlib.sha1(data).hexdigest(), len(data))


def diffs(result):
    """{computer: (before, after)} from the module's diff list, checking each entry is also in its result."""
    by_computer = {}
    for entry in result["diff"]:
        assert entry["before_header"] == entry["after_header"]
        computer = int(entry["before_header"].rsplit(" ", 1)[1])
        assert next(r for r in result["results"] if r["computer_id"] == computer)["diff"] == entry
        by_computer[computer] = (entry["before"], entry["after"])
    return by_computer


@pytest.fixture
def module(make_module):
    def factory(check_mode=False, diff=False, **params):
        return make_module(MODULE_OPTIONS, check_mode=check_mode, diff=diff, **params)
    return factory


# --- run() ------------------------------------------------------------------------------------------------------

def test_run_uploads_where_missing(server, bigfix, module):
    server.add(2, "window.txt", DATA)
    result = run(module(computers=[1, 2, 3], name="window.txt", content=TEXT), bigfix.client)
    assert result["changed"] is True
    assert (result["name"], result["sha1"], result["size"]) == ("window.txt", SHA1, len(DATA))
    assert result["counts"] == {"created": 2, "updated": 0, "deleted": 0, "unchanged": 1, "failed": 0}
    assert [(r["computer_id"], r["action"], r["changed"]) for r in result["results"]] == [
        (1, "created", True), (2, "unchanged", False), (3, "created", True)]
    assert result["msg"] == "3 computers: 2 created, 1 unchanged"
    assert all(r["file"]["sha1"] == SHA1 and r["file"]["id"] for r in result["results"])
    assert [e["data"] for e in server.mailboxes[1]] == [DATA]
    assert "diff" not in result


def test_run_is_idempotent(server, bigfix, module):
    params = {"computer_id": 1, "name": "window.txt", "content": TEXT}
    assert run(module(**params), bigfix.client)["changed"] is True
    second = run(module(**params), bigfix.client)
    assert second["changed"] is False
    assert second["msg"] == "1 computer: 1 unchanged"
    assert server.writes() == ["POST"]


def test_run_diff_shows_changed_computers_only(server, bigfix, module):
    server.add(1, "window.txt", OLD)
    server.add(1, "other.txt", OLD)
    server.add(2, "window.txt", DATA)
    result = run(module(diff=True, computers=[1, 2, 3], name="window.txt", content=TEXT), bigfix.client)
    assert diffs(result) == {
        1: (line(OLD, "other.txt") + line(OLD), line(OLD, "other.txt") + line(DATA)),
        3: ("", line(DATA)),
    }
    assert "diff" not in result["results"][1]


def test_run_check_mode_predicts_without_writing(server, bigfix, module):
    server.add(1, "window.txt", OLD)
    result = run(module(check_mode=True, diff=True, computers=[1, 2], name="window.txt", content=TEXT), bigfix.client)
    assert server.writes() == []
    assert server.mailboxes[1][0]["data"] == OLD and server.mailboxes[2] == []
    assert result["changed"] is True
    assert [r["action"] for r in result["results"]] == ["updated", "created"]
    assert result["results"][1]["file"] == {"id": None, "name": "window.txt", "sha1": SHA1, "size": len(DATA), "timestamp": None}
    assert diffs(result) == {1: (line(OLD), line(DATA)), 2: ("", line(DATA))}


def test_run_absent_deletes(server, bigfix, module):
    server.add(1, "window.txt", OLD)
    server.add(1, "window.txt", DATA)
    result = run(module(diff=True, computers=[1, 2], name="window.txt", state="absent"), bigfix.client)
    assert server.names(1) == []
    assert result["counts"]["deleted"] == 1 and result["counts"]["unchanged"] == 1
    assert result["name"] == "window.txt" and "sha1" not in result and "size" not in result
    assert result["results"][0]["file"]["sha1"] == hashlib.sha1(OLD).hexdigest()
    assert diffs(result) == {1: (line(OLD) + line(DATA), "")}


def test_run_absent_takes_the_name_from_src(server, bigfix, module):
    server.add(3, "app.conf", OLD)
    result = run(module(computer_id=3, src="/nowhere/files/app.conf", state="absent"), bigfix.client)
    assert result["name"] == "app.conf" and result["changed"] is True
    assert server.names(3) == []


def test_run_uploads_src_under_its_base_name(server, bigfix, module, tmp_path):
    path = tmp_path / "app.conf"
    payload = os.urandom(3000)
    path.write_bytes(payload)
    result = run(module(computer_id=1, src=str(path)), bigfix.client)
    assert result["name"] == "app.conf" and result["sha1"] == hashlib.sha1(payload).hexdigest()
    assert server.mailboxes[1][0]["name"] == "app.conf" and server.mailboxes[1][0]["data"] == payload


def test_run_name_overrides_src(server, bigfix, module, tmp_path):
    path = tmp_path / "local-name.bin"
    path.write_bytes(DATA)
    run(module(computer_id=1, src=str(path), name="remote name é.txt"), bigfix.client)
    assert server.names(1) == ["remote name é.txt"]


def test_run_force_and_put(server, bigfix, module):
    existing = server.add(1, "window.txt", DATA)
    result = run(module(computer_id=1, name="window.txt", content=TEXT, force=True, update_method="put"), bigfix.client)
    assert server.writes() == ["PUT"]
    assert result["results"][0]["action"] == "updated"
    assert result["results"][0]["file"]["id"] == existing["id"]


def test_run_reports_a_failed_computer_and_carries_on(server, bigfix, module):
    result = run(module(computers=[1, 99, 2], name="window.txt", content=TEXT), bigfix.client)
    assert [r["action"] for r in result["results"]] == ["created", "failed", "created"]
    failed = result["results"][1]
    assert failed["changed"] is False and failed["file"] is None
    assert failed["msg"].startswith("computer 99: GET /api/mailbox/99: HTTP 404")
    assert result["counts"]["failed"] == 1
    assert result["msg"] == "3 computers: 2 created, 1 failed"


@pytest.mark.parametrize("report, listed", [
    ("all", [1, 2, 99, 3]),
    ("changes", [1, 99, 3]),
    ("failures", [99]),
])
def test_run_report_selects_the_listed_computers(server, bigfix, module, report, listed):
    server.add(2, "window.txt", DATA)
    result = run(module(computers=[1, 2, 99, 3], name="window.txt", content=TEXT, report=report), bigfix.client)
    assert [r["computer_id"] for r in result["results"]] == listed
    # counts, msg and changed cover every computer whatever is listed
    assert result["counts"] == {"created": 2, "updated": 0, "deleted": 0, "unchanged": 1, "failed": 1}
    assert result["msg"] == "4 computers: 2 created, 1 unchanged, 1 failed"
    assert result["changed"] is True
    assert server.names(1) == server.names(3) == ["window.txt"]


def test_run_report_failures_still_says_changed_when_nothing_is_listed(server, bigfix, module):
    first = run(module(computers=[1, 2], name="window.txt", content=TEXT, report="failures"), bigfix.client)
    assert first["changed"] is True and first["results"] == []
    second = run(module(computers=[1, 2], name="window.txt", content=TEXT, report="failures"), bigfix.client)
    assert second["changed"] is False and second["results"] == []
    assert second["counts"]["unchanged"] == 2


def test_run_report_failures_keeps_the_diffs_in_diff_mode(server, bigfix, module):
    server.add(2, "window.txt", DATA)
    result = run(module(diff=True, computers=[1, 2], name="window.txt", content=TEXT, report="failures"),
                 bigfix.client)
    assert [r["computer_id"] for r in result["results"]] == [1]
    assert diffs(result) == {1: ("", line(DATA))}


def test_run_handles_repeated_computers_once(server, bigfix, module):
    result = run(module(computers=[2, 1, 2, 1], name="window.txt", content=TEXT), bigfix.client)
    assert [r["computer_id"] for r in result["results"]] == [2, 1]
    assert server.writes() == ["POST", "POST"]


@pytest.mark.parametrize("params, fragment", [
    ({"computers": [1, 0]}, "computers[1] 0 is out of range"),
    ({"computers": [1, 2, "x"]}, "computers[2] 'x' is not a whole number"),
    ({"computers": []}, "computers is empty"),
    ({"computer_id": 0}, "computer_id 0 is out of range"),
    ({"computer_id": 1, "concurrency": 0}, "concurrency must be between 1 and 64"),
    ({"computer_id": 1, "concurrency": 65}, "concurrency must be between 1 and 64"),
])
def test_run_refuses_bad_targets_before_sending(server, bigfix, module, params, fragment):
    values = {"name": "window.txt", "content": TEXT}
    values.update(params)
    with pytest.raises(ValueError) as error:
        run(module(**values), bigfix.client)
    assert fragment in str(error.value)
    assert server.log == []


@pytest.mark.parametrize("params, fragment", [
    ({"content": TEXT, "name": "dir/x.txt"}, "name 'dir/x.txt' contains a path separator"),
    ({"content": TEXT, "name": "__x"}, "name '__x' starts with __"),
    ({"content": TEXT}, "name is empty"),
    ({"content": "\ud800", "name": "x.txt"}, "content holds characters that cannot be encoded as UTF-8"),
    ({"src": "/nonexistent/dir/app.conf"}, "src '/nonexistent/dir/app.conf' does not exist"),
])
def test_run_refuses_bad_content_before_sending(server, bigfix, module, params, fragment):
    with pytest.raises(ValueError) as error:
        run(module(computer_id=1, **params), bigfix.client)
    assert fragment in str(error.value)
    assert server.writes() == []


def test_local_file_refuses_a_directory(tmp_path):
    with pytest.raises(ValueError) as error:
        local_file({"src": str(tmp_path), "content": None, "name": None, "state": "present"})
    assert str(error.value).startswith("src %r is a directory" % str(tmp_path))


def test_local_file_refuses_an_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.conf"
    path.write_bytes(DATA)
    monkeypatch.setattr(module_under_test.os, "access", lambda target, mode: False)
    with pytest.raises(ValueError) as error:
        local_file({"src": str(path), "content": None, "name": None, "state": "present"})
    assert str(error.value) == "src %r is not readable by the user running the module" % str(path)


def test_local_file_from_content_keeps_surrogate_escaped_bytes():
    local = local_file({"src": None, "content": "caf\udce9 ☕", "name": "menu.txt", "state": "present"})
    assert local.data == b"caf\xe9 " + "☕".encode("utf-8")
    assert local.name == "menu.txt" and local.size == len(local.data)


def test_local_file_from_src_streams_a_large_file_from_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(mailbox, "IN_MEMORY_BYTES", 1000)
    path = tmp_path / "big.bin"
    path.write_bytes(b"q" * 5000)
    local = local_file({"src": str(path), "content": None, "name": None, "state": "present"})
    assert (local.name, local.size, local.data, local.path) == ("big.bin", 5000, None, str(path))


@pytest.mark.parametrize("state", ["present", "absent"])
def test_file_name_prefers_name_over_src(state):
    assert file_name({"name": "a.txt", "src": "/x/b.txt", "state": state}) == "a.txt"
    assert file_name({"name": None, "src": "/x/b.txt", "state": state}) == "b.txt"


@pytest.mark.parametrize("state, fragment", [("present", "name is empty: give the file name"),
                                             ("absent", "name is empty: give the name of the file to remove")])
def test_file_name_refuses_an_empty_name(state, fragment):
    with pytest.raises(ValueError) as error:
        file_name({"name": None, "src": "/x/dir/", "state": state})
    assert str(error.value).startswith(fragment)
    with pytest.raises(ValueError):
        file_name({"name": "", "src": None, "state": state})


def test_file_name_to_remove_accepts_names_that_cannot_be_uploaded():
    for name in ("__BESData.txt", "legacy.fxf", 'quoted "name"'):
        assert file_name({"name": name, "src": None, "state": "absent"}) == name
    with pytest.raises(ValueError):
        file_name({"name": "legacy.fxf", "src": None, "state": "present"})


def test_run_removes_a_file_with_a_reserved_name(server, bigfix, module):
    server.add(1, "legacy.fxf", OLD)
    server.add(1, "keep.txt", OLD)
    result = run(module(computer_id=1, name="legacy.fxf", state="absent"), bigfix.client)
    assert result["results"][0]["action"] == "deleted"
    assert server.names(1) == ["keep.txt"]


# --- main() -----------------------------------------------------------------------------------------------------

def args(**overrides):
    values = {"url": URL, "username": "operator", "password": SECRET, "computers": [1, 2], "name": "window.txt",
              "content": TEXT}
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def test_main_succeeds(server, served, run_main):
    code, result, out = run_main(module_under_test.main, args())
    assert code == 0
    assert result["changed"] is True and result["counts"]["created"] == 2
    assert result.get("failed") is not True
    assert served[0].url == URL and served[0].password == SECRET
    assert server.names(1) == server.names(2) == ["window.txt"]
    assert_no_secret(out, SECRET)


def test_main_check_and_diff_mode(server, served, run_main):
    code, result = run_main(module_under_test.main, args(_ansible_check_mode=True, _ansible_diff=True))[:2]
    assert code == 0 and len(served) == 1
    assert server.writes() == []
    assert result["changed"] is True
    assert [pair[1] for pair in diffs(result).values()] == [line(DATA), line(DATA)]


def test_main_fails_when_a_computer_fails(server, served, run_main):
    code, result, out = run_main(module_under_test.main, args(computers=[1, 99]))
    assert code == 1 and result["failed"] is True and len(served) == 1
    assert result["msg"].startswith("1 of 2 computers failed: computer 99: GET /api/mailbox/99: HTTP 404")
    assert [r["action"] for r in result["results"]] == ["created", "failed"]
    assert server.names(1) == ["window.txt"]
    assert_no_secret(out, SECRET)


def test_main_failure_message_counts_every_computer_when_only_failures_are_listed(server, served, run_main):
    code, result = run_main(module_under_test.main, args(computers=[1, 99, 2], report="failures"))[:2]
    assert code == 1 and result["failed"] is True
    assert result["msg"].startswith("1 of 3 computers failed: computer 99: GET /api/mailbox/99: HTTP 404")
    assert [r["computer_id"] for r in result["results"]] == [99]
    assert server.names(1) == server.names(2) == ["window.txt"]


@pytest.mark.parametrize("extra, fragment", [
    ({"computer_id": 1}, "computer_id|computers"),
    ({"src": "/tmp/x.txt"}, "src|content"),
])
def test_main_refuses_mutually_exclusive_options(served, run_main, extra, fragment):
    code, result = run_main(module_under_test.main, args(**extra))[:2]
    assert code == 1 and result["failed"] is True
    assert "mutually exclusive" in result["msg"] and fragment in result["msg"]
    assert served == []


@pytest.mark.parametrize("overrides, fragment", [
    ({"computers": None}, "one of the following is required: computer_id, computers"),
    ({"content": None}, "state is present but any of the following are missing: src, content"),
    ({"content": None, "name": None, "state": "absent"}, "state is absent but any of the following are missing: name, src"),
    ({"name": None}, "missing parameter(s) required by 'content': name"),
    ({"state": "gone"}, "value of state must be one of: present, absent"),
])
def test_main_refuses_incomplete_arguments(served, run_main, overrides, fragment):
    code, result = run_main(module_under_test.main, args(**overrides))[:2]
    assert code == 1 and fragment in result["msg"]
    assert served == []


def test_main_without_url_names_the_variable(served, run_main):
    code, result, out = run_main(module_under_test.main, args(url=None))
    assert code == 1
    assert result["msg"] == "url is required: set the url option or the BIGFIX_URL environment variable"
    assert served == []
    assert_no_secret(out, SECRET)


def test_main_takes_bigfix_url_before_bes_root_server(server, served, run_main, clean_env):
    clean_env.setenv("BIGFIX_URL", "first.example.com")
    clean_env.setenv("BES_ROOT_SERVER", "second.example.com")
    code = run_main(module_under_test.main, args(url=None)).code
    assert code == 0 and served[0].url == "https://first.example.com:52311"


def test_main_falls_back_to_bes_root_server(server, served, run_main, clean_env):
    clean_env.setenv("BES_ROOT_SERVER", "https://second.example.com:8443/api")
    clean_env.setenv("BES_USER_NAME", "envuser")
    clean_env.setenv("BES_PASSWORD", "env-secret-ß")
    finished = run_main(module_under_test.main, args(url=None, username=None, password=None))
    code, out = finished.code, finished.out
    assert code == 0
    assert (served[0].url, served[0].username, served[0].password) == ("https://second.example.com:8443", "envuser", "env-secret-ß")
    assert_no_secret(out, "env-secret-ß", "envuser")


def test_main_option_wins_over_environment(server, served, run_main, clean_env):
    clean_env.setenv("BIGFIX_URL", "env.example.com")
    code = run_main(module_under_test.main, args()).code
    assert code == 0 and served[0].url == URL


@pytest.mark.parametrize("from_env", [False, True])
def test_main_never_outputs_the_password_even_when_echoed(server, served, run_main, clean_env, from_env):
    token = base64.b64encode(("operator:%s" % SECRET).encode("utf-8")).decode("ascii")
    echo = ("Unauthorized: operator/%s (Authorization: Basic %s)" % (SECRET, token)).encode("utf-8")
    server.fail("GET", 401, body=echo, times=10)
    if from_env:
        clean_env.setenv("BIGFIX_PASSWORD", SECRET)
    code, result, out = run_main(module_under_test.main, args(password=None if from_env else SECRET))
    assert code == 1 and served[0].password == SECRET
    assert "HTTP 401" in result["msg"] and "Unauthorized" in result["msg"]
    assert_no_secret(out, SECRET)


def test_main_warns_about_validate_certs_and_retries(server, served, run_main):
    server.fail("GET", 503, computer_id=1)
    code, result = run_main(module_under_test.main, args(validate_certs=False))[:2]
    assert code == 0
    warnings = json.dumps(result["warnings"])
    assert "validate_certs is false" in warnings and "retried 1 times (503 x1)" in warnings


def test_main_against_a_closed_port(run_main, no_proxy):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, result, out = run_main(module_under_test.main, args(url="https://127.0.0.1:%d" % port, retries=0, computers=[7]))
    assert code == 1
    assert result["msg"].startswith("1 of 1 computers failed: computer 7: GET /api/mailbox/7: connection failed")
    assert "the BigFix server is running" in result["msg"]
    assert_no_secret(out, SECRET)
