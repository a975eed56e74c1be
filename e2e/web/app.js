// Smartcar's web quick start, pointed at smartcar-sandbox. The page's query names the sandbox,
// the tutorial backend, the client id and the redirect URI (the sandbox's stand-in for the
// JavaScript SDK's hosted redirect page).
"use strict";
const cfg = Object.fromEntries(new URLSearchParams(location.search));
const status = document.getElementById("status");
const result = document.getElementById("result");

const smartcar = new Smartcar({
  clientId: cfg.clientId,
  redirectUri: cfg.redirectUri,
  scope: ["read_vehicle_info"],
  mode: "test",
  onComplete: async (err, code, state) => {
    if (err) { status.textContent = "Connect failed: " + err.message; document.body.dataset.done = "error"; return; }
    status.textContent = "Got a code; the backend exchanges it…";
    document.body.dataset.code = code;
    document.body.dataset.state = state || "";
    try {
      // The backend keeps the tokens behind its session cookie (credentials: "include").
      const ex = await fetch(cfg.backend + "/exchange?code=" + encodeURIComponent(code), { credentials: "include" });
      if (!ex.ok) throw new Error("exchange: " + ex.status + " " + await ex.text());
      const v = await fetch(cfg.backend + "/vehicle", { credentials: "include" });
      const body = await v.json();
      if (!v.ok) throw new Error("vehicle: " + v.status + " " + JSON.stringify(body));
      result.textContent = JSON.stringify(body, null, 2);
      status.textContent = `Connected: ${body.year} ${body.make} ${body.model}`;
      document.body.dataset.done = "ok";
    } catch (e) {
      status.textContent = e.message;
      document.body.dataset.done = "error";
    }
  },
});

// @smartcar/auth builds https://connect.smartcar.com/oauth/authorize?… with no option to
// change the host, so the page rewrites the origin of the URL the SDK built (everything else,
// the query with application_id, redirect_uri and the SDK's state, stays the SDK's). The
// SDK's own openDialog then opens the popup with it.
const sdkAuthUrl = smartcar.getAuthUrl.bind(smartcar);
smartcar.getAuthUrl = (options) => sdkAuthUrl(options).replace(/^https:\/\/connect\.smartcar\.com/, cfg.sandbox);

document.getElementById("connect").addEventListener("click", () =>
  smartcar.openDialog({ state: "web-e2e", forcePrompt: true }));
