#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module bigfix_computer_group_info: resolve BigFix computer groups to their member computers."""

from __future__ import annotations

DOCUMENTATION = r"""
module: bigfix_computer_group_info
short_description: Resolve BigFix computer groups to the IDs of their member computers
version_added: 0.1.0
description:
  - Finds each group by site and name, or site and ID, with C(GET /api/computergroups/{site}), and lists its members
    with C(GET /api/computergroup/{site}/{id}/computers).
  - Read-only.
options:
  groups:
    description:
      - The groups to resolve.
    type: list
    elements: dict
    required: true
    suboptions:
      site:
        description:
          - The site of the group. V(master) for the master action site, or V(custom/NAME), V(operator/NAME) or V(external/NAME).
          - A C(/) inside a site name may be written as C(/) or as C(%2f), for example V(custom/Public/Windows) or V(custom/Public%2fWindows).
        type: str
        required: true
      name:
        description:
          - The name of the group. Names are unique only within a site; a name that several groups of the site share
            fails with their IDs listed, so that O(groups[].id) can be used instead.
          - Exactly one of O(groups[].name) and O(groups[].id) is required.
        type: str
      id:
        description:
          - The ID of the group.
          - Exactly one of O(groups[].name) and O(groups[].id) is required.
        type: int
  concurrency:
    description:
      - How many requests are sent at the same time; load on the BigFix root server. Between V(1) and V(64).
    type: int
    default: 8
extends_documentation_fragment:
  - bigfix.core.connection
  - bigfix.core.attributes.info
  - bigfix.core.attributes.action_group
notes:
  - The operator sees only the computers it administers, so a non-master operator may get fewer members than a master operator.
  - Members of automatic groups are evaluated by the BigFix clients, so they follow the clients' reports with some delay.
  - A group without members is not an error; it resolves to an empty list.
seealso:
  - module: bigfix.core.bigfix_mailbox_file
author:
  - bigfix.core maintainers (@bigfix-ansible)
"""

EXAMPLES = r"""
- name: Resolve two groups
  bigfix.core.bigfix_computer_group_info:
    url: https://bigfix.example.com:52311
    username: ansible
    password: "{{ vault_bigfix_password }}"
    ca_path: /etc/pki/bigfix/ca.pem
    groups:
      - site: custom/Payments
        name: Linux servers
      - site: master
        id: 47
  register: resolved

- name: Stage a file to every member
  bigfix.core.bigfix_mailbox_file:
    computers: "{{ resolved.computers }}"
    src: app.conf

# From the command line, with the BIGFIX_* variables exported:
# ansible localhost -m bigfix.core.bigfix_computer_group_info -a '{"groups": [{"site": "master", "name": "All Linux"}]}'
"""

RETURN = r"""
groups:
  description: The resolved groups, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    site:
      description: The site as given.
      type: str
      sample: custom/Payments
    id:
      description: The group's ID.
      type: int
      sample: 6350
    name:
      description: The group's name.
      type: str
      sample: Linux servers
    members:
      description: The IDs of the member computers the operator can see.
      type: list
      elements: int
      sample: [1234567, 2345678]
computers:
  description: The IDs of the members of all the groups, each once, in order of first appearance.
  returned: always
  type: list
  elements: int
  sample: [1234567, 2345678]
"""

from dataclasses import replace

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bigfix.core.plugins.module_utils import arguments
from ansible_collections.bigfix.core.plugins.module_utils import computer_groups
from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError
from ansible_collections.bigfix.core.plugins.module_utils.concurrency import fan_out

MODULE_OPTIONS = {
    "groups": {
        "type": "list", "elements": "dict", "required": True,
        "options": {
            "site": {"type": "str", "required": True},
            "name": {"type": "str"},
            "id": {"type": "int"},
        },
        "mutually_exclusive": [("name", "id")],
        "required_one_of": [("name", "id")],
    },
}


def run(module, client):
    """Resolve every group; returns the result and the reasons of the groups that could not be resolved,
    in the order the groups were given."""
    wanted = module.params["groups"]
    concurrency = arguments.check_concurrency(module.params["concurrency"])
    paths = []
    for index, group in enumerate(wanted):
        try:
            paths.append(computer_groups.site_path(group["site"]))
        except ValueError as exc:
            raise ValueError("groups[%d].site: %s" % (index, exc)) from None
    # Spellings of one site (Custom/X and custom/X, / and %2f) share one listing.
    listings = {path: (groups, error) for path, groups, error in
                fan_out(lambda path: computer_groups.list_groups(client, path), list(dict.fromkeys(paths)), concurrency)}
    errors = {}
    found = []
    for index, (group, path) in enumerate(zip(wanted, paths)):
        groups, error = listings[path]
        label = "group %r of site %s" % (group["name"], group["site"]) if group["id"] is None else \
            "group ID %d of site %s" % (group["id"], group["site"])
        if error is not None:
            errors[index] = "%s: %s" % (label, error)
            continue
        try:
            match = computer_groups.find_group(groups, group["site"], name=group["name"], group_id=group["id"])
        except BigFixError as exc:
            errors[index] = str(exc)
            continue
        # Reported under the site as given, whatever spelling was listed.
        found.append((index, replace(match, site=group["site"])))
    resolved = []
    for (index, group), members, error in fan_out(
            lambda item: computer_groups.group_members(client, item[1].site, item[1].id), found, concurrency):
        if error is not None:
            errors[index] = "group %r of site %s: %s" % (group.name, group.site, error)
        else:
            resolved.append(replace(group, members=members))
    computers = list(dict.fromkeys(member for group in resolved for member in group.members))
    return ({"changed": False, "groups": [group.to_dict() for group in resolved], "computers": computers},
            [errors[index] for index in sorted(errors)])


def main():
    module = AnsibleModule(
        argument_spec=arguments.argument_spec(arguments.CONCURRENCY_SPEC, MODULE_OPTIONS),
        supports_check_mode=True,
    )
    result, errors = arguments.run_with_client(module, run)
    if errors:
        module.fail_json(msg="; ".join(errors), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
