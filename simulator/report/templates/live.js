// The live page: ask ftsim every second whether anything was stored (a cheap marker), and only then
// fetch the re-rendered sections. No framework, no build step; the server renders all the HTML.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var main = document.getElementById("sections");
  var status = document.getElementById("live-status");
  var marker = main.getAttribute("data-marker");
  var pause = 1000;
  var busy = false;
  var pending = false;
  var newest = highestId();

  function highestId() {
    var top = 0;
    main.querySelectorAll("table.newest tr[data-id]").forEach(function (row) {
      top = Math.max(top, Number(row.getAttribute("data-id")));
    });
    return top;
  }

  function filters() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value) { params.set(key, value); } });
    return params.toString();
  }

  function show(ok, words) {
    status.className = "live " + (ok ? "ok" : "down");
    status.textContent = words;
  }

  function keepOpenState(apply) {
    var open = {};
    main.querySelectorAll("details[data-key]").forEach(function (d) { open[d.getAttribute("data-key")] = d.open; });
    apply();
    main.querySelectorAll("details[data-key]").forEach(function (d) {
      var key = d.getAttribute("data-key");
      if (Object.prototype.hasOwnProperty.call(open, key)) { d.open = open[key]; }
    });
  }

  function refreshChoices() {
    var source = main.querySelector("template#choices");
    if (!source) { return; }
    form.querySelectorAll("select[data-choices]").forEach(function (select) {
      var wanted = JSON.parse(source.getAttribute("data-" + select.getAttribute("data-choices")));
      var have = Array.prototype.map.call(select.options, function (o) { return o.value; }).slice(1);
      wanted.forEach(function (name) {
        if (have.indexOf(name) < 0) { select.add(new Option(name, name)); }
      });
    });
  }

  function markArrivals() {
    var top = newest;
    main.querySelectorAll("table.newest tr[data-id]").forEach(function (row) {
      var id = Number(row.getAttribute("data-id"));
      if (id > newest) { row.classList.add("new"); }
      top = Math.max(top, id);
    });
    newest = top;
  }

  function refresh() {
    if (busy) { pending = true; return Promise.resolve(); }
    busy = true;
    var started = performance.now();
    return fetch("live/sections?" + filters(), { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        marker = r.headers.get("X-Ftsim-Marker") || marker;
        return r.text();
      })
      .then(function (html) {
        keepOpenState(function () { main.innerHTML = html; });
        refreshChoices();
        markArrivals();
        pause = Math.max(1000, 3 * (performance.now() - started));
        show(true, "live \u00b7 updated " + new Date().toLocaleTimeString());
      })
      .catch(function (e) { show(false, "cannot reach ftsim (" + e.message + "), retrying"); })
      .then(function () {
        busy = false;
        if (pending) { pending = false; return refresh(); }
      });
  }

  function poll() {
    fetch("live/pulse", { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (pulse) {
        if (pulse.marker !== marker) { return refresh(); }
        if (status.className !== "live ok") { show(true, "live"); }
      })
      .catch(function (e) { show(false, "cannot reach ftsim (" + e.message + "), retrying"); })
      .then(function () { setTimeout(poll, pause); });
  }

  function filtersChanged() {
    var query = filters();
    history.replaceState(null, "", query ? "?" + query : location.pathname);
    refresh();
  }

  form.addEventListener("change", filtersChanged);
  form.addEventListener("submit", function (e) { e.preventDefault(); filtersChanged(); });
  form.addEventListener("reset", function () { setTimeout(filtersChanged, 0); });
  setTimeout(poll, pause);
}());
