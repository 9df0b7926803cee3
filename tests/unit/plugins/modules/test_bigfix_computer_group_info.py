# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the bigfix_computer_group_info module: run() against an in-memory computer-group server,
and main() end to end."""

from __future__ import annotations

import base64
import threading
from collections import Counter
from urllib.parse import unquote
from xml.sax.saxutils import escape, quoteattr

import pytest

from ansible_collections.bigfix.core.plugins.module_utils.client import HINTS
from ansible_collections.bigfix.core.plugins.modules import bigfix_computer_group_info as module_under_test
from ansible_collections.bigfix.core.plugins.modules.bigfix_computer_group_info import MODULE_OPTIONS, run
from ansible_collections.bigfix.core.tests.unit.plugins.fakes import FakeConnection, assert_no_secret, make_response

SECRET = "Zx9-pässwörd-S3cret!"
URL = "https://bigfix.example.com:52311"
TIMESTAMP = "Tue, 19 Mar 2024 22:26:24 +0000"
LISTING = "/api/computergroups/"
NOT_FOUND_TEXT = b"Requested resource does not exist."
FORBIDDEN = "Operator does not have access to this group"
FORBIDDEN_MESSAGE = "HTTP 403: %s (hint: %s)" % (FORBIDDEN, HINTS[403])

# The groups of the emulator's demo fleet, plus a site whose two groups share a name.
SITES = {
    "master": [(101, "All Windows Servers", (1001, 1002, 1003, 1004, 1005)),
               (102, "Web Servers", (1004, 1005, 1011, 1012)),
               (103, "All Linux", (1011, 1012, 1013, 1014, 1015, 1016, 1020))],
    "custom/Payments": [(201, "Payment Servers", (1001, 1002, 1003)), (202, "Web Servers", (1004, 1005))],
    "custom/Public/Windows": [(301, "Windows Desktops", (1006, 1007, 1008, 1009, 1010)), (302, "Decommissioned", ())],
    "operator/alice": [(401, "Alice Pilot", (1003, 1011, 1013))],
    "custom/Lab": [(501, "Lab", (1015,)), (502, "Lab", (1016, 1015))],
}
SITE_KINDS = ("custom", "operator", "external")
BESAPI_OPEN = ('<?xml version="1.0" encoding="UTF-8"?>\n<BESAPI xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
               'xsi:noNamespaceSchemaLocation="BESAPI.xsd">\n')


class GroupServer:
    """``GET /api/computergroups/{site}`` and ``GET /api/computergroup/{site}/{id}/computers`` as the emulator
    answers them: the path is split on ``/`` before each segment is percent-decoded (so ``Public%2FWindows``
    is the site name ``Public/Windows``), an unknown site or group is a 404 with an empty body, and anything
    else a 404 with the server's text. ``fail(path, status)`` scripts a failure; ``log`` has every request."""

    def __init__(self, sites):
        self.sites = sites
        self.log = []
        self.faults = []
        self._lock = threading.Lock()

    def __call__(self):
        return FakeConnection(self)

    def connecting(self, connection):
        """Connections always open."""

    def fail(self, path, status, body=b"", times=1):
        self.faults.append([path, status, body, times])

    def listings(self):
        """How often each site's group listing was requested."""
        return Counter(path for unused, path in self.log if path.startswith(LISTING))

    def member_requests(self):
        """How often each group's member listing was requested."""
        return Counter(path for unused, path in self.log if path.endswith("/computers"))

    def answer(self, connection, call):
        del connection
        with self._lock:
            self.log.append((call.method, call.path))
            status, content = self._fault(call.path) or self._handle(call.method, call.path)
        headers = {"Content-Type": "application/xml" if status == 200 else "text/plain"}
        return make_response(status, content, headers)

    def _fault(self, path):
        for fault in self.faults:
            if fault[0] == path and fault[3] > 0:
                fault[3] -= 1
                return fault[1], fault[2]
        return None

    def _handle(self, method, path):
        segments = [unquote(segment) for segment in path.split("/")[2:]]
        if method != "GET" or segments[0] not in ("computergroups", "computergroup") or len(segments) < 2:
            return 404, NOT_FOUND_TEXT
        if segments[1] == "master":
            site, rest = "master", segments[2:]
        elif segments[1] in SITE_KINDS and len(segments) > 2 and segments[2]:
            site, rest = "%s/%s" % (segments[1], segments[2]), segments[3:]
        else:
            return 404, NOT_FOUND_TEXT
        if segments[0] == "computergroups" and not rest:
            return (200, self.group_list(site)) if site in self.sites else (404, b"")
        if segments[0] == "computergroup" and len(rest) == 2 and rest[1] == "computers":
            group = next((g for g in self.sites.get(site, ()) if str(g[0]) == rest[0]), None)
            return (200, self.member_list(group[2])) if group else (404, b"")
        return 404, NOT_FOUND_TEXT

    def group_list(self, site):
        kind, unused, name = site.partition("/")
        prefix = "%s/api/computergroup/%s" % (URL, kind + ("/" + name.replace("/", "%2F") if name else ""))
        return besapi('  <ComputerGroup Resource=%s LastModified="%s">\n    <Name>%s</Name>\n    <ID>%d</ID>\n'
                      "  </ComputerGroup>\n"
                      % (quoteattr("%s/%d" % (prefix, group_id)), TIMESTAMP, escape(group_name), group_id)
                      for group_id, group_name, _members in self.sites[site])

    @staticmethod
    def member_list(members):
        return besapi('  <Computer Resource="%s/api/computer/%d">\n    <LastReportTime>%s</LastReportTime>\n'
                      "    <ID>%d</ID>\n  </Computer>\n" % (URL, cid, TIMESTAMP, cid) for cid in members)


