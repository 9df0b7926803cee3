# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The BigFix computer mailbox resource: typed records and the four calls on it.

``GET/POST /api/mailbox/{cid}``, ``PUT/DELETE /api/mailbox/{cid}/{fid}``. Nothing here imports
Ansible; everything goes through a :class:`BigFixClient`.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass

from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError, integer_text, parse_besapi

HASH_CHUNK = 1024 * 1024
# Files up to this size are read once and kept in memory, so that uploading to thousands of
# computers does not reopen and reread the file for each; larger ones are streamed from disk.
IN_MEMORY_BYTES = 1024 * 1024
MAX_NAME_BYTES = 255
# The child elements of a ComputerMailboxFile that parse_files() reads.
ENTRY_FIELDS = ("ID", "Name", "SHA1", "Size", "Timestamp")
MAX_COMPUTER_ID = 4294967295


@dataclass(frozen=True)
class MailboxFile:
    """One ``ComputerMailboxFile`` entry. Every field is optional in BESAPI.xsd."""

    id: int | None
    name: str | None
    sha1: str | None
    size: int | None
    timestamp: str | None

    def to_dict(self):
        return {"id": self.id, "name": self.name, "sha1": self.sha1, "size": self.size, "timestamp": self.timestamp}

    def summary(self):
        """What identifies the content, for diffs: name, SHA-1 and size."""
        return {"name": self.name, "sha1": self.sha1, "size": self.size}

    def has_content(self, sha1, size):
        """Whether this entry holds the given content: SHA-1 compared case-insensitively, and
        the size too when the server gave one."""
        if not self.sha1 or self.sha1.lower() != sha1.lower():
            return False
        return self.size is None or self.size == size


