"""The emulated ``/api`` endpoints: routing, authentication, scope checks and handlers.

Handlers return a ``Reply``; refusals raise ``Refused`` and malformed requests raise
``uploads.BadRequest``. Status codes and bodies follow the "Emulator decisions" of the BigFix notes:
error bodies are plain text, unknown computers and files are a 404 with an empty body.
"""

import base64
import binascii
import hmac
import json
import time
from typing import NamedTuple
from urllib.parse import parse_qs, unquote

from . import relevance, xmlout
from .fleet import MASTER_SITE, SITE_KINDS, Site, file_name_problem
from .store import DuplicateName
from .uploads import BadRequest, MultipartReader, disposition_filename, header_filename, multipart_boundary

NOT_FOUND_TEXT = "Requested resource does not exist."
UNMATCHED = "<unmatched>"
_QUERY_BODY_LIMIT = 1024 * 1024

# Route pattern -> {HTTP method: Api method name}. Patterns double as the stats keys.
ROUTES = {
    "/api/login": {"GET": "login"},
    "/api/mailbox/{cid}": {"GET": "mailbox_list", "POST": "mailbox_create"},
    "/api/mailbox/{cid}/{fid}": {"GET": "mailbox_file", "PUT": "mailbox_update", "POST": "mailbox_update",
                                 "DELETE": "mailbox_delete"},
    "/api/mailbox/": {"POST": "mailbox_without_computer"},
    "/api/computer/{cid}/mailbox": {"GET": "mailbox_list"},
    "/api/computers": {"GET": "computers"},
    "/api/computer/{id}": {"GET": "computer"},
    "/api/computergroups/{site}": {"GET": "groups"},
    "/api/computergroup/{site}/{id}": {"GET": "group"},
    "/api/computergroup/{site}/{id}/computers": {"GET": "group_members"},
    "/api/query": {"GET": "query", "POST": "query"},
}


class Reply(NamedTuple):
    """An HTTP response: status, body bytes, Content-Type (None for an empty body), extra headers."""

    status: int
    body: bytes = b""
    content_type: object = None
    headers: tuple = ()


def text_reply(status, message, headers=()):
    """A plain-text reply, the form of BigFix error bodies."""
    return Reply(status, message.encode("utf-8"), "text/plain", headers)


def json_reply(data, status=200):
    """A JSON reply."""
    return Reply(status, json.dumps(data).encode("utf-8"), "application/json")


def xml_reply(body):
    """A 200 with a BESAPI document."""
    return Reply(200, body, "application/xml")


EMPTY_NOT_FOUND = Reply(404)
UNAUTHORIZED = text_reply(401, "Unauthorized", (("WWW-Authenticate", 'Basic realm="BigFix Server"'),))


class Refused(Exception):
    """Stops a handler with a ready reply (404, 403...)."""

    def __init__(self, reply):
        super().__init__(reply.status)
        self.reply = reply


class Route(NamedTuple):
    """A matched route: its pattern and the decoded path parameters."""

    pattern: str
    params: dict


class Call(NamedTuple):
    """What a handler needs to know about one authenticated request."""

    operator: object
    session_token: object
    params: dict
    query: str
    headers: object
    body: object


def match_route(path):
    """Match a raw path (without query). Splits on '/' first, then percent-decodes each segment,
    so ``custom/Public%2fWindows`` is the one site named ``Public/Windows``."""
    if not path.startswith("/api/"):
        return None
    segments = [unquote(segment) for segment in path[len("/api/"):].split("/")]
    head, rest = segments[0], segments[1:]
    if not rest and head in ("login", "computers", "query"):
        return Route(f"/api/{head}", {})
    if head == "mailbox":
        if rest == [""]:
            return Route("/api/mailbox/", {})
        if len(rest) == 1:
            return Route("/api/mailbox/{cid}", {"cid": rest[0]})
        if len(rest) == 2:
            return Route("/api/mailbox/{cid}/{fid}", {"cid": rest[0], "fid": rest[1]})
    if head == "computer":
        if len(rest) == 1:
            return Route("/api/computer/{id}", {"id": rest[0]})
        if len(rest) == 2 and rest[1] == "mailbox":
            return Route("/api/computer/{cid}/mailbox", {"cid": rest[0]})
    if head in ("computergroups", "computergroup"):
        site, remaining = _split_site(rest)
        if site is None:
            return None
        if head == "computergroups" and not remaining:
            return Route("/api/computergroups/{site}", {"site": site})
        if head == "computergroup" and len(remaining) == 1:
            return Route("/api/computergroup/{site}/{id}", {"site": site, "id": remaining[0]})
        if head == "computergroup" and len(remaining) == 2 and remaining[1] == "computers":
            return Route("/api/computergroup/{site}/{id}/computers", {"site": site, "id": remaining[0]})
    return None


