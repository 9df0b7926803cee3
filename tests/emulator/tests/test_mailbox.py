"""Mailbox endpoints: listing, uploads in every accepted form, updates, deletes, names and errors.

Each test writes to its own computer (or uses unique names), so the order of tests does not matter.
Computer 1001 holds seeded files and is only read; 1010 is never written.
"""

import base64
import http.client
import ssl
from urllib.parse import urlsplit

import pytest

from tests.emulator.tests.helpers import (FOX, FOX_SHA1, NOT_FOUND_TEXT, TIMESTAMP, assert_empty, assert_text, besapi_root,
                                          entry_named, mailbox_entries, sha1_hex)


def test_seeded_mailbox_lists_files_in_schema_order(master, emulator):
    entries = mailbox_entries(master.get("/api/mailbox/1001"))
    assert [entry["name"] for entry in entries] == ["app.conf", "rates.csv"]
    fox = entries[0]
    assert fox["sha1"] == FOX_SHA1
    assert fox["size"] == len(FOX)
    assert TIMESTAMP.match(fox["timestamp"])
    assert fox["resource"] == f"{emulator.url}/api/mailbox/1001/{fox['id']}"
    assert entries[0]["id"] < entries[1]["id"]


def test_empty_mailbox_is_an_empty_besapi(master):
    root = besapi_root(master.get("/api/mailbox/1010"))
    assert len(root) == 0


def test_computer_mailbox_alias_matches_mailbox(master):
    assert mailbox_entries(master.get("/api/computer/1001/mailbox")) == mailbox_entries(master.get("/api/mailbox/1001"))


def test_raw_upload_returns_whole_mailbox(master):
    first = entry_named(mailbox_entries(master.upload(1002, "first.txt", b"one")), "first.txt")
    entries = mailbox_entries(master.upload(1002, "second.txt", b"second content"))
    second = entry_named(entries, "second.txt")
    assert entry_named(entries, "first.txt") == first
    assert second["sha1"] == sha1_hex(b"second content")
    assert second["size"] == len(b"second content")
    assert second["id"] > first["id"]
    assert mailbox_entries(master.get("/api/mailbox/1002")) == entries


def test_file_ids_come_from_one_global_counter(master):
    ids = []
    for computer_id in (1012, 1014, 1012):
        ids.append(entry_named(mailbox_entries(master.upload(computer_id, f"counter-{len(ids)}.txt", b"x")),
                               f"counter-{len(ids)}.txt")["id"])
    assert ids == sorted(ids)
    assert len(set(ids)) == 3


def test_get_one_file_returns_its_metadata(master, emulator):
    entry = entry_named(mailbox_entries(master.get("/api/mailbox/1001")), "app.conf")
    root = besapi_root(master.get(f"/api/mailbox/1001/{entry['id']}"))
    assert len(root) == 1
    assert root[0].tag == "ComputerMailboxFile"
    assert root[0].findtext("SHA1") == FOX_SHA1
    assert root[0].get("Resource") == f"{emulator.url}/api/mailbox/1001/{entry['id']}"


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_update_replaces_content_and_keeps_id_and_name(master, method):
    original = entry_named(mailbox_entries(master.upload(1003, f"update-{method}.txt", b"old")), f"update-{method}.txt")
    response = master.request(method, f"/api/mailbox/1003/{original['id']}", data=b"brand new content",
                              headers={"Content-Disposition": 'attachment; filename="ignored.txt"'})
    updated = entry_named(mailbox_entries(response), f"update-{method}.txt")
    assert updated["id"] == original["id"]
    assert updated["sha1"] == sha1_hex(b"brand new content")
    assert updated["size"] == len(b"brand new content")
    assert "ignored.txt" not in [entry["name"] for entry in mailbox_entries(response)]


def test_update_without_content_disposition_is_accepted(master):
    original = entry_named(mailbox_entries(master.upload(1003, "bare-update.txt", b"old")), "bare-update.txt")
    updated = entry_named(mailbox_entries(master.put(f"/api/mailbox/1003/{original['id']}", data=b"")), "bare-update.txt")
    assert updated["size"] == 0
    assert updated["sha1"] == sha1_hex(b"")


