# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for module_utils/mailbox.py: parsing listings, name and ID checks, hashing, the four calls."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from ansible_collections.bigfix.core.plugins.module_utils import mailbox
from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError, parse_besapi
from ansible_collections.bigfix.core.plugins.module_utils.mailbox import (
    MAX_COMPUTER_ID, LocalFile, MailboxFile, MultipartFile, check_computer_id, check_name, parse_files,
)

FOX = b"The quick brown fox jumps over the lazy dog"
FOX_SHA1 = "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"
FULL = ('<?xml version="1.0" encoding="UTF-8"?>'
        '<BESAPI xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="BESAPI.xsd">'
        '<ComputerMailboxFile Resource="https://bigfix.example.com:52311/api/mailbox/1234567/12">'
        '<Name>app.conf</Name><ID>12</ID><SHA1>2FD4E1C67A2D28FCED849EE1BB76E7391B93EB12</SHA1><Size>43</Size>'
        '<Timestamp>Tue, 19 Mar 2024 22:26:24 +0000</Timestamp></ComputerMailboxFile>'
        '<ComputerMailboxFile><Name>été 2024.txt</Name><ID>13</ID></ComputerMailboxFile>'
        '</BESAPI>').encode("utf-8")


def files_of(xml):
    return parse_files(parse_besapi(xml.encode("utf-8") if isinstance(xml, str) else xml))


# --- parse_files ------------------------------------------------------------------------------------------------

def test_parse_files_reads_every_field():
    files = files_of(FULL)
    assert files[0] == MailboxFile(id=12, name="app.conf", sha1=FOX_SHA1, size=43, timestamp="Tue, 19 Mar 2024 22:26:24 +0000")
    assert files[0].to_dict() == {"id": 12, "name": "app.conf", "sha1": FOX_SHA1, "size": 43,
                                  "timestamp": "Tue, 19 Mar 2024 22:26:24 +0000"}
    assert files[0].summary() == {"name": "app.conf", "sha1": FOX_SHA1, "size": 43}


def test_parse_files_leaves_missing_fields_none():
    files = files_of(FULL)
    assert files[1] == MailboxFile(id=13, name="été 2024.txt", sha1=None, size=None, timestamp=None)
    assert files_of("<BESAPI><ComputerMailboxFile/></BESAPI>") == [MailboxFile(None, None, None, None, None)]


def test_parse_files_reads_empty_fields_as_empty_and_the_first_of_repeated_ones():
    files = files_of("<BESAPI><ComputerMailboxFile><Name/><Timestamp></Timestamp><ID>4</ID><ID>5</ID>"
                     "<Unknown>x</Unknown></ComputerMailboxFile></BESAPI>")
    assert files == [MailboxFile(id=4, name="", sha1=None, size=None, timestamp="")]


def test_parse_files_empty_mailbox():
    assert files_of('<BESAPI xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>') == []


def test_parse_files_normalises_sha1():
    files = files_of("<BESAPI><ComputerMailboxFile><SHA1>  ABCDEF0123  </SHA1></ComputerMailboxFile>"
                     "<ComputerMailboxFile><SHA1>   </SHA1></ComputerMailboxFile></BESAPI>")
    assert [f.sha1 for f in files] == ["abcdef0123", None]


@pytest.mark.parametrize("size", ["", "   ", "forty", "43 bytes", "-1", "4.5", "1e3", "0x2b", "\u00b2", "\u2460"])
def test_parse_files_non_numeric_size_is_none(size):
    files = files_of("<BESAPI><ComputerMailboxFile><Name>a</Name><ID>x%s</ID><Size>%s</Size></ComputerMailboxFile></BESAPI>"
                     % (size, size))
    assert files[0].size is None and files[0].id is None and files[0].name == "a"


def test_parse_files_tolerates_spaces_around_numbers():
    files = files_of("<BESAPI><ComputerMailboxFile><ID> 7 </ID><Size>\n43\n</Size></ComputerMailboxFile></BESAPI>")
    assert (files[0].id, files[0].size) == (7, 43)


