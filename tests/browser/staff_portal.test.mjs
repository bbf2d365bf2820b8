// The sender portal (/app, issue 17) in a browser, at phone and desktop size: the setup link,
// password, login and logout; the lists and a request's page, whose timeline moves when the first
// of two signers signs in the signer portal; cancelling another request; downloading the signed
// PDF (valid and trusted in pdfsig); a viewer cannot act; a user of another issuer sees nothing;
// CSRF and session rules; axe-core WCAG A/AA on every page. Sending from the browser (upload,
// placing fields) is not built yet: requests are made through the API.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  launchBrowser, newPage, pdfsigCheck, repoRoot, screenshot, startFirmo, startSmtpSink, viewports,
} from './harness.mjs';
import {
  assertStrictCsp, downloadFirst, firstIssuerId, readyRequest, signWithCode, staffSetup,
} from './flows.mjs';

const axePath = path.join(repoRoot, 'tests/node/node_modules/axe-core/axe.min.js');
let firmo;
let browser;
let smtp;
let issuer;

before(async () => {
  [smtp, browser] = await Promise.all([startSmtpSink(), launchBrowser()]);
  firmo = await startFirmo({
    args: ['--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-starttls', 'none'],
  });
  issuer = await firstIssuerId(firmo);
});

after(async () => {
  await Promise.allSettled([firmo?.stop(), browser?.close(), smtp?.stop()]);
});

async function audit(page, name) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const found = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
  assert.deepEqual(found, [], `${name} at ${page.url()}`);
}

// A POST from inside the page (same origin, the page's cookies), as a forged form would.
async function postFrom(page, url, fields) {
  return page.evaluate(async ({ url, fields }) => {
    const r = await fetch(url, { method: 'POST', body: new URLSearchParams(fields),
                                 redirect: 'manual' });
    return r.status;
  }, { url, fields });
}

for (const viewport of Object.keys(viewports)) {
  test(`a sender follows, the timeline moves, and cancels (${viewport})`, async () => {
    const first = `first.${viewport}@example.org`;
    const second = `second.${viewport}@example.org`;
    const { request } = await readyRequest(firmo, {
      signers: [{ who: { email: first }, order: 0 }, { who: { email: second }, order: 1 }],
    });
    const { request: other } = await readyRequest(firmo, {
      signers: [{ who: { email: `other.${viewport}@example.org` } }],
    });
    const page = await newPage(browser, viewport, { bypassCSP: true });
    try {
      await staffSetup(page, firmo, { issuer, email: `sara.${viewport}@example.org`,
                                      role: 'sender', onPage: audit });
      await audit(page, 'home');
      await screenshot(page, 'staff-home');
      assert.ok(await page.getByRole('link', { name: 'Contract 2026' }).first().isVisible());

      // The request page: both signers waiting, a timeline.
      let res = await page.goto(`${firmo.url}/app/requests/${request.id}`);
      assert.equal(res.status(), 200);
      assertStrictCsp(res);
      await audit(page, 'request');
      const timeline = page.locator('#timeline li');
      const before = await timeline.count();

      // The first signer signs in the signer portal (their own browser).
      const signer = await newPage(browser, viewport);
      try {
        await signWithCode(signer, { link: request.signers[0].portal_url, smtp, to: first });
        await signer.getByRole('heading', { name: /Signed|Your signature/ }).first()
          .waitFor({ timeout: 30000 });
      } finally {
        await signer.context().close();
      }
      for (let i = 0; ; i++) {
        await page.reload();
        const row = page.locator('table.requests tbody tr', { hasText: first });
        if (await page.locator('#timeline li', { hasText: 'Signature confirmed' }).count() > 0 &&
            /\bsigned\b/.test(await row.innerText())) break;
        assert.ok(i < 100, 'the timeline did not move');
        await new Promise((r) => setTimeout(r, 300));
      }
      assert.ok(await timeline.count() > before);
      await screenshot(page, 'staff-request');

      // Cancel the other request with its button.
      await page.goto(`${firmo.url}/app/requests/${other.id}`);
      await page.getByRole('button', { name: 'Cancel the request' }).click();
      await page.waitForURL(new RegExp(`/app/requests/${other.id}$`));
      assert.equal(await page.locator('#status').innerText(), 'cancelled');
      await page.goto(`${firmo.url}/app?tab=stopped`);
      await audit(page, 'stopped');

      // CSRF: a POST without the session's token changes nothing.
      assert.equal(await postFrom(page, `/app/requests/${request.id}/cancel`, {}), 403);
      assert.equal(await postFrom(page, `/app/requests/${request.id}/cancel`,
                                  { csrf: 'forged' }), 403);

      // Log out: the session is gone.
      await page.goto(`${firmo.url}/app`);
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(/\/app\/login$/);
      await audit(page, 'login');
      await page.goto(`${firmo.url}/app/requests/${request.id}`);
      assert.match(page.url(), /\/app\/login$/);
    } finally {
      await page.context().close();
    }
  });
}

