// A strict Cloud Signature Consortium API v2.0 provider for Firmo's tests (loopback only, node
// built-ins only). It plays a qualified trust service provider: a test root CA, one end-entity
// certificate and key per user (made by the `openssl` command line), OAuth 2.0 (client
// credentials for the service, authorization code with PKCE S256 and scope=credential for the
// signer, CSC v2 section 8.4.2), and the CSC methods info, credentials/list, credentials/info
// and signatures/signHash.
//
// Strict on purpose, so the client's mistakes show:
// - a credential token is bound to its credentialID, its numSignatures and the exact hashes the
//   signer authorized, and it signs at most numSignatures hashes in all;
// - PKCE S256 is required and checked, codes are single-use and short-lived, the redirect_uri of
//   the token request must be the one of the authorization request;
// - a wrong client secret is refused (401 invalid_client);
// - unknown members, wrong types and missing members are refused with CSC error bodies
//   ({"error": ..., "error_description": ...}, 400), a bad bearer token with 401 invalid_token.
//
// Usage: node csc-provider.mjs PORT CONFIG_JSON
//   CONFIG_JSON: {"dir": "/tmp/x" (keys, certificates; made if missing),
//                 "clients": [{"client_id", "client_secret", "redirect_uris": [...]}],
//                 "users": [{"userID", "name", "key": "rsa" | "ec"}],
//                 "revocation_base": "http://127.0.0.1:PORT" (optional: the provider's own
//                 URL; its certificates then name CRLs and the root there, as a real QTSP's
//                 do, so that a signer can prove their status: PAdES B-LT)}
// Prints "CSC provider: http://127.0.0.1:PORT" and "CSC root: /path/root.pem" when ready.
// The CSC API base is {provider}/csc/v2; the authorization server is {provider} itself
// (/oauth2/authorize, /oauth2/token), as /csc/v2/info's `oauth2` says.
//
// Test hooks (not CSC): GET /test/log answers the signHash calls served so far, as JSON
// ([{credentialID, hashes}]), so tests can check that what was signed is what was authorized.
// POST /test/fail-sign-hash {"count": N}: the next N signHash calls answer 503
// (temporarily_unavailable) before looking at their token, as a provider's outage would.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_RSA = '1.2.840.113549.1.1.1';
const OID_RSA_SHA256 = '1.2.840.113549.1.1.11';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');
const CODE_TTL_MS = 120_000;
const TOKEN_TTL_S = 300;

const port = Number(process.argv[2] ?? 0);
const config = JSON.parse(process.argv[3] ?? '{}');
const dir = config.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'csc-provider-'));
const clients = new Map((config.clients ?? []).map((c) => [c.client_id, c]));
const users = config.users ?? [];
const revocationBase = config.revocation_base ?? '';

// ---- keys and certificates (openssl) ----

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function derOf(pemFile) {
  const pem = fs.readFileSync(path.join(dir, pemFile), 'utf8');
  return new crypto.X509Certificate(pem).raw;
}

function makePki() {
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(dir, 'root.pem'))) {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', 'root.key', '-out', 'root.pem', '-days', '3650',
      '-subj', '/C=IT/O=Test QTSP/CN=Test QTSP Root CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', 'ca.key', '-out', 'ca.csr', '-subj', '/C=IT/O=Test QTSP/CN=Test QTSP Qualified CA');
    fs.writeFileSync(path.join(dir, 'ca.ext'),
      'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' +
      (revocationBase ? `crlDistributionPoints=URI:${revocationBase}/test/root.crl\n` +
        `authorityInfoAccess=caIssuers;URI:${revocationBase}/test/root.der\n` : ''));
    openssl('x509', '-req', '-in', 'ca.csr', '-CA', 'root.pem', '-CAkey', 'root.key',
      '-CAcreateserial', '-out', 'ca.pem', '-days', '3650', '-extfile', 'ca.ext');
    fs.writeFileSync(path.join(dir, 'ee.ext'),
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,nonRepudiation\n' +
      'extendedKeyUsage=emailProtection\n' +
      (revocationBase ? `crlDistributionPoints=URI:${revocationBase}/test/ca.crl\n` : ''));
  }
  const credentials = new Map();
  for (const [i, user] of users.entries()) {
    const base = `user${i}`;
    if (!fs.existsSync(path.join(dir, `${base}.pem`))) {
      const keyArgs = user.key === 'ec'
        ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
        : ['-newkey', 'rsa:2048'];
      const cn = (user.name ?? user.userID).replace(/[/=]/g, ' ');
      openssl('req', ...keyArgs, '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`,
        '-subj', `/C=IT/CN=${cn}/serialNumber=TINIT-${user.userID}`);
      openssl('x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
        '-CAcreateserial', '-out', `${base}.pem`, '-days', '730', '-extfile', 'ee.ext');
    }
    const cert = new crypto.X509Certificate(fs.readFileSync(path.join(dir, `${base}.pem`)));
    const id = `cred-${crypto.createHash('sha256').update(user.userID).digest('hex').slice(0, 16)}`;
    credentials.set(id, {
      id, userID: user.userID, keyType: user.key === 'ec' ? 'ec' : 'rsa',
      keyFile: path.join(dir, `${base}.key`),
      key: crypto.createPrivateKey(fs.readFileSync(path.join(dir, `${base}.key`))),
      cert, chain: [cert.raw, derOf('ca.pem')],
    });
  }
  return credentials;
}

