# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for module_utils/mailbox_state.py: planning, prediction, and converging mailboxes."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError
from ansible_collections.bigfix.core.plugins.module_utils.mailbox import LocalFile, MailboxFile
from ansible_collections.bigfix.core.plugins.module_utils.mailbox_state import (
    CREATED, DELETED, FAILED, PUT, RECREATE, UNCHANGED, UPDATED, Outcome, Plan, converge, count, ensure_absent,
    ensure_present, plan_absent, plan_present, predict,
)

FOX = b"The quick brown fox jumps over the lazy dog"
FOX_SHA1 = hashlib.sha1(FOX).hexdigest()
OLD = b"old content"
OLD_SHA1 = hashlib.sha1(OLD).hexdigest()
LOCAL = LocalFile.from_bytes(FOX, "app.conf")


def entry(file_id, name="app.conf", sha1=FOX_SHA1, size=43):
    return MailboxFile(id=file_id, name=name, sha1=sha1, size=size, timestamp=None)


def present(files, force=False, update_method=RECREATE):
    return plan_present(files, LOCAL, force=force, update_method=update_method)


# --- plan_present -----------------------------------------------------------------------------------------------

def test_plan_missing_file_is_an_upload():
    plan = present([entry(1, name="other.txt"), entry(2, name="App.conf")])
    assert plan == Plan(CREATED, upload=True, msg="uploaded")
    assert plan.writes == 1


@pytest.mark.parametrize("sha1", [FOX_SHA1, FOX_SHA1.upper()])
def test_plan_same_content_is_unchanged(sha1):
    plan = present([entry(1, name="other.txt", sha1=OLD_SHA1), entry(2, sha1=sha1)])
    assert plan.action == UNCHANGED and plan.writes == 0
    assert "same SHA-1" in plan.msg


def test_plan_same_sha1_without_size_is_unchanged():
    assert present([entry(2, size=None)]).action == UNCHANGED


def test_plan_same_sha1_other_size_is_an_update():
    plan = present([entry(2, size=44)])
    assert plan.action == UPDATED and plan.deletes == (2,) and plan.upload


def test_plan_different_content_deletes_then_uploads():
    plan = present([entry(7, name="keep.me"), entry(2, sha1=OLD_SHA1, size=11)])
    assert plan.action == UPDATED
    assert plan.deletes == (2,) and plan.upload and plan.replace_id is None
    assert plan.writes == 2
    assert OLD_SHA1 in plan.msg


def test_plan_different_content_without_sha1_says_unknown():
    assert "unknown" in present([entry(2, sha1=None)]).msg


def test_plan_duplicates_with_one_match_keeps_that_one():
    plan = present([entry(1, sha1=OLD_SHA1), entry(2), entry(3, sha1=OLD_SHA1)])
    assert plan.action == UPDATED
    assert plan.deletes == (1, 3) and not plan.upload and plan.replace_id is None
    assert plan.msg == "removed 2 duplicate copies"


def test_plan_duplicates_of_the_same_content_remove_one_copy():
    plan = present([entry(4), entry(5)])
    assert plan.deletes == (5,) and not plan.upload
    assert plan.msg == "removed 1 duplicate copy"


def test_plan_duplicates_with_no_match_delete_all_and_upload():
    plan = present([entry(1, sha1=OLD_SHA1), entry(2, sha1=None), entry(3, name="x")])
    assert plan.action == UPDATED and plan.deletes == (1, 2) and plan.upload


def test_plan_force_reuploads_same_content():
    plan = present([entry(1)], force=True)
    assert plan.action == UPDATED and plan.deletes == (1,) and plan.upload
    assert "force" in plan.msg


def test_plan_force_with_put_replaces_the_matching_entry():
    plan = present([entry(1, sha1=OLD_SHA1), entry(2)], force=True, update_method=PUT)
    assert plan.replace_id == 2 and plan.deletes == (1,) and not plan.upload
    assert plan.writes == 2


def test_plan_put_replaces_the_first_entry_and_deletes_the_rest():
    plan = present([entry(8, sha1=OLD_SHA1), entry(9, sha1=OLD_SHA1)], update_method=PUT)
    assert plan.action == UPDATED
    assert plan.replace_id == 8 and plan.deletes == (9,) and not plan.upload
    assert plan.msg.startswith("replaced: the mailbox held SHA-1 ")


def test_plan_put_with_a_matching_duplicate_only_deletes():
    plan = present([entry(8, sha1=OLD_SHA1), entry(9)], update_method=PUT)
    assert plan.replace_id is None and plan.deletes == (8,) and not plan.upload


# --- plan_absent and predict ------------------------------------------------------------------------------------

