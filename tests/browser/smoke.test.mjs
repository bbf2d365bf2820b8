// Smoke test of the browser-test harness itself: the real firmo binary answers Chromium at both
// viewports, the SMTP sink decodes a real mail, and the PDF/API/pdfsig helpers agree with Firmo.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import {
  api, forEachViewport, launchBrowser, makePdf, pdfsigCheck, startFirmo,
  startSmtpSink,
} from './harness.mjs';

const execFileP = promisify(execFile);
let firmo;
let browser;
let smtp;

before(async () => {
  [firmo, browser, smtp] = await Promise.all([startFirmo(), launchBrowser(), startSmtpSink()]);
});

after(async () => {
  await Promise.allSettled([firmo?.stop(), browser?.close(), smtp?.stop()]);
});

test('chromium reads /healthz at phone and desktop viewports', async () => {
  const seen = [];
  await forEachViewport(browser, async (page, viewport) => {
    const res = await page.goto(`${firmo.url}/healthz`);
    assert.equal(res.status(), 200, firmo.logs());
    assert.deepEqual(JSON.parse(await page.locator('body').innerText()), { status: 'ok' });
    // screen, not innerWidth: a mobile layout viewport is 980 px wide without <meta viewport>.
    seen.push([viewport, await page.evaluate(() => [screen.width, devicePixelRatio])]);
  });
  assert.deepEqual(seen, [['phone', [390, 2]], ['desktop', [1280, 1]]]);
});

test('the SMTP sink receives and decodes a multipart mail', async () => {
  const send = `
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "firmo@example.org"
m["To"] = "mario.rossi@example.org"
m["Subject"] = "Firma richiesta: contratto è pronto"
m.set_content("Codice: 123456")
m.add_alternative("<p>Codice: <b>123456</b></p>", subtype="html")
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
    s.send_message(m)
`;
  const pending = smtp.waitFor((m) => m.to.includes('mario.rossi@example.org'), 10000);
  await execFileP('/usr/bin/python3', ['-c', send, String(smtp.port)]);
  const mail = await pending;
  assert.equal(mail.subject, 'Firma richiesta: contratto è pronto');
  assert.equal(mail.from, 'firmo@example.org');
  assert.match(mail.text, /Codice: 123456/);
  assert.match(mail.html, /<b>123456<\/b>/);
  assert.equal((await smtp.messages()).length, 1);
  await assert.rejects(smtp.waitFor((m) => m.subject === 'never sent', 200), /no matching mail/);
});

test('api() sends the key, returns JSON and throws with the problem body', async () => {
  const client = api(firmo);
  const signer = await client.post('/api/v1/signers', { fiscal_code: 'RSSMRA80A01H501U' });
  assert.ok(signer.id, JSON.stringify(signer));
  const err = await client.post('/api/v1/dossiers', { title: '' }).catch((e) => e);
  assert.equal(err.status, 422, err.message);
  assert.equal(err.problem.type, 'urn:firmo:problem:validation-error');
  const anon = await api(firmo, { key: false })
    .post('/api/v1/signers', { fiscal_code: 'RSSMRA80A01H501U' }, { expect: 401 });
  assert.equal(anon.status, 401);
});

test('makePdf + firmo sign give a signature pdfsig trusts through the Firmo CA', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-smoke-'));
  try {
    const pdf = await makePdf({ pages: 2 });
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const src = path.join(dir, 'in.pdf');
    const dst = path.join(dir, 'out.pdf');
    fs.writeFileSync(src, pdf);
    const unsigned = await pdfsigCheck(src);
    assert.equal(unsigned.signatures.filter((s) => s.validation).length, 0, unsigned.output);

    // `firmo serve` created the built-in CA on its first start.
    await firmo.cli('sign', '--in', src, '--out', dst, '--name', 'Mario Rossi',
                    '--fiscal-code', 'RSSMRA80A01H501U', '--field', 'Signature1');
    const report = await pdfsigCheck(dst, { firmo });
    assert.equal(report.signatures.length, 1, report.output);
    const [sig] = report.signatures;
    assert.equal(sig.name, 'Signature1', report.output);
    assert.equal(sig.signerName, 'Mario Rossi', report.output);
    assert.ok(sig.valid, report.output);
    assert.ok(sig.trusted, report.output);
    assert.ok(sig.fullyCovered, report.output);
    // Without the CA in the NSS db the same signature is intact but not trusted.
    const untrusted = await pdfsigCheck(dst);
    assert.ok(untrusted.signatures[0].valid, untrusted.output);
    assert.ok(!untrusted.signatures[0].trusted, untrusted.output);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
