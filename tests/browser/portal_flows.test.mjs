// The signer portal on the real binary, in headless Chromium: link + one-time code, the
// direct flow round trip, and two signers in order. Signed PDFs are checked with pdfsig.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  launchBrowser, longTermCheck, newPage, pdfsigCheck, screenshot, startFirmo, startSmtpSink,
} from './harness.mjs';
import {
  assertStrictCsp, downloadFirst, readyRequest, signWithCode, waitSigned,
} from './flows.mjs';

let firmo;
let browser;
let smtp;

before(async () => {
  [smtp, browser] = await Promise.all([startSmtpSink(), launchBrowser()]);
  firmo = await startFirmo({
    args: ['--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-starttls', 'none'],
  });
});

after(async () => {
  await Promise.allSettled([firmo?.stop(), browser?.close(), smtp?.stop()]);
});

test('link + code: read, accept clauses, confirm with a code, sign, download (phone and desktop)',
     async () => {
  for (const viewport of ['phone', 'desktop']) {
    const to = `anna.${viewport}@example.org`;
    const { client, request } = await readyRequest(firmo, {
      signers: [{ who: { email: to, name: 'Anna Bianchi' } }],
    });
    const link = request.signers[0].portal_url;
    assert.match(link, /\/l\//);
    const page = await newPage(browser, viewport);
    await signWithCode(page, { link, smtp, to, shots: 'portal-' });
    await waitSigned(page);
    assertStrictCsp(await page.reload());
    await screenshot(page, 'portal-5-signed');
    const file = await downloadFirst(page);
    const report = await pdfsigCheck(file, { firmo });
    // The required and the unfair clause's fields are signed; the optional one was not ticked.
    assert.equal(report.signatures.length, 2, report.output);
    for (const s of report.signatures) {
      assert.ok(s.valid && s.trusted, report.output);
      assert.equal(s.signerName, 'Anna Bianchi');
    }
    await page.context().close();

    // The issuer sees SIGNED, downloads the same document, and the audit log has every step
    // with IP and user agent.
    const done = await client.get(`/api/v1/signature-requests/${request.id}`);
    assert.equal(done.status, 'SIGNED');
    assert.equal(done.signers[0].status, 'SIGNED');
    const res = await fetch(done.documents[0].url);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), fs.readFileSync(file));
    const events = (await client.get(`/api/v1/signature-requests/${request.id}/events`)).items;
    for (const type of ['signer.code_sent', 'signer.code_accepted', 'signer.opened',
                        'signer.clauses_accepted', 'signer.confirmed', 'document.signed',
                        'signer.signed', 'signature_request.signed']) {
      const e = events.find((x) => x.type === type);
      assert.ok(e, `no ${type} in ${JSON.stringify(events.map((x) => x.type))}`);
      if (type.startsWith('signer.') && type !== 'signer.signed') {
        assert.match(e.detail, /ip=127\.0\.0\.1 ua="Mozilla/);
      }
    }
  }
});

