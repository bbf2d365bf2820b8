// Accessibility of the portal pages: axe-core (WCAG 2.0/2.1 A and AA rules: labels, contrast,
// landmarks, names of controls, language) on every page of the link + code ceremony, at phone
// and desktop size. The checker is injected, so this context bypasses the page's CSP.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { viewports } from './harness.mjs';
import {
  axeAudit as audit, readyRequest, signWithCode, startPortalWithMail, waitSigned,
} from './flows.mjs';

let firmo;
let browser;
let smtp;
let stop;

before(async () => {
  ({ firmo, browser, smtp, stop } = await startPortalWithMail());
});

after(async () => {
  await stop?.();
});

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