def test_multipart_update_uses_the_first_file_part(master):
    original = entry_named(mailbox_entries(master.upload(1003, "multi-update.txt", b"old")), "multi-update.txt")
    files = [("file", ("a.txt", b"first part")), ("file", ("b.txt", b"second part"))]
    response = master.post(f"/api/mailbox/1003/{original['id']}", files=files)
    entries = mailbox_entries(response)
    updated = entry_named(entries, "multi-update.txt")
    assert updated["id"] == original["id"]
    assert updated["sha1"] == sha1_hex(b"first part")
    assert not {"a.txt", "b.txt"} & {entry["name"] for entry in entries}


def test_multipart_update_without_file_part_is_400(master):
    original = entry_named(mailbox_entries(master.upload(1003, "multi-nofile.txt", b"old")), "multi-nofile.txt")
    response = master.put(f"/api/mailbox/1003/{original['id']}", files=[("comment", (None, "no file here"))])
    assert_text(response, 400)
    assert "filename" in response.text
    assert entry_named(mailbox_entries(master.get("/api/mailbox/1003")), "multi-nofile.txt")["sha1"] == sha1_hex(b"old")


def test_delete_returns_mailbox_without_the_file(master):
    entry = entry_named(mailbox_entries(master.upload(1004, "doomed.txt", b"bye")), "doomed.txt")
    entries = mailbox_entries(master.delete(f"/api/mailbox/1004/{entry['id']}"))
    assert "doomed.txt" not in [item["name"] for item in entries]
    assert_empty(master.delete(f"/api/mailbox/1004/{entry['id']}"))
    assert_empty(master.get(f"/api/mailbox/1004/{entry['id']}"))


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
def test_unknown_file_id_is_404_with_empty_body(master, method):
    assert_empty(master.request(method, "/api/mailbox/1004/999999", data=b"x",
                                headers={"Content-Disposition": 'attachment; filename="x"'}))


@pytest.mark.parametrize("path", ["/api/mailbox/abc", "/api/mailbox/1001/abc", "/api/mailbox/-1", "/api/mailbox/1001/",
                                  "/api/mailbox/%C2%B2", "/api/computer/x1/mailbox"])
def test_non_numeric_ids_are_404_with_server_text(master, path):
    assert_text(master.get(path), 404, NOT_FOUND_TEXT)


@pytest.mark.parametrize("method, path", [("GET", "/api/mailbox/999"), ("POST", "/api/mailbox/999"),
                                          ("GET", "/api/mailbox/999/1"), ("DELETE", "/api/mailbox/999/1"),
                                          ("GET", "/api/computer/999/mailbox")])
def test_unknown_computer_is_404_with_empty_body(master, method, path):
    assert_empty(master.request(method, path, data=b"x", headers={"Content-Disposition": 'attachment; filename="x"'}))


def test_post_without_computer_id_is_400(master):
    assert_text(master.post("/api/mailbox/", data=b"x", headers={"Content-Disposition": 'attachment; filename="x"'}),
                400, "computer id required")


@pytest.mark.parametrize("method, path, allowed", [
    ("GET", "/api/mailbox/", "POST"),
    ("PUT", "/api/mailbox/", "POST"),
    ("DELETE", "/api/mailbox/", "POST"),
    ("PUT", "/api/mailbox/1001", "GET, POST"),
    ("DELETE", "/api/mailbox/1001", "GET, POST"),
    ("PATCH", "/api/mailbox/1001/1", "GET, PUT, POST, DELETE"),
    ("HEAD", "/api/mailbox/1001", "GET, POST"),
    ("OPTIONS", "/api/mailbox/1001", "GET, POST"),
    ("POST", "/api/computer/1001/mailbox", "GET"),
    ("DELETE", "/api/computer/1001/mailbox", "GET"),
])
def test_verbs_that_do_not_exist_are_405(master, method, path, allowed):
    response = master.request(method, path)
    assert_text(response, 405)
    assert response.headers["Allow"] == allowed