def besapi(elements):
    return (BESAPI_OPEN + "".join(elements) + "</BESAPI>\n").encode("utf-8")


@pytest.fixture
def server():
    """Overrides the mailbox server of conftest, so that ``bigfix`` and ``served`` talk to computer groups."""
    return GroupServer(SITES)


@pytest.fixture
def module(make_module):
    def factory(*groups, check_mode=False, **params):
        # AnsibleModule fills the suboptions that are not given with None.
        filled = [{"site": None, "name": None, "id": None, **group} for group in groups]
        return make_module(MODULE_OPTIONS, check_mode=check_mode, groups=filled, **params)
    return factory


def resolved(site, group_id, name, members):
    return {"site": site, "id": group_id, "name": name, "members": list(members)}


# --- run() ------------------------------------------------------------------------------------------------------

def test_run_resolves_groups_by_name_and_by_id(server, bigfix, module):
    result, errors = run(module({"site": "custom/Payments", "name": "Payment Servers"}, {"site": "master", "id": 102}),
                         bigfix.client)
    assert errors == []
    assert result == {
        "changed": False,
        "groups": [resolved("custom/Payments", 201, "Payment Servers", [1001, 1002, 1003]),
                   resolved("master", 102, "Web Servers", [1004, 1005, 1011, 1012])],
        "computers": [1001, 1002, 1003, 1004, 1005, 1011, 1012],
    }
    assert sorted(server.log) == [("GET", "/api/computergroup/custom/Payments/201/computers"),
                                  ("GET", "/api/computergroup/master/102/computers"),
                                  ("GET", "/api/computergroups/custom/Payments"),
                                  ("GET", "/api/computergroups/master")]


def test_run_lists_each_site_once_and_the_members_of_each_group(server, bigfix, module):
    result, errors = run(module({"site": "master", "name": "All Linux"}, {"site": "custom/Payments", "id": 202},
                                {"site": "master", "id": 101}, {"site": "master", "name": "Web Servers"},
                                {"site": "custom/Payments", "name": "Payment Servers"}), bigfix.client)
    assert errors == []
    assert [(group["site"], group["id"]) for group in result["groups"]] == [
        ("master", 103), ("custom/Payments", 202), ("master", 101), ("master", 102), ("custom/Payments", 201)]
    assert server.listings() == {"/api/computergroups/master": 1, "/api/computergroups/custom/Payments": 1}
    assert server.member_requests() == {"/api/computergroup/%s/%d/computers" % (site, gid): 1 for site, gid in (
        ("master", 101), ("master", 102), ("master", 103), ("custom/Payments", 201), ("custom/Payments", 202))}
    assert len(server.log) == 7


