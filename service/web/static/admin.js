/* The admin's pages: the city's checklist with file imports (checked first, then
 * imported) and the zone check; the city's users and their tokens.
 * Every text from the server is set as text (textContent), never as HTML. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("admin-config").textContent);
  var t = window.cwText("admin-msg");


  // an element with attributes and children (strings become text nodes)
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    [].concat(children === undefined ? [] : children).forEach(function (c) {
      if (c === null || c === undefined) { return; }
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    });
    return node;
  }

  var say = window.cwSay;

  // a request with the page's CSRF token on anything that changes state; the answer as
  // {ok, status, data} with the JSON body (or null)
  // the page's language, for the server's messages (a problem's ``message``)
  var lang = (document.querySelector("main[lang]") || document.documentElement).lang || "zh";

  function send(method, url, body) {
    var headers = {Accept: "application/json, application/geo+json, application/problem+json",
                   "Accept-Language": lang};
    if (method !== "GET") { headers["X-CSRFToken"] = cfg.csrf; }
    var init = {method: method, credentials: "same-origin", headers: headers};
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (r) {
      return r.text().then(function (raw) {
        var data = null;
        try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
        return {ok: r.ok, status: r.status, data: data};
      });
    }, function () {
      return {ok: false, status: 0, data: {detail: t("admin.offline")}};
    });
  }

  // what a problem says, in the page's language when the server said it so (``message``)
  function said(data, fallback) {
    return (data && (data.message || data.detail)) || (fallback === undefined ? "" : String(fallback));
  }

  // a problem's errors as lines: "row N: field: reason" (rows for file imports)
  function errorLines(data) {
    return ((data && data.errors) || []).map(function (e) {
      var where = e.row !== undefined && e.row !== null ? t("admin.import.row", {n: e.row}) + ": " : "";
      // a file's columns are named as in the file, not as the feature's properties
      return where + String(e.field).replace(/^properties\./, "") + ": " + (e.message || e.reason);
    });
  }

  function problemBox(data, fallback) {
    var box = el("div", {className: "cw-problem", role: "alert"},
                 [el("p", {className: "cw-note cw-bad"}, said(data, fallback))]);
    var lines = errorLines(data);
    if (lines.length) {
      box.appendChild(el("ul", {className: "cw-errors"}, lines.map(function (l) { return el("li", {}, l); })));
    }
    return box;
  }

  // ---- the city page ---------------------------------------------------------------

  function refreshChecklist() {
    return send("GET", cfg.checklist).then(function (res) {
      if (!res.ok) { return; }
      res.data.items.forEach(function (item) {
        var row = document.querySelector("#checklist tr[data-item='" + CSS.escape(item.key) + "']");
        if (!row) { return; }
        row.querySelector(".cw-count").textContent = String(item.count);
        row.querySelector(".cw-mark").textContent = item.missing ? t("admin.city.missing") : t("admin.city.present");
        row.classList.toggle("cw-missing", item.missing);
      });
    });
  }

  function reportBox(report, imported) {
    var box = el("div", {className: imported ? "cw-report-ok" : "cw-report-dry"}, [
      el("p", {className: "cw-note cw-good"},
         imported ? t("admin.import.done", {n: report.inserted, rows: report.rows})
                  : t("admin.import.checked", {rows: report.rows}))
    ]);
    if ((report.notes || []).length) {
      box.appendChild(el("ul", {className: "cw-notes"}, report.notes.map(function (n) { return el("li", {}, n); })));
    }
    return box;
  }

  function setUpImport(form) {
    var file = form.querySelector("input[type=file]");
    var check = form.querySelector(".cw-dry-run");
    var go = form.querySelector(".cw-import-go");
    var out = form.querySelector(".cw-report-box");

    function upload(dryRun) {
      if (!file.files.length) {
        out.textContent = "";
        out.appendChild(el("p", {className: "cw-note cw-bad"}, t("admin.import.no_file")));
        return;
      }
      var body = new FormData();
      body.append("file", file.files[0]);
      body.append("dry_run", dryRun ? "true" : "false");
      check.disabled = go.disabled = true;
      out.textContent = "";
      out.appendChild(el("p", {className: "cw-note"}, dryRun ? t("admin.import.checking") : t("admin.import.importing")));
      send("POST", form.dataset.url, body).then(function (res) {
        out.textContent = "";
        check.disabled = false;
        if (!res.ok) {
          out.appendChild(problemBox(res.data, t("admin.import.failed", {status: res.status})));
          return;
        }
        out.appendChild(reportBox(res.data, !dryRun));
        if (dryRun) {
          go.disabled = false;  // checked: the same file may now be imported
        } else {
          file.value = "";
          refreshChecklist();
        }
      });
    }
    check.addEventListener("click", function () { upload(true); });
    go.addEventListener("click", function () { upload(false); });
    file.addEventListener("change", function () { go.disabled = true; out.textContent = ""; });
  }

  function setUpZoneCheck() {
    var button = document.getElementById("zone-check-run");
    var status = document.getElementById("zone-check-status");
    var table = document.getElementById("zone-check-result");
    button.addEventListener("click", function () {
      button.disabled = true;
      table.hidden = true;
      say(status, t("admin.zone_check.running"));
      send("GET", cfg.zoneCheck).then(function (res) {
        button.disabled = false;
        if (!res.ok) { say(status, said(res.data, res.status), "cw-bad"); return; }
        var summary = res.data.summary || {};
        var total = 0;
        table.querySelectorAll("tr[data-problem]").forEach(function (row) {
          var n = summary[row.dataset.problem] || 0;
          total += n;
          row.querySelector(".cw-count").textContent = String(n);
          row.classList.toggle("cw-missing", n > 0);
        });
        table.hidden = false;
        say(status, total ? t("admin.zone_check.found", {n: total}) : t("admin.zone_check.clean"),
            total ? "cw-bad" : "cw-good");
      });
    });
  }

  // ---- the users page --------------------------------------------------------------

  var selected = null;  // the user whose details are open

  function roleLabel(role) { return t("admin.role." + role); }

  function loadUsers() {
    return send("GET", cfg.users).then(function (res) {
      var body = document.querySelector("#users tbody");
      body.textContent = "";
      if (!res.ok) { body.appendChild(el("tr", {}, el("td", {colspan: "7"}, said(res.data)))); return []; }
      res.data.users.forEach(function (u) {
        var manage = el("button", {type: "button", className: "cw-manage"}, t("admin.users.manage"));
        manage.addEventListener("click", function () { openUser(u, true); });
        body.appendChild(el("tr", {"data-user": u.name, className: u.active ? "" : "cw-disabled"}, [
          el("td", {}, manage),
          el("td", {}, u.name),
          el("td", {}, u.display_name || ""),
          el("td", {}, roleLabel(u.role)),
          el("td", {}, u.unit || ""),
          el("td", {className: "cw-active"}, u.active ? t("admin.users.active") : t("admin.users.disabled")),
          el("td", {}, String(u.tokens))
        ]));
      });
      if (selected) {
        var again = res.data.users.filter(function (u) { return u.id === selected.id; })[0];
        if (again) { openUser(again, false); }
      }
      return res.data.users;
    });
  }

  function userUrl(user, rest) { return cfg.users + "/" + user.id + (rest || ""); }

  // the details of a user; ``fresh``: just chosen (what was said of another is cleared)
  function openUser(user, fresh) {
    selected = user;
    var panel = document.getElementById("user-detail");
    panel.hidden = false;
    document.getElementById("user-detail-name").textContent =
      user.name + (user.display_name ? "（" + user.display_name + "）" : "") + " · " + roleLabel(user.role);
    var toggle = document.getElementById("user-toggle");
    toggle.textContent = user.active ? t("admin.users.disable") : t("admin.users.enable");
    toggle.disabled = user.id === cfg.me;
    if (fresh) {
      say(document.getElementById("user-status"), "");
      document.getElementById("new-token").hidden = true;
      panel.scrollIntoView({block: "nearest"});
    }
    loadTokens(user);
  }

  function loadTokens(user) {
    var list = document.getElementById("tokens");
    send("GET", userUrl(user, "/tokens")).then(function (res) {
      list.textContent = "";
      if (!res.ok) { return; }
      if (!res.data.tokens.length) { list.appendChild(el("li", {}, t("admin.tokens.none"))); }
      res.data.tokens.forEach(function (tok) {
        var item = el("li", {"data-token": String(tok.id)}, [
          "#" + tok.id + " " + (tok.label || "") + " · " + t("admin.tokens.created", {at: tok.created_at.slice(0, 16).replace("T", " ")}) + " "
        ]);
        if (tok.revoked_at) {
          item.appendChild(el("span", {className: "cw-meta"}, t("admin.tokens.revoked")));
        } else {
          var revoke = el("button", {type: "button", className: "cw-revoke"}, t("admin.tokens.revoke"));
          revoke.addEventListener("click", function () {
            send("DELETE", userUrl(user, "/tokens/" + tok.id)).then(function (r) {
              say(document.getElementById("user-status"),
                  r.ok ? t("admin.tokens.revoked_done", {id: tok.id}) : said(r.data, r.status),
                  r.ok ? "cw-good" : "cw-bad");
              loadUsers();
            });
          });
          item.appendChild(revoke);
        }
        list.appendChild(item);
      });
    });
  }

  function setUpUsers() {
    var form = document.getElementById("new-user");
    var status = document.getElementById("new-user-status");
    var errors = document.getElementById("new-user-errors");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = {name: form.elements.name.value.trim(), role: form.elements.role.value};
      ["password", "unit", "display_name"].forEach(function (k) {
        var v = form.elements[k].value.trim();
        if (v) { body[k] = v; }
      });
      errors.textContent = "";
      send("POST", cfg.users, body).then(function (res) {
        if (!res.ok) {
          say(status, said(res.data, res.status), "cw-bad");
          errorLines(res.data).forEach(function (l) { errors.appendChild(el("li", {}, l)); });
          return;
        }
        say(status, t("admin.users.created", {name: res.data.name}), "cw-good");
        form.reset();
        loadUsers().then(function (all) {
          var made = all.filter(function (u) { return u.id === res.data.id; })[0];
          if (made) { openUser(made, true); }
        });
      });
    });
    // a unit's user needs its unit; the others may have none
    form.elements.role.addEventListener("change", function () {
      form.elements.unit.required = form.elements.role.value === "unit";
    });

    var status2 = document.getElementById("user-status");
    function done(res, good) {
      say(status2, res.ok ? good : said(res.data, res.status), res.ok ? "cw-good" : "cw-bad");
      if (res.ok) { loadUsers(); }
    }
    document.getElementById("user-toggle").addEventListener("click", function () {
      var user = selected;
      var path = user.active ? "/disable" : "/enable";
      send("POST", userUrl(user, path)).then(function (res) {
        done(res, user.active ? t("admin.users.disabled_done", {name: user.name}) : t("admin.users.enabled_done", {name: user.name}));
      });
    });
    document.getElementById("reset-password").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = ev.target.elements.password;
      send("PUT", userUrl(selected, "/password"), {password: input.value}).then(function (res) {
        if (res.ok) { input.value = ""; }
        done(res, t("admin.users.password_done", {name: selected.name}));
        errorLines(res.data).forEach(function (l) { status2.appendChild(el("span", {}, " " + l)); });
      });
    });
    document.getElementById("issue-token").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var label = ev.target.elements.label.value.trim();
      send("POST", userUrl(selected, "/tokens"), label ? {label: label} : {}).then(function (res) {
        var shown = document.getElementById("new-token");
        if (!res.ok) { done(res, ""); return; }
        ev.target.reset();
        document.getElementById("new-token-value").textContent = res.data.token;
        shown.hidden = false;
        loadUsers();
      });
    });
    loadUsers();
  }

  if (document.getElementById("checklist")) {
    document.querySelectorAll("form.cw-import").forEach(setUpImport);
    setUpZoneCheck();
  }
  if (document.getElementById("users")) { setUpUsers(); }
}());
