// The sender portal's administration pages (issue 17) in a browser, at phone and desktop size:
// an admin invites a person (the setup link works), creates and revokes an API key, adds and
// deletes a webhook, and reads the staff audit log, which lists each of those actions; a sender
// gets 403 and sees no way in; axe-core WCAG A/AA finds nothing on any admin page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { launchBrowser, newPage, startFirmo, viewports } from './harness.mjs';
import { assertStrictCsp, axeAudit as audit, firstIssuerId, staffSetup } from './flows.mjs';

let firmo;
let browser;
let issuer;

before(async () => {
  browser = await launchBrowser();
  firmo = await startFirmo({});
  issuer = await firstIssuerId(firmo);
});

after(async () => {
  await Promise.allSettled([firmo?.stop(), browser?.close()]);
});

for (const viewport of Object.keys(viewports)) {
  test(`an admin administers users, keys and webhooks (${viewport})`, async () => {
    // bypassCSP: only so that axe-core can be injected; assertStrictCsp checks the header.
    const page = await newPage(browser, viewport, { bypassCSP: true });
    try {
      await staffSetup(page, firmo, { issuer, email: `admin-${viewport}@example.org`,
                                      role: 'admin' });
      await page.getByRole('link', { name: 'Administration' }).click();
      await page.waitForURL(/\/app\/admin\/users$/);
      await audit(page, 'users');

      // Invite a viewer: the setup link is shown once.
      await page.getByLabel('E-mail address').fill(`new-${viewport}@example.org`);
      await page.locator('#invite-role').selectOption('viewer');
      const invited = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/app/admin/users') &&
                                    r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Create the account and its setup link' }).click(),
      ]);
      assert.equal(invited[0].status(), 201);
      assertStrictCsp(invited[0]);
      const link = await page.locator('#secret').inputValue();
      assert.match(link, /\/app\/setup\/[A-Za-z0-9_-]{43}$/);
      await audit(page, 'invited');
      await page.getByRole('link', { name: 'Back' }).click();
      await page.getByRole('cell', { name: `new-${viewport}@example.org`, exact: true }).waitFor();

      // An API key with a label and an expiry.
      await page.getByRole('link', { name: 'API keys' }).click();
      await audit(page, 'keys');
      await page.getByLabel('Label').fill(`ERP ${viewport}`);
      const day = new Date(Date.now() + 30 * 86400e3).toISOString().slice(0, 10);
      await page.getByLabel('Expires (optional)').fill(day);
      await page.getByRole('button', { name: 'Create the key' }).click();
      const key = await page.locator('#secret').inputValue();
      assert.match(key, /^firmo_/);
      const ok = await fetch(`${firmo.url}/api/v1/webhooks`, { headers: { 'X-Api-Key': key } });
      assert.equal(ok.status, 200);
      await page.getByRole('link', { name: 'Back' }).click();
      const row = page.getByRole('row').filter({ hasText: `ERP ${viewport}` });
      await row.getByRole('button', { name: /Revoke/ }).click();
      await page.getByRole('row').filter({ hasText: `ERP ${viewport}` })
        .getByText('Revoked').waitFor();
      const refused = await fetch(`${firmo.url}/api/v1/webhooks`,
                                  { headers: { 'X-Api-Key': key } });
      assert.equal(refused.status, 401);

      // A webhook endpoint, then deleted.
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await audit(page, 'webhooks');
      const url = `https://hooks.example.org/${viewport}`;
      await page.getByLabel('URL').fill(url);
      await page.getByLabel('signature_request.signed').check();
      await page.getByRole('button', { name: 'Add the endpoint' }).click();
      assert.ok((await page.locator('#secret').inputValue()).length > 10);
      await page.getByRole('link', { name: 'Back' }).click();
      await page.getByRole('button', { name: `Delete ${url}` }).click();
      await page.getByRole('heading', { name: 'Webhook endpoints' }).waitFor();
      assert.equal(await page.getByRole('button', { name: `Delete ${url}` }).count(), 0);

      // Everything is in the audit log.
      await page.getByRole('link', { name: 'Audit log' }).click();
      await audit(page, 'audit');
      const log = await page.locator('#audit').innerText();
      for (const action of ['staff_user.created', 'api_key.created', 'api_key.revoked',
                            'webhook.created', 'webhook.deleted']) {
        assert.ok(log.includes(action), `${action} in ${log}`);
      }
    } finally {
      await page.context().close();
    }
  });
}

test('a sender sees no administration and gets 403', async () => {
  const page = await newPage(browser, 'desktop', { bypassCSP: true });
  try {
    await staffSetup(page, firmo, { issuer, email: 'sender@example.org', role: 'sender' });
    assert.equal(await page.getByRole('link', { name: 'Administration' }).count(), 0);
    for (const section of ['users', 'keys', 'webhooks', 'audit']) {
      const res = await page.goto(`${firmo.url}/app/admin/${section}`);
      assert.equal(res.status(), 403, section);
    }
    await audit(page, '403');
  } finally {
    await page.context().close();
  }
});