const credentials = makePki();

// Empty CRLs of the root and of the issuing CA (openssl ca -gencrl), DER, for revocationBase.
function makeCrl(issuer) {
  const cnf = `${issuer}-crl.cnf`;
  if (!fs.existsSync(path.join(dir, `${issuer}-index.txt`))) {
    fs.writeFileSync(path.join(dir, `${issuer}-index.txt`), '');
    fs.writeFileSync(path.join(dir, `${issuer}-crlnumber`), '01\n');
    fs.writeFileSync(path.join(dir, cnf),
      `[ca]\ndefault_ca = d\n[d]\ndatabase = ${issuer}-index.txt\ncrlnumber = ${issuer}-crlnumber\n` +
      'default_md = sha256\ndefault_crl_days = 30\n');
  }
  openssl('ca', '-config', cnf, '-gencrl', '-keyfile', `${issuer}.key`, '-cert', `${issuer}.pem`,
    '-out', `${issuer}.crl.pem`);
  openssl('crl', '-in', `${issuer}.crl.pem`, '-outform', 'DER', '-out', `${issuer}.crl`);
  return fs.readFileSync(path.join(dir, `${issuer}.crl`));
}
const crls = revocationBase ? { root: makeCrl('root'), ca: makeCrl('ca') } : {};

// ---- state ----

const serviceTokens = new Map();     // token -> {client_id, expires}
const credentialTokens = new Map();  // token -> {client_id, credentialID, hashes: [hex], remaining, expires}
const pendingAuthorizations = new Map();  // transaction id -> authorize parameters
const codes = new Map();             // code -> {..., expires}
const signLog = [];
let signHashFailures = 0;

// ---- helpers ----

class CscError extends Error {
  constructor(status, error, description) {
    super(description);
    this.status = status;
    this.error = error;
  }
}
const invalid = (description) => new CscError(400, 'invalid_request', description);

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

function fail(res, e) {
  if (!(e instanceof CscError)) {
    console.error(e);
    e = new CscError(500, 'server_error', 'internal error');
  }
  const headers = e.status === 401 && e.error === 'invalid_token'
    ? { 'WWW-Authenticate': `Bearer error="invalid_token"` } : {};
  send(res, e.status, { error: e.error, error_description: e.message }, headers);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1 << 20) throw invalid('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req) {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw invalid('Content-Type must be application/json');
  const text = await readBody(req);
  let body;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    throw invalid('the body is not JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('the body must be a JSON object');
  }
  return body;
}

// Checks `body` against {member: [type, required]}: unknown members, missing required members
// and wrong types are refused. Types: 'string', 'boolean', 'integer', 'string[]'.
function checkMembers(body, spec) {
  for (const key of Object.keys(body)) {
    if (!(key in spec)) throw invalid(`Unknown parameter: ${key}`);
  }
  for (const [key, [type, required]] of Object.entries(spec)) {
    const v = body[key];
    if (v === undefined) {
      if (required) throw invalid(`Missing (or invalid type) ${type} parameter ${key}`);
      continue;
    }
    const ok = type === 'string' ? typeof v === 'string'
      : type === 'boolean' ? typeof v === 'boolean'
        : type === 'integer' ? Number.isInteger(v)
          : type === 'string[]' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
            : false;
    if (!ok) throw invalid(`Missing (or invalid type) ${type} parameter ${key}`);
  }
}

