// Shared steps of the portal tests: an issuer preparing a READY request through the API, and a
// signer's browser walking the pages.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {
  api, launchBrowser, makePdf, repoRoot, screenshot, startFirmo, startSmtpSink,
} from './harness.mjs';

// A server whose e-mails go to a test SMTP sink, and a browser: what the portal tests that read
// codes and messages from e-mail start with. `args`: more server flags.
export async function startPortalWithMail({ args = [] } = {}) {
  const [smtp, browser] = await Promise.all([startSmtpSink(), launchBrowser()]);
  const firmo = await startFirmo({
    args: ['--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-starttls', 'none', ...args],
  });
  return {
    firmo, browser, smtp,
    stop: () => Promise.allSettled([firmo?.stop(), browser?.close(), smtp?.stop()]),
  };
}

const axePath = path.join(repoRoot, 'tests/node/node_modules/axe-core/axe.min.js');

// axe-core's WCAG 2.0/2.1 A and AA rules on the page (its context must bypass the page's CSP to
// inject the checker): fails with the violations found; the number of passed rules otherwise.
export async function axeAudit(page, name) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const found = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
  assert.deepEqual(found, [], `${name} at ${page.url()}`);
  return result.passes.length;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Two fields on one document: the existing empty field (REQUIRED) and a new one at coordinates
// (UNFAIR), plus an OPTIONAL one; `assign` gives each a signer_index.
export function dossierDocuments({ assign = [0, 0, 0] } = {}) {
  const withIndex = (field, i) => (assign[i] === undefined ? field
                                                           : { ...field, signer_index: assign[i] });
  return [{
    title: 'Service contract',
    signature_fields: [
      withIndex({ attrs: { unique_name: 'Signature1' },
                  clause: { title: 'I accept the terms of service', type: 'REQUIRED' } }, 0),
      withIndex({ attrs: { page: 0, coordinates: { x: 320, y: 560 }, size: { w: 220, h: 60 } },
                  clause: { title: 'I accept the limitation of liability', type: 'UNFAIR' } }, 1),
      withIndex({ attrs: { page: 1, coordinates: { x: 60, y: 600 }, size: { w: 200, h: 50 } },
                  clause: { title: 'I agree to receive the newsletter', type: 'OPTIONAL' } }, 2),
    ],
  }];
}

export async function readyRequest(firmo, { signers, redirect, assign, notify = false } = {}) {
  const client = api(firmo);
  const dossier = await client.post('/api/v1/dossiers', {
    title: 'Contract 2026', documents_metadata: dossierDocuments({ assign }),
  });
  const ids = [];
  for (const s of signers) {
    const entry = { signer_id: (await client.post('/api/v1/signers', s.who)).id, order: s.order ?? 0 };
    if (s.authentication) entry.authentication = s.authentication;
    ids.push(entry);
  }
  const body = { dossier_id: dossier.id, signers: ids };
  if (redirect) body.redirect = redirect;
  const created = await client.post('/api/v1/signature-requests', body);
  const doc = created.documents[0];
  const uploadUrl = await client.get(
    `/api/v1/signature-requests/${created.id}/documents/${doc.id}/upload_url`);
  await client.uploadPdf(uploadUrl, await makePdf({ pages: 2 }));
  for (let i = 0; ; i++) {
    const r = await client.get(`/api/v1/signature-requests/${created.id}`);
    if (r.documents[0].status === 'READY') break;
    assert.notEqual(r.documents[0].status, 'REJECTED', JSON.stringify(r.documents[0]));
    assert.ok(i < 200, 'validation did not finish');
    await new Promise((res) => setTimeout(res, 50));
  }
  await client.put(`/api/v1/signature-requests/${created.id}/status`, 'READY');
  if (notify) await client.put(`/api/v1/signature-requests/${created.id}/notification`, null);
  const request = await client.get(`/api/v1/signature-requests/${created.id}`);
  return { client, created, request, signerIds: ids.map((x) => x.signer_id) };
}

export function codeFrom(mail) {
  const m = /\b(\d{6})\b/.exec(mail.text);
  assert.ok(m, `no code in ${mail.text}`);
  return m[1];
}

// Every HTML page of the portal must carry the strict policy.
export function assertStrictCsp(response) {
  const csp = response.headers()['content-security-policy'] || '';
  assert.match(csp, /default-src 'none'/, `no strict CSP on ${response.url()}`);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.match(csp, /frame-ancestors 'none'/);
}

