"""Fleet files: load, validate and expand the YAML that describes an emulated BigFix server.

The fleet is static data (operators, computers, sites, groups, seeded mailbox files) plus the
behaviour switches, which ``/_emulator/config`` may change at run time through ``Behaviour.updated``.
Every validation error is a ``FleetError`` whose message starts with the offending field.
"""

import dataclasses
import re
import time
from urllib.parse import quote

import yaml

DUPLICATE_NAME_POLICIES = ("replace", "append", "reject")
OUT_OF_SCOPE_STATUSES = (403, 404)
SITE_KINDS = ("master", "custom", "operator", "external")
MASTER_SITE_NAME = "ActionSite"

# Control characters (Unicode category Cc), lone surrogates and U+FFFE/U+FFFF: XML 1.0 cannot carry them.
_NOT_IN_NAMES = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class FleetError(ValueError):
    """An invalid fleet file or configuration change; the message names the field."""


def format_timestamp(epoch_seconds):
    """Format a time as BigFix REST timestamps are: ``Tue, 19 Mar 2024 22:26:24 +0000`` (UTC).

    Built by hand rather than with strftime so that the locale cannot change day or month names.
    """
    utc = time.gmtime(epoch_seconds)
    return (f"{_DAYS[utc.tm_wday]}, {utc.tm_mday:02d} {_MONTHS[utc.tm_mon - 1]} {utc.tm_year} "
            f"{utc.tm_hour:02d}:{utc.tm_min:02d}:{utc.tm_sec:02d} +0000")


def file_name_problem(name):
    """Return why ``name`` cannot be a mailbox file name, or None when it is acceptable."""
    if name == "":
        return "file name is empty"
    if name in (".", ".."):
        return f"file name {name!r} is not a file name"
    if "/" in name:
        return "file name contains '/'"
    if "\\" in name:
        return "file name contains '\\'"
    control = _NOT_IN_NAMES.search(name)
    if control:
        return f"file name contains the control character U+{ord(control.group()):04X}"
    if name.startswith("__"):
        return "file name starts with '__'"
    if name.lower().endswith(".fxf"):
        return "file name ends with '.fxf'"
    return None


@dataclasses.dataclass(frozen=True)
class Site:
    """A BigFix site; ``kind`` is master, custom, operator or external."""

    kind: str
    name: str

    @property
    def path(self):
        """The ``{site}`` URL form: ``master`` or ``custom/<name, '/' sent as %2F>``."""
        if self.kind == "master":
            return "master"
        return f"{self.kind}/{quote(self.name, safe='')}"


MASTER_SITE = Site("master", MASTER_SITE_NAME)


@dataclasses.dataclass(frozen=True)
class Operator:
    """A console operator; ``computers`` are the administered computer ids (ignored for masters)."""

    name: str
    password: str
    master: bool
    can_use_rest_api: bool
    computers: frozenset


@dataclasses.dataclass(frozen=True)
class Computer:
    """A BigFix client; ``properties`` are extra (name, value) pairs for ``/api/computer/{id}``."""

    id: int
    name: str
    last_report_time: str
    os: str
    properties: tuple


@dataclasses.dataclass(frozen=True)
class Group:
    """A computer group of one site with an explicit member list."""

    id: int
    name: str
    site: Site
    members: tuple
    last_modified: str


@dataclasses.dataclass(frozen=True)
class SeedFile:
    """A mailbox file present when the emulator starts."""

    computer: int
    name: str
    content: bytes


@dataclasses.dataclass(frozen=True)
class Faults:
    """Fault injection switches; fractions are of /api requests and together stay within 1."""

    fraction_500: float = 0.0
    fraction_502: float = 0.0
    fraction_503: float = 0.0
    fraction_reset: float = 0.0
    retry_after: int = 1
    latency: float = 0.0
    fraction_spike: float = 0.0
    spike_seconds: float = 0.0

    @property
    def random(self):
        """True when some fault needs a random draw per request."""
        return bool(self.fraction_500 or self.fraction_502 or self.fraction_503 or self.fraction_reset or self.fraction_spike)


