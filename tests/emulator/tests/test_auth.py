"""Authentication, sessions, the REST API right, and operator scope (403/404 switch, visibility)."""

import base64
import time

import pytest

from tests.emulator.launcher import Emulator
from tests.emulator.tests.helpers import (ALL_COMPUTERS, MASTER, NON_MASTER_COMPUTERS, Client, assert_empty, assert_text,
                                          besapi_root, mailbox_entries)

UTF8_OPERATOR = ("jos\u00e9", "p\u00e4ss-\u20ac-\u65e5\u672c")


def assert_unauthorized(response):
    assert_text(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Basic realm="BigFix Server"'


@pytest.mark.parametrize("auth", [None, ("bigfix", "wrong"), ("nobody", "bigfix-demo-password"), ("bigfix", "")])
def test_missing_or_wrong_credentials_are_401_with_realm(emulator, auth):
    assert_unauthorized(Client(emulator, auth).get("/api/computers"))


@pytest.mark.parametrize("header", ["Basic !!!not-base64!!!", "Basic " + base64.b64encode(b"no-colon").decode(),
                                    "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "Bearer abc", "Digest x"])
def test_malformed_authorization_is_401(emulator, header):
    assert_unauthorized(Client(emulator, None).get("/api/login", headers={"Authorization": header}))


def test_401_applies_to_every_api_path(emulator):
    client = Client(emulator, None)
    for method, path in (("GET", "/api/mailbox/1001"), ("POST", "/api/mailbox/1001"), ("GET", "/api/query"),
                         ("GET", "/api/nothing-here")):
        assert_unauthorized(client.request(method, path))


def test_basic_auth_works_on_every_request(master):
    for path in ("/api/computers", "/api/mailbox/1001", "/api/computergroups/master"):
        besapi_root(master.get(path))


def test_login_returns_ok_and_a_session_token(master):
    response = master.get("/api/login")
    assert_text(response, 200, "ok")
    assert len(response.headers["SessionToken"]) >= 16
    assert "SessionToken" not in master.get("/api/computers").headers


def test_session_token_replaces_basic_auth(master):
    token = master.get("/api/login").headers["SessionToken"]
    anonymous = Client(master.emulator, None)
    besapi_root(anonymous.get("/api/computers", headers={"SessionToken": token}))
    refreshed = anonymous.get("/api/login", headers={"SessionToken": token})
    assert_text(refreshed, 200, "ok")
    assert refreshed.headers["SessionToken"] == token
    assert_unauthorized(anonymous.get("/api/computers", headers={"SessionToken": "0" * 32}))


def test_expire_sessions_invalidates_tokens(master):
    token = master.get("/api/login").headers["SessionToken"]
    anonymous = Client(master.emulator, None)
    besapi_root(anonymous.get("/api/computers", headers={"SessionToken": token}))
    assert master.emulator.expire_sessions() >= 1
    assert_unauthorized(anonymous.get("/api/computers", headers={"SessionToken": token}))
    besapi_root(master.get("/api/computers", headers={"SessionToken": token}))


def test_session_idle_timeout(switches, master):
    switches.configure(session_idle_timeout=1.2)
    anonymous = Client(master.emulator, None)
    token = master.get("/api/login").headers["SessionToken"]
    for unused_step in range(4):
        # Each use restarts the idle timer: 1.6 s in all, never 1.2 s idle.
        time.sleep(0.4)
        assert anonymous.get("/api/login", headers={"SessionToken": token}).status_code == 200
    time.sleep(1.5)
    assert_unauthorized(anonymous.get("/api/login", headers={"SessionToken": token}))


@pytest.mark.parametrize("path", ["/api/login", "/api/computers", "/api/mailbox/1001", "/api/query?relevance=ids%20of%20bes%20computers"])
def test_operator_without_rest_right_is_403(no_rest, path):
    response = no_rest.get(path)
    assert_text(response, 403)
    assert "auditor" in response.text


def test_non_master_sees_only_administered_computers(non_master, master):
    assert [int(element.findtext("ID")) for element in besapi_root(non_master.get("/api/computers"))] == NON_MASTER_COMPUTERS
    assert [int(element.findtext("ID")) for element in besapi_root(master.get("/api/computers"))] == ALL_COMPUTERS


def test_non_master_group_members_are_filtered(non_master):
    members = besapi_root(non_master.get("/api/computergroup/master/103/computers"))
    assert [int(element.findtext("ID")) for element in members] == [1011, 1012]
    definition = besapi_root(non_master.get("/api/computergroup/master/103"), "BES.xsd")
    assert definition.findtext("ComputerGroup/SearchComponentRelevance/Relevance") == "set of (1011; 1012) contains computer id"


def test_non_master_query_results_are_filtered(non_master):
    response = non_master.get("/api/query", params={"relevance": "ids of bes computers", "output": "json"})
    assert response.json()["result"] == NON_MASTER_COMPUTERS
    response = non_master.get("/api/query", params={
        "relevance": 'ids of members of bes computer groups whose (name of it = "All Linux" and name of site of it = "ActionSite")',
        "output": "json"})
    assert response.json()["result"] == [1011, 1012]


def test_non_master_in_scope_computer_and_mailbox(non_master):
    besapi_root(non_master.get("/api/computer/1001"))
    assert [entry["name"] for entry in mailbox_entries(non_master.get("/api/mailbox/1001"))] == ["app.conf", "rates.csv"]


@pytest.mark.parametrize("method, path", [("GET", "/api/computer/1013"), ("GET", "/api/mailbox/1013"),
                                          ("POST", "/api/mailbox/1013"), ("GET", "/api/mailbox/1013/1"),
                                          ("DELETE", "/api/mailbox/1013/1"), ("GET", "/api/computer/1013/mailbox")])
def test_out_of_scope_is_403_or_404_by_switch(switches, non_master, method, path):
    headers = {"Content-Disposition": 'attachment; filename="scope.txt"'}
    response = non_master.request(method, path, data=b"x", headers=headers)
    assert_text(response, 403)
    assert "1013" in response.text
    switches.configure(out_of_scope_status=404)
    assert_empty(non_master.request(method, path, data=b"x", headers=headers))
    assert "scope.txt" not in Client(switches, MASTER).get("/api/mailbox/1013").text


def test_utf8_credentials():
    fleet = {"operators": [{"name": UTF8_OPERATOR[0], "password": UTF8_OPERATOR[1], "master": True}],
             "computers": [{"id": 1, "name": "one"}]}
    with Emulator(fleet) as emulator:
        utf8 = Client(emulator, tuple(part.encode("utf-8") for part in UTF8_OPERATOR))
        assert_text(utf8.get("/api/login"), 200, "ok")
        latin1 = Client(emulator, (UTF8_OPERATOR[0].encode("latin-1"), b"x"))
        assert_unauthorized(latin1.get("/api/login"))
