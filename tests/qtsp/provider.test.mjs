// The test QTSP's own strictness (tests/qtsp/csc-provider.mjs): every rule the C++ client's
// tests rely on, checked here against the provider directly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const REDIRECT = 'http://127.0.0.1:9/qtsp/callback';
const SHA256 = '2.16.840.1.101.3.4.2.1';
const RSA = '1.2.840.113549.1.1.1';
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const config = {
  clients: [{ client_id: 'firmo', client_secret: 's3cret', redirect_uris: [REDIRECT] }],
  users: [{ userID: 'RSSMRA80A01H501U', name: 'Mario Rossi', key: 'rsa' },
    { userID: 'eve', name: 'Eve Curve', key: 'ec' }],
};

let child;
let base;

before(async () => {
  child = spawn(process.execPath, [path.join(here, 'csc-provider.mjs'), '0', JSON.stringify(config)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /CSC provider: (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`provider exited: ${out}`)));
  });
});
after(() => child?.kill('SIGTERM'));

async function post(p, body, token, type = 'application/json') {
  const headers = { 'Content-Type': type };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(base + p, { method: 'POST', headers,
    body: type === 'application/json' ? JSON.stringify(body) : new URLSearchParams(body).toString() });
  return { status: r.status, body: await r.json() };
}

async function serviceToken(secret = 's3cret') {
  return post('/oauth2/token', { grant_type: 'client_credentials', client_id: 'firmo',
    client_secret: secret }, null, 'application/x-www-form-urlencoded');
}

async function credentialOf(userID) {
  const t = (await serviceToken()).body.access_token;
  const list = await post('/csc/v2/credentials/list', { userID }, t);
  return { service: t, id: list.body.credentialIDs[0] };
}

const digest = (s) => crypto.createHash('sha256').update(s).digest();

// Runs authorize (clicking `decision`) and returns {code, state} or {error} from the redirect.
async function authorize(params, decision = 'allow') {
  const url = new URL('/oauth2/authorize', base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const page = await fetch(url);
  const html = await page.text();
  if (page.status !== 200) return { page: page.status, html };
  const tx = /name="tx" value="([^"]+)"/.exec(html)[1];
  const r = await fetch(new URL('/oauth2/authorize/decision', base), { method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ tx, decision }).toString(), redirect: 'manual' });
  assert.equal(r.status, 302);
  return Object.fromEntries(new URL(r.headers.get('location')).searchParams);
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

async function credentialToken(id, hashes, { verifier: override } = {}) {
  const { verifier, challenge } = pkce();
  const back = await authorize({ response_type: 'code', client_id: 'firmo', redirect_uri: REDIRECT,
    scope: 'credential', credentialID: id, numSignatures: String(hashes.length),
    hashes: hashes.map((h) => h.toString('base64url')).join(','), hashAlgorithmOID: SHA256,
    state: 'st', code_challenge: challenge, code_challenge_method: 'S256' });
  return post('/oauth2/token', { grant_type: 'authorization_code', client_id: 'firmo',
    client_secret: 's3cret', code: back.code, redirect_uri: REDIRECT,
    code_verifier: override ?? verifier }, null, 'application/x-www-form-urlencoded');
}

test('info names the authorization server', async () => {
  const r = await post('/csc/v2/info', {});
  assert.equal(r.status, 200);
  assert.equal(r.body.oauth2, base);
  assert.ok(r.body.authType.includes('oauth2code'));
});

test('a wrong client secret is refused', async () => {
  const r = await serviceToken('wrong');
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'invalid_client');
});

test('unknown members and wrong types are refused with CSC error bodies', async () => {
  const t = (await serviceToken()).body.access_token;
  let r = await post('/csc/v2/credentials/list', { userID: 'x', color: 'red' }, t);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, { error: 'invalid_request', error_description: 'Unknown parameter: color' });
  r = await post('/csc/v2/credentials/info', { credentialID: 42 }, t);
  assert.equal(r.status, 400);
  assert.match(r.body.error_description, /credentialID/);
  r = await post('/csc/v2/credentials/list', { userID: 'x' }, 'not-a-token');
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'invalid_token');
});

test('a full round trip signs exactly the authorized hashes, once', async () => {
  const { service, id } = await credentialOf('RSSMRA80A01H501U');
  const info = await post('/csc/v2/credentials/info', { credentialID: id, certificates: 'chain' }, service);
  assert.equal(info.body.cert.certificates.length, 2);
  assert.equal(info.body.SCAL, '2');
  const hashes = [digest('a'), digest('b')];
  const tok = await credentialToken(id, hashes);
  assert.equal(tok.status, 200, JSON.stringify(tok.body));
  const t = tok.body.access_token;
  // A service token cannot sign.
  let r = await post('/csc/v2/signatures/signHash', { credentialID: id, hashes: [hashes[0].toString('base64')],
    hashAlgorithmOID: SHA256, signAlgo: RSA }, service);
  assert.equal(r.status, 403);
  // A hash that was not authorized.
  r = await post('/csc/v2/signatures/signHash', { credentialID: id, hashes: [digest('c').toString('base64')],
    hashAlgorithmOID: SHA256, signAlgo: RSA }, t);
  assert.equal(r.status, 400);
  assert.match(r.body.error_description, /not authorized/);
  r = await post('/csc/v2/signatures/signHash', { credentialID: id,
    hashes: hashes.map((h) => h.toString('base64')), hashAlgorithmOID: SHA256, signAlgo: RSA }, t);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const cert = new crypto.X509Certificate(Buffer.from(info.body.cert.certificates[0], 'base64'));
  for (const [i, sig] of r.body.signatures.entries()) {
    const plain = crypto.publicDecrypt({ key: cert.publicKey, padding: crypto.constants.RSA_PKCS1_PADDING },
      Buffer.from(sig, 'base64'));
    assert.deepEqual(plain.subarray(plain.length - 32), hashes[i]);
  }
  // The token is spent.
  r = await post('/csc/v2/signatures/signHash', { credentialID: id, hashes: [hashes[0].toString('base64')],
    hashAlgorithmOID: SHA256, signAlgo: RSA }, t);
  assert.equal(r.status, 400);
  assert.match(r.body.error_description, /not authorized|numSignatures/);
});

