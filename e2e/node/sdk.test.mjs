// The official Smartcar Node SDK (npm `smartcar`, unmodified) against smartcar-sandbox.
//
// The SDK is pointed at the sandbox ONLY through its own environment variables
// (SMARTCAR_API_ORIGIN, SMARTCAR_AUTH_ORIGIN, SMARTCAR_MANAGEMENT_API_ORIGIN,
// SMARTCAR_API_V3_ORIGIN, SMARTCAR_CLIENT_ID, SMARTCAR_CLIENT_SECRET). `go test ./e2e` starts a
// sandbox and runs this file with them set; E2E_USERNAME and E2E_VEHICLE (JSON of the fixture's
// first vehicle of that user) say what the sandbox must answer.
//
//   node --test e2e/node/sdk.test.mjs
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import smartcar from 'smartcar';
import { ConnectDriver } from './connect.mjs';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run this through \`go test ./e2e -run NodeSDK\``);
  return v;
};
for (const name of ['SMARTCAR_API_ORIGIN', 'SMARTCAR_AUTH_ORIGIN', 'SMARTCAR_MANAGEMENT_API_ORIGIN',
  'SMARTCAR_API_V3_ORIGIN', 'SMARTCAR_CLIENT_ID', 'SMARTCAR_CLIENT_SECRET']) env(name);

const ORIGIN = env('SMARTCAR_API_ORIGIN');
const USERNAME = env('E2E_USERNAME');
const FIXTURE = JSON.parse(env('E2E_VEHICLE')); // { id, make, model, year, vin, powertrain }
// A redirect URI of the fixtures' demo application; nothing listens there: the driver stops at
// the redirect and reads the code from it.
const REDIRECT_URI = process.env.E2E_REDIRECT_URI || 'http://localhost:8000/exchange';
const SCOPE = ['required:read_vehicle_info', 'read_vin', 'read_odometer', 'read_location',
  'read_security', 'control_security', 'read_fuel', 'read_battery', 'read_charge'];

const log = process.env.E2E_VERBOSE ? (m) => console.log('  connect:', m) : () => {};

/** Asserts that p rejects with a SmartcarError carrying the full error shape. */
async function rejectsSmartcar(p, { statusCode, type, code } = {}) {
  let err;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'the call succeeded; an error was expected');
  assert.ok(err instanceof smartcar.SmartcarError, `not a SmartcarError: ${err?.stack ?? err}`);
  if (statusCode !== undefined) assert.equal(err.statusCode, statusCode, err.message);
  if (type !== undefined) assert.equal(err.type, type, err.message);
  if (code !== undefined) assert.equal(err.code, code, err.message);
  assert.equal(typeof err.description, 'string', `description missing: ${err.message}`);
  assert.ok(err.description.length > 0, `empty description: ${err.message}`);
  assert.match(err.requestId ?? '', /\S/, `requestId missing: ${err.message}`);
  return err;
}

function authClient() {
  // clientId/clientSecret come from SMARTCAR_CLIENT_ID / SMARTCAR_CLIENT_SECRET, as the SDK allows.
  return new smartcar.AuthClient({ redirectUri: REDIRECT_URI, mode: 'test' });
}

