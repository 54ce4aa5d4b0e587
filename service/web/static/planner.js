/* The planner's tools beside the map: edit layers, check zones, find things, problem points.
 *
 * Everything is read and written through the service's own API (OGC API Features Part 4
 * with ETag/If-Match, /api/zones/clean, /api/zone-check, /api/search, /api/problem-points).
 * User text is only ever set as text (textContent, through el() and tip()), never as HTML:
 * Leaflet's tooltips and popups take HTML from a string, so they get DOM nodes. Labels come
 * from the message catalogues, passed in the page's configuration (#cw-config).
 */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("cw-config").textContent);
  var map = window[cfg.map];
  var msg = cfg.msg;
  // the drawing tool's own hints ("click the first corner to finish") in the page's language
  if (map.pm) { map.pm.setLang(cfg.lang === "en" ? "en" : "zh"); }

  function t(key, values) {
    var s = msg[key] || key;
    Object.keys(values || {}).forEach(function (k) {
      s = s.split("{" + k + "}").join(String(values[k]));
    });
    return s;
  }

  // el("div", {class: "x", onclick: f}, child, "text", ...): text children become text nodes
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) { return; }
      if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), v); }
      else if (k === "text") { node.textContent = v; }
      else { node.setAttribute(k, v === true ? "" : v); }
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) { continue; }
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }

  // a tooltip's content: the text as a node (a string would be read as HTML)
  function tip(text) {
    return el("span", {}, String(text));
  }

  function api(method, url, body, headers) {
    // the server's words in the page's language, whatever the browser's own
    var h = Object.assign({Accept: "application/json, application/geo+json, application/problem+json",
                           "Accept-Language": cfg.lang}, headers || {});
    if (method !== "GET") { h["X-CSRFToken"] = cfg.csrf; }
    var init = {method: method, credentials: "same-origin", headers: h};
    if (body !== undefined) {
      h["Content-Type"] = method === "POST" && url.indexOf("/collections/") === 0
        ? "application/geo+json" : "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (r) {
      var type = r.headers.get("Content-Type") || "";
      var data = type.indexOf("json") >= 0 ? r.json() : Promise.resolve(null);
      return data.then(function (d) {
        return {status: r.status, ok: r.ok, etag: r.headers.get("ETag"), data: d};
      });
    });
  }

  // what the server said of a refusal, in the reader's language when it says it
  function said(r) {
    var d = r.data || {};
    return d.message || d.detail || d.title || ("HTTP " + r.status);
  }

  // a button that cannot be used now says why (its tooltip); usable again, it says nothing
  function why(button, reason) {
    button.disabled = !!reason;
    if (reason) { button.title = reason; } else { button.removeAttribute("title"); }
    return button;
  }

  function fitTo(layerOrBox) {
    var b = Array.isArray(layerOrBox)
      ? L.latLngBounds([layerOrBox[1], layerOrBox[0]], [layerOrBox[3], layerOrBox[2]])
      : (layerOrBox.getBounds ? layerOrBox.getBounds()
                              : L.latLngBounds([layerOrBox.getLatLng()]));
    if (b.getNorthEast().distanceTo(b.getSouthWest()) < 30) {
      map.setView(b.getCenter(), 18);
    } else {
      map.fitBounds(b, {maxZoom: 18, padding: [30, 30]});
    }
  }

  // ---- the panel ------------------------------------------------------------------------
  var panel = el("aside", {id: "cw-panel", class: "cw-panel", "aria-label": t("ui.panel")});
  var tabs = el("div", {class: "cw-tabs", role: "tablist"});
  var bodies = {};
  var toggle = el("button", {type: "button", class: "cw-panel-toggle", id: "cw-panel-toggle",
                             text: t("ui.panel"),
                             onclick: function () { panel.classList.toggle("cw-collapsed"); }});
  panel.appendChild(toggle);
  panel.appendChild(tabs);
  var names = ["layers", "legend"].concat(cfg.canEdit ? ["edit"] : [])
    .concat(cfg.canPlan ? ["plan"] : []).concat(["find", "problems", "check"]);
  names.forEach(function (name, i) {
    var body = el("section", {id: "cw-tab-" + name, class: "cw-tab-body", role: "tabpanel"});
    bodies[name] = body;
    tabs.appendChild(el("button", {type: "button", role: "tab", "data-tab": name,
                                   class: i === 0 ? "cw-active" : null,
                                   text: t("ui.tab." + name),
                                   onclick: function () { show(name); }}));
    if (i > 0) { body.hidden = true; }
    panel.appendChild(body);
  });
  document.body.appendChild(panel);
  L.DomEvent.disableClickPropagation(panel);
  L.DomEvent.disableScrollPropagation(panel);

  // one sidebar: the map's layer switches and its legend are tabs of it, so that nothing
  // beside the map covers another control
  var switches = document.querySelector(".leaflet-control-layers");
  if (switches) {
    switches.classList.add("cw-in-panel");
    bodies.layers.appendChild(switches);
  }
  // the view as it is, on paper or as a PDF (the browser's print dialog saves one)
  bodies.layers.appendChild(el("div", {class: "cw-row"},
    el("button", {type: "button", id: "cw-print", text: t("ui.print"),
                  onclick: function () { window.print(); }})));
  var legend = document.getElementById("legend");
  if (legend) {
    legend.classList.add("cw-in-panel");
    bodies.legend.appendChild(legend);
  }

  var onShow = {};
  function show(name) {
    names.forEach(function (n) {
      bodies[n].hidden = n !== name;
      tabs.querySelector("[data-tab=" + n + "]").classList.toggle("cw-active", n === name);
    });
    if (onShow[name]) { onShow[name](); }
  }

  function note(box, text, kind) {
    box.textContent = text;
    box.className = "cw-note " + (kind || "");
    box.hidden = !text;
  }

  // ---- editing ----------------------------------------------------------------------------
  if (cfg.canEdit) { editor(); }

  function editor() {
    var body = bodies.edit;
    var state = {cid: null, fid: null, etag: null, layer: null, circle: null, loaded: null};
    // above the other layers, below Leaflet's marker pane where the vertex handles are
    map.createPane("cwEdit").style.zIndex = 590;
    var svg = L.svg({pane: "cwEdit"});
    var group = L.featureGroup([], {pane: "cwEdit"}).addTo(map);
    var theirs = L.featureGroup([], {pane: "cwEdit"}).addTo(map);
    var hidden = [];

    var layerSelect = el("select", {id: "cw-edit-layer", "aria-label": t("ui.edit.layer")});
    Object.keys(cfg.forms).forEach(function (cid) {
      layerSelect.appendChild(el("option", {value: cid, text: t("layer." + cid)}));
    });
    var startBtn = el("button", {type: "button", id: "cw-edit-start", text: t("ui.edit.start"),
                                 onclick: function () { start(layerSelect.value); }});
    var newBtn = el("button", {type: "button", id: "cw-edit-new", text: t("ui.edit.new"),
                               onclick: drawNew});
    why(newBtn, t("ui.why.load_first"));
    var status = el("p", {id: "cw-edit-status", class: "cw-note", hidden: true});
    var form = el("form", {id: "cw-edit-form", class: "cw-form", hidden: true,
                           onsubmit: function (ev) { ev.preventDefault(); save(); }});
    var geomError = el("p", {class: "cw-field-error", "data-field": "geometry", hidden: true});
    var choice = el("div", {id: "cw-edit-choice", class: "cw-choice", hidden: true});
    var conflict = el("div", {id: "cw-conflict", class: "cw-conflict", role: "alert",
                              hidden: true});
    body.appendChild(el("div", {class: "cw-row"}, layerSelect, startBtn, newBtn));
    body.appendChild(el("p", {class: "cw-hint", text: t("ui.edit.hint")}));
    body.appendChild(status);
    body.appendChild(conflict);
    body.appendChild(choice);
    body.appendChild(form);

    function styleFor() {
      return {color: "#6a1b9a", weight: 2, fillColor: "#ce93d8", fillOpacity: 0.25,
              renderer: svg, pane: "cwEdit"};
    }

    function makeLayer(feature) {
      var layer = L.geoJSON(feature, {
        style: styleFor,
        pointToLayer: function (f, ll) {
          return L.marker(ll, {pane: "cwEdit", icon: L.divIcon({className: "cw-point-icon",
                                                                 iconSize: [14, 14]})});
        }
      }).getLayers()[0];
      layer.options.pane = "cwEdit";
      layer.feature = feature;
      layer.on("click", function (ev) {
        if (map.pm.globalDrawModeEnabled()) { return; }  // a corner of the new shape
        L.DomEvent.stop(ev);
        if (state.layer !== layer) { select(layer); }
      });
      var label = feature.properties && (feature.properties.name || feature.properties.code);
      if (label) { layer.bindTooltip(tip(label)); }
      return layer;
    }

    function start(cid) {
      leave();
      state.cid = cid;
      hidden = (cfg.layers[cid] || []).map(function (n) { return window[n]; })
        .filter(function (l) { return l && map.hasLayer(l); });
      hidden.forEach(function (l) { map.removeLayer(l); });
      note(status, t("ui.edit.loading"));
      var b = map.getBounds();
      var url = cfg.urls.collections + "/" + cid + "/items?limit=10000&bbox=" +
        [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
          return v.toFixed(7); }).join(",");
      return api("GET", url).then(function (r) {
        if (!r.ok) { return problem(r); }
        r.data.features.forEach(function (f) { group.addLayer(makeLayer(f)); });
        // snap to this layer's shapes only, not to every line on the map
        map.eachLayer(function (l) {
          if (l.options && !group.hasLayer(l)) { l.options.snapIgnore = true; }
        });
        state.loaded = cid;
        why(newBtn, null);
        note(status, t("ui.edit.loaded", {n: r.data.features.length,
                                           layer: t("layer." + cid)}));
      });
    }

    function leave() {
      release();
      group.clearLayers();
      theirs.clearLayers();
      hidden.forEach(function (l) { map.addLayer(l); });
      hidden = [];
      form.hidden = true;
      state.loaded = null;
    }

    function release() {
      if (state.layer && state.layer.pm) { state.layer.pm.disable(); }
      if (state.circle) { map.removeLayer(state.circle); }
      if (state.layer && !state.fid) { group.removeLayer(state.layer); }
      state.layer = state.circle = state.fid = state.etag = null;
      choice.hidden = true;
      note(conflict, "");
      map.pm.disableDraw();
    }

    function editable(layer) {
      layer.pm.enable({snappable: true, snapDistance: 15, allowSelfIntersection: false,
                       draggable: false, preventMarkerRemoval: false});
      if (state.cid === "assessment_points") {
        var radius = function () {
          var r = Number(form.elements.radius_m && form.elements.radius_m.value) || 0;
          if (state.circle) { map.removeLayer(state.circle); }
          state.circle = r > 0 ? L.circle(layer.getLatLng(), {radius: r, pane: "cwEdit",
                                                               dashArray: "4 4", weight: 1,
                                                               interactive: false})
            .addTo(map) : null;
        };
        layer.on("pm:drag pm:dragend pm:edit", radius);
        form.addEventListener("input", radius);
        radius();
      }
    }

    function select(layer) {
      release();
      var fid = layer.feature.id;
      return api("GET", cfg.urls.collections + "/" + state.cid + "/items/" + fid)
        .then(function (r) {
          if (!r.ok) { return problem(r); }
          layer.feature = r.data;
          if (layer.setLatLngs) {
            layer.setLatLngs(L.GeoJSON.coordsToLatLngs(
              r.data.geometry.coordinates, r.data.geometry.type === "MultiPolygon" ? 2 : 1));
          } else {
            layer.setLatLng(L.GeoJSON.coordsToLatLng(r.data.geometry.coordinates));
          }
          state.layer = layer;
          state.fid = fid;
          state.etag = r.etag;
          fill(r.data.properties);
          editable(layer);
          note(status, t("ui.edit.editing", {name: r.data.properties.name ||
                                              r.data.properties.code}));
        });
    }

    function drawNew() {
      release();
      var shape = ["assessment_points", "ad_sites"].indexOf(state.cid) >= 0 ? "Marker"
                                                                            : "Polygon";
      map.pm.enableDraw(shape, {snappable: true, snapDistance: 15,
                                allowSelfIntersection: false, continueDrawing: false,
                                markerStyle: {icon: L.divIcon({className: "cw-point-icon",
                                                               iconSize: [14, 14]})}});
      note(status, t(shape === "Marker" ? "ui.edit.draw_point" : "ui.edit.draw_polygon"));
    }

    map.on("pm:create", function (ev) {
      if (!state.loaded) { return; }
      map.removeLayer(ev.layer);
      var layer = makeLayer({type: "Feature", properties: {},
                             geometry: ev.layer.toGeoJSON().geometry});
      group.addLayer(layer);
      state.layer = layer;
      state.fid = null;
      state.etag = null;
      fill({});
      editable(layer);
      note(status, t("ui.edit.fill_form"));
    });

    // the form, from the collection's field list
    function fill(props) {
      form.textContent = "";
      form.hidden = false;
      cfg.forms[state.cid].forEach(function (f) {
        var id = "cw-f-" + f.name, input;
        var value = props[f.name] !== undefined ? props[f.name] : f.default;
        if (f.type === "select" || f.type === "multi") {
          input = el("select", {id: id, name: f.name, multiple: f.type === "multi"});
          if (f.type === "select" && !f.required) {
            input.appendChild(el("option", {value: "", text: "—"}));
          }
          f.options.forEach(function (o) {
            var chosen = f.type === "multi" ? (value || []).indexOf(o[0]) >= 0
                                            : String(value) === String(o[0]);
            input.appendChild(el("option", {value: o[0], text: o[1], selected: chosen}));
          });
        } else if (f.type === "checkbox") {
          input = el("input", {id: id, name: f.name, type: "checkbox",
                               checked: value === undefined ? true : !!value});
        } else if (f.type === "datetime") {
          input = el("input", {id: id, name: f.name, type: "datetime-local"});
          input.value = value ? localTime(value) : "";
        } else {
          input = el("input", {id: id, name: f.name, type: f.type,
                               step: f.type === "number" ? "any" : null});
          input.value = value === undefined || value === null ? "" : value;
        }
        if (f.required) { input.required = true; }
        form.appendChild(el("div", {class: "cw-field"},
                            el("label", {for: id, text: f.label}), input,
                            el("p", {class: "cw-field-error", "data-field": f.name,
                                     hidden: true})));
      });
      form.appendChild(geomError);
      form.appendChild(el("div", {class: "cw-row"},
        el("button", {type: "submit", id: "cw-edit-save", text: t("ui.edit.save")}),
        why(el("button", {type: "button", id: "cw-edit-delete", text: t("ui.edit.delete"),
                          onclick: remove}), state.fid ? null : t("ui.why.not_stored")),
        el("button", {type: "button", id: "cw-edit-cancel", text: t("ui.edit.cancel"),
                      onclick: function () { release(); form.hidden = true;
                                              note(status, ""); }})));
    }

    // city time ⇄ the datetime-local input
    function localTime(iso) {
      var d = new Date(new Date(iso).getTime() + cfg.utcOffsetMinutes * 60000);
      return d.toISOString().slice(0, 16);
    }
    function offsetText() {
      var m = Math.abs(cfg.utcOffsetMinutes), sign = cfg.utcOffsetMinutes < 0 ? "-" : "+";
      return sign + String(Math.floor(m / 60)).padStart(2, "0") + ":" +
        String(m % 60).padStart(2, "0");
    }

    function read() {
      var props = {};
      cfg.forms[state.cid].forEach(function (f) {
        var input = form.elements[f.name];
        if (f.type === "multi") {
          props[f.name] = Array.prototype.filter.call(input.options, function (o) {
            return o.selected; }).map(function (o) { return o.value; });
        } else if (f.type === "checkbox") {
          props[f.name] = input.checked;
        } else if (input.value === "") {
          props[f.name] = null;
        } else if (f.type === "number" || f.numeric) {
          props[f.name] = Number(input.value);
        } else if (f.type === "datetime") {
          props[f.name] = input.value + ":00" + offsetText();
        } else {
          props[f.name] = input.value;
        }
      });
      return props;
    }

    function clearErrors() {
      form.querySelectorAll(".cw-field-error").forEach(function (p) {
        p.hidden = true; p.textContent = ""; });
      form.querySelectorAll(".cw-invalid").forEach(function (i) {
        i.classList.remove("cw-invalid"); });
    }

    // problem+json: each error next to the field it names, the rest in the status line
    function problem(r) {
      var rest = [];
      ((r.data && r.data.errors) || []).forEach(function (e) {
        var name = String(e.field).replace(/^properties\./, "").replace(/\..*$/, "");
        var box = form.querySelector(".cw-field-error[data-field='" + CSS.escape(name) + "']");
        if (box) {
          box.textContent = e.message || e.reason;
          box.hidden = false;
          if (form.elements[name]) { form.elements[name].classList.add("cw-invalid"); }
        } else {
          rest.push(e.field + ": " + (e.message || e.reason));
        }
      });
      var head = said(r);
      note(status, [head].concat(rest).join(" "), "cw-bad");
    }

    function ask(overlaps, trimmed) {
      return new Promise(function (resolve) {
        choice.textContent = "";
        choice.hidden = false;
        choice.appendChild(el("p", {text: t("ui.edit.overlaps")}));
        var list = el("ul");
        overlaps.forEach(function (o) {
          list.appendChild(el("li", {text: t("ui.edit.overlap_item",
            {code: o.code, name: o.name, area: o.area_m2})}));
        });
        choice.appendChild(list);
        function done(v) { choice.hidden = true; resolve(v); }
        choice.appendChild(el("div", {class: "cw-row"},
          why(el("button", {type: "button", id: "cw-trim", text: t("ui.edit.trim"),
                            onclick: function () { done("trim"); }}),
              trimmed ? null : t("ui.why.nothing_left")),
          el("button", {type: "button", id: "cw-keep", text: t("ui.edit.keep_overlap"),
                        onclick: function () { done("keep"); }}),
          el("button", {type: "button", text: t("ui.edit.cancel"),
                        onclick: function () { done("cancel"); }})));
      });
    }

    function setGeometry(layer, g) {
      layer.pm.disable();
      layer.setLatLngs(L.GeoJSON.coordsToLatLngs(g.coordinates,
                                                  g.type === "MultiPolygon" ? 2 : 1));
      layer.pm.enable({snappable: true, snapDistance: 15, allowSelfIntersection: false});
    }

    function save() {
      clearErrors();
      note(conflict, "");
      theirs.clearLayers();
      var layer = state.layer;
      if (!layer) { return Promise.resolve(); }
      var props = read();
      var geometry = layer.toGeoJSON(7).geometry;
      var cleaned = Promise.resolve(geometry);
      var notes = [];
      if (state.cid === "zones") {
        cleaned = api("POST", cfg.urls.zoneClean,
                      {geometry: geometry, kind: props.kind, id: state.fid, snap_m: 3})
          .then(function (r) {
            if (!r.ok) { problem(r); return null; }
            if (r.data.moved) { notes.push(t("ui.edit.snapped")); }
            if (!r.data.overlaps.length) { return r.data.geometry; }
            return ask(r.data.overlaps, r.data.trimmed).then(function (how) {
              if (how === "cancel") { return null; }
              if (how === "trim") { notes.push(t("ui.edit.trimmed")); return r.data.trimmed; }
              return r.data.geometry;
            });
          });
      }
      return cleaned.then(function (g) {
        if (!g) { return; }
        var feature = {type: "Feature", properties: props, geometry: g};
        var url = cfg.urls.collections + "/" + state.cid + "/items";
        var call = state.fid
          ? api("PUT", url + "/" + state.fid, feature, {"If-Match": state.etag})
          : api("POST", url, feature);
        return call.then(function (r) {
          if (r.status === 412) { return conflicted(); }
          if (!r.ok) { return problem(r); }
          state.fid = r.data.id;
          state.etag = r.etag;
          layer.feature = r.data;
          if (r.data.geometry.type !== "Point") { setGeometry(layer, r.data.geometry); }
          note(status, [t("ui.edit.saved", {name: r.data.properties.name ||
                                                  r.data.properties.code})]
                       .concat(notes, r.data.notes || []).join(" "), "cw-good");
          var del = document.getElementById("cw-edit-delete");
          if (del) { why(del, null); }
        });
      });
    }

    function remove() {
      if (!state.fid || !window.confirm(t("ui.edit.confirm_delete"))) { return; }
      api("DELETE", cfg.urls.collections + "/" + state.cid + "/items/" + state.fid,
          undefined, {"If-Match": state.etag}).then(function (r) {
        if (r.status === 412) { return conflicted(); }
        if (!r.ok) { return problem(r); }
        var layer = state.layer;
        state.fid = null;
        release();
        group.removeLayer(layer);
        form.hidden = true;
        note(status, t("ui.edit.deleted"), "cw-good");
      });
    }

    // someone else saved first: show theirs, never write over it unasked
    function conflicted() {
      var mine = read();
      return api("GET", cfg.urls.collections + "/" + state.cid + "/items/" + state.fid)
        .then(function (r) {
          conflict.textContent = "";
          conflict.hidden = false;
          conflict.className = "cw-conflict";
          if (r.status === 404) {
            conflict.appendChild(el("p", {text: t("ui.conflict.gone")}));
            return;
          }
          conflict.appendChild(el("p", {text: t("ui.conflict.changed")}));
          var rows = el("table");
          rows.appendChild(el("tr", {}, el("th", {text: ""}),
                              el("th", {text: t("ui.conflict.theirs")}),
                              el("th", {text: t("ui.conflict.mine")})));
          cfg.forms[state.cid].forEach(function (f) {
            var a = r.data.properties[f.name], b = mine[f.name];
            if (JSON.stringify(a === undefined ? null : a) !== JSON.stringify(b)) {
              rows.appendChild(el("tr", {}, el("th", {text: f.label}),
                el("td", {text: a === null || a === undefined ? "—" : String(a)}),
                el("td", {text: b === null || b === undefined ? "—" : String(b)})));
            }
          });
          conflict.appendChild(rows);
          theirs.clearLayers();
          L.geoJSON(r.data, {style: {color: "#d50000", weight: 3, dashArray: "6 4",
                                     fill: false, renderer: svg, pane: "cwEdit"},
                             pointToLayer: function (f, ll) {
                               return L.circleMarker(ll, {radius: 9, color: "#d50000",
                                                          renderer: svg, pane: "cwEdit"});
                             }}).eachLayer(function (l) { theirs.addLayer(l); });
          conflict.appendChild(el("button", {type: "button", id: "cw-conflict-reload",
            text: t("ui.conflict.reload"), onclick: function () {
              theirs.clearLayers();
              var layer = state.layer;
              select(layer);
            }}));
        });
    }
  }

  // ---- planning a round (leaders) ---------------------------------------------------------
  if (cfg.canPlan) { planner(); }

  function planner() {
    var body = bodies.plan, p = cfg.planning, picking = null;
    var form = el("form", {id: "cw-plan-form", class: "cw-form"});
    function row(name, label, input) {
      input.name = name;
      input.id = "cw-plan-" + name;
      form.appendChild(el("div", {class: "cw-field"}, el("label", {for: input.id, text: label}),
        input, el("p", {class: "cw-field-error", "data-field": name, hidden: true})));
      return input;
    }
    row("date", t("ui.plan.date"), el("input", {type: "date", required: true, value: p.tomorrow}));
    row("window_start", t("ui.plan.from"), el("input", {type: "time", required: true,
                                                         value: "20:00"}));
    row("window_end", t("ui.plan.to"), el("input", {type: "time", required: true,
                                                     value: "23:00"}));
    var mode = row("mode", t("ui.plan.mode"), el("select"));
    p.modes.forEach(function (m) { mode.appendChild(el("option", {value: m[0], text: m[1]})); });
    var area = row("area", t("ui.plan.area"), el("select"));
    area.appendChild(el("option", {value: "", text: t("ui.plan.whole_city")}));
    p.areas.forEach(function (a) { area.appendChild(el("option", {value: a[0], text: a[1]})); });
    // the night's teams: each its members and its start; the first team's elements keep the
    // names of a one-team form (cw-plan-team, cw-plan-pick, cw-plan-depot), the next ones a
    // number (cw-plan-team-2 ...); a team without a start of its own starts at the first's
    var teams = [], crew = el("div", {id: "cw-plan-teams"});
    form.appendChild(crew);
    var more = el("button", {type: "button", id: "cw-plan-add-team", text: t("ui.plan.add_team"),
                             onclick: function () { addTeam(); ready(); }});
    form.appendChild(el("div", {class: "cw-row"}, more));
    form.appendChild(el("p", {class: "cw-field-error", "data-field": "team", hidden: true}));
    form.appendChild(el("p", {class: "cw-field-error", "data-field": "depot", hidden: true}));
    var submit = el("button", {type: "submit", id: "cw-plan-submit", text: t("ui.plan.create")});
    var check = el("button", {type: "button", id: "cw-plan-check", text: t("ui.plan.check"),
                              onclick: promise});
    form.appendChild(el("div", {class: "cw-row"}, check, submit));
    var promised = el("div", {id: "cw-plan-coverage", class: "cw-note", hidden: true});
    var status = el("p", {id: "cw-plan-status", class: "cw-note", hidden: true});
    body.appendChild(el("p", {class: "cw-hint", text: t("ui.plan.hint")}));
    body.appendChild(form);
    body.appendChild(status);
    body.appendChild(promised);

    function addTeam() {
      var n = teams.length + 1, suffix = n === 1 ? "" : "-" + n;
      var team = {depot: null, marker: null};
      team.members = el("select", {multiple: true, size: 4, id: "cw-plan-team" + suffix,
                                   name: "team" + suffix});
      p.team.forEach(function (u) {
        team.members.appendChild(el("option", {value: u[0], text: u[1]}));
      });
      team.members.addEventListener("change", ready);
      team.where = el("p", {id: "cw-plan-depot" + suffix, class: "cw-hint",
                            text: t(n === 1 ? "ui.plan.no_depot" : "ui.plan.depot_first")});
      team.pick = el("button", {type: "button", id: "cw-plan-pick" + suffix,
                                text: t("ui.plan.pick"), onclick: function () {
                                  picking = team;
                                  map.getContainer().style.cursor = "crosshair";
                                  note(status, t("ui.plan.click_map"));
                                }});
      var heading = n > 1 ? el("legend", {text: t("ui.plan.team_n", {n: n})}) : null;
      team.box = el("fieldset", {class: "cw-field cw-plan-team"}, heading,
        el("label", {for: team.members.id, text: t("ui.plan.team")}), team.members,
        el("label", {text: t("ui.plan.depot")}), el("div", {class: "cw-row"}, team.pick),
        team.where);
      if (n > 1) {
        // only the last team can be taken off: the others keep their numbers
        team.drop = el("button", {type: "button", id: "cw-plan-drop" + suffix,
                                  text: t("ui.plan.drop_team"), onclick: dropLast});
        team.box.appendChild(team.drop);
        if (teams[n - 2].drop) { teams[n - 2].drop.hidden = true; }
        if (n === 2) { teams[0].box.insertBefore(el("legend", {text: t("ui.plan.team_n", {n: 1})}),
                                                 teams[0].box.firstChild); }
      }
      teams.push(team);
      crew.appendChild(team.box);
      more.hidden = teams.length >= 10;
      retitle();
    }

    function dropLast() {
      var team = teams.pop();
      if (picking === team) {
        picking = null;
        map.getContainer().style.cursor = "";
        note(status, "");
      }
      if (team.marker) { map.removeLayer(team.marker); }
      crew.removeChild(team.box);
      var last = teams[teams.length - 1];
      if (last.drop) { last.drop.hidden = false; }
      if (teams.length === 1) {
        var legend = teams[0].box.querySelector("legend");
        if (legend) { legend.remove(); }
      }
      more.hidden = false;
      retitle();
      ready();
    }

    // each start's marker says whose it is once there are several teams
    function title(team) {
      return teams.length > 1
        ? t("ui.plan.team_n", {n: teams.indexOf(team) + 1}) + " · " + t("ui.plan.depot")
        : t("ui.plan.depot");
    }
    function retitle() {
      teams.forEach(function (team) {
        if (!team.marker) { return; }
        team.marker.options.title = title(team);
        if (team.marker.getElement()) { team.marker.getElement().title = title(team); }
      });
    }

    function chosen(team) {
      return Array.prototype.filter.call(team.members.options, function (o) { return o.selected; })
        .map(function (o) { return Number(o.value); });
    }

    function ready() {
      var depot = teams[0].depot, everyone = teams.every(function (m) { return chosen(m).length; });
      why(submit, !depot ? t("ui.why.no_depot") : !everyone ? t("ui.why.no_team") : null);
      why(check, !depot ? t("ui.why.no_depot") : null);
    }

    // what rounds of this mode, window and depot can promise, before any is planned
    function promise() {
      var q = "?mode=" + encodeURIComponent(mode.value) + "&window=" +
        encodeURIComponent(form.elements.window_start.value + "-" +
                           form.elements.window_end.value) +
        "&depot=" + teams[0].depot.join(",") + "&teams=" + teams.length +
        (area.value ? "&area=" + encodeURIComponent(area.value) : "");
      promised.hidden = false;
      promised.textContent = t("ui.plan.working");
      api("GET", p.coverage + q).then(function (r) {
        promised.textContent = "";
        if (!r.ok) { promised.textContent = said(r); return; }
        var c = r.data, lines = [
          t("ui.plan.cov_reach", {reachable: c.reachable, points: c.points,
                                  stops: c.stops_per_night}),
          c.unforeseeable ? t("ui.plan.cov_kept", {floor: c.floor_days})
                          : t("ui.plan.cov_not_kept", {floor: c.floor_days,
                                                       kept: c.kept_floor_days || "—",
                                                       need: c.needed_stops_per_night || "—"})
        ];
        c.keeps_floor.forEach(function (o) {
          lines.push(t("ui.plan.cov_option", {mode: t("mode." + o.mode), hours: o.window_hours,
                                              teams: o.teams, floor: c.floor_days}));
        });
        if (c.unreachable.length) {
          lines.push(t("ui.plan.cov_far", {n: c.unreachable.length}) + " " +
                     c.unreachable.slice(0, 10).map(function (u) { return u.name; })
                       .join("、"));
        }
        lines.forEach(function (line) { promised.appendChild(el("p", {text: line})); });
      });
    }
    addTeam();
    ready();
    map.on("click", function (ev) {
      if (!picking) { return; }
      var team = picking;
      picking = null;
      map.getContainer().style.cursor = "";
      team.depot = [Number(ev.latlng.lng.toFixed(6)), Number(ev.latlng.lat.toFixed(6))];
      if (team.marker) { map.removeLayer(team.marker); }
      team.marker = L.marker(ev.latlng, {title: title(team)}).addTo(map);
      team.where.textContent = t("ui.plan.depot_at", {lon: team.depot[0], lat: team.depot[1]});
      note(status, "");
      ready();
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      form.querySelectorAll(".cw-field-error").forEach(function (b) { b.hidden = true; });
      var first = teams[0].depot, own = teams.some(function (m) { return m.depot && m !== teams[0]; });
      var body = {
        date: form.elements.date.value,
        window_start: form.elements.window_start.value,
        window_end: form.elements.window_end.value,
        mode: mode.value,
        // one team: its members and start, as before; several: a list of each
        team: teams.length === 1 ? chosen(teams[0]) : teams.map(chosen),
        depot: !own ? first : teams.map(function (m) { return m.depot || first; })
      };
      if (area.value) { body.area = area.value; }
      why(submit, t("ui.why.planning"));
      note(status, t("ui.plan.working"));
      api("POST", p.url, body, {"Idempotency-Key": String(Date.now()) + Math.random()})
        .then(function (r) {
          ready();
          if (!r.ok) {
            var rest = [];
            ((r.data && r.data.errors) || []).forEach(function (e) {
              var name = String(e.field).replace(/\..*$/, "");
              var box = form.querySelector(".cw-field-error[data-field='" + CSS.escape(name) +
                                           "']");
              if (box) { box.textContent = e.message || e.reason; box.hidden = false; }
              else { rest.push(e.message || e.reason); }
            });
            note(status, [said(r)].concat(rest).join(" "), "cw-bad");
            return;
          }
          status.textContent = "";
          status.className = "cw-note cw-good";
          status.hidden = false;
          if (!r.data.plans) {
            status.appendChild(document.createTextNode(
              t("ui.plan.created", {n: (r.data.stops || []).length}) + " "));
            status.appendChild(el("a", {href: p.round.replace("{id}", r.data.id),
                                        id: "cw-plan-open", text: t("ui.plan.open")}));
            return;
          }
          // a round for each team, none sharing a point
          status.appendChild(el("span", {text: t("ui.plan.created_night",
                                                 {teams: r.data.plans.length})}));
          var list = el("ol", {id: "cw-plan-rounds"});
          r.data.plans.forEach(function (plan, k) {
            list.appendChild(el("li", {},
              el("a", {href: p.round.replace("{id}", plan.id), id: "cw-plan-open-" + (k + 1),
                       text: t("ui.plan.team_n", {n: k + 1})}),
              " " + t("ui.plan.created", {n: (plan.stops || []).length})));
          });
          status.appendChild(list);
        });
    });
  }

  // ---- finding things -------------------------------------------------------------------
  (function finder() {
    var body = bodies.find;
    var q = el("input", {id: "cw-search", type: "search", placeholder: t("ui.find.placeholder"),
                         "aria-label": t("ui.find.search")});
    var results = el("ol", {id: "cw-search-results", class: "cw-list"});
    // the hit shown, marked on the map (drawn as SVG so that it can pulse) until the next
    if (!map.getPane("cwHit")) { map.createPane("cwHit").style.zIndex = 600; }
    var hits = L.featureGroup([], {pane: "cwHit"}).addTo(map);
    var svg = L.svg({pane: "cwHit"});
    function mark(h) {
      hits.clearLayers();
      var b = h.bbox, style = {renderer: svg, pane: "cwHit", className: "cw-hit",
                               color: "#00e5ff", weight: 4, fill: false, interactive: false};
      var shape = b[0] === b[2] && b[1] === b[3]
        ? L.circleMarker([b[1], b[0]], Object.assign({radius: 18}, style))
        : L.rectangle([[b[1], b[0]], [b[3], b[2]]], style);
      hits.addLayer(shape);
      results.querySelectorAll("a").forEach(function (a) {
        a.classList.toggle("cw-active", a.dataset.code === h.code); });
    }
    var searchForm = el("form", {class: "cw-row", onsubmit: function (ev) {
      ev.preventDefault();
      results.textContent = "";
      hits.clearLayers();
      if (!q.value.trim()) { return; }
      api("GET", cfg.urls.search + "?q=" + encodeURIComponent(q.value)).then(function (r) {
        if (!r.ok) { results.appendChild(el("li", {text: said(r)})); return; }
        if (!r.data.results.length) { results.appendChild(el("li", {text: t("ui.find.none")})); }
        r.data.results.forEach(function (h) {
          results.appendChild(el("li", {}, el("a", {href: "#", "data-code": h.code,
                                                    onclick: function (ev) {
            ev.preventDefault(); fitTo(h.bbox); mark(h); }},
            t("layer." + h.layer) + " · " + h.code + (h.name ? " · " + h.name : ""))));
        });
      });
    }}, q, el("button", {type: "submit", text: t("ui.find.search")}));
    body.appendChild(searchForm);
    body.appendChild(results);

    // filters of the violations layer
    var f = el("form", {id: "cw-filter", class: "cw-form"});
    function choices(name, options, multiple) {
      var s = el("select", {id: "cw-filter-" + name, name: name, multiple: multiple});
      if (!multiple) { s.appendChild(el("option", {value: "", text: t("ui.find.any")})); }
      options.forEach(function (o) { s.appendChild(el("option", {value: o[0], text: o[1]})); });
      return el("div", {class: "cw-field"},
                el("label", {for: "cw-filter-" + name, text: t("field." + name)}), s);
    }
    f.appendChild(el("h4", {text: t("ui.find.filter")}));
    f.appendChild(choices("status", cfg.filters.status, true));
    f.appendChild(choices("category", cfg.filters.category, false));
    f.appendChild(choices("unit", cfg.filters.unit, false));
    ["from", "to"].forEach(function (k) {
      f.appendChild(el("div", {class: "cw-field"},
        el("label", {for: "cw-filter-" + k, text: t("ui.find." + k)}),
        el("input", {id: "cw-filter-" + k, name: k, type: "date"})));
    });
    // overdue and reworked cases: of the cases the page has (not of vector tiles)
    var flags = ["overdue", "rework"].filter(function () {
      return cfg.violations.mode !== "tiles"; });
    flags.forEach(function (k) {
      f.appendChild(el("div", {class: "cw-row"},
        el("input", {id: "cw-filter-" + k, name: k, type: "checkbox"}),
        el("label", {for: "cw-filter-" + k, text: t("ui.find." + k)})));
    });
    var count = el("p", {id: "cw-filter-count", class: "cw-note", hidden: true});
    f.appendChild(el("div", {class: "cw-row"},
      el("button", {type: "submit", text: t("ui.find.apply")}),
      el("button", {type: "reset", text: t("ui.find.clear")})));
    f.appendChild(count);
    body.appendChild(f);

    function wanted() {
      var w = {};
      var st = Array.prototype.filter.call(f.elements.status.options, function (o) {
        return o.selected; }).map(function (o) { return o.value; });
      if (st.length) { w.status = st.join(","); }
      ["category", "unit", "from", "to"].forEach(function (k) {
        if (f.elements[k].value) { w[k] = f.elements[k].value; }
      });
      flags.forEach(function (k) { if (f.elements[k].checked) { w[k] = true; } });
      return w;
    }

    function apply(w) {
      var v = cfg.violations;
      var layer = window[v.layer];
      if (!layer) { return; }
      if (v.mode === "tiles") {
        var qs = Object.keys(w).map(function (k) {
          return k + "=" + encodeURIComponent(w[k]); }).join("&");
        layer.setUrl(v.tiles + (qs ? "?" + qs : ""));
        return;
      }
      // the cases the page has: show those that match (settled ones still only from the
      // zoom where they are drawn, unless the filter asks for their status)
      var day = function (iso) { return cwMap.cityTime(iso, cfg.utcOffsetMinutes, true); };
      layer.cwOptions.showSettled = !!w.status;
      layer.cwFilter = function (p) {
        var observed = day(p.observed_at);
        return (!w.status || w.status.split(",").indexOf(p.status) >= 0) &&
          (!w.category || p.category_code === w.category) &&
          (!w.unit || p.unit_code === w.unit) &&
          (!w.from || observed >= w.from) &&
          (!w.to || observed <= w.to) &&
          (!w.overdue || (p.due_at && Date.parse(p.due_at) < Date.now() &&
                          layer.cwOptions.settled.indexOf(p.status) < 0)) &&
          (!w.rework || p.rework_count > 0);
      };
      var shown = layer.cwPick();
      note(count, t("ui.find.shown", {n: shown}));
    }
    f.addEventListener("submit", function (ev) { ev.preventDefault(); apply(wanted()); });
    f.addEventListener("reset", function () { setTimeout(function () { apply({}); }, 0); });
  })();

  // ---- problem points -------------------------------------------------------------------
  (function problems() {
    var body = bodies.problems;
    var list = el("ol", {id: "cw-problem-points", class: "cw-list"});
    var head = el("p", {class: "cw-hint", text: t("ui.problems.hint")});
    body.appendChild(head);
    body.appendChild(list);
    function load() {
      list.textContent = "";
      api("GET", cfg.urls.problems + "?limit=500").then(function (r) {
        if (!r.ok) { return; }
        if (!r.data.points.length) { list.appendChild(el("li", {text: t("ui.problems.none")})); }
        r.data.points.forEach(function (p) {
          var cases = el("ul", {class: "cw-cases", hidden: true});
          var item = el("li", {"data-code": p.code},
            el("a", {href: "#", onclick: function (ev) {
              ev.preventDefault();
              map.setView([p.lat, p.lon], 18);
              open(p, cases);
            }}, p.name + " (" + p.code + ")"),
            el("div", {class: "cw-meta", text: t("ui.problems.line",
              {score: p.score, open: p.open_violations, overdue: p.overdue})}),
            cases);
          list.appendChild(item);
        });
      });
    }
    function open(p, cases) {
      cases.hidden = false;
      cases.textContent = "";
      api("GET", cfg.urls.nearby.replace("{id}", p.id)).then(function (r) {
        if (!r.ok) { return; }
        r.data.violations.forEach(function (v) {
          cases.appendChild(el("li", {text: [v.case_no, cfg.categoryNames[v.category] ||
            v.category, t("status." + v.status), Math.round(v.distance_m) + " m",
            v.overdue ? t("ui.problems.overdue") : ""].join(" · ")}));
        });
      });
    }
    onShow.problems = load;
  })();

  // ---- the zone check overlay --------------------------------------------------------------
  (function checker() {
    var body = bodies.check;
    var group = L.featureGroup().addTo(map);
    var summary = el("p", {id: "cw-check-summary", class: "cw-note", hidden: true});
    var list = el("ol", {id: "cw-check-list", class: "cw-list"});
    var colors = {gap: "#ff6f00", overlap: "#d50000", sliver_zone: "#6200ea",
                  point_without_zone: "#ff6f00", point_in_two_zones: "#d50000",
                  case_without_owner: "#b71c1c"};
    body.appendChild(el("p", {class: "cw-hint", text: t("ui.check.hint")}));
    body.appendChild(el("div", {class: "cw-row"},
      el("button", {type: "button", id: "cw-check-run", text: t("ui.check.run"),
                    onclick: run}),
      el("button", {type: "button", text: t("ui.check.clear"), onclick: function () {
        group.clearLayers(); list.textContent = ""; note(summary, ""); }})));
    body.appendChild(summary);
    body.appendChild(list);
    function run() {
      group.clearLayers();
      list.textContent = "";
      note(summary, t("ui.edit.loading"));
      api("GET", cfg.urls.zoneCheck).then(function (r) {
        if (!r.ok) { note(summary, said(r), "cw-bad"); return; }
        var parts = Object.keys(r.data.summary).map(function (k) {
          return t("check." + k) + " " + r.data.summary[k]; });
        note(summary, parts.length ? parts.join(" · ") : t("ui.check.clean"),
             parts.length ? "cw-bad" : "cw-good");
        r.data.features.forEach(function (f) {
          var p = f.properties, c = colors[p.problem] || "#000";
          var layer = L.geoJSON(f, {
            style: {color: c, weight: 3, fillColor: c, fillOpacity: 0.35},
            pointToLayer: function (ft, ll) {
              return L.circleMarker(ll, {radius: 10, color: c, weight: 3, fillOpacity: 0.2});
            }
          }).getLayers()[0];
          var text = t("check." + p.problem) + ": " +
            (p.point ? p.point + " " : "") + (p.case ? p.case + " " : "") +
            (p.zones || []).join(" / ") +
            (p.area_m2 !== null ? " · " + p.area_m2 + " m²" : "");
          layer.bindTooltip(tip(text));
          group.addLayer(layer);
          list.appendChild(el("li", {"data-problem": p.problem},
            el("a", {href: "#", onclick: function (ev) {
              ev.preventDefault(); fitTo(layer); layer.openTooltip(); }}, text)));
        });
      });
    }
  })();
});
