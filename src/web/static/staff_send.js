// The sender portal's new-request page (/app/send): shows the chosen PDFs with pdf.js (served
// by the signer portal at /static/pdfjs/), places signature fields by dragging a box on a page
// (or on an existing empty signature field of the PDF), keeps the signers, and posts the whole
// plan to /app/send, whose answer lists the API validators' problems by field. No inline script
// (strict CSP); texts come from the page (data- attributes and <template>s).
const form = document.getElementById('send-form');
const texts = form.dataset;
const base = '/static/pdfjs/';
const minBox = 12;  // px: a smaller drag is a click, not a field

const state = { documents: [], signers: [] };
let pdfjs = null;

function fill(pattern, values) {
  return pattern.replace(/\{(\w+)\}/g, (_, k) => (values[k] ?? ''));
}

function clone(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

async function loadPdfjs() {
  if (!pdfjs) {
    pdfjs = await import(base + 'pdf.min.mjs');
    pdfjs.GlobalWorkerOptions.workerSrc = base + 'pdf.worker.min.mjs';
  }
  return pdfjs;
}

// ---- Documents and fields --------------------------------------------------------------------

// The file's name as the document's first title (3 to 60 characters; the sender edits it).
function titleOf(file) {
  const t = file.name.replace(/\.pdf$/i, '').replace(/_+/g, ' ').trim().slice(0, 60);
  return t.length >= 3 ? t : `${t} PDF`.trim().padEnd(3, '_');
}

function addDocument(meta) {
  const el = clone('tpl-document');
  const doc = { el, title: meta.title, fields: [], file: null, pages: [] };
  state.documents.push(doc);
  el.querySelector('.doc-title').value = meta.title;
  el.querySelector('.doc-title').addEventListener('input', (e) => { doc.title = e.target.value; });
  document.getElementById('documents').append(el);
  for (const f of meta.signature_fields || []) addField(doc, f.attrs, f.clause, f.signer_index ?? 0);
  renumber();
  return doc;
}

function addField(doc, attrs, clause, signerIndex) {
  const el = clone('tpl-field');
  const field = { el, attrs, clause: clause || { title: texts.defaultClause, type: 'REQUIRED' },
                  signer: signerIndex ?? 0, box: null };
  el.querySelector('.clause-title').value = field.clause.title;
  el.querySelector('.clause-type').value = field.clause.type;
  el.querySelector('.clause-title').addEventListener('input', (e) => { field.clause.title = e.target.value; });
  el.querySelector('.clause-type').addEventListener('change', (e) => { field.clause.type = e.target.value; });
  el.querySelector('.field-signer').addEventListener('change', (e) => { field.signer = Number(e.target.value); });
  el.querySelector('.remove-field').addEventListener('click', () => {
    doc.fields.splice(doc.fields.indexOf(field), 1);
    el.remove();
    field.box?.remove();
    renumber();
  });
  doc.fields.push(field);
  doc.el.querySelector('.fields').append(el);
  drawBox(doc, field);
  renumber();
  return field;
}

// The field's box on its page, once the page is rendered.
function drawBox(doc, field) {
  field.box?.remove();
  field.box = null;
  const a = field.attrs;
  let page;
  let rect;
  if (a.unique_name !== undefined) {
    for (const p of doc.pages) {
      const w = p.widgets.find((x) => x.name === a.unique_name);
      if (w) { page = p; rect = w.rect; }
    }
  } else {
    page = doc.pages[a.page];
    if (page) {
      rect = { left: a.coordinates.x * page.scale, top: a.coordinates.y * page.scale,
               width: a.size.w * page.scale, height: a.size.h * page.scale };
    }
  }
  if (!page || !rect) return;
  const box = document.createElement('div');
  box.className = 'box';
  box.setAttribute('aria-hidden', 'true');
  Object.assign(box.style, { left: `${rect.left}px`, top: `${rect.top}px`,
                             width: `${rect.width}px`, height: `${rect.height}px` });
  page.overlay.append(box);
  field.box = box;
}

function where(doc, field) {
  const a = field.attrs;
  if (a.unique_name !== undefined) return fill(texts.namedLabel, { name: a.unique_name });
  return fill(texts.fieldLabel, { page: a.page + 1 });
}

function round(v) { return Math.round(v * 100) / 100; }

// Pixels on the rendered page to the API's field: PDF points from the page's top-left corner.
function fieldAt(page, left, top, width, height) {
  return { page: page.index,
           coordinates: { x: round(left / page.scale), y: round(top / page.scale) },
           size: { w: round(width / page.scale), h: round(height / page.scale) } };
}

function listenForDrag(doc, page) {
  const overlay = page.overlay;
  let start = null;
  let ghost = null;
  const point = (e) => {
    const r = overlay.getBoundingClientRect();
    return { x: Math.min(Math.max(e.clientX - r.left, 0), r.width),
             y: Math.min(Math.max(e.clientY - r.top, 0), r.height) };
  };
  overlay.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 || e.target.closest('button')) return;
    e.preventDefault();
    overlay.setPointerCapture(e.pointerId);
    start = point(e);
    ghost = document.createElement('div');
    ghost.className = 'box drawing';
    overlay.append(ghost);
  });
  overlay.addEventListener('pointermove', (e) => {
    if (!start) return;
    const p = point(e);
    Object.assign(ghost.style, { left: `${Math.min(p.x, start.x)}px`, top: `${Math.min(p.y, start.y)}px`,
                                 width: `${Math.abs(p.x - start.x)}px`,
                                 height: `${Math.abs(p.y - start.y)}px` });
  });
  const finish = (e) => {
    if (!start) return;
    const p = point(e);
    const left = Math.min(p.x, start.x);
    const top = Math.min(p.y, start.y);
    const width = Math.abs(p.x - start.x);
    const height = Math.abs(p.y - start.y);
    ghost.remove();
    start = null;
    if (width >= minBox && height >= minBox) {
      const field = addField(doc, fieldAt(page, left, top, width, height), null, lastSigner(doc));
      field.el.querySelector('.clause-title').focus();
    }
  };
  overlay.addEventListener('pointerup', finish);
  overlay.addEventListener('pointercancel', () => { ghost?.remove(); start = null; });
}

