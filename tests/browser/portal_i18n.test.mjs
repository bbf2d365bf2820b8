// The portal in every language it has a catalogue for (src/i18n/messages/*.msg), at phone and
// desktop size: an Italian signer (fiscal code), a Norwegian one (national identity number) and
// one known only by e-mail (the browser's language, English here) each walk link -> code ->
// documents -> confirm -> signed with no language chosen, and every page has <html lang> of
// that language, its texts (read from the catalogue itself), and no axe-core violation. Then
// the language switch changes the page and is remembered.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { newPage, repoRoot, screenshot } from './harness.mjs';
import { axeAudit, codeFrom, readyRequest, startPortalWithMail } from './flows.mjs';

let firmo;
let browser;
let smtp;
let stop;

// The catalogue of `language`, as a translator wrote it: key -> pattern.
function catalogue(language) {
  const text = fs.readFileSync(path.join(repoRoot, `src/i18n/messages/${language}.msg`), 'utf8');
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_.]+)\s*=\s*(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

const signers = {
  it: { fiscal_code: 'RSSMRA80A01H501U', name: 'Mario Rossi' },
  nb: { national_identity_number: '15076500565', country: 'NO', name: 'Kari Nordmann' },
  en: { name: 'Anna Smith' },
};

before(async () => {
  ({ firmo, browser, smtp, stop } = await startPortalWithMail());
});

after(async () => {
  await stop?.();
});

async function inLanguage(page, language, name) {
  assert.equal(await page.locator('html').getAttribute('lang'), language, `${name}: <html lang>`);
  await axeAudit(page, `${language} ${name}`);
  await screenshot(page, `portal-${language}-${name}`);
}

for (const language of ['it', 'nb', 'en']) {
  test(`a signer whose language is ${language} gets every page in it (phone and desktop)`,
    async () => {
      const t = catalogue(language);
      for (const viewport of ['phone', 'desktop']) {
        const to = `${language}.${viewport}@example.org`;
        const { request } = await readyRequest(firmo, {
          signers: [{ who: { ...signers[language], email: to } }],
        });
        // No language chosen: the signer's identifier (or the browser, en-US) decides.
        const page = await newPage(browser, viewport, { bypassCSP: true }, { language: null });
        try {
          await page.goto(request.signers[0].portal_url);
          await inLanguage(page, language, '1-link');
          const loginMail = smtp.waitFor(
            (m) => m.to.includes(to) && m.subject === t['code.subject_login'], 10000);
          await page.getByRole('button', { name: t['page.link.send_button'] }).click();
          await page.getByLabel(t['page.link.code_label']).fill(codeFrom(await loginMail));
          await inLanguage(page, language, '2-code');
          await page.getByRole('button', { name: t['page.link.open_button'] }).click();
          await page.waitForURL(/\/s\/[0-9A-Z]+$/);
          await page.locator('.viewer[data-rendered]').first().waitFor({ timeout: 20000 });
          await page.getByRole('heading', { name: 'Contract 2026' }).waitFor();
          await inLanguage(page, language, '3-documents');
          for (const box of await page.locator('input[name=accept]').all()) {
            const label = await page.locator(`label[for="${await box.getAttribute('id')}"]`)
              .innerText();
            if (!label.includes(t['page.ceremony.kind_optional'])) await box.check();
          }
          const confirmMail = smtp.waitFor(
            (m) => m.to.includes(to) && m.subject === t['code.subject_confirm'], 10000);
          await page.getByRole('button', { name: t['page.ceremony.continue'] }).click();
          await page.waitForURL(/\/confirm\?sent$/);
          await inLanguage(page, language, '4-confirm');
          await page.getByLabel(t['page.confirm.code_label']).fill(codeFrom(await confirmMail));
          await page.getByRole('button', { name: t['page.confirm.sign_button'] }).click();
          await page.getByRole('heading', { name: t['page.done.signed'], exact: true })
            .waitFor({ timeout: 30000 });
          await inLanguage(page, language, '5-signed');
          // An error page in the same session: in the signer's language, with the next step.
          await page.goto(`${firmo.url}/s/01AAAAAAAAAAAAAAAAAAAAAAAA/confirm`);
          await page.getByRole('heading', { name: t['error.next'] }).waitFor();
          await inLanguage(page, language, '8-error');
        } finally {
          await page.context().close();
        }
        // The signer's copy (issue 16): the link of the "signed documents" message, in a fresh
        // browser, then a new code, then the signed documents.
        const issuerName = /\{issuer\}/;
        const subject = new RegExp(t['mail.signed_documents.subject']
          .replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(issuerName, '.+'));
        const copyMail = await smtp.waitFor((m) => m.to.includes(to) && subject.test(m.subject),
                                            30000);
        const link = /(https?:\/\/\S+\/l\/[A-Za-z0-9_.-]+)/.exec(copyMail.text)[1];
        const copy = await newPage(browser, viewport, { bypassCSP: true }, { language: null });
        try {
          await copy.goto(link);
          await copy.getByRole('heading', { level: 1 }).waitFor();
          await inLanguage(copy, language, '6-copy');
          const seen = new Set(await smtp.messages());
          const loginMail = smtp.waitFor(
            (m) => !seen.has(m) && m.to.includes(to) && m.subject === t['code.subject_login'],
            10000);
          await copy.getByRole('button', { name: t['page.link.send_button'] }).click();
          await copy.getByLabel(t['page.link.code_label']).fill(codeFrom(await loginMail));
          await copy.getByRole('button', { name: t['page.copy.open_button'] }).click();
          await copy.waitForURL(/\/done$/);
          await copy.locator('.viewer[data-rendered]:not([data-rendered=""])').first()
            .waitFor({ timeout: 20000 });
          await inLanguage(copy, language, '7-copy-documents');
        } finally {
          await copy.context().close();
        }
      }
    });
}

test('the language switch on the page wins and is remembered', async () => {
  const to = 'switch@example.org';
  const { request } = await readyRequest(firmo, { signers: [{ who: { ...signers.it, email: to } }] });
  const page = await newPage(browser, 'phone', {}, { language: null });
  try {
    await page.goto(request.signers[0].portal_url);
    assert.equal(await page.locator('html').getAttribute('lang'), 'it');
    const nav = page.getByRole('navigation', { name: catalogue('it')['page.common.languages'] });
    await nav.getByRole('link', { name: 'Norsk bokmål' }).click();
    await page.getByRole('heading', { name: /ber deg signere/ }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'nb');
    const current = page.getByRole('link', { name: 'Norsk bokmål' });
    assert.equal(await current.getAttribute('aria-current'), 'true');
    // Remembered: the next page (here the login page) is Norwegian too.
    await page.goto(`${firmo.url}/login`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'nb');
    await page.getByRole('heading', { name: catalogue('nb')['page.login.heading'] }).waitFor();
  } finally {
    await page.context().close();
  }
});