@dataclasses.dataclass(frozen=True)
class Behaviour:
    """The switches that ``/_emulator/config`` can change while the emulator runs."""

    duplicate_name_policy: str = "replace"
    out_of_scope_status: int = 403
    session_idle_timeout: float = 300.0
    faults: Faults = Faults()

    def updated(self, changes, where="config"):
        """Return a copy with ``changes`` (a mapping shaped like ``to_dict()``, possibly partial) applied."""
        mapping = _mapping(changes, where)
        _reject_unknown(mapping, ("duplicate_name_policy", "out_of_scope_status", "session_idle_timeout", "faults"), where)
        values = {}
        if "duplicate_name_policy" in mapping:
            values["duplicate_name_policy"] = _choice(mapping["duplicate_name_policy"], DUPLICATE_NAME_POLICIES,
                                                      f"{where}.duplicate_name_policy")
        if "out_of_scope_status" in mapping:
            values["out_of_scope_status"] = _choice(mapping["out_of_scope_status"], OUT_OF_SCOPE_STATUSES,
                                                    f"{where}.out_of_scope_status")
        if "session_idle_timeout" in mapping:
            values["session_idle_timeout"] = _number(mapping["session_idle_timeout"], f"{where}.session_idle_timeout")
        if "faults" in mapping:
            values["faults"] = _faults(mapping["faults"], self.faults, f"{where}.faults")
        return dataclasses.replace(self, **values)

    def to_dict(self):
        """The switches as plain JSON-ready data."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Fleet:
    """Everything a fleet file describes, validated."""

    operators: dict
    computers: dict
    sites: dict
    groups: tuple
    mailbox_files: tuple
    behaviour: Behaviour
    seed: object
    store_content: bool


def load(path):
    """Read and validate a fleet YAML file."""
    try:
        with open(path, encoding="utf-8") as stream:
            document = yaml.safe_load(stream)
    except OSError as err:
        raise FleetError(f"cannot read fleet file: {err}") from err
    except yaml.YAMLError as err:
        raise FleetError(f"fleet file is not valid YAML: {err}") from err
    return build(document)


def build(document, now=None):
    """Validate a fleet document (the parsed YAML) and expand ``generate``."""
    top = _mapping(document, "fleet")
    _reject_unknown(top, ("operators", "computers", "sites", "groups", "mailbox_files", "behaviour", "seed",
                          "store_content", "generate"), "fleet")
    default_time = format_timestamp(time.time() if now is None else now)

    computers = {}
    for index, item in enumerate(_list(top.get("computers", []), "computers")):
        computer = _computer(item, f"computers[{index}]", default_time)
        if computer.id in computers:
            raise FleetError(f"computers[{index}].id: duplicate computer id {computer.id}")
        computers[computer.id] = computer

    sites = {MASTER_SITE: MASTER_SITE}
    for index, item in enumerate(_list(top.get("sites", []), "sites")):
        site = parse_site_path(item, f"sites[{index}]")
        if site in sites and site != MASTER_SITE:
            raise FleetError(f"sites[{index}]: duplicate site {item!r}")
        sites[site] = site

    groups = []
    for index, item in enumerate(_list(top.get("groups", []), "groups")):
        groups.append(_group(item, f"groups[{index}]", computers, sites, default_time))

    if "generate" in top:
        _generate(top["generate"], computers, sites, groups, default_time)

    group_ids = set()
    for group in groups:
        if group.id in group_ids:
            raise FleetError(f"groups: duplicate group id {group.id}")
        group_ids.add(group.id)

    operators = {}
    for index, item in enumerate(_list(top.get("operators"), "operators")):
        operator = _operator(item, f"operators[{index}]", computers)
        if operator.name in operators:
            raise FleetError(f"operators[{index}].name: duplicate operator {operator.name!r}")
        operators[operator.name] = operator
    if not operators:
        raise FleetError("operators: at least one operator is required")

    mailbox_files = []
    seeded_names = set()
    for index, item in enumerate(_list(top.get("mailbox_files", []), "mailbox_files")):
        seed_file = _seed_file(item, f"mailbox_files[{index}]", computers)
        if (seed_file.computer, seed_file.name) in seeded_names:
            raise FleetError(f"mailbox_files[{index}].name: computer {seed_file.computer} already has a file {seed_file.name!r}")
        seeded_names.add((seed_file.computer, seed_file.name))
        mailbox_files.append(seed_file)

    seed = top.get("seed")
    if seed is not None:
        seed = _integer(seed, "seed")
    return Fleet(
        operators=operators,
        computers=dict(sorted(computers.items())),
        sites=sites,
        groups=tuple(groups),
        mailbox_files=tuple(mailbox_files),
        behaviour=Behaviour().updated(top.get("behaviour", {}), "behaviour"),
        seed=seed,
        store_content=_boolean(top.get("store_content", True), "store_content"),
    )


def parse_site_path(value, where):
    """Parse a fleet site path: ``master`` or ``KIND/NAME``, where NAME may itself contain '/'."""
    text = _string(value, where)
    if text == "master":
        return MASTER_SITE
    kind, separator, name = text.partition("/")
    if not separator or kind not in SITE_KINDS[1:] or not name:
        raise FleetError(f"{where}: site path must be 'master' or custom/NAME, operator/NAME or external/NAME, not {text!r}")
    return Site(kind, name)


def _computer(item, where, default_time):
    mapping = _mapping(item, where)
    _reject_unknown(mapping, ("id", "name", "last_report_time", "os", "properties"), where)
    properties = []
    for prop_name, value in _mapping(mapping.get("properties", {}), f"{where}.properties").items():
        prop_where = f"{where}.properties.{prop_name}"
        values = value if isinstance(value, list) else [value]
        properties.extend((_name(prop_name, prop_where), _string(each, prop_where)) for each in values)
    return Computer(
        id=_integer(_required(mapping, "id", where), f"{where}.id"),
        name=_name(_required(mapping, "name", where), f"{where}.name"),
        last_report_time=_string(mapping.get("last_report_time", default_time), f"{where}.last_report_time"),
        os=_string(mapping.get("os", "Linux"), f"{where}.os"),
        properties=tuple(properties),
    )


def _group(item, where, computers, sites, default_time):
    mapping = _mapping(item, where)
    _reject_unknown(mapping, ("id", "name", "site", "members", "last_modified"), where)
    site = parse_site_path(_required(mapping, "site", where), f"{where}.site")
    if site not in sites:
        raise FleetError(f"{where}.site: site {mapping['site']!r} is not listed under sites")
    return Group(
        id=_integer(_required(mapping, "id", where), f"{where}.id"),
        name=_name(_required(mapping, "name", where), f"{where}.name"),
        site=site,
        members=tuple(_computer_ids(mapping.get("members", []), f"{where}.members", computers)),
        last_modified=_string(mapping.get("last_modified", default_time), f"{where}.last_modified"),
    )


def _operator(item, where, computers):
    mapping = _mapping(item, where)
    _reject_unknown(mapping, ("name", "password", "master", "can_use_rest_api", "computers"), where)
    return Operator(
        name=_name(_required(mapping, "name", where), f"{where}.name"),
        password=_string(_required(mapping, "password", where), f"{where}.password"),
        master=_boolean(mapping.get("master", False), f"{where}.master"),
        can_use_rest_api=_boolean(mapping.get("can_use_rest_api", True), f"{where}.can_use_rest_api"),
        computers=frozenset(_computer_ids(mapping.get("computers", []), f"{where}.computers", computers)),
    )


def _seed_file(item, where, computers):
    mapping = _mapping(item, where)
    _reject_unknown(mapping, ("computer", "name", "content"), where)
    computer = _integer(_required(mapping, "computer", where), f"{where}.computer")
    if computer not in computers:
        raise FleetError(f"{where}.computer: unknown computer id {computer}")
    name = _string(_required(mapping, "name", where), f"{where}.name")
    problem = file_name_problem(name)
    if problem:
        raise FleetError(f"{where}.name: {problem}")
    content = _string(mapping.get("content", ""), f"{where}.content")
    return SeedFile(computer=computer, name=name, content=content.encode("utf-8"))


def _generate(item, computers, sites, groups, default_time):
    """Add ``computers`` generated computers, in groups of ``group_size``, to one site."""
    where = "generate"
    mapping = _mapping(item, where)
    _reject_unknown(mapping, ("computers", "group_size", "site", "first_id", "name_prefix"), where)
    count = _integer(_required(mapping, "computers", where), f"{where}.computers")
    group_size = _integer(mapping.get("group_size", count), f"{where}.group_size")
    if count < 1 or group_size < 1:
        raise FleetError(f"{where}: computers and group_size must be at least 1")
    site = parse_site_path(mapping.get("site", "custom/Generated"), f"{where}.site")
    sites.setdefault(site, site)
    first_id = _integer(mapping.get("first_id", max(computers, default=0) + 1), f"{where}.first_id")
    prefix = _name(mapping.get("name_prefix", "gen-"), f"{where}.name_prefix")
    new_ids = range(first_id, first_id + count)
    clash = next((cid for cid in new_ids if cid in computers), None)
    if clash is not None:
        raise FleetError(f"{where}.first_id: generated computer id {clash} is already used")
    for cid in new_ids:
        computers[cid] = Computer(id=cid, name=f"{prefix}{cid}", last_report_time=default_time, os="Linux", properties=())
    next_group_id = max((group.id for group in groups), default=0) + 1
    for number, start in enumerate(range(0, count, group_size), start=1):
        groups.append(Group(id=next_group_id + number - 1, name=f"{prefix}group-{number}", site=site,
                            members=tuple(new_ids[start:start + group_size]), last_modified=default_time))


def _faults(item, base, where):
    mapping = _mapping(item, where)
    names = [field.name for field in dataclasses.fields(Faults)]
    _reject_unknown(mapping, names, where)
    values = {}
    for name in names:
        if name not in mapping:
            continue
        field_where = f"{where}.{name}"
        if name.startswith("fraction_"):
            values[name] = _number(mapping[name], field_where, upper=1.0)
        elif name == "retry_after":
            values[name] = _integer(mapping[name], field_where)
        else:
            values[name] = _number(mapping[name], field_where)
    faults = dataclasses.replace(base, **values)
    if faults.fraction_500 + faults.fraction_502 + faults.fraction_503 + faults.fraction_reset > 1.0 + 1e-9:
        raise FleetError(f"{where}: fraction_500 + fraction_502 + fraction_503 + fraction_reset must not exceed 1")
    return faults


def _computer_ids(value, where, computers):
    ids = []
    for index, item in enumerate(_list(value, where)):
        cid = _integer(item, f"{where}[{index}]")
        if cid not in computers:
            raise FleetError(f"{where}[{index}]: unknown computer id {cid}")
        ids.append(cid)
    return ids


def _required(mapping, key, where):
    if key not in mapping:
        raise FleetError(f"{where}.{key}: required")
    return mapping[key]


def _reject_unknown(mapping, known, where):
    for key in mapping:
        if key not in known:
            raise FleetError(f"{where}.{key}: unknown field (expected one of: {', '.join(known)})")


def _mapping(value, where):
    if not isinstance(value, dict):
        raise FleetError(f"{where}: must be a mapping")
    return value


def _list(value, where):
    if not isinstance(value, list):
        raise FleetError(f"{where}: must be a list")
    return value


def _string(value, where):
    if not isinstance(value, str):
        raise FleetError(f"{where}: must be a string")
    return value


def _name(value, where):
    text = _string(value, where)
    if not text or _NOT_IN_NAMES.search(text):
        raise FleetError(f"{where}: must be a non-empty string without control characters")
    return text


def _boolean(value, where):
    if not isinstance(value, bool):
        raise FleetError(f"{where}: must be true or false")
    return value


def _integer(value, where):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FleetError(f"{where}: must be a non-negative integer")
    return value


def _number(value, where, upper=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (upper is not None and value > upper):
        bound = f" not above {upper}" if upper is not None else ""
        raise FleetError(f"{where}: must be a non-negative number{bound}")
    return float(value)


def _choice(value, choices, where):
    if isinstance(value, bool) or value not in choices:
        raise FleetError(f"{where}: must be one of {', '.join(str(choice) for choice in choices)}")
    return value
