"""A read-only OGC API Features endpoint per municipality, so an analyst's QGIS connects live (Layer > Add WFS / OGC
API Features, with the analyst's token as an HTTP header): landing page, conformance, collections (one per
published year and zone level) and their items as GeoJSON, with `limit`, `offset`, `bbox` and paging links.

Only published figures leave here (the stored, protected publications, as on the report page). Another
municipality's collections are 404, as are unknown ones. Invalid parameters answer 422 `invalid_query` like the
rest of this API (OGC API Features says 400).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, request, url_for
from pydantic import ConfigDict, Field

from ..accounts.permissions import scope_required
from ..core.models import Role
from ..core.permissions import current_actor, roles_required
from ..core.uow import refused
from ..reports import gis
from ..reports import published as services
from .schema import Answer, Schema, operation
from .views import bp

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MUNI = {"municipality": {"schema": {"type": "string", "pattern": "^[0-9]{4}$"}, "description": "Kommunenummer"}}
COLLECTION = {"collection_id": {"schema": {"type": "string", "maxLength": 80}}}
FEATURE = {"feature_id": {"schema": {"type": "string", "maxLength": 40}}}
JSON_OBJECT = {"application/json": {"type": "object"}}
GEOJSON = {"application/geo+json": {"type": "object"}}
NOT_FOUND = Answer("Unknown municipality (or another's), collection or feature",
                   codes=["not_found", "municipality_unknown", "collection_not_found", "feature_not_found"])


class ItemsQuery(Schema):
    model_config = ConfigDict(extra="ignore")  # QGIS adds its own parameters (f, crs)

    limit: int = Field(10, ge=1, le=1000, description="Features per page (1-1000)")
    offset: int = Field(0, ge=0, le=1_000_000, description="Features to skip")
    bbox: str | None = Field(None, max_length=200, pattern=r"^[0-9eE.,+\- ]*$",
                             description="minLon,minLat,maxLon,maxLat (CRS84)")


def _municipality(number: str):
    with refused(status=404):
        return services.municipality_for(current_actor(), number)


def _link(endpoint: str, rel: str, media: str, title: str, **values) -> dict:
    """An absolute link on the host the client used (what a GIS follows for the next page)."""
    return {"href": request.host_url.rstrip("/") + url_for(endpoint, **values), "rel": rel, "type": media,
            "title": title}


def _collection_doc(number: str, cid: str, report) -> dict:
    extent = gis.zone_extent(report)
    year = report.period.start.year
    return {
        "id": cid, "title": f"{report.municipality.name}: {report.level} {report.period.label}",
        "description": "Barn med kort, aktive barn, besøk og rekkevidde per sone (publiserte tall; skjulte tall er "
                       "null med SSBs symbol i _status), behov og levekårsindeks",
        "itemType": "feature", "crs": [CRS84],
        "extent": {"spatial": {"bbox": [extent] if extent else [], "crs": CRS84},
                   "temporal": {"interval": [[f"{year}-01-01T00:00:00Z", f"{year}-12-31T23:59:59Z"]]}},
        "links": [_link("api.ogc_collection", "self", "application/json", "Samlingen", municipality=number,
                        collection_id=cid),
                  _link("api.ogc_items", "items", "application/geo+json", "Sonene", municipality=number,
                        collection_id=cid)],
    }


READERS = (Role.ANALYST, Role.ADMIN)


@bp.get("/ogc/<municipality>/")
@roles_required(*READERS)
@scope_required("reports")
@operation("OGC API Features: landing page", operation_id="ogcLanding", params=MUNI,
           responses={200: Answer("Landing page", media=JSON_OBJECT), 404: NOT_FOUND})
def ogc_landing(municipality: str):
    muni = _municipality(municipality)
    return jsonify({"title": f"Opplevelseskortet: {muni.name}",
                    "description": "Publiserte tall per sone for analyse (OGC API Features, kun lesing)",
                    "links": [_link("api.ogc_landing", "self", "application/json", "Denne siden",
                                    municipality=municipality),
                              _link("api.ogc_conformance", "conformance", "application/json", "Standarder",
                                    municipality=municipality),
                              _link("api.ogc_collections", "data", "application/json", "Samlinger",
                                    municipality=municipality),
                              _link("api.openapi", "service-desc", "application/vnd.oai.openapi+json;version=3.0",
                                    "API-beskrivelse")]})


@bp.get("/ogc/<municipality>/conformance")
@roles_required(*READERS)
@scope_required("reports")
@operation("OGC API Features: conformance", operation_id="ogcConformance", params=MUNI,
           responses={200: Answer("The conformance classes", media=JSON_OBJECT), 404: NOT_FOUND})
def ogc_conformance(municipality: str):
    _municipality(municipality)
    return jsonify({"conformsTo": CONFORMANCE})


@bp.get("/ogc/<municipality>/collections")
@roles_required(*READERS)
@scope_required("reports")
@operation("OGC API Features: collections (a published year and zone level each)", operation_id="ogcCollections",
           params=MUNI, responses={200: Answer("The collections", media=JSON_OBJECT), 404: NOT_FOUND})
def ogc_collections(municipality: str):
    muni = _municipality(municipality)
    return jsonify({"links": [_link("api.ogc_collections", "self", "application/json", "Samlinger",
                                    municipality=municipality)],
                    "collections": [_collection_doc(municipality, cid, report)
                                    for cid, report in gis.collections(muni)]})


@bp.get("/ogc/<municipality>/collections/<collection_id>")
@roles_required(*READERS)
@scope_required("reports")
@operation("OGC API Features: one collection", operation_id="ogcCollection", params={**MUNI, **COLLECTION},
           responses={200: Answer("The collection", media=JSON_OBJECT), 404: NOT_FOUND})
def ogc_collection(municipality: str, collection_id: str):
    muni = _municipality(municipality)
    with refused(status=404):
        report = gis.collection(muni, collection_id)
    return jsonify(_collection_doc(municipality, collection_id, report))


@bp.get("/ogc/<municipality>/collections/<collection_id>/items")
@roles_required(*READERS)
@scope_required("reports")
@operation("OGC API Features: the zones of a collection (GeoJSON, paged)", operation_id="ogcItems",
           params={**MUNI, **COLLECTION}, query=ItemsQuery,
           responses={200: Answer("A page of features", media=GEOJSON), 404: NOT_FOUND,
                      422: Answer("A parameter that does not fit", codes=["invalid_query"])})
def ogc_items(municipality: str, collection_id: str, query: ItemsQuery):
    muni = _municipality(municipality)
    with refused(status=422):
        bbox = gis.parse_bbox(query.bbox)
    with refused(status=404):
        page, matched = gis.page(muni, collection_id, bbox, query.limit, query.offset)
    args = {"municipality": municipality, "collection_id": collection_id, "limit": query.limit,
            **({"bbox": query.bbox} if query.bbox else {})}
    links = [_link("api.ogc_items", "self", "application/geo+json", "Denne siden", offset=query.offset, **args),
             _link("api.ogc_collection", "collection", "application/json", "Samlingen", municipality=municipality,
                   collection_id=collection_id)]
    if query.offset + query.limit < matched:
        links.append(_link("api.ogc_items", "next", "application/geo+json", "Neste side",
                           offset=query.offset + query.limit, **args))
    if query.offset > 0:
        links.append(_link("api.ogc_items", "prev", "application/geo+json", "Forrige side",
                           offset=max(0, query.offset - query.limit), **args))
    response = jsonify({"type": "FeatureCollection", "features": page, "numberMatched": matched,
                        "numberReturned": len(page), "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
                        "links": links})
    response.mimetype = "application/geo+json"
    return response


@bp.get("/ogc/<municipality>/collections/<collection_id>/items/<feature_id>")
@roles_required(*READERS)
@scope_required("reports")
@operation("OGC API Features: one zone", operation_id="ogcFeature", params={**MUNI, **COLLECTION, **FEATURE},
           responses={200: Answer("The feature", media=GEOJSON), 404: NOT_FOUND})
def ogc_feature(municipality: str, collection_id: str, feature_id: str):
    muni = _municipality(municipality)
    with refused(status=404):
        feature = gis.stored_feature(muni, collection_id, feature_id)
    feature["links"] = [
        _link("api.ogc_feature", "self", "application/geo+json", "Denne sonen", municipality=municipality,
              collection_id=collection_id, feature_id=feature_id),
        _link("api.ogc_collection", "collection", "application/json", "Samlingen", municipality=municipality,
              collection_id=collection_id)]
    response = jsonify(feature)
    response.mimetype = "application/geo+json"
    return response
