"""A real third-party client, besapi's BESConnection, against the emulator."""

import pytest
from besapi import besapi

from tests.emulator.tests.helpers import MASTER, NO_REST, sha1_hex


@pytest.fixture
def connection(emulator):
    """A logged-in besapi connection that verifies TLS with the emulator's CA."""
    bes = besapi.BESConnection(*MASTER, emulator.url, verify=emulator.ca_path)
    yield bes
    bes.logout()


def test_login_and_list_computers(connection, emulator):
    assert connection.login()
    assert connection.rootserver_port == int(emulator.url.rsplit(":", 1)[1])
    result = connection.get("computers")
    assert result.request.status_code == 200
    assert result.valid
    assert [int(computer.ID) for computer in result.besobj.Computer] == list(range(1001, 1021))


def test_list_post_and_delete_mailbox_files(connection):
    listed = connection.get("mailbox/1001")
    assert [str(entry.Name) for entry in listed.besobj.ComputerMailboxFile] == ["app.conf", "rates.csv"]

    content = b"posted through besapi\n"
    posted = connection.post("mailbox/1016", content,
                             headers={"Content-Disposition": 'attachment; filename="besapi.txt"'})
    assert posted.request.status_code == 200
    assert posted.valid
    entry = next(item for item in posted.besobj.ComputerMailboxFile if str(item.Name) == "besapi.txt")
    assert str(entry.SHA1) == sha1_hex(content)
    assert int(entry.Size) == len(content)

    deleted = connection.delete(f"mailbox/1016/{int(entry.ID)}")
    assert deleted.request.status_code == 200
    assert "besapi.txt" not in [str(item.Name) for item in getattr(deleted.besobj, "ComputerMailboxFile", [])]
    assert connection.delete(f"mailbox/1016/{int(entry.ID)}").request.status_code == 404


def test_session_relevance(connection):
    assert connection.session_relevance_array("number of bes computers") == ["20"]
    members = connection.session_relevance_array(
        'ids of members of bes computer groups whose (name of it = "Web Servers" and name of site of it = "Payments")')
    assert members == ["1004", "1005"]
    assert connection.session_relevance_json_array("ids of bes computers")[:2] == [1001, 1002]
    with pytest.raises(ValueError, match="Session relevance error"):
        connection.session_relevance_array("names of bes fixlets", raise_errors=True)


def test_operator_without_rest_right_raises_permission_error(emulator):
    with pytest.raises(PermissionError):
        besapi.BESConnection(*NO_REST, emulator.url, verify=emulator.ca_path)
