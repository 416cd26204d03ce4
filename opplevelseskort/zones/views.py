"""Zone admin pages: the list, one zone, the import, and the outlines the map pickers draw."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..core import jobs, municipalities, nav, tenancy, uploads
from ..core.guards import form_page
from ..core.models import Role
from ..core.permissions import can_access_municipality, roles_required
from ..core.uow import refused
from ..extensions import db
from . import jobs as zone_jobs
from . import services as zones
from .forms import ZoneEditForm, ZoneImportForm
from .models import Zone

bp = Blueprint("zones", __name__)


@bp.get("/soner.geojson")
@roles_required(Role.PARTNER, Role.ADMIN)
def zone_outlines():
    """The municipality's zone boundaries (public geography: codes, names, levels) for map pickers."""
    features = zones.outline_features(tenancy.current_municipality())
    return current_app.response_class(json.dumps({"type": "FeatureCollection", "features": features}),
                                      mimetype="application/geo+json")


@bp.get("/admin/soner")
@roles_required(Role.ADMIN)
def zone_list():
    level = request.args.get("level") or None
    return render_template("zones/zones.html", zones=zones.zones_visible_to(current_user, level), level=level)


@bp.route("/admin/soner/<int:zone_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def zone_edit(zone_id: int):
    zone = db.session.get(Zone, zone_id)
    if zone is None or not can_access_municipality(current_user, zone.municipality_id):
        abort(404)
    form = ZoneEditForm(obj=zone)
    if request.method == "GET":
        form.parent_code.data = zone.parent.code if zone.parent else ""
    if form.validate_on_submit():
        with refused(lambda: form_page("zones/zone_edit.html", form, zone=zone), field=form.parent_code):
            zones.update_zone(zone, name=form.name.data, level=form.level.data, parent_code=form.parent_code.data,
                              actor=current_user)
        flash(_("Sonen er lagret."), "success")
        return redirect(url_for("zones.zone_list"))
    return form_page("zones/zone_edit.html", form, zone=zone)


@bp.route("/admin/soner/import", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def zone_import():
    form = ZoneImportForm()
    form.municipality_id.choices = [(m.id, f"{m.name} ({m.number})") for m in municipalities.municipalities_for(current_user)]
    if form.validate_on_submit():
        muni = next((m for m in municipalities.municipalities_for(current_user) if m.id == form.municipality_id.data), None)
        if muni is None:
            abort(404)
        options = {}
        if form.kind.data == "geojson":
            options = {"code_property": (form.code_property.data or "").strip(),
                       "name_property": (form.name_property.data or "").strip(), "level": form.level.data or "",
                       "parent_prefix": form.parent_prefix.data, "parent_level": form.parent_level.data or "delomrade",
                       "parent_name_property": (form.parent_name_property.data or "").strip() or None,
                       "repair": bool(form.repair.data)}
        upload = uploads.keep_upload("zones", current_user, form.file.data.stream)
        run = jobs.start(zone_jobs.zone_import, actor=current_user, municipality_id=muni.id, upload=upload,
                         kind=form.kind.data, options=options, back="zones.zone_list")
        return redirect(url_for("core.job_page", run_id=run.id))
    return form_page("zones/zone_import.html", form)


# The menu entry of this part (wired by the app factory: core.nav.init_app)
MENU = (nav.item("zones.zone_list", _l("Soner"), [Role.ADMIN], order=81, group="admin"),)
