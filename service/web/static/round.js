/* The inspection round's page (maps/route.py): the first view fits every stop into the part
   of the map no list or control covers; the list folds away and back; "arrived" checks in
   through the API and the head moves on to the next stop; a day/night switch, remembered on
   the device (the system's choice until the user makes one); on paper the map is fitted
   to every stop at A4 size. Only DOM text and properties are set: no user text as HTML. */
(function () {
    "use strict";
    var THEME_KEY = "chuangwen.round.theme";
    var root = document.documentElement;
    var systemDark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

    function chosenTheme() {
        try { return window.localStorage.getItem(THEME_KEY); } catch (err) { return null; }
    }
    function theme() {
        return chosenTheme() || (systemDark && systemDark.matches ? "dark" : "light");
    }
    // set before the body is drawn: a night page does not flash white
    root.setAttribute("data-theme", theme());

    var IOS = /iPhone|iPad|iPod/.test(navigator.userAgent);
    // AMap has another scheme on iOS; the server gives both (data-ios)
    document.addEventListener("click", function (ev) {
        var a = ev.target.closest ? ev.target.closest("a.cw-nav-amap") : null;
        if (a && IOS && a.dataset.ios) {
            ev.preventDefault();
            window.location.href = a.dataset.ios;
        }
    });

    window.chuangwenRound = function (map, cfg) {
        var sheet = document.getElementById("cw-sheet");
        var toggle = document.getElementById("cw-sheet-toggle");
        var printMedia = window.matchMedia ? window.matchMedia("print") : null;

        function fitInto(pad) {
            if (!cfg.bounds) { return; }
            var snap = map.options.zoomSnap;
            map.options.zoomSnap = 0.25;  // a whole level can halve the view of the stops
            map.fitBounds(cfg.bounds, {paddingTopLeft: [pad.left, pad.top],
                paddingBottomRight: [pad.right, pad.bottom], maxZoom: 17, animate: false});
            map.options.zoomSnap = snap;
        }

        // the screen: the stops in the part of the map that the list and controls leave
        function fit() {
            map.invalidateSize({pan: false});
            var m = map.getContainer().getBoundingClientRect();
            var s = sheet.getBoundingClientRect();
            var edge = cfg.edge;
            var pad = {top: edge, right: edge, bottom: edge + 16, left: edge + 36};
            var overlapX = Math.min(m.right, s.right) - Math.max(m.left, s.left);
            var overlapY = Math.min(m.bottom, s.bottom) - Math.max(m.top, s.top);
            if (overlapX > 0 && overlapY > 0) {  // the list lies over the map
                if (s.top > m.top + m.height / 2) { pad.bottom += m.bottom - s.top; }
                else { pad.right += m.right - s.left; }
            }
            fitInto(pad);
        }

        // paper: the map has its A4 size (round.css, also on screen while .cw-printing)
        var printing = false;
        function printFit() {
            printing = true;
            root.classList.add("cw-printing");
            map.invalidateSize({pan: false});
            var edge = cfg.edge;
            fitInto({top: edge, right: edge, bottom: edge, left: edge});
        }
        function screenFit() {
            if (!printing) { return; }
            printing = false;
            root.classList.remove("cw-printing");
            fit();
        }
        function tilesLoaded(done) {
            var waiting = [];
            map.eachLayer(function (layer) {
                if (layer instanceof L.GridLayer && layer.isLoading && layer.isLoading()) {
                    waiting.push(layer);
                }
            });
            var left = waiting.length;
            var timer = setTimeout(done, 4000);  // a slow tile is not worth a lost print
            if (!left) { clearTimeout(timer); done(); return; }
            waiting.forEach(function (layer) {
                layer.once("load", function () {
                    left -= 1;
                    if (!left) { clearTimeout(timer); done(); }
                });
            });
        }
        window.addEventListener("beforeprint", printFit);
        window.addEventListener("afterprint", function () {
            if (!(printMedia && printMedia.matches)) { screenFit(); }
        });
        if (printMedia) {
            var onPrintMedia = function (ev) { if (ev.matches) { printFit(); } else { screenFit(); } };
            if (printMedia.addEventListener) { printMedia.addEventListener("change", onPrintMedia); }
            else { printMedia.addListener(onPrintMedia); }
        }
        document.getElementById("cw-print").addEventListener("click", function () {
            printFit();
            tilesLoaded(function () { window.print(); });
        });

        if (printMedia && printMedia.matches) { printFit(); } else { fit(); }

        toggle.addEventListener("click", function () {
            var folded = sheet.classList.toggle("cw-folded");
            toggle.setAttribute("aria-expanded", folded ? "false" : "true");
            toggle.textContent = folded ? cfg.labels.show : cfg.labels.hide;
            map.invalidateSize({pan: false});
        });

        // day and night
        var ThemeSwitch = L.Control.extend({
            options: {position: "topleft"},
            onAdd: function () {
                var b = L.DomUtil.create("button", "cw-theme-toggle leaflet-bar");
                b.type = "button";
                b.id = "cw-theme-toggle";
                L.DomEvent.disableClickPropagation(b);
                b.addEventListener("click", function () {
                    var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
                    try { window.localStorage.setItem(THEME_KEY, next); } catch (err) { /* kept for the page only */ }
                    show(next);
                });
                return b;
            }
        });
        var themeButton = new ThemeSwitch().addTo(map).getContainer();
        function show(name) {
            root.setAttribute("data-theme", name);
            var dark = name === "dark";
            themeButton.textContent = dark ? cfg.labels.day : cfg.labels.night;
            themeButton.setAttribute("aria-pressed", dark ? "true" : "false");
        }
        show(theme());
        if (systemDark) {
            var onSystem = function () { if (!chosenTheme()) { show(theme()); } };
            if (systemDark.addEventListener) { systemDark.addEventListener("change", onSystem); }
            else { systemDark.addListener(onSystem); }
        }

        // the head's "next stop": the first row not yet arrived at
        var next = document.getElementById("cw-next");
        function moveOn() {
            if (!next) { return; }
            var row = document.querySelector("#cw-sheet tr.cw-stop-row:not(.cw-arrived)");
            next.classList.toggle("cw-all-done", !row);
            if (!row) { return; }
            next.querySelector(".cw-next-stop").textContent = row.dataset.seq + ". " + row.dataset.name;
            var to = next.querySelector(".cw-nav");
            to.dataset.seq = row.dataset.seq;
            ["amap", "baidu", "geo"].forEach(function (app) {
                var from = row.querySelector("a.cw-nav-" + app);
                var link = to.querySelector("a.cw-nav-" + app);
                link.href = from.getAttribute("href");
                if (from.dataset.ios) { link.dataset.ios = from.dataset.ios; }
            });
        }

        var clock;
        try {
            clock = new Intl.DateTimeFormat("en-GB", {timeZone: cfg.tz,
                hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
        } catch (err) { clock = null; }
        document.querySelectorAll(".cw-arrive").forEach(function (b) {
            b.addEventListener("click", function () {
                b.disabled = true;
                fetch(cfg.arriveUrl.replace("{seq}", b.dataset.seq), {
                    method: "POST", credentials: "same-origin",
                    headers: {"X-CSRFToken": cfg.csrf, Accept: "application/json",
                              "Accept-Language": document.documentElement.lang || "zh"}
                }).then(function (r) { return r.json().then(function (d) {
                    if (!r.ok) { b.disabled = false; b.title = d.message || d.detail || r.status; return; }
                    var at = new Date(d.arrived_at);
                    b.textContent = cfg.done.replace("{at}", clock ?
                        clock.format(at) : d.arrived_at.slice(11, 16));
                    var row = b.closest("tr.cw-stop-row");
                    if (row) { row.classList.add("cw-arrived"); }
                    moveOn();
                }); });
            });
        });
    };
})();
