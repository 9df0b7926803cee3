"""Fixtures: one demo-fleet emulator per test module, clients per operator, switch restoring."""

import pytest

from tests.emulator.launcher import Emulator
from tests.emulator.tests.helpers import DEMO_FLEET, MASTER, NO_REST, NON_MASTER, Client


@pytest.fixture(scope="module")
def emulator():
    """An emulator on the demo fleet, shared by the tests of one module."""
    with Emulator(DEMO_FLEET) as running:
        yield running


@pytest.fixture(scope="module")
def default_switches(emulator):
    """The switches the module's emulator started with."""
    return emulator.configure()


@pytest.fixture
def switches(emulator, default_switches):
    """The emulator, with its switches restored after the test."""
    yield emulator
    emulator.configure(**default_switches)


@pytest.fixture
def master(emulator):
    """A client authenticating as the master operator."""
    return Client(emulator, MASTER)


@pytest.fixture
def non_master(emulator):
    """A client authenticating as a non-master operator."""
    return Client(emulator, NON_MASTER)


@pytest.fixture
def no_rest(emulator):
    """A client authenticating as an operator without the REST API right."""
    return Client(emulator, NO_REST)
