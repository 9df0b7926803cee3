#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module bigfix_mailbox_file: put a file into, or take it out of, BigFix computer mailboxes."""

from __future__ import annotations

DOCUMENTATION = r"""
module: bigfix_mailbox_file
short_description: Put a file into, or remove it from, the mailboxes of BigFix computers
version_added: 0.1.0
description:
  - Makes sure that a file is present exactly once, with the given content, in the mailbox of each target computer,
    or that no file of that name is there.
  - A file posted to a computer's mailbox reaches that computer only. The BigFix client stores it in
    its C(__BESData/mailboxsite) folder after its next gather of the mailbox site.
  - Idempotent by file name and SHA-1. One task can target thousands of computers; they are handled in parallel on one
    pool of keep-alive connections.
  - Uses C(GET /api/mailbox/{computer}) to read each mailbox, then C(POST /api/mailbox/{computer}) to add a file and
    C(DELETE /api/mailbox/{computer}/{file}) to remove one. It never posts a name that is still in the mailbox.
options:
  src:
    description:
      - Path of the file on the Ansible controller.
      - A relative path is searched for as M(ansible.builtin.copy) does it, in the role's and the playbook's C(files/) directories.
      - Files encrypted with Ansible Vault are decrypted before upload.
      - Where the module runs on another host, or with become, or asynchronously, the file is first copied to the
        task's temporary directory there. With the local connection the module reads it where it is on the controller.
      - Mutually exclusive with O(content). One of them is required when O(state=present).
    type: path
  content:
    description:
      - The content of the file, as a string, sent encoded as UTF-8.
      - Mutually exclusive with O(src). O(name) is then required.
    type: str
  name:
    description:
      - The file name in the mailbox, as the computers will see it.
      - Defaults to the last part of O(src).
      - To upload, the name must not be empty, contain C(/), C(\), C(") or control characters, start with C(__) or end
        with C(.fxf), and must fit in 255 bytes of UTF-8. To remove, any non-empty name is accepted.
    type: str
  state:
    description:
      - V(present) makes sure exactly one file named O(name) with this content is in each mailbox. A missing file is
        uploaded, a file with other content is replaced, and extra copies of the same name are deleted.
      - V(absent) deletes every file named O(name). A file that is already absent is not an error.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - Upload even when a file with the same name and SHA-1 is already there.
    type: bool
    default: false
  update_method:
    description:
      - How a file whose content differs is replaced.
      - V(recreate) deletes it, then posts the new content; the file gets a new ID. These are the calls every known BigFix client uses.
      - V(put) sends the new content with C(PUT /api/mailbox/{computer}/{file}) as multipart form data, keeping the file ID.
    type: str
    choices: [recreate, put]
    default: recreate
  report:
    description:
      - Which computers get an entry in RV(results). RV(counts) and RV(msg) always cover every computer.
      - V(all) lists every computer.
      - V(changes) lists the computers that changed (or would change) and those that failed.
      - V(failures) lists only the computers that failed.
      - In diff mode the computers that changed are always listed, as their entries carry the diffs.
      - At thousands of computers, V(failures) keeps the result small, which matters where results are stored, such as
        AWX job events, and saves the controller from processing one entry per computer.
    type: str
    choices: [all, changes, failures]
    default: all
    version_added: 0.2.0
extends_documentation_fragment:
  - bigfix.core.connection
  - bigfix.core.targets
  - bigfix.core.attributes.action_group
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode no write request is sent; each mailbox is read and the changes that would be made are reported.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: For each computer whose mailbox changes, the entries (name, SHA-1, size) before and after.
notes:
  - A computer that fails (unknown, outside the operator's scope, or a server error after all retries) makes the task
    fail after every other computer was handled; RV(results) says what happened to each.
  - Success means the file is queued on the BigFix server. It reaches the computer when the client next gathers its mailbox site.
seealso:
  - module: bigfix.core.bigfix_mailbox_info
author:
  - bigfix.core maintainers (@bigfix-ansible)
"""

