"""Body framing, Content-Disposition parsing and the streaming multipart reader, without a server."""

import io
import random

import pytest

from tests.emulator.uploads import (BadRequest, BodyReader, MultipartReader, disposition_filename, multipart_boundary,
                                    parse_disposition)


class PieceBody:
    """A body that returns its bytes in small, irregular pieces, to cross every buffer edge."""

    def __init__(self, data, seed):
        self._data = data
        self._position = 0
        self._sizes = random.Random(seed)

    def read(self):
        piece = self._data[self._position:self._position + self._sizes.randint(1, 9)]
        self._position += len(piece)
        return piece

    def drain(self):
        self._position = len(self._data)


class Collector:
    """A sink that keeps what it is given."""

    def __init__(self):
        self.data = bytearray()

    def write(self, chunk):
        self.data += chunk


def read_parts(body, boundary):
    """{filename: bytes} of the parts with a filename; other parts are discarded."""
    collected = {}

    def open_sink(params):
        name = disposition_filename(params)
        if name is None:
            return None
        collected[name] = Collector()
        return collected[name]

    MultipartReader(body, boundary).read(open_sink)
    return {name: bytes(sink.data) for name, sink in collected.items()}


def multipart(boundary, parts, preamble=b"", epilogue=b""):
    lines = [preamble]
    for headers, content in parts:
        lines.append(b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n")
    lines.append(b"--" + boundary + b"--\r\n" + epilogue)
    return b"".join(lines)


@pytest.mark.parametrize("value, expected", [
    ('attachment; filename="a.txt"', {"filename": "a.txt"}),
    ("attachment;filename=a.txt", {"filename": "a.txt"}),
    ('form-data; name="file"; filename="x y.txt"', {"name": "file", "filename": "x y.txt"}),
    ('name="FileContents";filename="CMDB-1"', {"name": "FileContents", "filename": "CMDB-1"}),
    ('FileName = "b.txt" ;', {"filename": "b.txt"}),
    ('filename="a\\"b\\\\c"', {"filename": 'a"b\\c'}),
    ('filename="first"; filename="second"', {"filename": "first"}),
    ('filename="unterminated', {"filename": "unterminated"}),
    ("attachment", {}),
    ("", {}),
])
def test_parse_disposition(value, expected):
    assert parse_disposition(value) == expected


def test_extended_filename():
    assert disposition_filename({"filename*": "UTF-8''%E2%82%AC.txt", "filename": "fallback"}) == "\u20ac.txt"
    assert disposition_filename({"filename*": "iso-8859-1'de'%E4.txt"}) == "\u00e4.txt"
    assert disposition_filename({"filename": "plain"}) == "plain"
    assert disposition_filename({}) is None
    for broken in ("no-quotes", "UTF-8''%FF.txt", "bogus-charset''x"):
        with pytest.raises(BadRequest):
            disposition_filename({"filename*": broken})


def test_multipart_boundary():
    assert multipart_boundary('multipart/form-data; boundary="a b"') == b"a b"
    assert multipart_boundary("Multipart/Form-Data;boundary=xyz") == b"xyz"
    assert multipart_boundary("application/x-www-form-urlencoded") is None
    assert multipart_boundary(None) is None
    with pytest.raises(BadRequest):
        multipart_boundary("multipart/form-data")


@pytest.mark.parametrize("seed", range(5))
def test_multipart_parts_across_piece_edges(seed):
    boundary = b"----b0undary"
    tricky = b"\r\n--" + boundary[:-1] + b"\r\n----b0undar" + b"\r\n--"
    body = multipart(boundary, [
        (b'Content-Disposition: form-data; name="file"; filename="one.txt"', b"first" * 50 + tricky),
        (b'Content-Disposition: form-data; name="note"', b"a field"),
        (b'content-disposition: form-data; name="file"; filename="two.txt"\r\nContent-Type: text/plain', b""),
        (b'Content-Disposition: form-data; name="file"; filename="caf\xc3\xa9.txt"', b"\x00\xff" * 40),
    ], preamble=b"ignored preamble\r\n", epilogue=b"ignored epilogue")
    assert read_parts(PieceBody(body, seed), boundary) == {
        "one.txt": b"first" * 50 + tricky, "two.txt": b"", "caf\u00e9.txt": b"\x00\xff" * 40}


@pytest.mark.parametrize("body", [
    b"no delimiter at all",
    b"--B\r\nContent-Disposition: form-data; filename=\"x\"\r\n\r\ndata without end",
    b"--B\r\nContent-Disposition: form-data; filename=\"x\"",
    b"--B",
])
def test_malformed_multipart(body):
    with pytest.raises(BadRequest):
        read_parts(PieceBody(body, 1), b"B")


def test_body_reader_content_length_and_chunked():
    fixed = BodyReader(io.BytesIO(b"hello world, and more"), {"Content-Length": "11"})
    assert fixed.read_all(100) == b"hello world"
    assert fixed.complete and fixed.received == 11
    chunked = BodyReader(io.BytesIO(b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT"),
                         {"Transfer-Encoding": "chunked"})
    assert chunked.read_all(100) == b"hello world"
    assert chunked.received == 11
    empty = BodyReader(io.BytesIO(b"GET / HTTP/1.1"), {})
    assert empty.complete and empty.read() == b""


@pytest.mark.parametrize("data, headers", [
    (b"short", {"Content-Length": "10"}),
    (b"", {"Content-Length": "-1"}),
    (b"", {"Content-Length": "ten"}),
    (b"zz\r\nhello", {"Transfer-Encoding": "chunked"}),
    (b"5\r\nhelloXX", {"Transfer-Encoding": "chunked"}),
    (b"", {"Transfer-Encoding": "gzip"}),
])
def test_body_reader_rejects_bad_framing(data, headers):
    with pytest.raises(BadRequest):
        BodyReader(io.BytesIO(data), headers).read_all(100)


def test_read_all_limit():
    with pytest.raises(BadRequest, match="larger than"):
        BodyReader(io.BytesIO(b"x" * 100), {"Content-Length": "100"}).read_all(10)