// A new field goes to the signer of the document's last field (the first signer at first).
function lastSigner(doc) {
  return doc.fields.length ? doc.fields[doc.fields.length - 1].signer : 0;
}

async function renderDocument(doc) {
  const lib = await loadPdfjs();
  const pagesEl = doc.el.querySelector('.pages');
  pagesEl.replaceChildren();
  doc.pages = [];
  const bytes = new Uint8Array(await doc.file.arrayBuffer());
  const pdf = await lib.getDocument({
    data: bytes, isEvalSupported: false, standardFontDataUrl: base + 'standard_fonts/',
    cMapUrl: base + 'cmaps/', cMapPacked: true, wasmUrl: base + 'wasm/', iccUrl: base + 'iccs/',
  }).promise;
  const width = Math.min(pagesEl.clientWidth || 600, 720);
  for (let i = 0; i < pdf.numPages; i++) {
    const p = await pdf.getPage(i + 1);
    const natural = p.getViewport({ scale: 1, rotation: 0 });
    const scale = width / natural.width;
    const viewport = p.getViewport({ scale, rotation: 0 });
    const fig = clone('tpl-page');
    const canvas = fig.querySelector('canvas');
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.style.width = `${viewport.width}px`;
    canvas.style.height = `${viewport.height}px`;
    canvas.setAttribute('role', 'img');
    const name = fill(texts.pageLabel, { page: i + 1 });
    canvas.setAttribute('aria-label', `${doc.title} — ${name}`);
    fig.querySelector('.page-name').textContent = name;
    const overlay = fig.querySelector('.overlay');
    Object.assign(overlay.style, { width: `${viewport.width}px`, height: `${viewport.height}px` });
    const page = { index: i, scale, overlay, widgets: [], height: natural.height };
    doc.pages.push(page);
    pagesEl.append(fig);
    await p.render({ canvasContext: canvas.getContext('2d'), viewport,
                     transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null }).promise;
    // Existing empty signature fields: a button each, to use it.
    for (const a of await p.getAnnotations()) {
      if (a.fieldType !== 'Sig' || a.fieldValue || !a.fieldName) continue;
      const [x1, y1, x2, y2] = viewport.convertToViewportRectangle(a.rect);
      const rect = { left: Math.min(x1, x2), top: Math.min(y1, y2),
                     width: Math.abs(x2 - x1), height: Math.abs(y2 - y1) };
      page.widgets.push({ name: a.fieldName, rect });
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'existing';
      b.textContent = fill(texts.useLabel, { name: a.fieldName });
      Object.assign(b.style, { left: `${rect.left}px`, top: `${rect.top}px`,
                               width: `${rect.width}px`, height: `${rect.height}px` });
      b.addEventListener('click', () => {
        if (!doc.fields.some((f) => f.attrs.unique_name === a.fieldName)) {
          addField(doc, { unique_name: a.fieldName }, null, 0);
        }
      });
      overlay.append(b);
    }
    fig.querySelector('.add-here').addEventListener('click', () => {
      const w = Math.min(200 * scale, viewport.width * 0.6);
      const h = 50 * scale;
      addField(doc, fieldAt(page, 20 * scale, viewport.height - h - 40 * scale, w, h), null, 0);
    });
    listenForDrag(doc, page);
  }
  for (const f of doc.fields) drawBox(doc, f);
  doc.el.dataset.rendered = String(pdf.numPages);
}

