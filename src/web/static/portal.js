// Renders every page of each document with pdf.js (no inline script: the page's CSP allows
// only scripts from this origin). Without JavaScript the download links still work.
const base = '/static/pdfjs/';

async function renderViewer(pdfjs, el) {
  const loading = pdfjs.getDocument({
    url: el.dataset.src,
    isEvalSupported: false,
    standardFontDataUrl: base + 'standard_fonts/',
    cMapUrl: base + 'cmaps/',
    cMapPacked: true,
    wasmUrl: base + 'wasm/',
    iccUrl: base + 'iccs/',
  });
  const doc = await loading.promise;
  const width = Math.max(el.clientWidth, 280);
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    const unscaled = page.getViewport({ scale: 1 });
    const scale = (width / unscaled.width) * (window.devicePixelRatio || 1);
    const viewport = page.getViewport({ scale });
    const canvas = document.createElement('canvas');
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.setAttribute('role', 'img');
    // The page's language gives the words (data-page-label, "Page {n} of {total}").
    const label = el.dataset.pageLabel || 'Page {n} of {total}';
    canvas.setAttribute('aria-label',
                        label.replace('{n}', String(n)).replace('{total}', String(doc.numPages)));
    el.appendChild(canvas);
    await page.render({ canvasContext: canvas.getContext('2d'), viewport }).promise;
  }
  el.dataset.rendered = String(doc.numPages);
}

const viewers = document.querySelectorAll('.viewer[data-src]');
if (viewers.length > 0) {
  import(base + 'pdf.min.mjs').then(async (pdfjs) => {
    pdfjs.GlobalWorkerOptions.workerSrc = base + 'pdf.worker.min.mjs';
    for (const el of viewers) {
      try {
        await renderViewer(pdfjs, el);
      } catch (e) {
        el.textContent = el.dataset.failed || 'The preview could not be shown; use the download link.';
        el.dataset.rendered = 'error';
      }
    }
  });
}
