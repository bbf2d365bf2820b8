// The document view (issue 16): pdf.js pages with a text layer (selectable words, for screen
// readers and search), the signer's fields marked on the page with their clause, zoom that
// never makes the whole page scroll sideways at 390 px, and the signed documents readable again
// after signing. Under the real CSP (no inline style, no bypass), then axe-core.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { newPage, screenshot } from './harness.mjs';
import {
  axeAudit, readyRequest, signWithCode, startPortalWithMail, waitSigned,
} from './flows.mjs';

let env;
before(async () => { env = await startPortalWithMail(); });
after(async () => { await env?.stop(); });

// Whether the document (not an element inside it) scrolls sideways.
const overflows = (page) => page.evaluate(
  () => document.documentElement.scrollWidth > document.documentElement.clientWidth);

async function checkViewer(page, { marks }) {
  const viewer = page.locator('.viewer').first();
  await page.locator('.viewer[data-rendered]:not([data-rendered=""])').first()
    .waitFor({ timeout: 20000 });
  assert.equal(await viewer.getAttribute('data-rendered'), '2');
  // The text layer: the page's words, selectable.
  const word = viewer.locator('.textLayer span', { hasText: 'Firmo test page 1' }).first();
  await word.waitFor();
  const selected = await word.evaluate((span) => {
    const range = document.createRange();
    range.selectNodeContents(span);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return { text: selection.toString(), userSelect: getComputedStyle(span).userSelect };
  });
  assert.match(selected.text, /Firmo test page 1/);
  assert.notEqual(selected.userSelect, 'none');
  // Each of the signer's fields, marked on its page with its clause.
  const found = await viewer.locator('.field-mark').allInnerTexts();
  assert.deepEqual(found.sort(), marks.slice().sort());
  for (const box of await viewer.locator('.field-mark').all()) {
    const b = await box.boundingBox();
    assert.ok(b && b.width > 10 && b.height > 10, JSON.stringify(b));
  }
}

test('pdf.js text layer, field marks, zoom without sideways scrolling, read again after signing',
     async () => {
  const { firmo, browser, smtp } = env;
  for (const viewport of ['phone', 'desktop']) {
    const to = `view.${viewport}@example.org`;
    const { request } = await readyRequest(firmo, { signers: [{ who: { email: to } }] });
    const page = await newPage(browser, viewport);  // the real CSP
    const blocked = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) blocked.push(m.text());
    });
    await signWithCode(page, {
      link: request.signers[0].portal_url, smtp, to, optional: true,
      onPage: async (p, step) => {
        if (step !== '3-documents') return;
        await checkViewer(p, {
          marks: ['You sign here: I accept the terms of service',
                  'You sign here: I accept the limitation of liability',
                  'You sign here: I agree to receive the newsletter'],
        });
        await screenshot(p, 'portal-view-fields');
        assert.equal(await overflows(p), false, 'the page scrolls sideways');
        // Larger, twice: the pages grow inside the viewer, the page itself does not scroll.
        const larger = p.getByRole('button', { name: 'Larger' }).first();
        for (let i = 0; i < 2; i++) {
          await larger.click();
          await p.locator('.viewer[data-rendered="2"]').first().waitFor();
        }
        assert.equal(await p.locator('.viewer').first().getAttribute('data-zoom'), '2.25');
        assert.equal(await overflows(p), false, 'zoomed, the page scrolls sideways');
        if (viewport === 'phone') {
          const inner = await p.locator('.viewer').first()
            .evaluate((el) => el.scrollWidth > el.clientWidth);
          assert.ok(inner, 'zoomed in, the viewer scrolls');
        }
        await p.getByRole('button', { name: 'Fit to screen' }).first().click();
        await p.locator('.viewer[data-zoom="1"][data-rendered="2"]').first().waitFor();
      },
    });
    await waitSigned(page);
    // After signing: the signed version, in the same viewer (no field marks any more).
    await page.getByRole('heading', { name: /Read “Service contract” again/ }).waitFor();
    await checkViewer(page, { marks: [] });
    assert.equal(await overflows(page), false);
    await screenshot(page, 'portal-view-signed');
    assert.deepEqual(blocked, []);
    // axe-core (it needs a context that bypasses the CSP to be injected).
    const audit = await newPage(browser, viewport, { bypassCSP: true });
    await audit.context().addCookies(await page.context().cookies());
    await audit.goto(page.url());
    await audit.locator('.viewer[data-rendered="2"]').first().waitFor({ timeout: 20000 });
    await axeAudit(audit, `signed documents (${viewport})`);
    await audit.context().close();
    await page.context().close();
  }
});