def test_run_the_same_group_by_name_and_by_id(server, bigfix, module):
    result, errors = run(module({"site": "master", "name": "All Windows Servers"}, {"site": "master", "id": 101}),
                         bigfix.client)
    assert errors == []
    assert result["groups"] == [resolved("master", 101, "All Windows Servers", [1001, 1002, 1003, 1004, 1005])] * 2
    assert result["computers"] == [1001, 1002, 1003, 1004, 1005]
    assert server.listings() == {"/api/computergroups/master": 1}
    assert server.member_requests() == {"/api/computergroup/master/101/computers": 2}


@pytest.mark.parametrize("concurrency", [1, 2, 8])
def test_run_lists_every_computer_once_in_order_of_first_appearance(bigfix, module, concurrency):
    result, errors = run(module({"site": "master", "name": "Web Servers"}, {"site": "master", "id": 101},
                                {"site": "custom/Lab", "id": 502}, {"site": "master", "name": "All Linux"},
                                concurrency=concurrency), bigfix.client)
    assert errors == []
    assert [group["members"] for group in result["groups"]] == [
        [1004, 1005, 1011, 1012], [1001, 1002, 1003, 1004, 1005], [1016, 1015],
        [1011, 1012, 1013, 1014, 1015, 1016, 1020]]
    assert result["computers"] == [1004, 1005, 1011, 1012, 1001, 1002, 1003, 1016, 1015, 1013, 1014, 1020]


def test_run_an_empty_group_resolves_to_no_members(bigfix, module):
    result, errors = run(module({"site": "custom/Public/Windows", "name": "Decommissioned"}), bigfix.client)
    assert errors == []
    assert result == {"changed": False, "groups": [resolved("custom/Public/Windows", 302, "Decommissioned", [])],
                      "computers": []}


@pytest.mark.parametrize("site", ["custom/Public/Windows", "custom/Public%2fWindows", "Custom/Public%2FWindows"])
def test_run_sends_a_slash_in_a_site_name_encoded_and_reports_the_site_as_given(server, bigfix, module, site):
    result, errors = run(module({"site": site, "name": "Windows Desktops"}), bigfix.client)
    assert errors == []
    assert result["groups"] == [resolved(site, 301, "Windows Desktops", [1006, 1007, 1008, 1009, 1010])]
    assert server.log == [("GET", "/api/computergroups/custom/Public%2FWindows"),
                          ("GET", "/api/computergroup/custom/Public%2FWindows/301/computers")]


def test_run_reports_an_unknown_group_and_resolves_the_others(server, bigfix, module):
    result, errors = run(module({"site": "master", "name": "Nope"}, {"site": "master", "id": 101},
                                {"site": "custom/Payments", "id": 999},
                                {"site": "operator/alice", "name": "Alice Pilot"}), bigfix.client)
    assert errors == [
        "site master has no group with the name 'Nope'; its groups are: All Linux (103), All Windows Servers (101), "
        "Web Servers (102)",
        "site custom/Payments has no group with the ID 999; its groups are: Payment Servers (201), Web Servers (202)",
    ]
    assert result["groups"] == [resolved("master", 101, "All Windows Servers", [1001, 1002, 1003, 1004, 1005]),
                                resolved("operator/alice", 401, "Alice Pilot", [1003, 1011, 1013])]
    assert result["computers"] == [1001, 1002, 1003, 1004, 1005, 1011, 1013]
    assert server.member_requests() == {"/api/computergroup/master/101/computers": 1,
                                        "/api/computergroup/operator/alice/401/computers": 1}


def test_run_reports_an_ambiguous_name_with_the_ids(server, bigfix, module):
    result, errors = run(module({"site": "custom/Lab", "name": "Lab"}, {"site": "custom/Lab", "id": 502}),
                         bigfix.client)
    assert errors == ["2 groups of site custom/Lab have the name 'Lab': IDs 501, 502; give the id instead of the name"]
    assert result["groups"] == [resolved("custom/Lab", 502, "Lab", [1016, 1015])]
    assert server.member_requests() == {"/api/computergroup/custom/Lab/502/computers": 1}


