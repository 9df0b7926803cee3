"""Shared helpers for the emulator tests: credentials, an HTTP client and schema checks."""

import functools
import hashlib
import importlib.resources
import re

import requests
from lxml import etree

from tests.emulator.launcher import REPO_ROOT

DEMO_FLEET = REPO_ROOT / "tests" / "emulator" / "fleets" / "demo.yml"
MASTER = ("bigfix", "bigfix-demo-password")
NON_MASTER = ("alice", "alice-demo-password")
NO_REST = ("auditor", "auditor-demo-password")
NON_MASTER_COMPUTERS = [1001, 1002, 1003, 1004, 1005, 1011, 1012]
ALL_COMPUTERS = list(range(1001, 1021))
NOT_FOUND_TEXT = "Requested resource does not exist."
TIMESTAMP = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                       r"\d\d:\d\d:\d\d \+0000$")
FOX = b"The quick brown fox jumps over the lazy dog"
FOX_SHA1 = "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"


class Client:
    """requests against one emulator, with its CA and (by default) Basic credentials on every call.

    ``verify`` is passed on each request: REQUESTS_CA_BUNDLE in the environment would override a
    session-level setting.
    """

    def __init__(self, emulator, auth=MASTER):
        self.emulator = emulator
        self.auth = auth
        self.session = requests.Session()

    def request(self, method, path, **kwargs):
        """Send a request to ``emulator.url + path``."""
        kwargs.setdefault("auth", self.auth)
        kwargs.setdefault("verify", self.emulator.ca_path)
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.emulator.url + path, **kwargs)

    def get(self, path, **kwargs):
        """GET."""
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        """POST."""
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        """PUT."""
        return self.request("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        """DELETE."""
        return self.request("DELETE", path, **kwargs)

    def upload(self, computer_id, name, content, path=None):
        """POST a raw body with ``Content-Disposition: attachment; filename="name"`` (UTF-8, quoted-string escapes)."""
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return self.post(path or f"/api/mailbox/{computer_id}", data=content,
                         headers={"Content-Disposition": f'attachment; filename="{quoted}"'.encode("utf-8")})


@functools.lru_cache(maxsize=None)
def schema(name):
    """The XMLSchema for ``BESAPI.xsd`` or ``BES.xsd`` from validate-bes-xml."""
    source = importlib.resources.files("validate_bes_xml") / "schemas" / name
    with importlib.resources.as_file(source) as path:
        return etree.XMLSchema(etree.parse(str(path)))


def besapi_root(response, schema_name="BESAPI.xsd"):
    """Assert a 200 ``application/xml`` response that validates against the schema; return its root."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/xml"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = etree.fromstring(response.content)
    validator = schema(schema_name)
    assert validator.validate(root), validator.error_log
    if schema_name == "BESAPI.xsd":
        assert root.tag == "BESAPI"
        assert root.get("{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation") == "BESAPI.xsd"
    return root


def mailbox_entries(response):
    """The validated mailbox in a response as dicts (name, id, sha1, size, timestamp, resource)."""
    root = besapi_root(response)
    entries = []
    for element in root:
        assert element.tag == "ComputerMailboxFile"
        assert [child.tag for child in element] == ["Name", "ID", "SHA1", "Size", "Timestamp"]
        entries.append({"name": element.findtext("Name"), "id": int(element.findtext("ID")),
                        "sha1": element.findtext("SHA1"), "size": int(element.findtext("Size")),
                        "timestamp": element.findtext("Timestamp"), "resource": element.get("Resource")})
    return entries


def entry_named(entries, name):
    """The single entry with ``name``."""
    matches = [entry for entry in entries if entry["name"] == name]
    assert len(matches) == 1, entries
    return matches[0]


def sha1_hex(data):
    """Lowercase hex SHA-1."""
    return hashlib.sha1(data).hexdigest()


def assert_text(response, status, text=None):
    """Assert a plain-text error response (optionally with an exact body)."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "text/plain"
    if text is not None:
        assert response.text == text


def assert_empty(response, status=404):
    """Assert an empty-bodied response."""
    assert response.status_code == status, response.text
    assert response.content == b""
    assert response.headers["Content-Length"] == "0"
