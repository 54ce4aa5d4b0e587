/* The loop's phone pages (/tasks, /verify): countdowns, the distance from the phone, and the
 * steps. Each step posts to /api/cases/{id}/events with the case's ETag (If-Match); a refusal
 * shows the server's own words (``message``). Every text is set as text. */
(function () {
  "use strict";
  var root = document.getElementById("cw-tasks");
  var t = window.cwText("tasks-msg");
  var cards = Array.prototype.slice.call(document.querySelectorAll(".cw-case"));
  var here = null;  // {lon, lat, acc} once the phone has said

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function say(card, text, kind) {
    var box = card.querySelector(".cw-step-status");
    box.textContent = text;
    box.className = "cw-step-status cw-note " + (kind || "");
    box.hidden = !text;
  }

  // ---- countdowns: a duration, the same in every time zone ----
  function span(ms) {
    var min = Math.floor(ms / 60000), d = Math.floor(min / 1440), h = Math.floor((min % 1440) / 60);
    return d > 0 ? t("tasks.days_hours", {d: d, h: h}) : t("tasks.hours_minutes", {h: h, m: min % 60});
  }
  function tick() {
    var now = Date.now();
    cards.forEach(function (card) {
      var box = card.querySelector(".cw-countdown");
      if (!card.dataset.due) { return; }
      var left = Date.parse(card.dataset.due) - now;
      if (!box.dataset.local) { box.dataset.local = box.textContent.trim(); }
      box.textContent = (left < 0 ? t("tasks.overdue", {time: span(-left)}) : t("tasks.left", {time: span(left)})) +
        " · " + box.dataset.local;
      box.classList.toggle("cw-late", left < 0);
      card.classList.toggle("cw-overdue", left < 0);
    });
  }
  tick();
  setInterval(tick, 30000);

  // ---- distance from the phone; /verify puts the nearest first ----
  function metres(lon1, lat1, lon2, lat2) {
    var r = Math.PI / 180, a = Math.sin((lat2 - lat1) * r / 2), b = Math.sin((lon2 - lon1) * r / 2);
    var h = a * a + Math.cos(lat1 * r) * Math.cos(lat2 * r) * b * b;
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
  }
  function distanceText(m) {
    return m < 1000 ? Math.round(m) + " m" : (m / 1000).toFixed(1) + " km";
  }
  function placed() {
    cards.forEach(function (card) {
      var m = metres(here.lon, here.lat, Number(card.dataset.lon), Number(card.dataset.lat));
      card.dataset.distance = String(m);
      card.querySelector(".cw-distance").textContent = t("tasks.distance", {d: distanceText(m)});
    });
    if (root.dataset.sort === "distance") {
      // a round's stops keep the round's order
      document.querySelectorAll(".cw-case-list:not([data-sort=round])").forEach(function (list) {
        Array.prototype.slice.call(list.querySelectorAll(".cw-case"))
          .sort(function (a, b) { return Number(a.dataset.distance) - Number(b.dataset.distance); })
          .forEach(function (card) { list.appendChild(card); });
      });
    }
  }
  function locate(done, failed) {
    if (!navigator.geolocation) { if (failed) { failed("—"); } return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      here = {lon: p.coords.longitude, lat: p.coords.latitude, acc: p.coords.accuracy};
      placed();
      if (done) { done(here); }
    }, function (err) {
      if (failed) { failed(err.message || err.code); }
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 30000});
  }
  if (cards.length) { locate(); }

  // ---- the steps ----
  function post(card, action, fields, files) {
    var data = new FormData();
    data.append("action", action);
    Object.keys(fields).forEach(function (k) {
      if (fields[k] !== null && fields[k] !== undefined && fields[k] !== "") { data.append(k, fields[k]); }
    });
    (files || []).forEach(function (f) { data.append("photos", f, f.name); });
    say(card, t("tasks.sending"));
    card.querySelectorAll("button").forEach(function (b) { b.dataset.wasDisabled = b.disabled ? "1" : ""; b.disabled = true; });
    function again() {
      card.querySelectorAll("button").forEach(function (b) { b.disabled = b.dataset.wasDisabled === "1"; });
    }
    return fetch(root.dataset.events.replace("{id}", card.dataset.id), {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-CSRFToken": root.dataset.csrf, "If-Match": card.dataset.etag,
                Accept: "application/json", "Accept-Language": root.dataset.lang}
    }).then(function (r) {
      return r.json().then(function (d) { return {ok: r.ok, data: d, etag: r.headers.get("ETag")}; });
    }).then(function (r) {
      if (!r.ok) {
        again();
        var said = [r.data.message || r.data.detail || ""];
        (r.data.errors || []).forEach(function (e) {
          if (e.field !== "action") { said.push((t.known("field." + e.field) || e.field) + ": " + (e.message || e.reason)); }
          else { said.push(e.message || e.reason); }
        });
        say(card, t("tasks.refused", {message: said.join(" ")}), "cw-bad");
        return;
      }
      card.dataset.etag = r.etag || card.dataset.etag;
      card.dataset.status = r.data.to_status;
      say(card, t("tasks.done"), "cw-good");
      window.location.reload();
    }).catch(function (e) {
      again();
      say(card, t("tasks.refused", {message: e.message}), "cw-bad");
    });
  }

  function field(form, label, input) {
    var id = "f-" + form.dataset.case + "-" + input.name;
    input.id = id;
    form.appendChild(el("label", {"for": id}, label));
    form.appendChild(input);
    return input;
  }
  function photosInput(form, label) {
    var input = el("input", {type: "file", name: "photos", accept: "image/*", capture: "environment", multiple: ""});
    field(form, label, input);
    form.appendChild(el("p", {"class": "cw-hint"}, t("tasks.photos_hint", {n: root.dataset.maxPhotos, mb: root.dataset.maxMb})));
    return input;
  }
  function reasonInput(form, label, required) {
    var box = el("textarea", {name: "comment", rows: "3", maxlength: "2000"});
    if (required) { box.required = true; }
    return field(form, label, box);
  }

  // what each step asks before it is sent; none: sent at once
  var FORMS = {
    fix: function (form, card) {
      var photos = photosInput(form, t("tasks.after_photos"));
      var where = el("p", {"class": "cw-note cw-where"}, t("tasks.locating"));
      var again = el("button", {type: "button", "class": "cw-locate"}, t("tasks.locate"));
      form.appendChild(again);
      form.appendChild(where);
      var pos = null;
      function fetchPos() {
        where.textContent = t("tasks.locating");
        locate(function (p) {
          pos = p;
          where.textContent = t("tasks.located", {acc: Math.round(p.acc)});
        }, function (reason) { where.textContent = t("tasks.no_location", {reason: reason}); });
      }
      again.addEventListener("click", fetchPos);
      fetchPos();
      var note = reasonInput(form, t("tasks.comment"), false);
      return function () {
        return {fields: {comment: note.value, lon: pos && pos.lon, lat: pos && pos.lat,
                         accuracy_m: pos && Math.round(pos.acc * 10) / 10},
                files: Array.prototype.slice.call(photos.files)};
      };
    },
    dispute: function (form) {
      var reason = reasonInput(form, t("tasks.reason"), true);
      return function () { return {fields: {comment: reason.value}}; };
    },
    extend_request: function (form) {
      var day = field(form, t("tasks.new_due"), el("input", {type: "date", name: "due_at", required: ""}));
      var reason = reasonInput(form, t("tasks.reason"), true);
      return function () { return {fields: {due_at: day.value, comment: reason.value}}; };
    },
    verify_fail: function (form) {
      var reason = reasonInput(form, t("tasks.reason"), true);
      var photos = photosInput(form, t("tasks.photos_optional"));
      return function () {
        var f = {comment: reason.value};
        if (here) { f.lon = here.lon; f.lat = here.lat; f.accuracy_m = Math.round(here.acc * 10) / 10; }
        return {fields: f, files: Array.prototype.slice.call(photos.files)};
      };
    }
  };

  function open(card, action) {
    var holder = card.querySelector(".cw-step-form");
    holder.textContent = "";
    say(card, "");
    if (!FORMS[action]) { post(card, action, {}); return; }
    var form = el("form", {"class": "cw-step", "data-action": action, "data-case": card.dataset.id, novalidate: ""});
    form.appendChild(el("h3", {}, t("tasks.action." + action)));
    var read = FORMS[action](form, card);
    var row = el("div", {"class": "cw-step-buttons"});
    var send = el("button", {type: "submit", "class": "cw-send"}, t("tasks.send"));
    var cancel = el("button", {type: "button", "class": "cw-cancel"}, t("tasks.cancel"));
    row.appendChild(send);
    row.appendChild(cancel);
    form.appendChild(row);
    cancel.addEventListener("click", function () { holder.hidden = true; holder.textContent = ""; say(card, ""); });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var sent = read();
      post(card, action, sent.fields, sent.files);
    });
    holder.appendChild(form);
    holder.hidden = false;
    var first = form.querySelector("input, textarea");
    if (first && first.type !== "file") { first.focus(); }
  }

  cards.forEach(function (card) {
    card.querySelectorAll(".cw-act").forEach(function (b) {
      b.addEventListener("click", function () { open(card, b.dataset.action); });
    });
  });
})();
