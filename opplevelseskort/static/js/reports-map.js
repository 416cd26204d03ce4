/* Choropleth of a report measure with Leaflet, drawn without any tile server (tiles only if configured).
   The table on the page is the text alternative. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof window.L === "undefined") { return; }
  var measure = el.dataset.measure;
  var colours = ["#deebf7", "#9ecae1", "#4292c6", "#084594"];
  function colour(v) {
    if (v === null || v === undefined) { return "#f0f0f0"; }
    return colours[Math.min(3, Math.floor(v * 4))];
  }
  var map = window.L.map(el, { zoomSnap: 0.25, attributionControl: false });
  if (el.dataset.tileUrl) { window.L.tileLayer(el.dataset.tileUrl, { maxZoom: 18 }).addTo(map); }
  fetch(el.dataset.geoUrl, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var layer = window.L.geoJSON(data, {
        style: function (f) {
          var p = f.properties;
          return { color: "#333", weight: 1, fillOpacity: 0.85, fillColor: colour(p[measure]),
                   dashArray: p[measure + "_status"] === ":" ? "4 3" : null };
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          var v = p[measure + "_status"] === ":" ? el.dataset.suppressedLabel :
            (p[measure] === null ? el.dataset.noDataLabel : Math.round(p[measure] * 100) + " %");
          // Zone names come from imported files: give Leaflet a text node, never an HTML string.
          var tip = document.createElement("span");
          tip.textContent = p.name + " (" + p.code + "): " + v;
          l.bindTooltip(tip);
        }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [10, 10] }); }
      el.setAttribute("data-ready", "true");
    });
})();