EXAMPLES = r"""
- name: Put app.conf (from the role's or playbook's files/ directory) in three mailboxes
  bigfix.core.bigfix_mailbox_file:
    url: https://bigfix.example.com:52311
    username: ansible
    password: "{{ vault_bigfix_password }}"
    ca_path: /etc/pki/bigfix/ca.pem
    computers: [1234567, 2345678, 3456789]
    src: app.conf

- name: Write a small file from a string
  bigfix.core.bigfix_mailbox_file:
    computer_id: 1234567
    name: maintenance-window.txt
    content: "Saturday 02:00-04:00 UTC\n"

- name: Set the connection once for every bigfix.core module of the play
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/bigfix.core.bigfix:
      url: https://bigfix.example.com:52311
      username: ansible
      password: "{{ vault_bigfix_password }}"
      ca_path: /etc/pki/bigfix/ca.pem
  tasks:
    - name: Remove the old file everywhere
      bigfix.core.bigfix_mailbox_file:
        computers: "{{ fleet_ids }}"
        name: app-v1.conf
        state: absent

# From the command line, with BIGFIX_URL, BIGFIX_USERNAME, BIGFIX_PASSWORD and BIGFIX_CA_PATH exported:
# ansible localhost -m bigfix.core.bigfix_mailbox_file -a "computer_id=1234567 name=hello.txt content=hi"
"""

