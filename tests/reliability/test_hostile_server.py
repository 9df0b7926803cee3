# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile server: what comes back from ``GET /api/mailbox/{cid}`` is malformed XML, XML with external
entities or a billion-laughs payload, an HTML error page, an empty 200, or far too much data.

Each must end in a clear error naming the request, through the client and through the modules,
quickly (no hang). No entity is expanded, no local file is read (a marker file's content never shows
up) and nothing is fetched from the network (the server never sees the entity's URL).
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
import zlib

import pytest

from ansible_collections.bigfix.core.plugins.module_utils import mailbox
from ansible_collections.bigfix.core.plugins.module_utils.client import MAX_RESPONSE_BYTES, BigFixClient, BigFixError
from ansible_collections.bigfix.core.plugins.modules import bigfix_mailbox_file, bigfix_mailbox_info

from .conftest import module_args, record, run_module, settings
from .servers import Answer, CertificateAuthority, HostileServer

MARKER = "XXE-MARKER-%s" % uuid.uuid4().hex
EMPTY_MAILBOX = b'<?xml version="1.0" encoding="UTF-8"?>\n<BESAPI></BESAPI>\n'
NGINX_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
             b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
LOGIN_PAGE = (b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>\n'
              b'<body><form action="/login" method="post"><input name="user"><br></form></body></html>\n')
XHTML_PAGE = b"<html><head><title>Service unavailable</title></head><body><p>Try later</p></body></html>"
BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE BESAPI [\n<!ENTITY lol "lol">\n'
                  + b"".join(b'<!ENTITY lol%d "%s">\n' % (level, (b"&lol%s;" % (b"" if level == 1 else str(level - 1).encode())) * 10)
                             for level in range(1, 10))
                  + b"]>\n<BESAPI><ComputerMailboxFile><Name>&lol9;</Name><ID>1</ID></ComputerMailboxFile></BESAPI>\n")
# The 65 MiB answer: 1 MiB over the client's limit.
BIG = 1024 * 1024


def xml_file_entity(marker_path):
    return ('<?xml version="1.0"?>\n<!DOCTYPE BESAPI [<!ENTITY xxe SYSTEM "file://%s">]>\n'
            "<BESAPI><ComputerMailboxFile><Name>&xxe;</Name><ID>1</ID><SHA1>00</SHA1></ComputerMailboxFile></BESAPI>\n"
            % marker_path).encode("utf-8")


def xml_parameter_entity(marker_path):
    return ('<?xml version="1.0"?>\n<!DOCTYPE BESAPI [<!ENTITY %% p SYSTEM "file://%s"> %%p;]>\n'
            "<BESAPI><ComputerMailboxFile><Name>x</Name><ID>1</ID></ComputerMailboxFile></BESAPI>\n" % marker_path).encode("utf-8")


def xml_network_dtd(url):
    return ('<?xml version="1.0"?>\n<!DOCTYPE BESAPI SYSTEM "%s/evil.dtd">\n'
            "<BESAPI><ComputerMailboxFile><Name>&remote;</Name><ID>1</ID></ComputerMailboxFile></BESAPI>\n" % url).encode("utf-8")


def deep_xml():
    return b"<BESAPI>" + b"<a>" * 100000 + b"</a>" * 100000 + b"</BESAPI>"


def endless():
    return itertools.repeat(b" " * 65536)


def sized(total):
    block = b"<!-- padding -->" * 4096
    sent = 0
    yield b"<BESAPI>"
    while sent < total:
        yield block
        sent += len(block)


def gzip_bomb():
    """About 100 KiB of gzip that inflates to 128 MiB of spaces."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunks = [compressor.compress(b"<BESAPI>")]
    block = b" " * (1024 * 1024)
    chunks.extend(compressor.compress(block) for unused_count in range(128))
    chunks.append(compressor.flush())
    return b"".join(chunks)


# name -> (answer factory taking (marker path, server url), phrases the error must hold)
CASES = {
    "malformed XML": (lambda m, u: Answer(200, b"<BESAPI><ComputerMailboxFile><Name>x</Name>", {"Content-Type": "application/xml"}),
                      ("the server answered with a body that is not XML", "<BESAPI><ComputerMailboxFile>")),
    "external entity (local file)": (lambda m, u: Answer(200, xml_file_entity(m), {"Content-Type": "application/xml"}),
                                     ("declares a DTD; refused for safety",)),
    "external parameter entity": (lambda m, u: Answer(200, xml_parameter_entity(m), {"Content-Type": "application/xml"}),
                                  ("declares a DTD; refused for safety",)),
    "external DTD over the network": (lambda m, u: Answer(200, xml_network_dtd(u), {"Content-Type": "application/xml"}),
                                      ("declares a DTD; refused for safety",)),
    # Recent libxml2 stops at its entity amplification limit before the client's DTD check refuses the document.
    "billion laughs": (lambda m, u: Answer(200, BILLION_LAUGHS, {"Content-Type": "application/xml"}),
                       (("Maximum entity amplification factor exceeded", "declares a DTD; refused for safety"),)),
    "HTML error page, 200": (lambda m, u: Answer(200, LOGIN_PAGE, {"Content-Type": "text/html"}),
                             ("not XML", "is url pointing at the BigFix root server's REST API?")),
    "XHTML page, 200": (lambda m, u: Answer(200, XHTML_PAGE, {"Content-Type": "text/html"}),
                        ("expected a BESAPI document, got <html>",)),
    "HTML error page, 502": (lambda m, u: Answer(502, NGINX_502, {"Content-Type": "text/html"}),
                             ("HTTP 502", "502 Bad Gateway", "a gateway between you and the server failed")),
    "200 with an empty body": (lambda m, u: Answer(200, b"", {"Content-Type": "application/xml"}),
                               ("not XML", "Document is empty")),
    "JSON instead of XML": (lambda m, u: Answer(200, b'{"error": "nope"}', {"Content-Type": "application/json"}),
                            ("not XML",)),
    "100000 nested elements": (lambda m, u: Answer(200, deep_xml(), {"Content-Type": "application/xml"}),
                               ("not XML", "Excessive depth")),
    "65 MiB with Content-Length": (lambda m, u: Answer(200, sized(MAX_RESPONSE_BYTES + BIG), {"Content-Type": "application/xml"},
                                                       length=MAX_RESPONSE_BYTES + BIG + 8),
                                   ("larger than 64 MiB; refused",)),
    "endless chunked body": (lambda m, u: Answer(200, endless(), {"Content-Type": "application/xml"}),
                             ("larger than 64 MiB; refused",)),
    "gzip bomb (128 MiB inflated)": (lambda m, u: Answer(200, gzip_bomb(), {"Content-Type": "application/xml", "Content-Encoding": "gzip"}),
                                     ("the server answered with a body that is not XML",)),
}


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return CertificateAuthority(tmp_path_factory.mktemp("hostile-ca"))


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "secret-local-file.txt"
    path.write_text(MARKER + "\n", encoding="utf-8")
    return str(path)


def serve(authority, marker_path, case):
    factory = CASES[case][0]
    holder = {}

    def answer(method, path):
        del method
        if path.startswith("/api/"):
            return factory(marker_path, holder["url"])
        return Answer(200, MARKER.encode("ascii"), {"Content-Type": "application/xml-dtd"})

    server = HostileServer(authority, answer)
    holder["url"] = server.url
    return server


def assert_phrases(message, phrases):
    """Each phrase is in ``message``; a tuple of phrases means any one of them."""
    for phrase in phrases:
        alternatives = phrase if isinstance(phrase, tuple) else (phrase,)
        assert any(text in message for text in alternatives), (alternatives, message)


def assert_nothing_fetched(server):
    assert all(seen.path.startswith("/api/") for seen in server.seen), [seen.path for seen in server.seen]


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_answer_gives_a_clear_error_from_the_client(case, authority, marker):
    with serve(authority, marker, case) as server:
        started = time.monotonic()
        with BigFixClient(settings(server.url, server.ca_path, retries=1, timeout=5.0), sleep=lambda delay: None) as client:
            with pytest.raises(BigFixError) as error:
                mailbox.list_files(client, 1)
        elapsed = time.monotonic() - started
        assert_nothing_fetched(server)
    message = str(error.value)
    assert message.startswith("GET /api/mailbox/1: "), message
    assert_phrases(message, CASES[case][1])
    assert MARKER not in message
    assert "lollollol" not in message
    assert len(message) < 1000
    assert elapsed < 60, "no hang: %.1f s" % elapsed
    record("hostile server: %s" % case, outcome=message[:160], seconds=round(elapsed, 2))


@pytest.mark.parametrize("case", ["external entity (local file)", "external parameter entity", "external DTD over the network",
                                  "billion laughs", "HTML error page, 200", "200 with an empty body", "endless chunked body"])
@pytest.mark.parametrize("module", [bigfix_mailbox_file, bigfix_mailbox_info], ids=["bigfix_mailbox_file", "bigfix_mailbox_info"])
def test_hostile_answer_fails_the_modules_cleanly(module, case, authority, marker):
    extra = {"name": "a.txt", "content": "x"} if module is bigfix_mailbox_file else {}
    with serve(authority, marker, case) as server:
        started = time.monotonic()
        code, result, raw = run_module(module.main, module_args(server.url, server.ca_path, computer_id=1, retries=1, **extra))
        elapsed = time.monotonic() - started
        assert_nothing_fetched(server)
        assert [seen.method for seen in server.seen if seen.method != "GET"] == []
    assert code == 1 and result["failed"] is True
    assert "computer 1: GET /api/mailbox/1: " in result["msg"]
    assert_phrases(result["msg"], CASES[case][1])
    assert MARKER not in raw and "lollollol" not in raw
    assert elapsed < 60


def test_hostile_answer_to_an_upload_is_ignored_without_expansion(authority, marker):
    """The listing is a real empty mailbox; the answer to the POST carries an external entity. The upload
    stands, the answer is not trusted, and the marker never shows up."""
    def answer(method, path):
        del path
        if method == "GET":
            return Answer(200, EMPTY_MAILBOX, {"Content-Type": "application/xml"})
        return Answer(200, xml_file_entity(marker), {"Content-Type": "application/xml"})

    with HostileServer(authority, answer) as server:
        code, result, raw = run_module(bigfix_mailbox_file.main,
                                       module_args(server.url, server.ca_path, computer_id=1, name="a.txt", content="x"))
        methods = [seen.method for seen in server.seen]
    assert code == 0, result
    assert result["counts"]["created"] == 1
    assert methods == ["GET", "POST"]
    assert MARKER not in raw


def test_xinclude_is_not_processed(authority, marker):
    """An XInclude element is just an element: the listing is an empty mailbox and the file is not read."""
    body = ('<?xml version="1.0"?>\n<BESAPI xmlns:xi="http://www.w3.org/2001/XInclude">'
            '<ComputerMailboxFile><Name><xi:include href="file://%s" parse="text"/></Name><ID>1</ID></ComputerMailboxFile>'
            "</BESAPI>\n" % marker).encode("utf-8")
    with HostileServer(authority, lambda method, path: Answer(200, body, {"Content-Type": "application/xml"})) as server:
        code, result, raw = run_module(bigfix_mailbox_info.main, module_args(server.url, server.ca_path, computer_id=1))
    assert code == 0, result
    assert result["files"] == [{"computer_id": 1, "id": 1, "name": "", "sha1": None, "size": None, "timestamp": None}]
    assert MARKER not in raw


def test_a_server_that_drips_its_answer_does_not_hang_the_client(authority):
    """One byte every half second never trips a per-read timeout of 1 s; the answer must still be given up on."""
    stop = threading.Event()

    def drip():
        yield b"<BESAPI>"
        while not stop.wait(0.5):
            yield b" "

    outcome = {}
    with HostileServer(authority, lambda method, path: Answer(200, drip(), {"Content-Type": "application/xml"})) as server:
        client = BigFixClient(settings(server.url, server.ca_path, retries=0, timeout=1.0))

        def read():
            started = time.monotonic()
            try:
                mailbox.list_files(client, 1)
            except BigFixError as error:
                outcome["error"] = str(error)
            outcome["seconds"] = time.monotonic() - started

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(45)
        hung = reader.is_alive()
        stop.set()  # ends the drip, which frees the reader if it is still waiting
        reader.join(10)
        client.close()
    assert not hung, "the client was still reading a dripping answer after 45 s (timeout 1 s, retries 0)"
    assert outcome["error"].startswith("GET /api/mailbox/1: "), outcome
    record("hostile server: answer dripped one byte per 0.5 s", outcome=outcome["error"][:160], seconds=round(outcome["seconds"], 1))
