/* The leaders' dashboard: cards of this week against last, the trend chart (Chart.js), the
 * heat map of open cases (Leaflet.heat over the city's own base map), last week's ranking and
 * its flag, and the drill-down from the district to a unit's cases. Text is set as text. */
(function () {
  "use strict";
  var root = document.getElementById("cw-dashboard");
  var urls = JSON.parse(root.dataset.urls);
  var t = window.cwText("dash-msg");

  function get(url) {
    return fetch(url, {credentials: "same-origin",
                       headers: {Accept: "application/json", "Accept-Language": root.dataset.lang}})
      .then(function (r) { return r.json(); });
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }

  function cards(d) {
    var box = document.getElementById("dash-cards");
    box.textContent = "";
    [["received", "dash.received"], ["closed", "dash.closed"], ["overdue_now", "dash.overdue"],
     ["on_time_rate", "dash.on_time"], ["reworks", "dash.reworks"], ["disputes", "dash.disputes"]]
      .forEach(function (c) {
        var now = d.this_week[c[0]], before = d.last_week[c[0]];
        var card = el("div", null, "cw-card");
        card.dataset.figure = c[0];
        card.appendChild(el("div", t(c[1]), "cw-card-name"));
        card.appendChild(el("div", c[0] === "on_time_rate" ? pct(now) : now, "cw-card-value"));
        card.appendChild(el("div", t("dash.last_week", {v: c[0] === "on_time_rate" ? pct(before) : before}),
                            "cw-card-before"));
        box.appendChild(card);
      });
  }

  function chart(d) {
    var canvas = document.getElementById("dash-trend");
    new window.Chart(canvas, {
      data: {
        labels: d.trend.map(function (w) { return w.week; }),
        datasets: [
          {type: "bar", label: t("dash.received"), data: d.trend.map(function (w) { return w.received; }),
           backgroundColor: "#90caf9", yAxisID: "y"},
          {type: "line", label: t("dash.on_time"), borderColor: "#d50000",
           data: d.trend.map(function (w) { return w.on_time_rate === null ? null : 100 * w.on_time_rate; }),
           yAxisID: "rate"}
        ]
      },
      options: {animation: false, responsive: true,
                scales: {y: {beginAtZero: true}, rate: {position: "right", min: 0, max: 100}}}
    });
    canvas.dataset.drawn = String(d.trend.length);
  }

  function ranking(d) {
    var r = d.ranking, body = document.querySelector("#dash-ranking tbody");
    document.getElementById("dash-ranking-title").textContent =
      t("dash.ranking") + " · " + r.week + " · " + t("dash.status." + r.status);
    document.getElementById("dash-flag").textContent = r.flag ? t("dash.flag", {name: r.flag.name}) : "";
    body.textContent = "";
    r.rows.forEach(function (x) {
      var tr = el("tr", null, x.list ? "cw-" + x.list : "");
      if (x.worst) { tr.classList.add("cw-flag"); }
      tr.appendChild(el("td", x.rank));
      tr.appendChild(el("td", x.name));
      tr.appendChild(el("td", x.score.toFixed(2)));
      tr.appendChild(el("td", x.list ? t("ranking.list." + x.list) : "", "cw-list-mark"));
      body.appendChild(tr);
    });
  }

  function map() {
    var m = L.map("dash-map", {preferCanvas: true});
    L.tileLayer(urls.tiles + "/{z}/{x}/{y}.png", {maxZoom: 19}).addTo(m);
    get(urls.heat).then(function (d) {
      var pts = d.points;
      if (!pts.length) { m.setView([0, 0], 2); return; }
      var top = pts[0][2];
      L.heatLayer(pts.map(function (p) { return [p[0], p[1], p[2] / top]; }),
                  {radius: 18, blur: 14, maxZoom: 16}).addTo(m);
      m.fitBounds(pts.map(function (p) { return [p[0], p[1]]; }), {maxZoom: 15});
      document.getElementById("dash-map").dataset.squares = String(pts.length);
    });
  }

  var trail = [];
  function drill(step) {
    var q = step.unit ? "?unit=" + encodeURIComponent(step.unit)
      : step.area ? "?area=" + encodeURIComponent(step.area) : "";
    get(urls.drill + q).then(function (d) {
      var head = document.querySelector("#dash-drill thead"), body = document.querySelector("#dash-drill tbody");
      head.textContent = ""; body.textContent = "";
      var hr = el("tr");
      var cols = d.level === "case" ? ["dash.case", "dash.category", "dash.status", "dash.due"]
        : ["dash.name", "dash.received", "dash.on_time", "dash.overdue", "dash.disputes"];
      cols.forEach(function (c) { hr.appendChild(el("th", t(c))); });
      head.appendChild(hr);
      document.getElementById("cw-dashboard").dataset.level = d.level;
      d.rows.forEach(function (r) {
        var tr = el("tr");
        if (d.level === "case") {
          if (r.overdue) { tr.className = "cw-late"; }
          [r.case_no, r.category, t("status." + r.status), r.due].forEach(function (v) { tr.appendChild(el("td", v)); });
        } else {
          var name = el("td"), a = el("a", r.name || "—");
          a.href = "#";
          a.addEventListener("click", function (ev) {
            ev.preventDefault();
            var next = d.level === "unit" ? {unit: r.code, name: r.name} : {area: r.code, name: r.name};
            trail.push(next);
            drill(next);
          });
          name.appendChild(a);
          tr.appendChild(name);
          [r.received, pct(r.on_time_rate), r.overdue_now, r.disputes].forEach(function (v) { tr.appendChild(el("td", v)); });
        }
        body.appendChild(tr);
      });
      crumbs();
    });
  }
  function crumbs() {
    var nav = document.getElementById("dash-crumbs");
    nav.textContent = "";
    [{name: t("dash.district")}].concat(trail).forEach(function (s, i, all) {
      if (i) { nav.appendChild(document.createTextNode(" › ")); }
      if (i === all.length - 1) { nav.appendChild(el("span", s.name)); return; }
      var a = el("a", s.name);
      a.href = "#";
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        trail = trail.slice(0, i);
        drill(i ? trail[i - 1] : {});
      });
      nav.appendChild(a);
    });
  }

  get(urls.overview).then(function (d) { cards(d); chart(d); ranking(d); });
  map();
  drill({});
})();
