// Qualified signatures through a QTSP over the CSC API v2 (issue 15, docs/QTSP.md), end to
// end: Firmo with signing.provider = "csc" against the strict test provider
// (tests/qtsp/csc-provider.mjs) on loopback. The portal: confirm, the provider's terms, the
// provider's page, "Authorize", back, SIGNED; pdfsig trusts the signatures with the provider's
// root and names the provider's certificate; what the provider signed is what Firmo stored and
// the signer authorized; a replayed callback signs nothing; "Deny" gives the turn back and the
// signer signs on a second try. The JSON signer API's qtsp_authorization_url, followed in a
// browser.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';

import {
  launchBrowser, longTermCheck, newPage, pdfsigCheck, repoRoot, startFirmo, startSmtpSink,
} from './harness.mjs';
import {
  assertStrictCsp, axeAudit, codeFrom, downloadFirst, freePort, readyRequest, signWithCode,
  waitSigned,
} from './flows.mjs';

const TERMS = 'Test QTSP terms: the certificate is issued under our certification practice statement.';
const USERS = [
  { userID: 'RSSMRA80A01H501U', name: 'Mario Rossi', key: 'rsa' },
  { userID: 'BNCGVN75L15F205G', name: 'Giovanni Bianchi', key: 'ec' },
  { userID: 'VRDLGU90E41Z404B', name: 'Luigi Verdi', key: 'rsa' },
  { userID: 'NRENNA85M41H501P', name: 'Anna Neri', key: 'ec' },
];

const FIRMO_ENV = { FIRMO_CSC_CLIENT_SECRET: 'a-long-qtsp-client-secret' };

let firmo;
let smtp;
let browser;
let provider;
let providerUrl;
let providerRoot;
let firmoArgs;
let firmoDir;  // the first node's data folder, kept across a restart

function startProvider(port, firmoPort) {
  const config = {
    clients: [{ client_id: 'firmo', client_secret: 'a-long-qtsp-client-secret',
                redirect_uris: [`http://127.0.0.1:${firmoPort}/qtsp/callback`] }],
    users: USERS,
    revocation_base: `http://127.0.0.1:${port}`,
  };
  const child = spawn(process.execPath,
                      [path.join(repoRoot, 'tests/qtsp/csc-provider.mjs'), String(port),
                       JSON.stringify(config)],
                      { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const url = /CSC provider: (\S+)/.exec(out);
      const root = /CSC root: (\S+)/.exec(out);
      if (url && root) resolve({ child, url: url[1], root: root[1] });
    });
    child.on('exit', () => reject(new Error(`provider exited: ${out}`)));
  });
}

before(async () => {
  const [providerPort, firmoPort] = [await freePort(), await freePort()];
  ({ child: provider, url: providerUrl, root: providerRoot } =
    await startProvider(providerPort, firmoPort));
  [smtp, browser] = await Promise.all([startSmtpSink(), launchBrowser()]);
  firmoArgs = ['--listen', `127.0.0.1:${firmoPort}`,
               '--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-starttls', 'none',
               '--signing-provider', 'csc', '--csc-url', `${providerUrl}/csc/v2`,
               '--csc-client-id', 'firmo', '--csc-terms-text', TERMS];
  firmo = await startFirmo({ args: firmoArgs, env: FIRMO_ENV });
  firmoDir = firmo.dataDir;
});

after(async () => {
  provider?.kill('SIGTERM');
  await Promise.allSettled([firmo?.stop(), browser?.close(), smtp?.stop()]);
  if (firmoDir) {
    fs.rmSync(firmoDir, { recursive: true, force: true });
    fs.rmSync(`${firmoDir.replace(/\/+$/, '')}.ca-key-secret`, { force: true });
  }
});

async function signLog() {
  return (await fetch(`${providerUrl}/test/log`)).json();
}