test('direct flow: one-time redirect URL in, exit URL out with a status_query_token',
     async () => {
  const hits = [];
  const site = http.createServer((req, res) => {
    hits.push(req.url);
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>Institution</title><h1>Back at the institution</h1>');
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${site.address().port}`;
  try {
    const to = 'direct@example.org';
    const { client, request, created, signerIds } = await readyRequest(firmo, {
      signers: [{ who: { fiscal_code: 'RSSMRA80A01H501U', email: to, name: 'Mario Rossi' } }],
      redirect: { completion_url: `${base}/done?case=7`, rejection_url: `${base}/rejected`,
                  error_url: `${base}/error` },
    });
    const first = created.signers[0].redirect_url;
    assert.match(first, /\/d\//);
    // A fresh URL replaces the first, which is refused from then on.
    const fresh = await client.post(
      `/api/v1/signature-requests/${request.id}/signers/${signerIds[0]}/redirect-url`, {});
    const page = await newPage(browser, 'desktop');
    let res = await page.goto(first);
    assert.equal(res.status(), 410);
    res = await page.goto(fresh.redirect_url);
    assert.equal(res.status(), 200);
    assert.match(page.url(), new RegExp(`/s/${request.id}$`));
    for (const box of await page.locator('input[name=accept][required]').all()) await box.check();
    const mail = smtp.waitFor((m) => m.to.includes(to) && /confirm|conferm|bekreft/.test(m.subject), 10000);
    await page.getByRole('button', { name: 'Continue to sign' }).click();
    await page.getByLabel('Confirmation code').fill(/\b(\d{6})\b/.exec((await mail).text)[1]);
    await page.getByRole('button', { name: 'Sign now' }).click();
    await page.waitForURL(`${base}/done?case=7&status_query_token=*`, { timeout: 30000 });
    await page.getByRole('heading', { name: 'Back at the institution' }).waitFor();
    const token = new URL(page.url()).searchParams.get('status_query_token');
    assert.ok(token && token.length > 30);

    const status = await client.get(
      `/api/v1/signature-requests/${request.id}?status_query_token=${token}`);
    assert.equal(status.status, 'SIGNED');
    await assert.rejects(
      client.get(`/api/v1/signature-requests/${request.id}?status_query_token=wrong${token}`),
      (e) => e.status === 403 && e.problem.type.endsWith(':forbidden'));
    // Replaying the used redirect URL is refused.
    const again = await newPage(browser, 'desktop');
    assert.equal((await again.goto(fresh.redirect_url)).status(), 410);
    await again.context().close();
    await page.context().close();
    assert.ok(hits.some((u) => u.startsWith('/done?case=7&status_query_token=')), hits.join());
  } finally {
    site.close();
  }
});

test('direct flow: rejecting sends the browser to the rejection URL', async () => {
  const hits = [];
  const site = http.createServer((req, res) => {
    hits.push(req.url);
    res.end('ok');
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${site.address().port}`;
  try {
    const { client, created, request } = await readyRequest(firmo, {
      signers: [{ who: { email: 'rejects@example.org' } }],
      redirect: { completion_url: `${base}/done`, rejection_url: `${base}/rejected`,
                  error_url: `${base}/error` },
    });
    const page = await newPage(browser, 'phone');
    await page.goto(created.signers[0].redirect_url);
    await page.getByText('I do not want to sign').click();
    await page.getByLabel('Why not?').fill('The amount is wrong');
    await page.getByRole('button', { name: 'Reject the request' }).click();
    await page.waitForURL(`${base}/rejected?status_query_token=*`);
    const r = await client.get(`/api/v1/signature-requests/${request.id}`);
    assert.equal(r.status, 'REJECTED');
    assert.equal(r.reject_reason, 'The amount is wrong');
    assert.equal(r.signers[0].status, 'REJECTED');
    await page.context().close();
  } finally {
    site.close();
  }
});

test('two signers in order: the second cannot open or sign before the first', async () => {
  const a = 'first.signer@example.org';
  const b = 'second.signer@example.org';
  // Field 0 and 1 are the first signer's, field 2 (optional) the second's.
  const { client, request } = await readyRequest(firmo, {
    signers: [{ who: { email: a, name: 'First Signer' }, order: 0 },
              { who: { email: b, name: 'Second Signer' }, order: 1 }],
    assign: [0, 0, 1],
  });
  const second = await newPage(browser, 'desktop');
  // The second signer's link says at once that it is not their turn: no code is offered, and
  // none is sent even when asked for directly (issue 16).
  let res = await second.goto(request.signers[1].portal_url);
  assert.equal(res.status(), 403);
  await second.getByRole('heading', { name: 'Not your turn yet' }).waitFor();
  assert.equal(await second.getByRole('button', { name: 'Send me a code' }).count(), 0);
  await screenshot(second, 'portal-not-your-turn');
  // A valid CSRF token of this browser: from the first signer's link page (same cookie).
  await second.goto(request.signers[0].portal_url);
  const csrf = await second.locator('input[name=csrf]').first().getAttribute('value');
  const token = new URL(request.signers[1].portal_url).pathname.split('/').pop();
  res = await second.request.post(`${firmo.url}/l/${token}/code`, { form: { csrf } });
  assert.equal(res.status(), 403);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await smtp.messages()).filter((m) => m.to.includes(b)).length, 0, 'no code sent');
  // Without a session the documents and the ceremony's forms stay closed.
  res = await second.request.get(
    `${firmo.url}/s/${request.id}/documents/${request.documents[0].id}/file`,
    { maxRedirects: 0 });
  assert.notEqual(res.status(), 200);
  res = await second.request.post(`${firmo.url}/s/${request.id}/accept`,
                                  { form: { csrf, accept: '0:2' }, maxRedirects: 0 });
  assert.notEqual(res.status(), 200);

  const first = await newPage(browser, 'desktop');
  await signWithCode(first, { link: request.signers[0].portal_url, smtp, to: a });
  await waitSigned(first);
  let r = await client.get(`/api/v1/signature-requests/${request.id}`);
  assert.equal(r.status, 'WAIT_FOR_SIGNATURE');
  assert.deepEqual(r.signers.map((s) => s.status), ['SIGNED', 'WAITING']);

  // Now it is the second signer's turn: the link offers a code.
  res = await second.goto(request.signers[1].portal_url);
  assert.equal(res.status(), 200);
  const mail = smtp.waitFor((m) => m.to.includes(b) && m.subject === 'Your Firmo code', 10000);
  await second.getByRole('button', { name: 'Send me a code' }).click();
  await second.getByLabel('One-time code').fill(/\b(\d{6})\b/.exec((await mail).text)[1]);
  await second.getByRole('button', { name: 'Open the documents' }).click();
  await second.waitForURL(`${firmo.url}/s/${request.id}`);
  await second.locator('input[name=accept]').check();
  const confirm = smtp.waitFor((m) => m.to.includes(b) && /confirm|conferm|bekreft/.test(m.subject), 10000);
  await second.getByRole('button', { name: 'Continue to sign' }).click();
  await second.getByLabel('Confirmation code').fill(/\b(\d{6})\b/.exec((await confirm).text)[1]);
  await second.getByRole('button', { name: 'Sign now' }).click();
  await waitSigned(second);
  r = await client.get(`/api/v1/signature-requests/${request.id}`);
  assert.equal(r.status, 'SIGNED');
  const file = await downloadFirst(second);
  const report = await pdfsigCheck(file, { firmo });
  assert.deepEqual(report.signatures.map((s) => s.signerName),
                   ['First Signer', 'First Signer', 'Second Signer'], report.output);
  assert.ok(report.signatures.every((s) => s.valid && s.trusted), report.output);
  // Each signer's turn ends B-LTA (a DSS update and a document time-stamp), and the second's
  // updates leave the first's signatures and time-stamp valid.
  assert.equal(report.documentTimestamps.length, 2, report.output);
  const lt = await longTermCheck(file, { firmo });
  assert.equal(lt.documentTimestamps.length, 2);
  assert.ok(lt.documentTimestamps.every((t) => t.verified), JSON.stringify(lt));
  assert.ok(lt.ocsp.length >= 4 && lt.ocsp.every((o) => o.verified), JSON.stringify(lt));
  await first.context().close();
  await second.context().close();
});

