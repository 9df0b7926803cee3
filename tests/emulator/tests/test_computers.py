"""Computers, sites and computer groups, including site names with a '/' sent as %2f."""

import pytest

from tests.emulator.tests.helpers import ALL_COMPUTERS, NOT_FOUND_TEXT, TIMESTAMP, assert_empty, assert_text, besapi_root


def ids(root):
    return [int(element.findtext("ID")) for element in root]


def test_computer_list(master, emulator):
    root = besapi_root(master.get("/api/computers"))
    assert ids(root) == ALL_COMPUTERS
    first = root[0]
    assert [child.tag for child in first] == ["LastReportTime", "ID"]
    assert first.get("Resource") == f"{emulator.url}/api/computer/1001"
    assert first.findtext("LastReportTime") == "Tue, 19 Mar 2024 22:26:24 +0000"
    assert all(TIMESTAMP.match(element.findtext("LastReportTime")) for element in root)


def test_computer_item_has_properties(master, emulator):
    root = besapi_root(master.get("/api/computer/1009"))
    computer = root[0]
    assert computer.get("Resource") == f"{emulator.url}/api/computer/1009"
    assert computer.find("LastReportTime") is None
    properties = [(element.get("Name"), element.text) for element in computer]
    assert properties[:4] == [("Computer Name", "WIN-DESK-04"), ("ID", "1009"), ("OS", "Win10 10.0.19045.4170"),
                              ("Last Report Time", "Fri, 15 Mar 2024 16:41:37 +0000")]
    assert [value for name, value in properties if name == "IP Address"] == ["10.0.7.21", "fe80::1c2d:3e4f:5a6b:7c8d"]
    assert ("User Name", "<none>") in properties


def test_computer_name_with_markup_is_escaped(master):
    response = master.get("/api/computer/1020")
    assert b"R&amp;D &lt;lab&gt;" in response.content
    assert besapi_root(response)[0].findtext("Property") == 'R&D <lab> "box"'


def test_unknown_and_non_numeric_computer(master):
    assert_empty(master.get("/api/computer/4242"))
    assert_text(master.get("/api/computer/abc"), 404, NOT_FOUND_TEXT)


@pytest.mark.parametrize("site, expected", [
    ("master", [(101, "All Windows Servers"), (102, "Web Servers"), (103, "All Linux")]),
    ("custom/Payments", [(201, "Payment Servers"), (202, "Web Servers")]),
    ("custom/Public%2fWindows", [(301, "Windows Desktops"), (302, "Decommissioned")]),
    ("custom/Public%2FWindows", [(301, "Windows Desktops"), (302, "Decommissioned")]),
    ("operator/alice", [(401, "Alice Pilot")]),
])
def test_group_lists_per_site(master, site, expected):
    root = besapi_root(master.get(f"/api/computergroups/{site}"))
    assert [(int(element.findtext("ID")), element.findtext("Name")) for element in root] == expected
    assert all(element.get("LastModified") for element in root)


def test_group_resource_urls_can_be_followed(master, emulator):
    root = besapi_root(master.get("/api/computergroups/custom/Public%2fWindows"))
    resource = root[0].get("Resource")
    assert resource == f"{emulator.url}/api/computergroup/custom/Public%2FWindows/301"
    assert ids(besapi_root(master.get(resource[len(emulator.url):] + "/computers"))) == [1006, 1007, 1008, 1009, 1010]


def test_unknown_site_is_404_empty(master):
    assert_empty(master.get("/api/computergroups/custom/Nope"))
    assert_empty(master.get("/api/computergroups/external/Payments"))


def test_unencoded_slash_in_site_name_does_not_match(master):
    assert_text(master.get("/api/computergroups/custom/Public/Windows"), 404, NOT_FOUND_TEXT)
    assert_text(master.get("/api/computergroups/bogus"), 404, NOT_FOUND_TEXT)


def test_group_item_is_bes_xsd_form(master):
    root = besapi_root(master.get("/api/computergroup/custom/Payments/201"), "BES.xsd")
    assert root.tag == "BES"
    group = root.find("ComputerGroup")
    assert group.findtext("Title") == "Payment Servers"
    assert group.findtext("JoinByIntersection") == "false"
    assert group.findtext("SearchComponentRelevance/Relevance") == "set of (1001; 1002; 1003) contains computer id"


def test_empty_group_item_and_members(master):
    root = besapi_root(master.get("/api/computergroup/custom/Public%2fWindows/302"), "BES.xsd")
    assert root.findtext("ComputerGroup/SearchComponentRelevance/Relevance") == "false"
    assert len(besapi_root(master.get("/api/computergroup/custom/Public%2fWindows/302/computers"))) == 0


def test_same_group_name_in_two_sites(master):
    in_master = besapi_root(master.get("/api/computergroup/master/102/computers"))
    in_payments = besapi_root(master.get("/api/computergroup/custom/Payments/202/computers"))
    assert ids(in_master) == [1004, 1005, 1011, 1012]
    assert ids(in_payments) == [1004, 1005]
    assert [child.tag for child in in_master[0]] == ["LastReportTime", "ID"]


@pytest.mark.parametrize("path", ["/api/computergroup/master/201", "/api/computergroup/master/999",
                                  "/api/computergroup/custom/Payments/101/computers", "/api/computergroup/custom/Nope/201"])
def test_group_in_another_site_or_unknown_is_404_empty(master, path):
    assert_empty(master.get(path))


def test_non_numeric_group_id(master):
    assert_text(master.get("/api/computergroup/master/abc"), 404, NOT_FOUND_TEXT)
    assert_text(master.get("/api/computergroup/master/abc/computers"), 404, NOT_FOUND_TEXT)


@pytest.mark.parametrize("method, path", [("POST", "/api/computers"), ("DELETE", "/api/computer/1001"),
                                          ("PUT", "/api/computergroups/master"), ("DELETE", "/api/computergroup/master/101"),
                                          ("POST", "/api/computergroup/master/101/computers"), ("PUT", "/api/login"),
                                          ("DELETE", "/api/query")])
def test_other_verbs_are_405(master, method, path):
    assert_text(master.request(method, path), 405)
