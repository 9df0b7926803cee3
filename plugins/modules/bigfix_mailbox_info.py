#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module bigfix_mailbox_info: list the files in BigFix computer mailboxes."""

from __future__ import annotations

DOCUMENTATION = r"""
module: bigfix_mailbox_info
short_description: List the files in the mailboxes of BigFix computers
version_added: 0.1.0
description:
  - Lists the files in the mailbox of each target computer with C(GET /api/mailbox/{computer}), in parallel.
  - Read-only.
options:
  name:
    description:
      - Return only the files with exactly this name.
    type: str
extends_documentation_fragment:
  - bigfix.core.connection
  - bigfix.core.targets
  - bigfix.core.attributes.info
  - bigfix.core.attributes.action_group
notes:
  - A computer that cannot be read (unknown, or outside the operator's scope) makes the task fail after every other
    computer was read; the message names it.
seealso:
  - module: bigfix.core.bigfix_mailbox_file
author:
  - bigfix.core maintainers (@bigfix-ansible)
"""

EXAMPLES = r"""
- name: List one mailbox
  bigfix.core.bigfix_mailbox_info:
    url: https://bigfix.example.com:52311
    username: ansible
    password: "{{ vault_bigfix_password }}"
    ca_path: /etc/pki/bigfix/ca.pem
    computer_id: 1234567
  register: mailbox

- name: Find which computers already have app.conf
  bigfix.core.bigfix_mailbox_info:
    computers: [1234567, 2345678]
    name: app.conf
  register: found

- name: Show the computers that hold it
  ansible.builtin.debug:
    msg: "{{ found.files | map(attribute='computer_id') | unique | list }}"

# From the command line, with the BIGFIX_* variables exported:
# ansible localhost -m bigfix.core.bigfix_mailbox_info -a "computer_id=1234567"
"""

RETURN = r"""
files:
  description: The files of every listed mailbox, one flat list, computers in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    computer_id:
      description: The computer whose mailbox holds the file.
      type: int
      sample: 1234567
    id:
      description: The file's ID, used by the server in C(/api/mailbox/{computer}/{id}).
      type: int
      sample: 12
    name:
      description: The file name.
      type: str
      sample: app.conf
    sha1:
      description: SHA-1 of the content, in lower case.
      type: str
      sample: 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12
    size:
      description: Size in bytes, or null when the server did not give a number.
      type: int
      sample: 43
    timestamp:
      description: When the file was posted, as the server writes it (GMT).
      type: str
      sample: Tue, 19 Mar 2024 22:26:24 +0000
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bigfix.core.plugins.module_utils import arguments
from ansible_collections.bigfix.core.plugins.module_utils.concurrency import fan_out
from ansible_collections.bigfix.core.plugins.module_utils.mailbox import list_files

MODULE_OPTIONS = {
    "name": {"type": "str"},
}


def run(module, client):
    """Read every target mailbox; returns the files and the computers that failed."""
    params = module.params
    computer_ids = arguments.target_computers(params)
    concurrency = arguments.check_concurrency(params["concurrency"])
    files = []
    failures = []
    for computer_id, listing, error in fan_out(lambda cid: list_files(client, cid), computer_ids, concurrency):
        if error is not None:
            failures.append("computer %d: %s" % (computer_id, error))
            continue
        files.extend(dict(entry.to_dict(), computer_id=computer_id) for entry in listing
                     if params["name"] is None or entry.name == params["name"])
    return {"changed": False, "files": files}, failures


def main():
    module = AnsibleModule(
        argument_spec=arguments.argument_spec(arguments.TARGET_SPEC, arguments.CONCURRENCY_SPEC, MODULE_OPTIONS),
        mutually_exclusive=[("computer_id", "computers")],
        required_one_of=[("computer_id", "computers")],
        supports_check_mode=True,
    )
    result, failures = arguments.run_with_client(module, run)
    if failures:
        module.fail_json(msg="%s could not be read: %s" % (arguments.plural(len(failures), "computer"), "; ".join(failures[:10])), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
