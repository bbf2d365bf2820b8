// The "Sign with Firmo" button (src/web/static/button.js, docs/BUTTON.md) on an institution's
// page: a node http server on another origin embeds the component from Firmo's URL under a
// strict CSP, as an integrator would. Desktop: the dialog with the QR code (decoded by zbarimg,
// an independent reader); phone: the universal link.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { launchBrowser, newPage, screenshot, startFirmo } from './harness.mjs';
import { readyRequest } from './flows.mjs';

const execFileP = promisify(execFile);
let firmo;
let browser;
let site;
let request;

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

// The institution's site: `/` embeds the button for `request`, `/late` one that gets its href
// and qr from a firmo-click listener, `/gallery` every size, variant and language. No inline
// script or style anywhere, and a CSP that would block them.
function startSite() {
  const script = `<script type="module" src="${firmo.url}/static/firmo/button.js"></script>`;
  const page = (lang, body) => `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Comune di Esempio</title>${script}</head>
<body><h1>Comune di Esempio</h1><p>Il contratto è pronto.</p>${body}</body></html>`;
  const pages = {
    '/': () => page('it', `<firmo-sign-button id="sign" lang="en" href="${escape(request.signing_url)}"
      qr="${escape(request.qr_code_png_url)}"></firmo-sign-button>`),
    '/late': () => page('en', '<firmo-sign-button id="sign"></firmo-sign-button>'),
    '/gallery': () => page('en', ['small', 'medium', 'large'].map((size) =>
      ['', 'outline'].map((variant) => ['en', 'it', 'nb'].map((lang) =>
        `<p><firmo-sign-button size="${size}" variant="${variant}" lang="${lang}"
          href="${escape(request.signing_url)}"></firmo-sign-button></p>`).join('')).join(''))
      .join('')),
  };
  const server = http.createServer((req, res) => {
    const render = pages[new URL(req.url, 'http://x').pathname];
    if (!render) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'none'; script-src ${firmo.url}; ` +
        `img-src ${firmo.url}; style-src 'none'; base-uri 'none'`,
    });
    res.end(render());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    // "localhost", not 127.0.0.1: another site, not just another port.
    url: `http://localhost:${server.address().port}`,
    stop: () => new Promise((r) => server.close(r)),
  })));
}

// Opens `pathname` of the institution's site; collects CSP violations and console errors.
async function openSite(viewport, pathname = '/') {
  const page = await newPage(browser, viewport);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  const res = await page.goto(site.url + pathname);
  assert.equal(res.status(), 200);
  await page.waitForFunction(() => customElements.get('firmo-sign-button') !== undefined);
  return { page, problems };
}

// What the shadow DOM shows: the dialog's state and where the focus is.
function dialogState(page) {
  return page.evaluate(() => {
    const host = document.querySelector('#sign');
    const root = host.shadowRoot;
    const dialog = root.querySelector('dialog');
    const title = root.getElementById(dialog.getAttribute('aria-labelledby'));
    return {
      open: dialog.open,
      modal: dialog.matches(':modal'),
      title: title && title.textContent,
      hostFocused: document.activeElement === host,
      focusInDialog: !!root.activeElement && dialog.contains(root.activeElement),
      focusOnButton: root.activeElement === root.querySelector('button.firmo'),
      qr: root.querySelector('img.qr').src,
      qrLoaded: root.querySelector('img.qr').complete &&
        root.querySelector('img.qr').naturalWidth > 0,
      qrAlt: root.querySelector('img.qr').alt,
      link: root.querySelector('a.link').href,
    };
  });
}

