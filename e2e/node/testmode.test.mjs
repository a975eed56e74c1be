// Smartcar's test mode as its own SDK suites see it, checked through the official Node SDK
// (npm `smartcar`, unmodified) against smartcar-sandbox: what a user's existing end-to-end
// suite, written against Smartcar's test mode, relies on. Our own tests of the behaviours the
// SDKs' suites taught us (issue: fidelity); they are not those suites.
//
// Run by `go test ./e2e -run NodeSDK` with the SMARTCAR_* variables pointing at a sandbox.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import smartcar from 'smartcar';
import { ConnectDriver } from './connect.mjs';

const ORIGIN = process.env.SMARTCAR_API_ORIGIN;
const REDIRECT_URI = process.env.E2E_REDIRECT_URI || 'http://localhost:8000/exchange';
const SENT = 'Successfully sent request to vehicle';
// Smartcar's descriptions, word for word (the SDK's error.message is "<type>:<code> - <description>").
const SYNTAX_HINT = 'Please check for missing parameters, spelling and casing mistakes, and other syntax issues.';
const AUTHENTICATION = 'The authorization header is missing or malformed, or it contains invalid or expired '
  + `authentication credentials. ${SYNTAX_HINT}`;
const VALIDATION = `Request invalid or malformed. ${SYNTAX_HINT}`;

/** Runs Connect as a new test-mode user (a random email) under brand, returning a Vehicle. */
async function connectNewUser(brand, scope, email = `${randomUUID()}@email.com`) {
  const client = new smartcar.AuthClient({ redirectUri: REDIRECT_URI, mode: 'test' });
  const back = await new ConnectDriver(ORIGIN).walk(client.getAuthUrl(scope, { forcePrompt: true }), { make: brand, username: email });
  const code = back.searchParams.get('code');
  assert.ok(code, `Connect under ${brand} came back without a code: ${back}`);
  const { accessToken } = await client.exchangeCode(code);
  const { vehicles } = await smartcar.getVehicles(accessToken);
  return { email, accessToken, vehicles, vehicle: new smartcar.Vehicle(vehicles[0], accessToken) };
}

async function rejection(p) {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof smartcar.SmartcarError, `not a SmartcarError: ${e?.stack ?? e}`);
    return e;
  }
  assert.fail('the call succeeded; an error was expected');
}

const isWhole = (x) => Number.isInteger(x);

