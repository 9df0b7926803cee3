# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring one file to a desired state in many mailboxes, idempotently.

For each computer: list the mailbox, plan the fewest writes from what is there, carry them out.
A write whose outcome is unknown is never sent again blindly: the mailbox is listed again and the
plan made anew. Nothing here imports Ansible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError
from ansible_collections.bigfix.core.plugins.module_utils import mailbox
from ansible_collections.bigfix.core.plugins.module_utils.concurrency import fan_out

CREATED = "created"
UPDATED = "updated"
DELETED = "deleted"
UNCHANGED = "unchanged"
FAILED = "failed"
ACTIONS = (CREATED, UPDATED, DELETED, UNCHANGED, FAILED)

# How an existing file with other content is updated.
RECREATE = "recreate"   # DELETE then POST: the calls every known client uses; the file gets a new ID
PUT = "put"             # PUT multipart to the file ID: keeps the ID; documented, not seen in public clients


@dataclass(frozen=True)
class Plan:
    """What to do in one mailbox: delete some entries, then upload or replace, or nothing."""

    action: str
    deletes: tuple = ()
    upload: bool = False
    replace_id: int | None = None
    msg: str = ""

    @property
    def writes(self):
        return len(self.deletes) + int(self.upload) + int(self.replace_id is not None)


@dataclass
class Outcome:
    """The result for one computer."""

    computer_id: int
    action: str
    msg: str = ""
    file: mailbox.MailboxFile | None = None
    before: list = field(default_factory=list)
    after: list = field(default_factory=list)

    @property
    def changed(self):
        return self.action in (CREATED, UPDATED, DELETED)

    def diff(self):
        """The mailbox before and after, one line per entry, as Ansible shows diffs."""
        header = "mailbox of computer %d" % self.computer_id
        return {"before_header": header, "after_header": header, "before": _listing(self.before), "after": _listing(self.after)}

    def to_dict(self):
        return {
            "computer_id": self.computer_id,
            "changed": self.changed,
            "action": self.action,
            "file": self.file.to_dict() if self.file else None,
            "msg": self.msg,
        }


def _listing(files):
    return "".join("{name} sha1={sha1} size={size}\n".format(**f.summary()) for f in sorted(files, key=lambda f: (f.name or "", f.id or 0)))


def plan_present(files, local, force=False, update_method=RECREATE):
    """The writes that leave exactly one entry named ``local.name`` holding ``local``'s content.

    Never plans a POST while an entry of that name remains: deletes come first.
    """
    matches = [f for f in files if f.name == local.name]
    if not matches:
        return Plan(CREATED, upload=True, msg="uploaded")
    keep = next((f for f in matches if f.has_content(local.sha1, local.size)), None)
    if keep is not None and not force:
        extra = tuple(f.id for f in matches if f is not keep)
        if not extra:
            return Plan(UNCHANGED, msg="already present with the same SHA-1")
        return Plan(UPDATED, deletes=extra, msg="removed %d duplicate cop%s" % (len(extra), "y" if len(extra) == 1 else "ies"))
    reason = "re-uploaded (force)" if keep is not None else "the mailbox held SHA-1 %s, not %s" % (matches[0].sha1 or "unknown", local.sha1)
    target = keep or matches[0]
    if update_method == PUT and target.id is not None:
        return Plan(UPDATED, deletes=tuple(f.id for f in matches if f is not target), replace_id=target.id, msg="replaced: " + reason)
    return Plan(UPDATED, deletes=tuple(f.id for f in matches), upload=True, msg="replaced: " + reason)


def plan_absent(files, name):
    """Delete every entry called ``name``."""
    ids = tuple(f.id for f in files if f.name == name)
    if not ids:
        return Plan(UNCHANGED, msg="already absent")
    return Plan(DELETED, deletes=ids, msg="deleted %d cop%s" % (len(ids), "y" if len(ids) == 1 else "ies"))


def predict(files, plan, local):
    """The mailbox as it will look after ``plan``; new entries have no ID yet."""
    after = [f for f in files if f.id not in plan.deletes and f.id != plan.replace_id]
    if plan.upload or plan.replace_id is not None:
        after.append(mailbox.MailboxFile(id=plan.replace_id, name=local.name, sha1=local.sha1, size=local.size, timestamp=None))
    return after


def converge(client, computer_id, planner, local=None, check_mode=False):
    """List one mailbox, plan with ``planner(files)``, and carry the plan out.

    A transient failure of a write (or a 409 from a concurrent writer) leads to a fresh listing
    and a fresh plan, at most ``client.settings.retries`` times.
    """
    files = mailbox.list_files(client, computer_id)
    before = files
    first = None
    maybe_written = False
    attempt = 0
    while True:
        plan = planner(files)
        first = first or plan
        if check_mode or plan.writes == 0:
            after = predict(files, plan, local) if plan.writes else files
            # A write whose answer was lost may have been carried out all the same: the listing tells.
            changed = maybe_written and _entries(after) != _entries(before)
            return _outcome(computer_id, first if changed else plan, local, before, after)
        try:
            return _outcome(computer_id, first, local, before, _execute(client, computer_id, plan, local, files))
        except BigFixError as exc:
            if not (exc.transient or exc.status == 409) or attempt >= client.settings.retries:
                raise
            attempt += 1
            maybe_written = maybe_written or exc.outcome_unknown
            client.pause(attempt, exc)
            files = mailbox.list_files(client, computer_id)


def _entries(files):
    return [(f.id, f.name, f.sha1) for f in files]


def _execute(client, computer_id, plan, local, files):
    if None in plan.deletes:
        raise BigFixError("the mailbox lists a file of this name without an ID, which cannot be deleted or replaced")
    reported = None
    for file_id in plan.deletes:
        listing = mailbox.delete(client, computer_id, file_id)
        if listing is not None:
            reported = listing
    if plan.replace_id is not None:
        reported = mailbox.replace(client, computer_id, plan.replace_id, local)
    if plan.upload:
        reported = mailbox.upload(client, computer_id, local)
    # The server's answer to a write is the mailbox after it; where it sent none, predict it.
    return reported if reported is not None else predict(files, plan, local)


def _outcome(computer_id, plan, local, before, after):
    record = None
    if local is not None and plan.action != DELETED:
        record = next((f for f in after if f.name == local.name and f.has_content(local.sha1, local.size)), None)
    elif plan.action == DELETED:
        record = next((f for f in before if f.id in plan.deletes), None)
    return Outcome(computer_id, plan.action, plan.msg, record, before, after)


def ensure_present(client, computer_ids, local, force=False, update_method=RECREATE, check_mode=False, concurrency=8):
    """``local`` present exactly once in each mailbox. Returns one Outcome per computer, in order."""
    def one(computer_id):
        return converge(client, computer_id, lambda files: plan_present(files, local, force, update_method), local, check_mode)
    return _outcomes(fan_out(one, computer_ids, concurrency))


def ensure_absent(client, computer_ids, name, check_mode=False, concurrency=8):
    """No entry called ``name`` in any of the mailboxes."""
    def one(computer_id):
        return converge(client, computer_id, lambda files: plan_absent(files, name), None, check_mode)
    return _outcomes(fan_out(one, computer_ids, concurrency))


def _outcomes(triples):
    return [result if error is None else Outcome(computer_id, FAILED, "computer %d: %s" % (computer_id, error))
            for computer_id, result, error in triples]


def count(outcomes):
    """How many computers ended in each action."""
    counts = dict.fromkeys(ACTIONS, 0)
    for outcome in outcomes:
        counts[outcome.action] += 1
    return counts
