"""The few session relevance expressions the emulator answers on ``/api/query``.

Anything else is a relevance error, which BigFix reports with HTTP 200 and an ``<Error>`` element.
Keywords match case-insensitively and with any spacing; string literals match exactly.
Results are filtered by the operator's scope, as the real server filters them.
"""

import re
from typing import NamedTuple

from .fleet import MASTER_SITE_NAME

# Patterns match the canonical form made by _canonical(): no spaces around ( ) , =
_GROUP_MEMBERS = re.compile(
    r'ids of members of bes computer groups whose\(name of it="(?P<group>[^"]*)" ?and '
    r'name of site of it="(?P<site>[^"]*)"\)', re.IGNORECASE)
_GROUP_TUPLES = re.compile(r"\(id of it,name of it,name of site of it\)of bes computer groups", re.IGNORECASE)
_SIMPLE = {
    "ids of bes computers": "ids",
    "names of bes computers": "names",
    "number of bes computers": "number",
}


class Answer(NamedTuple):
    """An evaluated expression: rows of (type, value) or of tuples of them; or an error message."""

    rows: list
    plural: bool
    error: object = None

    def type_name(self):
        """The BigFix name of the result type, as the JSON output reports it."""
        if not self.rows:
            return None
        first = self.rows[0]
        if isinstance(first[0], tuple):
            return "( " + ", ".join(kind for kind, unused_value in first) + " )"
        return first[0]

    def json_value(self):
        """Rows as JSON values: scalars, or lists for tuples."""
        return [[value for unused_kind, value in row] if isinstance(row[0], tuple) else row[1] for row in self.rows]


def site_name(site):
    """The name relevance gives a site: ``ActionSite`` for the master action site."""
    return MASTER_SITE_NAME if site.kind == "master" else site.name


def _canonical(expression):
    """Collapse spacing outside string literals, and drop it around ( ) , = entirely."""
    pieces = re.split(r'("[^"]*")', expression)
    for index in range(0, len(pieces), 2):
        pieces[index] = re.sub(r" ?([(),=]) ?", r"\1", " ".join(pieces[index].split()))
    return "".join(pieces).strip()


def evaluate(expression, store, operator):
    """Evaluate a supported expression for an operator."""
    normalized = _canonical(expression)
    simple = _SIMPLE.get(normalized.lower())
    visible = store.visible_ids(operator)
    if simple == "ids":
        return Answer([("integer", cid) for cid in visible], True)
    if simple == "names":
        return Answer([("string", store.computers[cid].name) for cid in visible], True)
    if simple == "number":
        return Answer([("integer", len(visible))], False)
    match = _GROUP_MEMBERS.fullmatch(normalized)
    if match:
        rows = []
        for group in store.all_groups:
            if group.name == match["group"] and site_name(group.site) == match["site"]:
                rows.extend(("integer", cid) for cid in group.members if store.can_see(operator, cid))
        return Answer(rows, True)
    if _GROUP_TUPLES.fullmatch(normalized):
        return Answer([(("integer", group.id), ("string", group.name), ("string", site_name(group.site)))
                       for group in store.all_groups], True)
    return Answer([], True, f"The emulator does not evaluate this relevance expression: {expression}")