test('the signed PDF downloads from the request page and is valid in pdfsig', async () => {
  const to = 'single@example.org';
  const { request } = await readyRequest(firmo, { signers: [{ who: { email: to } }] });
  const signer = await newPage(browser, 'desktop');
  await signWithCode(signer, { link: request.signers[0].portal_url, smtp, to });
  await signer.getByRole('heading', { name: 'Signed', exact: true }).waitFor({ timeout: 30000 });
  await signer.context().close();
  const page = await newPage(browser, 'desktop');
  try {
    await staffSetup(page, firmo, { issuer, email: 'vera@example.org', role: 'viewer' });
    await page.goto(`${firmo.url}/app/requests/${request.id}`);
    await page.getByText('Signed by everyone').waitFor();
    const file = await downloadFirst(page);
    const report = await pdfsigCheck(file, { firmo });
    const signed = report.signatures.filter((s) => s.validation !== undefined);
    assert.ok(signed.length > 0, report.output);
    assert.ok(signed.every((s) => s.valid && s.trusted), report.output);
    // The signature report of the final request, sealed by Firmo: valid and trusted too.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#evidence').click(),
    ]);
    const evidence = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-ev-')), 'report.pdf');
    await download.saveAs(evidence);
    const sealed = await pdfsigCheck(evidence, { firmo });
    const seal = sealed.signatures.find((s) => s.validation !== undefined);
    assert.ok(seal && seal.valid && seal.trusted, sealed.output);
    assert.match(sealed.output, /Firmo signature report seal/);
  } finally {
    await page.context().close();
  }
});

test('a viewer cannot act and a user of another issuer sees nothing', async () => {
  const { request } = await readyRequest(firmo, { signers: [{ who: { email: 'v@example.org' } }] });
  const viewer = await newPage(browser, 'desktop', { bypassCSP: true });
  try {
    await staffSetup(viewer, firmo, { issuer, email: 'lina@example.org', role: 'viewer' });
    await viewer.goto(`${firmo.url}/app/requests/${request.id}`);
    assert.equal(await viewer.getByRole('button', { name: 'Cancel the request' }).count(), 0);
    const csrf = await viewer.locator('input[name=csrf]').first().getAttribute('value');
    assert.equal(await postFrom(viewer, `/app/requests/${request.id}/cancel`, { csrf }), 403);
    await audit(viewer, 'viewer request');
  } finally {
    await viewer.context().close();
  }
  const out = await firmo.cli('issuer', 'create', '--name', 'Oslo kommune', '--email', 'it@oslo.no');
  const otherIssuer = out.trim().split('\n').pop();
  const stranger = await newPage(browser, 'phone');
  try {
    await staffSetup(stranger, firmo, { issuer: otherIssuer, email: 'ola@oslo.no', role: 'admin' });
    assert.equal(await stranger.getByRole('link', { name: 'Contract 2026' }).count(), 0);
    const res = await stranger.goto(`${firmo.url}/app/requests/${request.id}`);
    assert.equal(res.status(), 404);
  } finally {
    await stranger.context().close();
  }
  const status = (await (await fetch(`${firmo.url}/api/v1/signature-requests/${request.id}`,
                                     { headers: { 'X-Api-Key': firmo.apiKey } })).json()).status;
  assert.equal(status, 'READY');
});
