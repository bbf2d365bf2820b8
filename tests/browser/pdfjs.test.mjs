// The pdf.js files the build copies into <build>/assets/pdfjs (cmake/web_assets.cmake) load in
// Debian's Chromium as ES modules and render a PDF whose Helvetica is not embedded, which needs
// standard_fonts/. Served here by a throwaway static server until Firmo serves them itself.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { firmoBin, launchBrowser, makePdf, newPage, screenshot } from './harness.mjs';

const assetsDir = process.env.FIRMO_ASSETS_DIR || path.join(path.dirname(firmoBin), 'assets');
const types = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.html': 'text/html',
                '.pdf': 'application/pdf', '.wasm': 'application/wasm' };
let server;
let base;
let browser;
let pdf;
const requested = [];

const page = `<!doctype html><meta charset="utf-8"><title>pdf.js check</title>
<canvas id="c"></canvas>
<script type="module">
  import * as pdfjs from '/assets/pdfjs/pdf.min.mjs';
  pdfjs.GlobalWorkerOptions.workerSrc = '/assets/pdfjs/pdf.worker.min.mjs';
  try {
    const doc = await pdfjs.getDocument({
      url: '/doc.pdf',
      standardFontDataUrl: '/assets/pdfjs/standard_fonts/',
      cMapUrl: '/assets/pdfjs/cmaps/', cMapPacked: true,
      wasmUrl: '/assets/pdfjs/wasm/', iccUrl: '/assets/pdfjs/iccs/',
      useSystemFonts: false,
    }).promise;
    const p = await doc.getPage(1);
    const viewport = p.getViewport({ scale: 1 });
    const canvas = document.getElementById('c');
    canvas.width = viewport.width;
    canvas.height = viewport.height;
    await p.render({ canvas, viewport }).promise;
    const text = (await p.getTextContent()).items.map((i) => i.str).join(' ');
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let dark = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] < 128 && px[i + 3] > 0) dark++;
    window.result = { version: pdfjs.version, pages: doc.numPages, text, dark };
  } catch (e) {
    window.result = { error: String(e && e.stack || e) };
  }
</script>`;

before(async () => {
  pdf = await makePdf({ pages: 2 });
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    requested.push(url.pathname);
    if (url.pathname === '/') return res.end(page);
    if (url.pathname === '/doc.pdf') return res.end(pdf);
    const rel = url.pathname.replace(/^\/assets\//, '');
    const file = path.join(assetsDir, path.normalize(rel));
    if (!url.pathname.startsWith('/assets/') || !file.startsWith(assetsDir) ||
        !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.statusCode = 404;
      return res.end();
    }
    res.setHeader('Content-Type', types[path.extname(file)] || 'application/octet-stream');
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('the build copied the pdf.js files the portal serves', () => {
  for (const f of ['pdf.min.mjs', 'pdf.worker.min.mjs', 'standard_fonts/LiberationSans-Regular.ttf',
                   'cmaps/UniJIS-UCS2-H.bcmap', 'wasm/openjpeg.wasm']) {
    assert.ok(fs.existsSync(path.join(assetsDir, 'pdfjs', f)), `${assetsDir}/pdfjs/${f}`);
  }
});

test('pdf.js renders a Firmo test PDF in chromium with the standard fonts', async () => {
  const p = await newPage(browser, 'desktop');
  try {
    const errors = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`${base}/`);
    await p.waitForFunction(() => window.result, null, { timeout: 30000 });
    const result = await p.evaluate(() => window.result);
    assert.equal(result.error, undefined, `${result.error}\n${errors.join('\n')}`);
    assert.match(result.version, /^5\./);
    assert.equal(result.pages, 2);
    assert.match(result.text, /Firmo test page 1/);
    assert.ok(result.dark > 100, `page looks blank: ${result.dark} dark pixels`);
    // The non-embedded Helvetica was rendered from the bundled standard font data.
    assert.ok(requested.some((r) => r.startsWith('/assets/pdfjs/standard_fonts/')), requested);
    await screenshot(p, 'pdfjs-check');
  } finally {
    await p.context().close();
  }
});
