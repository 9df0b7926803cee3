# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""BigFix computer groups: which computers belong to a group of a site.

``GET /api/computergroups/{site}`` lists a site's groups; ``GET /api/computergroup/{site}/{id}/computers``
lists one group's members. Nothing here imports Ansible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError, integer_text, path_segment

SITE_KINDS = ("custom", "operator", "external")
MAX_CANDIDATES_SHOWN = 20


@dataclass(frozen=True)
class ComputerGroup:
    """A computer group of one site, with its members' computer IDs."""

    site: str
    id: int
    name: str
    members: tuple = ()

    def to_dict(self):
        return {"site": self.site, "id": self.id, "name": self.name, "members": list(self.members)}


def site_path(site):
    """The ``{site}`` part of a URL: ``master``, or ``custom/``, ``operator/``, ``external/`` and the site name.

    A ``/`` inside the site name may be written as ``/`` or ``%2f``; it is sent as ``%2F``.
    Raises ValueError naming the fix.
    """
    text = (site or "").strip()
    if text.lower() == "master":
        return "master"
    kind, name = text.split("/", 1) if "/" in text else (text, "")
    if kind.lower() not in SITE_KINDS or not name:
        raise ValueError("site %r is not a BigFix site path; write master, custom/NAME, operator/NAME or external/NAME" % site)
    return "%s/%s" % (kind.lower(), path_segment(unquote(name)))


def list_groups(client, site):
    """The groups of one site, without members."""
    root = client.get_xml("computergroups/%s" % site_path(site))
    groups = []
    for element in root.findall("ComputerGroup"):
        group_id = integer_text(element.findtext("ID")) or integer_text(_last_segment(element.get("Resource")))
        if group_id is not None:
            groups.append(ComputerGroup(site=site, id=group_id, name=element.findtext("Name") or ""))
    return groups


def group_members(client, site, group_id):
    """The computer IDs of one group's members."""
    root = client.get_xml("computergroup/%s/%d/computers" % (site_path(site), group_id))
    members = []
    for element in root.findall("Computer"):
        # The shape of this answer is not documented; fall back to the number ending Resource.
        computer_id = integer_text(element.findtext("ID")) or integer_text(_last_segment(element.get("Resource")))
        if computer_id is not None:
            members.append(computer_id)
    return tuple(members)


def find_group(groups, site, name=None, group_id=None):
    """The one group of ``groups`` with that name or ID; BigFixError lists the candidates otherwise."""
    if group_id is not None:
        matches = [group for group in groups if group.id == group_id]
        wanted = "ID %d" % group_id
    else:
        matches = [group for group in groups if group.name == name]
        wanted = "name %r" % name
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise BigFixError("%d groups of site %s have the %s: IDs %s; give the id instead of the name"
                          % (len(matches), site, wanted, ", ".join(str(group.id) for group in matches)))
    names = sorted("%s (%d)" % (group.name, group.id) for group in groups)
    shown = ", ".join(names[:MAX_CANDIDATES_SHOWN]) + (", ..." if len(names) > MAX_CANDIDATES_SHOWN else "")
    raise BigFixError("site %s has no group with the %s; its groups are: %s" % (site, wanted, shown or "(none)"))


def _last_segment(resource):
    match = re.search(r"/(\d+)/?$", resource or "")
    return match.group(1) if match else None