def _split_site(segments):
    """Split decoded segments into a site and what follows it."""
    if segments[:1] == ["master"]:
        return MASTER_SITE, segments[1:]
    if len(segments) >= 2 and segments[0] in SITE_KINDS[1:] and segments[1]:
        return Site(segments[0], segments[1]), segments[2:]
    return None, segments


def _number(raw):
    """A path id; anything but ASCII digits is a 404 with the server's plain-text message."""
    if not (raw.isascii() and raw.isdigit()):
        raise Refused(text_reply(404, NOT_FOUND_TEXT))
    return int(raw)


def _check_name(name):
    problem = file_name_problem(name)
    if problem:
        raise BadRequest(f"invalid file name {name!r}: {problem}")


def _discard(uploads):
    for unused_name, spool in uploads:
        spool.discard()


class Api:
    """The /api handlers over one store."""

    def __init__(self, store, base_url):
        self.store = store
        self.base_url = base_url

    def handle(self, method, route, query, headers, body):
        """Authenticate, route and run one /api request."""
        operator, token = self._authenticate(headers)
        if operator is None:
            return UNAUTHORIZED
        if not operator.can_use_rest_api:
            return text_reply(403, f"Operator {operator.name} is not allowed to use the REST API.")
        if route is None:
            return text_reply(404, NOT_FOUND_TEXT)
        handlers = ROUTES[route.pattern]
        name = handlers.get(method)
        if name is None:
            return text_reply(405, "Method Not Allowed", (("Allow", ", ".join(handlers)),))
        try:
            return getattr(self, name)(Call(operator, token, route.params, query, headers, body))
        except Refused as refused:
            return refused.reply

    def _authenticate(self, headers):
        """(operator, session token used) from a live SessionToken header or Basic credentials."""
        token = headers.get("SessionToken")
        if token:
            operator = self.store.session_operator(token.strip())
            if operator is not None:
                return operator, token.strip()
        authorization = headers.get("Authorization") or ""
        scheme, unused_space, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None, None
        try:
            username, colon, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        operator = self.store.operators.get(username)
        if not colon or operator is None or not hmac.compare_digest(operator.password.encode("utf-8"), password.encode("utf-8")):
            return None, None
        return operator, None

    # Scope helpers --------------------------------------------------------------------------------

    def _computer_id(self, call, key):
        computer_id = _number(call.params[key])
        if computer_id not in self.store.computers:
            raise Refused(EMPTY_NOT_FOUND)
        if not self.store.can_see(call.operator, computer_id):
            if self.store.behaviour.out_of_scope_status == 404:
                raise Refused(EMPTY_NOT_FOUND)
            raise Refused(text_reply(403, f"Operator {call.operator.name} does not administer computer {computer_id}."))
        return computer_id

    def _site(self, call):
        site = call.params["site"]
        if site not in self.store.sites:
            raise Refused(EMPTY_NOT_FOUND)
        return site

    def _group(self, call):
        site = self._site(call)
        group = self.store.groups_by_id.get(_number(call.params["id"]))
        if group is None or group.site != site:
            raise Refused(EMPTY_NOT_FOUND)
        return group

    def _mailbox(self, computer_id, entries):
        return xml_reply(xmlout.mailbox(self.base_url, computer_id, entries))

    # Handlers -----------------------------------------------------------------------------------

    def login(self, call):
        """GET /api/login: refresh the caller's session, or open one for Basic credentials."""
        token = call.session_token or self.store.open_session(call.operator)
        return text_reply(200, "ok", (("SessionToken", token),))

    def mailbox_list(self, call):
        """GET /api/mailbox/{cid} and GET /api/computer/{cid}/mailbox."""
        computer_id = self._computer_id(call, "cid")
        return self._mailbox(computer_id, self.store.list_files(computer_id))

    def mailbox_file(self, call):
        """GET /api/mailbox/{cid}/{fid}: metadata of one file."""
        computer_id = self._computer_id(call, "cid")
        entry = self.store.get_file(computer_id, _number(call.params["fid"]))
        if entry is None:
            return EMPTY_NOT_FOUND
        return xml_reply(xmlout.mailbox_file(self.base_url, computer_id, entry))

    def mailbox_create(self, call):
        """POST /api/mailbox/{cid}: raw body with a Content-Disposition filename, or multipart files."""
        computer_id = self._computer_id(call, "cid")
        boundary = multipart_boundary(call.headers.get("Content-Type"))
        if boundary is None:
            name = header_filename(call.headers)
            if name is None:
                raise BadRequest("missing filename: send Content-Disposition: attachment; filename=\"NAME\" "
                                 "or a multipart/form-data body")
            _check_name(name)
            uploads = [(name, self._receive_raw(call.body))]
        else:
            uploads = self._receive_multipart(call.body, boundary, first_only=False)
        try:
            if not uploads:
                raise BadRequest("missing filename: no multipart part has a filename")
            if boundary is not None:
                for name, unused_spool in uploads:
                    _check_name(name)
            entries = self.store.add_files(computer_id, uploads)
        except DuplicateName as err:
            _discard(uploads)
            return text_reply(409, f"A file named {err.args[0]!r} already exists in the mailbox of computer {computer_id}.")
        except BaseException:
            _discard(uploads)
            raise
        return self._mailbox(computer_id, entries)

    def mailbox_update(self, call):
        """PUT or POST /api/mailbox/{cid}/{fid}: new content for an existing file; id and name stay."""
        computer_id = self._computer_id(call, "cid")
        file_id = _number(call.params["fid"])
        if self.store.get_file(computer_id, file_id) is None:
            return EMPTY_NOT_FOUND
        boundary = multipart_boundary(call.headers.get("Content-Type"))
        if boundary is None:
            spool = self._receive_raw(call.body)
        else:
            uploads = self._receive_multipart(call.body, boundary, first_only=True)
            if not uploads:
                raise BadRequest("missing filename: no multipart part has a filename")
            spool = uploads[0][1]
        entries = self.store.replace_content(computer_id, file_id, spool)
        if entries is None:
            spool.discard()
            return EMPTY_NOT_FOUND
        return self._mailbox(computer_id, entries)

    def mailbox_delete(self, call):
        """DELETE /api/mailbox/{cid}/{fid}."""
        computer_id = self._computer_id(call, "cid")
        entries = self.store.delete_file(computer_id, _number(call.params["fid"]))
        if entries is None:
            return EMPTY_NOT_FOUND
        return self._mailbox(computer_id, entries)

    def mailbox_without_computer(self, call):
        """POST /api/mailbox/: documented, but where the computer ids would go is unknown."""
        return text_reply(400, "computer id required")

    def computers(self, call):
        """GET /api/computers: the computers the operator administers."""
        computers = self.store.computers
        return xml_reply(xmlout.computer_list(self.base_url, (computers[cid] for cid in self.store.visible_ids(call.operator))))

    def computer(self, call):
        """GET /api/computer/{id}."""
        return xml_reply(xmlout.computer_item(self.base_url, self.store.computers[self._computer_id(call, "id")]))

    def groups(self, call):
        """GET /api/computergroups/{site}."""
        return xml_reply(xmlout.group_list(self.base_url, self.store.groups_by_site[self._site(call)]))

    def group(self, call):
        """GET /api/computergroup/{site}/{id}: BES.xsd form, members limited to the operator's scope."""
        group = self._group(call)
        return xml_reply(xmlout.group_item(group, [cid for cid in group.members if self.store.can_see(call.operator, cid)]))

    def group_members(self, call):
        """GET /api/computergroup/{site}/{id}/computers."""
        group = self._group(call)
        computers = self.store.computers
        return xml_reply(xmlout.computer_list(
            self.base_url, (computers[cid] for cid in group.members if self.store.can_see(call.operator, cid))))

    def query(self, call):
        """GET/POST /api/query. The server URL-decodes relevance twice, so the emulator does too."""
        fields = parse_qs(call.query, keep_blank_values=True)
        form = call.body.read_all(_QUERY_BODY_LIMIT)
        if form:
            fields.update(parse_qs(form.decode("utf-8", errors="replace"), keep_blank_values=True))
        if "relevance" not in fields:
            raise BadRequest("relevance parameter required")
        expression = unquote(fields["relevance"][0])
        as_json = fields.get("output", [""])[0].lower() == "json"
        started = time.perf_counter()
        answer = relevance.evaluate(expression, self.store, call.operator)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if answer.error:
            if as_json:
                return json_reply({"error": answer.error})
            return xml_reply(xmlout.query_error(expression, answer.error))
        if as_json:
            return json_reply({"result": answer.json_value(), "count": len(answer.rows), "plural": answer.plural,
                               "type": answer.type_name(), "evaltime_ms": round(elapsed_ms, 3)})
        return xml_reply(xmlout.query_result(expression, answer.rows, answer.plural, elapsed_ms))

    # Upload reception ---------------------------------------------------------------------------

    def _receive_raw(self, body):
        spool = self.store.new_spool()
        try:
            body.copy_to(spool)
        except BaseException:
            spool.discard()
            raise
        spool.close()
        return spool

    def _receive_multipart(self, body, boundary, first_only):
        """(name, spool) for each part with a filename (only the first when ``first_only``)."""
        uploads = []

        def open_sink(params):
            name = disposition_filename(params)
            if name is None or (first_only and uploads):
                return None
            spool = self.store.new_spool()
            uploads.append((name, spool))
            return spool

        try:
            MultipartReader(body, boundary).read(open_sink)
        except BaseException:
            _discard(uploads)
            raise
        for unused_name, spool in uploads:
            spool.close()
        return uploads
