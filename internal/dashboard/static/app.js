// Sandbox dashboard. Every read and change goes to /dashboard/api/..., which is the admin API
// itself (see internal/dashboard); live updates come from /dashboard/events.
"use strict";
(() => {
const page = document.body.dataset.page;
const pageID = document.body.dataset.id;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const content = document.getElementById("content");
const msg = document.getElementById("message");

// el builds an element: el("a", {href: "/"}, "text", child, …). Attributes starting with "on"
// are listeners; text is always text (never HTML).
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat(Infinity)) if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : String(k));
  return e;
}
const svgNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs) { const e = document.createElementNS(svgNS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); return e; }

function say(text, ok) { msg.textContent = text || ""; msg.classList.toggle("ok", !!ok); }

// api calls the admin API through the dashboard; errors carry the admin API's message and details.
async function api(method, path, body) {
  const opts = { method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const res = await fetch("/dashboard/api" + path, opts);
  if (res.status === 401) { location.href = "/dashboard/login?next=" + encodeURIComponent(location.pathname); throw new Error("signed out"); }
  const text = await res.text();
  const data = text ? JSON.parse(text) : {};
  if (!res.ok) {
    const e = new Error((data.message || res.statusText) + (data.details ? ": " + data.details.join("; ") : ""));
    e.data = data; throw e;
  }
  return data;
}

// act runs a change, reports it and re-renders the page.
async function act(what, fn) {
  try { await fn(); say(what, true); await render(); }
  catch (e) { say(e.message); }
}

function fmtTime(t) { if (!t) return ""; const d = new Date(t); return isNaN(d) ? t : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z"); }
function table(headers, rows, empty) {
  if (!rows.length) return el("p", { class: "empty" }, empty || "Nothing yet.");
  return el("div", { class: "table-wrap" }, el("table", {},
    el("thead", {}, el("tr", {}, headers.map(h => el("th", { scope: "col", class: h.startsWith("~") ? "hide-phone" : null }, h.replace(/^~/, ""))))),
    el("tbody", {}, rows)));
}
function copyButton(text, label) {
  return el("button", { type: "button", class: "small copy", "aria-label": "Copy " + (label || ""), onclick: async (ev) => {
    try { await navigator.clipboard.writeText(text); ev.target.textContent = "Copied"; }
    catch { ev.target.textContent = "Select and copy"; }
    setTimeout(() => { ev.target.textContent = "Copy"; }, 1500);
  } }, "Copy");
}
function form(attrs, fields, submitLabel, onsubmit) {
  return el("form", Object.assign({ onsubmit: (ev) => { ev.preventDefault(); onsubmit(new FormData(ev.target), ev.target); } }, attrs),
    el("div", { class: "row" }, fields, el("button", { type: "submit", class: "primary" }, submitLabel)));
}
function field(label, input) { const id = input.id || ("f-" + input.name); input.id = id; return el("div", {}, el("label", { for: id }, label), input); }

// --- live updates ---
const listeners = { vehicle: [], requests: [] };
function connectEvents() {
  const live = document.getElementById("live");
  const es = new EventSource("/dashboard/events");
  es.onopen = () => { live.textContent = "live"; live.classList.add("on"); };
  es.onerror = () => { live.textContent = "reconnecting…"; live.classList.remove("on"); };
  for (const name of Object.keys(listeners)) es.addEventListener(name, (ev) => {
    let data = {}; try { data = JSON.parse(ev.data); } catch {}
    for (const fn of listeners[name]) fn(data);
  });
}

// --- pages ---
const pages = {};

// Requests: the request log, newest first, live, with filters.
const filters = { door: "", status: "", vehicle: "", app: "", text: "" };
let seenRequests = null;
pages.requests = async () => {
  const doors = [["", "Every door"], ["/v1.0/", "API v1.0"], ["/v2.0/", "API v2.0"], ["/v3/", "API v3"], ["/oauth", "Token endpoints"]];
  const { applications } = await api("GET", "/applications");
  const apps = [["", "Every application"], ...applications.map(a => [a.clientId, a.name || a.clientId])];
  const statuses = [["", "Any status"], ["2", "2xx"], ["4", "4xx"], ["5", "5xx"]];
  const sel = (name, opts) => { const s = el("select", { name, id: "filter-" + name, onchange: () => { filters[name] = s.value; draw(); } },
    opts.map(([v, t]) => el("option", { value: v, selected: filters[name] === v }, t))); return s; };
  const inp = (name, ph) => { const i = el("input", { name, id: "filter-" + name, type: "search", placeholder: ph, value: filters[name],
    oninput: () => { filters[name] = i.value.trim(); draw(); } }); return i; };
  const list = el("ol", { class: "log", id: "request-log", "aria-live": "polite" });
  const count = el("p", { class: "muted", id: "request-count" });
  content.replaceChildren(
    el("div", { class: "card" }, el("div", { class: "row" },
      field("Door", sel("door", doors)), field("Status", sel("status", statuses)), field("Application", sel("app", apps)),
      field("Vehicle id", inp("vehicle", "any vehicle")), field("Search (path, headers, bodies)", inp("text", "client_id, path, error…")),
      el("button", { type: "button", class: "danger", id: "clear-requests", onclick: () => act("Request log cleared.", () => api("DELETE", "/requests")) }, "Clear log"))),
    count, list);
  let entries = [];
  function draw() {
    const shown = entries.filter(e =>
      (!filters.door || e.path.startsWith(filters.door)) &&
      (!filters.status || String(e.status)[0] === filters.status) &&
      (!filters.vehicle || e.path.includes(filters.vehicle)) &&
      (!filters.app || e.clientId === filters.app) &&
      (!filters.text || JSON.stringify(e).toLowerCase().includes(filters.text.toLowerCase())));
    count.textContent = `${shown.length} of ${entries.length} recorded requests` + (filters.door || filters.status || filters.vehicle || filters.app || filters.text ? " (filtered)" : "");
    list.replaceChildren(...shown.map(e => {
      const isNew = seenRequests && !seenRequests.has(e.requestId);
      return el("li", { class: isNew ? "new" : null, "data-request-id": e.requestId, "data-status": e.status },
        el("details", {},
          el("summary", {}, el("span", { class: "status s" + String(e.status)[0] }, e.status), el("strong", {}, e.method),
            el("span", { class: "path" }, e.path + (e.query ? "?" + e.query : "")),
            e.fault ? el("span", { class: "pill expired" }, "fault " + e.fault) : null,
            el("span", { class: "muted" }, fmtTime(e.time) + " · " + e.durationMs + " ms")),
          el("div", { class: "detail" },
            el("p", { class: "muted" }, "SC-Request-Id ", el("code", {}, e.requestId), e.clientId ? [" · application ", el("code", {}, e.clientId)] : null),
            e.note ? el("p", {}, el("strong", {}, "Why: "), e.note) : null,
            el("h3", {}, "Request headers"), el("pre", {}, JSON.stringify(e.requestHeaders || {}, null, 2)),
            e.requestBody ? [el("h3", {}, "Request body"), el("pre", {}, e.requestBody)] : null,
            e.responseBody ? [el("h3", {}, "Response body"), el("pre", {}, e.responseBody)] : el("p", { class: "muted" }, "Success bodies are not kept; error bodies are."))));
    }));
    if (!shown.length) list.replaceChildren(el("li", { class: "empty" }, entries.length ? "No request matches the filters." : "No request yet: call the API and it shows here at once."));
  }
  async function load() {
    const data = await api("GET", "/requests?limit=200");
    entries = data.requests || [];
    draw();
    seenRequests = new Set(entries.map(e => e.requestId));
  }
  await load();
  listeners.requests = [() => load().catch(e => say(e.message))];
};

// Applications: with the env lines a client needs, copy buttons, and a form to add one.
pages.applications = async () => {
  const { applications } = await api("GET", "/applications");
  const origin = document.getElementById("env-lines").content.textContent.trim();
  content.replaceChildren(
    el("div", { class: "grid wide" }, applications.map(a => {
      const env = [`SMARTCAR_CLIENT_ID=${a.clientId}`, `SMARTCAR_CLIENT_SECRET=${a.clientSecret}`,
        ...(a.redirectUris || []).slice(0, 1).map(u => `SMARTCAR_REDIRECT_URI=${u}`), origin].join("\n");
      return el("section", { class: "card app", "data-client-id": a.clientId },
        el("h2", {}, a.name), el("p", { class: "muted" }, a.source ? "from " + a.source : ""),
        el("p", {}, "Redirect URIs: ", (a.redirectUris || []).map((u, i) => [i ? ", " : "", el("code", {}, u)])),
        el("div", { class: "env" }, el("strong", {}, "Env lines"), copyButton(env, "env lines of " + a.name), el("pre", {}, env)));
    })),
    el("h2", {}, "Add an application"),
    el("div", { class: "card" }, form({ id: "add-application" }, [
      field("Name", el("input", { name: "name", required: true, placeholder: "Workshop app" })),
      field("Redirect URI", el("input", { name: "redirect", required: true, placeholder: "myapp://exchange" })),
    ], "Add", (f) => act("Application added.", () => api("POST", "/applications", { name: f.get("name"), redirectUris: [f.get("redirect")] })))));
};

// Accounts and their vehicles.
pages.accounts = async () => {
  const [{ accounts }, { vehicles }] = await Promise.all([api("GET", "/accounts"), api("GET", "/vehicles")]);
  const byID = new Map(vehicles.map(v => [v.id, v]));
  const vrow = (v) => el("li", {}, el("a", { href: "/dashboard/vehicles/" + v.id, class: "vehicle-link" }, `${v.year} ${v.make} ${v.model}`),
    " ", el("span", { class: "pill" }, v.powertrain), v.mode && v.mode !== "live" ? [" ", el("span", { class: "pill" }, v.mode)] : null,
    el("div", { class: "muted" }, el("code", {}, v.id)));
  const owned = new Set(accounts.flatMap(a => a.vehicleIds || []));
  content.replaceChildren(
    el("div", { class: "grid" }, accounts.map(a => el("section", { class: "card" },
      el("h2", {}, a.username), el("p", { class: "muted" }, "user id ", el("code", {}, a.userId)),
      el("ul", {}, (a.vehicleIds || []).map(id => byID.get(id)).filter(Boolean).map(vrow))))),
    vehicles.some(v => !owned.has(v.id)) ? [el("h2", {}, "Vehicles of no account"), el("ul", {}, vehicles.filter(v => !owned.has(v.id)).map(vrow))] : null,
    el("h2", {}, "Add an account with a new vehicle"),
    el("div", { class: "card" }, form({ id: "add-account" }, [
      field("Username", el("input", { name: "username", required: true, placeholder: "driver@example.com" })),
      field("Make", el("input", { name: "make", required: true, value: "TESLA" })),
      field("Model", el("input", { name: "model", required: true, value: "Model 3" })),
      field("Year", el("input", { name: "year", type: "number", required: true, value: "2022" })),
      field("Powertrain", el("select", { name: "powertrain" }, ["BEV", "PHEV", "HEV", "ICE"].map(p => el("option", {}, p)))),
    ], "Add", (f) => act("Account added.", () => api("POST", "/accounts", { username: f.get("username"),
      vehicles: [{ make: f.get("make"), model: f.get("model"), year: Number(f.get("year")), powertrain: f.get("powertrain") }] })))));
};

// Vehicle: every signal live, forms to set them, commands, and the simulated route.
const pct = (x) => x === undefined || x === null ? "" : Math.round(x * 1000) / 10;
function signalRows(v) {
  const s = v.state || {};
  const rows = [
    ["Odometer", `${s.odometerKm} km`],
    ["Location", s.location ? `${s.location.latitude.toFixed(5)}, ${s.location.longitude.toFixed(5)} (heading ${s.location.heading ?? 0}°)` : ""],
    ["Locked", s.security && s.security.doors && s.security.doors.length ? (s.security.doors.every(d => d.status === "LOCKED") ? "LOCKED" : "UNLOCKED") : "?"],
  ];
  if (s.battery) rows.push(["Battery", `${pct(s.battery.percentRemaining)} % · ${s.battery.rangeKm} km`]);
  if (s.charge) rows.push(["Charge", `${s.charge.state} · ${s.charge.isPluggedIn ? "plugged in" : "unplugged"} · limit ${pct(s.charge.limit)} %`]);
  if (s.fuel) rows.push(["Fuel", `${pct(s.fuel.percentRemaining)} % · ${s.fuel.amountLiters} L · ${s.fuel.rangeKm} km`]);
  if (s.engineOil) rows.push(["Engine oil", `${pct(s.engineOil.lifeRemaining)} %`]);
  if (s.tires) rows.push(["Tires (kPa)", `FL ${s.tires.frontLeft} · FR ${s.tires.frontRight} · BL ${s.tires.backLeft} · BR ${s.tires.backRight}`]);
  if (s.trip && s.trip.stage) rows.push(["Trip", s.trip.stage]);
  rows.push(["Data age", fmtTime(s.updatedAt)]);
  return rows;
}
pages.vehicle = async () => {
  const v = await api("GET", "/vehicles/" + pageID);
  document.getElementById("page-title").textContent = `${v.year} ${v.make} ${v.model}`;
  document.title = `${v.make} ${v.model} · Sandbox dashboard`;
  const dl = el("dl", { class: "signals", id: "signals" });
  const all = el("pre", { id: "state-json" });
  let last = {};
  function drawSignals(v) {
    all.textContent = JSON.stringify(v.state, null, 2);
    const rows = signalRows(v);
    dl.replaceChildren(...rows.flatMap(([k, val]) => [el("dt", {}, k),
      el("dd", { class: last[k] !== undefined && last[k] !== val ? "changed" : null, "data-signal": k }, val)]));
    last = Object.fromEntries(rows);
  }
  drawSignals(v);
  const st = v.state;
  const num = (name, value, attrs) => el("input", Object.assign({ name, type: "number", step: "any", value: value ?? "" }, attrs || {}));
  const cmd = (name, label) => el("button", { type: "button", id: "cmd-" + name, onclick: () =>
    act(label + ": done.", async () => {
      const res = await fetch(`/dashboard/api/vehicles/${v.id}/commands/${name}`, { method: "POST", headers: { "X-CSRF-Token": csrf } });
      if (!res.ok) { const d = await res.json(); throw new Error(`${label} refused: ${d.error} ${d.message}`); }
    }) }, label);
  const fields = [field("Odometer (km)", num("odometerKm", st.odometerKm, { min: 0 })),
    field("Latitude", num("latitude", st.location.latitude)), field("Longitude", num("longitude", st.location.longitude))];
  if (st.battery) fields.push(field("Battery (%)", num("battery", pct(st.battery.percentRemaining), { min: 0, max: 100 })),
    field("Battery range (km)", num("batteryRange", st.battery.rangeKm, { min: 0 })));
  if (st.fuel) fields.push(field("Fuel (%)", num("fuel", pct(st.fuel.percentRemaining), { min: 0, max: 100 })),
    field("Fuel range (km)", num("fuelRange", st.fuel.rangeKm, { min: 0 })));
  if (st.charge) fields.push(field("Charge limit (%)", num("limit", pct(st.charge.limit), { min: 0, max: 100 })),
    el("div", {}, el("label", { for: "f-plugged" }, "Plugged in"), el("input", { type: "checkbox", name: "plugged", id: "f-plugged", checked: st.charge.isPluggedIn })));
  const setForm = form({ id: "set-signals" }, fields, "Set signals", (f) => {
    const n = (k) => f.get(k) === "" || f.get(k) === null ? undefined : Number(f.get(k));
    const patch = { odometerKm: n("odometerKm"), location: { latitude: n("latitude"), longitude: n("longitude") } };
    if (st.battery) patch.battery = { percentRemaining: n("battery") / 100, rangeKm: n("batteryRange") };
    if (st.fuel) patch.fuel = { percentRemaining: n("fuel") / 100, rangeKm: n("fuelRange") };
    if (st.charge) patch.charge = { limit: n("limit") / 100, isPluggedIn: f.get("plugged") === "on" };
    act("Signals set.", () => api("PATCH", "/vehicles/" + v.id, patch));
  });
  const raw = el("form", { id: "patch-json", onsubmit: (ev) => { ev.preventDefault();
    let patch; try { patch = JSON.parse(ev.target.patch.value); } catch (e) { say("Not JSON: " + e.message); return; }
    act("Patch applied.", () => api("PATCH", "/vehicles/" + v.id, patch)); } },
    el("label", { for: "patch" }, "Any signal, as a JSON merge patch (docs/admin.md)"),
    el("textarea", { id: "patch", name: "patch", rows: 3 }, '{"tires": {"frontLeft": 180}}'),
    el("button", { type: "submit" }, "Apply patch"));
  const map = el("div", { id: "route" });
  content.replaceChildren(
    el("p", { class: "muted" }, "VIN ", el("code", {}, v.vin), " · id ", el("code", {}, v.id), " · ", v.powertrain, v.mode ? " · " + v.mode : ""),
    el("div", { class: "grid" },
      el("section", { class: "card" }, el("h2", {}, "Signals (live)"), dl,
        el("details", {}, el("summary", {}, "Every signal, as the admin API stores it"), all)),
      el("section", { class: "card" }, el("h2", {}, "Commands"),
        el("div", { class: "actions" }, cmd("lock", "Lock"), cmd("unlock", "Unlock"),
          st.charge ? [cmd("start-charge", "Start charging"), cmd("stop-charge", "Stop charging")] : null),
        map)),
    el("h2", {}, "Set signals"), el("div", { class: "card" }, setForm, raw));
  await drawRoute(map, v);
  listeners.vehicle = [(nv) => { if (nv.id !== v.id) return; drawSignals(nv); moveCar(nv); }];
};

// The simulated route: the loop as the simulator drives it, projected onto a square, and the
// car as a dot that moves with every change the store reports. No map tiles.
let project = null, car = null;
async function drawRoute(box, v) {
  // /route is the dashboard's own (the admin API has no route): the simulator's loop.
  const data = await api("GET", "/vehicles/" + v.id + "/route");
  if (!data.simulated || !data.route.length) { box.replaceChildren(el("p", { class: "muted" }, "Not a simulated vehicle: it stays where its signals say.")); return; }
  const pts = data.route;
  const lats = pts.map(p => p.latitude), lons = pts.map(p => p.longitude);
  const pad = 0.1, size = 300;
  let [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const cos = Math.cos((minLat + maxLat) / 2 * Math.PI / 180);
  const span = Math.max((maxLat - minLat), (maxLon - minLon) * cos) * (1 + 2 * pad) || 0.01;
  const cLat = (minLat + maxLat) / 2, cLon = (minLon + maxLon) / 2;
  project = (lat, lon) => [size / 2 + (lon - cLon) * cos / span * size, size / 2 - (lat - cLat) / span * size];
  const s = svg("svg", { viewBox: `0 0 ${size} ${size}`, class: "map", role: "img", "aria-label": "Simulated route and the car's position" });
  s.append(svg("polyline", { class: "road", points: pts.map(p => project(p.latitude, p.longitude).join(",")).join(" ") }));
  const [hx, hy] = project(pts[0].latitude, pts[0].longitude);
  s.append(svg("rect", { class: "home", x: hx - 5, y: hy - 5, width: 10, height: 10 }));
  car = svg("circle", { class: "car", id: "car", r: 9 });
  s.append(car);
  box.replaceChildren(el("h2", {}, "Simulated route"), s);
  moveCar(v);
}
function moveCar(v) {
  if (!project || !car || !v.state || !v.state.location) return;
  const [x, y] = project(v.state.location.latitude, v.state.location.longitude);
  car.setAttribute("cx", x.toFixed(1)); car.setAttribute("cy", y.toFixed(1));
  car.dataset.lat = v.state.location.latitude; car.dataset.lon = v.state.location.longitude;
}

// Grants and tokens, codes and refresh tokens, with expire and revoke.
pages.tokens = async () => {
  const [{ grants }, { tokens }, { codes }, { refreshTokens }] = await Promise.all([
    api("GET", "/grants"), api("GET", "/tokens"), api("GET", "/codes"), api("GET", "/refresh-tokens")]);
  const btn = (label, cls, fn, attrs) => el("button", Object.assign({ type: "button", class: "small " + (cls || "") }, attrs || {}, { onclick: fn }), label);
  content.replaceChildren(
    el("h2", {}, "Access tokens"),
    table(["Token", "Status", "~Client", "~Vehicles", "Expires", ""], tokens.map(t => el("tr", { "data-token-id": t.id, "data-status": t.status },
      el("td", {}, el("code", {}, "…" + t.id.slice(-8)), el("div", { class: "muted" }, t.kind)),
      el("td", {}, el("span", { class: "pill " + t.status }, t.status)),
      el("td", { class: "hide-phone" }, el("code", {}, t.clientId)),
      el("td", { class: "hide-phone" }, (t.vehicleIds || []).length),
      el("td", {}, fmtTime(t.expiresAt)),
      el("td", {}, t.status === "active" ? el("div", { class: "actions" },
        btn("Expire", "", () => act("Token expired.", () => api("POST", `/tokens/${t.id}/expire`)), { "data-action": "expire" }),
        btn("Revoke", "danger", () => act("Token revoked with its whole approval.", () => api("POST", `/tokens/${t.id}/revoke`)), { "data-action": "revoke" })) : null))),
      "No access token issued yet."),
    el("h2", {}, "Grants (connections)"),
    table(["Client", "User", "Vehicle", "~Permissions", "~Since"], grants.map(g => el("tr", {},
      el("td", {}, el("code", {}, g.clientId)), el("td", {}, el("code", {}, g.userId.slice(0, 8) + "…")),
      el("td", {}, el("a", { href: "/dashboard/vehicles/" + g.vehicleId }, g.vehicleId.slice(0, 8) + "…")),
      el("td", { class: "hide-phone" }, (g.permissions || []).join(", ")), el("td", { class: "hide-phone" }, fmtTime(g.connectedAt)))),
      "No vehicle connected yet: go through Connect."),
    el("h2", {}, "Unused authorization codes"),
    table(["Code", "Client", "Expires", ""], codes.map(c => el("tr", {},
      el("td", {}, el("code", {}, c.code)), el("td", {}, el("code", {}, c.clientId)), el("td", {}, fmtTime(c.expiresAt)),
      el("td", {}, btn("Expire", "", () => act("Code expired.", () => api("POST", `/codes/${encodeURIComponent(c.code)}/expire`)))))),
      "No unused code."),
    el("h2", {}, "Refresh tokens"),
    table(["Token", "Client", "Expires", ""], refreshTokens.map(t => el("tr", {},
      el("td", {}, el("code", {}, "…" + String(t.token).slice(-8))), el("td", {}, el("code", {}, t.clientId)), el("td", {}, fmtTime(t.expiresAt)),
      el("td", {}, btn("Expire", "", () => act("Refresh token expired.", () => api("POST", `/refresh-tokens/${encodeURIComponent(t.token)}/expire`)))))),
      "No refresh token."));
  listeners.requests = [() => pages.tokens().catch(e => say(e.message))];
};

// Fault rules: add from presets, remove.
const presets = {
  asleep: { label: "Vehicle asleep", rule: { error: { type: "VEHICLE_STATE", code: "ASLEEP" } } },
  ratelimit: { label: "Rate limited", rule: { error: { type: "RATE_LIMIT", code: "VEHICLE", retryAfter: 30 } } },
  slow: { label: "Slow upstream (2 s)", rule: { latency: { fixed: "2s" } } },
  noresponse: { label: "Upstream not answering", rule: { error: { type: "UPSTREAM", code: "NO_RESPONSE" } } },
  server: { label: "Server error", rule: { error: { type: "SERVER", code: "INTERNAL" } } },
  refresh: { label: "Token endpoint: invalid_grant", rule: { path: "/oauth/token", error: { type: "invalid_grant" } } },
};
pages.faults = async () => {
  const [{ faults }, { vehicles }, { applications }] = await Promise.all([api("GET", "/faults"), api("GET", "/vehicles"), api("GET", "/applications")]);
  content.replaceChildren(
    el("div", { class: "card" }, form({ id: "add-fault" }, [
      field("Preset", el("select", { name: "preset", id: "fault-preset" }, Object.entries(presets).map(([k, p]) => el("option", { value: k }, p.label)))),
      field("Vehicle", el("select", { name: "vehicleId", id: "fault-vehicle" }, el("option", { value: "" }, "Every vehicle"),
        vehicles.map(v => el("option", { value: v.id }, `${v.make} ${v.model} (${v.id.slice(0, 8)})`)))),
      field("Application", el("select", { name: "clientId", id: "fault-client" }, el("option", { value: "" }, "Every application"),
        applications.map(a => el("option", { value: a.clientId }, a.name)))),
      field("Path (glob or prefix)", el("input", { name: "path", id: "fault-path", placeholder: "/v2.0/vehicles/*/odometer" })),
      field("Times (empty: until removed)", el("input", { name: "count", id: "fault-count", type: "number", min: 1 })),
    ], "Add fault", (f) => {
      const rule = structuredClone(presets[f.get("preset")].rule);
      for (const k of ["vehicleId", "clientId", "path"]) if (f.get(k)) rule[k] = f.get(k);
      if (f.get("count")) rule.count = Number(f.get("count"));
      act("Fault added.", () => api("POST", "/faults", rule));
    })),
    table(["~Rule", "Matches", "Does", "Fired", ""], faults.map(r => el("tr", { "data-fault-id": r.id },
      el("td", { class: "hide-phone" }, el("code", {}, r.id)),
      el("td", {}, [r.vehicleId && "vehicle " + r.vehicleId.slice(0, 8), r.clientId && "app " + r.clientId, r.path && "path " + r.path,
        r.method, r.count && `next ${r.count}`, r.rate && `${r.rate * 100} %`].filter(Boolean).join(" · ") || "every API request"),
      el("td", {}, r.error ? `${r.error.type}${r.error.code ? ":" + r.error.code : ""}` : "", r.latency ? ` delay ${r.latency.fixed || r.latency.min + "–" + r.latency.max}` : ""),
      el("td", { class: "fired" }, r.fired ?? 0),
      el("td", {}, el("button", { type: "button", class: "small danger", onclick: () => act("Fault removed.", () => api("DELETE", "/faults/" + r.id)) }, "Remove")))),
      "No fault rule: the API answers normally."),
    faults.length ? el("div", { class: "actions" }, el("button", { type: "button", class: "danger", onclick: () => act("Every fault removed.", () => api("DELETE", "/faults")) }, "Remove all")) : null);
  listeners.requests = [async () => {
    const { faults } = await api("GET", "/faults");
    for (const r of faults) { const td = document.querySelector(`tr[data-fault-id="${r.id}"] .fired`); if (td) td.textContent = r.fired ?? 0; }
  }];
};

// Webhook deliveries: body, signature, outcome.
pages.webhooks = async () => {
  let deliveries;
  try { ({ deliveries } = await api("GET", "/webhooks/deliveries")); }
  catch (e) { content.replaceChildren(el("p", { class: "empty" }, e.message)); return; }
  content.replaceChildren(deliveries.length ? el("ol", { class: "log" }, deliveries.map(d => el("li", {}, el("details", {},
    el("summary", {}, el("span", { class: "status s" + String(d.status || 5)[0] }, d.status || "—"), el("strong", {}, d.eventType),
      el("span", { class: "path" }, d.url), el("span", { class: "pill" }, d.outcome), el("span", { class: "muted" }, fmtTime(d.at))),
    el("div", { class: "detail" }, el("p", { class: "muted" }, "webhook ", el("code", {}, d.webhookId), d.vehicleId ? [" · vehicle ", el("code", {}, d.vehicleId)] : null,
      d.attempt ? " · attempt " + d.attempt : ""),
      d.error ? el("p", {}, el("strong", {}, "Error: "), d.error) : null,
      el("h3", {}, "SC-Signature"), el("pre", {}, d.signature || "(none)"),
      el("h3", {}, "Body"), el("pre", {}, JSON.stringify(d.body, null, 2)))))))
    : el("p", { class: "empty" }, "No delivery yet. Subscribe a vehicle to a webhook (docs/simulator-webhooks.md)."));
};

// Clock, reset and reload.
pages.clock = async () => {
  const { now } = await api("GET", "/clock");
  const adv = (d, label) => el("button", { type: "button", "data-advance": d, onclick: () => act(`Clock moved ${d} forward.`, () => api("POST", "/clock", { advance: d })) }, label);
  content.replaceChildren(
    el("section", { class: "card" }, el("h2", {}, "Sandbox clock"), el("p", { class: "status", id: "clock-now" }, fmtTime(now)),
      el("p", { class: "muted" }, "Every door reads this clock: token expiry, code lifetimes, data ages, the simulation. It only moves forward."),
      el("div", { class: "actions" }, adv("1m", "+1 minute"), adv("10m", "+10 minutes"), adv("1h", "+1 hour"), adv("2h1s", "+2 h 1 s (tokens expire)"), adv("24h", "+1 day")),
      form({ id: "advance-clock" }, [field("Advance by (Go duration)", el("input", { name: "advance", placeholder: "90s, 2h, 1440h", required: true }))], "Advance",
        (f) => act("Clock moved.", () => api("POST", "/clock", { advance: f.get("advance") })))),
    el("section", { class: "card" }, el("h2", {}, "State"),
      el("p", {}, el("strong", {}, "Reset"), " goes back to the fixtures: drops changes, grants, codes, refresh tokens and fault rules (revocations stay)."),
      el("button", { type: "button", class: "danger", id: "reset", onclick: () => { if (confirm("Reset the sandbox to its fixtures?")) act("Reset to the fixtures.", () => api("POST", "/reset")); } }, "Reset"),
      el("p", {}, el("strong", {}, "Reload"), " reads the -fixtures folder again, keeping grants whose vehicle still exists."),
      el("button", { type: "button", id: "reload", onclick: () => act("Fixtures reloaded.", () => api("POST", "/reload")) }, "Reload fixtures")));
};

async function render() {
  try { await pages[page](); }
  catch (e) { say(e.message); }
}
connectEvents();
render();
})();