def test_parse_files_only_direct_children_of_the_root():
    files = files_of("<BESAPI><Computer><ComputerMailboxFile><Name>nested</Name></ComputerMailboxFile></Computer>"
                     "<ComputerMailboxFile><Name>direct</Name></ComputerMailboxFile></BESAPI>")
    assert [f.name for f in files] == ["direct"]


@pytest.mark.parametrize("sha1, size, expected", [
    (FOX_SHA1, 43, True),
    (FOX_SHA1.upper(), 43, True),
    (FOX_SHA1, 44, False),
    ("0" * 40, 43, False),
])
def test_has_content(sha1, size, expected):
    assert MailboxFile(1, "a", FOX_SHA1, 43, None).has_content(sha1, size) is expected


def test_has_content_without_size_or_sha1():
    assert MailboxFile(1, "a", FOX_SHA1.upper(), None, None).has_content(FOX_SHA1, 43)
    assert not MailboxFile(1, "a", None, 43, None).has_content(FOX_SHA1, 43)


# --- check_name -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "app.conf", "maintenance window.txt", "rapport été 2024.txt", "日本語のファイル.txt", "emoji-🚀.bin",
    "a", "...", "_underscore", "x.fxf.txt", "é" * 127 + "a",
])
def test_check_name_accepts(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name, problem", [
    ("", "empty"),
    (None, "empty"),
    ("dir/app.conf", "path separator"),
    ("dir\\app.conf", "path separator"),
    ("app\n.conf", "control character"),
    ("evil\r\nX-Injected: 1", "control character"),
    ("nul\x00", "control character"),
    ("del\x7f", "control character"),
    ('say"hi".txt', "double quote"),
    (".", "directory reference"),
    ("..", "directory reference"),
    ("__BESData", "starts with __"),
    ("task.fxf", ".fxf"),
    ("TASK.FXF", ".fxf"),
    ("é" * 128, "255 bytes"),
    ("a" * 256, "255 bytes"),
])
def test_check_name_refuses_and_says_why(name, problem):
    with pytest.raises(ValueError) as error:
        check_name(name)
    assert problem in str(error.value)
    assert str(error.value).startswith("name ")


def test_check_name_reports_every_problem():
    with pytest.raises(ValueError) as error:
        check_name('__a/"b".fxf')
    text = str(error.value)
    assert "path separator" in text and "double quote" in text and "__" in text and ".fxf" in text


def test_check_name_limit_is_utf8_bytes_not_characters():
    check_name("€" * 85)
    with pytest.raises(ValueError):
        check_name("€" * 86)


# --- check_computer_id ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [1, 1234567, MAX_COMPUTER_ID])
def test_check_computer_id_accepts(value):
    assert check_computer_id(value) == value


@pytest.mark.parametrize("value, problem", [
    (0, "out of range"), (-5, "out of range"), (MAX_COMPUTER_ID + 1, "out of range"),
    (True, "not a whole number"), ("12", "not a whole number"), (1.0, "not a whole number"), (None, "not a whole number"),
])
def test_check_computer_id_refuses(value, problem):
    with pytest.raises(ValueError) as error:
        check_computer_id(value, "computers[3]")
    assert problem in str(error.value)
    assert str(error.value).startswith("computers[3] ")


def test_check_computer_id_default_field_name():
    with pytest.raises(ValueError) as error:
        check_computer_id(0)
    assert str(error.value).startswith("computer_id 0")


# --- LocalFile --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, in_memory", [(0, True), (1, True), (43, True), (1000, True), (1001, False), (5000, False)])
def test_from_path_hashes_like_hashlib_and_keeps_only_small_files(tmp_path, monkeypatch, size, in_memory):
    monkeypatch.setattr(mailbox, "HASH_CHUNK", 64)
    monkeypatch.setattr(mailbox, "IN_MEMORY_BYTES", 1000)
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    local = LocalFile.from_path(str(path), "payload.bin")
    assert (local.sha1, local.size, local.name) == (hashlib.sha1(data).hexdigest(), size, "payload.bin")
    if in_memory:
        assert local.data == data and local.path is None
    else:
        assert local.data is None and local.path == str(path)
    path.write_bytes(b"changed")
    with local.open() as stream:
        # A small file was read once, when hashed; a large one is read again from disk.
        assert stream.read() == (data if in_memory else b"changed")