function bearer(req, table) {
  const auth = req.headers.authorization ?? '';
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(auth);
  if (!m) throw new CscError(401, 'invalid_token', 'missing or malformed bearer token');
  const entry = table.get(m[1]);
  if (!entry) throw new CscError(401, 'invalid_token', 'invalid access token');
  if (entry.expires < Date.now()) {
    table.delete(m[1]);
    throw new CscError(401, 'invalid_token', 'the access token has expired');
  }
  return entry;
}

const newToken = () => crypto.randomBytes(24).toString('base64url');

function decodeHash(text, alphabet) {
  const re = alphabet === 'base64url' ? /^[A-Za-z0-9_-]+={0,2}$/ : /^[A-Za-z0-9+/]+={0,2}$/;
  if (!re.test(text)) throw invalid(`Invalid Base64 hash string parameter: ${text}`);
  const bytes = Buffer.from(text, alphabet);
  if (bytes.length !== 32) throw invalid('Invalid hash length: a SHA-256 hash has 32 bytes');
  return bytes.toString('hex');
}

function clientAuth(form, req) {
  let id = form.get('client_id');
  let secret = form.get('client_secret');
  const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
  if (basic) {
    const text = Buffer.from(basic[1], 'base64').toString('utf8');
    const at = text.indexOf(':');
    id = decodeURIComponent(text.slice(0, at));
    secret = decodeURIComponent(text.slice(at + 1));
  }
  const client = clients.get(id ?? '');
  const expected = Buffer.from(client?.client_secret ?? '');
  const given = Buffer.from(secret ?? '');
  if (!client || expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) {
    throw new CscError(401, 'invalid_client', 'client authentication failed');
  }
  return client;
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---- OAuth 2.0 ----

function authorizeParams(url) {
  const q = url.searchParams;
  const get = (k) => q.get(k) ?? '';
  const known = new Set(['response_type', 'client_id', 'redirect_uri', 'scope', 'code_challenge',
    'code_challenge_method', 'state', 'credentialID', 'numSignatures', 'hashes',
    'hashAlgorithmOID', 'lang', 'description', 'account_token', 'clientData']);
  for (const key of q.keys()) {
    if (!known.has(key)) throw invalid(`Unknown parameter: ${key}`);
  }
  const client = clients.get(get('client_id'));
  if (!client) throw new CscError(400, 'invalid_client', 'unknown client_id');
  if (!client.redirect_uris.includes(get('redirect_uri'))) {
    throw invalid('redirect_uri is not registered for this client');
  }
  if (get('response_type') !== 'code') throw invalid('response_type must be "code"');
  if (get('scope') !== 'credential') throw invalid('scope must be "credential"');
  if (!/^[A-Za-z0-9_-]{43}$/.test(get('code_challenge'))) {
    throw invalid('code_challenge must be a base64url SHA-256 value (PKCE is required)');
  }
  if (get('code_challenge_method') !== 'S256') throw invalid('code_challenge_method must be S256');
  const credential = credentials.get(get('credentialID'));
  if (!credential) throw invalid('Invalid parameter credentialID');
  if (!/^[1-9][0-9]{0,3}$/.test(get('numSignatures'))) {
    throw invalid('numSignatures must be a positive integer');
  }
  const numSignatures = Number(get('numSignatures'));
  if (get('hashAlgorithmOID') !== OID_SHA256) throw invalid('hashAlgorithmOID must be SHA-256');
  const hashes = get('hashes') === '' ? [] : get('hashes').split(',').map((h) => decodeHash(h, 'base64url'));
  if (hashes.length !== numSignatures) {
    throw invalid('numSignatures does not match the number of hashes');
  }
  if (get('state') === '') throw invalid('state is required');
  return {
    client_id: client.client_id, redirect_uri: get('redirect_uri'), state: get('state'),
    code_challenge: get('code_challenge'), credentialID: credential.id, numSignatures, hashes,
  };
}

function authorizePage(res, url) {
  let params;
  try {
    params = authorizeParams(url);
  } catch (e) {
    // The redirect URI is not trusted yet: show the error instead of redirecting.
    res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Error</title><h1>Authorization error</h1>` +
      `<p id="error">${escapeHtml(e.error ?? 'server_error')}: ${escapeHtml(e.message)}</p>`);
    return;
  }
  const tx = newToken();
  pendingAuthorizations.set(tx, params);
  const credential = credentials.get(params.credentialID);
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test QTSP</title></head>
<body><main><h1>Test QTSP: authorize your signature</h1>
<p>Signer: <span id="subject">${escapeHtml(credential.cert.subject.replace(/\n/g, ', '))}</span></p>
<p>Signatures: <span id="count">${params.numSignatures}</span></p>
<form method="post" action="/oauth2/authorize/decision">
<input type="hidden" name="tx" value="${tx}">
<button type="submit" name="decision" value="allow">Authorize</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></main></body></html>`);
}

async function authorizeDecision(req, res) {
  const form = new URLSearchParams(await readBody(req));
  const params = pendingAuthorizations.get(form.get('tx') ?? '');
  if (!params) throw invalid('unknown or finished authorization');
  pendingAuthorizations.delete(form.get('tx'));
  const back = new URL(params.redirect_uri);
  back.searchParams.set('state', params.state);
  if (form.get('decision') === 'allow') {
    const code = newToken();
    codes.set(code, { ...params, expires: Date.now() + CODE_TTL_MS });
    back.searchParams.set('code', code);
  } else {
    back.searchParams.set('error', 'access_denied');
    back.searchParams.set('error_description', 'the user denied the authorization');
  }
  res.writeHead(302, { Location: back.toString() });
  res.end();
}

async function token(req, res) {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw invalid('Content-Type must be application/x-www-form-urlencoded');
  }
  const form = new URLSearchParams(await readBody(req));
  const client = clientAuth(form, req);
  const grant = form.get('grant_type');
  if (grant === 'client_credentials') {
    const known = new Set(['grant_type', 'client_id', 'client_secret', 'scope']);
    for (const key of form.keys()) if (!known.has(key)) throw invalid(`Unknown parameter: ${key}`);
    if (form.has('scope') && form.get('scope') !== 'service') {
      throw new CscError(400, 'invalid_scope', 'only scope=service is granted to clients');
    }
    const t = newToken();
    serviceTokens.set(t, { client_id: client.client_id, expires: Date.now() + TOKEN_TTL_S * 1000 });
    send(res, 200, { access_token: t, token_type: 'Bearer', expires_in: TOKEN_TTL_S });
    return;
  }
  if (grant === 'authorization_code') {
    const known = new Set(['grant_type', 'client_id', 'client_secret', 'code', 'redirect_uri',
      'code_verifier']);
    for (const key of form.keys()) if (!known.has(key)) throw invalid(`Unknown parameter: ${key}`);
    const entry = codes.get(form.get('code') ?? '');
    // A code is single-use: any attempt spends it.
    codes.delete(form.get('code') ?? '');
    if (!entry || entry.expires < Date.now() || entry.client_id !== client.client_id) {
      throw new CscError(400, 'invalid_grant', 'invalid, used or expired authorization code');
    }
    if (form.get('redirect_uri') !== entry.redirect_uri) {
      throw new CscError(400, 'invalid_grant', 'redirect_uri does not match the authorization request');
    }
    const verifier = form.get('code_verifier') ?? '';
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) ||
        crypto.createHash('sha256').update(verifier).digest('base64url') !== entry.code_challenge) {
      throw new CscError(400, 'invalid_grant', 'PKCE verification failed');
    }
    const t = newToken();
    credentialTokens.set(t, {
      client_id: client.client_id, credentialID: entry.credentialID, hashes: entry.hashes,
      remaining: entry.numSignatures, expires: Date.now() + TOKEN_TTL_S * 1000,
    });
    send(res, 200, { access_token: t, token_type: 'Bearer', expires_in: TOKEN_TTL_S,
      scope: 'credential', credentialID: entry.credentialID });
    return;
  }
  throw new CscError(400, 'unsupported_grant_type', `unsupported grant_type: ${grant}`);
}