def test_plan_absent():
    assert plan_absent([entry(1, name="other")], "app.conf") == Plan(UNCHANGED, msg="already absent")
    plan = plan_absent([entry(1), entry(2, name="other"), entry(3, sha1=OLD_SHA1)], "app.conf")
    assert plan == Plan(DELETED, deletes=(1, 3), msg="deleted 2 copies")
    assert plan_absent([entry(1)], "app.conf").msg == "deleted 1 copy"


def test_predict_upload_adds_an_entry_without_id():
    files = [entry(1, name="other"), entry(2, sha1=OLD_SHA1)]
    after = predict(files, present(files), LOCAL)
    assert after == [entry(1, name="other"), MailboxFile(None, "app.conf", FOX_SHA1, 43, None)]


def test_predict_replace_keeps_the_id():
    files = [entry(2, sha1=OLD_SHA1), entry(3, sha1=OLD_SHA1)]
    after = predict(files, present(files, update_method=PUT), LOCAL)
    assert after == [MailboxFile(2, "app.conf", FOX_SHA1, 43, None)]


def test_predict_delete_only():
    files = [entry(1), entry(2, name="other")]
    assert predict(files, plan_absent(files, "app.conf"), None) == [entry(2, name="other")]


ENTRIES = st.lists(
    st.tuples(st.sampled_from(["app.conf", "other.txt"]), st.sampled_from([FOX_SHA1, FOX_SHA1.upper(), OLD_SHA1, None]),
              st.sampled_from([43, 44, None])),
    max_size=6,
).map(lambda rows: [entry(index + 1, name, sha1, size) for index, (name, sha1, size) in enumerate(rows)])


@hypothesis_settings(max_examples=200, deadline=None)
@given(files=ENTRIES, force=st.booleans(), update_method=st.sampled_from([RECREATE, PUT]))
def test_plan_present_always_leaves_exactly_one_good_copy(files, force, update_method):
    plan = present(files, force=force, update_method=update_method)
    after = predict(files, plan, LOCAL)
    named = [f for f in after if f.name == "app.conf"]
    assert len(named) == 1 and named[0].has_content(LOCAL.sha1, LOCAL.size)
    assert [f for f in after if f.name != "app.conf"] == [f for f in files if f.name != "app.conf"]
    if plan.upload:
        assert set(plan.deletes) == {f.id for f in files if f.name == "app.conf"}
    assert (plan.action == UNCHANGED) == (plan.writes == 0)
    if force and any(f.name == "app.conf" for f in files):
        assert plan.writes >= 1


@hypothesis_settings(max_examples=100, deadline=None)
@given(files=ENTRIES)
def test_plan_absent_always_leaves_none(files):
    plan = plan_absent(files, "app.conf")
    after = predict(files, plan, None)
    assert not [f for f in after if f.name == "app.conf"]
    assert after == [f for f in files if f.name != "app.conf"]


# --- converge against the in-memory server ----------------------------------------------------------------------

def converge_present(client, computer_id, check_mode=False, force=False, update_method=RECREATE):
    return converge(client, computer_id, lambda files: plan_present(files, LOCAL, force, update_method), LOCAL, check_mode)


def converge_absent(client, computer_id, check_mode=False):
    return converge(client, computer_id, lambda files: plan_absent(files, "app.conf"), None, check_mode)


def test_converge_creates(server, bigfix):
    server.add(1, "other.txt", OLD)
    outcome = converge_present(bigfix.client, 1)
    assert server.methods() == ["GET", "POST"]
    assert outcome.action == CREATED and outcome.changed
    assert outcome.file.name == "app.conf" and outcome.file.sha1 == FOX_SHA1 and outcome.file.id is not None
    assert [f.name for f in outcome.before] == ["other.txt"]
    assert [f.name for f in outcome.after] == ["other.txt", "app.conf"]
    assert server.mailboxes[1][-1]["data"] == FOX


def test_converge_unchanged_only_reads(server, bigfix):
    existing = server.add(1, "app.conf", FOX)
    outcome = converge_present(bigfix.client, 1)
    assert server.methods() == ["GET"]
    assert outcome.action == UNCHANGED and not outcome.changed
    assert outcome.file.id == existing["id"]
    assert outcome.before == outcome.after


def test_converge_recreates_different_content(server, bigfix):
    old = server.add(1, "app.conf", OLD)
    outcome = converge_present(bigfix.client, 1)
    assert server.methods() == ["GET", "DELETE", "POST"]
    assert outcome.action == UPDATED
    assert [e["data"] for e in server.mailboxes[1]] == [FOX]
    assert outcome.file.id != old["id"]
    assert [f.sha1 for f in outcome.before] == [OLD_SHA1]


