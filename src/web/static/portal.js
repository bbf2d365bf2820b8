// Renders every page of each document with pdf.js (no inline script: the page's CSP allows
// only scripts from this origin; styles are set through the CSSOM, which style-src allows).
// Without JavaScript the download links still work.
//
// Each page is a canvas (what the eye reads) under a pdf.js text layer (issue 16): the text is
// selectable and searchable, and screen readers read it. The signer's own fields are marked on
// the page with their clause (data-fields on the viewer: [{name} | {page, x, y, w, h}, label],
// x/y from the top-left corner in PDF points, as in the API). Zoom buttons (data-zoom) scale the
// pages; a page wider than the screen scrolls inside the viewer, never the whole page.
const base = '/static/pdfjs/';

function fieldsOf(el) {
  try {
    return JSON.parse(el.dataset.fields || '[]');
  } catch {
    return [];
  }
}

// The rectangle of a field on page `n` (1-based) in PDF points from the top-left, or null.
function rectOn(field, n, unscaled, annotations) {
  if (field.name !== undefined) {
    const a = annotations.find((x) => x.fieldName === field.name && x.rect);
    if (!a) return null;
    const [x1, y1, x2, y2] = a.rect;
    const [vx1, vy1] = unscaled.convertToViewportPoint(x1, y2);
    const [vx2, vy2] = unscaled.convertToViewportPoint(x2, y1);
    return { x: Math.min(vx1, vx2), y: Math.min(vy1, vy2), w: Math.abs(vx2 - vx1),
             h: Math.abs(vy2 - vy1) };
  }
  return field.page + 1 === n ? { x: field.x, y: field.y, w: field.w, h: field.h } : null;
}

async function renderPage(pdfjs, doc, n, el, zoom) {
  const page = await doc.getPage(n);
  const unscaled = page.getViewport({ scale: 1 });
  const fit = Math.max(el.clientWidth, 280) / unscaled.width;
  const scale = fit * zoom;  // CSS pixels per PDF point
  const viewport = page.getViewport({ scale });
  const ratio = window.devicePixelRatio || 1;

  const box = document.createElement('div');
  box.className = 'page';
  box.style.width = `${Math.floor(viewport.width)}px`;
  box.style.height = `${Math.floor(viewport.height)}px`;
  box.style.setProperty('--scale-factor', String(scale));

  const canvas = document.createElement('canvas');
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  // The canvas is the picture; the text layer above it carries the words.
  canvas.setAttribute('aria-hidden', 'true');
  box.appendChild(canvas);

  const label = el.dataset.pageLabel || 'Page {n} of {total}';
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label',
                   label.replace('{n}', String(n)).replace('{total}', String(doc.numPages)));
  el.appendChild(box);
  await page.render({
    canvasContext: canvas.getContext('2d'),
    viewport: page.getViewport({ scale: scale * ratio }),
  }).promise;

  const text = document.createElement('div');
  text.className = 'textLayer';
  box.appendChild(text);
  const layer = new pdfjs.TextLayer({
    textContentSource: page.streamTextContent(), container: text, viewport,
  });
  await layer.render();

  const fields = fieldsOf(el);
  if (fields.length > 0) {
    const annotations = fields.some((f) => f.name !== undefined) ? await page.getAnnotations()
                                                                   : [];
    for (const field of fields) {
      const r = rectOn(field, n, unscaled, annotations);
      if (!r) continue;
      const mark = document.createElement('div');
      mark.className = 'field-mark';
      mark.style.left = `${(r.x / unscaled.width) * 100}%`;
      mark.style.top = `${(r.y / unscaled.height) * 100}%`;
      mark.style.width = `${(r.w / unscaled.width) * 100}%`;
      mark.style.height = `${(r.h / unscaled.height) * 100}%`;
      const tag = document.createElement('span');
      tag.textContent = field.label;
      mark.appendChild(tag);
      box.appendChild(mark);
    }
  }
}

async function renderViewer(pdfjs, el, zoom = 1) {
  const doc = el.pdf || await pdfjs.getDocument({
    url: el.dataset.src,
    isEvalSupported: false,
    standardFontDataUrl: base + 'standard_fonts/',
    cMapUrl: base + 'cmaps/',
    cMapPacked: true,
    wasmUrl: base + 'wasm/',
    iccUrl: base + 'iccs/',
  }).promise;
  el.pdf = doc;
  el.replaceChildren();
  for (let n = 1; n <= doc.numPages; n++) await renderPage(pdfjs, doc, n, el, zoom);
  el.dataset.rendered = String(doc.numPages);
  el.dataset.zoom = String(zoom);
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
        continue;
      }
      // The zoom buttons of this viewer (rendered hidden: they need this script).
      const tools = document.getElementById(`${el.id}-zoom`);
      if (!tools) continue;
      tools.hidden = false;
      for (const button of tools.querySelectorAll('button[data-zoom]')) {
        button.addEventListener('click', async () => {
          const now = Number(el.dataset.zoom || '1');
          const step = button.dataset.zoom;
          const next = step === 'in' ? Math.min(now * 1.5, 4)
                     : step === 'out' ? Math.max(now / 1.5, 1) : 1;
          if (next === now) return;
          el.dataset.rendered = '';
          try {
            await renderViewer(pdfjs, el, next);
          } catch {
            el.dataset.rendered = 'error';
          }
        });
      }
    }
  });
}