document.getElementById('files').addEventListener('change', async (e) => {
  const files = [...e.target.files];
  for (const file of files) {
    if (file.type && file.type !== 'application/pdf') {
      showProblems([{ field: 'files', reason: fill(texts.notPdf, { name: file.name }) }]);
      continue;
    }
    let doc = state.documents.find((d) => !d.file);
    if (!doc) {
      if (state.documents.length >= Number(texts.maxDocuments)) {
        showProblems([{ field: 'files', reason: texts.tooMany }]);
        break;
      }
      doc = addDocument({ title: titleOf(file), signature_fields: [] });
    }
    doc.file = file;
    doc.el.querySelector('.doc-name').textContent = file.name;
    try {
      await renderDocument(doc);
    } catch (err) {
      doc.el.dataset.rendered = 'error';
      showProblems([{ field: `files[${state.documents.indexOf(doc)}]`, reason: String(err.message || err) }]);
    }
  }
  e.target.value = '';
});

// ---- Signers ---------------------------------------------------------------------------------

function addSigner() {
  const el = clone('tpl-signer');
  const signer = { el };
  state.signers.push(signer);
  el.querySelector('.order').value = String(state.signers.length);
  el.querySelector('.kind').addEventListener('change', renumber);
  el.querySelector('.remove-signer').addEventListener('click', () => {
    state.signers.splice(state.signers.indexOf(signer), 1);
    el.remove();
    renumber();
  });
  document.getElementById('signers').append(el);
  renumber();
  return signer;
}

document.getElementById('add-signer').addEventListener('click', () => {
  addSigner().el.querySelector('.identifier').focus();
});

// "Sign myself": the staff member as a signer by their login address; after sending, the page
// goes on to their signer link.
document.getElementById('add-me').addEventListener('click', () => {
  let signer = state.signers.find((s) => s.me);
  if (!signer) {
    const empty = state.signers.find((s) => !value(s.el, '.identifier'));
    signer = empty || addSigner();
    signer.me = true;
  }
  signer.el.querySelector('.kind').value = 'email';
  signer.el.querySelector('.identifier').value = texts.me;
  renumber();
  signer.el.querySelector('.order').focus();
});

