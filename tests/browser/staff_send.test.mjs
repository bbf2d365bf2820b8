// The sender portal's sending pages (/app/send, issue 17) in Chromium: a sender who arrived by
// the setup link uploads a PDF, sees its pages (pdf.js), places a signature field by dragging a
// box with the real mouse and uses the PDF's empty field, adds two signers in order, sees the
// validators' problems next to the fields, sends; the first signer gets the message (test SMTP)
// and signs in the signer portal, the timeline moves, the second signs, and the signed PDF
// downloads valid in pdfsig. A saved dossier starts a new request. A viewer can neither open
// nor POST the sending page; a POST without the CSRF token is refused; axe-core finds nothing
// on the new pages, at phone and desktop widths. Screenshots (FIRMO_SCREENSHOTS=1):
// docs/screenshots/staff-send-*.png.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { api, makePdf, newPage, pdfsigCheck, screenshot } from './harness.mjs';
import {
  assertStrictCsp, axeAudit, downloadFirst, firstIssuerId, signWithCode, staffSetup,
  startPortalWithMail,
} from './flows.mjs';

let env;
let issuer;

before(async () => {
  env = await startPortalWithMail();
  issuer = await firstIssuerId(env.firmo);
});

after(async () => env?.stop());

// The new-request page with `pdf` chosen and rendered.
async function openWithPdf(page, pdf, name = 'lease.pdf') {
  await page.getByRole('link', { name: 'New signature request' }).click();
  await page.waitForURL(/\/app\/send$/);
  await page.locator('#send-form[data-ready]').waitFor();
  await page.setInputFiles('#files', { name, mimeType: 'application/pdf', buffer: pdf });
  await page.locator('.document[data-rendered]').first().waitFor({ timeout: 20000 });
  assert.notEqual(await page.locator('.document').first().getAttribute('data-rendered'), 'error');
}

// A real mouse drag on the first page from (x1, y1) to (x2, y2), in CSS pixels of the page.
async function drag(page, x1, y1, x2, y2) {
  const overlay = page.locator('.overlay').first();
  await overlay.scrollIntoViewIfNeeded();
  const box = await overlay.boundingBox();
  await page.mouse.move(box.x + x1, box.y + y1);
  await page.mouse.down();
  await page.mouse.move(box.x + (x1 + x2) / 2, box.y + (y1 + y2) / 2, { steps: 4 });
  await page.mouse.move(box.x + x2, box.y + y2, { steps: 4 });
  await page.mouse.up();
  return box;
}

async function fillSigner(page, index, { kind, identifier, order }) {
  const row = page.locator('fieldset.signer').nth(index);
  await row.getByLabel('Identified by').selectOption({ label: kind });
  await row.getByLabel('Fiscal code, number or address').fill(identifier);
  await row.getByLabel('Order').fill(String(order));
}

// A POST of the sending form from inside the page (its cookies), as a forged one would be.
async function postSend(page, fields) {
  return page.evaluate(async (fields) => {
    const body = new FormData();
    for (const [k, v] of Object.entries(fields)) body.append(k, v);
    const r = await fetch('/app/send', { method: 'POST', body, redirect: 'manual' });
    return r.status;
  }, fields);
}

