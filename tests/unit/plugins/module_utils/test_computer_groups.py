# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for module_utils/computer_groups.py: site paths, group and member listings, finding one group."""

from __future__ import annotations

import pytest

from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError
from ansible_collections.bigfix.core.plugins.module_utils.computer_groups import (
    MAX_CANDIDATES_SHOWN, ComputerGroup, find_group, group_members, list_groups, site_path,
)

URL = "https://bigfix.example.com:52311"
LAST_MODIFIED = "Tue, 19 Mar 2024 22:26:24 +0000"


def besapi(*elements):
    """A BESAPI document as the server (and the emulator) sends it."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<BESAPI xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:noNamespaceSchemaLocation="BESAPI.xsd">\n' + "".join(elements) + "</BESAPI>\n").encode("utf-8")


def group_entry(site, group_id, name):
    """One ``ComputerGroup`` of ``GET /api/computergroups/{site}``: Resource, LastModified, Name, ID."""
    return ('  <ComputerGroup Resource="%s/api/computergroup/%s/%d" LastModified="%s">\n'
            "    <Name>%s</Name>\n    <ID>%d</ID>\n  </ComputerGroup>\n"
            % (URL, site, group_id, LAST_MODIFIED, name, group_id))


def computer_entry(computer_id):
    """One ``Computer`` of ``GET /api/computergroup/{site}/{id}/computers``: Resource, LastReportTime, ID."""
    return ('  <Computer Resource="%s/api/computer/%d">\n    <LastReportTime>%s</LastReportTime>\n'
            "    <ID>%d</ID>\n  </Computer>\n" % (URL, computer_id, LAST_MODIFIED, computer_id))


MASTER_GROUPS = besapi(group_entry("master", 101, "All Windows Servers"), group_entry("master", 102, "Web Servers"),
                       group_entry("master", 103, "All Linux"))


def requested(harness):
    return [(call.method, call.path) for call in harness.transport.calls]


# --- site_path --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("site, expected", [
    ("master", "master"),
    ("MASTER", "master"),
    (" Master\n", "master"),
    ("custom/Payments", "custom/Payments"),
    ("Custom/Payments", "custom/Payments"),
    ("CUSTOM/PAYMENTS", "custom/PAYMENTS"),
    (" custom/Payments ", "custom/Payments"),
    ("operator/alice", "operator/alice"),
    ("Operator/alice", "operator/alice"),
    ("external/BES Support", "external/BES%20Support"),
    ("EXTERNAL/BES Support", "external/BES%20Support"),
    ("custom/Public/Windows", "custom/Public%2FWindows"),
    ("custom/Public%2fWindows", "custom/Public%2FWindows"),
    ("custom/Public%2FWindows", "custom/Public%2FWindows"),
    ("custom/a/b%2fc", "custom/a%2Fb%2Fc"),
    ("custom/Café", "custom/Caf%C3%A9"),
    ("custom/R&D?#", "custom/R%26D%3F%23"),
])
def test_site_path(site, expected):
    assert site_path(site) == expected


@pytest.mark.parametrize("site", [
    "", None, "   ", "Payments", "custom", "custom/", "operator/", "external/", " custom/ ", "/Payments",
    "master/Payments", "site/Payments", "actionsite", "customs/Payments",
])
def test_site_path_refuses_and_names_the_fix(site):
    with pytest.raises(ValueError) as error:
        site_path(site)
    assert str(error.value) == ("site %r is not a BigFix site path; write master, custom/NAME, operator/NAME or "
                                "external/NAME" % site)


# --- ComputerGroup ----------------------------------------------------------------------------------------------

def test_computer_group_to_dict_lists_the_members():
    group = ComputerGroup("custom/Payments", 201, "Payment Servers", (1001, 1002))
    assert group.to_dict() == {"site": "custom/Payments", "id": 201, "name": "Payment Servers", "members": [1001, 1002]}
    assert isinstance(group.to_dict()["members"], list)
    assert ComputerGroup("master", 1, "x").to_dict()["members"] == []


# --- list_groups ------------------------------------------------------------------------------------------------

def test_list_groups_reads_the_site_listing(scripted):
    harness = scripted((200, MASTER_GROUPS, {"Content-Type": "application/xml"}))
    groups = list_groups(harness.client, "master")
    assert groups == [ComputerGroup("master", 101, "All Windows Servers"), ComputerGroup("master", 102, "Web Servers"),
                      ComputerGroup("master", 103, "All Linux")]
    assert all(group.members == () for group in groups)
    assert requested(harness) == [("GET", "/api/computergroups/master")]


@pytest.mark.parametrize("site", ["custom/Public/Windows", "custom/Public%2fWindows", "Custom/Public%2FWindows"])
def test_list_groups_sends_a_slash_in_the_site_name_encoded_and_keeps_the_site_as_given(scripted, site):
    harness = scripted((200, besapi(group_entry("custom/Public%2FWindows", 301, "Windows Desktops"))))
    assert list_groups(harness.client, site) == [ComputerGroup(site, 301, "Windows Desktops")]
    assert requested(harness) == [("GET", "/api/computergroups/custom/Public%2FWindows")]


def test_list_groups_takes_the_id_from_the_resource_url_when_there_is_no_id(scripted):
    harness = scripted((200, besapi(
        '<ComputerGroup Resource="%s/api/computergroup/custom/Payments/201"><Name>Payment Servers</Name>'
        "</ComputerGroup>" % URL,
        '<ComputerGroup Resource="%s/api/computergroup/custom/Payments/202/"><Name>Web Servers</Name><ID/>'
        "</ComputerGroup>" % URL,
        '<ComputerGroup Resource="%s/api/computergroup/custom/Payments/203"><Name>Lab</Name><ID>n/a</ID>'
        "</ComputerGroup>" % URL,
    )))
    groups = list_groups(harness.client, "custom/Payments")
    assert [(group.id, group.name) for group in groups] == [
        (201, "Payment Servers"), (202, "Web Servers"), (203, "Lab")]


def test_list_groups_prefers_the_id_element_to_the_resource_url(scripted):
    harness = scripted((200, besapi('<ComputerGroup Resource="%s/api/computergroup/master/7"><Name>A</Name>'
                                    "<ID> 5 </ID></ComputerGroup>" % URL)))
    assert [group.id for group in list_groups(harness.client, "master")] == [5]


def test_list_groups_skips_entries_without_an_id(scripted):
    harness = scripted((200, besapi(
        "<ComputerGroup><Name>no id, no resource</Name></ComputerGroup>",
        '<ComputerGroup Resource="%s/api/computergroup/master/abc"><Name>resource without a number</Name>'
        "</ComputerGroup>" % URL,
        '<ComputerGroup Resource="%s/api/computergroup/master/12/computers"><Name>resource of the members</Name>'
        "<ID>-3</ID></ComputerGroup>" % URL,
        group_entry("master", 103, "All Linux"),
    )))
    assert list_groups(harness.client, "master") == [ComputerGroup("master", 103, "All Linux")]


def test_list_groups_unescapes_names_and_defaults_a_missing_name_to_empty(scripted):
    harness = scripted((200, besapi(group_entry("master", 1, "R&amp;D &lt;lab&gt; &quot;box&quot;"),
                                    "<ComputerGroup><ID>2</ID></ComputerGroup>",
                                    "<ComputerGroup><Name/><ID>3</ID></ComputerGroup>")))
    assert [(group.id, group.name) for group in list_groups(harness.client, "master")] == [
        (1, 'R&D <lab> "box"'), (2, ""), (3, "")]


def test_list_groups_reads_only_groups_directly_under_the_root(scripted):
    harness = scripted((200, besapi("<Site><ComputerGroup><Name>nested</Name><ID>9</ID></ComputerGroup></Site>",
                                    "<Computer><ID>1001</ID></Computer>",
                                    group_entry("master", 103, "All Linux"))))
    assert [group.id for group in list_groups(harness.client, "master")] == [103]


def test_list_groups_of_a_site_without_groups(scripted):
    harness = scripted((200, besapi()))
    assert list_groups(harness.client, "operator/alice") == []
    assert requested(harness) == [("GET", "/api/computergroups/operator/alice")]


def test_list_groups_of_an_unknown_site_fails_with_the_request(scripted):
    harness = scripted((404, ""))
    with pytest.raises(BigFixError) as error:
        list_groups(harness.client, "custom/Nowhere")
    assert error.value.status == 404
    assert str(error.value).startswith("GET /api/computergroups/custom/Nowhere: HTTP 404")
    assert len(harness.transport.calls) == 1


def test_list_groups_answer_that_is_not_besapi_fails(scripted):
    harness = scripted((200, "<html><body>login</body></html>"))
    with pytest.raises(BigFixError) as error:
        list_groups(harness.client, "master")
    assert "expected a BESAPI document, got <html>" in str(error.value)


def test_list_groups_refuses_a_bad_site_without_a_request(scripted):
    harness = scripted()
    with pytest.raises(ValueError) as error:
        list_groups(harness.client, "Payments")
    assert "custom/NAME" in str(error.value)
    assert harness.transport.calls == []


# --- group_members ----------------------------------------------------------------------------------------------

def test_group_members_reads_the_member_listing(scripted):
    harness = scripted((200, besapi(computer_entry(1001), computer_entry(1002), computer_entry(1003))))
    members = group_members(harness.client, "custom/Payments", 201)
    assert members == (1001, 1002, 1003)
    assert isinstance(members, tuple)
    assert requested(harness) == [("GET", "/api/computergroup/custom/Payments/201/computers")]


def test_group_members_keeps_the_server_order_and_repeats(scripted):
    harness = scripted((200, besapi(computer_entry(1012), computer_entry(1004), computer_entry(1012))))
    assert group_members(harness.client, "master", 102) == (1012, 1004, 1012)


@pytest.mark.parametrize("site", ["custom/Public/Windows", "custom/Public%2fWindows"])
def test_group_members_sends_a_slash_in_the_site_name_encoded(scripted, site):
    harness = scripted((200, besapi(computer_entry(1006))))
    assert group_members(harness.client, site, 301) == (1006,)
    assert requested(harness) == [("GET", "/api/computergroup/custom/Public%2FWindows/301/computers")]


def test_group_members_takes_the_id_from_the_resource_url_when_there_is_no_id(scripted):
    harness = scripted((200, besapi(
        '<Computer Resource="%s/api/computer/1001"><LastReportTime>%s</LastReportTime></Computer>'
        % (URL, LAST_MODIFIED),
        '<Computer Resource="%s/api/computer/1002/"><ID></ID></Computer>' % URL,
        '<Computer Resource="%s/api/computer/1003"><ID>1,003</ID></Computer>' % URL,
        '<Computer Resource="%s/api/computer/9"><ID>1004</ID></Computer>' % URL,
    )))
    assert group_members(harness.client, "master", 101) == (1001, 1002, 1003, 1004)


def test_group_members_skips_computers_without_an_id(scripted):
    harness = scripted((200, besapi("<Computer><LastReportTime>%s</LastReportTime></Computer>" % LAST_MODIFIED,
                                    '<Computer Resource="%s/api/computer/"><ID>x</ID></Computer>' % URL,
                                    "<Group><Computer><ID>7</ID></Computer></Group>",
                                    computer_entry(1011))))
    assert group_members(harness.client, "master", 103) == (1011,)


def test_group_members_of_an_empty_group(scripted):
    harness = scripted((200, besapi()))
    assert group_members(harness.client, "custom/Public/Windows", 302) == ()


def test_group_members_failure_propagates(scripted):
    harness = scripted((403, "Operator does not have access to this group"))
    with pytest.raises(BigFixError) as error:
        group_members(harness.client, "master", 101)
    assert error.value.status == 403
    assert str(error.value).startswith("GET /api/computergroup/master/101/computers: HTTP 403: Operator does not")


def test_group_members_refuses_a_bad_site_without_a_request(scripted):
    harness = scripted()
    with pytest.raises(ValueError):
        group_members(harness.client, "custom/", 101)
    assert harness.transport.calls == []


# --- find_group -------------------------------------------------------------------------------------------------

GROUPS = [ComputerGroup("master", 101, "All Windows Servers"), ComputerGroup("master", 102, "Web Servers"),
          ComputerGroup("master", 103, "All Linux")]


def test_find_group_by_name():
    assert find_group(GROUPS, "master", name="Web Servers") is GROUPS[1]


def test_find_group_by_id():
    assert find_group(GROUPS, "master", group_id=103) is GROUPS[2]
    assert find_group(GROUPS, "master", name=None, group_id=101) is GROUPS[0]


def test_find_group_by_name_is_exact():
    for name in ("web servers", "Web Servers ", "Web"):
        with pytest.raises(BigFixError) as error:
            find_group(GROUPS, "master", name=name)
        assert "has no group with the name %r" % name in str(error.value)


def test_find_group_with_an_ambiguous_name_lists_the_ids_and_says_to_give_the_id():
    groups = GROUPS + [ComputerGroup("master", 104, "Web Servers"), ComputerGroup("master", 99, "Web Servers")]
    with pytest.raises(BigFixError) as error:
        find_group(groups, "master", name="Web Servers")
    assert str(error.value) == ("3 groups of site master have the name 'Web Servers': IDs 102, 104, 99; "
                                "give the id instead of the name")
    assert error.value.status is None
    assert find_group(groups, "master", group_id=104) is groups[3]


def test_find_group_missing_name_lists_the_candidates_sorted():
    with pytest.raises(BigFixError) as error:
        find_group(GROUPS, "master", name="Nope")
    assert str(error.value) == ("site master has no group with the name 'Nope'; its groups are: "
                                "All Linux (103), All Windows Servers (101), Web Servers (102)")


def test_find_group_missing_id_lists_the_candidates():
    with pytest.raises(BigFixError) as error:
        find_group(GROUPS, "custom/Payments", group_id=999)
    assert str(error.value) == ("site custom/Payments has no group with the ID 999; its groups are: "
                                "All Linux (103), All Windows Servers (101), Web Servers (102)")


def test_find_group_in_a_site_without_groups():
    with pytest.raises(BigFixError) as error:
        find_group([], "operator/bob", name="Pilot")
    assert str(error.value) == "site operator/bob has no group with the name 'Pilot'; its groups are: (none)"


def many_groups(count):
    return [ComputerGroup("master", number, "group-%03d" % number) for number in range(count, 0, -1)]


def test_find_group_shows_at_most_the_first_candidates_then_dots():
    with pytest.raises(BigFixError) as error:
        find_group(many_groups(MAX_CANDIDATES_SHOWN + 5), "master", name="Nope")
    shown = str(error.value).split("; its groups are: ", 1)[1]
    assert shown.endswith(", ...")
    assert shown[:-len(", ...")].split(", ") == ["group-%03d (%d)" % (number, number)
                                                 for number in range(1, MAX_CANDIDATES_SHOWN + 1)]
    assert "group-%03d" % (MAX_CANDIDATES_SHOWN + 1) not in shown


def test_find_group_shows_every_candidate_up_to_the_limit():
    with pytest.raises(BigFixError) as error:
        find_group(many_groups(MAX_CANDIDATES_SHOWN), "master", group_id=0)
    text = str(error.value)
    assert not text.endswith("...")
    assert text.endswith("group-%03d (%d)" % (MAX_CANDIDATES_SHOWN, MAX_CANDIDATES_SHOWN))
    assert text.count(" (") == MAX_CANDIDATES_SHOWN
