# -*- coding: utf-8 -*-
# Copyright: contributors to the bigfix.core collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for module_utils/arguments.py: connection settings, targets, concurrency, run_with_client."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.bigfix.core.plugins.module_utils import arguments
from ansible_collections.bigfix.core.plugins.module_utils import client as transport
from ansible_collections.bigfix.core.plugins.module_utils.client import BigFixError

PARAMS = {"url": "bigfix.example.com", "username": "op", "password": "pw", "validate_certs": True, "ca_path": None,
          "timeout": 60.0, "retries": 3}


def params(**overrides):
    values = dict(PARAMS)
    values.update(overrides)
    return values


def test_connection_spec_fallbacks_prefer_bigfix_variables():
    spec = arguments.CONNECTION_SPEC
    assert spec["url"]["fallback"][1] == ["BIGFIX_URL", "BES_ROOT_SERVER"]
    assert spec["username"]["fallback"][1] == ["BIGFIX_USERNAME", "BES_USER_NAME"]
    assert spec["password"]["fallback"][1] == ["BIGFIX_PASSWORD", "BES_PASSWORD"]
    assert spec["password"]["no_log"] is True


def test_argument_spec_merges_module_options():
    spec = arguments.argument_spec(arguments.TARGET_SPEC, {"name": {"type": "str"}})
    assert set(spec) == set(arguments.CONNECTION_SPEC) | {"computer_id", "computers", "name"}
    assert "name" not in arguments.CONNECTION_SPEC


def test_connection_settings():
    settings = arguments.connection_settings(params(timeout=5.5, retries=0))
    assert settings.url == "https://bigfix.example.com:52311"
    assert (settings.username, settings.password, settings.timeout, settings.retries) == ("op", "pw", 5.5, 0)
    assert settings.validate_certs is True and settings.ca_path is None


@pytest.mark.parametrize("option, variable", [("url", "BIGFIX_URL"), ("username", "BIGFIX_USERNAME"),
                                              ("password", "BIGFIX_PASSWORD")])
@pytest.mark.parametrize("missing", [None, ""])
def test_connection_settings_names_the_missing_option(option, variable, missing):
    with pytest.raises(ValueError) as error:
        arguments.connection_settings(params(**{option: missing}))
    assert str(error.value) == "%s is required: set the %s option or the %s environment variable" % (option, option, variable)


@pytest.mark.parametrize("overrides, fragment", [
    ({"timeout": 0}, "timeout must be a positive"),
    ({"timeout": -1.0}, "timeout must be a positive"),
    ({"retries": -1}, "retries must be between 0 and 20"),
    ({"retries": 21}, "retries must be between 0 and 20"),
    ({"url": "http://bigfix.example.com"}, "https"),
    ({"ca_path": "/nonexistent/ca.pem"}, "ca_path '/nonexistent/ca.pem' is not a readable file"),
])
def test_connection_settings_refuses(overrides, fragment):
    with pytest.raises(ValueError) as error:
        arguments.connection_settings(params(**overrides))
    assert fragment in str(error.value)