test('a sender uploads, drags a field, adds two signers, sends; both sign (desktop)', async () => {
  const { firmo, browser, smtp } = env;
  const first = 'anna.first@example.org';
  const second = 'bruno.second@example.org';
  const page = await newPage(browser, 'desktop', { bypassCSP: true });
  try {
    await staffSetup(page, firmo, { issuer, email: 'sender@example.org', role: 'sender' });
    await openWithPdf(page, await makePdf({ pages: 2 }));
    assertStrictCsp(await page.request.get(`${firmo.url}/app/send`));
    assert.equal(await page.locator('.page canvas').count(), 2);

    // Drag a box on page 1: a field at those points (the page is drawn at `scale`).
    const box = await drag(page, 60, 420, 300, 490);
    await page.locator('li.field').first().waitFor();
    const scale = box.width / 595;  // A4 pages are 595 points wide
    await page.locator('li.field .clause-title').first().fill('I accept the terms of the lease');
    // The PDF's empty field, for the second signer, as an unfair term.
    await page.getByRole('button', { name: 'Use the field Signature1' }).click();
    assert.equal(await page.locator('li.field').count(), 2);
    const named = page.locator('li.field').nth(1);
    await named.getByLabel('Clause the signer accepts').fill('I approve the penalty clause');
    await named.getByLabel('Kind of clause').selectOption('UNFAIR');

    // Two signers in order; the first with a wrong address at first.
    await fillSigner(page, 0, { kind: 'E-mail address only', identifier: 'not-an-address', order: 1 });
    await page.getByRole('button', { name: 'Add a signer' }).click();
    await fillSigner(page, 1, { kind: 'E-mail address only', identifier: second, order: 2 });
    await named.getByLabel('Signed by').selectOption({ label: 'Signer 2' });
    await page.getByLabel('Title of the request').fill('Lease 2027');
    await page.getByLabel('Your reference (optional)').fill('case-17');

    // Check: the validators' problem sits next to the field it is about.
    await page.getByRole('button', { name: 'Check' }).click();
    const identifier = page.locator('fieldset.signer').first().locator('.identifier');
    await page.locator('#summary:not([hidden])').waitFor();
    assert.equal(await identifier.getAttribute('aria-invalid'), 'true');
    const note = page.locator(`#${await identifier.getAttribute('aria-describedby')}`);
    assert.match(await note.innerText(), /e-mail/);
    await axeAudit(page, 'send with problems');
    await identifier.fill(first);
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByText('Everything is in order').waitFor();
    await axeAudit(page, 'send');
    await screenshot(page, 'staff-send');

    // Send: READY and notified; the request page.
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.waitForURL(/\/app\/requests\/[0-9A-Z]+$/, { timeout: 30000 });
    const id = page.url().split('/').pop();
    assertStrictCsp(await page.request.get(page.url()));
    await axeAudit(page, 'sent request');
    await screenshot(page, 'staff-send-sent');

    // What the API sees: the field where it was dragged, the signers in order.
    const request = await api(firmo).get(`/api/v1/signature-requests/${id}`);
    assert.equal(request.reference, 'case-17');
    assert.deepEqual(request.signers.map((s) => s.order), [0, 1]);
    const fields = request.documents[0].metadata.signature_fields;
    const at = fields[0].attrs;
    assert.equal(at.page, 0);
    assert.ok(Math.abs(at.coordinates.x - 60 / scale) < 3, JSON.stringify(at));
    assert.ok(Math.abs(at.coordinates.y - 420 / scale) < 3, JSON.stringify(at));
    assert.ok(Math.abs(at.size.w - 240 / scale) < 3, JSON.stringify(at));
    assert.ok(Math.abs(at.size.h - 70 / scale) < 3, JSON.stringify(at));
    assert.equal(fields[0].signer_index, 0);
    assert.deepEqual(fields[1].attrs, { unique_name: 'Signature1' });
    assert.equal(fields[1].signer_index, 1);
    assert.equal(fields[1].clause.type, 'UNFAIR');

    // The first signer's message, then their signature in the signer portal.
    const link = request.signers[0].portal_url;
    await smtp.waitFor((m) => m.to.includes(first) && (m.text || '').includes(link), 15000);
    const timeline = page.locator('#timeline li');
    const before = await timeline.count();
    for (const [to, url] of [[first, link], [second, request.signers[1].portal_url]]) {
      const signer = await newPage(browser, 'desktop');
      try {
        await signWithCode(signer, { link: url, smtp, to });
        await signer.getByRole('heading', { name: /Signed|Your signature/ }).first()
          .waitFor({ timeout: 30000 });
      } finally {
        await signer.context().close();
      }
      if (to === first) {
        for (let i = 0; ; i++) {
          await page.reload();
          if (await page.locator('#timeline li', { hasText: 'Signature confirmed' }).count() > 0) break;
          assert.ok(i < 100, 'the timeline did not move');
          await new Promise((r) => setTimeout(r, 300));
        }
        assert.ok(await timeline.count() > before);
      }
    }
    for (let i = 0; !(await page.locator('.downloads a').count()); i++) {
      assert.ok(i < 100, 'the request was not signed');
      await new Promise((r) => setTimeout(r, 300));
      await page.reload();
    }
    const file = await downloadFirst(page);
    const report = await pdfsigCheck(file, { firmo });
    const signed = report.signatures.filter((s) => s.validation !== undefined);
    assert.equal(signed.length, 2, report.output);
    assert.ok(signed.every((s) => s.valid && s.trusted), report.output);

    // CSRF: the sending POST without the session's token is refused.
    assert.equal(await postSend(page, { action: 'validate', plan: '{}' }), 403);
    assert.equal(await postSend(page, { action: 'validate', plan: '{}', csrf: 'forged' }), 403);
  } finally {
    await page.context().close();
  }
});