def test_converge_put_keeps_the_id(server, bigfix):
    old = server.add(1, "app.conf", OLD)
    outcome = converge_present(bigfix.client, 1, update_method=PUT)
    assert server.methods() == ["GET", "PUT"]
    assert outcome.action == UPDATED and outcome.file.id == old["id"] and outcome.file.sha1 == FOX_SHA1
    assert server.mailboxes[1][0]["data"] == FOX


@pytest.mark.parametrize("preset", [[], [OLD], [FOX, FOX], [OLD, FOX]])
def test_converge_check_mode_sends_no_write(server, bigfix, preset):
    for data in preset:
        server.add(1, "app.conf", data)
    snapshot = [dict(e) for e in server.mailboxes[1]]
    outcome = converge_present(bigfix.client, 1, check_mode=True)
    assert server.writes() == []
    assert server.mailboxes[1] == snapshot
    assert outcome.changed
    assert [f.summary() for f in outcome.after if f.name == "app.conf"] == [LOCAL.summary()]


def test_converge_check_mode_for_absent(server, bigfix):
    server.add(1, "app.conf", OLD)
    outcome = converge_absent(bigfix.client, 1, check_mode=True)
    assert server.writes() == [] and len(server.mailboxes[1]) == 1
    assert outcome.action == DELETED and outcome.after == []
    assert outcome.file.sha1 == OLD_SHA1


def test_converge_absent_deletes_every_copy(server, bigfix):
    server.add(1, "app.conf", OLD)
    server.add(1, "keep.txt", OLD)
    server.add(1, "app.conf", FOX)
    outcome = converge_absent(bigfix.client, 1)
    assert server.methods() == ["GET", "DELETE", "DELETE"]
    assert server.names(1) == ["keep.txt"]
    assert outcome.action == DELETED and outcome.file.sha1 == OLD_SHA1
    assert outcome.msg == "deleted 2 copies"


def test_converge_absent_reports_the_emptied_mailbox(server, bigfix):
    server.add(1, "app.conf", OLD)
    server.add(1, "app.conf", FOX)
    outcome = converge_absent(bigfix.client, 1)
    assert server.methods() == ["GET", "DELETE", "DELETE"]
    assert server.names(1) == []
    assert outcome.after == []


def test_converge_absent_when_already_gone(server, bigfix):
    outcome = converge_absent(bigfix.client, 1)
    assert server.methods() == ["GET"]
    assert outcome.action == UNCHANGED and outcome.file is None


def test_converge_file_deleted_concurrently_is_not_an_error(server, bigfix):
    server.add(1, "app.conf", OLD)
    server.fail("DELETE", 404)
    outcome = converge_absent(bigfix.client, 1)
    assert outcome.action == DELETED and outcome.after == []


def test_post_with_unknown_outcome_is_not_sent_again_when_the_file_arrived(server, bigfix):
    server.fail("POST", 504, apply=True)
    converge_present(bigfix.client, 1)
    assert server.methods() == ["GET", "POST", "GET"]
    assert [e["data"] for e in server.mailboxes[1]] == [FOX]
    assert len(bigfix.sleeps) == 1


def test_post_with_unknown_outcome_that_took_effect_reports_a_change(server, bigfix):
    server.fail("POST", 504, apply=True)
    outcome = converge_present(bigfix.client, 1)
    assert outcome.changed
    assert outcome.action == CREATED
    assert outcome.file is not None and outcome.file.sha1 == FOX_SHA1


def test_delete_with_unknown_outcome_that_took_effect_reports_a_change(server, bigfix):
    server.add(1, "app.conf", OLD)
    server.fail("DELETE", 502, apply=True)
    outcome = converge_absent(bigfix.client, 1)
    assert server.methods() == ["GET", "DELETE", "GET"]
    assert outcome.changed and outcome.action == DELETED


def test_post_with_unknown_outcome_is_sent_again_when_the_file_is_missing(server, bigfix):
    server.fail("POST", 500, apply=False)
    outcome = converge_present(bigfix.client, 1)
    assert server.methods() == ["GET", "POST", "GET", "POST"]
    assert outcome.action == CREATED and [e["data"] for e in server.mailboxes[1]] == [FOX]


def test_conflict_leads_to_a_fresh_listing_and_plan(server, bigfix):
    server.fail("POST", 409, meanwhile=lambda s: s.add(1, "app.conf", OLD))
    outcome = converge_present(bigfix.client, 1)
    assert server.methods() == ["GET", "POST", "GET", "DELETE", "POST"]
    assert [e["data"] for e in server.mailboxes[1]] == [FOX]
    assert outcome.file.sha1 == FOX_SHA1
    assert bigfix.client.retry_counts == {409: 1}


