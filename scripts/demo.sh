#!/usr/bin/env bash
# `make demo`: the offline iOS/Android tutorial in one command. It starts smartcar-sandbox and
# the tutorial backend with one shared configuration (the fixtures' demo app), prints what to
# put in the app, and stops both on Ctrl-C. See docs/tutorial.md.
#
# Settings (environment):
#   SANDBOX_PORT (8080), TUTORIAL_PORT (8000)    where the two servers listen
#   SANDBOX_PUBLIC_URL   e.g. http://192.168.1.20:8080 for a real phone on the LAN: both servers
#                        then listen on all interfaces and the printed URLs use that host
#   SMARTCAR_CLIENT_ID / SMARTCAR_CLIENT_SECRET / SMARTCAR_REDIRECT_URI (/ SMARTCAR_APP_NAME)
#                        another application than the demo one (registered in the sandbox too)
#   DEMO_DATA_DIR        where both servers keep their state (default demo-data/ in the checkout,
#                        ignored by git); `make demo-reset` deletes it. Empty: in memory only
#                        (a restart then disconnects every phone).
set -euo pipefail
cd "$(dirname "$0")/.."

# State survives a restart by default: the sandbox's users, grants, refresh tokens and keys
# (a Connect page open on a phone still works), and the backend's sessions (a phone that
# connected stays connected). See docs/workshop.md.
DATA_DIR=${DEMO_DATA_DIR-demo-data}

