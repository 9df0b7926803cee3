# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the bigfix_mailbox_info module: run() against the in-memory server, and main() end to end."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ansible_collections.bigfix.core.plugins.modules import bigfix_mailbox_info as module_under_test
from ansible_collections.bigfix.core.plugins.modules.bigfix_mailbox_info import MODULE_OPTIONS, run
from ansible_collections.bigfix.core.tests.unit.plugins.fakes import assert_no_secret

SECRET = "Zx9-pässwörd-S3cret!"
URL = "https://bigfix.example.com:52311"
TIMESTAMP = "Tue, 19 Mar 2024 22:26:24 +0000"


@pytest.fixture
def module(make_module):
    def factory(check_mode=False, **params):
        return make_module(MODULE_OPTIONS, check_mode=check_mode, **params)
    return factory


@pytest.fixture
def stocked(server):
    """Computer 1 holds a.txt and b.txt, computer 2 holds a.txt, computer 3 is empty."""
    entries = [(1, server.add(1, "a.txt", b"one")), (1, server.add(1, "b.txt", b"two")), (2, server.add(2, "a.txt", b"three"))]
    return [{"computer_id": cid, "id": e["id"], "name": e["name"], "sha1": hashlib.sha1(e["data"]).hexdigest(),
             "size": len(e["data"]), "timestamp": TIMESTAMP} for cid, e in entries]


def test_run_lists_every_mailbox_in_order(bigfix, module, stocked):
    result, failures = run(module(computers=[2, 3, 1]), bigfix.client)
    assert failures == []
    assert result == {"changed": False, "files": [stocked[2], stocked[0], stocked[1]]}


def test_run_filters_by_name(bigfix, module, stocked):
    result = run(module(computers=[1, 2], name="a.txt"), bigfix.client)[0]
    assert result["files"] == [stocked[0], stocked[2]]
    result = run(module(computers=[1, 2], name="A.TXT"), bigfix.client)[0]
    assert result["files"] == []


def test_run_single_computer_and_repeats(server, bigfix, module, stocked):
    result = run(module(computer_id=2), bigfix.client)[0]
    assert result["files"] == [stocked[2]]
    run(module(computers=[1, 1, 2, 1]), bigfix.client)
    assert server.methods() == ["GET", "GET", "GET"]


def test_run_only_reads_even_outside_check_mode(server, bigfix, module, stocked):
    run(module(computers=[1, 2, 3]), bigfix.client)
    run(module(check_mode=True, computers=[1, 2, 3]), bigfix.client)
    assert server.writes() == []
    assert len(stocked) == 3


def test_run_keeps_reading_after_a_failure(server, bigfix, module, stocked):
    server.fail("GET", 403, computer_id=2, body=b"Operator does not administer this computer")
    result, failures = run(module(computers=[1, 2, 77, 3]), bigfix.client)
    assert result["files"] == stocked[:2]
    assert len(failures) == 2
    assert failures[0].startswith("computer 2: GET /api/mailbox/2: HTTP 403: Operator does not administer this computer")
    assert failures[1].startswith("computer 77: GET /api/mailbox/77: HTTP 404")


def test_run_retries_a_busy_server(server, bigfix, module, stocked):
    server.fail("GET", 503, computer_id=1, times=2)
    result, failures = run(module(computers=[1]), bigfix.client)
    assert failures == [] and result["files"] == stocked[:2]
    assert bigfix.client.retry_counts == {503: 2}


@pytest.mark.parametrize("params, fragment", [
    ({"computers": [4, -1]}, "computers[1] -1 is out of range"),
    ({"computer_id": 4294967296}, "computer_id 4294967296 is out of range"),
    ({"computers": [1], "concurrency": 100}, "concurrency must be between 1 and 64"),
])
def test_run_refuses_bad_targets(server, bigfix, module, params, fragment):
    with pytest.raises(ValueError) as error:
        run(module(**params), bigfix.client)
    assert fragment in str(error.value)
    assert server.log == []


# --- main() -----------------------------------------------------------------------------------------------------

def args(**overrides):
    values = {"url": URL, "username": "operator", "password": SECRET, "computers": [1, 2]}
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def test_main_lists(served, run_main, stocked):
    code, result, out = run_main(module_under_test.main, args(_ansible_check_mode=True))
    assert code == 0
    assert result["changed"] is False and result["files"] == stocked
    assert served[0].url == URL
    assert_no_secret(out, SECRET)


def test_main_fails_naming_the_unreadable_computers(served, run_main, stocked):
    code, result, out = run_main(module_under_test.main, args(computers=[1, 99]))
    assert code == 1 and result["failed"] is True and len(served) == 1
    assert result["msg"].startswith("1 computer could not be read: computer 99: GET /api/mailbox/99: HTTP 404")
    assert result["files"] == stocked[:2]
    assert_no_secret(out, SECRET)


def test_main_refuses_mutually_exclusive_targets(served, run_main):
    code, result = run_main(module_under_test.main, args(computer_id=1))[:2]
    assert code == 1 and "mutually exclusive" in result["msg"] and "computer_id|computers" in result["msg"]
    assert served == []


def test_main_requires_a_target(served, run_main):
    code, result = run_main(module_under_test.main, args(computers=None))[:2]
    assert code == 1 and "one of the following is required: computer_id, computers" in result["msg"]
    assert served == []


@pytest.mark.parametrize("option, variable", [("url", "BIGFIX_URL"), ("username", "BIGFIX_USERNAME"),
                                              ("password", "BIGFIX_PASSWORD")])
def test_main_names_the_missing_connection_option(served, run_main, option, variable):
    code, result, out = run_main(module_under_test.main, args(**{option: None}))
    assert code == 1
    assert result["msg"] == "%s is required: set the %s option or the %s environment variable" % (option, option, variable)
    assert served == []
    assert_no_secret(out, SECRET)


def test_main_reads_connection_from_the_environment(served, run_main, clean_env, stocked):
    clean_env.setenv("BES_ROOT_SERVER", "bes.example.com")
    clean_env.setenv("BIGFIX_USERNAME", "envuser")
    clean_env.setenv("BES_USER_NAME", "ignored")
    clean_env.setenv("BIGFIX_PASSWORD", SECRET)
    clean_env.setenv("BIGFIX_RETRIES", "0")
    clean_env.setenv("BIGFIX_TIMEOUT", "2.5")
    code, result, out = run_main(module_under_test.main, args(url=None, username=None, password=None))
    assert code == 0 and result["files"] == stocked
    settings = served[0]
    assert (settings.url, settings.username, settings.password) == ("https://bes.example.com:52311", "envuser", SECRET)
    assert (settings.retries, settings.timeout) == (0, 2.5)
    assert_no_secret(out, SECRET, "envuser")


def test_main_never_outputs_an_echoed_password(server, served, run_main):
    token = base64.b64encode(("operator:%s" % SECRET).encode("utf-8")).decode("ascii")
    server.fail("GET", 401, times=10, body=("bad credentials %s / Basic %s" % (SECRET, token)).encode("utf-8"))
    code, result, out = run_main(module_under_test.main, args())
    assert code == 1 and "HTTP 401" in result["msg"] and "bad credentials" in result["msg"]
    assert_no_secret(out, SECRET)