RETURN = r"""
changed:
  description: Whether any mailbox changed (or would change, in check mode).
  returned: always
  type: bool
  sample: true
name:
  description: The file name managed in the mailboxes.
  returned: always
  type: str
  sample: app.conf
sha1:
  description: SHA-1 of the content, computed once per task. Absent when O(state=absent).
  returned: when O(state=present)
  type: str
  sample: 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12
size:
  description: Size of the content in bytes.
  returned: when O(state=present)
  type: int
  sample: 43
counts:
  description: How many computers ended in each action.
  returned: always
  type: dict
  sample: {"created": 2, "updated": 0, "deleted": 0, "unchanged": 1, "failed": 0}
results:
  description: One entry per target computer, in the order given; with O(report), only the computers it selects.
  returned: always
  type: list
  elements: dict
  contains:
    computer_id:
      description: The computer.
      type: int
      sample: 1234567
    changed:
      description: Whether this mailbox changed (or would change, in check mode).
      type: bool
      sample: true
    action:
      description: What was done, or would be done in check mode.
      type: str
      choices: [created, updated, deleted, unchanged, failed]
      sample: created
    file:
      description:
        - The mailbox entry that now holds the file (for V(deleted), the entry that was removed).
        - O(ignore:id) and O(ignore:timestamp) are null when the server did not report them, and in check mode for a new upload.
      type: dict
      sample: {"id": 12, "name": "app.conf", "sha1": "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12", "size": 43,
               "timestamp": "Tue, 19 Mar 2024 22:26:24 +0000"}
    msg:
      description: What happened, in words; for a failed computer, the error.
      type: str
      sample: uploaded
    diff:
      description: The mailbox before and after, one line per file (name, SHA-1, size), for a changed computer in diff mode.
      type: dict
      returned: when diff mode is on and this computer changed
      sample: {"before_header": "mailbox of computer 1234567", "after_header": "mailbox of computer 1234567",
               "before": "", "after": "app.conf sha1=2fd4e1c67a2d28fced849ee1bb76e7391b93eb12 size=43\n"}
msg:
  description: A summary of the counts.
  returned: always
  type: str
  sample: "3 computers: 2 created, 1 unchanged"
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bigfix.core.plugins.module_utils import arguments
from ansible_collections.bigfix.core.plugins.module_utils import mailbox_state
from ansible_collections.bigfix.core.plugins.module_utils.mailbox import LocalFile, check_name

MODULE_OPTIONS = {
    "src": {"type": "path"},
    "content": {"type": "str"},
    "name": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "force": {"type": "bool", "default": False},
    "update_method": {"type": "str", "choices": ["recreate", "put"], "default": "recreate"},
    "report": {"type": "str", "choices": ["all", "changes", "failures"], "default": "all"},
}


def file_name(params):
    """``name``, or the last part of ``src``. A name to upload must pass check_name(); a name to delete
    only needs to be non-empty, so that files others posted with unusual names can be removed."""
    name = params["name"] if params.get("name") is not None else os.path.basename(params.get("src") or "")
    if params["state"] == "absent":
        if not name:
            raise ValueError("name is empty: give the name of the file to remove")
        return name
    return check_name(name)


def local_file(params):
    """The content to upload, hashed once; ValueError names the field at fault."""
    src = params.get("src")
    name = file_name(params)
    if src is None:
        try:
            data = params["content"].encode("utf-8", errors="surrogateescape")
        except UnicodeEncodeError as exc:
            raise ValueError("content holds characters that cannot be encoded as UTF-8: %s" % exc) from None
        return LocalFile.from_bytes(data, name)
    if not os.path.exists(src):
        raise ValueError("src %r does not exist" % src)
    if os.path.isdir(src):
        raise ValueError("src %r is a directory; give a file" % src)
    if not os.access(src, os.R_OK):
        raise ValueError("src %r is not readable by the user running the module" % src)
    return LocalFile.from_path(src, name)


def is_reported(outcome, report, diff):
    """Whether ``outcome`` gets an entry in ``results`` under the ``report`` option."""
    if report == "all" or outcome.action == mailbox_state.FAILED:
        return True
    return outcome.changed and (report == "changes" or diff)


def run(module, client):
    """Bring the file to the wanted state in every target mailbox; returns the module result."""
    params = module.params
    computer_ids = arguments.target_computers(params)
    concurrency = arguments.check_concurrency(params["concurrency"])
    result = {}
    if params["state"] == "present":
        local = local_file(params)
        result.update(name=local.name, sha1=local.sha1, size=local.size)
        outcomes = mailbox_state.ensure_present(client, computer_ids, local, force=params["force"],
                                                update_method=params["update_method"],
                                                check_mode=module.check_mode, concurrency=concurrency)
    else:
        name = file_name(params)
        result.update(name=name)
        outcomes = mailbox_state.ensure_absent(client, computer_ids, name, check_mode=module.check_mode,
                                               concurrency=concurrency)
    counts = mailbox_state.count(outcomes)
    listed = [outcome for outcome in outcomes if is_reported(outcome, params["report"], module._diff)]  # pylint: disable=protected-access
    entries = [outcome.to_dict() for outcome in listed]
    result.update(
        changed=any(outcome.changed for outcome in outcomes),
        counts=counts,
        results=entries,
        msg="%s: %s" % (arguments.plural(len(outcomes), "computer"),
                        ", ".join("%d %s" % (n, action) for action, n in counts.items() if n)),
    )
    if module._diff:  # pylint: disable=protected-access
        # Each changed computer's diff is also kept in its own entry: when the task loops, Ansible
        # looks for diffs in the entries of a "results" list.
        result["diff"] = []
        for outcome, entry in zip(listed, entries):
            if outcome.changed:
                entry["diff"] = outcome.diff()
                result["diff"].append(entry["diff"])
    return result


def main():
    module = AnsibleModule(
        argument_spec=arguments.argument_spec(arguments.TARGET_SPEC, arguments.CONCURRENCY_SPEC, MODULE_OPTIONS),
        mutually_exclusive=[("computer_id", "computers"), ("src", "content")],
        required_one_of=[("computer_id", "computers")],
        required_if=[("state", "present", ("src", "content"), True), ("state", "absent", ("name", "src"), True)],
        required_by={"content": "name"},
        supports_check_mode=True,
    )
    result = arguments.run_with_client(module, run)
    if result["counts"]["failed"]:
        failures = [r["msg"] for r in result["results"] if r["action"] == "failed"]
        module.fail_json(**dict(result, msg="%d of %d computers failed: %s" % (
            len(failures), sum(result["counts"].values()),
            "; ".join(failures[:10]) + ("; ..." if len(failures) > 10 else ""))))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