SANDBOX_PORT=${SANDBOX_PORT:-8080}
TUTORIAL_PORT=${TUTORIAL_PORT:-8000}
CLIENT_ID=${SMARTCAR_CLIENT_ID:-sandbox-demo}
CLIENT_SECRET=${SMARTCAR_CLIENT_SECRET:-sandbox-demo-secret}
REDIRECT_URI=${SMARTCAR_REDIRECT_URI:-sc${CLIENT_ID}://exchange}

if [ -n "${SANDBOX_PUBLIC_URL:-}" ]; then
	# A phone on the LAN reaches both servers by this host; listen on every interface.
	SANDBOX_PUBLIC_URL=${SANDBOX_PUBLIC_URL%/}
	public_host=$(printf '%s' "$SANDBOX_PUBLIC_URL" | sed -E 's#^[a-z]+://##; s#[:/].*$##')
	listen_host=0.0.0.0
	connect_origin=$SANDBOX_PUBLIC_URL
	app_server="http://${public_host}:${TUTORIAL_PORT}"
else
	listen_host=127.0.0.1
	connect_origin="http://localhost:${SANDBOX_PORT}"
	app_server="http://localhost:${TUTORIAL_PORT}"
fi
# The backend talks to the sandbox over loopback whatever the phone sees.
internal_origin="http://127.0.0.1:${SANDBOX_PORT}"

echo "building…"
mkdir -p bin
go build -o bin/ ./cmd/smartcar-sandbox ./cmd/tutorial-backend

pids=()
cleanup() {
	trap - INT TERM EXIT
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	echo "demo stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # runs cleanup through the EXIT trap

sandbox_env=(env)
if [ "$CLIENT_ID" = sandbox-demo ] && [ "$CLIENT_SECRET" = sandbox-demo-secret ]; then
	# The fixtures already hold the demo app with both of its redirect URIs; registering it
	# again from the environment would replace it with only one.
	sandbox_env+=(-u SMARTCAR_CLIENT_ID -u SMARTCAR_CLIENT_SECRET -u SMARTCAR_REDIRECT_URI -u SMARTCAR_APP_NAME)
else
	sandbox_env+=(SMARTCAR_CLIENT_ID="$CLIENT_ID" SMARTCAR_CLIENT_SECRET="$CLIENT_SECRET" SMARTCAR_REDIRECT_URI="$REDIRECT_URI")
fi
public_flag=()
[ -n "${SANDBOX_PUBLIC_URL:-}" ] && public_flag=(-public-url "$SANDBOX_PUBLIC_URL")
sandbox_data=() backend_data=()
if [ -n "$DATA_DIR" ]; then
	echo "state kept in ${DATA_DIR}/ (sandbox: ${DATA_DIR}/sandbox, backend sessions: ${DATA_DIR}/backend): a restart keeps every phone connected; \`make demo-reset\` starts clean"
	sandbox_data=(-data-dir "${DATA_DIR}/sandbox")
	backend_data=(-data-dir "${DATA_DIR}/backend")
else
	echo "state kept in memory (DEMO_DATA_DIR is empty): a restart disconnects every phone"
fi

"${sandbox_env[@]}" bin/smartcar-sandbox -addr "${listen_host}:${SANDBOX_PORT}" "${public_flag[@]}" "${sandbox_data[@]}" \
	> >(sed -u 's/^/[sandbox] /') 2>&1 &
pids+=($!)

# Wait until the sandbox answers, so the backend never starts against nothing.
for _ in $(seq 1 50); do
	if bin/smartcar-sandbox -healthcheck -addr "127.0.0.1:${SANDBOX_PORT}" >/dev/null 2>&1; then break; fi
	if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "the sandbox did not start (see above)"; exit 1; fi
	sleep 0.2
done

SMARTCAR_CLIENT_ID="$CLIENT_ID" SMARTCAR_CLIENT_SECRET="$CLIENT_SECRET" SMARTCAR_REDIRECT_URI="$REDIRECT_URI" \
SMARTCAR_CONNECT_ORIGIN="$connect_origin" SMARTCAR_API_ORIGIN="$internal_origin" \
SMARTCAR_AUTH_ORIGIN="$internal_origin" SMARTCAR_MANAGEMENT_API_ORIGIN="$internal_origin" \
	bin/tutorial-backend -addr "${listen_host}:${TUTORIAL_PORT}" "${backend_data[@]}" > >(sed -u 's/^/[backend] /') 2>&1 &
pids+=($!)
sleep 0.5
if ! kill -0 "${pids[1]}" 2>/dev/null; then echo "the tutorial backend did not start (see above)"; exit 1; fi

scheme=${REDIRECT_URI%%://*}
cat <<INFO

================ smartcar-sandbox demo is running ================
 Sandbox (Connect pages, token endpoint, vehicle API): ${connect_origin}
 Tutorial backend (/login, /exchange, /vehicle):       ${app_server}

 In the iOS app (docs/tutorial.md):
   Constants.swift   clientId  = "${CLIENT_ID}"
                     appServer = "${app_server}"
   Info.plist        URL scheme: ${scheme}     (redirect URI ${REDIRECT_URI})
   Connect URL       rewrite https://connect.smartcar.com -> ${connect_origin}
   App Transport Security: NSAllowsLocalNetworking = YES (plain http)
 Android emulator: use 10.0.2.2 instead of localhost.

 Sign in on Connect with any username and password; demo@sandbox.test has a 2022 TESLA Model 3.
 Walk Connect in a browser: ${app_server}/login (it ends at ${REDIRECT_URI}?code=…, which only the app opens)
 Ctrl-C stops both; \`make demo\` again picks up where it stopped, \`make demo-reset\` starts clean.
==================================================================

INFO
if [ -n "${SANDBOX_PUBLIC_URL:-}" ]; then
	# Phones open Connect by camera: /login redirects to the Connect URL above.
	echo " On a phone: ${app_server}/login (leads to Connect)"
	bin/tutorial-backend -qr "${app_server}/login" || true
	echo
else
	echo " Phones on the LAN: SANDBOX_PUBLIC_URL=http://<this machine's LAN address>:${SANDBOX_PORT} make demo"
	echo " (docs/workshop.md); the banner then shows a QR code to open Connect."
	echo
fi
wait -n "${pids[@]}" || true
echo "a server stopped; stopping the demo"
