// The sender portal's second factor and test keys in a browser, at phone and desktop size: a
// person turns TOTP on from the account page (/app/account) with a code computed from the secret
// the page shows (as an authenticator app would), logs out, and logging in asks for a code
// (/app/login/code); an admin creates a test API key (the keys page shows its mode) and a
// request made with it has the "Test" badge in the list and on its page. axe-core WCAG A/AA on
// each page; screenshots staff-account-*, staff-login-code-*, staff-keys-* and staff-test-request-*
// (FIRMO_SCREENSHOTS=1).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';

import {
  api, launchBrowser, newPage, screenshot, startFirmo, viewports,
} from './harness.mjs';
import { axeAudit, firstIssuerId, readyRequest, staffSetup } from './flows.mjs';

let firmo;
let browser;
let issuer;
const password = 'correct horse battery staple';

before(async () => {
  browser = await launchBrowser();
  firmo = await startFirmo();
  issuer = await firstIssuerId(firmo);
});

after(async () => {
  await Promise.allSettled([firmo?.stop(), browser?.close()]);
});

// RFC 6238 (SHA-1, 30 s, 6 digits) from a base32 secret, at time `at` (seconds).
function totp(secret, at = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac = crypto.createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(value).padStart(6, '0');
}

for (const viewport of Object.keys(viewports)) {
  test(`a person turns on the second factor and logs in with a code (${viewport})`, async () => {
    const email = `tina.${viewport}@example.org`;
    const page = await newPage(browser, viewport, { bypassCSP: true });
    try {
      await staffSetup(page, firmo, { issuer, email, role: 'sender', password });
      let res = await page.goto(`${firmo.url}/app/account`);
      assert.equal(res.status(), 200);
      await page.getByRole('button', { name: 'Set up a second factor' }).click();
      const secret = (await page.locator('#totp-secret').innerText()).trim();
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.ok(await page.locator('#totp-qr svg').count() > 0, 'no QR code');
      await axeAudit(page, 'account');
      await screenshot(page, 'staff-account');
      await page.getByLabel('6-digit code').fill(totp(secret));
      await page.getByRole('button', { name: 'Turn on' }).click();
      await page.locator('#totp-state').waitFor();
      assert.match(await page.locator('#totp-state').innerText(), /^On:/);

      await page.getByRole('button', { name: 'Log out' }).click();
      await page.goto(`${firmo.url}/app/login`);
      await page.getByLabel('E-mail address').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(/\/app\/login\/code$/);
      await page.getByRole('heading', { name: 'Enter the code from your authenticator app' })
        .waitFor();
      await axeAudit(page, 'login code');
      await screenshot(page, 'staff-login-code');
      // The code just used to turn the factor on is refused (replay): the next step's is not.
      await page.getByLabel('6-digit code').fill(totp(secret, Date.now() / 1000 + 30));
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(/\/app$/);
    } finally {
      await page.context().close();
    }
  });
}

test('an admin makes a test key; its requests carry the Test badge', async () => {
  const page = await newPage(browser, 'desktop', { bypassCSP: true });
  try {
    await staffSetup(page, firmo, { issuer, email: 'ada@example.org', role: 'admin', password });
    await page.goto(`${firmo.url}/app/admin/keys`);
    await page.getByLabel('Label', { exact: true }).fill('Integration tests');
    await page.getByLabel('Test', { exact: true }).check();
    await page.getByRole('button', { name: 'Create the key' }).click();
    const key = await page.locator('#secret').inputValue();
    assert.match(key, /^firmo_test_[A-Za-z0-9_-]{43}$/);

    await page.goto(`${firmo.url}/app/admin/keys`);
    const row = page.locator('#keys tbody tr', { hasText: 'Integration tests' });
    assert.match(await row.innerText(), /\bTest\b/);
    await axeAudit(page, 'keys');
    await screenshot(page, 'staff-keys');

    const { request } = await readyRequest({ ...firmo, apiKey: key }, {
      signers: [{ who: { email: 'tom@example.org' } }],
    });
    assert.equal(request.test, true);
    const live = await api(firmo).get(`/api/v1/signature-requests/${request.id}`,
                                      { expect: 404 });
    assert.equal(live.type, 'urn:firmo:problem:not-found');

    await page.goto(`${firmo.url}/app`);
    const listed = page.locator('table.requests tbody tr', { has: page.locator('.badge.test') });
    assert.ok(await listed.count() >= 1, 'no Test badge in the list');
    await page.goto(`${firmo.url}/app/requests/${request.id}`);
    assert.ok(await page.locator('h1 .badge.test').isVisible());
    assert.ok(await page.locator('#test-notice').isVisible());
    await axeAudit(page, 'test request');
    await screenshot(page, 'staff-test-request');
  } finally {
    await page.context().close();
  }
});