// ---- CSC methods ----

function info(res, base) {
  send(res, 200, {
    specs: '2.0.0.0', name: 'Test QTSP', logo: `${base}/logo.png`, region: 'IT', lang: 'en-US',
    description: 'A strict CSC API v2 provider for tests', authType: ['oauth2client', 'oauth2code'],
    oauth2: base, oauth2Issuer: base,
    methods: ['credentials/list', 'credentials/info', 'signatures/signHash'],
  });
}

function credentialInfoBody(credential, body) {
  const certificates = body.certificates ?? 'single';
  const out = {
    description: 'Qualified signature credential', signatureQualifier: 'eu_eidas_qes',
    key: credential.keyType === 'ec'
      ? { status: 'enabled', algo: [OID_ECDSA_SHA256], len: 256, curve: '1.2.840.10045.3.1.7' }
      : { status: 'enabled', algo: [OID_RSA, OID_RSA_SHA256], len: 2048 },
    SCAL: '2', multisign: 100, lang: 'en-US',
  };
  if (certificates !== 'none' || body.certInfo) {
    out.cert = { status: 'valid' };
    if (certificates !== 'none') {
      const chain = certificates === 'chain' ? credential.chain : credential.chain.slice(0, 1);
      out.cert.certificates = chain.map((der) => der.toString('base64'));
    }
    if (body.certInfo) {
      out.cert.issuerDN = credential.cert.issuer.replace(/\n/g, ', ');
      out.cert.subjectDN = credential.cert.subject.replace(/\n/g, ', ');
      out.cert.serialNumber = credential.cert.serialNumber;
      out.cert.validFrom = credential.cert.validFrom;
      out.cert.validTo = credential.cert.validTo;
    }
  }
  if (body.authInfo) out.auth = { mode: 'oauth2code' };
  return out;
}

