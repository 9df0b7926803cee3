"""Fleet files: the demo fleet, generation, and validation errors that name the field."""

import copy

import pytest

from tests.emulator import fleet
from tests.emulator.tests.helpers import ALL_COMPUTERS, DEMO_FLEET

MINIMAL = {"operators": [{"name": "op", "password": "pw", "master": True}], "computers": [{"id": 1, "name": "one"}]}


def with_changes(**changes):
    document = copy.deepcopy(MINIMAL)
    document.update(changes)
    return document


def test_demo_fleet():
    demo = fleet.load(DEMO_FLEET)
    assert list(demo.computers) == ALL_COMPUTERS
    assert set(demo.operators) == {"bigfix", "alice", "auditor"}
    assert demo.operators["alice"].computers == frozenset([1001, 1002, 1003, 1004, 1005, 1011, 1012])
    assert fleet.Site("custom", "Public/Windows") in demo.sites
    assert fleet.Site("custom", "Public/Windows").path == "custom/Public%2FWindows"
    assert [group.site.path for group in demo.groups if group.name == "Web Servers"] == ["master", "custom/Payments"]
    assert len(demo.mailbox_files) == 4
    assert demo.seed == 7
    assert demo.behaviour == fleet.Behaviour()


def test_defaults_of_a_minimal_fleet():
    minimal = fleet.build(MINIMAL, now=0)
    assert minimal.computers[1].last_report_time == "Thu, 01 Jan 1970 00:00:00 +0000"
    assert minimal.computers[1].os == "Linux"
    assert minimal.operators["op"].can_use_rest_api is True
    assert minimal.store_content is True
    assert minimal.seed is None
    assert minimal.sites == {fleet.MASTER_SITE: fleet.MASTER_SITE}


def test_generated_fleet():
    generated = fleet.build(with_changes(generate={"computers": 10, "group_size": 4, "site": "custom/Load/Test"}))
    assert list(generated.computers) == list(range(1, 12))
    assert generated.computers[2].name == "gen-2"
    site = fleet.Site("custom", "Load/Test")
    assert site in generated.sites
    assert [(group.id, group.members) for group in generated.groups] == [
        (1, (2, 3, 4, 5)), (2, (6, 7, 8, 9)), (3, (10, 11))]
    assert all(group.site == site for group in generated.groups)


def test_generated_ids_start_at_first_id():
    generated = fleet.build(with_changes(generate={"computers": 3, "first_id": 500, "name_prefix": "load-"}))
    assert list(generated.computers) == [1, 500, 501, 502]
    assert generated.computers[500].name == "load-500"
    assert generated.groups[0].site == fleet.Site("custom", "Generated")


def test_behaviour_update_is_partial():
    start = fleet.Behaviour().updated({"faults": {"fraction_500": 0.5, "retry_after": 4}})
    changed = start.updated({"faults": {"fraction_502": 0.25}, "out_of_scope_status": 404})
    assert changed.faults == fleet.Faults(fraction_500=0.5, fraction_502=0.25, retry_after=4)
    assert changed.out_of_scope_status == 404
    assert changed.duplicate_name_policy == "replace"


@pytest.mark.parametrize("name, problem", [
    ("ok.txt", None), ("caf\u00e9 \u20ac.txt", None), ("a&b<c>.txt", None), ("_single.txt", None), ("x.fxf.txt", None),
    ("", "empty"), ("a/b", "'/'"), ("a\\b", "'\\'"), ("a\x00b", "U+0000"), ("a\x7fb", "U+007F"), ("a\x85b", "U+0085"),
    ("a\ud800b", "U+D800"), ("__x", "'__'"), ("y.FXF", ".fxf"), (".", "not a file name"),
])
def test_file_name_rules(name, problem):
    found = fleet.file_name_problem(name)
    if problem is None:
        assert found is None
    else:
        assert problem in found