describe('smartcar (Node SDK) against the sandbox', () => {
  const client = authClient();
  let access; // { accessToken, refreshToken, expiration, refreshExpiration }
  let vehicle; // smartcar.Vehicle of the fixture's vehicle
  let ids; // every connected vehicle id

  before(async () => {
    const state = `node-e2e-${process.pid}`;
    const url = client.getAuthUrl(SCOPE, { state, forcePrompt: true });
    assert.ok(url.startsWith(`${ORIGIN}/oauth/authorize?`), `the SDK built ${url}`);
    const back = await new ConnectDriver(ORIGIN, { log }).walk(url, { make: FIXTURE.make, username: USERNAME });
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
    assert.equal(back.searchParams.get('state'), state);
    const code = back.searchParams.get('code');
    assert.ok(code, `no code in ${back}`);
    access = await client.exchangeCode(code);
  });

  test('exchangeCode gives access and refresh tokens', () => {
    assert.equal(typeof access.accessToken, 'string');
    assert.equal(typeof access.refreshToken, 'string');
    assert.ok(access.expiration instanceof Date && access.expiration > new Date(), `expiration ${access.expiration}`);
  });

  test('getVehicles lists the connected vehicles', async () => {
    const res = await smartcar.getVehicles(access.accessToken);
    assert.ok(Array.isArray(res.vehicles) && res.vehicles.length > 0, JSON.stringify(res));
    assert.ok(res.vehicles.includes(FIXTURE.id), `${FIXTURE.id} not in ${res.vehicles}`);
    assert.equal(res.paging.count, res.vehicles.length);
    assert.match(res.meta.requestId, /\S/);
    ids = res.vehicles;
    vehicle = new smartcar.Vehicle(FIXTURE.id, access.accessToken);

    const page = await smartcar.getVehicles(access.accessToken, { limit: 1, offset: 0 });
    assert.deepEqual(page.vehicles, ids.slice(0, 1));
  });

  test('getUser', async () => {
    const user = await smartcar.getUser(access.accessToken);
    assert.match(user.id, /^[0-9a-f-]{36}$/i);
    assert.match(user.meta.requestId, /\S/);
  });

  test('attributes match the fixture', async () => {
    const a = await vehicle.attributes();
    assert.deepEqual({ id: a.id, make: a.make, model: a.model, year: a.year },
      { id: FIXTURE.id, make: FIXTURE.make, model: FIXTURE.model, year: FIXTURE.year });
    assert.match(a.meta.requestId, /\S/);
  });

  test('vin', async () => {
    const v = await vehicle.vin();
    assert.equal(v.vin, FIXTURE.vin);
  });

  test('odometer and location, with meta from the sc-* headers', async () => {
    const odo = await vehicle.odometer();
    assert.equal(typeof odo.distance, 'number');
    assert.ok(odo.distance > 0, `distance ${odo.distance}`);
    assert.equal(odo.meta.unitSystem, 'metric');
    assert.ok(odo.meta.dataAge instanceof Date && !Number.isNaN(odo.meta.dataAge.getTime()), `dataAge ${odo.meta.dataAge}`);

    const imperial = await new smartcar.Vehicle(FIXTURE.id, access.accessToken, { unitSystem: 'imperial' }).odometer();
    assert.equal(imperial.meta.unitSystem, 'imperial');
    assert.ok(Math.abs(imperial.distance * 1.609344 - odo.distance) < 1, `${imperial.distance} mi vs ${odo.distance} km`);

    const loc = await vehicle.location();
    assert.ok(loc.latitude >= -90 && loc.latitude <= 90, `latitude ${loc.latitude}`);
    assert.ok(loc.longitude >= -180 && loc.longitude <= 180, `longitude ${loc.longitude}`);
  });

  test('lock and unlock change lockStatus', async () => {
    const locked = await vehicle.lock();
    assert.equal(locked.status, 'success');
    assert.equal((await vehicle.lockStatus()).isLocked, true);
    const unlocked = await vehicle.unlock();
    assert.equal(unlocked.status, 'success');
    assert.equal((await vehicle.lockStatus()).isLocked, false);
    await vehicle.lock();
    assert.equal((await vehicle.lockStatus()).isLocked, true);
  });

  test('batch returns each path through its accessor', async () => {
    const odo = await vehicle.odometer();
    const b = await vehicle.batch(['/odometer', '/location', '/vin']);
    assert.equal(b.odometer().distance, odo.distance);
    assert.equal(typeof b.location().latitude, 'number');
    assert.equal(b.vin().vin, FIXTURE.vin);
    assert.match(b.odometer().meta.requestId, /\S/);
  });

  test('permissions list what was granted', async () => {
    const res = await vehicle.permissions();
    for (const p of ['read_vehicle_info', 'read_odometer', 'control_security']) {
      assert.ok(res.permissions.includes(p), `${p} not in ${res.permissions}`);
    }
    assert.equal(res.paging.count, res.permissions.length);
  });

  test('SDK errors carry type, code, description and requestId', async () => {
    // A made-up token is refused.
    await rejectsSmartcar(new smartcar.Vehicle(FIXTURE.id, 'not-a-token').attributes(), { statusCode: 401, type: 'AUTHENTICATION' });
    // Fuel on a battery-electric vehicle: the car has no tank.
    if (FIXTURE.powertrain === 'BEV') {
      await rejectsSmartcar(vehicle.fuel(), { type: 'COMPATIBILITY' });
    }
    // A vehicle id the token does not name.
    const other = new smartcar.Vehicle('00000000-0000-4000-8000-000000000000', access.accessToken);
    const err = await rejectsSmartcar(other.odometer());
    assert.ok(err.statusCode >= 400 && err.statusCode < 500, err.message);
  });

  test('v3: getVehicle, getSignals, getSignal through SMARTCAR_API_V3_ORIGIN', async () => {
    const v = await smartcar.getVehicle(access.accessToken, FIXTURE.id);
    const body = v.body.data ?? v.body;
    assert.equal(body.id, FIXTURE.id, JSON.stringify(v.body));
    const attrs = body.attributes ?? body;
    assert.deepEqual([attrs.make, attrs.model, attrs.year], [FIXTURE.make, FIXTURE.model, FIXTURE.year], JSON.stringify(v.body));

    const signals = await vehicle.getSignals();
    assert.ok(Array.isArray(signals.body.data) && signals.body.data.length > 0, JSON.stringify(signals.body).slice(0, 500));
    const codes = signals.body.data.map((s) => s.attributes?.code ?? s.id);
    assert.ok(codes.includes('odometer-traveleddistance'), `codes: ${codes}`);

    const sig = await vehicle.getSignal('odometer-traveleddistance');
    assert.equal(sig.body.id, 'odometer-traveleddistance');
    assert.equal(sig.body.attributes.code, 'odometer-traveleddistance');
    // v2 and v3 render one vehicle state: the same distance (v3 body is in kilometers here).
    const odo = await vehicle.odometer();
    assert.ok(Math.abs(sig.body.attributes.body.value - odo.distance) < 0.5,
      `v3 ${JSON.stringify(sig.body.attributes.body)} vs v2 ${odo.distance} km`);
    assert.match(sig.headers['sc-request-id'] ?? '', /\S/, `v3 meta: ${JSON.stringify(sig.headers)}`);
  });

  test('exchangeRefreshToken rotates the tokens', async () => {
    const fresh = await client.exchangeRefreshToken(access.refreshToken);
    assert.notEqual(fresh.refreshToken, access.refreshToken);
    assert.notEqual(fresh.accessToken, access.accessToken);
    access = fresh;
    vehicle = new smartcar.Vehicle(FIXTURE.id, access.accessToken);
    assert.equal((await vehicle.attributes()).id, FIXTURE.id);
    // A made-up refresh token is an OAuth error.
    await rejectsSmartcar(client.exchangeRefreshToken('not-a-refresh-token'), { type: 'invalid_grant' });
  });

  test('a refused code is an OAuth error', async () => {
    await rejectsSmartcar(client.exchangeCode('not-a-code'), { type: 'invalid_grant' });
  });

  test('disconnect, then the vehicle is out of reach', async () => {
    const res = await vehicle.disconnect();
    assert.equal(res.status, 'success');
    const err = await rejectsSmartcar(vehicle.attributes());
    assert.ok(err.statusCode >= 400 && err.statusCode < 500, err.message);
    // The other vehicles of the grant stay connected.
    const rest = ids.filter((id) => id !== FIXTURE.id);
    if (rest.length > 0) {
      const a = await new smartcar.Vehicle(rest[0], access.accessToken).attributes();
      assert.equal(a.id, rest[0]);
    }
  });

  test('Connect: "Deny access" sends access_denied back to the app', async () => {
    const url = authClient().getAuthUrl(SCOPE, { state: 'deny-me' });
    const back = await new ConnectDriver(ORIGIN, { log }).walk(url, { make: FIXTURE.make, username: USERNAME, deny: true });
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 'deny-me');
    assert.equal(back.searchParams.get('code'), null);
  });
});