test('an ECDSA credential signs a digest that verifies', async () => {
  const { service, id } = await credentialOf('eve');
  const info = await post('/csc/v2/credentials/info', { credentialID: id }, service);
  assert.deepEqual(info.body.key.algo, [ECDSA_SHA256]);
  const h = digest('ec');
  const t = (await credentialToken(id, [h])).body.access_token;
  const r = await post('/csc/v2/signatures/signHash', { credentialID: id, hashes: [h.toString('base64')],
    hashAlgorithmOID: SHA256, signAlgo: ECDSA_SHA256 }, t);
  assert.equal(r.status, 200);
  const cert = new crypto.X509Certificate(Buffer.from(info.body.cert.certificates[0], 'base64'));
  // Verify over the message 'ec' (node hashes it with SHA-256 itself).
  assert.ok(crypto.verify('sha256', Buffer.from('ec'), cert.publicKey, Buffer.from(r.body.signatures[0], 'base64')));
});

test('the token is bound to its credential', async () => {
  const { id } = await credentialOf('RSSMRA80A01H501U');
  const { id: other } = await credentialOf('eve');
  const h = digest('x');
  const t = (await credentialToken(id, [h])).body.access_token;
  const r = await post('/csc/v2/signatures/signHash', { credentialID: other, hashes: [h.toString('base64')],
    hashAlgorithmOID: SHA256, signAlgo: ECDSA_SHA256 }, t);
  assert.equal(r.status, 400);
  assert.match(r.body.error_description, /credentialID/);
});

test('PKCE is checked and a code is single-use', async () => {
  const { id } = await credentialOf('RSSMRA80A01H501U');
  const r = await credentialToken(id, [digest('p')], { verifier: 'x'.repeat(43) });
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'invalid_grant');
  assert.match(r.body.error_description, /PKCE/);
  const { verifier, challenge } = pkce();
  const back = await authorize({ response_type: 'code', client_id: 'firmo', redirect_uri: REDIRECT,
    scope: 'credential', credentialID: id, numSignatures: '1', hashes: digest('q').toString('base64url'),
    hashAlgorithmOID: SHA256, state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
  const form = { grant_type: 'authorization_code', client_id: 'firmo', client_secret: 's3cret',
    code: back.code, redirect_uri: REDIRECT, code_verifier: verifier };
  assert.equal((await post('/oauth2/token', form, null, 'application/x-www-form-urlencoded')).status, 200);
  const again = await post('/oauth2/token', form, null, 'application/x-www-form-urlencoded');
  assert.equal(again.status, 400);
  assert.equal(again.body.error, 'invalid_grant');
});

test('authorize refuses a missing PKCE challenge, a count mismatch and a foreign redirect', async () => {
  const { id } = await credentialOf('RSSMRA80A01H501U');
  const good = { response_type: 'code', client_id: 'firmo', redirect_uri: REDIRECT, scope: 'credential',
    credentialID: id, numSignatures: '1', hashes: digest('r').toString('base64url'),
    hashAlgorithmOID: SHA256, state: 's', code_challenge: pkce().challenge, code_challenge_method: 'S256' };
  const { code_challenge: _, ...noPkce } = good;
  assert.match((await authorize(noPkce)).html, /PKCE/);
  assert.match((await authorize({ ...good, numSignatures: '2' })).html, /numSignatures/);
  assert.match((await authorize({ ...good, redirect_uri: 'http://evil.example/cb' })).html, /redirect_uri/);
});

test('a denied authorization redirects with access_denied and the state', async () => {
  const { id } = await credentialOf('RSSMRA80A01H501U');
  const back = await authorize({ response_type: 'code', client_id: 'firmo', redirect_uri: REDIRECT,
    scope: 'credential', credentialID: id, numSignatures: '1', hashes: digest('d').toString('base64url'),
    hashAlgorithmOID: SHA256, state: 'deny-state', code_challenge: pkce().challenge,
    code_challenge_method: 'S256' }, 'deny');
  assert.equal(back.error, 'access_denied');
  assert.equal(back.state, 'deny-state');
  assert.equal(back.code, undefined);
});

test('the fail-sign-hash hook answers 503 without spending the token', async () => {
  const { id } = await credentialOf('RSSMRA80A01H501U');
  const hashes = [digest('outage')];
  const tok = await credentialToken(id, hashes);
  assert.equal(tok.status, 200, JSON.stringify(tok.body));
  const armed = await post('/test/fail-sign-hash', { count: 1 });
  assert.equal(armed.status, 200);
  const body = { credentialID: id, hashes: [hashes[0].toString('base64')], hashAlgorithmOID: SHA256,
    signAlgo: RSA };
  let r = await post('/csc/v2/signatures/signHash', body, tok.body.access_token);
  assert.equal(r.status, 503);
  assert.equal(r.body.error, 'temporarily_unavailable');
  r = await post('/csc/v2/signatures/signHash', body, tok.body.access_token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
});
