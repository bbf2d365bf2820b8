// The signer's copy (issue 16): after completion, the link in the "signed documents" e-mail
// leads, from a fresh browser, to the signed PDFs (a fresh one-time code by the same channel),
// with who signed and when; after retention.signer_copy_days the page says the copy is no
// longer kept (410, with the institution's contact) and downloads are refused.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';

import { api, newPage, screenshot } from './harness.mjs';
import {
  assertStrictCsp, axeAudit, codeFrom, downloadFirst, readyRequest, signWithCode,
  startPortalWithMail, waitSigned,
} from './flows.mjs';

const running = [];
after(() => Promise.allSettled(running.map((r) => r.stop())));

// Signs a one-signer request in its own browser context; returns the link of the "signed
// documents" e-mail and the issuer's client.
// `kept`: whether the copy is still kept when the signature is in (else the page right after
// signing says it is not, and the document is refused to that session too).
async function signAndGetCopyLink({ firmo, browser, smtp }, to, { kept = true } = {}) {
  const { client, request } = await readyRequest(firmo, {
    signers: [{ who: { email: to, name: 'Anna Bianchi' } }],
  });
  const copyMail = smtp.waitFor((m) => m.to.includes(to) && /signed documents/.test(m.subject),
                                30000);
  const page = await newPage(browser, 'desktop');
  await signWithCode(page, { link: request.signers[0].portal_url, smtp, to });
  if (kept) {
    await waitSigned(page);
  } else {
    await page.getByRole('heading', { name: 'Your copy is no longer kept here' })
      .waitFor({ timeout: 30000 });
    const file = await page.request.get(
      `${firmo.url}/s/${request.id}/documents/${request.documents[0].id}/file?download=1`);
    assert.equal(file.status(), 410);
    assert.match(file.headers()['content-type'], /text\/html/);
  }
  await page.context().close();
  const mail = await copyMail;
  const m = /(https?:\/\/\S+\/l\/[A-Za-z0-9_.-]+)/.exec(mail.text);
  assert.ok(m, `no link in ${mail.text}`);
  return { client, request, link: m[1] };
}

test('the signed documents message leads a fresh browser to the signed copy', async () => {
  const env = await startPortalWithMail();
  running.push(env);
  const { browser, smtp } = env;
  const to = 'anna.copy@example.org';
  const { client, request, link } = await signAndGetCopyLink(env, to);

  for (const viewport of ['phone', 'desktop']) {
    const page = await newPage(browser, viewport, { bypassCSP: true });  // fresh: no cookie
    const res = await page.goto(link);
    assert.equal(res.status(), 200);
    assertStrictCsp(res);
    await page.getByRole('heading', { name: /Your copy of the documents signed with/ }).waitFor();
    assert.equal(await page.getByText(/asks you to sign/).count(), 0);
    await screenshot(page, 'portal-copy-1-link');
    await axeAudit(page, 'copy link page');
    // A new code (the sink keeps the codes of the signing too).
    const seen = new Set(await smtp.messages());
    const loginMail = smtp.waitFor(
      (m) => !seen.has(m) && m.to.includes(to) && m.subject === 'Your Firmo code', 10000);
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await page.getByLabel('One-time code').fill(codeFrom(await loginMail));
    await page.getByRole('button', { name: 'Show my documents' }).click();
    await page.waitForURL(/\/s\/[0-9A-Z]+\/done$/);
    await page.getByRole('heading', { name: 'Signed', exact: true }).waitFor();
    // Who signed and when, and until when the copy is kept.
    await page.getByRole('heading', { name: 'Who signed' }).waitFor();
    assert.match(await page.locator('ul.signers').innerText(), /Anna Bianchi, \d+ \w+ 20\d\d/);
    await page.getByText(/You can download your copy here until/).waitFor();
    await screenshot(page, 'portal-copy-2-documents');
    await axeAudit(page, 'copy documents page');
    const file = await downloadFirst(page);
    // The same signed PDF the issuer gets.
    const done = await client.get(`/api/v1/signature-requests/${request.id}`);
    const issuerCopy = Buffer.from(await (await fetch(done.documents[0].url)).arrayBuffer());
    assert.deepEqual(fs.readFileSync(file), issuerCopy);
    await page.context().close();
  }
});

test('after retention.signer_copy_days the copy is refused, with the institution to ask',
     async () => {
  const env = await startPortalWithMail({ args: ['--retention-signer-copy-days', '0'] });
  running.push(env);
  const { firmo, browser } = env;
  await api(firmo).patch('/api/v1/issuer', { support_email: 'help@comune.example' });
  const { request, link } = await signAndGetCopyLink(env, 'anna.late@example.org',
                                                     { kept: false });

  const page = await newPage(browser, 'phone', { bypassCSP: true });
  const res = await page.goto(link);
  assert.equal(res.status(), 410);
  assertStrictCsp(res);
  await page.getByRole('heading', { name: 'Your copy is no longer kept here' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Send me a code' }).count(), 0);
  // What to do next, and whom to ask.
  await page.getByRole('heading', { name: 'What you can do' }).waitFor();
  await page.locator('.help a[href="mailto:help@comune.example"]').waitFor();
  await screenshot(page, 'portal-copy-3-gone');
  await axeAudit(page, 'copy gone page');
  // No document without a session either.
  const file = await page.request.get(
    `${firmo.url}/s/${request.id}/documents/${request.documents[0].id}/file`);
  assert.notEqual(file.status(), 200);
  await page.context().close();
});