// The official SDK's own end-to-end compatibility tests (node-sdk test/end-to-end/index.js,
// getCompatibility and getCompatibilityMatrix), with their assertions: no Connect needed.
describe('compatibility API through the SDK', () => {
  const clientId = env('SMARTCAR_CLIENT_ID');
  const clientSecret = env('SMARTCAR_CLIENT_SECRET');

  test('getCompatibility: the 2017 Tesla is capable, the 2016 Audi compatible but not capable', async () => {
    const scope = ['read_odometer', 'read_location'];
    const tesla = await smartcar.getCompatibility('5YJXCDE22HF068739', scope, null, { clientId, clientSecret });
    const audi = await smartcar.getCompatibility('WAUAFAFL1GN014882', scope, null, { clientId, clientSecret });
    for (const res of [tesla, audi]) {
      assert.deepEqual(Object.keys(res).sort(), ['capabilities', 'compatible', 'meta', 'reason'], JSON.stringify(res));
      assert.ok(res.compatible, JSON.stringify(res));
      assert.equal(res.meta.requestId.length, 36);
      assert.equal(res.capabilities.length, 2, JSON.stringify(res));
    }
    assert.ok(audi.capabilities.every((c) => c.capable === false), JSON.stringify(audi));
    assert.ok(tesla.capabilities.every((c) => c.capable === true), JSON.stringify(tesla));
  });

  test('getCompatibility in test mode: the level decides; no level is a VALIDATION error', async () => {
    const bev = await smartcar.getCompatibility('WAUAFAFL1GN014882', ['read_fuel', 'read_battery'], 'US',
      { clientId, clientSecret, testModeCompatibilityLevel: 'bev' });
    assert.deepEqual(bev.capabilities.map((c) => [c.endpoint, c.capable]),
      [['/fuel', false], ['/battery', true], ['/battery/capacity', true], ['/battery/nominal_capacity', true]]);
    const err = await rejectsSmartcar(smartcar.getCompatibility('WAUAFAFL1GN014882', ['read_fuel'], 'US',
      { clientId, clientSecret, mode: 'test' }), { statusCode: 400, type: 'VALIDATION' });
    assert.ok(err.detail?.some((d) => d.field === 'test_mode_compatibility_level'), JSON.stringify(err.detail));
  });

  test('getCompatibilityMatrix: Nissan BEVs with read_battery and read_charge', async () => {
    const res = await smartcar.getCompatibilityMatrix('US', {
      scope: ['read_battery', 'read_charge'], make: 'NISSAN', type: 'BEV', clientId, clientSecret,
    });
    assert.ok(res.NISSAN?.length > 0, JSON.stringify(res));
    for (const v of res.NISSAN) {
      assert.deepEqual(Object.keys(v).sort(), ['endYear', 'endpoints', 'model', 'permissions', 'startYear', 'type']);
      assert.equal(v.type, 'BEV');
      assert.ok(v.permissions.includes('read_battery') && v.permissions.includes('read_charge'), JSON.stringify(v));
    }
  });
});