test('save as a dossier, start again from it, and send (phone)', async () => {
  const { firmo, browser } = env;
  const page = await newPage(browser, 'phone', { bypassCSP: true });
  try {
    await staffSetup(page, firmo, { issuer, email: 'phone.sender@example.org', role: 'admin' });
    const pdf = await makePdf({ pages: 1 });
    await openWithPdf(page, pdf, 'nda.pdf');
    await drag(page, 20, 60, 200, 110);
    await page.locator('li.field').first().waitFor();
    await page.getByLabel('Title of the request').fill('Confidentiality agreement');
    await fillSigner(page, 0, { kind: 'Italian fiscal code', identifier: 'RSSMRA85T10A562S', order: 1 });
    await axeAudit(page, 'send on a phone');
    await screenshot(page, 'staff-send');
    await page.getByRole('button', { name: 'Save as a dossier' }).click();
    await page.waitForURL(/\/app\/send\?dossier=[0-9A-Z]+$/);
    await page.locator('#send-form[data-ready]').waitFor();
    // The saved dossier's document and field come back; the PDF is chosen again.
    assert.equal(await page.locator('.document').count(), 1);
    assert.equal(await page.locator('li.field').count(), 1);
    assert.equal(await page.getByLabel('Title of the request').inputValue(), 'Confidentiality agreement');
    await page.setInputFiles('#files', { name: 'nda.pdf', mimeType: 'application/pdf', buffer: pdf });
    await page.locator('.document[data-rendered]').first().waitFor({ timeout: 20000 });
    assert.equal(await page.locator('.overlay .box').count(), 1);
    await axeAudit(page, 'send from a dossier');
    await fillSigner(page, 0, { kind: 'Italian fiscal code', identifier: 'RSSMRA85T10A562S', order: 1 });
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.waitForURL(/\/app\/requests\/[0-9A-Z]+$/, { timeout: 30000 });
    assert.match(await page.locator('#status').innerText(), /waiting for signatures|ready to send/);
  } finally {
    await page.context().close();
  }
});

test('sign myself: a sender adds themself, sends, and signs in the signer portal', async () => {
  const { firmo, browser, smtp } = env;
  const me = 'carla.self@example.org';
  const page = await newPage(browser, 'desktop', { bypassCSP: true });
  try {
    await staffSetup(page, firmo, { issuer, email: me, role: 'sender' });
    await openWithPdf(page, await makePdf({ pages: 1 }), 'mandate.pdf');
    await drag(page, 40, 80, 260, 140);
    await page.locator('li.field').first().waitFor();
    await page.getByRole('button', { name: 'Add myself as a signer' }).click();
    assert.equal(await page.locator('fieldset.signer').count(), 1);
    assert.equal(await page.locator('fieldset.signer .identifier').inputValue(), me);
    await page.getByLabel('Title of the request').fill('Mandate');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    // Straight on to the signer portal's link, where the staff member logs in as a signer.
    await page.waitForURL((url) => !url.pathname.startsWith('/app'), { timeout: 30000 });
    await signWithCode(page, { link: page.url(), smtp, to: me });
    await page.getByRole('heading', { name: /Signed|Your signature/ }).first()
      .waitFor({ timeout: 30000 });
  } finally {
    await page.context().close();
  }
});