def test_run_reports_an_unknown_site_for_each_of_its_groups_naming_the_group(server, bigfix, module):
    result, errors = run(module({"site": "custom/Nowhere", "name": "All Linux"}, {"site": "master", "id": 103},
                                {"site": "custom/Nowhere", "id": 7}), bigfix.client)
    assert [error.split(": GET ")[0] for error in errors] == [
        "group 'All Linux' of site custom/Nowhere", "group ID 7 of site custom/Nowhere"]
    assert all(": GET /api/computergroups/custom/Nowhere: HTTP 404" in error for error in errors)
    assert [group["id"] for group in result["groups"]] == [103]
    assert server.listings() == {"/api/computergroups/custom/Nowhere": 1, "/api/computergroups/master": 1}
    assert server.member_requests() == {"/api/computergroup/master/103/computers": 1}


def test_run_lists_a_site_once_whatever_its_spelling(server, bigfix, module):
    result, errors = run(module({"site": "custom/Public/Windows", "name": "Windows Desktops"},
                                {"site": "Custom/Public%2fWindows", "id": 301}), bigfix.client)
    assert errors == []
    assert server.listings() == {"/api/computergroups/custom/Public%2FWindows": 1}
    assert [group["site"] for group in result["groups"]] == ["custom/Public/Windows", "Custom/Public%2fWindows"]
    assert result["computers"] == [1006, 1007, 1008, 1009, 1010]


def test_run_reports_the_errors_in_the_order_of_the_groups(server, bigfix, module):
    server.fail("/api/computergroup/master/101/computers", 403, FORBIDDEN.encode("utf-8"))
    errors = run(module({"site": "master", "id": 101}, {"site": "master", "name": "Nope"}), bigfix.client)[1]
    assert [error.split(":")[0] for error in errors] == [
        "group 'All Windows Servers' of site master", "site master has no group with the name 'Nope'; its groups are"]


def test_run_reports_a_member_listing_failure_naming_the_group(server, bigfix, module):
    server.fail("/api/computergroup/custom/Payments/201/computers", 403, FORBIDDEN.encode("utf-8"))
    result, errors = run(module({"site": "custom/Payments", "name": "Payment Servers"}, {"site": "master", "id": 102}),
                         bigfix.client)
    assert errors == ["group 'Payment Servers' of site custom/Payments: GET /api/computergroup/custom/Payments/201/"
                      "computers: " + FORBIDDEN_MESSAGE]
    assert result["groups"] == [resolved("master", 102, "Web Servers", [1004, 1005, 1011, 1012])]
    assert result["computers"] == [1004, 1005, 1011, 1012]


def test_run_retries_a_busy_server(server, bigfix, module):
    server.fail("/api/computergroups/master", 503, times=1)
    server.fail("/api/computergroup/master/103/computers", 503, times=2)
    result, errors = run(module({"site": "master", "name": "All Linux"}), bigfix.client)
    assert errors == []
    assert result["computers"] == [1011, 1012, 1013, 1014, 1015, 1016, 1020]
    assert bigfix.client.retry_counts == {503: 3}
    assert len(server.log) == 5


def test_run_only_reads(server, bigfix, module):
    run(module({"site": "master", "id": 101}, {"site": "custom/Nowhere", "id": 1}), bigfix.client)
    run(module({"site": "master", "id": 101}, check_mode=True), bigfix.client)
    assert {method for method, unused in server.log} == {"GET"}


@pytest.mark.parametrize("site", ["Payments", "custom/", "operator/", "master/101", "site/Payments", ""])
def test_run_refuses_a_bad_site_naming_the_group_before_any_request(server, bigfix, module, site):
    with pytest.raises(ValueError) as error:
        run(module({"site": "master", "id": 101}, {"site": "custom/Payments", "id": 201}, {"site": site, "id": 1}),
            bigfix.client)
    assert str(error.value) == ("groups[2].site: site %r is not a BigFix site path; write master, custom/NAME, "
                                "operator/NAME or external/NAME" % site)
    assert server.log == []