@pytest.mark.parametrize("document, field", [
    ([], "fleet: must be a mapping"),
    ({"computers": []}, "operators: must be a list"),
    ({"operators": []}, "operators: at least one"),
    (with_changes(extra=1), "fleet.extra: unknown field"),
    (with_changes(operators=[{"name": "op"}]), "operators[0].password: required"),
    (with_changes(operators=[{"name": "op", "password": "pw", "master": "yes"}]), "operators[0].master"),
    (with_changes(operators=[{"name": "op", "password": "pw", "computers": [2]}]), "operators[0].computers[0]: unknown computer id 2"),
    (with_changes(operators=[{"name": "op", "password": "pw"}, {"name": "op", "password": "x"}]), "operators[1].name: duplicate"),
    (with_changes(computers=[{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]), "computers[1].id: duplicate"),
    (with_changes(computers=[{"id": -1, "name": "a"}]), "computers[0].id"),
    (with_changes(computers=[{"id": True, "name": "a"}]), "computers[0].id"),
    (with_changes(computers=[{"id": 1, "name": "a\nb"}]), "computers[0].name"),
    (with_changes(computers=[{"id": 1, "name": "a", "properties": {"IP": 5}}]), "computers[0].properties.IP"),
    (with_changes(sites=["custom"]), "sites[0]"),
    (with_changes(sites=["team/Payments"]), "sites[0]"),
    (with_changes(sites=["custom/A", "custom/A"]), "sites[1]: duplicate"),
    (with_changes(groups=[{"id": 1, "name": "g", "site": "custom/Nope"}]), "groups[0].site: site 'custom/Nope' is not listed"),
    (with_changes(groups=[{"id": 1, "name": "g", "site": "master", "members": [9]}]), "groups[0].members[0]: unknown computer id 9"),
    (with_changes(groups=[{"id": 1, "name": "g", "site": "master"}, {"id": 1, "name": "h", "site": "master"}]), "groups: duplicate group id 1"),
    (with_changes(groups=[{"name": "g", "site": "master"}]), "groups[0].id: required"),
    (with_changes(mailbox_files=[{"computer": 1, "name": "__x"}]), "mailbox_files[0].name: file name starts with '__'"),
    (with_changes(mailbox_files=[{"computer": 3, "name": "x"}]), "mailbox_files[0].computer: unknown computer id 3"),
    (with_changes(mailbox_files=[{"computer": 1, "name": "x"}, {"computer": 1, "name": "x"}]), "mailbox_files[1].name: computer 1"),
    (with_changes(behaviour={"duplicate_name_policy": "keep"}), "behaviour.duplicate_name_policy"),
    (with_changes(behaviour={"out_of_scope_status": "403"}), "behaviour.out_of_scope_status"),
    (with_changes(behaviour={"faults": {"fraction_503": 2}}), "behaviour.faults.fraction_503"),
    (with_changes(behaviour={"faults": {"fraction_500": 0.5, "fraction_reset": 0.6}}), "behaviour.faults: fraction_500"),
    (with_changes(behaviour={"faults": {"retry_after": 1.5}}), "behaviour.faults.retry_after"),
    (with_changes(seed="abc"), "seed"),
    (with_changes(store_content="no"), "store_content"),
    (with_changes(generate={"computers": 0}), "generate: computers and group_size"),
    (with_changes(generate={"computers": 2, "first_id": 1}), "generate.first_id: generated computer id 1"),
    (with_changes(generate={"computers": 2, "site": "somewhere"}), "generate.site"),
])
def test_invalid_fleets_name_the_field(document, field):
    with pytest.raises(fleet.FleetError) as raised:
        fleet.build(document)
    assert field in str(raised.value)


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(fleet.FleetError, match="cannot read fleet file"):
        fleet.load(tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("operators: [\n", encoding="utf-8")
    with pytest.raises(fleet.FleetError, match="not valid YAML"):
        fleet.load(broken)
