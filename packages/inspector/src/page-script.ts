/**
 * The inspector's script: plain browser JavaScript (no build step, no framework), hash routes
 * `#/`, `#/actors`, `#/actor/<type>/<id>`, `#/projections`, all data from `/api/...`.
 * Written without template literals so it can live in a TypeScript string.
 */
export const PAGE_SCRIPT = String.raw`
"use strict";
var view = document.getElementById("view");
var features = {};
var lastCalls = {};
var refreshTimer = null;

function el(tag, attrs, children) {
  var node = document.createElement(tag);
  attrs = attrs || {};
  for (var key in attrs) {
    if (key === "text") node.textContent = attrs[key];
    else if (key === "onclick" || key === "oninput" || key === "onsubmit" || key === "onchange") node[key] = attrs[key];
    else node.setAttribute(key, attrs[key]);
  }
  (children || []).forEach(function (child) { if (child != null) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child); });
  return node;
}
function api(path, options) {
  return fetch("/api" + path, options).then(function (response) {
    return response.json().then(function (body) {
      if (!response.ok) throw new Error(body && body.error ? body.error : response.statusText);
      return body;
    });
  });
}
function qs(params) {
  var parts = [];
  for (var key in params) if (params[key] !== undefined && params[key] !== "") parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(params[key]));
  return parts.length ? "?" + parts.join("&") : "";
}
function json(value) { return JSON.stringify(value, null, 2); }
function badge(text) { return el("span", { class: "badge " + text, text: text }); }
function bytes(n) { return (n / 1048576).toFixed(1) + " MiB"; }
function duration(ms) { var s = Math.floor(ms / 1000); return s < 120 ? s + " s" : Math.floor(s / 60) + " min"; }
function showError(error) { view.appendChild(el("p", { class: "error", text: String(error.message || error) })); }
function setNav(name) {
  document.querySelectorAll("header nav a").forEach(function (a) { a.classList.toggle("active", a.dataset.nav === name); });
}

/** Admission control at a glance: "overloaded" while the silo sheds (or is about to), else in-flight calls. */
function loadBadge(load) {
  if (!load) return el("span", { class: "muted", text: "—" });
  var detail = load.callsInFlight + "/" + load.maxCallsInFlight + " in flight, " + load.shedTotal + " shed" +
    (load.eventLoopLagging ? ", event loop lagging" : "") + (load.activationsWaiting ? ", " + load.activationsWaiting + " activations waiting" : "");
  return el("span", { class: load.overloaded ? "badge overloaded" : "badge ok", title: detail, "data-overloaded": String(load.overloaded),
    text: load.overloaded ? "overloaded (" + load.shedTotal + " shed)" : load.callsInFlight + " in flight" });
}

function clusterPage() {
  setNav("cluster");
  view.replaceChildren(el("h2", { text: "Silos" }), el("div", { id: "silos" }, [el("p", { class: "muted", text: "loading…" })]));
  function load() {
    api("/silos").then(function (reports) {
      var rows = reports.map(function (report) {
        if (report.error) return el("tr", {}, [el("td", { text: report.address }), el("td", { colspan: "8", class: "error", text: report.error })]);
        var info = report.info;
        var previous = lastCalls[info.siloId];
        var now = Date.now();
        var rate = previous ? Math.max(0, (info.callsTotal - previous.calls) / ((now - previous.at) / 1000)) : null;
        lastCalls[info.siloId] = { calls: info.callsTotal, at: now };
        var byType = Object.keys(info.activationsByType).map(function (t) { return t + ": " + info.activationsByType[t]; }).join(", ");
        return el("tr", { "data-silo": info.siloId }, [
          el("td", { text: info.siloId }), el("td", { text: info.address || "in-process" }), el("td", {}, [badge(info.status)]),
          el("td", { class: "num activations", text: String(info.activations) }), el("td", { text: byType || "—" }),
          el("td", { class: "num", text: rate === null ? "…" : rate.toFixed(0) }), el("td", { class: "load" }, [loadBadge(info.load)]),
          el("td", { class: "num", text: bytes(info.memory.rssBytes) }),
          el("td", { class: "num", text: duration(info.uptimeMs) })
        ]);
      });
      var head = el("tr", {}, ["silo", "address", "status", "activations", "by type", "calls/s", "load", "RSS", "up"].map(function (h, i) {
        return el("th", { class: i === 3 || i === 5 || i >= 7 ? "num" : "", text: h });
      }));
      var target = document.getElementById("silos");
      if (target) target.replaceChildren(el("table", {}, [el("thead", {}, [head]), el("tbody", {}, rows)]));
    }).catch(showError);
  }
  load();
  refreshTimer = setInterval(load, 2000);
}

function actorsPage(params) {
  setNav("actors");
  var type = el("input", { name: "type", placeholder: "actor type", value: params.get("type") || "" });
  var query = el("input", { name: "q", placeholder: "id contains", value: params.get("q") || "" });
  var open = el("input", { name: "open", placeholder: "open Type/id" });
  var form = el("form", { class: "search", onsubmit: function (event) {
    event.preventDefault();
    if (open.value.indexOf("/") > 0) { location.hash = "#/actor/" + open.value; return; }
    location.hash = "#/actors" + qs({ type: type.value, q: query.value });
  } }, [type, query, el("button", { text: "Search" }), open]);
  var results = el("div", { id: "activations" });
  view.replaceChildren(el("h2", { text: "Active actors" }), form, results);
  api("/activations" + qs({ type: params.get("type") || "", q: params.get("q") || "" })).then(function (list) {
    if (list.length === 0) { results.replaceChildren(el("p", { class: "muted", text: "No active actor matches. Open any actor, active or not, by Type/id." })); return; }
    var rows = list.map(function (a) {
      return el("tr", {}, [
        el("td", {}, [el("a", { href: "#/actor/" + encodeURIComponent(a.type) + "/" + encodeURIComponent(a.id), text: a.type + "/" + a.id })]),
        el("td", { text: a.siloId }), el("td", {}, [badge(a.state)]), el("td", { class: "num", text: a.version === undefined ? "—" : String(a.version) }),
        el("td", { class: "num", text: a.epoch === undefined ? "—" : String(a.epoch) }), el("td", { class: "num", text: String(a.mailboxDepth) })
      ]);
    });
    var head = el("tr", {}, ["actor", "silo", "state", "version", "epoch", "mailbox"].map(function (h, i) { return el("th", { class: i >= 3 ? "num" : "", text: h }); }));
    results.replaceChildren(el("table", {}, [el("thead", {}, [head]), el("tbody", {}, rows)]));
  }).catch(showError);
}

function flatten(value, path, out) {
  if (value !== null && typeof value === "object") {
    var keys = Object.keys(value);
    if (keys.length === 0) out[path || "(root)"] = Array.isArray(value) ? "[]" : "{}";
    keys.forEach(function (key) { flatten(value[key], path ? path + (Array.isArray(value) ? "[" + key + "]" : "." + key) : key, out); });
  } else out[path || "(root)"] = JSON.stringify(value);
  return out;
}
function diffLines(before, after) {
  var a = flatten(before, "", {}), b = flatten(after, "", {}), lines = [];
  var keys = Object.keys(Object.assign({}, a, b)).sort();
  keys.forEach(function (key) {
    if (a[key] === b[key]) return;
    if (key in a) lines.push(el("div", { class: "del", text: "- " + key + ": " + a[key] }));
    if (key in b) lines.push(el("div", { class: "add", text: "+ " + key + ": " + b[key] }));
  });
  if (lines.length === 0) lines.push(el("div", { class: "muted", text: "no change to the state" }));
  return lines;
}

function actorPage(type, id) {
  setNav("actors");
  var summary = el("div", { class: "card", id: "summary" }, [el("p", { class: "muted", text: "loading…" })]);
  var timeline = el("div", { id: "timeline-panel" });
  var reminders = el("div", { id: "reminders" });
  var danger = el("div", { id: "danger" });
  view.replaceChildren(el("h2", { id: "actor-title", text: type + "/" + id }), summary, timeline, reminders, danger);
  api("/actor" + qs({ type: type, id: id })).then(function (a) {
    if (!a) { summary.replaceChildren(el("p", { class: "muted", text: "Not active on any silo right now (its history is below)." })); return; }
    summary.replaceChildren(el("dl", { class: "kv" }, [
      el("dt", { text: "silo" }), el("dd", { id: "owner", text: a.siloId }),
      el("dt", { text: "activation" }), el("dd", {}, [badge(a.state)]),
      el("dt", { text: "epoch" }), el("dd", { text: a.epoch === undefined ? "—" : String(a.epoch) }),
      el("dt", { text: "version" }), el("dd", { id: "live-version", text: a.version === undefined ? "—" : String(a.version) }),
      el("dt", { text: "state" }), el("dd", {}, [el("pre", { id: "live-state", text: a.actorState === undefined ? "—" : json(a.actorState) })])
    ]));
  }).catch(function (e) { summary.replaceChildren(el("p", { class: "error", text: e.message })); });
  if (features.history) loadTimeline(type, id, timeline);
  else timeline.replaceChildren(el("p", { class: "muted", text: "This source offers no event history." }));
  if (features.reminders) api("/reminders" + qs({ type: type, id: id })).then(function (list) {
    reminders.replaceChildren(el("h2", { text: "Reminders" }), list.length ? el("pre", { text: json(list) }) : el("p", { class: "muted", text: "none" }));
  }).catch(showError);
  if (features.purge) danger.replaceChildren(el("h2", { text: "Forget" }), el("button", { class: "danger", id: "purge", text: "Purge this actor…", onclick: function () { purge(type, id); } }));
}

function loadTimeline(type, id, panel) {
  api("/history" + qs({ type: type, id: id, limit: 1000 })).then(function (page) {
    var events = Array.isArray(page) ? page : page.events;
    if (!events || events.length === 0) { panel.replaceChildren(el("h2", { text: "Events" }), el("p", { class: "muted", text: "No events recorded." })); return; }
    var slider = el("input", { id: "timeline", type: "range", min: "1", max: String(events.length), value: String(events.length) });
    var label = el("span", { id: "timeline-label" });
    var card = el("div", { class: "card", id: "event-card" });
    var stateBox = el("pre", { id: "state-at" });
    var diffBox = el("div", { class: "diff card", id: "diff" });
    var rows = events.map(function (event, index) {
      var m = event.metadata || {};
      return el("tr", { class: "clickable", "data-version": String(event.version), onclick: function () { slider.value = String(index + 1); select(); } }, [
        el("td", { class: "num", text: String(event.version) }), el("td", { text: event.type }), el("td", { text: event.timestamp }),
        el("td", { text: m.userId || "—" }), el("td", { text: m.method || "—" }), el("td", { text: m.reason || (m.metadata && m.metadata.reason) || "" })
      ]);
    });
    var head = el("tr", {}, ["v", "event", "time", "user", "method", "reason"].map(function (h, i) { return el("th", { class: i === 0 ? "num" : "", text: h }); }));
    var table = el("table", { id: "events" }, [el("thead", {}, [head]), el("tbody", {}, rows)]);
    var requestId = 0;
    function select() {
      var index = Number(slider.value) - 1;
      var event = events[index];
      label.textContent = "version " + event.version + " of " + events[events.length - 1].version;
      rows.forEach(function (row, i) { row.classList.toggle("selected", i === index); });
      card.replaceChildren(el("dl", { class: "kv" }, [
        el("dt", { text: "event" }), el("dd", { id: "event-type", text: event.type + " (v" + event.version + ")" }),
        el("dt", { text: "at" }), el("dd", { text: event.timestamp }),
        el("dt", { text: "data" }), el("dd", {}, [el("pre", { text: json(event.data) })]),
        el("dt", { text: "metadata" }), el("dd", {}, [el("pre", { text: json(event.metadata) })])
      ]));
      if (!features.stateAt) { stateBox.textContent = "This source offers no time travel."; return; }
      var mine = ++requestId;
      stateBox.textContent = "rebuilding…";
      Promise.all([
        event.version > 1 ? api("/state" + qs({ type: type, id: id, version: event.version - 1 })) : Promise.resolve({ state: null }),
        api("/state" + qs({ type: type, id: id, version: event.version }))
      ]).then(function (both) {
        if (mine !== requestId) return;
        stateBox.textContent = json(both[1].state);
        stateBox.dataset.version = String(both[1].version);
        diffBox.replaceChildren.apply(diffBox, diffLines(both[0].state, both[1].state));
      }).catch(function (e) { if (mine === requestId) stateBox.textContent = "error: " + e.message; });
    }
    slider.oninput = select;
    panel.replaceChildren(
      el("h2", { text: "Event timeline" }), el("div", {}, [slider, label]),
      el("div", { class: "grid" }, [card, el("div", {}, [el("h2", { text: "State at this version" }), stateBox, el("h2", { text: "Change made by this event" }), diffBox])]),
      el("h2", { text: "Events" }), table
    );
    select();
  }).catch(function (e) { panel.replaceChildren(el("p", { class: "error", text: e.message })); });
}

function purge(type, id) {
  var reason = prompt("Why is " + type + "/" + id + " purged? (recorded in the tombstone)");
  if (!reason) return;
  var requestedBy = prompt("Who requests it?");
  if (!requestedBy) return;
  var key = prompt("Cluster key (purge cannot be undone)");
  if (!key || !confirm("Purge " + type + "/" + id + " for good?")) return;
  api("/purge", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: type, id: id, reason: reason, requestedBy: requestedBy, key: key }) })
    .then(function () { alert("Purged."); route(); }).catch(function (e) { alert("Purge refused: " + e.message); });
}

function projectionsPage() {
  setNav("projections");
  view.replaceChildren(el("h2", { text: "Projections" }), el("div", { id: "projections" }));
  api("/projections").then(function (list) {
    var target = document.getElementById("projections");
    if (!list.length) { target.replaceChildren(el("p", { class: "muted", text: "No projections registered." })); return; }
    var keys = Object.keys(list[0]);
    var head = el("tr", {}, keys.map(function (k) { return el("th", { text: k }); }));
    var rows = list.map(function (p) { return el("tr", {}, keys.map(function (k) { var v = p[k]; return el("td", { text: typeof v === "object" ? JSON.stringify(v) : String(v) }); })); });
    target.replaceChildren(el("table", {}, [el("thead", {}, [head]), el("tbody", {}, rows)]));
  }).catch(showError);
}

function route() {
  if (refreshTimer) { clearInterval(refreshTimer); refreshTimer = null; }
  var hash = location.hash.replace(/^#/, "") || "/";
  var parts = hash.split("?");
  var params = new URLSearchParams(parts[1] || "");
  var segments = parts[0].split("/").filter(Boolean).map(decodeURIComponent);
  if (segments[0] === "actor" && segments.length >= 3) actorPage(segments[1], segments.slice(2).join("/"));
  else if (segments[0] === "actors") actorsPage(params);
  else if (segments[0] === "projections") projectionsPage();
  else clusterPage();
}

api("/features").then(function (f) { features = f; }).catch(function () {}).then(function () {
  window.addEventListener("hashchange", route);
  route();
});
`;