def test_connection_settings_ca_path(tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("pem")
    assert arguments.connection_settings(params(ca_path=str(ca_file))).ca_path == str(ca_file)
    unchecked = arguments.connection_settings(params(ca_path="/nonexistent/ca.pem", validate_certs=False))
    assert unchecked.validate_certs is False
    assert arguments.connection_settings(params(ca_path="")).ca_path is None


def test_target_computers_single():
    assert arguments.target_computers({"computer_id": 42, "computers": None}) == [42]


def test_target_computers_deduplicates_in_order():
    assert arguments.target_computers({"computer_id": None, "computers": [5, 3, 5, 1, 3]}) == [5, 3, 1]


@pytest.mark.parametrize("given, fragment", [
    ({"computer_id": 0, "computers": None}, "computer_id 0 is out of range"),
    ({"computer_id": None, "computers": [1, 2, -4]}, "computers[2] -4 is out of range"),
    ({"computer_id": None, "computers": [1, True]}, "computers[1] True is not a whole number"),
    ({"computer_id": None, "computers": []}, "computers is empty"),
    ({"computer_id": None, "computers": None}, "computers is empty"),
])
def test_target_computers_refuses(given, fragment):
    with pytest.raises(ValueError) as error:
        arguments.target_computers(given)
    assert fragment in str(error.value)


@pytest.mark.parametrize("value", [1, 8, 64])
def test_check_concurrency_accepts(value):
    assert arguments.check_concurrency(value) == value


@pytest.mark.parametrize("value", [0, -1, 65])
def test_check_concurrency_refuses(value):
    with pytest.raises(ValueError) as error:
        arguments.check_concurrency(value)
    assert "concurrency must be between 1 and 64, got %d" % value == str(error.value)


# --- run_with_client --------------------------------------------------------------------------------------------

def test_run_with_client_passes_a_client_and_returns_the_result(make_module):
    module = make_module({}, computer_id=1, concurrency=5)
    seen = []

    def run(given_module, client):
        seen.append((given_module, client.settings, client.base_url))
        return {"ok": True}

    assert arguments.run_with_client(module, run) == {"ok": True}
    assert seen[0][0] is module and seen[0][2] == "https://bigfix.example.com:52311"
    assert module.warnings == []


def test_run_with_client_warns_when_certificates_are_not_validated(make_module):
    module = make_module({}, computer_id=1, validate_certs=False)
    arguments.run_with_client(module, lambda given_module, client: client.settings.validate_certs)
    assert len(module.warnings) == 1 and "validate_certs is false" in module.warnings[0]


def test_run_with_client_sums_up_retries_in_one_warning(make_module):
    module = make_module({}, computer_id=1)

    def run(given_module, client):
        client.retry_counts.update({503: 2, "connection": 1, 429: 1})
        return None

    arguments.run_with_client(module, run)
    assert module.warnings == ["BigFix requests were retried 4 times (connection x1, 429 x1, 503 x2); "
                               "the server may be overloaded."]


def test_run_with_client_warns_about_retries_even_when_run_fails(make_module):
    module = make_module({}, computer_id=1)

    def run(given_module, client):
        client.retry_counts[503] += 3
        raise BigFixError("still busy", method="GET", path="/api/mailbox/1", status=503)

    with pytest.raises(SystemExit):
        arguments.run_with_client(module, run)
    assert module.failed == {"msg": "GET /api/mailbox/1: HTTP 503: still busy"}
    assert "retried 3 times" in module.warnings[0]


@pytest.mark.parametrize("problem", [ValueError("computers is empty"), BigFixError("boom")])
def test_run_with_client_fails_the_module_with_the_message(make_module, problem):
    module = make_module({}, computer_id=1)

    def run(given_module, client):
        raise problem

    with pytest.raises(SystemExit):
        arguments.run_with_client(module, run)
    assert module.failed == {"msg": str(problem)}


def test_run_with_client_fails_on_bad_settings_before_running(make_module):
    module = make_module({}, computer_id=1, url=None)
    with pytest.raises(SystemExit):
        arguments.run_with_client(module, lambda given_module, client: pytest.fail("must not run"))
    assert "BIGFIX_URL" in module.failed["msg"]


def test_missing_lxml_fails_with_the_standard_message(make_module, monkeypatch):
    monkeypatch.setattr(transport, "HAS_LXML", False)
    module = make_module({}, computer_id=1)
    with pytest.raises(SystemExit):
        arguments.run_with_client(module, lambda given_module, client: pytest.fail("must not run"))
    assert "lxml" in module.failed["msg"] and "Failed to import" in module.failed["msg"]


def test_run_with_client_has_ansible_mask_the_password_and_the_basic_token(make_module):
    module = make_module({}, computer_id=1)
    arguments.run_with_client(module, lambda given_module, client: {})
    password = module.params["password"]
    token = base64.b64encode(("%s:%s" % (module.params["username"], password)).encode("utf-8")).decode("ascii")
    assert {password, token} <= module.no_log_values