// The link + code login and the ceremony with a code as the second factor, on `page`.
// Ticks every clause except the optional one unless `optional`.
export async function signWithCode(page, { link, smtp, to, shots = '', optional = false,
                                           onPage = async () => {} }) {
  let res = await page.goto(link);
  assert.equal(res.status(), 200);
  assertStrictCsp(res);
  if (shots) await screenshot(page, `${shots}1-link`);
  await onPage(page, '1-link');
  const loginMail = smtp.waitFor((m) => m.to.includes(to) && m.subject === 'Your Firmo code', 10000);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  const code = codeFrom(await loginMail);
  await page.getByLabel('One-time code').fill(code);
  if (shots) await screenshot(page, `${shots}2-code`);
  await onPage(page, '2-code');
  await page.getByRole('button', { name: 'Open the documents' }).click();
  await page.waitForURL(/\/s\/[0-9A-Z]+$/);
  await page.locator('.viewer[data-rendered]').first().waitFor({ timeout: 20000 });
  assert.notEqual(await page.locator('.viewer').first().getAttribute('data-rendered'), 'error');
  if (shots) await screenshot(page, `${shots}3-documents`);
  await onPage(page, '3-documents');
  for (const box of await page.locator('input[name=accept]').all()) {
    const label = await page.locator(`label[for="${await box.getAttribute('id')}"]`).innerText();
    if (!/Optional/.test(label) || optional) await box.check();
  }
  const confirmMail = smtp.waitFor(
    (m) => m.to.includes(to) && /confirm|conferm|bekreft/.test(m.subject), 10000);
  await page.getByRole('button', { name: 'Continue to sign' }).click();
  // Accept sent a code, and the page says so (it says so only when one was sent: issue 16).
  await page.waitForURL(/\/confirm\?sent$/);
  await page.getByText(/We sent a new 6-digit code/).waitFor();
  await page.getByText(/You are signing as /).waitFor();
  if (shots) await screenshot(page, `${shots}4-confirm`);
  await onPage(page, '4-confirm');
  await page.getByLabel('Confirmation code').fill(codeFrom(await confirmMail));
  await page.getByRole('button', { name: 'Sign now' }).click();
}

export async function waitSigned(page) {
  // The "Signing…" page waits with a script of its own, never a meta refresh (issue 16).
  assert.equal(await page.locator('meta[http-equiv=refresh]').count(), 0, 'no meta refresh');
  await page.getByRole('heading', { name: 'Signed', exact: true }).waitFor({ timeout: 30000 });
}

export async function downloadFirst(page) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('.downloads a').first().click(),
  ]);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-dl-')), 'signed.pdf');
  await download.saveAs(file);
  return file;
}

// ---------------------------------------------------------------------------------------------
// The sender portal (/app)

// The first issuer's id (the one whose API key startFirmo printed), from the SQLite file.
export async function firstIssuerId(firmo) {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const code = 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(' +
               '"SELECT id FROM issuers ORDER BY created_at LIMIT 1").fetchone()[0])';
  const { stdout } = await promisify(execFile)('python3',
                                               ['-c', code, path.join(firmo.dataDir, 'firmo.db')]);
  return stdout.trim();
}

// `firmo user create` for `issuer`, then the person opens the printed setup link on `page`,
// chooses a password and lands on /app logged in. Returns the setup URL.
export async function staffSetup(page, firmo, { issuer, email, role, password = 'correct horse battery staple',
                                               onPage = async () => {} }) {
  const out = await firmo.cli('user', 'create', '--issuer', issuer, '--email', email,
                              '--role', role, '--public-url', firmo.url);
  const url = out.trim().split('\n').pop();
  assert.match(url, /\/app\/setup\/[A-Za-z0-9_-]{43}$/);
  const res = await page.goto(url);
  assert.equal(res.status(), 200);
  assertStrictCsp(res);
  await onPage(page, 'setup');
  await page.getByLabel('New password').fill(password);
  await page.getByLabel('The same password again').fill(password);
  await page.getByRole('button', { name: 'Save and log in' }).click();
  await page.waitForURL(/\/app$/);
  return url;
}

// oidc-provider's development login form, then its consent form when it asks, until the
// browser is back at `returnUrl` (Firmo's base URL).
export async function loginAtProvider(page, account, returnUrl) {
  await page.locator('input[name=login]').fill(account);
  await page.locator('input[name=password]').fill('any password');
  await page.locator('button[type=submit]').click();
  for (let i = 0; i < 3; i++) {
    await page.waitForLoadState();
    if (page.url().startsWith(returnUrl)) return;
    const consent = page.locator('button[type=submit]');
    if (await consent.count()) await consent.first().click();
  }
}