// The hashes Firmo stored for its authorizations (qtsp_authorizations.hashes), base64url.
async function storedHashes(requestId) {
  const code = 'import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(' +
               '"SELECT hashes FROM qtsp_authorizations WHERE request_id = ? ' +
               'ORDER BY created_at", (sys.argv[2],))]';
  const { stdout } = await promisify(execFile)(
    'python3', ['-c', code, path.join(firmo.dataDir, 'firmo.db'), requestId]);
  return stdout.trim().split('\n').filter(Boolean);
}

// The signer is on the provider's terms page: check it, accept, and land on the provider.
async function acceptTerms(page) {
  await page.waitForURL(/\/s\/[0-9A-Z]+\/qtsp$/);
  await page.getByText(TERMS).waitFor();
  // Without the tick: the same page, saying why.
  await page.getByRole('button', { name: 'Continue to the provider' }).click({ noWaitAfter: true });
  assert.match(page.url(), /\/qtsp$/);
  await page.getByLabel("I accept the provider's terms").check();
  await page.getByRole('button', { name: 'Continue to the provider' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${providerUrl}/oauth2/authorize`));
}

async function status(client, id) {
  return (await client.get(`/api/v1/signature-requests/${id}`)).status;
}

async function checkSigned(page, { who, request }) {
  const file = await downloadFirst(page);
  const report = await pdfsigCheck(file, { caPem: providerRoot });
  assert.equal(report.signatures.length, 1, report.output);
  for (const s of report.signatures) {
    assert.ok(s.valid, report.output);
    assert.ok(s.trusted, report.output);
    assert.equal(s.signerName, who, report.output);
  }
  // The post-sign steps as for built-in signatures: DSS (with the provider's CRLs) and a
  // document time-stamp.
  const lt = await longTermCheck(file, { firmo });
  assert.ok(lt.documentTimestamps.length >= 1 && lt.documentTimestamps.every((t) => t.verified),
            JSON.stringify(lt));
  // What the provider signed is exactly what Firmo stored, and so what the signer authorized.
  const stored = await storedHashes(request.id);
  const authorized = stored.at(-1).split(',');
  const signed = (await signLog()).map((e) => e.hashes.map(
    (h) => Buffer.from(h, 'base64').toString('base64url')));
  assert.ok(signed.some((hs) => JSON.stringify(hs) === JSON.stringify(authorized)),
            `${JSON.stringify(signed)} vs ${JSON.stringify(authorized)}`);
  return file;
}

test('portal: confirm, the provider\'s terms, Authorize at the provider, SIGNED; replay signs nothing',
     async () => {
  const to = 'mario.rossi@example.org';
  const { client, request } = await readyRequest(firmo, {
    signers: [{ who: { fiscal_code: USERS[0].userID, email: to, name: 'Mario Rossi', language: 'en' } }],
  });
  // bypassCSP: for axe-core's checker only; the CSP headers are still checked.
  const page = await newPage(browser, 'desktop', { bypassCSP: true });
  let callback;
  page.on('request', (r) => { if (r.url().includes('/qtsp/callback')) callback = r.url(); });
  await signWithCode(page, { link: request.signers[0].portal_url, smtp, to });
  await page.waitForURL(/\/s\/[0-9A-Z]+\/qtsp$/);
  assertStrictCsp(await page.reload());
  await axeAudit(page, 'provider terms');
  assert.equal(await status(client, request.id), 'WAIT_FOR_QTSP');
  await acceptTerms(page);
  await page.getByText('Signatures: 1').waitFor();
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.waitForURL(/\/s\/[0-9A-Z]+\/done$/);
  await waitSigned(page);
  assert.equal(await status(client, request.id), 'SIGNED');
  await checkSigned(page, { who: 'Mario Rossi', request });

  // The callback again (a replay, or a reload): refused, and the provider signs nothing more.
  assert.ok(callback, 'the callback was seen');
  const before = (await signLog()).length;
  const replay = await fetch(callback, { redirect: 'manual' });
  assert.equal(replay.status, 410);
  assert.equal((await replay.json()).status, 410);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await signLog()).length, before);
  // Every QTSP step is in the audit log, and no secret is.
  const events = (await client.get(`/api/v1/signature-requests/${request.id}/events`)).items;
  const types = events.map((e) => e.type);
  for (const t of ['signer.qtsp_credential', 'signer.qtsp_redirected', 'signer.qtsp_terms_accepted',
                   'signer.qtsp_authorized', 'signer.qtsp_signed', 'signature_request.signed']) {
    assert.ok(types.includes(t), `${t} in ${types}`);
  }
  const code = new URL(callback).searchParams.get('code');
  assert.ok(!JSON.stringify(events).includes(code), 'the authorization code is not in the audit log');
  await page.context().close();
});

test('Deny at the provider leaves the request open; the signer tries again and signs',
     async () => {
  const to = 'giovanni.bianchi@example.org';
  const { client, request } = await readyRequest(firmo, {
    signers: [{ who: { fiscal_code: USERS[1].userID, email: to, name: 'Giovanni Bianchi', language: 'en' } }],
  });
  const page = await newPage(browser, 'phone');
  await signWithCode(page, { link: request.signers[0].portal_url, smtp, to });
  await acceptTerms(page);
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL(/\/s\/[0-9A-Z]+$/);
  assert.equal(await status(client, request.id), 'WAIT_FOR_SIGNATURE');
  const types = (await client.get(`/api/v1/signature-requests/${request.id}/events`)).items
    .map((e) => e.type);
  assert.ok(types.includes('signer.qtsp_denied') &&
            types.includes('signature_request.qtsp_not_authorized'), `${types}`);
  const before = (await signLog()).length;

  // Again: accept, a new code, the provider, Authorize.
  const isConfirm = (m) => m.to.includes(to) && /confirm|conferm|bekreft/.test(m.subject);
  const sent = (await smtp.messages()).filter(isConfirm).length;
  for (const box of await page.locator('input[name=accept]').all()) {
    const label = await page.locator(`label[for="${await box.getAttribute('id')}"]`).innerText();
    if (!/Optional/.test(label) && !(await box.isChecked())) await box.check();
  }
  await page.getByRole('button', { name: 'Continue to sign' }).click();
  await page.waitForURL(/\/confirm/);
  let mails;
  for (let i = 0; (mails = (await smtp.messages()).filter(isConfirm)).length <= sent; i++) {
    assert.ok(i < 100, 'no second confirmation code');
    await new Promise((res) => setTimeout(res, 100));
  }
  await page.getByLabel('Confirmation code').fill(codeFrom(mails.at(-1)));
  await page.getByRole('button', { name: 'Sign now' }).click();
  await acceptTerms(page);
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.waitForURL(/\/s\/[0-9A-Z]+\/done$/);
  await waitSigned(page);
  assert.equal(await status(client, request.id), 'SIGNED');
  assert.equal((await signLog()).length, before + 1);
  await checkSigned(page, { who: 'Giovanni Bianchi', request });
  assert.equal((await storedHashes(request.id)).length, 2, 'one authorization per attempt');
  await page.context().close();
});

async function call(method, p, { body, token, expect } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${firmo.url}${p}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (expect !== undefined) assert.equal(res.status, expect, `${method} ${p}: ${JSON.stringify(data)}`);
  return { status: res.status, data };
}

// The signer API up to the confirmation: a code, a session, the provider's terms read from the
// request, acceptance, confirmation with accept_qtsp_terms. Returns the provider's URL.
async function confirmThroughApi(user, to) {
  const { client, request } = await readyRequest(firmo, {
    signers: [{ who: { fiscal_code: user.userID, email: to, name: user.name, language: 'en' } }],
  });
  const link = request.signers[0].portal_url.split('/l/')[1];
  await call('POST', '/api/v1/signer/codes', { body: { link_token: link }, expect: 202 });
  const code = codeFrom(await smtp.waitFor((m) => m.to.includes(to), 10000));
  let r = await call('POST', '/api/v1/signer/sessions', { body: { link_token: link, code }, expect: 201 });
  const token = r.data.session_token;
  // The app reads the provider's terms from the request before it confirms.
  r = await call('GET', `/api/v1/signer/signature-requests/${request.id}`, { token, expect: 200 });
  assert.deepEqual(r.data.qtsp_terms, { text: TERMS });
  await call('POST', `/api/v1/signer/signature-requests/${request.id}/acceptance`,
             { token, body: { accepted: [{ document_index: 0, field_index: 0 },
                                         { document_index: 0, field_index: 1 }] },
               expect: 200 });
  const confirm = codeFrom(await smtp.waitFor(
    (m) => m.to.includes(to) && /confirm|conferm|bekreft/.test(m.subject), 10000));
  // The provider has terms: confirming without accepting them is refused, precisely.
  r = await call('POST', `/api/v1/signer/signature-requests/${request.id}/confirmation`,
                 { token, body: { code: confirm }, expect: 422 });
  assert.ok(r.data.violations.some((v) => v.field === 'accept_qtsp_terms'), JSON.stringify(r.data));
  r = await call('POST', `/api/v1/signer/signature-requests/${request.id}/confirmation`,
                 { token, body: { code: confirm, accept_qtsp_terms: true }, expect: 202 });
  assert.equal(r.data.status, 'WAIT_FOR_QTSP');
  return { client, request, token, url: r.data.qtsp_authorization_url };
}

test('the JSON signer API answers qtsp_authorization_url; the app opens it; SIGNED', async () => {
  const { client, request, token, url } = await confirmThroughApi(USERS[2], 'luigi.verdi@example.org');
  let r;
  assert.ok(url.startsWith(`${providerUrl}/oauth2/authorize?`), url);
  const params = new URL(url).searchParams;
  assert.equal(params.get('scope'), 'credential');
  assert.equal(params.get('numSignatures'), '1');
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.deepEqual(await storedHashes(request.id), [params.get('hashes')]);

  // The app opens the URL in a browser; the provider sends it back to Firmo.
  const page = await newPage(browser, 'phone');
  await page.goto(url);
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.waitForURL((u) => u.href.startsWith(firmo.url));
  for (let i = 0; ; i++) {
    r = await call('GET', `/api/v1/signer/signature-requests/${request.id}`, { token, expect: 200 });
    if (r.data.signer_status === 'SIGNED') break;
    assert.ok(i < 300, JSON.stringify(r.data));
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(await status(client, request.id), 'SIGNED');
  await page.context().close();
});

async function events(client, id) {
  return (await client.get(`/api/v1/signature-requests/${id}/events`)).items.map((e) => e.type);
}

test('a signHash retry after a crash and a restart uses the kept token; SIGNED', async () => {
  // The provider's signHash is down: the first attempt exchanges the code, then fails.
  await fetch(`${providerUrl}/test/fail-sign-hash`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"count": 1000}',
  });
  const { client, request, url } = await confirmThroughApi(USERS[3], 'anna.neri@example.org');
  const page = await newPage(browser, 'phone');
  await page.goto(url);
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.waitForURL((u) => u.href.startsWith(firmo.url));
  await page.context().close();
  for (let i = 0; !(await events(client, request.id)).includes('signer.qtsp_sign_failed'); i++) {
    assert.ok(i < 400, 'no failed signHash');
    await new Promise((res) => setTimeout(res, 50));
  }
  // The node dies before its retry; the provider is back; a new process on the same data
  // folder takes the job over: it must sign with the kept token (the code is spent).
  await firmo.kill9();
  await fetch(`${providerUrl}/test/fail-sign-hash`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"count": 0}',
  });
  firmo = await startFirmo({ args: firmoArgs, env: FIRMO_ENV, dataDir: firmoDir });
  for (let i = 0; (await status(client, request.id)) !== 'SIGNED'; i++) {
    assert.ok(i < 600, `${await status(client, request.id)}: ${await events(client, request.id)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  const types = await events(client, request.id);
  assert.equal(types.filter((t) => t === 'signer.qtsp_token').length, 1, `${types}`);
  assert.ok(types.includes('signer.qtsp_signed'), `${types}`);
});
