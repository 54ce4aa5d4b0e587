/* The pages' text helpers, one copy for every page that loads it before its own script:
 * cwText(id) reads the page's messages (a JSON script element) and gives t(key, values),
 * the message with its {names} filled in (t.known(key): the message or undefined); cwSay(box, text, kind) shows a note as text;
 * cwSend(form, data) posts a phone form's data where the form says (data-action, data-csrf,
 * data-lang) and resolves to {ok, data: the answer's JSON}. */
(function () {
  "use strict";
  window.cwText = function (id) {
    var msg = JSON.parse(document.getElementById(id).textContent);
    function t(key, values) {
      var s = msg[key] || key;
      Object.keys(values || {}).forEach(function (k) {
        s = s.split("{" + k + "}").join(String(values[k]));
      });
      return s;
    }
    t.known = function (key) { return msg[key]; };  // undefined when the page has none
    return t;
  };
  window.cwSend = function (form, data) {
    return fetch(form.dataset.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-CSRFToken": form.dataset.csrf, Accept: "application/json",
                "Accept-Language": form.dataset.lang}
    }).then(function (r) { return r.json().then(function (d) { return {ok: r.ok, data: d}; }); });
  };
  window.cwSay = function (box, text, kind) {
    box.textContent = text;
    box.className = "cw-note " + (kind || "");
    box.hidden = !text;
  };
})();
