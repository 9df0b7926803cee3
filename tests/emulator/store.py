"""Emulator state: the indexed fleet, mailboxes, sessions, switches and request statistics.

All mutable state is guarded by locks, since the HTTP server runs one thread per connection.
Lookups are by id (dicts built once at start), so no request costs time proportional to the fleet.
Mailbox file contents go to files in a content directory, never to memory; with
``store_content: false`` only SHA-1 and size are kept.
"""

import hashlib
import itertools
import os
import secrets
import threading
import time
from typing import NamedTuple

from .fleet import format_timestamp

FAULT_KINDS = ("500", "502", "503", "reset_before", "reset_after", "spike")


class DuplicateName(Exception):
    """A write would create a second file with an existing name while the policy is ``reject``."""


class Spool:
    """Receives one upload in chunks, hashing it and (optionally) writing it to its own file.

    The file's path is unique, so a mailbox entry can point at it without renaming and old
    content can be unlinked outside the store lock.
    """

    _names = itertools.count(1)

    def __init__(self, directory):
        self._sha1 = hashlib.sha1()
        self.size = 0
        self.path = None
        self._descriptor = None
        if directory is not None:
            self.path = os.path.join(directory, f"{next(self._names)}.content")
            self._descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    @property
    def sha1(self):
        """Lowercase hex SHA-1 of the bytes written so far."""
        return self._sha1.hexdigest()

    def write(self, data):
        """Append a chunk."""
        self._sha1.update(data)
        self.size += len(data)
        if self._descriptor is not None:
            view = memoryview(data)
            while view:
                view = view[os.write(self._descriptor, view):]

    def close(self):
        """Finish writing; the content stays on disk until discarded."""
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None

    def discard(self):
        """Drop the upload (a rejected request, or content that was replaced or deleted)."""
        self.close()
        if self.path is not None:
            os.unlink(self.path)
            self.path = None


class MailboxFile(NamedTuple):
    """One mailbox entry, immutable: an update creates a new record with the same id."""

    id: int
    name: str
    sha1: str
    size: int
    timestamp: str
    content: Spool


class Stats:
    """Request counters for ``/_emulator/stats``."""

    def __init__(self):
        self._lock = threading.Lock()
        self._requests = {}
        self._total = 0
        self._bytes = 0
        self._faults = dict.fromkeys(FAULT_KINDS, 0)

    def count_request(self, key):
        """Count one request under its ``METHOD /route/{pattern}`` key."""
        with self._lock:
            self._requests[key] = self._requests.get(key, 0) + 1
            self._total += 1

    def add_bytes(self, count):
        """Add request body bytes read."""
        if count:
            with self._lock:
                self._bytes += count

    def count_fault(self, kind):
        """Count one injected fault (one of FAULT_KINDS)."""
        with self._lock:
            self._faults[kind] += 1

    def snapshot(self):
        """The counters as the JSON shape of ``/_emulator/stats``."""
        with self._lock:
            return {"requests": dict(self._requests), "total": self._total, "bytes_received": self._bytes,
                    "faults": dict(self._faults)}

    def reset(self):
        """Zero every counter."""
        with self._lock:
            self._requests.clear()
            self._total = 0
            self._bytes = 0
            self._faults = dict.fromkeys(FAULT_KINDS, 0)


