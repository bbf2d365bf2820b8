// Accessibility of the portal pages: axe-core (WCAG 2.0/2.1 A and AA rules: labels, contrast,
// landmarks, names of controls, language) on every page of the link + code ceremony, at phone
// and desktop size. The checker is injected, so this context bypasses the page's CSP.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { launchBrowser, repoRoot, startFirmo, startSmtpSink, viewports } from './harness.mjs';
import { readyRequest, signWithCode, waitSigned } from './flows.mjs';

const axePath = path.join(repoRoot, 'tests/node/node_modules/axe-core/axe.min.js');
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

async function audit(page, name) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const found = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
  assert.deepEqual(found, [], `${name} at ${page.url()}`);
  return result.passes.length;
}

test('every page of the ceremony passes axe-core WCAG A/AA checks', async () => {
  for (const viewport of ['phone', 'desktop']) {
    const to = `a11y.${viewport}@example.org`;
    const { request } = await readyRequest(firmo, { signers: [{ who: { email: to } }] });
    const context = await browser.newContext({ ...viewports[viewport], bypassCSP: true });
    const page = await context.newPage();
    const audited = [];
    await signWithCode(page, {
      link: request.signers[0].portal_url, smtp, to,
      onPage: async (p, name) => { await audit(p, name); audited.push(name); },
    });
    await waitSigned(page);
    await audit(page, 'signed');
    await page.goto(`${firmo.url}/login`);
    await audit(page, 'login');
    assert.deepEqual(audited, ['1-link', '2-code', '3-documents', '4-confirm']);
    await context.close();
  }
});