def test_from_path_reads_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(mailbox, "HASH_CHUNK", 1000)
    path = tmp_path / "big.bin"
    path.write_bytes(b"z" * 10500)
    sizes = []
    real_open = open

    class Spy:
        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.stream.close()

        def read(self, size=-1):
            sizes.append(size)
            return self.stream.read(size)

    monkeypatch.setattr(mailbox, "open", lambda file, mode="r": Spy(real_open(file, mode)), raising=False)
    local = LocalFile.from_path(str(path), "big.bin")
    assert local.size == 10500
    assert local.sha1 == hashlib.sha1(b"z" * 10500).hexdigest()
    assert sizes == [1000] * 12


def test_from_bytes():
    local = LocalFile.from_bytes(FOX, "fox.txt")
    assert (local.sha1, local.size, local.path) == (FOX_SHA1, 43, None)
    with local.open() as stream:
        assert stream.read() == FOX
    assert local.summary() == {"name": "fox.txt", "sha1": FOX_SHA1, "size": 43}


# --- list_files, upload, replace, delete --------------------------------------------------------------------------

def test_list_files_gets_the_mailbox(scripted):
    harness = scripted((200, FULL))
    files = mailbox.list_files(harness.client, 1234567)
    assert [f.id for f in files] == [12, 13]
    call = harness.transport.calls[0]
    assert (call.method, call.path) == ("GET", "/api/mailbox/1234567")


def test_upload_sends_raw_body_with_utf8_name(scripted):
    harness = scripted((200, FULL))
    local = LocalFile.from_bytes(FOX, "rapport été.txt")
    files = mailbox.upload(harness.client, 1234567, local)
    call = harness.transport.calls[0]
    assert (call.method, call.path) == ("POST", "/api/mailbox/1234567")
    assert call.headers["Content-Disposition"] == 'attachment; filename="rapport été.txt"'.encode("utf-8")
    assert call.headers["Content-Type"] == "application/octet-stream"
    assert call.headers["Content-Length"] == "43"
    assert "Transfer-Encoding" not in call.headers
    assert call.body == FOX
    assert [f.name for f in files] == ["app.conf", "été 2024.txt"]


def test_upload_streams_a_large_file_with_its_length(scripted, tmp_path, monkeypatch):
    monkeypatch.setattr(mailbox, "IN_MEMORY_BYTES", 1000)
    data = b"\x00\xff" * 40000
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    harness = scripted((200, ""))
    assert mailbox.upload(harness.client, 5, LocalFile.from_path(str(path), "blob.bin")) is None
    call = harness.transport.calls[0]
    assert call.headers["Content-Length"] == str(len(data))
    assert call.body == data
    assert not isinstance(call.sent, bytes)


@pytest.mark.parametrize("from_path", [False, True])
def test_upload_of_an_empty_file_sends_an_empty_body(scripted, tmp_path, from_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    local = LocalFile.from_path(str(path), "empty.txt") if from_path else LocalFile.from_bytes(b"", "empty.txt")
    harness = scripted((200, FULL))
    mailbox.upload(harness.client, 5, local)
    call = harness.transport.calls[0]
    assert call.body == b""
    assert call.headers["Content-Length"] == "0"
    assert "Transfer-Encoding" not in call.headers


def test_upload_answer_that_is_not_a_listing_gives_none(scripted):
    harness = scripted((200, "OK"))
    assert mailbox.upload(harness.client, 5, LocalFile.from_bytes(b"x", "x")) is None


def test_upload_failure_is_not_retried(scripted):
    harness = scripted((502, "bad gateway"), (200, FULL))
    with pytest.raises(BigFixError) as error:
        mailbox.upload(harness.client, 5, LocalFile.from_bytes(b"x", "x"))
    assert error.value.outcome_unknown
    assert len(harness.transport.calls) == 1


def parse_multipart(content_type, body):
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("ascii") + b"\r\n\r\n" + body)
    assert message.is_multipart()
    return list(message.iter_parts())