test('bulk send from a CSV: every row checked first, then one request per row', async () => {
  const { firmo, browser } = env;
  const page = await newPage(browser, 'desktop', { bypassCSP: true });
  try {
    await staffSetup(page, firmo, { issuer, email: 'bulk.sender@example.org', role: 'sender' });
    await openWithPdf(page, await makePdf({ pages: 1 }), 'notice.pdf');
    await drag(page, 40, 80, 260, 140);
    await page.locator('li.field').first().waitFor();
    await page.getByLabel('Title of the request').fill('Annual notice');
    await page.getByText('Bulk send from a CSV file').click();
    const csv = (text) => ({ name: 'rows.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
    // A wrong fiscal code on the second row: nothing is sent, the line is named.
    await page.setInputFiles('#csv', csv('signer1,signer1_name,signer2,reference\n' +
      'ada@example.org,Ada,+4791234567,bulk-1\nRSSMRA80A01H501X,Mario Rossi,,bulk-2\n'));
    await page.getByRole('button', { name: 'Send one request per row' }).click();
    await page.locator('#summary:not([hidden])').waitFor();
    assert.match(await page.locator('#summary').innerText(), /csv line 3, signers\[0\]\.signer\.fiscal_code/);
    await axeAudit(page, 'bulk with problems');
    await page.setInputFiles('#csv', csv('signer1;signer1_name;signer2;reference\r\n' +
      'ada@example.org;Ada;+4791234567;bulk-1\r\n"RSSMRA80A01H501U";"Rossi; Mario";;bulk-2\r\n'));
    await page.getByRole('button', { name: 'Send one request per row' }).click();
    await page.waitForURL(/\/app\?tab=progress$/, { timeout: 60000 });
    for (const ref of ['bulk-1', 'bulk-2']) {
      assert.equal(await page.locator('table.requests tbody tr', { hasText: ref }).count(), 1, ref);
    }
    const listed = await api(firmo).get('/api/v1/signature-requests?limit=50');
    const items = listed.items ?? listed.data ?? listed;
    const byRef = Object.fromEntries(items.filter((r) => /^bulk-/.test(r.reference ?? ''))
      .map((r) => [r.reference, r]));
    assert.deepEqual(byRef['bulk-1'].signers.map((s) => s.order), [0, 1]);
    assert.deepEqual(byRef['bulk-2'].signers.map((s) => s.order), [0]);
    assert.equal(byRef['bulk-1'].dossier_id, byRef['bulk-2'].dossier_id);
    assert.notEqual(byRef['bulk-1'].status, 'DRAFT');
  } finally {
    await page.context().close();
  }
});

test('a viewer can neither open nor post the sending page', async () => {
  const { firmo, browser } = env;
  const page = await newPage(browser, 'desktop', { bypassCSP: true });
  try {
    await staffSetup(page, firmo, { issuer, email: 'viewer.send@example.org', role: 'viewer' });
    assert.equal(await page.getByRole('link', { name: 'New signature request' }).count(), 0);
    const res = await page.goto(`${firmo.url}/app/send`);
    assert.equal(res.status(), 403);
    await axeAudit(page, 'viewer 403');
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    assert.equal(await postSend(page, { csrf, action: 'send', plan: '{}' }), 403);
    assert.equal(await postSend(page, { csrf, action: 'save', plan: '{}' }), 403);
  } finally {
    await page.context().close();
  }
});