// Names, data-path attributes (where the server's problems go) and the signer choices.
function renumber() {
  state.signers.forEach((s, i) => {
    const el = s.el;
    const kind = el.querySelector('.kind').value;
    el.querySelector('legend').textContent = fill(texts.signerLabel, { n: i + 1 });
    const p = `signers[${i}]`;
    el.dataset.path = p;
    el.querySelector('.kind').dataset.path = `${p}.signer.country`;
    el.querySelector('.identifier').dataset.path = `${p}.signer.${kind}`;
    el.querySelector('.identifier').type = kind === 'email' ? 'email' : kind === 'phone' ? 'tel' : 'text';
    el.querySelector('.contact-email').hidden = kind === 'email';
    el.querySelector('.contact-phone').hidden = kind === 'phone';
    el.querySelector('.email').dataset.path = kind === 'email' ? '' : `${p}.signer.email`;
    el.querySelector('.phone').dataset.path = kind === 'phone' ? '' : `${p}.signer.phone`;
    el.querySelector('.name').dataset.path = `${p}.signer.name`;
    el.querySelector('.order').dataset.path = `${p}.order`;
    el.querySelector('.authentication').dataset.path = `${p}.authentication`;
    el.querySelector('legend').dataset.path = `${p}.signer`;
  });
  state.documents.forEach((d, i) => {
    const p = `dossier.documents_metadata[${i}]`;
    d.el.dataset.path = p;
    d.el.querySelector('.doc-name').dataset.path = `files[${i}]`;
    d.el.querySelector('.doc-title').dataset.path = `${p}.title`;
    d.el.querySelector('.no-fields').hidden = d.fields.length > 0;
    d.fields.forEach((f, j) => {
      const q = `${p}.signature_fields[${j}]`;
      f.el.dataset.path = q;
      f.el.querySelector('.where').textContent = where(d, f);
      f.el.querySelector('.where').dataset.path = `${q}.attrs`;
      f.el.querySelector('.clause-title').dataset.path = `${q}.clause.title`;
      f.el.querySelector('.clause-type').dataset.path = `${q}.clause.type`;
      const select = f.el.querySelector('.field-signer');
      select.dataset.path = `${q}.signer_index`;
      const count = Math.max(state.signers.length, f.signer + 1, 1);
      select.replaceChildren(...Array.from({ length: count }, (_, k) => {
        const o = document.createElement('option');
        o.value = String(k);
        o.textContent = fill(texts.signerLabel, { n: k + 1 });
        return o;
      }));
      select.value = String(f.signer);
    });
  });
}

// ---- The plan and the server's answer --------------------------------------------------------

function value(el, cls) {
  return el.querySelector(cls).value.trim();
}

function plan() {
  const signers = state.signers.map((s) => {
    const kind = value(s.el, '.kind');
    const body = {};
    const id = value(s.el, '.identifier');
    if (id) body[kind] = id;
    if (kind === 'national_identity_number') body.country = 'NO';
    if (kind !== 'email' && value(s.el, '.email')) body.email = value(s.el, '.email');
    if (kind !== 'phone' && value(s.el, '.phone')) body.phone = value(s.el, '.phone');
    if (value(s.el, '.name')) body.name = value(s.el, '.name');
    const entry = { signer: body, order: Math.max(0, Number(value(s.el, '.order') || 1) - 1) };
    if (value(s.el, '.authentication')) entry.authentication = value(s.el, '.authentication');
    if (s.me && kind === 'email' && id.toLowerCase() === texts.me) entry.me = true;
    return entry;
  });
  const documents = state.documents.map((d) => ({
    title: d.title,
    signature_fields: d.fields.map((f) => ({ attrs: f.attrs, clause: f.clause, signer_index: f.signer })),
  }));
  const out = {
    dossier: { title: document.getElementById('title').value.trim(), documents_metadata: documents },
    signers,
    reference: document.getElementById('reference').value.trim(),
    expires_on: document.getElementById('expires_on').value,
  };
  if (texts.dossierId) out.dossier_id = texts.dossierId;
  return out;
}

