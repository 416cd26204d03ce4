"""The OpenAPI 3 document of /api/v1."""

from __future__ import annotations

from flask import jsonify

from .. import __version__
from ..checkin.services import ERROR_CODES
from .views import bp

ERROR = {"type": "object", "required": ["error", "message"],
         "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}


# Request bodies never carry NUL (PostgreSQL cannot store it): refused with 400 anywhere in the body.
NO_NUL = "^[^\\u0000]*$"


def _error_response(description: str, codes=None) -> dict:
    schema = dict(ERROR)
    if codes:
        schema = {**ERROR, "properties": {**ERROR["properties"], "error": {"type": "string", "enum": list(codes)}}}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document() -> dict:
    checkin = {
        "type": "object",
        "required": ["id", "offer_id", "at", "companions", "source", "repeat"],
        "properties": {
            "id": {"type": "integer"}, "offer_id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
            "companions": {"type": "integer", "minimum": 0}, "companions_allowed": {"type": "integer", "minimum": 0},
            "source": {"type": "string"}, "given_name": {"type": "string"},
            "birth_year": {"type": ["integer", "null"]}, "repeat": {"type": "boolean"},
        },
    }
    loan = {"type": "object", "required": ["id", "borrower_id", "due_on", "lines"], "properties": {
        "id": {"type": "integer"}, "borrower_id": {"type": "integer"}, "location_id": {"type": "integer"},
        "due_on": {"type": "string", "format": "date"},
        "lines": {"type": "array", "items": {"type": "object", "properties": {
            "unit": {"type": "string"}, "returned_at": {"type": ["string", "null"]}}}}}}
    common = {"400": _error_response("Malformed request: NUL bytes, JSON nested too deep, a value out of range",
                                     ["bad_request", "value_invalid"]),
              "401": _error_response("Missing, invalid or revoked token"),
              "403": _error_response("The token's role may not do this"),
              "429": _error_response("Rate limited"),
              "503": _error_response("The database cannot be reached", ["unavailable"])}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Opplevelseskortet API", "version": __version__,
                 "description": "Bearer tokens (created per user, scoped to the user's role). Errors are "
                                "JSON {error, message}; `error` is a stable code."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR, "CheckIn": checkin},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/me": {"get": {"operationId": "me", "summary": "The token's user",
                            "responses": {"200": {"description": "The user", "content": {"application/json": {
                                "schema": {"type": "object", "required": ["id", "email", "role"], "properties": {
                                    "id": {"type": "integer"}, "email": {"type": "string"},
                                    "role": {"type": "string"},
                                    "municipality_id": {"type": ["integer", "null"]},
                                    "partner_id": {"type": ["integer", "null"]}}}}}}, **common}}},
            "/checkins": {"post": {
                "operationId": "createCheckin", "summary": "Record a check-in (partner tokens)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["code", "offer_id"], "additionalProperties": False,
                    "properties": {"code": {"type": "string", "minLength": 1, "pattern": NO_NUL, "description":
                                            "The card URL from the QR, the QR token or the short code"},
                                   "offer_id": {"type": "integer"},
                                   "companions": {"type": "integer", "minimum": 0, "maximum": 20,
                                                  "default": 0}}}}}},
                "responses": {
                    "201": {"description": "A new check-in",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CheckIn"}}}},
                    "200": {"description": "A repeat inside the window: the earlier check-in",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CheckIn"}}}},
                    "404": _error_response("Unknown offer", ["offer_not_found", "not_found"]),
                    "422": _error_response("Refused by a rule", list(ERROR_CODES) + ["invalid_body"]),
                    **common}}},
            "/cards/{code}": {"get": {
                "operationId": "cardValidity", "summary": "Whether a card is valid now (partner tokens)",
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "Validity", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["valid", "status", "valid_until", "companions"],
                        "properties": {"valid": {"type": "boolean"},
                                       "status": {"type": "string",
                                                  "enum": ["active", "expired", "not_yet_valid", "revoked"]},
                                       "valid_until": {"type": "string", "format": "date"},
                                       "companions": {"type": "integer"},
                                       "given_name": {"type": ["string", "null"]},
                                       "birth_year": {"type": ["integer", "null"]}}}}}},
                    "404": _error_response("Unknown card", ["card_unknown", "not_found"]), **common}}},
            "/loans": {"post": {
                "operationId": "createLoan", "summary": "Lend equipment units (volunteer or admin tokens)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["unit_codes"], "additionalProperties": False,
                    "properties": {"unit_codes": {"type": "array", "items": {"type": "string", "pattern": NO_NUL},
                                                  "minItems": 1},
                                   "card_code": {"type": "string", "pattern": NO_NUL},
                                   "borrower_id": {"type": "integer"}}}}}},
                "responses": {
                    "201": {"description": "The loan", "content": {"application/json": {"schema": loan}}},
                    "404": _error_response("Unknown unit, card or borrower"),
                    "409": {"description": "A unit cannot be lent", "content": {"application/json": {"schema": {
                        **ERROR, "properties": {**ERROR["properties"], "unit": {"type": "string"}}}}}},
                    "422": _error_response("Refused by a rule"), **common}}},
            "/loans/{loan_id}/return": {"post": {
                "operationId": "returnLoan", "summary": "Return the open units of a loan",
                "parameters": [{"name": "loan_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {
                    "type": "object", "additionalProperties": False, "properties": {
                        "condition": {"type": "string", "enum": ["good", "worn", "needs_repair"]},
                        "unit_codes": {"type": "array", "items": {"type": "string", "pattern": NO_NUL}}}}}}},
                "responses": {"200": {"description": "The loan", "content": {"application/json": {"schema": loan}}},
                              "404": _error_response("Unknown loan"), "422": _error_response("Nothing to return"),
                              **common}}},
            "/reports/uptake": {"get": {
                "operationId": "uptakeReport", "summary": "Suppressed uptake by zone (analyst or admin tokens)",
                "parameters": [
                    {"name": "period", "in": "query", "required": True, "schema": {
                        "type": "string",
                        "pattern": r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2])|-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})?$"},
                     "description": "2026, 2026-Q1, 2026-03 or 2026-01-01..2026-06-30"},
                    {"name": "level", "in": "query", "schema": {"type": "string", "default": "grunnkrets"}},
                    {"name": "format", "in": "query",
                     "schema": {"type": "string", "enum": ["csv", "jsonstat", "geojson"], "default": "jsonstat"}},
                    {"name": "breakdown", "in": "query", "schema": {"type": "string", "enum": ["age", "gender"]},
                     "description": "CSV of active children and check-ins per zone and age band or gender"}],
                "responses": {"200": {"description": "The report", "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/geo+json": {"schema": {"type": "object"}},
                    "text/csv": {"schema": {"type": "string"}}}},
                    "422": _error_response("Bad period, level or format"), **common}}},
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


openapi.public = True
