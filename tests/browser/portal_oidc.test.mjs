// eID login (OpenID Connect, authorization code + PKCE) against a real OpenID provider on
// loopback: inbox, ceremony, confirmation by re-authentication, signed-document message.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  launchBrowser, newPage, pdfsigCheck, screenshot, startFirmo, startOidcProvider,
} from './harness.mjs';
import { assertStrictCsp, downloadFirst, freePort, loginAtProvider, readyRequest, waitSigned } from './flows.mjs';

let firmo;
let provider;
let browser;

before(async () => {
  const port = await freePort();
  provider = await startOidcProvider({
    client_id: 'firmo',
    client_secret: 'a-long-client-secret-for-tests',
    redirect_uris: [`http://127.0.0.1:${port}/oidc/callback`],
    accounts: { mario: { fiscal_number: 'TINIT-RSSMRA80A01H501U', name: 'Mario Rossi' },
                // Giovanni's eID reaches substantial only (SPID level 2).
                luigi: { fiscal_number: 'TINIT-BNCGVN75L15F205G', name: 'Giovanni Bianchi',
                         acr: 'https://www.spid.gov.it/SpidL2' } },
  });
  [firmo, browser] = await Promise.all([
    startFirmo({ args: ['--listen', `127.0.0.1:${port}`, '--oidc-issuer', provider.issuer,
                        '--oidc-client-id', 'firmo',
                        '--oidc-client-secret', 'a-long-client-secret-for-tests'] }),
    launchBrowser(),
  ]);
});

after(async () => {
  await Promise.allSettled([firmo?.stop(), browser?.close(), provider?.stop()]);
});

test('eID login: inbox message, sign with re-authentication, signed-document message',
     async () => {
  const { client, request } = await readyRequest(firmo, {
    signers: [{ who: { fiscal_code: 'RSSMRA80A01H501U' } }],
    notify: true,
  });
  const page = await newPage(browser, 'desktop');
  let res = await page.goto(`${firmo.url}/inbox`);
  assertStrictCsp(res);
  await page.waitForURL(/\/login\?return_to=/);
  await screenshot(page, 'portal-0-login');
  await page.getByRole('link', { name: 'Log in with eID' }).click();
  await loginAtProvider(page, 'mario', firmo.url);
  await page.waitForURL(`${firmo.url}/inbox`);
  await screenshot(page, 'portal-6-inbox');
  await page.getByRole('link', { name: 'You have a document to sign' }).click();
  await page.waitForURL(`${firmo.url}/s/${request.id}`);
  for (const box of await page.locator('input[name=accept][required]').all()) await box.check();
  await page.getByRole('button', { name: 'Continue to sign' }).click();
  await page.getByRole('link', { name: 'Confirm with eID and sign' }).click();
  await loginAtProvider(page, 'mario', firmo.url);
  await waitSigned(page);
  const file = await downloadFirst(page);
  const report = await pdfsigCheck(file, { firmo });
  assert.equal(report.signatures.length, 2, report.output);
  for (const s of report.signatures) {
    assert.ok(s.valid && s.trusted, report.output);
    assert.equal(s.signerName, 'Mario Rossi');
  }
  await page.goto(`${firmo.url}/inbox`);
  await page.getByRole('link', { name: 'Here is your signed document' }).waitFor();
  const r = await client.get(`/api/v1/signature-requests/${request.id}`);
  assert.equal(r.status, 'SIGNED');
  // The same pages on a phone.
  const phone = await newPage(browser, 'phone');
  await phone.goto(`${firmo.url}/inbox`);
  await phone.waitForURL(/\/login\?return_to=/);
  await screenshot(phone, 'portal-0-login');
  await phone.getByRole('link', { name: 'Log in with eID' }).click();
  await loginAtProvider(phone, 'mario', firmo.url);
  await phone.getByRole('link', { name: 'Here is your signed document' }).waitFor();
  await screenshot(phone, 'portal-6-inbox');
  await phone.context().close();
  const events = (await client.get(`/api/v1/signature-requests/${request.id}/events`)).items;
  assert.match(events.find((e) => e.type === 'signer.confirmed').detail,
               /^eID level=eid_substantial ip=127\.0\.0\.1/);
  assert.equal(r.signers[0].authentication, 'eid_substantial');  // the default for a fiscal code
  assert.equal(r.signers[0].authenticated_with, 'eid_substantial');
  await page.context().close();
});

test('another person logged in by eID sees neither the request nor its documents', async () => {
  const { request } = await readyRequest(firmo, {
    signers: [{ who: { fiscal_code: 'RSSMRA80A01H501U' } }],
  });
  const page = await newPage(browser, 'desktop');
  await page.goto(`${firmo.url}/login/oidc?return_to=/inbox`);
  await loginAtProvider(page, 'luigi', firmo.url);
  await page.waitForURL(`${firmo.url}/inbox`);
  let res = await page.goto(`${firmo.url}/s/${request.id}`);
  assert.equal(res.status(), 404);
  res = await page.request.get(
    `${firmo.url}/s/${request.id}/documents/${request.documents[0].id}/file`);
  assert.equal(res.status(), 404);
  await page.context().close();
});

test('an eID re-authentication below the level the request requires is refused', async () => {
  const { client, request } = await readyRequest(firmo, {
    signers: [{ who: { fiscal_code: 'BNCGVN75L15F205G' }, authentication: 'eid_high' }],
  });
  assert.equal(request.signers[0].authentication, 'eid_high');
  const page = await newPage(browser, 'desktop');
  await page.goto(`${firmo.url}/login/oidc?return_to=/s/${request.id}`);
  await loginAtProvider(page, 'luigi', firmo.url);  // the login itself asks for substantial: fine
  await page.waitForURL(`${firmo.url}/s/${request.id}`);
  for (const box of await page.locator('input[name=accept][required]').all()) await box.check();
  await page.getByRole('button', { name: 'Continue to sign' }).click();
  await page.getByText('a code is not enough').waitFor();
  const asked = page.waitForRequest((r) => r.url().startsWith(provider.issuer) &&
                                           r.url().includes('acr_values='));
  await page.getByRole('link', { name: 'Confirm with eID and sign' }).click();
  const url = new URL((await asked).url());
  assert.equal(url.searchParams.get('acr_values'), 'https://www.spid.gov.it/SpidL3');
  const answer = page.waitForResponse((r) => r.url().startsWith(`${firmo.url}/oidc/callback`));
  await loginAtProvider(page, 'luigi', firmo.url);
  assert.equal((await answer).status(), 403);
  // The page says what is missing in the signer's language.
  await page.getByRole('heading', { name: 'A stronger eID login is needed' }).waitFor();
  const r = await client.get(`/api/v1/signature-requests/${request.id}`);
  assert.equal(r.signers[0].status, 'WAITING');
  assert.equal(r.signers[0].authenticated_with, undefined);
  const events = (await client.get(`/api/v1/signature-requests/${request.id}/events`)).items;
  assert.ok(!events.some((e) => e.type === 'signer.confirmed'), JSON.stringify(events));
  await page.context().close();
});
