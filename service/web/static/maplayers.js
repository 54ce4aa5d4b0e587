/* The planner map's layers, asked from the server as the page needs them.
 *
 * The page embeds no feature: each layer asks /api/map/layers/{layer} once (the whole
 * layer, revalidated with its ETag) or, for a layer too big for a page, for the view from the
 * zoom where it is readable (bbox, again after each move; an answer older than the newest
 * question is dropped). Styles come from the page's style table (maps/style.py), the same
 * table the legend is drawn from. Every user text is set as text (textContent, text nodes):
 * Leaflet's tooltips and popups read a string as HTML, so they get DOM nodes.
 * When every layer asked for at the start has been drawn the page sets the User Timing mark
 * "cw:layers-drawn" (the page benchmark and the browser tests wait for it).
 */
(function () {
  "use strict";
  var documents = {};  // url → promise of its FeatureCollection: layers sharing a url ask once
  var waiting = 0, started = false;

  function ask(url) {
    if (!documents[url]) {
      documents[url] = fetch(url, {credentials: "same-origin",
                                   headers: {Accept: "application/geo+json"}})
        .then(function (r) {
          if (!r.ok) { throw new Error(url + ": " + r.status); }
          return r.json();
        });
    }
    return documents[url];
  }

  function settle() {
    waiting -= 1;
    if (waiting === 0 && started) { performance.mark("cw:layers-drawn"); }
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // an ISO time as the city's local "YYYY-MM-DD HH:MM" (its offset from UTC is fixed)
  function cityTime(iso, offsetMinutes, dateOnly) {
    if (!iso) { return ""; }
    var ms = Date.parse(iso);
    if (isNaN(ms)) { return String(iso); }
    var s = new Date(ms + offsetMinutes * 60000).toISOString().replace("T", " ");
    return dateOnly ? s.slice(0, 10) : s.slice(0, 16);
  }

  function valueOf(o, p, k) {
    var v = p[k];
    if (v === null || v === undefined) { return ""; }
    if (o.values[k]) {
      if (Array.isArray(v)) { return v.map(function (c) { return o.values[k][c] || c; }).join("、"); }
      return o.values[k][v] || v;
    }
    if (o.dates.indexOf(k) >= 0) { return cityTime(v, o.utcOffsetMinutes, true); }
    if (o.times.indexOf(k) >= 0) { return cityTime(v, o.utcOffsetMinutes); }
    return Array.isArray(v) ? v.join(", ") : v;
  }

  function fieldsPopup(o, p, cls) {
    var box = el("div", cls || "cw-popup");
    Object.keys(o.labels).forEach(function (k) {
      var v = valueOf(o, p, k);
      if (v === "") { return; }
      var row = el("div");
      row.appendChild(el("b", null, o.labels[k] + ": "));
      row.appendChild(document.createTextNode(String(v)));
      box.appendChild(row);
    });
    return box;
  }

  // ---- a case: owner, department, overdue, countdown, photos ----------------------------
  function enlarge(src) {
    var shade = el("div", "cw-photo-full");
    var img = el("img");
    img.src = src;
    img.alt = "";
    shade.appendChild(img);
    shade.addEventListener("click", function () { shade.remove(); });
    document.body.appendChild(shade);
  }

  function countdown(o, p) {
    if (!p.due_at || o.settled.indexOf(p.status) >= 0) { return null; }
    var left = Date.parse(p.due_at) - Date.now(), T = o.text;
    var days = Math.floor(Math.abs(left) / 86400000);
    var hours = Math.floor((Math.abs(left) % 86400000) / 3600000);
    if (left < 0) {
      return el("div", "cw-overdue", T.overdue.replace("{d}", days).replace("{h}", hours));
    }
    return el("div", "cw-due-in", T.due_in.replace("{d}", days).replace("{h}", hours));
  }

  function casePopup(o, p) {
    var box = el("div", "cw-popup cw-case");
    var head = el("div", "cw-case-head");
    head.appendChild(el("span", "cw-label", (o.labels.case_no || "") + " "));
    head.appendChild(el("b", null, p.case_no));
    var chip = el("span", "cw-chip", valueOf(o, p, "status"));
    chip.style.background = o.colors[p.status] || "#777";
    head.appendChild(chip);
    box.appendChild(head);
    var due = countdown(o, p);
    if (due) { box.appendChild(due); }
    var rest = Object.assign({}, o, {labels: {}});
    Object.keys(o.labels).forEach(function (k) {
      if (k !== "case_no" && k !== "status") { rest.labels[k] = o.labels[k]; }
    });
    box.appendChild(fieldsPopup(rest, p, "cw-fields"));
    // only the service's own photos (/photos/<sha256>.<type>): no other address is loaded
    var photos = (p.photos || []).filter(function (s) {
      return typeof s === "string" && /^\/photos\/[0-9a-f]{64}\.(jpg|png|webp)$/.test(s); });
    if (o.history) { box.appendChild(timeline(o, p)); }
    if (photos.length) {
      var strip = el("div", "cw-photos");
      photos.forEach(function (src) {
        var img = el("img");
        img.src = src;
        img.alt = o.text.photo;
        img.loading = "lazy";
        img.addEventListener("click", function () { enlarge(src); });
        strip.appendChild(img);
      });
      box.appendChild(strip);
    }
    return box;
  }

  // ---- a case's history and the steps the reader may take ---------------------------------
  function thumbs(list, alt) {
    var strip = el("div", "cw-photos");
    (list || []).forEach(function (src) {
      if (!/^\/photos\/[0-9a-f]{64}\.(jpg|png|webp)$/.test(src)) { return; }
      var img = el("img");
      img.src = src;
      img.alt = alt;
      img.loading = "lazy";
      img.addEventListener("click", function () { enlarge(src); });
      strip.appendChild(img);
    });
    return strip;
  }

  function timeline(o, p) {
    var h = o.history, T = o.text;
    var box = el("div", "cw-history");
    box.appendChild(el("b", null, T.history));
    var list = el("ol", "cw-timeline");
    box.appendChild(list);
    var form = el("div", "cw-act");
    box.appendChild(form);
    fetch(h.url.replace("{id}", p.id), {credentials: "same-origin",
                                         headers: {Accept: "application/json",
                                                   "Accept-Language": o.lang || "zh"}})
      .then(function (r) {
        return r.json().then(function (d) { return {ok: r.ok, etag: r.headers.get("ETag"), d: d}; });
      })
      .then(function (r) {
        if (!r.ok) { list.appendChild(el("li", null, r.d.message || r.d.detail)); return; }
        r.d.events.forEach(function (e) {
          var item = el("li", "cw-event");
          item.appendChild(el("span", "cw-when", cityTime(e.at, o.utcOffsetMinutes)));
          item.appendChild(el("b", null, " " + (h.actions[e.action] || e.action)));
          item.appendChild(el("span", null, " → " + (o.values.status[e.to_status] || e.to_status)));
          if (e.actor) { item.appendChild(el("span", "cw-who", " · " + e.actor)); }
          if (e.comment) { item.appendChild(el("div", "cw-comment", e.comment)); }
          if (e.photos && e.photos.length) { item.appendChild(thumbs(e.photos, T.photo)); }
          list.appendChild(item);
        });
        actions(o, p, r.d.status, r.etag, form);
      });
    return box;
  }

  // the steps the reader's role may take from the case's state (the server decides again)
  function actions(o, p, status, etag, form) {
    var h = o.history, T = o.text;
    var open = Object.keys(h.steps).filter(function (a) {
      return h.steps[a].before.indexOf(status) >= 0; });
    if (!open.length || !h.post) { return; }
    var pick = el("select", "cw-act-action");
    open.forEach(function (a) {
      var opt = el("option", null, h.actions[a] || a);
      opt.value = a;
      pick.appendChild(opt);
    });
    var comment = el("input", "cw-act-comment");
    comment.placeholder = T.comment;
    var unit = el("select", "cw-act-unit");
    (h.units || []).forEach(function (u) {
      var opt = el("option", null, u[1]);
      opt.value = u[0];
      unit.appendChild(opt);
    });
    var due = el("input", "cw-act-due");
    due.type = "date";
    var approve = el("select", "cw-act-approve");
    [["true", T.approve], ["false", T.refuse]].forEach(function (x) {
      var opt = el("option", null, x[1]);
      opt.value = x[0];
      approve.appendChild(opt);
    });
    var go = el("button", "cw-act-go", T.act);
    go.type = "button";
    var said = el("div", "cw-note");
    function fit() {
      var s = h.steps[pick.value];
      unit.hidden = !s.unit;
      due.hidden = !s.due;
      approve.hidden = !s.approve;
      comment.required = !!s.comment;
    }
    pick.addEventListener("change", fit);
    fit();
    go.addEventListener("click", function () {
      var s = h.steps[pick.value], body = {action: pick.value};
      if (comment.value) { body.comment = comment.value; }
      if (s.unit) { body.unit = unit.value; }
      if (s.due) { body.due_at = due.value; }
      if (s.approve) { body.approve = approve.value === "true"; }
      go.disabled = true;
      go.title = T.working;
      fetch(h.post.replace("{id}", p.id), {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", Accept: "application/json",
                  "Accept-Language": o.lang || "zh", "X-CSRFToken": h.csrf, "If-Match": etag},
        body: JSON.stringify(body)
      }).then(function (r) { return r.json().then(function (d) { return {ok: r.ok, d: d}; }); })
        .then(function (r) {
          go.disabled = false;
          go.removeAttribute("title");
          if (!r.ok) {
            var why = [r.d.message || r.d.detail].concat((r.d.errors || []).map(function (e) {
              return e.message || e.reason; }));
            said.textContent = why.join(" ");
            said.className = "cw-note cw-bad";
            return;
          }
          said.textContent = T.done.replace("{status}", o.values.status[r.d.to_status] ||
                                            r.d.to_status);
          said.className = "cw-note cw-good";
          form.hidden = true;
        });
    });
    form.appendChild(pick);
    form.appendChild(unit);
    form.appendChild(due);
    form.appendChild(approve);
    form.appendChild(comment);
    form.appendChild(go);
    form.parentNode.appendChild(said);
  }

  // ---- styles ------------------------------------------------------------------------------
  function colour(o, p) {
    return (o.colors || {})[p[o.colorBy]] || o.style.color;
  }

  function visible(o, p, zoom) {
    if (o.kind !== "case" || !o.settledFrom) { return true; }
    return zoom >= o.settledFrom || o.settled.indexOf(p.status) < 0 || o.showSettled;
  }

  function make(map, o) {
    var pane = o.pane || "overlayPane";
    if (o.pane && !map.getPane(o.pane)) {
      map.createPane(o.pane).style.zIndex = o.paneZ || 420;
    }
    var layer = L.geoJSON(null, {
      pane: pane,
      filter: function (f) {
        return Object.keys(o.where || {}).every(function (k) {
          return f.properties[k] === o.where[k]; });
      },
      style: function (f) {
        var c = colour(o, f.properties);
        return Object.assign({}, o.style, {color: o.style.stroke || c, fillColor: c});
      },
      pointToLayer: function (f, ll) {
        var p = f.properties, c = colour(o, p);
        if (o.kind === "around") {  // a point's surroundings: its radius, dashed
          return L.circle(ll, Object.assign({}, o.style, {radius: p[o.radiusBy] || 0, color: c,
                                                          fillColor: c, interactive: false,
                                                          pane: pane}));
        }
        if (o.kind === "point" && o.icons) {  // the category's colour and icon
          var badge = el("span", "cw-point-icon", o.icons[p[o.colorBy]] || "");
          badge.style.background = c;
          return L.marker(ll, {pane: pane, fillColor: c, keyboard: false,
                               icon: L.divIcon({className: "cw-point", html: badge,
                                                iconSize: [22, 22]})});
        }
        var settled = o.kind === "case" && o.settled.indexOf(p.status) >= 0;
        var overdue = o.kind === "case" && !settled && p.due_at &&
          Date.parse(p.due_at) < Date.now();
        return L.circleMarker(ll, Object.assign({}, o.style, {
          fillColor: c, color: o.kind === "case" ? c : (o.style.stroke || "#222"), pane: pane},
          settled ? o.settledStyle : {}, overdue ? o.overdue : {}));
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        if (o.kind === "around") { return; }
        var name = o.kind === "case" ? valueOf(o, p, "category_code")
                                     : (p.name || p.code);
        if (name) { l.bindTooltip(el("span", null, name)); }
        l.bindPopup(function () { return o.kind === "case" ? casePopup(o, p) : fieldsPopup(o, p); },
                    {maxWidth: 320});
      }
    });
    layer.cwOptions = o;
    layer.cwAll = [];  // every feature's layer, shown or not (filters and zooms pick)

    function draw(fc) {
      layer.clearLayers();
      layer.addData(fc);
      layer.cwAll = layer.getLayers();
      pick();
    }

    // which of the features are on the map at this zoom and under the page's filter
    function pick() {
      var zoom = map.getZoom(), want = layer.cwFilter || function () { return true; };
      var shown = 0;
      layer.cwAll.forEach(function (l) {
        var p = l.feature.properties, on = want(p) && visible(o, p, zoom);
        if (on) { shown += 1; }
        if (on && !layer.hasLayer(l)) { layer.addLayer(l); }
        if (!on && layer.hasLayer(l)) { layer.removeLayer(l); }
      });
      layer.cwShown = shown;
      return shown;
    }
    layer.cwPick = pick;

    var asked = 0, loaded = false;
    function refresh() {
      if (!map.hasLayer(layer)) { return; }
      if (map.getZoom() < o.minZoom) {
        if (!o.whole) { layer.clearLayers(); layer.cwAll = []; }
        if (map.getPane(pane)) { map.getPane(pane).style.display = "none"; }
        return;
      }
      map.getPane(pane).style.display = "";
      if (o.whole) {
        if (loaded) { pick(); return; }
        loaded = true;
        waiting += 1;
        ask(o.url).then(draw).catch(function () {}).then(settle);
        return;
      }
      var b = map.getBounds().pad(0.25), n = ++asked;
      var url = o.url + "?bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
        .map(function (v) { return v.toFixed(7); }).join(",");
      fetch(url, {credentials: "same-origin", headers: {Accept: "application/geo+json"}})
        .then(function (r) { return r.json(); })
        .then(function (fc) { if (n === asked) { draw(fc); } });
    }
    map.on("zoomend moveend", refresh);
    layer.on("add", refresh);
    layer.cwRefresh = refresh;
    return layer;
  }

  window.cwMap = {
    layer: function (map, o) {
      var layer = make(map, o);
      if (o.show) { layer.addTo(map); }
      return layer;
    },
    // called once every layer of the page has been made: the mark waits for those it asked
    ready: function () {
      started = true;
      waiting += 1;
      setTimeout(settle, 0);
    },
    casePopup: casePopup,
    cityTime: cityTime
  };
})();
