/* The inspector's report page: position from the phone, the form, the case as filed.
 * Every text from the server is set as text. */
(function () {
  "use strict";
  var form = document.getElementById("report");
  var t = window.cwText("report-msg");
  var status = document.getElementById("report-status");
  var position = document.getElementById("position");
  var result = document.getElementById("result");

  var say = window.cwSay;

  function locate() {
    if (!navigator.geolocation) { say(position, t("report.no_location", {reason: "—"}), "cw-bad"); return; }
    say(position, t("report.locating"));
    navigator.geolocation.getCurrentPosition(function (p) {
      var c = p.coords;
      form.elements.lon.value = c.longitude.toFixed(7);
      form.elements.lat.value = c.latitude.toFixed(7);
      form.elements.accuracy_m.value = Math.round(c.accuracy * 10) / 10;
      form.elements.crs.checked = false;  // a phone's own fix is WGS-84
      say(position, t("report.located", {lon: c.longitude.toFixed(6), lat: c.latitude.toFixed(6),
                                         acc: Math.round(c.accuracy)}));
    }, function (err) {
      say(position, t("report.no_location", {reason: err.message || err.code}), "cw-bad");
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
  }
  document.getElementById("locate").addEventListener("click", locate);
  // from an inspection round's stop: its place, already filled in
  var asked = new URLSearchParams(window.location.search);
  if (asked.get("lon") && asked.get("lat")) {
    form.elements.lon.value = asked.get("lon");
    form.elements.lat.value = asked.get("lat");
  }
  // typed coordinates carry no accuracy
  ["lon", "lat"].forEach(function (k) {
    form.elements[k].addEventListener("input", function () { form.elements.accuracy_m.value = ""; });
  });

  function clearErrors() {
    form.querySelectorAll(".cw-field-error").forEach(function (p) { p.hidden = true; p.textContent = ""; });
  }

  // a problem as the server said it in the page's language (``message``; ``detail`` and
  // ``reason`` are its English for programs); a field without a box is named by its label
  function showProblem(data) {
    var rest = [];
    ((data && data.errors) || []).forEach(function (e) {
      var name = String(e.field).replace(/^properties\./, "").replace(/[.\[].*$/, "");
      var said = e.message || e.reason;
      var box = form.querySelector(".cw-field-error[data-field='" + CSS.escape(name) + "']");
      if (box) {
        box.textContent = box.textContent ? box.textContent + " " + said : said;
        box.hidden = false;
      } else {
        rest.push((t.known("field." + name) || e.field) + ": " + said);
      }
    });
    var said = (data && (data.message || data.detail)) || "";
    say(status, [t("report.failed_with", {message: said})].concat(rest).join(" "), "cw-bad");
  }

  function row(dl, label, value) {
    var dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = label;
    dd.textContent = value === null || value === undefined || value === "" ? t("report.none") : value;
    dl.appendChild(dt);
    dl.appendChild(dd);
  }

  function shown(p) {
    result.textContent = "";
    var h = document.createElement("h3");
    h.id = "filed-case";
    h.textContent = t("report.filed", {case_no: p.case_no});
    result.appendChild(h);
    var dl = document.createElement("dl");
    var r = p.receipt || {};  // names and the deadline in the city's time, from the server
    row(dl, t("report.category"), r.category_name || p.category);
    row(dl, t("report.owner"), r.unit_name || p.unit_name);
    row(dl, t("report.zone"), r.zone_name || p.zone_code);
    row(dl, t("report.department"), r.department_name || p.department);
    row(dl, t("report.due"), r.due_local || null);
    row(dl, t("report.near"), (p.near_points || []).map(function (n) {
      return n.name + " " + Math.round(n.distance_m) + " m"; }).join("；"));
    result.appendChild(dl);
    var again = document.createElement("button");
    again.type = "button";
    again.textContent = t("report.another");
    again.addEventListener("click", function () {
      result.hidden = true; form.hidden = false; form.reset(); say(position, "");
    });
    result.appendChild(again);
    result.hidden = false;
    form.hidden = true;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearErrors();
    var max = Number(form.dataset.maxPhotos), mb = Number(form.dataset.maxMb);
    var files = form.elements.photos.files;
    var box = form.querySelector(".cw-field-error[data-field='photos']");
    if (files.length > max) { box.textContent = t("report.photos_hint", {n: max, mb: mb}); box.hidden = false; return; }
    for (var i = 0; i < files.length; i++) {
      if (files[i].size > mb * 1024 * 1024) {
        box.textContent = files[i].name + ": " + t("report.photos_hint", {n: max, mb: mb});
        box.hidden = false;
        return;
      }
    }
    var data = new FormData(form);
    if (!form.elements.crs.checked) { data.delete("crs"); }
    if (!data.get("accuracy_m")) { data.delete("accuracy_m"); }
    if (!data.get("description")) { data.delete("description"); }
    if (!files.length) { data.delete("photos"); }
    data.append("observed_at", new Date().toISOString());
    say(status, t("report.sending"));
    document.getElementById("submit").disabled = true;
    cwSend(form, data)
      .then(function (r) {
        document.getElementById("submit").disabled = false;
        if (!r.ok) { showProblem(r.data); return; }
        say(status, "");
        shown(Object.assign({}, r.data.properties, {receipt: r.data.receipt}));
      })
      .catch(function (e) {
        document.getElementById("submit").disabled = false;
        say(status, t("report.failed_with", {message: e.message}), "cw-bad");
      });
  });
})();
