# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every bigfix.core module."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Documentation of the connection options; the code is in module_utils/arguments.py."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Address of the BigFix root server's REST API, for example V(https://bigfix.example.com:52311).
      - A bare host name is accepted; V(https://) and port V(52311) are added when missing. A trailing V(/api) is ignored.
      - Only HTTPS is accepted.
      - If not set, the environment variable E(BIGFIX_URL) is used, then E(BES_ROOT_SERVER).
    type: str
  username:
    description:
      - BigFix console operator that authenticates with HTTP Basic authentication on every request.
      - The operator needs the C(Can use REST API) and C(Custom Content) permissions, and must administer the target computers.
      - If not set, the environment variable E(BIGFIX_USERNAME) is used, then E(BES_USER_NAME).
    type: str
  password:
    description:
      - Password of O(username). It is never logged or returned.
      - If not set, the environment variable E(BIGFIX_PASSWORD) is used, then E(BES_PASSWORD).
    type: str
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate.
      - BigFix servers often use a certificate from a private CA; prefer O(ca_path) to V(false). Setting V(false) emits a warning.
      - If not set, the environment variable E(BIGFIX_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificate (or chain) that signed the server's certificate.
      - When not set, the file named by E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) is used when either is set, else the
        system's default trust store (the OpenSSL defaults, which honour E(SSL_CERT_FILE) and E(SSL_CERT_DIR)).
      - If not set, the environment variable E(BIGFIX_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for the server to accept a connection or to send the next part of an answer.
      - If not set, the environment variable E(BIGFIX_TIMEOUT) is used.
    type: float
    default: 60
  retries:
    description:
      - How many times a failed request is tried again, between V(0) and V(20).
      - Reads are retried after connection errors and HTTP 429, 500, 502, 503 and 504, with exponential backoff and
        jitter, honouring C(Retry-After).
      - A write whose outcome is unknown is not sent again blindly. The mailbox is listed again and the change is
        planned anew, at most this many times per computer.
      - If not set, the environment variable E(BIGFIX_RETRIES) is used.
    type: int
    default: 3
notes:
  - Proxies are taken from the E(https_proxy) (or E(all_proxy)) and E(no_proxy) environment variables. The proxy must be
    an C(http://) URL, optionally with C(user:password@); the connection to the server is tunnelled through it with C(CONNECT).
  - The connection options can be set once for all modules of the collection with
    C(module_defaults) and the group C(group/bigfix.core.bigfix).
"""
