"""The API's schemas (pydantic, api/schema.py) validate what comes in and write /api/v1/openapi.json."""

from openapi_spec_validator import validate

from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.api.schema import Operation


def _api_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.") and r.endpoint != "api.openapi"]


def test_every_endpoint_is_declared_and_documented_from_its_declaration(app, client):
    doc = client.get("/api/v1/openapi.json").json
    validate(doc)
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    routed = set()
    for rule in _api_rules(app):
        op = getattr(app.view_functions[rule.endpoint], "openapi", None)
        assert isinstance(op, Operation), f"{rule.endpoint} has no @operation"
        path = rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<path:", "{").replace("<", "{")
        path = path.replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((path, method.lower()))
            assert doc["paths"][path][method.lower()]["operationId"] == op.operation_id
    assert documented == routed


def test_request_bodies_in_the_document_are_the_models_schemas(client):
    from opplevelseskort.api.checkins import CheckinBody
    from opplevelseskort.api.loans import LoanBody

    doc = client.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    for model in (CheckinBody, LoanBody):
        assert schemas[model.__name__]["properties"].keys() == model.model_json_schema()["properties"].keys()
    body = doc["paths"]["/checkins"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CheckinBody"}
    assert schemas["CheckinBody"]["additionalProperties"] is False
    assert schemas["CheckinBody"]["properties"]["companions"]["maximum"] == 20
    query = {p["name"]: p for p in doc["paths"]["/reports/uptake"]["get"]["parameters"]}
    assert query["period"]["required"] is True and query["format"]["schema"]["enum"] == ["csv", "jsonstat", "geojson", "gpkg"]


def test_a_body_that_does_not_fit_is_explained_in_the_callers_language(client, users):
    raw = api_tokens.create_token(users["volunteer"], "v")[1]
    headers = {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}
    r = client.post("/api/v1/loans", json={"unit_codes": []}, headers=headers)
    assert r.status_code == 422 and r.json["error"] == "invalid_body"
    assert r.json["fields"] == [{"field": "unit_codes", "message": r.json["message"]}]
    assert r.json["message"] == "«unit_codes» must have at least one value."
    r = client.post("/api/v1/loans", json=[1], headers={**headers, "Accept-Language": "nb"})
    assert r.status_code == 422 and r.json["message"] == "Forespørselen må være et JSON-objekt."
    r = client.post("/api/v1/loans/1/return", json={"condition": "broken"}, headers=headers)
    assert r.status_code == 422 and r.json["fields"][0]["field"] == "condition"


def test_error_texts_of_the_edge_are_translated(client):
    r = client.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert r.status_code == 401 and r.json == {"error": "unauthorized", "message": "Missing or invalid API key."}
