"""Request bodies: framing, lenient Content-Disposition parsing and streaming multipart.

Bodies are read in CHUNK_SIZE pieces and handed straight to a sink (a ``store.Spool``), so an
upload of any size costs a few chunks of memory. A form-urlencoded body is never parsed as a form:
BigFix clients send raw file bytes with that content type.
"""

import codecs
from urllib.parse import unquote

CHUNK_SIZE = 64 * 1024
_MAX_HEADER_BLOCK = 64 * 1024


class BadRequest(Exception):
    """A malformed request; the message becomes the plain-text body of a 400."""


class BodyReader:
    """Reads a request body framed by Content-Length or chunked transfer coding, counting bytes."""

    def __init__(self, rfile, headers):
        self._rfile = rfile
        self.received = 0
        self.complete = False
        self._chunked = False
        self._remaining = 0
        encoding = headers.get("Transfer-Encoding")
        length = headers.get("Content-Length")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise BadRequest(f"unsupported Transfer-Encoding: {encoding}")
            self._chunked = True
        elif length is not None:
            length = length.strip()
            if not (length.isascii() and length.isdigit()):
                raise BadRequest("invalid Content-Length")
            self._remaining = int(length)
        self.complete = not self._chunked and self._remaining == 0

    def read(self, size=CHUNK_SIZE):
        """Up to ``size`` body bytes; b"" once the body is complete."""
        if self.complete:
            return b""
        if self._chunked and self._remaining == 0:
            self._start_chunk()
            if self.complete:
                return b""
        data = self._rfile.read(min(size, self._remaining))
        if not data:
            raise BadRequest("request body ended early")
        self._remaining -= len(data)
        self.received += len(data)
        if self._remaining == 0:
            if self._chunked:
                if self._rfile.read(2) != b"\r\n":
                    raise BadRequest("malformed chunked body")
            else:
                self.complete = True
        return data

    def _start_chunk(self):
        line = self._rfile.readline(1024)
        size_text = line.split(b";", 1)[0].strip()
        try:
            self._remaining = int(size_text, 16)
        except ValueError as err:
            raise BadRequest("malformed chunked body") from err
        if self._remaining == 0:
            while True:
                trailer = self._rfile.readline(8192)
                if not trailer:
                    raise BadRequest("malformed chunked body")
                if trailer in (b"\r\n", b"\n"):
                    break
            self.complete = True

    def read_all(self, limit):
        """The whole body, for small control and query bodies."""
        parts = []
        total = 0
        while True:
            data = self.read()
            if not data:
                return b"".join(parts)
            total += len(data)
            if total > limit:
                raise BadRequest(f"request body larger than {limit} bytes")
            parts.append(data)

    def drain(self):
        """Read and discard what is left, so the connection can serve the next request."""
        while self.read():
            pass

    def copy_to(self, sink):
        """Stream the rest of the body into ``sink``."""
        while True:
            data = self.read()
            if not data:
                return
            sink.write(data)


def parse_disposition(value):
    """Parameters of a Content-Disposition value, keys lower-cased.

    Lenient on purpose: quoted or bare values, ``;`` with or without spaces, spaces around ``=``,
    and bare tokens such as ``attachment`` or ``form-data`` (skipped). The first occurrence wins.
    """
    params = {}
    position = 0
    end = len(value)
    while position < end:
        while position < end and value[position] in " \t;":
            position += 1
        start = position
        while position < end and value[position] not in "=;":
            position += 1
        key = value[start:position].strip().lower()
        if position >= end or value[position] != "=":
            continue
        position += 1
        while position < end and value[position] in " \t":
            position += 1
        if position < end and value[position] == '"':
            chars = []
            position += 1
            while position < end and value[position] != '"':
                if value[position] == "\\" and position + 1 < end:
                    position += 1
                chars.append(value[position])
                position += 1
            text = "".join(chars)
            while position < end and value[position] != ";":
                position += 1
        else:
            start = position
            while position < end and value[position] != ";":
                position += 1
            text = value[start:position].strip()
        if key:
            params.setdefault(key, text)
    return params