async function decodeQr(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-button-')), 'qr.png');
  try {
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await execFileP('zbarimg', ['--raw', '-q', file]);
    return stdout.trim();
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

before(async () => {
  [browser, firmo] = await Promise.all([launchBrowser(), startFirmo()]);
  ({ request } = await readyRequest(firmo, { signers: [{ who: { email: 'button@example.org' } }] }));
  site = await startSite();
});

after(async () => {
  await Promise.allSettled([firmo?.stop(), browser?.close(), site?.stop()]);
});

test('button.js is served to other sites (CORS) as JavaScript', async () => {
  const res = await fetch(`${firmo.url}/static/firmo/button.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/javascript/);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(await res.text(), /customElements\.define/);
});

test('desktop: the click opens a modal dialog with the QR code of the universal link',
     async () => {
  const { page, problems } = await openSite('desktop');
  const button = page.getByRole('button', { name: 'Sign with Firmo' });
  await button.waitFor();
  const box = await button.boundingBox();
  assert.equal(Math.round(box.height), 44);
  await screenshot(page, 'button');

  // firmo-click comes first, with what the button is about to open.
  await page.evaluate(() => {
    window.firmoClicks = [];
    document.addEventListener('firmo-click', (e) => window.firmoClicks.push(
      { href: e.detail.href, qr: e.detail.qr, mobile: e.detail.mobile,
        cancelable: e.cancelable }));
  });
  await button.click();
  const dialog = page.getByRole('dialog', { name: 'Sign with Firmo on your phone' });
  await dialog.waitFor({ state: 'visible' });
  assert.deepEqual(await page.evaluate(() => window.firmoClicks), [
    { href: request.signing_url, qr: request.qr_code_png_url, mobile: false, cancelable: true },
  ]);
  await page.waitForFunction(() => {
    const img = document.querySelector('#sign').shadowRoot.querySelector('img.qr');
    return img.complete && img.naturalWidth > 0;
  });
  const state = await dialogState(page);
  assert.equal(state.open, true);
  assert.equal(state.modal, true);
  assert.equal(state.title, 'Sign with Firmo on your phone');
  assert.equal(state.hostFocused, true);
  assert.equal(state.focusInDialog, true, 'the focus moves into the dialog');
  assert.equal(state.qrLoaded, true);
  assert.equal(state.qrAlt, 'QR code of the signing link');
  assert.equal(state.link, request.signing_url);
  assert.equal(await dialog.getByRole('link', { name: request.signing_url }).count(), 1);
  // The image the dialog shows decodes, with an independent reader, to the universal link.
  assert.equal(state.qr, request.qr_code_png_url);
  assert.equal(await decodeQr(state.qr), request.signing_url);
  await screenshot(page, 'button-dialog');

  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  const closed = await dialogState(page);
  assert.equal(closed.open, false);
  assert.equal(closed.focusOnButton, true, 'the focus returns to the button');
  // The close button closes it too.
  await button.click();
  await dialog.waitFor({ state: 'visible' });
  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(problems, [], 'no CSP violation or script error on the page');
  await page.context().close();
});

test('firmo-click: ready(promise) lets the page create the request first; preventDefault stops',
     async () => {
  const { page, problems } = await openSite('desktop', '/late');
  await page.evaluate(({ href, qr }) => {
    const el = document.querySelector('#sign');
    window.mode = 'cancel';
    el.addEventListener('firmo-click', (e) => {
      if (window.mode === 'cancel') {
        e.preventDefault();
        return;
      }
      // The institution's back end creating the request, then the attributes it returns.
      e.detail.ready(new Promise((resolve) => setTimeout(() => {
        el.setAttribute('href', href);
        el.setAttribute('qr', qr);
        resolve();
      }, 150)));
    });
  }, { href: request.signing_url, qr: request.qr_code_png_url });
  const button = page.getByRole('button', { name: 'Sign with Firmo' });
  await button.click();
  await page.waitForTimeout(300);
  assert.equal((await dialogState(page)).open, false, 'preventDefault(): nothing opens');

  await page.evaluate(() => { window.mode = 'ready'; });
  await button.click();
  const dialog = page.getByRole('dialog', { name: 'Sign with Firmo on your phone' });
  await dialog.waitFor({ state: 'visible' });
  const state = await dialogState(page);
  assert.equal(state.qr, request.qr_code_png_url);
  assert.equal(state.link, request.signing_url);
  assert.equal(state.focusInDialog, true);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('phone: the click opens the universal link, which asks to log in first', async () => {
  const { page, problems } = await openSite('phone');
  const button = page.getByRole('button', { name: 'Sign with Firmo' });
  assert.ok((await button.boundingBox()).height >= 44, 'a 44 px touch target');
  await Promise.all([page.waitForURL(/\/login\?/), button.tap()]);
  assert.equal(page.url(), `${firmo.url}/login?return_to=/s/${request.id}`);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('sizes, variants and the text in every language', async () => {
  const { page, problems } = await openSite('desktop', '/gallery');
  const buttons = await page.evaluate(() => [...document.querySelectorAll('firmo-sign-button')]
    .map((el) => {
      const b = el.shadowRoot.querySelector('button.firmo');
      const s = getComputedStyle(b);
      return { size: el.getAttribute('size'), variant: el.getAttribute('variant'),
               lang: el.getAttribute('lang'), text: b.textContent.trim(),
               height: b.getBoundingClientRect().height, color: s.color,
               background: s.backgroundColor };
    }));
  assert.equal(buttons.length, 18);
  const heights = { small: 36, medium: 44, large: 52 };
  const texts = { en: 'Sign with Firmo', it: 'Firma con Firmo', nb: 'Signer med Firmo' };
  const blue = 'rgb(11, 92, 173)';
  const white = 'rgb(255, 255, 255)';
  for (const b of buttons) {
    assert.equal(b.height, heights[b.size], JSON.stringify(b));
    assert.equal(b.text, texts[b.lang]);
    if (b.variant === 'outline') {
      assert.deepEqual([b.color, b.background], [blue, white]);
    } else {
      assert.deepEqual([b.color, b.background], [white, blue]);
    }
  }
  await screenshot(page, 'button-gallery');
  assert.deepEqual(problems, []);
  await page.context().close();
});
