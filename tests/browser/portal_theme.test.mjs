// The institution's brand colour in the portal (issue 16): a style sheet of its own
// (/issuers/{id}/theme.css, with a cache validator), so the pages' CSP keeps style-src 'self';
// the text on the colour stays readable (black or white by contrast ratio); axe finds nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { api, newPage, screenshot } from './harness.mjs';
import { assertStrictCsp, axeAudit, readyRequest, startPortalWithMail } from './flows.mjs';

let env;
before(async () => { env = await startPortalWithMail(); });
after(async () => { await env?.stop(); });

test('the brand colour comes as theme.css; the text on it keeps its contrast', async () => {
  const { firmo, browser } = env;
  const client = api(firmo);
  for (const [color, rgb, ink] of [['#ffd500', 'rgb(255, 213, 0)', 'rgb(0, 0, 0)'],
                                   ['#003366', 'rgb(0, 51, 102)', 'rgb(255, 255, 255)']]) {
    const issuer = await client.patch('/api/v1/issuer', { brand_color: color });
    const { request } = await readyRequest(firmo, {
      signers: [{ who: { email: `theme.${color.slice(1)}@example.org` } }],
    });
    for (const viewport of ['phone', 'desktop']) {
      const page = await newPage(browser, viewport);  // the real CSP
      const blocked = [];
      page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) blocked.push(m.text()); });
      const res = await page.goto(request.signers[0].portal_url);
      assertStrictCsp(res);
      const href = `/issuers/${issuer.id}/theme.css?v=${color.slice(1)}`;
      assert.equal(await page.locator(`link[rel=stylesheet][href="${href}"]`).count(), 1);
      const bar = await page.locator('header.bar').evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.equal(bar, rgb);
      const brand = await page.locator('header .brand').evaluate((el) => getComputedStyle(el).color);
      assert.equal(brand, ink);
      const button = await page.locator('.button').first().evaluate((el) => {
        const s = getComputedStyle(el);
        return [s.backgroundColor, s.color];
      });
      assert.deepEqual(button, [rgb, ink]);
      assert.deepEqual(blocked, []);
      await screenshot(page, `portal-theme-${color.slice(1)}`);
      await page.context().close();

      const audit = await newPage(browser, viewport, { bypassCSP: true });
      await audit.goto(request.signers[0].portal_url);
      await axeAudit(audit, `link page in ${color} (${viewport})`);
      await audit.context().close();
    }

    // The cache validator: the colour; the same colour again is a 304.
    const css = await fetch(`${firmo.url}/issuers/${issuer.id}/theme.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type'), /^text\/css/);
    assert.match(await css.text(), new RegExp(`--brand: ${color};`));
    const etag = css.headers.get('etag');
    assert.equal(etag, `"${color.slice(1)}"`);
    const again = await fetch(`${firmo.url}/issuers/${issuer.id}/theme.css`,
                              { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
  }
  // No colour: no sheet linked.
  await client.patch('/api/v1/issuer', { brand_color: '' });
  const { request } = await readyRequest(firmo, { signers: [{ who: { email: 'plain@example.org' } }] });
  const page = await newPage(browser, 'phone');
  await page.goto(request.signers[0].portal_url);
  assert.equal(await page.locator('link[href*="theme.css"]').count(), 0);
  await page.context().close();
});