function clearProblems() {
  for (const el of form.querySelectorAll('.problem')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-describedby');
  }
  const summary = document.getElementById('summary');
  summary.hidden = true;
  summary.replaceChildren();
}

// The element a problem's field names, or the nearest one above it (a.b[1].c -> a.b[1] -> a.b).
function target(field) {
  let path = field;
  while (path) {
    const el = form.querySelector(`[data-path="${CSS.escape(path)}"]`);
    if (el && !el.closest('[hidden]')) return el;
    const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    path = cut > 0 ? path.slice(0, cut) : '';
  }
  return null;
}

let problemSeq = 0;
function showProblems(problems, message) {
  clearProblems();
  const summary = document.getElementById('summary');
  const list = document.createElement('ul');
  for (const p of problems) {
    const el = target(p.field);
    const id = `problem-${++problemSeq}`;
    const li = document.createElement('li');
    li.textContent = el ? p.reason : `${p.field}: ${p.reason}`;
    list.append(li);
    if (!el) continue;
    const note = document.createElement('p');
    note.className = 'error problem';
    note.id = id;
    note.textContent = p.reason;
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)) {
      el.setAttribute('aria-invalid', 'true');
      el.setAttribute('aria-describedby', id);
      (el.closest('label') || el).after(note);
    } else if (el.tagName === 'LEGEND' || el.tagName === 'H3' || el.tagName === 'P') {
      el.after(note);
    } else {
      el.prepend(note);
    }
  }
  if (message) {
    const h = document.createElement('p');
    h.textContent = message;
    summary.append(h);
  }
  summary.append(list);
  summary.hidden = false;
  summary.focus();
}

// The front door's own answers are application/problem+json, in English for API clients: a
// person reads the page's words for its `type` instead.
async function problemText(r, type) {
  if (!type.startsWith('application/problem+json')) return texts.failed;
  const problem = await r.json().catch(() => ({}));
  return JSON.parse(texts.problems)[problem.type] || texts.failed;
}

async function submit(action) {
  const buttons = form.querySelectorAll('[data-action]');
  buttons.forEach((b) => { b.disabled = true; });
  const outcome = document.getElementById('outcome');
  outcome.textContent = texts.working;
  try {
    const body = new FormData();
    body.append('csrf', form.elements.csrf.value);
    body.append('action', action);
    body.append('plan', JSON.stringify(plan()));
    if (action !== 'save') {
      for (const d of state.documents) if (d.file) body.append('file', d.file, d.file.name);
    }
    const csv = document.getElementById('csv').files[0];
    if (action === 'bulk' && csv) body.append('csv', csv, csv.name);
    const r = await fetch('/app/send', { method: 'POST', body, credentials: 'same-origin',
                                         headers: { Accept: 'application/json' } });
    const type = r.headers.get('Content-Type') || '';
    if (r.status === 401) {  // the session ended (refused before the files were sent)
      window.location.assign('/app/login');
      return;
    }
    const answer = type.startsWith('application/json') ? await r.json()
      : { ok: false, problems: [{ field: 'form', reason: await problemText(r, type) }] };
    if (answer.ok && answer.location && action !== 'validate') {
      window.location.assign(answer.location);
      return;
    }
    if (answer.ok) {
      clearProblems();
      outcome.textContent = answer.message || '';
    } else {
      outcome.textContent = '';
      showProblems(answer.problems || [], answer.message);
    }
  } catch (err) {
    outcome.textContent = '';
    showProblems([{ field: 'form', reason: texts.failed }]);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

for (const b of form.querySelectorAll('[data-action]')) {
  b.addEventListener('click', () => submit(b.dataset.action));
}
form.addEventListener('submit', (e) => { e.preventDefault(); submit('send'); });

// ---- Start ------------------------------------------------------------------------------------

if (texts.documents) {
  for (const meta of JSON.parse(texts.documents)) addDocument(meta);
}
addSigner();
form.dataset.ready = 'true';
