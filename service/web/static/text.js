/* The pages' text helpers, one copy for every page that loads it before its own script:
 * cwText(id) reads the page's messages (a JSON script element) and gives t(key, values),
 * the message with its {names} filled in (t.known(key): the message or undefined); cwSay(box, text, kind) shows a note as text. */
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
  window.cwSay = function (box, text, kind) {
    box.textContent = text;
    box.className = "cw-note " + (kind || "");
    box.hidden = !text;
  };
})();
