# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every bigfix.core module shares with Ansible: connection and target options, and the
client built from them. The option table matches the ``bigfix.core.connection`` doc fragment."""

from __future__ import annotations

import os

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.bigfix.core.plugins.module_utils import client as transport
from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError
from ansible_collections.bigfix.core.plugins.module_utils.mailbox import check_computer_id

MAX_RETRIES = 20

CONNECTION_SPEC = {
    "url": {"type": "str", "fallback": (env_fallback, ["BIGFIX_URL", "BES_ROOT_SERVER"])},
    "username": {"type": "str", "fallback": (env_fallback, ["BIGFIX_USERNAME", "BES_USER_NAME"])},
    "password": {"type": "str", "no_log": True, "fallback": (env_fallback, ["BIGFIX_PASSWORD", "BES_PASSWORD"])},
    "validate_certs": {"type": "bool", "default": True, "fallback": (env_fallback, ["BIGFIX_VALIDATE_CERTS"])},
    "ca_path": {"type": "path", "fallback": (env_fallback, ["BIGFIX_CA_PATH"])},
    "timeout": {"type": "float", "default": transport.DEFAULT_TIMEOUT, "fallback": (env_fallback, ["BIGFIX_TIMEOUT"])},
    "retries": {"type": "int", "default": transport.DEFAULT_RETRIES, "fallback": (env_fallback, ["BIGFIX_RETRIES"])},
}

TARGET_SPEC = {
    "computer_id": {"type": "int"},
    "computers": {"type": "list", "elements": "int"},
}

CONCURRENCY_SPEC = {
    "concurrency": {"type": "int", "default": 8},
}

MAX_CONCURRENCY = 64


def argument_spec(*specs):
    """The connection options merged with the module's own."""
    merged = dict(CONNECTION_SPEC)
    for spec in specs:
        merged.update(spec)
    return merged


def connection_settings(params):
    """Validated ConnectionSettings from module parameters; ValueError names the field and the fix."""
    for option, variable in (("url", "BIGFIX_URL"), ("username", "BIGFIX_USERNAME"), ("password", "BIGFIX_PASSWORD")):
        if not params.get(option):
            raise ValueError("%s is required: set the %s option or the %s environment variable" % (option, option, variable))
    url = transport.normalize_url(params["url"])
    if params["timeout"] <= 0:
        raise ValueError("timeout must be a positive number of seconds, got %s" % params["timeout"])
    if not 0 <= params["retries"] <= MAX_RETRIES:
        raise ValueError("retries must be between 0 and %d, got %d" % (MAX_RETRIES, params["retries"]))
    ca_path = params.get("ca_path")
    if ca_path and params["validate_certs"] and not (os.path.isfile(ca_path) and os.access(ca_path, os.R_OK)):
        raise ValueError("ca_path %r is not a readable file; give the PEM file of the CA that signed the server certificate" % ca_path)
    return transport.ConnectionSettings(url=url, username=params["username"], password=params["password"],
                                        validate_certs=params["validate_certs"], ca_path=ca_path or None,
                                        timeout=params["timeout"], retries=params["retries"])


def target_computers(params):
    """The computer IDs a module acts on, validated and without repeats, in the order given."""
    if params.get("computer_id") is not None:
        return [check_computer_id(params["computer_id"])]
    ids = params.get("computers") or []
    if not ids:
        raise ValueError("computers is empty: give at least one BigFix computer ID")
    seen = set()
    unique = []
    for index, value in enumerate(ids):
        check_computer_id(value, "computers[%d]" % index)
        if value not in seen:
            seen.add(value)
            unique.append(value)
    return unique


def check_concurrency(value):
    if not 1 <= value <= MAX_CONCURRENCY:
        raise ValueError("concurrency must be between 1 and %d, got %d" % (MAX_CONCURRENCY, value))
    return value


def plural(number, noun):
    """``1 computer``, ``2 computers``."""
    return "%d %s%s" % (number, noun, "" if number == 1 else "s")


def require_libraries(module):
    """Fail with Ansible's standard message when lxml is missing."""
    if not transport.HAS_LXML:
        module.fail_json(msg=missing_required_lib("lxml"), exception=transport.LXML_IMPORT_ERROR)


def run_with_client(module, run):
    """Check libraries and connection options, then return ``run(module, client)``.

    Bad input and BigFix errors fail the module with their message; retries are summed up in one warning.
    """
    require_libraries(module)
    try:
        settings = connection_settings(module.params)
        if not settings.validate_certs:
            module.warn("validate_certs is false: the BigFix server's identity is not verified and the "
                        "credentials could be sent to an impostor. Use ca_path for a private CA instead.")
        with transport.BigFixClient(settings, pool_size=module.params.get("concurrency") or 1) as client:
            # Ansible masks the password (no_log) in everything the module returns; the Basic token too.
            module.no_log_values.update(client.secrets)
            try:
                return run(module, client)
            finally:
                if client.retry_counts:
                    parts = ", ".join("%s x%d" % item for item in sorted(client.retry_counts.items(), key=str))
                    module.warn("BigFix requests were retried %d times (%s); the server may be overloaded."
                                % (sum(client.retry_counts.values()), parts))
    except (ValueError, BigFixError) as exc:
        module.fail_json(msg=str(exc))