def test_conflict_with_the_same_content_needs_no_more_writes(server, bigfix):
    server.fail("POST", 409, meanwhile=lambda s: s.add(1, "app.conf", FOX))
    converge_present(bigfix.client, 1)
    assert server.methods() == ["GET", "POST", "GET"]
    assert [e["data"] for e in server.mailboxes[1]] == [FOX]


@pytest.mark.parametrize("status", [400, 403, 404])
def test_non_transient_write_error_propagates(server, bigfix, status):
    server.fail("POST", status)
    with pytest.raises(BigFixError) as error:
        converge_present(bigfix.client, 1)
    assert error.value.status == status
    assert server.methods() == ["GET", "POST"]
    assert bigfix.sleeps == []


@pytest.mark.parametrize("retries", [0, 1, 3])
def test_attempts_are_bounded_by_retries(server, connect, retries):
    harness = connect(server, retries=retries)
    server.fail("POST", 503, times=100)
    with pytest.raises(BigFixError) as error:
        converge_present(harness.client, 1)
    assert error.value.status == 503
    assert server.methods().count("POST") == retries + 1
    assert server.methods().count("GET") == retries + 1
    assert len(harness.sleeps) == retries
    assert server.mailboxes[1] == []


def test_listing_failure_propagates(server, bigfix):
    with pytest.raises(BigFixError) as error:
        converge_present(bigfix.client, 99)
    assert error.value.status == 404


# --- many computers ---------------------------------------------------------------------------------------------

def test_ensure_present_over_many_computers(server, bigfix):
    computers = list(range(40, 0, -1))
    for cid in computers:
        if cid != 17:
            server.mailboxes.setdefault(cid, [])
    server.add(5, "app.conf", FOX)
    server.fail("POST", 403, computer_id=23)
    outcomes = ensure_present(bigfix.client, computers, LOCAL, concurrency=6)
    assert [o.computer_id for o in outcomes] == computers
    by_id = {o.computer_id: o for o in outcomes}
    assert by_id[17].action == FAILED and by_id[17].msg.startswith("computer 17: GET /api/mailbox/17: HTTP 404")
    assert by_id[23].action == FAILED and "HTTP 403" in by_id[23].msg
    assert by_id[5].action == UNCHANGED
    assert count(outcomes) == {CREATED: 37, UPDATED: 0, DELETED: 0, UNCHANGED: 1, FAILED: 2}
    for cid in computers:
        if cid not in (17, 23, 5):
            assert server.names(cid) == ["app.conf"]


def test_ensure_present_check_mode_over_many_computers(server, bigfix):
    server.add(2, "app.conf", OLD)
    outcomes = ensure_present(bigfix.client, [1, 2, 3], LOCAL, check_mode=True, concurrency=3)
    assert [o.action for o in outcomes] == [CREATED, UPDATED, CREATED]
    assert server.writes() == []


def test_ensure_absent(server, bigfix):
    server.add(1, "app.conf", OLD)
    server.add(3, "app.conf", FOX)
    server.add(3, "app.conf", OLD)
    outcomes = ensure_absent(bigfix.client, [3, 2, 1, 9], "app.conf", concurrency=2)
    assert [(o.computer_id, o.action) for o in outcomes] == [(3, DELETED), (2, UNCHANGED), (1, DELETED), (9, FAILED)]
    assert server.names(1) == server.names(3) == []


def test_entry_without_id_fails_only_that_computer(scripted):
    nameless = "<BESAPI><ComputerMailboxFile><Name>app.conf</Name><SHA1>%s</SHA1></ComputerMailboxFile></BESAPI>" % OLD_SHA1
    harness = scripted((200, nameless))
    outcomes = ensure_absent(harness.client, [1], "app.conf", concurrency=1)
    assert [o.action for o in outcomes] == [FAILED]
    assert "computer 1" in outcomes[0].msg


# --- count and Outcome ------------------------------------------------------------------------------------------

def test_count_lists_every_action():
    assert count([]) == {CREATED: 0, UPDATED: 0, DELETED: 0, UNCHANGED: 0, FAILED: 0}
    outcomes = [Outcome(1, CREATED), Outcome(2, CREATED), Outcome(3, FAILED, "x")]
    assert count(outcomes) == {CREATED: 2, UPDATED: 0, DELETED: 0, UNCHANGED: 0, FAILED: 1}


def test_outcome_to_dict():
    assert Outcome(4, UPDATED, "m", entry(2)).to_dict() == {
        "computer_id": 4, "changed": True, "action": UPDATED, "msg": "m",
        "file": {"id": 2, "name": "app.conf", "sha1": FOX_SHA1, "size": 43, "timestamp": None}}
    assert Outcome(4, FAILED, "boom").to_dict()["changed"] is False
    assert Outcome(4, FAILED, "boom").to_dict()["file"] is None