def test_run_refuses_a_bad_concurrency_before_any_request(server, bigfix, module):
    with pytest.raises(ValueError) as error:
        run(module({"site": "master", "id": 101}, concurrency=0), bigfix.client)
    assert "concurrency must be between 1 and 64" in str(error.value)
    assert server.log == []


# --- main() -----------------------------------------------------------------------------------------------------

def args(**overrides):
    values = {"url": URL, "username": "operator", "password": SECRET,
              "groups": [{"site": "master", "name": "All Linux"}, {"site": "custom/Payments", "id": 201}]}
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def test_main_resolves(server, served, run_main):
    code, result, out = run_main(module_under_test.main, args(_ansible_check_mode=True))
    assert code == 0
    assert "failed" not in result and result["changed"] is False
    assert result["groups"] == [resolved("master", 103, "All Linux", [1011, 1012, 1013, 1014, 1015, 1016, 1020]),
                                resolved("custom/Payments", 201, "Payment Servers", [1001, 1002, 1003])]
    assert result["computers"] == [1011, 1012, 1013, 1014, 1015, 1016, 1020, 1001, 1002, 1003]
    assert len(served) == 1 and served[0].url == URL
    assert len(server.log) == 4
    assert_no_secret(out, SECRET)


def test_main_fails_with_every_error_and_returns_what_resolved(server, served, run_main):
    server.fail("/api/computergroup/master/101/computers", 403, FORBIDDEN.encode("utf-8"))
    code, result, out = run_main(module_under_test.main, args(groups=[
        {"site": "master", "name": "Nope"}, {"site": "custom/Payments", "id": 201}, {"site": "master", "id": 101}]))
    assert code == 1 and result["failed"] is True and len(served) == 1
    assert result["msg"] == (
        "site master has no group with the name 'Nope'; its groups are: All Linux (103), All Windows Servers (101), "
        "Web Servers (102); group 'All Windows Servers' of site master: GET /api/computergroup/master/101/computers: "
        + FORBIDDEN_MESSAGE)
    assert result["changed"] is False
    assert result["groups"] == [resolved("custom/Payments", 201, "Payment Servers", [1001, 1002, 1003])]
    assert result["computers"] == [1001, 1002, 1003]
    assert_no_secret(out, SECRET)


def test_main_refuses_a_bad_site_before_any_request(server, served, run_main):
    code, result, out = run_main(module_under_test.main, args(groups=[{"site": "master", "id": 101},
                                                                      {"site": "Integration", "name": "gen-group-1"}]))
    assert code == 1 and result["failed"] is True
    assert result["msg"].startswith("groups[1].site: site 'Integration' is not a BigFix site path")
    assert "custom/NAME" in result["msg"]
    assert server.log == []
    assert_no_secret(out, SECRET)


@pytest.mark.parametrize("group, fragment", [
    ({"site": "master", "name": "All Linux", "id": 103}, "mutually exclusive: name|id"),
    ({"site": "master"}, "one of the following is required: name, id"),
    ({"name": "All Linux"}, "missing required arguments: site"),
])
def test_main_checks_each_group_before_connecting(server, served, run_main, group, fragment):
    code, result = run_main(module_under_test.main, args(groups=[group]))[:2]
    assert code == 1 and fragment in result["msg"] and "groups" in result["msg"]
    assert served == [] and server.log == []


def test_main_requires_groups(served, run_main):
    code, result = run_main(module_under_test.main, args(groups=None))[:2]
    assert code == 1 and "missing required arguments: groups" in result["msg"]
    assert served == []


def test_main_never_outputs_an_echoed_password(server, served, run_main):
    token = base64.b64encode(("operator:%s" % SECRET).encode("utf-8")).decode("ascii")
    server.fail("/api/computergroups/master", 401, ("bad credentials %s / Basic %s" % (SECRET, token)).encode("utf-8"))
    code, result, out = run_main(module_under_test.main, args())
    assert code == 1 and len(served) == 1
    assert "GET /api/computergroups/master: HTTP 401" in result["msg"] and "bad credentials" in result["msg"]
    assert result["groups"] == [resolved("custom/Payments", 201, "Payment Servers", [1001, 1002, 1003])]
    assert_no_secret(out, SECRET)
