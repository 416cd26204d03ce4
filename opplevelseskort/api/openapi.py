"""The OpenAPI 3.1 document of /api/v1, generated from the routes and their pydantic schemas (api/schema.py).

Nothing here describes an endpoint by hand: each path, method, parameter, body and answer comes from the URL
map and the endpoint's `@operation`, so an endpoint added or changed is documented by the same change.
"""

from __future__ import annotations

import re

from flask import current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .. import __version__
from .schema import Answer, Error, Operation
from .views import bp

REF = "#/components/schemas/{model}"
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_TYPES = {"int": {"type": "integer", "minimum": 0}, "path": {"type": "string"}, None: {"type": "string"}}

COMMON = {
    400: Answer("Malformed request: NUL bytes, JSON nested too deep, a value out of range",
                codes=["bad_request", "value_invalid"]),
    401: Answer("Missing, invalid or revoked token"),
    403: Answer("The token's role may not do this"),
    429: Answer("Rate limited"),
    503: Answer("The database cannot be reached", codes=["unavailable"]),
}


def _operations() -> list[tuple[str, str, Operation, list[tuple[str, str | None]], str | None]]:
    found = []
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith(bp.name + "."):
            continue
        view = current_app.view_functions[rule.endpoint]
        op = getattr(view, "openapi", None)
        if op is None:
            continue
        scope = getattr(view, "required_scope", None)
        path = rule.rule.removeprefix("/api/v1")
        params = [(name, conv) for conv, name in _CONVERTER.findall(path)]
        path = _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((path, method.lower(), op, params, scope))
    return sorted(found)


def _error_schema(codes: list[str] | None) -> dict:
    if not codes:
        return {"$ref": REF.format(model="Error")}
    return {"allOf": [{"$ref": REF.format(model="Error")},
                      {"type": "object", "properties": {"error": {"type": "string", "enum": list(codes)}}}]}


def _answer(status: int, answer: Answer) -> dict:
    if answer.media:
        return {"description": answer.description,
                "content": {media: {"schema": schema} for media, schema in answer.media.items()}}
    schema = {"$ref": REF.format(model=answer.model.__name__)} if answer.model else _error_schema(answer.codes)
    return {"description": answer.description, "content": {"application/json": {"schema": schema}}}


def _merged(own: dict, common: dict) -> dict:
    """The endpoint's answers with the ones every endpoint has; a status in both carries both lists of codes."""
    out = {**own, **common}
    for status in own.keys() & common.keys():
        out[status] = Answer(own[status].description, own[status].model or common[status].model,
                             codes=[*(own[status].codes or []), *(common[status].codes or [])] or None,
                             media=own[status].media)
    return out


def _query_parameters(model: type[BaseModel], schemas: dict) -> list[dict]:
    schema = schemas[model.__name__]
    out = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        if "anyOf" in prop:  # Optional[X] in a query string is X, or absent
            prop = {**next(p for p in prop.pop("anyOf") if p.get("type") != "null"), **prop}
            prop.pop("default", None)
        param = {"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
        if description:
            param["description"] = description
        out.append(param)
    return out


def document() -> dict:
    ops = _operations()
    inputs = {m for *_x, op, _p, _s in ops for m in (op.body, op.query) if m is not None}
    outputs = {Error} | {a.model for *_x, op, _p, _s in ops for a in op.responses.values() if a.model is not None}
    modes = [(m, "validation" if m in inputs else "serialization")
             for m in sorted(inputs | outputs, key=lambda m: m.__name__)]
    _keys, defs = models_json_schema(modes, ref_template=REF)
    schemas = defs.get("$defs", {})
    paths: dict[str, dict] = {}
    for path, method, op, params, scope in ops:
        common = dict(COMMON)
        if scope:  # OpenAPI 3.1: a bearer scheme's requirement may list the roles (here: scopes) it needs
            common[403] = Answer(f"The token's role may not do this, or the token lacks the scope {scope!r} "
                                 "(scope_missing, with `scope`)", codes=["forbidden", "scope_missing"])
        item = {"operationId": op.operation_id, "summary": op.summary,
                "responses": {str(status): _answer(status, answer)
                              for status, answer in sorted(_merged(op.responses, common).items())}}
        if scope:
            item["security"] = [{"bearer": [scope]}]
            item["x-required-scope"] = scope
        parameters = [{"name": name, "in": "path", "required": True,
                       **({"schema": _TYPES.get(conv, _TYPES[None])} | op.params.get(name, {}))}
                      for name, conv in params]
        parameters += [{"name": name, "required": True, **spec} for name, spec in op.params.items()
                       if spec.get("in") == "header"]
        if op.query is not None:
            parameters += _query_parameters(op.query, schemas)
        if parameters:
            item["parameters"] = parameters
        if op.body is not None:
            item["requestBody"] = {"required": op.body_required, "content": {"application/json": {
                "schema": {"$ref": REF.format(model=op.body.__name__)}}}}
        paths.setdefault(path, {})[method] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Opplevelseskortet API", "version": __version__,
                 "description": "Bearer tokens, made per user on /api-nokler: each names its scopes (checkin, "
                                "cards:read, loans, reports; within what the user's role may do) and when it "
                                "expires. An endpoint's `security` names the scope it needs; a token without it "
                                "gets 403 scope_missing with the `scope` it lacks. Errors are "
                                "JSON {error, message}; `error` is a stable code, `message` is in the language "
                                "of Accept-Language. A body that does not fit its schema is 422 invalid_body, "
                                "with each field's problem under `fields`."},
        "servers": [{"url": "/api/v1"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
        "security": [{"bearer": []}],
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi():
    # The routes and models are fixed once the app is built: the document is made once per app.
    if "opplevelseskort.openapi" not in current_app.extensions:
        current_app.extensions["opplevelseskort.openapi"] = document()
    return jsonify(current_app.extensions["opplevelseskort.openapi"])


openapi.public = True
