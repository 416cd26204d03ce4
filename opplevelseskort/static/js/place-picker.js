/* Pick an offer's place by clicking a map of the municipality's zones (tiles too, if a tile server is
   configured). The latitude and longitude fields stay on the page: they are the text alternative, and typing
   in them moves the marker. */
(function () {
  "use strict";
  var el = document.getElementById("place-map");
  if (!el || typeof window.L === "undefined") { return; }
  var lat = document.getElementById(el.dataset.latInput);
  var lon = document.getElementById(el.dataset.lonInput);
  var map = window.L.map(el, { zoomSnap: 0.25, attributionControl: false });
  if (el.dataset.tileUrl) { window.L.tileLayer(el.dataset.tileUrl, { maxZoom: 18 }).addTo(map); }
  var marker = null;
  function place(latlng, pan) {
    if (marker) { marker.setLatLng(latlng); } else {
      marker = window.L.circleMarker(latlng, { radius: 8, color: "#083a66", weight: 3, fillOpacity: 0.6 }).addTo(map);
    }
    if (pan) { map.panTo(latlng); }
  }
  function fromInputs(pan) {
    var a = parseFloat(lat.value), b = parseFloat(lon.value);
    if (!isNaN(a) && !isNaN(b)) { place([a, b], pan); }
  }
  map.on("click", function (e) {
    lat.value = e.latlng.lat.toFixed(6);
    lon.value = e.latlng.lng.toFixed(6);
    place(e.latlng, false);
    el.setAttribute("data-picked", "true");
  });
  lat.addEventListener("change", function () { fromInputs(true); });
  lon.addEventListener("change", function () { fromInputs(true); });
  fetch(el.dataset.geoUrl, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var layer = window.L.geoJSON(data, {
        style: function () { return { color: "#333", weight: 1, fillColor: "#deebf7", fillOpacity: 0.5 }; },
        onEachFeature: function (f, l) {
          var tip = document.createElement("span");  // zone names come from files: text, never HTML
          tip.textContent = f.properties.name + " (" + f.properties.code + ")";
          l.bindTooltip(tip);
          l.on("click", function (e) { map.fire("click", e); });
        }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [10, 10] }); }
      else { map.setView([59.91, 10.75], 11); }
      fromInputs(false);
      el.setAttribute("data-ready", "true");
    });
})();
