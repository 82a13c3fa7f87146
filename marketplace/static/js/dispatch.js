// The dispatch console (dispatch/console.html): the county map (Leaflet, drawn from the project's
// own GeoJSON: no tile server), and updates without a reload: state.json is polled, and an
// unchanged state costs a 304 (If-None-Match). The server renders the page; this script redraws
// the map, the summary, each vehicle's progress, load, timeline and stops, and the alerts from
// the same state document, and acknowledges or resolves alerts in place. When the set of routes
// changes (a re-plan), the vehicles are taken from a fresh copy of the page instead (their route
// actions name the new routes). Every text comes from the server, in the page's language.
(function () {
  "use strict";
  const root = document.getElementById("console");
  if (!root) return;
  const SVG = "http://www.w3.org/2000/svg";
  const english = document.documentElement.lang === "en";
  let etag = root.dataset.etag || "";
  let current = null; // the last state document applied
  let map = null;
  let routeLayer = null;
  const seconds = Math.max(1, parseInt(root.dataset.pollSeconds || "12", 10));

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      node.setAttribute(k, v === true ? "" : String(v));
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function field(scope, name) {
    return scope.querySelector('[data-field="' + name + '"]');
  }

  function setText(scope, name, text) {
    const node = field(scope, name);
    if (node && node.textContent !== String(text)) node.textContent = String(text);
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
  }

  // --- the map ------------------------------------------------------------------------------------

  function placeName(props) {
    return (english ? props.name_en : props.name_zh) || props.name_zh || props.code;
  }

  function pinIcon(cls, html, size) {
    return window.L.divIcon({className: "map-pin " + cls, html: html, iconSize: [size, size], iconAnchor: [size / 2, size / 2]});
  }

  function drawCounty(geo) {
    const L = window.L;
    const here = root.dataset.warehouse;
    const layer = L.geoJSON(geo, {
      style: (f) => ({county: {className: "geo-county"}, road: {className: "geo-road"}, lane: {className: "geo-lane"}})[f.properties.kind] || {},
      pointToLayer: (f, latlng) => {
        const p = f.properties;
        if (p.kind === "town") {
          return L.circleMarker(latlng, {radius: 4, className: "geo-town"})
            .bindTooltip(escapeHtml(placeName(p)), {permanent: true, direction: "right", className: "town-label"});
        }
        if (p.kind === "village") {
          return L.circleMarker(latlng, {radius: 2, className: "geo-village"}).bindTooltip(escapeHtml(placeName(p)));
        }
        if (p.kind === "warehouse") {
          const html = '<svg viewBox="0 0 20 20" width="20" height="20"><rect x="2" y="2" width="16" height="16" rx="3"/></svg>';
          return L.marker(latlng, {icon: pinIcon("warehouse" + (p.code === here ? " here" : ""), html, 20), zIndexOffset: 500, keyboard: false})
            .bindTooltip(escapeHtml(placeName(p)));
        }
        if (p.kind === "cooperative") {
          const html = '<svg viewBox="0 0 16 16" width="16" height="16"><path d="M8 1 15 14H1Z"/></svg>';
          return L.marker(latlng, {icon: pinIcon("cooperative", html, 16), keyboard: false}).bindTooltip(escapeHtml(placeName(p)));
        }
        return L.circleMarker(latlng, {radius: 2});
      },
    });
    layer.addTo(map);
    const county = geo.features.find((f) => f.properties.kind === "county");
    map.fitBounds(county ? L.geoJSON(county).getBounds() : layer.getBounds(), {padding: [8, 8]});
  }

  function stopPin(vehicle, stop) {
    const mark = stop.made ? "✓" : stop.n;
    const ring = stop.state === "at_risk" || stop.state === "late" ? '<circle class="ring" cx="14" cy="14" r="12.5"/>' : "";
    const flag = stop.state === "at_risk" || stop.state === "late" ? '<circle class="flag" cx="23" cy="5" r="5"/><text class="flag-text" x="23" y="8">!</text>' : "";
    const html = '<svg viewBox="0 0 28 28" width="28" height="28">' + ring +
      '<circle class="body" cx="14" cy="14" r="9.5" fill="' + escapeHtml(stop.made ? "#9aa39b" : vehicle.colour) + '"/>' +
      '<text class="num" x="14" y="18">' + escapeHtml(mark) + "</text>" + flag + "</svg>";
    return pinIcon("stop state-" + stop.state + (stop.made ? " made" : ""), html, 28);
  }

  function drawRoutes(doc) {
    const L = window.L;
    if (!map) return;
    if (routeLayer) routeLayer.remove();
    routeLayer = L.layerGroup();
    for (const v of doc.vehicles) {
      if (!v.route) continue;
      if (v.path.length > 1) {
        L.polyline(v.path, {color: v.colour, weight: 3, opacity: 0.85, className: "route-line", interactive: false}).addTo(routeLayer);
      }
      for (const s of v.stops) {
        const title = [v.plate, "#" + s.n, s.order, s.kind_label, s.state_label,
          s.made ? s.actual : (s.eta ? "ETA " + s.eta : ""), s.deadline ? "⏱ " + s.deadline : ""].filter(Boolean).join(" · ");
        L.marker([s.lat, s.lon], {icon: stopPin(v, s), zIndexOffset: s.made ? 0 : 1000, title: title, alt: title})
          .bindTooltip(escapeHtml(title)).addTo(routeLayer);
      }
    }
    routeLayer.addTo(map);
    root.dataset.routesDrawn = String(doc.vehicles.filter((v) => v.route && v.path.length > 1).length);
  }

  function startMap() {
    const L = window.L;
    const box = document.getElementById("map");
    if (!L || !box) return;
    map = L.map(box, {attributionControl: false, zoomSnap: 0.25, minZoom: 8, maxZoom: 16});
    fetch(root.dataset.geoUrl, {credentials: "same-origin"})
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("geojson " + r.status))))
      .then((geo) => {
        drawCounty(geo);
        if (current) drawRoutes(current);
        root.dataset.mapReady = "1";
      })
      .catch((error) => console.warn("county map:", error.message));
  }

  // --- vehicles, stops, alerts ----------------------------------------------------------------------

  function timeline(node, doc, v) {
    while (node.firstChild) node.removeChild(node.firstChild);
    for (const t of doc.axis.ticks) {
      node.appendChild(svg("line", {class: "tick", x1: t.x, x2: t.x, y1: 2, y2: 30}));
      node.appendChild(svg("text", {class: "tick-label", x: t.x, y: 43}, t.label));
    }
    for (const g of v.segments) {
      const rect = svg("rect", {class: "seg seg-" + g.kind + (g.past ? " past" : ""), x: g.x, y: 8, width: g.w, height: 18});
      rect.appendChild(svg("title", {}, g.label));
      node.appendChild(rect);
    }
    node.appendChild(svg("line", {class: "now", x1: v.now_x, x2: v.now_x, y1: 0, y2: 32}));
  }

  function stopRow(s) {
    const tr = el("tr", {class: "stop state-" + s.state + (s.made ? " made" : ""), "data-stop": s.id, "data-state": s.state});
    const cells = [[s.n, "num"], [s.order || "—"], [s.kind_label], [s.window_label || "—"], [s.place, "place"],
      [s.deadline || "—"], [s.planned], [s.eta || "—"], [s.actual || "—"], [s.slack, "num"]];
    for (const [text, cls] of cells) tr.appendChild(el("td", {class: cls || null}, text));
    const last = el("td");
    last.appendChild(el("span", {class: "state state-" + s.state}, s.state_label));
    last.appendChild(document.createTextNode(" "));
    last.appendChild(el("span", {class: "muted"}, s.status_label));
    tr.appendChild(last);
    return tr;
  }

  function updateVehicle(card, doc, v) {
    if (v.route) {
      setText(card, "route-status", v.route.status_label);
      setText(card, "route-times", v.route.start + "–" + v.route.end + " · " + v.route.km + " km");
    }
    field(card, "not-started").hidden = !v.not_started;
    field(card, "over").hidden = !v.load.over;
    setText(card, "progress", v.progress.label);
    const bar = field(card, "progress-bar");
    bar.max = v.progress.total || 1;
    bar.value = v.progress.made;
    setText(card, "weight", v.load.weight + " (" + v.load.weight_pct + "%)");
    setText(card, "volume", v.load.volume + " (" + v.load.volume_pct + "%)");
    field(card, "weight-bar").value = v.load.weight_pct;
    field(card, "volume-bar").value = v.load.volume_pct;
    timeline(field(card, "timeline"), doc, v);
    const body = field(card, "stops");
    if (body) body.replaceChildren(...v.stops.map(stopRow));
  }

  function alertItem(a, labels, token) {
    const li = el("li", {class: "alert alert-" + a.severity + (a.acknowledged ? " acknowledged" : ""), "data-alert": a.id, "data-kind": a.kind});
    const head = el("div", {class: "alert-head"});
    const badge = a.severity === "critical" ? "badge-red" : a.severity === "warning" ? "badge-amber" : "badge-grey";
    head.appendChild(el("span", {class: "badge " + badge}, a.kind_label));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("span", {class: "muted"}, a.created));
    li.appendChild(head);
    li.appendChild(el("p", {class: "alert-text"}, a.text));
    const foot = el("div", {class: "alert-foot"});
    const form = (url, label, cls) => {
      const f = el("form", {method: "post", action: url, class: "inline alert-action"});
      f.appendChild(el("input", {type: "hidden", name: "csrf_token", value: token}));
      f.appendChild(el("button", {type: "submit", class: cls}, label));
      return f;
    };
    if (a.acknowledged) foot.appendChild(el("span", {class: "muted alert-ack"}, a.acknowledged.label));
    else foot.appendChild(form(a.acknowledge_url, labels.acknowledge, "btn btn-small"));
    foot.appendChild(document.createTextNode(" "));
    foot.appendChild(form(a.resolve_url, labels.resolve, "btn btn-small btn-secondary"));
    li.appendChild(foot);
    return li;
  }

  function updateAlerts(doc) {
    const section = document.getElementById("alerts");
    const list = document.getElementById("alert-list");
    if (!section || !list) return;
    const token = (document.getElementById("console-csrf") || {}).value || "";
    list.replaceChildren(...doc.alerts.map((a) => alertItem(a, section.dataset, token)));
    document.getElementById("no-alerts").hidden = doc.alerts.length > 0;
    setText(section, "alert-count", doc.alerts.length);
  }

  function routeIds(vehicles) {
    return vehicles.map((v) => v.id + ":" + (v.route ? v.route.id : "")).join(",");
  }

  function swapVehiclesFromPage() {
    // the routes changed (a re-plan): the vehicles' sections, route actions included, from the page
    return fetch(window.location.pathname, {credentials: "same-origin", cache: "no-store"})
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error("page " + r.status))))
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        for (const id of ["vehicles", "unassigned"]) {
          const now = document.getElementById(id);
          const next = fresh.getElementById(id);
          if (now && next) now.replaceWith(document.adoptNode(next));
        }
      });
  }

  function apply(doc) {
    const structural = current !== null && routeIds(current.vehicles) !== routeIds(doc.vehicles);
    current = doc;
    if (doc.plan) setText(root, "plan", doc.plan.label);
    setText(root, "now", doc.now_label);
    for (const key of ["stops", "made", "at_risk", "late"]) setText(root, key, doc.summary[key]);
    updateAlerts(doc);
    const done = structural ? swapVehiclesFromPage() : Promise.resolve();
    return done.then(() => {
      for (const v of doc.vehicles) {
        const card = document.getElementById("vehicle-" + v.id);
        if (card) updateVehicle(card, doc, v);
      }
      drawRoutes(doc);
      root.dataset.updates = String(parseInt(root.dataset.updates || "0", 10) + 1);
    });
  }

  // --- polling --------------------------------------------------------------------------------------

  let timer = null;
  let busy = false;

  function live(ok) {
    const badge = field(root, "live");
    if (!badge) return;
    badge.textContent = ok ? badge.dataset.live : badge.dataset.offline;
    badge.classList.toggle("offline", !ok);
  }

  function poll(force) {
    if (busy || (document.hidden && !force)) return Promise.resolve();
    busy = true;
    const headers = {Accept: "application/json"};
    if (etag && !force) headers["If-None-Match"] = etag;
    return fetch(root.dataset.stateUrl, {headers: headers, credentials: "same-origin", cache: "no-store", redirect: "error"})
      .then((r) => {
        root.dataset.polls = String(parseInt(root.dataset.polls || "0", 10) + 1);
        if (r.status === 304) { live(true); return null; }
        if (!r.ok) throw new Error("state " + r.status);
        etag = r.headers.get("ETag") || "";
        root.dataset.etag = etag;
        return r.json().then((doc) => { live(true); return apply(doc); });
      })
      .catch((error) => { live(false); console.warn("console update:", error.message); })
      .finally(() => { busy = false; });
  }

  function alertAction(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("alert-action")) return;
    event.preventDefault();
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {Accept: "application/json"}, redirect: "error"})
      .then((r) => { if (!r.ok) throw new Error("alert " + r.status); return poll(true); })
      .catch((error) => { if (button) button.disabled = false; live(false); console.warn("alert action:", error.message); });
  }

  function load() {
    root.addEventListener("submit", alertAction);
    startMap();
    poll(true).then(() => {
      timer = window.setInterval(poll, seconds * 1000);
    });
    document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
  window.addEventListener("pagehide", () => { if (timer) window.clearInterval(timer); });
})();
