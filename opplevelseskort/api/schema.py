"""Request and response schemas of /api/v1, with pydantic.

One declaration per endpoint (`@operation`) validates what comes in (JSON body, query string), and the same
models write the OpenAPI document (api/openapi.py), so the document cannot drift from what the code accepts.
A refused body is a 422 `invalid_body` whose message (translated) names the field and what is wrong with it;
every field's problem is listed under `fields`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Annotated, Any

from flask import request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core.errors import DomainError
from ..core.validation import field_message

# Request bodies never carry NUL (PostgreSQL cannot store it): refused with 400 anywhere in the body.
NO_NUL = "^[^\\u0000]*$"


Text = Annotated[str, Field(pattern=NO_NUL)]


class Schema(BaseModel):
    """Bodies refuse fields they do not know: a typo ("offerid") is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(Response):
    error: str = Field(description="A stable code")
    message: str = Field(description="In the request's language (Accept-Language)")
    fields: list[dict[str, str]] | None = Field(None, description="For invalid_body: each field and its problem")
    unit: str | None = Field(None, description="For a refused loan: the unit that could not be lent")


@dataclass
class Answer:
    description: str
    model: type[BaseModel] | None = None
    codes: list[str] | None = None  # the error codes this status can carry
    media: dict[str, dict] | None = None  # other media types (CSV, GeoJSON)


@dataclass
class Operation:
    summary: str
    operation_id: str
    responses: dict[int, Answer]
    body: type[Schema] | None = None
    body_required: bool = True
    query: type[Schema] | None = None
    params: dict[str, dict] = field(default_factory=dict)  # path parameters' schemas and descriptions
    public: bool = False


def parse(model: type[Schema], data: Any, *, code: str = "invalid_body") -> Schema:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [field_message(e) for e in exc.errors(include_url=False, include_input=False)]
        raise DomainError(code, " ".join(text for _where, text in problems),
                          fields=[{"field": where, "message": text} for where, text in problems]) from None


def operation(summary: str, *, operation_id: str, responses: dict[int, Answer], body: type[Schema] | None = None,
              body_required: bool = True, query: type[Schema] | None = None, params: dict | None = None):
    """Declare an endpoint's schemas: the view gets `body=` / `query=` as validated models. Put it below
    `@roles_required`, so who may call comes before what they sent (401/403 before 422)."""
    op = Operation(summary, operation_id, responses, body, body_required, query, params or {})

    def decorator(view):
        @functools.wraps(view)
        def run(*args, **kwargs):
            if body is not None:
                data = request.get_json(silent=True)
                if data is None and not body_required and not request.get_data():
                    data = {}
                kwargs["body"] = parse(body, data)
            if query is not None:
                kwargs["query"] = parse(query, request.args.to_dict(), code="invalid_query")
            return view(*args, **kwargs)

        run.openapi = op
        return run

    return decorator
