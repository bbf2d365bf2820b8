// Security properties of the signer portal: CSRF tokens, cookie flags, CSP, one-time codes
// (wrong, expired, too many: BLOCKED), clauses enforced by the server, the QR code.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { launchBrowser, newPage, startFirmo, startSmtpSink } from './harness.mjs';
import { assertStrictCsp, codeFrom, readyRequest } from './flows.mjs';

const execFileP = promisify(execFile);
let firmo;
let browser;
let smtp;

before(async () => {
  [smtp, browser] = await Promise.all([startSmtpSink(), launchBrowser()]);
  firmo = await startFirmo({
    args: ['--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-starttls', 'none',
           '--code-ttl', '3'],
  });
});

after(async () => {
  await Promise.allSettled([firmo?.stop(), browser?.close(), smtp?.stop()]);
});

async function openLink(page, link, to) {
  const res = await page.goto(link);
  assertStrictCsp(res);
  const mail = smtp.waitFor((m) => m.to.includes(to) && m.subject === 'Your Firmo code', 10000);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  return codeFrom(await mail);
}

test('cookies: HttpOnly, SameSite=Lax, not Secure on plain loopback, Secure otherwise',
     async () => {
  // Before a login there is no session, only the value the form tokens are bound to.
  let res = await fetch(`${firmo.url}/login`);
  const cookie = res.headers.get('set-cookie');
  assert.match(cookie, /^firmo_pre=[A-Za-z0-9_-]{43};/);
  assert.doesNotMatch(cookie, /firmo_session=/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
  assert.doesNotMatch(cookie, /Secure/);
  assertStrictCsp({ headers: () => Object.fromEntries(res.headers), url: () => res.url });
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  const behindTls = await startFirmo({ args: ['--public-url', 'https://sign.example.org'] });
  try {
    res = await fetch(`${behindTls.url}/login`);
    assert.match(res.headers.get('set-cookie'), /; Secure/);
  } finally {
    await behindTls.stop();
  }
});

test('every POST needs the session CSRF token', async () => {
  const to = 'csrf@example.org';
  const { request } = await readyRequest(firmo, { signers: [{ who: { email: to } }] });
  const page = await newPage(browser, 'desktop');
  await page.goto(request.signers[0].portal_url);
  const token = request.signers[0].portal_url.split('/l/')[1];
  for (const [url, form] of [[`/l/${token}/code`, {}], [`/l/${token}/login`, { code: '123456' }],
                             [`/s/${request.id}/accept`, { accept: '0:0' }],
                             [`/s/${request.id}/confirm`, { code: '123456' }],
                             [`/s/${request.id}/reject`, { reason: 'no' }], ['/logout', {}]]) {
    let res = await page.request.post(`${firmo.url}${url}`, { form, maxRedirects: 0 });
    assert.equal(res.status(), 403, `${url} without a token`);
    res = await page.request.post(`${firmo.url}${url}`,
                                  { form: { ...form, csrf: 'forged' }, maxRedirects: 0 });
    assert.equal(res.status(), 403, `${url} with a forged token`);
  }
  assert.equal((await smtp.messages()).filter((m) => m.to.includes(to)).length, 0,
               'no code may be sent by a forged form');
  await page.context().close();
});

test('the server enforces required and unfair clauses, whatever the browser sends', async () => {
  const to = 'clauses@example.org';
  const { request } = await readyRequest(firmo, { signers: [{ who: { email: to } }] });
  const page = await newPage(browser, 'desktop');
  const code = await openLink(page, request.signers[0].portal_url, to);
  await page.getByLabel('One-time code').fill(code);
  await page.getByRole('button', { name: 'Open the documents' }).click();
  await page.waitForURL(/\/s\/[0-9A-Z]+$/);
  const csrf = await page.locator('#accept input[name=csrf]').getAttribute('value');
  // Only the required clause: the unfair one is missing.
  let res = await page.request.post(`${firmo.url}/s/${request.id}/accept`,
                                    { form: { csrf, accept: '0:0' } });
  assert.equal(res.status(), 422);
  assert.match(await res.text(), /unfair clause must be accepted explicitly/);
  // A field that is not one of this signer's.
  res = await page.request.post(`${firmo.url}/s/${request.id}/accept`,
                                { form: { csrf, accept: '7:3' } });
  assert.equal(res.status(), 422);
  // Confirming before accepting is refused.
  res = await page.request.post(`${firmo.url}/s/${request.id}/confirm`,
                                { form: { csrf, code: '000000' } });
  assert.equal(res.status(), 409);
  await page.context().close();
});

test('an expired code is refused; a used code cannot be replayed', async () => {
  const to = 'expiry@example.org';
  const { request } = await readyRequest(firmo, { signers: [{ who: { email: to } }] });
  const page = await newPage(browser, 'desktop');
  const code = await openLink(page, request.signers[0].portal_url, to);
  await new Promise((r) => setTimeout(r, 3500));  // --code-ttl 3
  await page.getByLabel('One-time code').fill(code);
  await page.getByRole('button', { name: 'Open the documents' }).click();
  await page.getByText('the code expired').waitFor();
  // A fresh code works once.
  await new Promise((r) => setTimeout(r, 1000));
  const fresh = smtp.waitFor((m) => m.to.includes(to) && m.subject === 'Your Firmo code' &&
                              codeFrom(m) !== code, 10000);
  await page.getByRole('button', { name: 'Send a new code' }).click();
  const second = codeFrom(await fresh);
  await page.getByLabel('One-time code').fill(second);
  await page.getByRole('button', { name: 'Open the documents' }).click();
  await page.waitForURL(/\/s\/[0-9A-Z]+$/);
  const other = await newPage(browser, 'desktop');
  await other.goto(request.signers[0].portal_url);
  const csrf = await other.locator('input[name=csrf]').first().getAttribute('value');
  const res = await other.request.post(`${request.signers[0].portal_url}/login`,
                                       { form: { csrf, code: second } });
  assert.equal(res.status(), 401);
  await page.context().close();
  await other.context().close();
});

test('five wrong codes block the signer', async () => {
  const to = 'blocked@example.org';
  const { client, request } = await readyRequest(firmo, { signers: [{ who: { email: to } }] });
  const page = await newPage(browser, 'phone');
  const code = await openLink(page, request.signers[0].portal_url, to);
  const wrong = code === '000000' ? '111111' : '000000';
  for (let i = 1; i <= 4; i++) {
    await page.getByLabel('One-time code').fill(wrong);
    await page.getByRole('button', { name: 'Open the documents' }).click();
    await page.getByText(`${5 - i} ${5 - i === 1 ? 'try' : 'tries'} left`).waitFor();
  }
  const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
  await page.getByLabel('One-time code').fill(wrong);
  await page.getByRole('button', { name: 'Open the documents' }).click();
  await page.getByText('blocked').first().waitFor();
  // The link page says so instead of offering a code.
  const again = await page.goto(request.signers[0].portal_url);
  assert.equal(again.status(), 403);
  await page.getByText('this link is blocked').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Send me a code' }).count(), 0);
  // Even the right code no longer helps.
  const res = await page.request.post(`${request.signers[0].portal_url}/login`,
                                      { form: { csrf, code } });
  assert.equal(res.status(), 403);
  const r = await client.get(`/api/v1/signature-requests/${request.id}`);
  assert.equal(r.signers[0].status, 'BLOCKED');
  assert.equal(r.status, 'FAILED');  // a blocked signer ends the request (issue 18)
  await page.context().close();
});

test('the link of a request that became final says why and offers no code', async () => {
  const to = 'closed@example.org';
  const { client, request } = await readyRequest(firmo, { signers: [{ who: { email: to } }] });
  const link = request.signers[0].portal_url;
  const page = await newPage(browser, 'phone');
  await page.goto(link);
  const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
  await client.put(`/api/v1/signature-requests/${request.id}/status`, 'CANCELLED');
  const res = await page.goto(link);
  assert.equal(res.status(), 410);
  await page.getByRole('heading', { name: 'No longer open for signing' }).waitFor();
  await page.getByText('cancelled this request').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Send me a code' }).count(), 0);
  // Nor does a code come by posting the form directly.
  const sent = await page.request.post(`${link}/code`, { form: { csrf } });
  assert.equal(sent.status(), 409);
  assert.equal((await smtp.messages()).filter((m) => m.to.includes(to)).length, 0);
  await page.context().close();
});

test('QR code (SVG and PNG) encodes the universal link, which asks to log in first',
     async () => {
  const { request } = await readyRequest(firmo, { signers: [{ who: { email: 'qr@example.org' } }] });
  assert.equal(request.signing_url, `${firmo.url}/s/${request.id}`);
  let res = await fetch(request.qr_code_url);
  assert.equal(res.headers.get('content-type'), 'image/svg+xml');
  assert.match(await res.text(), /<svg[^>]*viewBox/);
  res = await fetch(request.qr_code_png_url);
  assert.equal(res.headers.get('content-type'), 'image/png');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-qr-')), 'qr.png');
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const { stdout } = await execFileP('zbarimg', ['--raw', '-q', file]);
  assert.equal(stdout.trim(), request.signing_url);
  res = await fetch(request.qr_code_url.replace(/qr\/./, 'qr/x'));
  assert.equal(res.status, 403);
  const page = await newPage(browser, 'desktop');
  await page.goto(request.signing_url);
  assert.match(page.url(), new RegExp(`/login\\?return_to=/s/${request.id}$`));
  await page.context().close();
});
