// Package e2e holds the sandbox's end-to-end suites; the code is in its _test.go files:
//
//   - browser_test.go plays the iOS tutorial app in headless Chromium (chromedp): real Connect
//     pages, a real tutorial backend, the redirect to scsandbox-demo://exchange caught in flight.
//   - node_sdk_test.go runs the official, unmodified Smartcar Node SDK (e2e/node) against a
//     real sandbox, pointed at it only through the SDK's SMARTCAR_* environment variables.
//   - demo_restart_test.go runs `make demo`'s script, connects 20 phones, restarts both servers
//     and checks that no phone notices (sessions, grants and keys kept in the demo's data folder).
//
// Both need tools outside Go (Debian's chromium, node_modules from `npm ci --prefix e2e/node`).
// `make test` installs them when missing; without them the suites skip locally and fail in CI.
package e2e