def disposition_filename(params):
    """The file name from Content-Disposition parameters, or None when there is none.

    ``filename*`` (RFC 5987, ``UTF-8''%E2%82%AC.txt``) wins over ``filename``.
    """
    extended = params.get("filename*")
    if extended is not None:
        charset, quote_mark, rest = extended.partition("'")
        language_and_text = rest.partition("'")
        if not quote_mark or not language_and_text[1]:
            raise BadRequest("malformed filename* parameter")
        try:
            # unquote() skips the codec when nothing is escaped; look it up to reject unknown charsets.
            codec = codecs.lookup(charset or "utf-8").name
            return unquote(language_and_text[2], encoding=codec, errors="strict")
        except (LookupError, UnicodeDecodeError) as err:
            raise BadRequest("filename* parameter cannot be decoded") from err
    return params.get("filename")


def header_filename(headers):
    """The file name from a request's Content-Disposition header, or None."""
    value = headers.get("Content-Disposition")
    if value is None:
        return None
    # http.server decodes header bytes as Latin-1; clients that send a UTF-8 name send its bytes.
    try:
        value = value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return disposition_filename(parse_disposition(value))


def multipart_boundary(content_type):
    """The boundary of a multipart/form-data content type; None for any other content type."""
    media_type, unused_separator, rest = (content_type or "").partition(";")
    if media_type.strip().lower() != "multipart/form-data":
        return None
    boundary = parse_disposition(rest).get("boundary")
    if not boundary or len(boundary) > 200:
        raise BadRequest("multipart/form-data without a valid boundary")
    return boundary.encode("latin-1")


class MultipartReader:
    """Streams the parts of a multipart body; each part's data goes to a sink or is discarded."""

    def __init__(self, body, boundary):
        self._body = body
        self._delimiter = b"\r\n--" + boundary
        # A leading CRLF lets the first delimiter match like the others.
        self._buffer = bytearray(b"\r\n")

    def read(self, open_sink):
        """Read every part. ``open_sink(params)`` gets the part's Content-Disposition parameters
        and returns a sink with ``write`` or None to discard the part's data."""
        self._skip_part_data(None)
        while True:
            self._fill_to(2)
            if self._buffer[:2] == b"--":
                self._body.drain()
                return
            line_end = self._find(b"\r\n", 1024)
            del self._buffer[:line_end + 2]
            headers = self._part_headers()
            self._skip_part_data(open_sink(parse_disposition(headers.get("content-disposition", ""))))

    def _part_headers(self):
        self._fill_to(2)
        if self._buffer[:2] == b"\r\n":
            del self._buffer[:2]
            return {}
        block_end = self._find(b"\r\n\r\n", _MAX_HEADER_BLOCK)
        block = bytes(self._buffer[:block_end])
        del self._buffer[:block_end + 4]
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            text = block.decode("latin-1")
        headers = {}
        for line in text.split("\r\n"):
            name, separator, value = line.partition(":")
            if separator:
                headers.setdefault(name.strip().lower(), value.strip())
        return headers

    def _skip_part_data(self, sink):
        """Pass data up to the next delimiter to ``sink`` (None: discard), then consume the delimiter."""
        keep = len(self._delimiter) - 1
        while True:
            index = self._buffer.find(self._delimiter)
            if index >= 0:
                if sink is not None and index:
                    sink.write(bytes(self._buffer[:index]))
                del self._buffer[:index + len(self._delimiter)]
                return
            if len(self._buffer) > keep:
                if sink is not None:
                    sink.write(bytes(self._buffer[:-keep]))
                del self._buffer[:-keep]
            if not self._more():
                raise BadRequest("malformed multipart body: missing boundary")

    def _find(self, needle, limit):
        while True:
            index = self._buffer.find(needle)
            if index >= 0:
                return index
            if len(self._buffer) > limit or not self._more():
                raise BadRequest("malformed multipart body: bad part headers")

    def _fill_to(self, size):
        while len(self._buffer) < size:
            if not self._more():
                raise BadRequest("malformed multipart body: truncated")

    def _more(self):
        data = self._body.read()
        self._buffer += data
        return bool(data)
