/* The assessor's phone form (/assess/<point>): every item scored; an item scored below its
 * points opens its deduction — a photo from the camera and the phone's position taken when
 * the photo is chosen; sent as multipart form data; the answer's cases and owners shown as
 * text. Every text from the server is set as text. */
(function () {
  "use strict";
  var form = document.getElementById("assess");
  var t = window.cwText("assess-msg");
  var status = document.getElementById("assess-status");
  var total = document.getElementById("assess-total");
  var result = document.getElementById("assess-result");

  var say = window.cwSay;
  function items() { return Array.prototype.slice.call(form.querySelectorAll(".cw-item")); }
  function given(fs) { return Number(fs.querySelector("input[name^='score.']").value); }

  function update() {
    var sum = 0, max = 0;
    items().forEach(function (fs) {
      var points = Number(fs.dataset.points), v = given(fs);
      max += points;
      sum += isFinite(v) ? v : 0;
      fs.querySelector(".cw-deduction").hidden = !(isFinite(v) && v < points);
    });
    say(total, t("assess.total", {score: sum, max: max}));
  }

  function place(fs) {
    var where = fs.querySelector(".cw-where");
    var code = fs.dataset.item;
    if (!navigator.geolocation) { say(where, t("assess.no_location"), "cw-bad"); return; }
    say(where, t("assess.locating"));
    navigator.geolocation.getCurrentPosition(function (p) {
      form.elements["lon." + code].value = p.coords.longitude.toFixed(7);
      form.elements["lat." + code].value = p.coords.latitude.toFixed(7);
      form.elements["accuracy_m." + code].value = String(Math.round(p.coords.accuracy));
      say(where, t("assess.located", {m: Math.round(p.coords.accuracy)}), "cw-good");
    }, function (e) { say(where, t("assess.no_location") + " " + e.message, "cw-bad"); },
    {enableHighAccuracy: true, timeout: 15000});
  }

  items().forEach(function (fs) {
    fs.querySelector("input[name^='score.']").addEventListener("input", update);
    fs.querySelector("input[type=file]").addEventListener("change", function () { place(fs); });
  });
  update();

  function showProblem(p) {
    form.querySelectorAll(".cw-field-error").forEach(function (e) { e.hidden = true; });
    (p.errors || []).forEach(function (e) {
      var box = form.querySelector(".cw-field-error[data-field='" + CSS.escape(e.field) + "']");
      if (box) { box.textContent = e.message || e.reason; box.hidden = false; }
    });
    say(status, t("assess.refused", {message: p.message || p.detail || p.title}), "cw-bad");
  }

  function shown(a) {
    result.textContent = "";
    var h = document.createElement("h2");
    h.textContent = t("assess.done", {score: a.score, max: a.max_score, lost: a.lost});
    result.appendChild(h);
    var list = document.createElement("ul");
    a.deductions.forEach(function (d) {
      var li = document.createElement("li");
      li.className = "cw-deducted";
      li.dataset.case = d.case_no || "";
      li.textContent = t("assess.deducted", {
        item: d.item, points: d.points, case_no: d.case_no || "—",
        unit: d.unit_name || t("assess.no_owner"), department: d.department_name || "—"});
      list.appendChild(li);
    });
    result.appendChild(list);
    result.hidden = false;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = new FormData(form);
    items().forEach(function (fs) {  // a deduction's fields only where there is one
      var code = fs.dataset.item;
      if (!fs.querySelector(".cw-deduction").hidden) { return; }
      ["photos.", "lon.", "lat.", "accuracy_m."].forEach(function (k) { data.delete(k + code); });
    });
    Array.from(data.keys()).forEach(function (k) {
      var v = data.get(k);
      if (v === "" || (v instanceof File && !v.name)) { data.delete(k); }
    });
    say(status, t("assess.sending"));
    document.getElementById("submit").disabled = true;
    cwSend(form, data)
      .then(function (r) {
        document.getElementById("submit").disabled = false;
        if (!r.ok) { showProblem(r.data); return; }
        say(status, "");
        shown(r.data);
      })
      .catch(function (e) {
        document.getElementById("submit").disabled = false;
        say(status, t("assess.refused", {message: e.message}), "cw-bad");
      });
  });
})();
