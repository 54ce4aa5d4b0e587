/* The weekly ranking page: the group's table, red and black lists, the yellow flag and its
 * path; a leader publishes a draft. Every text from the server is set as text. */
(function () {
  "use strict";
  var root = document.getElementById("cw-ranking");
  var urls = JSON.parse(root.dataset.urls);
  var t = window.cwText("ranking-msg");
  var form = document.getElementById("ranking-pick");
  var status = document.getElementById("ranking-status");
  var flag = document.getElementById("ranking-flag");
  var body = document.querySelector("#ranking-table tbody");
  var flags = document.getElementById("ranking-flags");
  var publish = document.getElementById("ranking-publish");

  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    tr.appendChild(td);
    return td;
  }
  function pct(n, d) { return d ? Math.round(100 * n / d) + "%" : "—"; }
  function ask(method, url, json) {
    var init = {method: method, credentials: "same-origin",
                headers: {Accept: "application/json", "Accept-Language": root.dataset.lang,
                          "X-CSRFToken": root.dataset.csrf}};
    if (json) { init.body = JSON.stringify(json); init.headers["Content-Type"] = "application/json"; }
    return fetch(url, init).then(function (r) {
      return r.json().then(function (d) { return {ok: r.ok, data: d}; });
    });
  }
  function said(p) { return p.message || p.detail || p.title; }

  function show(r) {
    body.textContent = "";
    r.rows.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.dataset.code = row.code;
      if (row.list) { tr.className = "cw-" + row.list; }
      cell(tr, row.rank);
      cell(tr, row.name);
      cell(tr, row.score.toFixed(2));
      cell(tr, row.received);
      cell(tr, pct(row.closed_on_time, row.received));
      cell(tr, row.overdue_now);
      cell(tr, row.disputes);
      cell(tr, row.list ? t("ranking.list." + row.list) : "").className = "cw-list-mark";
      if (row.worst) { tr.classList.add("cw-flag"); }
      body.appendChild(tr);
    });
    var state = r.status === "published"
      ? t("ranking.published", {at: (r.published_at || "").slice(0, 16).replace("T", " "),
                                by: r.published_by || "—"})
      : t("ranking.draft");
    status.textContent = r.week + " (" + r.from + " – " + r.to + ") · " + state;
    if (r.flag) {
      flag.textContent = t(r.status === "published" ? "ranking.flag_holder" : "ranking.flag_would",
                           {name: r.flag.name, weeks: r.flag.weeks || 0}) +
        (r.flag.talk ? " · " + t("ranking.talk") : "");
      flag.hidden = false;
    } else { flag.hidden = true; }
    if (publish) { publish.hidden = r.status === "published"; publish.dataset.week = r.week; }
  }
  function showFlags(group) {
    ask("GET", urls.flags + "?group=" + encodeURIComponent(group)).then(function (r) {
      flags.textContent = "";
      if (!r.ok) { return; }
      r.data.weeks.forEach(function (w) {
        var li = document.createElement("li");
        li.textContent = w.week + " · " + w.name + " · " + t("ranking.weeks", {n: w.weeks}) +
          (w.talk ? " · " + t("ranking.talk") : "");
        if (w.talk) { li.className = "cw-talk"; }
        flags.appendChild(li);
      });
    });
  }
  function load() {
    var week = form.elements.week.value.trim(), group = form.elements.group.value;
    status.textContent = t("ranking.loading");
    ask("GET", urls.ranking + "?week=" + encodeURIComponent(week) + "&group=" +
        encodeURIComponent(group)).then(function (r) {
      if (!r.ok) { status.textContent = said(r.data); body.textContent = ""; return; }
      show(r.data);
    });
    showFlags(group);
  }
  form.addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  if (publish) {
    publish.addEventListener("click", function () {
      publish.disabled = true;
      ask("POST", urls.publish.replace("WEEK", encodeURIComponent(publish.dataset.week)),
          {group: form.elements.group.value}).then(function (r) {
        publish.disabled = false;
        if (!r.ok) { status.textContent = said(r.data); return; }
        show(r.data);
        showFlags(form.elements.group.value);
      });
    });
  }
  load();
})();