test('the confirm page says whether a code was sent and can send a new one', async () => {
  const to = 'resend.signer@example.org';
  const { request } = await readyRequest(firmo, { signers: [{ who: { email: to } }] });
  const page = await newPage(browser, 'phone');
  let confirmPage = null;
  // Walk to the confirm page (the accept sent a code, and the page says so), then stop there.
  await signWithCode(page, {
    link: request.signers[0].portal_url, smtp, to,
    onPage: async (p, name) => {
      if (name !== '4-confirm') return;
      confirmPage = p.url();
      throw new Error('stop at the confirm page');
    },
  }).catch((e) => { if (!/stop at the confirm page/.test(e.message)) throw e; });
  assert.ok(confirmPage, 'reached the confirm page');
  // Opened again without an accept, it claims nothing: it offers a new code.
  const base = confirmPage.replace(/\?sent$/, '');
  await page.goto(base);
  assert.equal(await page.getByText(/We sent a new 6-digit code/).count(), 0);
  await page.getByText(/Use the last code we sent to/).waitFor();
  // Asked at once, it says to wait (a code went out moments ago), and sends nothing.
  const before = (await smtp.messages()).filter((m) => m.to.includes(to)).length;
  await page.getByRole('button', { name: 'Send a new code' }).click();
  await page.getByText(/A code was sent moments ago/).waitFor();
  assert.equal(await page.getByText(/We sent a new 6-digit code/).count(), 0);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await smtp.messages()).filter((m) => m.to.includes(to)).length, before);
  await page.context().close();
});