async function credentialsList(req, res) {
  bearer(req, serviceTokens);
  const body = await readJson(req);
  checkMembers(body, { userID: ['string', true], credentialInfo: ['boolean'], certificates: ['string'],
    certInfo: ['boolean'], authInfo: ['boolean'], onlyValid: ['boolean'], lang: ['string'],
    clientData: ['string'] });
  if (body.certificates && !['none', 'single', 'chain'].includes(body.certificates)) {
    throw invalid('Invalid parameter certificates');
  }
  const mine = [...credentials.values()].filter((c) => c.userID === body.userID);
  const out = { credentialIDs: mine.map((c) => c.id) };
  if (body.credentialInfo) {
    out.credentialInfos = mine.map((c) => ({ credentialID: c.id, ...credentialInfoBody(c, body) }));
  }
  send(res, 200, out);
}

async function credentialsInfo(req, res) {
  bearer(req, serviceTokens);
  const body = await readJson(req);
  checkMembers(body, { credentialID: ['string', true], certificates: ['string'], certInfo: ['boolean'],
    authInfo: ['boolean'], lang: ['string'], clientData: ['string'] });
  if (body.certificates && !['none', 'single', 'chain'].includes(body.certificates)) {
    throw invalid('Invalid parameter certificates');
  }
  const credential = credentials.get(body.credentialID);
  if (!credential) throw invalid('Invalid parameter credentialID');
  send(res, 200, credentialInfoBody(credential, body));
}

function signOne(credential, hashHex, signAlgo) {
  const digest = Buffer.from(hashHex, 'hex');
  if (credential.keyType === 'rsa') {
    if (signAlgo !== OID_RSA && signAlgo !== OID_RSA_SHA256) {
      throw invalid('signAlgo is not supported by the key');
    }
    return crypto.privateEncrypt({ key: credential.key, padding: crypto.constants.RSA_PKCS1_PADDING },
      Buffer.concat([SHA256_DIGEST_INFO, digest]));
  }
  if (signAlgo !== OID_ECDSA_SHA256) throw invalid('signAlgo is not supported by the key');
  // ECDSA over a digest computed elsewhere: pkeyutl signs its input as the digest (DER output).
  return execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', credential.keyFile],
    { input: digest });
}