describe('test mode as Smartcar runs it', () => {
  let chevy; let ford; let kia;

  before(async () => {
    chevy = await connectNewUser('CHEVROLET', ['required:read_vehicle_info', 'required:read_tires',
      'required:read_battery', 'required:read_fuel', 'required:read_odometer', 'required:read_charge']);
    ford = await connectNewUser('FORD', ['required:read_vehicle_info', 'required:control_charge', 'required:control_security',
      'required:read_security', 'required:control_navigation']);
    kia = await connectNewUser('KIA', ['required:read_vehicle_info', 'required:read_charge', 'required:control_charge']);
  });

  test('a new username signs in to one vehicle, a real model of the brand picked', async () => {
    assert.equal(chevy.vehicles.length, 1);
    const a = await chevy.vehicle.attributes();
    assert.deepEqual([a.make, a.model], ['CHEVROLET', 'Volt']);
    assert.equal(typeof a.year, 'number');
    assert.equal((await ford.vehicle.attributes()).make, 'FORD');
    assert.equal((await kia.vehicle.attributes()).make, 'KIA');
  });

  test('the same username under another brand adds that brand\'s car to the same user', async () => {
    const scope = ['read_vehicle_info', 'read_user_profile'];
    const first = await connectNewUser('CHEVROLET', scope);
    const tesla = await connectNewUser('TESLA', scope, first.email);
    assert.equal(tesla.vehicles.length, 1);
    assert.notEqual(tesla.vehicles[0], first.vehicles[0]);
    assert.equal((await tesla.vehicle.attributes()).make, 'TESLA');
    assert.equal((await smartcar.getUser(tesla.accessToken)).id, (await smartcar.getUser(first.accessToken)).id);
    const volt = await connectNewUser('CHEVROLET', scope, first.email);
    assert.deepEqual(volt.vehicles, first.vehicles, 'the Chevrolet sign-in gives the same Volt again');
  });

  test('readings look like real data: non-integral pressures and percentages', async () => {
    const tires = await chevy.vehicle.tirePressure();
    const values = [tires.frontLeft, tires.frontRight, tires.backLeft, tires.backRight];
    assert.ok(values.every((x) => typeof x === 'number' && !isWhole(x)), JSON.stringify(tires));
    const battery = await chevy.vehicle.battery();
    assert.ok(battery.percentRemaining > 0 && battery.percentRemaining < 1, JSON.stringify(battery));
    assert.ok(!isWhole(battery.range), JSON.stringify(battery));
  });

  test('commands succeed with Smartcar\'s message and change state', async () => {
    for (const [name, call] of [['lock', () => ford.vehicle.lock()], ['unlock', () => ford.vehicle.unlock()],
      ['stopCharge', () => ford.vehicle.stopCharge()], ['startCharge', () => ford.vehicle.startCharge()],
      ['sendDestination', () => ford.vehicle.sendDestination(37.7749, -122.4194)],
      ['setChargeLimit', () => kia.vehicle.setChargeLimit(0.9)]]) {
      const res = await call();
      assert.equal(res.status, 'success', name);
      assert.equal(res.message, SENT, `${name}: ${JSON.stringify(res)}`);
    }
    assert.equal((await ford.vehicle.lockStatus()).isLocked, false);
    assert.equal((await kia.vehicle.getChargeLimit()).limit, 0.9);
  });

  test('error descriptions are Smartcar\'s, word for word', async () => {
    const badToken = await rejection(new smartcar.Vehicle(chevy.vehicles[0], 'abc').odometer());
    assert.equal(badToken.statusCode, 401);
    assert.equal(badToken.message, `AUTHENTICATION:null - ${AUTHENTICATION}`);
    assert.equal(badToken.docURL, 'https://smartcar.com/docs/errors/api-errors/authentication-errors#null');

    // Authentication comes before validation: a bogus token with a malformed webhook id is 401.
    const unsub = await rejection(ford.vehicle.unsubscribe('not-a-management-token', 'webhookID'));
    assert.equal(unsub.statusCode, 401);
    assert.equal(unsub.message, `AUTHENTICATION:null - ${AUTHENTICATION}`);

    // A malformed id is VALIDATION (400, resolution null) before any lookup.
    const sub = await rejection(ford.vehicle.subscribe('webhookID'));
    assert.equal(sub.statusCode, 400);
    assert.equal(sub.message, `VALIDATION:null - ${VALIDATION}`);
    assert.equal(sub.resolution?.type ?? null, null);
    const badID = await rejection(new smartcar.Vehicle('not-a-uuid', ford.accessToken).attributes());
    assert.equal(badID.statusCode, 400);
    assert.equal(badID.type, 'VALIDATION');
  });

  test('a destination outside the globe is refused with Smartcar\'s message', async () => {
    // Through request(), so the server (not the SDK) does the checking.
    for (const [body, field] of [[{ latitude: 100, longitude: 0 }, 'latitude'], [{ latitude: 0, longitude: -181 }, 'longitude']]) {
      const err = await rejection(ford.vehicle.request('post', 'navigation/destination', body));
      assert.equal(err.statusCode, 400, err.message);
      assert.equal(err.type, 'VALIDATION', err.message);
      const range = field === 'latitude' ? '-90 and 90' : '-180 and 180';
      assert.equal(err.description, `Invalid ${field} value. It must be between ${range}.`);
    }
  });

  describe('API v1.0 (smartcar.setApiVersion(\'1.0\'))', () => {
    before(() => smartcar.setApiVersion('1.0'));
    after(() => smartcar.setApiVersion('2.0'));

    test('reads, commands and batch answer on /v1.0', async () => {
      const volt = new smartcar.Vehicle(chevy.vehicles[0], chevy.accessToken);
      assert.equal((await volt.attributes()).model, 'Volt');
      assert.equal(typeof (await volt.odometer()).distance, 'number');
      const f = new smartcar.Vehicle(ford.vehicles[0], ford.accessToken);
      assert.equal((await f.lock()).message, SENT);
      const batch = await volt.batch(['/odometer', '/tires/pressure']);
      assert.equal(typeof batch.odometer().distance, 'number');
      assert.equal(typeof batch.tirePressure().frontLeft, 'number');
    });

    test('an unknown path is Smartcar error JSON, never a page', async () => {
      const volt = new smartcar.Vehicle(chevy.vehicles[0], chevy.accessToken);
      const err = await rejection(volt.request('get', 'no/such/endpoint'));
      assert.equal(err.statusCode, 404);
      assert.equal(err.type, 'RESOURCE_NOT_FOUND', err.message);
    });
  });
});