def test_replace_puts_multipart_to_the_file(scripted, tmp_path):
    path = tmp_path / "app.conf"
    path.write_bytes(FOX)
    harness = scripted((200, FULL))
    files = mailbox.replace(harness.client, 1234567, 12, LocalFile.from_path(str(path), "app.conf"))
    call = harness.transport.calls[0]
    assert (call.method, call.path) == ("PUT", "/api/mailbox/1234567/12")
    content_type = call.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    assert call.headers["Content-Length"] == str(len(call.body))
    parts = parse_multipart(content_type, call.body)
    assert len(parts) == 1
    assert parts[0].get_param("name", header="content-disposition") == "file"
    assert parts[0].get_filename() == "app.conf"
    assert parts[0].get_payload(decode=True) == FOX
    assert files[0].id == 12


def split_multipart(content_type, body):
    """The part headers and the payload of a one-part multipart body, checking its framing byte for byte."""
    boundary = content_type.split("boundary=", 1)[1].encode("ascii")
    opening, closing = b"--" + boundary + b"\r\n", b"\r\n--" + boundary + b"--\r\n"
    assert body.startswith(opening) and body.endswith(closing)
    headers, payload = body[len(opening):-len(closing)].split(b"\r\n\r\n", 1)
    return headers.decode("utf-8").split("\r\n"), payload


@pytest.mark.parametrize("data", [b"", b"x", FOX, bytes(range(256)) * 300, b"--\r\n\r\n--x--\r\n"])
def test_multipart_file_is_well_formed(data):
    local = LocalFile.from_bytes(data, "ünïcode name.bin")
    with MultipartFile(local) as body:
        produced = body.read()
        assert body.read() == b""
        assert len(body) == len(produced)
        headers, payload = split_multipart(body.content_type, produced)
    assert payload == data
    assert headers == ['Content-Disposition: form-data; name="file"; filename="ünïcode name.bin"',
                       "Content-Type: application/octet-stream"]


@hypothesis_settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=3000), chunk=st.integers(min_value=1, max_value=700))
def test_multipart_file_reads_the_same_in_small_chunks(data, chunk):
    pieces = []
    with MultipartFile(LocalFile.from_bytes(data, "f.bin")) as body:
        while True:
            piece = body.read(chunk)
            if not piece:
                break
            assert len(piece) <= chunk
            pieces.append(piece)
        produced = b"".join(pieces)
        assert len(produced) == len(body)
        assert split_multipart(body.content_type, produced)[1] == data
    assert all(len(piece) == chunk for piece in pieces[:-1])


def test_multipart_file_read_zero_and_close(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(FOX)
    body = MultipartFile(LocalFile.from_path(str(path), "f.bin"))
    assert body.read(0) == b""
    stream = body._parts[1]  # pylint: disable=protected-access
    body.close()
    assert stream.closed
    assert body.read() == b""


def test_delete_of_a_missing_file_is_none(scripted):
    harness = scripted((404, ""))
    assert mailbox.delete(harness.client, 5, 77) is None
    call = harness.transport.calls[0]
    assert (call.method, call.path) == ("DELETE", "/api/mailbox/5/77")
    assert call.body == b""


def test_delete_returns_the_listing(scripted):
    harness = scripted((200, FULL))
    assert [f.id for f in mailbox.delete(harness.client, 5, 77)] == [12, 13]


def test_delete_failure_propagates(scripted):
    harness = scripted((403, "no"))
    with pytest.raises(BigFixError) as error:
        mailbox.delete(harness.client, 5, 77)
    assert error.value.status == 403