async function signHash(req, res) {
  if (signHashFailures > 0) {
    signHashFailures -= 1;
    await readBody(req);
    throw new CscError(503, 'temporarily_unavailable', 'the signing service is down for a moment');
  }
  const auth = req.headers.authorization ?? '';
  if (serviceTokens.has(auth.replace(/^Bearer /, ''))) {
    throw new CscError(403, 'insufficient_scope', 'signHash needs a credential (scope=credential) token');
  }
  const token = bearer(req, credentialTokens);
  const body = await readJson(req);
  checkMembers(body, { credentialID: ['string', true], SAD: ['string'], hashes: ['string[]', true],
    hashAlgorithmOID: ['string'], signAlgo: ['string', true], signAlgoParams: ['string'],
    operationMode: ['string'], validity_period: ['integer'], response_uri: ['string'],
    clientData: ['string'] });
  if (body.operationMode !== undefined && body.operationMode !== 'S') {
    throw invalid('only the synchronous operationMode "S" is supported');
  }
  if (body.credentialID !== token.credentialID) {
    throw invalid('the token was not issued for this credentialID');
  }
  const credential = credentials.get(body.credentialID);
  if (body.hashAlgorithmOID !== undefined && body.hashAlgorithmOID !== OID_SHA256) {
    throw invalid('hashAlgorithmOID must be SHA-256');
  }
  if (body.signAlgo === OID_RSA && body.hashAlgorithmOID === undefined) {
    throw invalid('Missing (or invalid type) string parameter hashAlgorithmOID');
  }
  if (body.hashes.length === 0) throw invalid('Empty hash array');
  const hashes = body.hashes.map((h) => decodeHash(h, 'base64'));
  for (const h of hashes) {
    if (!token.hashes.includes(h)) throw invalid('a hash was not authorized by the user');
  }
  if (hashes.length > token.remaining) {
    throw new CscError(400, 'invalid_request',
      `numSignatures exceeded: the token may sign ${token.remaining} more hash(es)`);
  }
  const signatures = hashes.map((h) => signOne(credential, h, body.signAlgo).toString('base64'));
  token.remaining -= hashes.length;
  for (const h of hashes) token.hashes.splice(token.hashes.indexOf(h), 1);
  signLog.push({ credentialID: credential.id, hashes: hashes.map((h) => Buffer.from(h, 'hex').toString('base64')) });
  send(res, 200, { signatures });
}

// ---- server ----

const server = http.createServer(async (req, res) => {
  const base = `http://${req.headers.host}`;
  const url = new URL(req.url, base);
  try {
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'POST /csc/v2/info': await readJson(req); return info(res, base);
      case 'GET /oauth2/authorize': return authorizePage(res, url);
      case 'POST /oauth2/authorize/decision': return await authorizeDecision(req, res);
      case 'POST /oauth2/token': return await token(req, res);
      case 'POST /csc/v2/credentials/list': return await credentialsList(req, res);
      case 'POST /csc/v2/credentials/info': return await credentialsInfo(req, res);
      case 'POST /csc/v2/signatures/signHash': return await signHash(req, res);
      case 'GET /test/log': return send(res, 200, signLog);
      case 'POST /test/fail-sign-hash': {
        const { count } = await readJson(req);
        signHashFailures = Number.isInteger(count) && count >= 0 ? count : 0;
        return send(res, 200, { count: signHashFailures });
      }
      case 'GET /test/root.crl': case 'GET /test/ca.crl': {
        const crl = crls[url.pathname === '/test/root.crl' ? 'root' : 'ca'];
        if (!crl) throw new CscError(404, 'invalid_request', 'no CRLs (revocation_base unset)');
        res.writeHead(200, { 'Content-Type': 'application/pkix-crl' });
        return res.end(crl);
      }
      case 'GET /test/root.der':
        res.writeHead(200, { 'Content-Type': 'application/pkix-cert' });
        return res.end(derOf('root.pem'));
      default: throw new CscError(404, 'invalid_request', `no such method: ${route}`);
    }
  } catch (e) {
    return fail(res, e);
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`CSC provider: http://127.0.0.1:${server.address().port}`);
  console.log(`CSC root: ${path.join(dir, 'root.pem')}`);
});
process.on('SIGTERM', () => {
  if (!config.dir) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
