"""TLS material: a throwaway CA (trustme) and a server certificate for 127.0.0.1 and localhost."""

import os
import ssl
from typing import NamedTuple

import trustme

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"


class TlsFiles(NamedTuple):
    """Paths of the PEM files in one directory."""

    ca_path: str
    cert_path: str
    key_path: str


def ensure_files(directory, extra_host=None):
    """Reuse ca.pem, server.pem and server-key.pem from ``directory``, or create all three there.

    The certificate names 127.0.0.1 and localhost, plus ``extra_host`` when the server listens
    on another specific address.
    """
    files = TlsFiles(*(os.path.join(directory, name) for name in (CA_FILE, CERT_FILE, KEY_FILE)))
    if all(os.path.isfile(path) for path in files):
        return files
    os.makedirs(directory, exist_ok=True)
    hosts = ["127.0.0.1", "localhost"]
    if extra_host and extra_host not in hosts and extra_host not in ("0.0.0.0", "::"):
        hosts.append(extra_host)
    authority = trustme.CA(organization_name="BigFix REST API emulator")
    certificate = authority.issue_cert(*hosts)
    authority.cert_pem.write_to_path(files.ca_path)
    with open(files.cert_path, "wb") as stream:
        for pem in certificate.cert_chain_pems:
            stream.write(pem.bytes())
    certificate.private_key_pem.write_to_path(files.key_path)
    os.chmod(files.key_path, 0o600)
    return files


def server_context(files):
    """A server-side SSL context for the files."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert_path, files.key_path)
    return context
