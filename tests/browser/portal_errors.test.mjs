// Error pages with a next step (issue 16): every error page of the portal says what happened,
// what to do next and whom to ask (the institution's name and contact when known), in the
// signer's language; axe-core finds nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { api, newPage, screenshot } from './harness.mjs';
import {
  assertStrictCsp, axeAudit, codeFrom, readyRequest, startPortalWithMail,
} from './flows.mjs';

let env;
before(async () => {
  env = await startPortalWithMail();
  await api(env.firmo).patch('/api/v1/issuer', {
    display_name: 'Comune di Esempio', support_email: 'aiuto@comune.example',
    support_url: 'https://comune.example/aiuto',
  });
});
after(async () => { await env?.stop(); });

const next = { en: 'What you can do', it: 'Cosa puoi fare', nb: 'Dette kan du gjøre' };
const helps = { en: /Comune di Esempio can help you/, it: /Comune di Esempio può aiutarti/,
                nb: /Comune di Esempio kan hjelpe deg/ };
const unknown = { en: /contact whoever sent you the link/, it: /contatta chi ti ha inviato/,
                  nb: /kontakt den som sendte deg lenken/ };

// The page now shown is an error page: heading, what happened, what next, whom to ask.
async function checkErrorPage(page, { language, status, response, institution = true, name }) {
  if (response) {
    assert.equal(response.status(), status, `${name}: ${await page.content()}`);
    assertStrictCsp(response);
  }
  assert.equal(await page.getAttribute('html', 'lang'), language);
  assert.ok((await page.locator('h1').innerText()).length > 3, name);
  assert.ok((await page.locator('[role=alert]').innerText()).length > 10, name);
  await page.getByRole('heading', { name: next[language] }).waitFor();
  assert.ok((await page.locator('.next').innerText()).length > 10, name);
  const help = page.locator('.help');
  if (institution) {
    assert.match(await help.innerText(), helps[language], name);
    assert.equal(await help.locator('a[href="mailto:aiuto@comune.example"]').count(), 1);
    assert.equal(await help.locator('a[href="https://comune.example/aiuto"]').count(), 1);
  } else {
    assert.match(await help.innerText(), unknown[language], name);
  }
  await axeAudit(page, name);
}

async function sendCode(page, smtp, to) {
  const mail = smtp.waitFor((m) => m.to.includes(to) && /code|codice|kode/i.test(m.subject), 10000);
  await page.locator('form[action$="/code"] button').first().click();
  return codeFrom(await mail);
}

test('error pages say what happened, what to do next and whom to ask, in three languages',
     async () => {
  const { firmo, browser, smtp } = env;
  for (const language of ['en', 'it', 'nb']) {
    const viewport = language === 'en' ? 'desktop' : 'phone';
    const open = () => newPage(browser, viewport, { bypassCSP: true }, { language });

    // A forged link: nothing is known about it, so no institution.
    let page = await open();
    let res = await page.goto(`${firmo.url}/l/bm90LWEtbGluaw.bm90LWEtbWFj`);
    await checkErrorPage(page, { language, status: 403, response: res, institution: false,
                                 name: `forged link (${language})` });
    await page.context().close();

    // Cancelled by the institution.
    const cancelled = await readyRequest(firmo, {
      signers: [{ who: { email: `cancel.${language}@example.org` } }],
    });
    await cancelled.client.put(`/api/v1/signature-requests/${cancelled.request.id}/status`,
                               'CANCELLED');
    page = await open();
    res = await page.goto(cancelled.request.signers[0].portal_url);
    await checkErrorPage(page, { language, status: 410, response: res,
                                 name: `cancelled (${language})` });
    await screenshot(page, `portal-error-cancelled-${language}`);
    await page.context().close();

    // Too many wrong codes: blocked.
    const blockedTo = `blocked.${language}@example.org`;
    const blocked = await readyRequest(firmo, { signers: [{ who: { email: blockedTo } }] });
    page = await open();
    await page.goto(blocked.request.signers[0].portal_url);
    const code = await sendCode(page, smtp, blockedTo);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      await page.locator('#code').fill(wrong);
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/login')),
        page.locator('form[action$="/login"] button').click(),
      ]);
      if (i === 4) {
        await page.waitForLoadState();
        assert.equal(answer.status(), 403);
      }
    }
    await checkErrorPage(page, { language, status: 403, name: `blocked (${language})` });
    await page.context().close();

    // Declined by the signer, then the link opened again.
    const declineTo = `decline.${language}@example.org`;
    const declined = await readyRequest(firmo, { signers: [{ who: { email: declineTo } }] });
    page = await open();
    await page.goto(declined.request.signers[0].portal_url);
    const login = await sendCode(page, smtp, declineTo);
    await page.locator('#code').fill(login);
    await page.locator('form[action$="/login"] button').click();
    await page.waitForURL(/\/s\/[0-9A-Z]+$/);
    // Not found: a request that is not this signer's, from the same session.
    res = await page.goto(`${firmo.url}/s/01AAAAAAAAAAAAAAAAAAAAAAAA/confirm`);
    await checkErrorPage(page, { language, status: 404, response: res,
                                 name: `not found (${language})` });
    await page.goto(`${firmo.url}/s/${declined.request.id}`);
    await page.locator('details.reject summary').click();
    await page.locator('#reason').fill('Not for me');
    await page.locator('form[action$="/reject"] button').click();
    await page.waitForURL(/\/done$/);
    await page.context().close();
    page = await open();  // a fresh browser: the link page, not the session's
    res = await page.goto(declined.request.signers[0].portal_url);
    await checkErrorPage(page, { language, status: 410, response: res,
                                 name: `declined (${language})` });
    await page.context().close();
  }
});
