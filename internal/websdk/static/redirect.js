// Hands Connect's result to the window that opened this popup, as the page Smartcar hosts for
// @smartcar/auth does: a SmartcarAuthMessage posted to the app's origin only.
"use strict";
(() => {
  const q = new URLSearchParams(location.search);
  const target = document.getElementById("sc-redirect").dataset.appOrigin;
  const message = { name: "SmartcarAuthMessage", isSmartcarHosted: true };
  const fields = { code: "code", state: "state", error: "error", errorDescription: "error_description",
    virtualKeyUrl: "virtual_key_url", userId: "user_id", externalId: "external_id",
    vin: "vin", make: "make", model: "model", year: "year" };
  for (const [key, param] of Object.entries(fields)) if (q.has(param)) message[key] = q.get(param);
  if (!window.opener) {
    document.getElementById("status").textContent = "Open Connect from your app";
    document.getElementById("detail").textContent = "This page was not opened by an app's popup, so there is no window to hand the result to.";
    return;
  }
  window.opener.postMessage(message, target);
  window.close();
})();
