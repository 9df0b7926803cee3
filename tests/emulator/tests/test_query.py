"""Session relevance on /api/query: the supported forms, XML and JSON output, and errors as HTTP 200."""

from urllib.parse import quote

import pytest

from tests.emulator.tests.helpers import ALL_COMPUTERS, assert_text, besapi_root

GROUP_MEMBERS = 'ids of members of bes computer groups whose (name of it = "{}" and name of site of it = "{}")'
TUPLES = "(id of it, name of it, name of site of it) of bes computer groups"


def answers(root):
    query = root.find("Query")
    return [(answer.get("type"), answer.text) for answer in query.find("Result")]


def test_ids_of_bes_computers_xml(master):
    root = besapi_root(master.get("/api/query", params={"relevance": "ids of bes computers"}))
    query = root.find("Query")
    assert query.get("Resource") == "ids of bes computers"
    assert answers(root) == [("integer", str(cid)) for cid in ALL_COMPUTERS]
    assert query.findtext("Evaluation/Plurality") == "Plural"
    assert query.findtext("Evaluation/Time").endswith("ms")


def test_post_form_and_json_output(master):
    response = master.post("/api/query", data={"relevance": "ids of bes computers", "output": "json"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["result"] == ALL_COMPUTERS
    assert body["count"] == len(ALL_COMPUTERS)
    assert body["plural"] is True
    assert body["type"] == "integer"
    assert isinstance(body["evaltime_ms"], float)


def test_names_and_number(master):
    names = master.get("/api/query", params={"relevance": "names of bes computers", "output": "json"}).json()
    assert names["result"][:2] == ["WIN-PAY-01", "WIN-PAY-02"]
    assert names["type"] == "string"
    root = besapi_root(master.get("/api/query", params={"relevance": "number of bes computers"}))
    assert answers(root) == [("integer", "20")]
    assert root.findtext("Query/Evaluation/Plurality") == "Singular"


@pytest.mark.parametrize("group, site, expected", [
    ("Web Servers", "ActionSite", [1004, 1005, 1011, 1012]),
    ("Web Servers", "Payments", [1004, 1005]),
    ("Windows Desktops", "Public/Windows", [1006, 1007, 1008, 1009, 1010]),
    ("Decommissioned", "Public/Windows", []),
    ("Web Servers", "master", []),
    ("No Such Group", "ActionSite", []),
])
def test_group_members(master, group, site, expected):
    expression = GROUP_MEMBERS.format(group, site)
    assert master.post("/api/query", data={"relevance": expression, "output": "json"}).json()["result"] == expected
    assert answers(besapi_root(master.post("/api/query", data={"relevance": expression}))) == [
        ("integer", str(cid)) for cid in expected]


def test_relevance_spacing_and_keyword_case_are_flexible(master):
    expression = 'IDs of  members of bes computer groups whose(name of it="Web Servers"and name of site of it = "Payments" )'
    assert master.get("/api/query", params={"relevance": expression, "output": "json"}).json()["result"] == [1004, 1005]


def test_tuples(master):
    root = besapi_root(master.get("/api/query", params={"relevance": TUPLES}))
    tuples = root.find("Query/Result")
    assert all(element.tag == "Tuple" for element in tuples)
    assert [(answer.get("type"), answer.text) for answer in tuples[0]] == [
        ("integer", "101"), ("string", "All Windows Servers"), ("string", "ActionSite")]
    result = master.get("/api/query", params={"relevance": TUPLES, "output": "json"}).json()["result"]
    assert [302, "Decommissioned", "Public/Windows"] in result
    assert len(result) == 8


def test_relevance_is_url_decoded_twice(master):
    """besapi percent-quotes the relevance before form encoding; the server decodes twice."""
    expression = GROUP_MEMBERS.format("Web Servers", "Payments")
    response = master.post("/api/query", data={"relevance": quote(expression, safe=":+"), "output": "json"})
    assert response.json()["result"] == [1004, 1005]


def test_unsupported_relevance_is_an_error_with_http_200(master):
    expression = "names of bes fixlets whose (name of it contains \"<&>\")"
    root = besapi_root(master.get("/api/query", params={"relevance": expression}))
    query = root.find("Query")
    assert query.get("Resource") == expression
    assert len(query.find("Result")) == 0
    assert query.findtext("Error")
    assert query.find("Evaluation") is None
    response = master.get("/api/query", params={"relevance": expression, "output": "json"})
    assert response.status_code == 200
    assert set(response.json()) == {"error"}


def test_missing_relevance_is_400(master):
    assert_text(master.get("/api/query"), 400)
    assert_text(master.post("/api/query", data={"output": "json"}), 400)