class Store:
    """Fleet indexes plus the mutable mailbox, session and switch state."""

    def __init__(self, fleet, content_dir):
        self.operators = fleet.operators
        self.computers = fleet.computers
        self.sites = fleet.sites
        self.groups_by_id = {group.id: group for group in fleet.groups}
        self.groups_by_site = {site: [] for site in fleet.sites}
        for group in fleet.groups:
            self.groups_by_site[group.site].append(group)
        self.all_groups = fleet.groups
        self._all_ids = tuple(fleet.computers)
        self._visible_ids = {
            operator.name: self._all_ids if operator.master else tuple(sorted(operator.computers))
            for operator in fleet.operators.values()
        }
        self.behaviour = fleet.behaviour
        self._content_dir = content_dir if fleet.store_content else None
        self._lock = threading.Lock()
        self._file_ids = itertools.count(1)
        self._mailboxes = {}
        self._sessions = {}
        self._session_lock = threading.Lock()
        for seed in fleet.mailbox_files:
            spool = Spool(self._content_dir)
            spool.write(seed.content)
            spool.close()
            self.add_files(seed.computer, [(seed.name, spool)])

    # Visibility ---------------------------------------------------------------------------------

    def visible_ids(self, operator):
        """Ids of the computers an operator may see, in id order."""
        return self._visible_ids[operator.name]

    @staticmethod
    def can_see(operator, computer_id):
        """Whether the operator administers the computer (masters administer all)."""
        return operator.master or computer_id in operator.computers

    # Mailboxes ----------------------------------------------------------------------------------

    def new_spool(self):
        """A spool for an incoming upload."""
        return Spool(self._content_dir)

    def list_files(self, computer_id):
        """The mailbox of a computer, in file id order."""
        with self._lock:
            return list(self._mailboxes.get(computer_id, {}).values())

    def get_file(self, computer_id, file_id):
        """One mailbox entry, or None."""
        with self._lock:
            return self._mailboxes.get(computer_id, {}).get(file_id)

    def add_files(self, computer_id, uploads):
        """Add (name, spool) uploads as new files under the duplicate name policy; all or nothing.

        Returns the mailbox after the change. Raises DuplicateName (nothing changed) under ``reject``.
        """
        policy = self.behaviour.duplicate_name_policy
        replaced = []
        with self._lock:
            mailbox = self._mailboxes.setdefault(computer_id, {})
            if policy == "reject":
                taken = {entry.name for entry in mailbox.values()}
                for name, unused_spool in uploads:
                    if name in taken:
                        raise DuplicateName(name)
                    taken.add(name)
            timestamp = format_timestamp(time.time())
            for name, spool in uploads:
                if policy == "replace":
                    for old in [entry for entry in mailbox.values() if entry.name == name]:
                        replaced.append(mailbox.pop(old.id))
                file_id = next(self._file_ids)
                mailbox[file_id] = MailboxFile(file_id, name, spool.sha1, spool.size, timestamp, spool)
            entries = list(mailbox.values())
        # Disk work happens outside the lock: each content file belongs to exactly one entry.
        for old in replaced:
            old.content.discard()
        return entries

    def replace_content(self, computer_id, file_id, spool):
        """Give an existing file new content, keeping its id and name; None if there is no such file."""
        with self._lock:
            mailbox = self._mailboxes.get(computer_id, {})
            old = mailbox.get(file_id)
            if old is None:
                return None
            mailbox[file_id] = old._replace(sha1=spool.sha1, size=spool.size, timestamp=format_timestamp(time.time()),
                                            content=spool)
            entries = list(mailbox.values())
        old.content.discard()
        return entries

    def delete_file(self, computer_id, file_id):
        """Remove a file; returns the mailbox after the change, or None if there was no such file."""
        with self._lock:
            mailbox = self._mailboxes.get(computer_id, {})
            old = mailbox.pop(file_id, None)
            entries = list(mailbox.values())
        if old is None:
            return None
        old.content.discard()
        return entries

    # Sessions -----------------------------------------------------------------------------------

    def open_session(self, operator):
        """Create a session token for an operator."""
        token = secrets.token_hex(16)
        now = time.monotonic()
        with self._session_lock:
            if len(self._sessions) >= 4096:
                # Clients that log in per connection would otherwise grow this without bound.
                timeout = self.behaviour.session_idle_timeout
                for stale in [key for key, (unused_name, used) in self._sessions.items() if now - used > timeout]:
                    del self._sessions[stale]
            self._sessions[token] = (operator.name, now)
        return token

    def session_operator(self, token):
        """The operator of a live session token (refreshing its idle timer), or None."""
        now = time.monotonic()
        with self._session_lock:
            entry = self._sessions.get(token)
            if entry is None:
                return None
            if now - entry[1] > self.behaviour.session_idle_timeout:
                del self._sessions[token]
                return None
            self._sessions[token] = (entry[0], now)
        return self.operators[entry[0]]

    def expire_sessions(self):
        """Expire every session token now; returns how many there were."""
        with self._session_lock:
            count = len(self._sessions)
            self._sessions.clear()
        return count