@pytest.mark.parametrize("disposition, expected", [
    ('attachment; filename="plain.txt"', "plain.txt"),
    ("attachment; filename=unquoted.txt", "unquoted.txt"),
    ('attachment;filename="nospace.txt"', "nospace.txt"),
    ('filename="bare.txt"', "bare.txt"),
    ('name="FileContents";filename="CMDBData-abc-1006"', "CMDBData-abc-1006"),
    ('form-data; name="file"; filename="formdata.txt"', "formdata.txt"),
    ('attachment; filename = "spaced.txt" ', "spaced.txt"),
    ('ATTACHMENT; FILENAME="upper.txt"', "upper.txt"),
    ('attachment; filename="with space.txt"', "with space.txt"),
    ('attachment; filename="semi;colon.txt"', "semi;colon.txt"),
    ('attachment; filename="quote\\"inside.txt"', 'quote"inside.txt'),
    ("attachment; filename*=UTF-8''%E2%82%AC%20rates.txt", "\u20ac rates.txt"),
    ("attachment; filename=\"fallback.txt\"; filename*=utf-8'en'pr%C3%A9f%C3%A9r%C3%A9.txt", "pr\u00e9f\u00e9r\u00e9.txt"),
])
def test_content_disposition_spellings(master, disposition, expected):
    response = master.post("/api/mailbox/1006", data=b"payload", headers={"Content-Disposition": disposition})
    assert entry_named(mailbox_entries(response), expected)["sha1"] == sha1_hex(b"payload")


def test_utf8_bytes_in_a_quoted_filename(master):
    name = "r\u00e9sum\u00e9-\u65e5\u672c.txt"
    assert entry_named(mailbox_entries(master.upload(1015, name, b"utf8")), name)["size"] == 4


def test_names_with_markup_characters_are_escaped(master):
    name = 'a&b <c> "d" \'e\' ]]> \u00e9\u20ac'
    response = master.upload(1015, name, b"markup")
    assert b"&amp;b &lt;c&gt;" in response.content
    assert entry_named(mailbox_entries(response), name)["sha1"] == sha1_hex(b"markup")


