"""BESAPI (and BES) XML rendering.

Documents are built as strings, which is several times faster than building a tree, with every
text and attribute value escaped. Element order follows BESAPI.xsd / BES.xsd sequences; the tests
validate every shape against the schemas shipped by validate-bes-xml.
"""

from xml.sax.saxutils import escape

_BESAPI_OPEN = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<BESAPI xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="BESAPI.xsd">\n')
_BESAPI_CLOSE = "</BESAPI>\n"
_BES_OPEN = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<BES xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="BES.xsd">\n')
_BES_CLOSE = "</BES>\n"
_TEXT_ENTITIES = {"\r": "&#13;"}
_ATTRIBUTE_ENTITIES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}


def _text(value):
    return escape(str(value), _TEXT_ENTITIES)


def _attribute(value):
    return escape(str(value), _ATTRIBUTE_ENTITIES)


def _besapi(parts):
    return (_BESAPI_OPEN + "".join(parts) + _BESAPI_CLOSE).encode("utf-8")


def _mailbox_file(base_url, computer_id, entry):
    return (f'  <ComputerMailboxFile Resource="{_attribute(f"{base_url}/api/mailbox/{computer_id}/{entry.id}")}">\n'
            f"    <Name>{_text(entry.name)}</Name>\n"
            f"    <ID>{entry.id}</ID>\n"
            f"    <SHA1>{entry.sha1}</SHA1>\n"
            f"    <Size>{entry.size}</Size>\n"
            f"    <Timestamp>{entry.timestamp}</Timestamp>\n"
            "  </ComputerMailboxFile>\n")


def mailbox(base_url, computer_id, entries):
    """A whole mailbox: one ComputerMailboxFile per entry (none for an empty mailbox)."""
    return _besapi(_mailbox_file(base_url, computer_id, entry) for entry in entries)


def mailbox_file(base_url, computer_id, entry):
    """One mailbox entry's metadata."""
    return _besapi([_mailbox_file(base_url, computer_id, entry)])


def _computer_summary(base_url, computer):
    return (f'  <Computer Resource="{_attribute(f"{base_url}/api/computer/{computer.id}")}">\n'
            f"    <LastReportTime>{_text(computer.last_report_time)}</LastReportTime>\n"
            f"    <ID>{computer.id}</ID>\n"
            "  </Computer>\n")


def computer_list(base_url, computers):
    """``/api/computers`` and group member lists: Resource, LastReportTime and ID per computer."""
    return _besapi(_computer_summary(base_url, computer) for computer in computers)


def computer_item(base_url, computer):
    """``/api/computer/{id}``: Property elements only, as recorded samples show."""
    properties = [("Computer Name", computer.name), ("ID", str(computer.id)), ("OS", computer.os),
                  ("Last Report Time", computer.last_report_time)]
    properties.extend(computer.properties)
    lines = [f'  <Computer Resource="{_attribute(f"{base_url}/api/computer/{computer.id}")}">\n']
    lines.extend(f'    <Property Name="{_attribute(name)}">{_text(value)}</Property>\n' for name, value in properties)
    lines.append("  </Computer>\n")
    return _besapi(lines)


def group_list(base_url, groups):
    """``/api/computergroups/{site}``."""
    return _besapi(
        f'  <ComputerGroup Resource="{_attribute(f"{base_url}/api/computergroup/{group.site.path}/{group.id}")}" '
        f'LastModified="{_attribute(group.last_modified)}">\n'
        f"    <Name>{_text(group.name)}</Name>\n"
        f"    <ID>{group.id}</ID>\n"
        "  </ComputerGroup>\n"
        for group in groups)


def group_item(group, member_ids):
    """``/api/computergroup/{site}/{id}`` in BES.xsd form; membership as one relevance clause."""
    if member_ids:
        relevance = f"set of ({'; '.join(str(cid) for cid in member_ids)}) contains computer id"
    else:
        relevance = "false"
    return (_BES_OPEN
            + "  <ComputerGroup>\n"
            + f"    <Title>{_text(group.name)}</Title>\n"
            + "    <JoinByIntersection>false</JoinByIntersection>\n"
            + '    <SearchComponentRelevance Comparison="IsTrue">\n'
            + f"      <Relevance>{_text(relevance)}</Relevance>\n"
            + "    </SearchComponentRelevance>\n"
            + "  </ComputerGroup>\n"
            + _BES_CLOSE).encode("utf-8")


def _answers(row):
    """A result row: one (type, value) answer, or a tuple of them."""
    if isinstance(row[0], tuple):
        inner = "".join(f'<Answer type="{kind}">{_text(value)}</Answer>' for kind, value in row)
        return f"<Tuple>{inner}</Tuple>"
    return f'<Answer type="{row[0]}">{_text(row[1])}</Answer>'


def query_result(expression, rows, plural, elapsed_ms):
    """A successful ``/api/query`` answer."""
    answers = "".join(f"      {_answers(row)}\n" for row in rows)
    return _besapi([
        f'  <Query Resource="{_attribute(expression)}">\n'
        f"    <Result>\n{answers}    </Result>\n"
        f"    <Evaluation>\n      <Time>{elapsed_ms:.3f}ms</Time>\n"
        f"      <Plurality>{'Plural' if plural else 'Singular'}</Plurality>\n    </Evaluation>\n"
        "  </Query>\n"])


def query_error(expression, message):
    """A relevance error, which BigFix reports with HTTP 200."""
    return _besapi([
        f'  <Query Resource="{_attribute(expression)}">\n'
        "    <Result/>\n"
        f"    <Error>{_text(message)}</Error>\n"
        "  </Query>\n"])