@dataclass(frozen=True)
class LocalFile:
    """Content to place in mailboxes, hashed once. A file larger than IN_MEMORY_BYTES is reopened by
    each upload and never held whole in memory; a smaller one is kept from the hashing read."""

    name: str
    sha1: str
    size: int
    path: str | None = None
    data: bytes | None = None

    @classmethod
    def from_path(cls, path, name):
        digest = hashlib.sha1()
        size = 0
        kept = []
        with open(path, "rb") as stream:
            for chunk in iter(lambda: stream.read(HASH_CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                if size <= IN_MEMORY_BYTES:
                    kept.append(chunk)
        if size <= IN_MEMORY_BYTES:
            return cls(name=name, sha1=digest.hexdigest(), size=size, data=b"".join(kept))
        return cls(name=name, sha1=digest.hexdigest(), size=size, path=path)

    @classmethod
    def from_bytes(cls, data, name):
        return cls(name=name, sha1=hashlib.sha1(data).hexdigest(), size=len(data), data=data)

    def open(self):
        if self.path is not None:
            return open(self.path, "rb")
        return io.BytesIO(self.data)

    def summary(self):
        return {"name": self.name, "sha1": self.sha1, "size": self.size}


def check_name(name):
    """Refuse a mailbox file name the server or the endpoint would refuse or mangle.

    Returns the name; raises ValueError with the reason and the fix.
    """
    if not isinstance(name, str) or name == "":
        raise ValueError("name is empty: give the file name the computers should see")
    problems = []
    if "/" in name or "\\" in name:
        problems.append("contains a path separator (/ or \\); give a bare file name")
    if any(ord(char) < 32 or 127 <= ord(char) <= 159 for char in name):
        problems.append("contains a control character")
    if any(0xD800 <= ord(char) <= 0xDFFF or char in "\ufffe\uffff" for char in name):
        problems.append("contains a character that XML cannot carry")
    if '"' in name:
        problems.append('contains a double quote (")')
    if name in (".", ".."):
        problems.append("is a directory reference")
    if name.startswith("__"):
        problems.append("starts with __, which BigFix reserves for its own files")
    if name.lower().endswith(".fxf"):
        problems.append("ends with .fxf, which BigFix reserves for Fixlet files")
    if len(name.encode("utf-8", errors="surrogatepass")) > MAX_NAME_BYTES:
        problems.append("is longer than %d bytes in UTF-8" % MAX_NAME_BYTES)
    if problems:
        raise ValueError("name %r %s" % (name, "; ".join(problems)))
    return name


def check_computer_id(value, field="computer_id"):
    """Refuse what cannot be a BigFix computer ID (a positive 32-bit number)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("%s %r is not a whole number; give the numeric BigFix computer ID" % (field, value))
    if not 1 <= value <= MAX_COMPUTER_ID:
        raise ValueError("%s %d is out of range; BigFix computer IDs are between 1 and %d" % (field, value, MAX_COMPUTER_ID))
    return value


def parse_files(root):
    """The ``ComputerMailboxFile`` entries directly under a BESAPI root element."""
    files = []
    for element in root.iterchildren("ComputerMailboxFile"):
        # One pass over the children, with findtext()'s meaning: a missing field is None, an empty one "".
        # Five findtext() calls cost twice as much, and this runs for every mailbox read.
        fields = {}
        for child in element.iterchildren(*ENTRY_FIELDS):
            fields.setdefault(child.tag, child.text or "")
        files.append(MailboxFile(
            id=integer_text(fields.get("ID")),
            name=fields.get("Name"),
            sha1=(fields.get("SHA1") or "").strip().lower() or None,
            size=integer_text(fields.get("Size")),
            timestamp=fields.get("Timestamp"),
        ))
    return files


def list_files(client, computer_id):
    """The files in one computer's mailbox."""
    return parse_files(client.get_xml("mailbox/%d" % computer_id))


def upload(client, computer_id, local):
    """Add ``local`` to a mailbox as a raw body named by ``Content-Disposition``.

    Returns the mailbox as the server reports it after the change, or None when the answer is
    not a mailbox listing.
    """
    headers = {
        # The name goes out verbatim (UTF-8), double-quoted; check_name() refuses quotes and controls.
        "Content-Disposition": ('attachment; filename="%s"' % local.name).encode("utf-8"),
        "Content-Type": "application/octet-stream",
    }
    with local.open() as stream:
        reply = client.send("POST", "mailbox/%d" % computer_id, data=stream, headers=headers)
    return _files_in_reply(reply)


def replace(client, computer_id, file_id, local):
    """Replace the content of an existing mailbox file, keeping its ID (multipart, as documented)."""
    body = MultipartFile(local)
    headers = {"Content-Type": body.content_type}
    with body:
        reply = client.send("PUT", "mailbox/%d/%d" % (computer_id, file_id), data=body, headers=headers)
    return _files_in_reply(reply)


def delete(client, computer_id, file_id):
    """Delete one mailbox file. A file that is already gone is not an error (returns None)."""
    reply = client.send("DELETE", "mailbox/%d/%d" % (computer_id, file_id), expect=(200, 404))
    if reply.status == 404:
        return None
    return _files_in_reply(reply)


class MultipartFile:
    """A ``multipart/form-data`` body with one file part, read from disk as it is sent."""

    def __init__(self, local):
        boundary = uuid.uuid4().hex
        self.content_type = "multipart/form-data; boundary=%s" % boundary
        head = ('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
                'Content-Type: application/octet-stream\r\n\r\n' % (boundary, local.name)).encode("utf-8")
        tail = ("\r\n--%s--\r\n" % boundary).encode("ascii")
        self._length = len(head) + local.size + len(tail)
        self._parts = [io.BytesIO(head), local.open(), io.BytesIO(tail)]

    def __len__(self):
        return self._length

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def read(self, size=-1):
        """Up to ``size`` bytes (all that is left when ``size`` is negative); b"" at the end."""
        chunks = []
        while self._parts and (size < 0 or size > 0):
            chunk = self._parts[0].read(size)
            if not chunk:
                self._parts.pop(0).close()
                continue
            chunks.append(chunk)
            if size > 0:
                size -= len(chunk)
        return b"".join(chunks)

    def close(self):
        for part in self._parts:
            part.close()
        self._parts = []


def _files_in_reply(reply):
    if not reply.content.strip():
        return None
    try:
        return parse_files(parse_besapi(reply.content))
    except BigFixError:
        return None