def test_form_urlencoded_body_is_stored_raw(master):
    body = b"a=1&b=two+words&c=%41"
    response = master.post("/api/mailbox/1009", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Disposition": 'name="FileContents";filename="cmdb-form.txt"'})
    entry = entry_named(mailbox_entries(response), "cmdb-form.txt")
    assert entry["sha1"] == sha1_hex(body)
    assert entry["size"] == len(body)


def test_empty_raw_file(master):
    entry = entry_named(mailbox_entries(master.upload(1009, "empty.txt", b"")), "empty.txt")
    assert entry["size"] == 0
    assert entry["sha1"] == "da39a3ee5e6b4b0d3255bfef95601890afd80709"


def test_chunked_upload(master):
    chunks = [b"chunk-%d;" % number for number in range(100)]
    response = master.post("/api/mailbox/1014", data=iter(chunks),
                           headers={"Content-Disposition": 'attachment; filename="chunked.txt"'})
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert entry_named(mailbox_entries(response), "chunked.txt")["sha1"] == sha1_hex(b"".join(chunks))


def test_multipart_with_several_files(master):
    files = [("file", ("one.txt", b"1" * 70000)), ("comment", (None, "a form field, not a file")),
             ("file", ("two.txt", b"")), ("other", ("three.bin", bytes(range(256)) * 3))]
    entries = mailbox_entries(master.post("/api/mailbox/1005", files=files))
    assert entry_named(entries, "one.txt")["sha1"] == sha1_hex(b"1" * 70000)
    assert entry_named(entries, "two.txt")["size"] == 0
    assert entry_named(entries, "three.bin")["sha1"] == sha1_hex(bytes(range(256)) * 3)
    assert len(entries) == 3


def test_multipart_body_containing_boundary_like_bytes(master):
    tricky = b"--not-the-boundary\r\n--\r\n\r\n" * 1000
    entries = mailbox_entries(master.post("/api/mailbox/1005", files=[("file", ("tricky.bin", tricky))]))
    assert entry_named(entries, "tricky.bin")["sha1"] == sha1_hex(tricky)


def test_multipart_without_file_part_is_400(master):
    response = master.post("/api/mailbox/1005", files=[("comment", (None, "no file"))])
    assert_text(response, 400)
    assert "filename" in response.text


def test_truncated_multipart_is_400(master):
    body = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n\r\nno closing boundary'
    response = master.post("/api/mailbox/1005", data=body, headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert_text(response, 400)
    assert "cut.txt" not in master.get("/api/mailbox/1005").text


def test_missing_filename_is_400(master):
    for headers in ({}, {"Content-Disposition": "attachment"}, {"Content-Disposition": 'attachment; name="x"'}):
        response = master.post("/api/mailbox/1007", data=b"x", headers=headers)
        assert_text(response, 400)
        assert "filename" in response.text
    assert len(besapi_root(master.get("/api/mailbox/1007"))) == 0


@pytest.mark.parametrize("disposition, problem", [
    ('attachment; filename="dir/file.txt"', "'/'"),
    ('attachment; filename="dir\\\\file.txt"', "'\\'"),
    ("attachment; filename*=UTF-8''bell%07.txt", "U+0007"),
    ("attachment; filename*=UTF-8''tab%09.txt", "U+0009"),
    ("attachment; filename*=UTF-8''nl%0A.txt", "U+000A"),
    ('attachment; filename="__BESData.txt"', "'__'"),
    ('attachment; filename="task.fxf"', ".fxf"),
    ('attachment; filename="TASK.FxF"', ".fxf"),
    ('attachment; filename=""', "empty"),
    ('attachment; filename=".."', "not a file name"),
])
def test_bad_names_are_400_naming_the_problem(master, disposition, problem):
    response = master.post("/api/mailbox/1007", data=b"x", headers={"Content-Disposition": disposition})
    assert_text(response, 400)
    assert problem in response.text
    assert len(besapi_root(master.get("/api/mailbox/1007"))) == 0


def test_bad_name_in_one_multipart_part_rejects_all(master):
    files = [("file", ("good.txt", b"good")), ("file", ("__bad.txt", b"bad"))]
    assert_text(master.post("/api/mailbox/1007", files=files), 400)
    assert len(besapi_root(master.get("/api/mailbox/1007"))) == 0


def test_duplicate_policy_replace(switches, master):
    switches.configure(duplicate_name_policy="replace")
    first = entry_named(mailbox_entries(master.upload(1008, "replace.txt", b"v1")), "replace.txt")
    second = entry_named(mailbox_entries(master.upload(1008, "replace.txt", b"v2")), "replace.txt")
    assert second["sha1"] == sha1_hex(b"v2")
    assert second["id"] != first["id"]


def test_duplicate_policy_append(switches, master):
    switches.configure(duplicate_name_policy="append")
    master.upload(1008, "append.txt", b"v1")
    entries = [entry for entry in mailbox_entries(master.upload(1008, "append.txt", b"v2")) if entry["name"] == "append.txt"]
    assert [entry["sha1"] for entry in entries] == [sha1_hex(b"v1"), sha1_hex(b"v2")]


def test_duplicate_policy_reject(switches, master):
    switches.configure(duplicate_name_policy="reject")
    master.upload(1008, "reject.txt", b"v1")
    response = master.upload(1008, "reject.txt", b"v2")
    assert_text(response, 409)
    assert "reject.txt" in response.text
    files = [("file", ("reject-new.txt", b"new")), ("file", ("reject.txt", b"v3"))]
    assert_text(master.post("/api/mailbox/1008", files=files), 409)
    same_request_twice = [("file", ("twice.txt", b"a")), ("file", ("twice.txt", b"b"))]
    assert_text(master.post("/api/mailbox/1008", files=same_request_twice), 409)
    entries = mailbox_entries(master.get("/api/mailbox/1008"))
    assert entry_named(entries, "reject.txt")["sha1"] == sha1_hex(b"v1")
    assert not {"reject-new.txt", "twice.txt"} & {entry["name"] for entry in entries}


def test_keep_alive_connection_survives_errors(master):
    """Rejected uploads have their bodies drained, so the same connection serves the next request."""
    parts = urlsplit(master.emulator.url)
    connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30,
                                             context=ssl.create_default_context(cafile=master.emulator.ca_path))
    authorization = "Basic " + base64.b64encode(":".join(master.auth).encode("utf-8")).decode("ascii")
    try:
        connection.request("POST", "/api/mailbox/1012", body=b"x" * 200000, headers={"Authorization": authorization})
        response = connection.getresponse()
        assert response.status == 400
        response.read()
        socket_after_error = connection.sock
        assert socket_after_error is not None
        connection.request("POST", "/api/mailbox/1012", body=b"ok", headers={
            "Authorization": authorization, "Content-Disposition": 'attachment; filename="alive.txt"'})
        response = connection.getresponse()
        assert response.status == 200
        assert b"<Name>alive.txt</Name>" in response.read()
        assert connection.sock is socket_after_error
    finally:
        connection.close()
