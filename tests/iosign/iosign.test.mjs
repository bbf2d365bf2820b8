// io-sign compatibility (docs/API.md, "io-sign compatibility"): io-sign's issuer sequence played
// against Firmo's /api/v1/sign as an io-sign client plays it (its key header, JSON without a
// Content-Type, members Firmo does not know), every answer checked with ajv against the tests'
// own transcription of io-sign's schemas (iosign_schemas.mjs), and the documents uploaded with
// the Azure Storage SDK (npm @azure/storage-blob) to the upload URLs the root hands out. Last,
// Firmo's own /api/v1 is checked to keep its stricter semantics.
//
// Needs FIRMO_BIN (set by ctest), tests/iosign/node_modules (the build runs `npm ci` there) and
// what tests/browser/harness.mjs's startFirmo and makePdf need (python3, qpdf). With
// FIRMO_TEST_POSTGRES_URL (scripts/with-postgres.sh; ctest iosign_pg.compat) the node runs on a
// fresh PostgreSQL database, where the front door checks the key's shape before the body and
// looks it up with the body.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { AnonymousCredential, BlockBlobClient } from '@azure/storage-blob';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { makePdf, startFirmo } from '../browser/harness.mjs';
import { schemas } from './iosign_schemas.mjs';

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema(schemas);

// Asserts that `value` is an io-sign `name` (a schema of iosign_schemas.mjs).
function conforms(name, value, what = name) {
  const validate = ajv.getSchema(`iosign#/$defs/${name}`);
  assert.ok(validate, `no schema ${name}`);
  assert.ok(validate(value),
            `${what} is not io-sign's ${name}: ${ajv.errorsText(validate.errors)}\n` +
              JSON.stringify(value, null, 1).slice(0, 3000));
}

const FISCAL_CODE = 'RSSMRA80A01H501U';
const ROOT = '/api/v1/sign';

// An io-sign client: Ocp-Apim-Subscription-Key, and by default JSON bodies sent as text
// WITHOUT a Content-Type (io-sign accepts them). Returns {status, headers, body}.
function ioClient(firmo, key = firmo.apiKey) {
  return async (method, path, { json, raw, headers = {} } = {}) => {
    const h = { ...headers };
    if (key) h['Ocp-Apim-Subscription-Key'] = key;
    let body;
    if (json !== undefined) body = JSON.stringify(json);
    if (raw !== undefined) body = raw;
    const res = await fetch(new URL(path, firmo.url), { method, headers: h, body });
    const text = await res.text();
    let parsed = text;
    if (text && (res.headers.get('content-type') || '').includes('json')) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed };
  };
}

// Asserts the status and, for a problem, io-sign's ProblemDetail with the same status.
function expectStatus(res, status, what) {
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body).slice(0, 1000)}`);
  if (status >= 400) {
    conforms('ProblemDetail', res.body, what);
    assert.equal(res.body.status, status, `${what}: the problem's status`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('io-sign compatible root /api/v1/sign', () => {
  let firmo;
  let io;
  let pdf;

  before(async () => {
    const args = [];
    const pgUrl = process.env.FIRMO_TEST_POSTGRES_URL;
    if (pgUrl) {
      const db = `firmo_iosign_${randomBytes(4).toString('hex')}`;
      execFileSync('psql', [pgUrl, '-q', '-c', `CREATE DATABASE ${db}`]);
      const url = new URL(pgUrl);
      url.pathname = `/${db}`;
      args.push('--database-url', url.toString());
    }
    firmo = await startFirmo({ args });
    io = ioClient(firmo);
    pdf = await makePdf({ pages: 2 });
  });
  after(async () => {
    await firmo?.stop();
  });

  // Polls the request until every document (or the one given) is READY or REJECTED,
  // checking each answer against the schema.
  async function settled(requestId, documentId) {
    for (let i = 0; i < 400; i++) {
      const r = await io('GET', `${ROOT}/signature-requests/${requestId}`);
      expectStatus(r, 200, 'get signature request');
      conforms('SignatureRequestDetailView', r.body);
      const docs = r.body.documents.filter((d) => !documentId || d.id === documentId);
      if (docs.every((d) => d.status === 'READY' || d.status === 'REJECTED')) {
        return r.body;
      }
      await sleep(50);
    }
    throw new Error('validation did not finish');
  }

  // Dossier with fields by name and by coordinates and every clause type, plus a document
  // without signature_fields (signed as a whole); members io-sign does not know are ignored.
  const dossierBody = {
    title: 'Contratto di servizio 2026',
    support_email: 'ufficio@example.org',
    some_future_member: { any: 'thing' },
    documents_metadata: [
      {
        title: 'Contratto',
        signature_fields: [
          { attrs: { unique_name: 'Signature1' },
            clause: { title: 'Accetto le condizioni del servizio', type: 'REQUIRED' },
            extra: true },
          { attrs: { page: 0, coordinates: { x: 320, y: 560 }, size: { w: 220, h: 60 } },
            clause: { title: 'Accetto la limitazione di responsabilita', type: 'UNFAIR',
                      note: 'ignored' } },
          { attrs: { page: 1, coordinates: { x: 60, y: 600 }, size: { w: 200, h: 50 } },
            clause: { title: 'Accetto di ricevere la newsletter', type: 'OPTIONAL' } },
        ],
      },
      { title: 'Informativa privacy' },
    ],
  };

  let dossier;
  let signerId;
  let request;

  test('GET /info answers without a key', async () => {
    const r = await ioClient(firmo, null)('GET', `${ROOT}/info`);
    expectStatus(r, 200, 'info');
    conforms('Info', r.body);
  });

  test('a dossier, a signer and a request, with the io-sign key header', async () => {
    let r = await io('POST', `${ROOT}/dossiers`, { json: dossierBody });
    expectStatus(r, 201, 'create dossier');
    conforms('DossierDetailView', r.body);
    dossier = r.body;
    assert.equal(dossier.documents_metadata.length, 2);
    assert.deepEqual(dossier.documents_metadata[1].signature_fields ?? [], []);
    assert.equal(dossier.updated_at, dossier.created_at);

    r = await io('GET', `${ROOT}/dossiers/${dossier.id}`);
    expectStatus(r, 200, 'get dossier');
    conforms('DossierDetailView', r.body);

    r = await io('POST', `${ROOT}/signers`, { json: { fiscal_code: FISCAL_CODE } });
    expectStatus(r, 201, 'signer');
    conforms('SignerDetailView', r.body);
    signerId = r.body.id;
    // Known already: io-sign still answers 201.
    r = await io('POST', `${ROOT}/signers`, { json: { fiscal_code: FISCAL_CODE } });
    expectStatus(r, 201, 'signer again');
    assert.equal(r.body.id, signerId);

    // Any future expiry: io-sign has no cap (Firmo's /api/v1 caps it at 90 days).
    const farAway = new Date(Date.now() + 2 * 365 * 86400e3).toISOString();
    r = await io('POST', `${ROOT}/signature-requests`,
                 { json: { dossier_id: dossier.id, signer_id: signerId, expires_at: farAway,
                           unknown: 1 } });
    expectStatus(r, 201, 'create request');
    conforms('SignatureRequestDetailView', r.body);
    request = r.body;
    assert.equal(request.status, 'DRAFT');
    assert.equal(Date.parse(request.expires_at), Date.parse(farAway));
    assert.equal(request.documents.length, 2);
    for (const d of request.documents) assert.equal(d.status, 'WAIT_FOR_UPLOAD');
    assert.equal(request.qr_code_url, undefined);
  });

  test('errors while DRAFT: READY with documents missing is 400, notifying is 422', async () => {
    let r = await io('PUT', `${ROOT}/signature-requests/${request.id}/status`, { json: 'READY' });
    expectStatus(r, 400, 'READY too early');
    r = await io('PUT', `${ROOT}/signature-requests/${request.id}/notification`);
    expectStatus(r, 422, 'notify a DRAFT');
  });

  test('uploads with the Azure Storage SDK and a raw block-blob PUT', async () => {
    const urlOf = async (doc) => {
      const r = await io('GET',
                         `${ROOT}/signature-requests/${request.id}/documents/${doc.id}/upload_url`);
      expectStatus(r, 200, 'upload url');
      conforms('UploadUrl', r.body);
      return r.body;
    };
    // The SDK: application/octet-stream, x-ms-blob-type: BlockBlob; a 201 with Azure's headers.
    const client = new BlockBlobClient(await urlOf(request.documents[0]),
                                       new AnonymousCredential(),
                                       { retryOptions: { maxTries: 1 } });
    const up = await client.uploadData(pdf);
    assert.equal(up._response.status, 201);
    assert.match(up.etag, /^".+"$/);
    assert.ok(up.lastModified instanceof Date && !Number.isNaN(up.lastModified.getTime()));
    assert.ok(Math.abs(up.lastModified.getTime() - Date.now()) < 120e3);
    assert.ok(up.requestId);
    assert.ok(up.version);
    assert.equal(typeof up.isServerEncrypted, 'boolean');
    // upload() with the blob's content type, as the guide's samples do: a re-upload while DRAFT.
    const again = await client.upload(pdf, pdf.length,
                                      { blobHTTPHeaders: { blobContentType: 'application/pdf' } });
    assert.equal(again._response.status, 201);
    assert.ok(again.etag && again.lastModified && again.requestId);

    // A raw PUT as io-sign's guide shows it: no Content-Type, Content-MD5 checked and echoed.
    const url2 = await urlOf(request.documents[1]);
    const { createHash } = await import('node:crypto');
    const md5 = createHash('md5').update(pdf).digest('base64');
    let res = await fetch(url2, { method: 'PUT', body: pdf,
                                  headers: { 'x-ms-blob-type': 'BlockBlob', 'Content-MD5': md5 } });
    assert.equal(res.status, 201, await res.text());
    assert.equal(res.headers.get('content-md5'), md5);
    for (const h of ['etag', 'last-modified', 'x-ms-request-id', 'x-ms-version',
                     'x-ms-request-server-encrypted']) {
      assert.ok(res.headers.get(h), `header ${h}`);
    }
    // Azure's rules: the blob type is required, a wrong MD5 is refused.
    res = await fetch(url2, { method: 'PUT', body: pdf });
    assert.equal(res.status, 400);
    res = await fetch(url2, { method: 'PUT', body: pdf,
                              headers: { 'x-ms-blob-type': 'BlockBlob',
                                         'Content-MD5': createHash('md5').update('x').digest('base64') } });
    assert.equal(res.status, 400);
    res = await fetch(url2, { method: 'PUT', body: pdf,
                              headers: { 'x-ms-blob-type': 'AppendBlob' } });
    assert.equal(res.status, 400);
  });

  test('validation: READY documents carry a url to their bytes', async () => {
    const r = await settled(request.id);
    for (const d of r.documents) {
      assert.equal(d.status, 'READY', JSON.stringify(d));
      conforms('DocumentReady', d);
      const got = await fetch(d.url);
      assert.equal(got.status, 200);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), pdf);
    }
  });

  test('READY goes on to WAIT_FOR_SIGNATURE by itself; then notification', async () => {
    let r = await io('PUT', `${ROOT}/signature-requests/${request.id}/status`,
                     { raw: '"READY"' });
    expectStatus(r, 204, 'READY');
    r = await io('GET', `${ROOT}/signature-requests/${request.id}`);
    expectStatus(r, 200, 'get');
    conforms('SignatureRequestDetailView', r.body);
    assert.equal(r.body.status, 'WAIT_FOR_SIGNATURE');
    assert.ok(r.body.qr_code_url);
    assert.equal(r.body.notification, undefined);
    const qr = await fetch(r.body.qr_code_url);
    assert.equal(qr.status, 200);

    r = await io('PUT', `${ROOT}/signature-requests/${request.id}/status`, { json: 'READY' });
    expectStatus(r, 400, 'READY twice');
    r = await io('GET',
                 `${ROOT}/signature-requests/${request.id}/documents/${request.documents[0].id}/upload_url`);
    expectStatus(r, 400, 'upload url once not DRAFT');

    r = await io('PUT', `${ROOT}/signature-requests/${request.id}/notification`);
    expectStatus(r, 201, 'notify');
    conforms('NotificationDetailView', r.body);
    const messageId = r.body.io_message_id;
    r = await io('GET', `${ROOT}/signature-requests/${request.id}`);
    conforms('SignatureRequestDetailView', r.body);
    assert.equal(r.body.notification.io_message_id, messageId);
  });

  test('list by dossier: pages, continuation_token absent on the last one', async () => {
    const second = await io('POST', `${ROOT}/signature-requests`,
                            { json: { dossier_id: dossier.id, signer_id: signerId } });
    expectStatus(second, 201, 'second request');
    let r = await io('GET', `${ROOT}/dossiers/${dossier.id}/signature-requests?limit=1&foo=bar`);
    expectStatus(r, 200, 'list page 1');
    conforms('SignatureRequestList', r.body);
    assert.equal(r.body.items.length, 1);
    assert.ok(r.body.continuation_token);
    r = await io('GET', `${ROOT}/dossiers/${dossier.id}/signature-requests?limit=1&` +
                          `continuationToken=${encodeURIComponent(r.body.continuation_token)}`);
    expectStatus(r, 200, 'list page 2');
    conforms('SignatureRequestList', r.body);
    assert.equal(r.body.items.length, 1);
    if ('continuation_token' in r.body) {
      r = await io('GET', `${ROOT}/dossiers/${dossier.id}/signature-requests?limit=1&` +
                            `continuationToken=${encodeURIComponent(r.body.continuation_token)}`);
      expectStatus(r, 200, 'list page 3');
      conforms('SignatureRequestList', r.body);
      assert.equal(r.body.items.length, 0);
    }
    assert.ok(!('continuation_token' in r.body), JSON.stringify(r.body));
    r = await io('GET', `${ROOT}/dossiers/${dossier.id}/signature-requests`);
    conforms('SignatureRequestList', r.body);
    assert.equal(r.body.items.length, 2);
    assert.ok(!('continuation_token' in r.body));
  });

  test('cancel', async () => {
    let r = await io('PUT', `${ROOT}/signature-requests/${request.id}/status`, { json: 'CANCELLED' });
    expectStatus(r, 204, 'cancel');
    r = await io('GET', `${ROOT}/signature-requests/${request.id}`);
    conforms('SignatureRequestDetailView', r.body);
    assert.equal(r.body.status, 'CANCELLED');
    assert.ok(r.body.cancelled_at);
    r = await io('PUT', `${ROOT}/signature-requests/${request.id}/status`, { json: 'CANCELLED' });
    expectStatus(r, 400, 'cancel twice');
    r = await io('PUT', `${ROOT}/signature-requests/${request.id}/notification`);
    expectStatus(r, 201, 'the notification of a cancelled request stays');
  });

  test('a rejected document has rejected_at and reject_reason', async () => {
    let r = await io('POST', `${ROOT}/signature-requests`,
                     { json: { dossier_id: dossier.id, signer_id: signerId } });
    const rq = r.body;
    r = await io('GET',
                 `${ROOT}/signature-requests/${rq.id}/documents/${rq.documents[0].id}/upload_url`);
    const client = new BlockBlobClient(r.body, new AnonymousCredential(),
                                       { retryOptions: { maxTries: 1 } });
    await client.uploadData(Buffer.from('this is not a PDF at all'));
    const settledRq = await settled(rq.id, rq.documents[0].id);
    const doc = settledRq.documents.find((d) => d.id === rq.documents[0].id);
    assert.equal(doc.status, 'REJECTED');
    conforms('DocumentRejected', doc);
    assert.ok(doc.reject_reason);
  });

  test('validate-document: violations are strings', async () => {
    const form = (fields) => {
      const f = new FormData();
      f.append('document', new Blob([pdf], { type: 'application/pdf' }), 'doc.pdf');
      if (fields) f.append('signature_fields', JSON.stringify(fields));
      return f;
    };
    const headers = { 'Ocp-Apim-Subscription-Key': firmo.apiKey };
    let res = await fetch(new URL(`${ROOT}/validate-document`, firmo.url),
                          { method: 'POST', headers,
                            body: form(dossierBody.documents_metadata[0].signature_fields) });
    let body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    conforms('DocumentValidationResult', body);
    assert.equal(body.is_valid, true, JSON.stringify(body));

    res = await fetch(new URL(`${ROOT}/validate-document`, firmo.url), {
      method: 'POST', headers,
      body: form([{ attrs: { unique_name: 'NoSuchField' },
                    clause: { title: 'Accetto le condizioni', type: 'REQUIRED' } }]),
    });
    body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    conforms('DocumentValidationResult', body);
    assert.equal(body.is_valid, false);
    assert.ok(body.violations.length > 0);
    for (const v of body.violations) assert.equal(typeof v, 'string');
    assert.match(body.violations.join(' '), /NoSuchField|unique_name|signature_fields/);

    res = await fetch(new URL(`${ROOT}/validate-document`, firmo.url),
                      { method: 'POST', headers, body: form() });
    body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    conforms('DocumentValidationResult', body);
  });

  test('errors: key, unknown objects, bad bodies', async () => {
    let r = await ioClient(firmo, null)('POST', `${ROOT}/dossiers`, { json: dossierBody });
    expectStatus(r, 401, 'no key');
    r = await ioClient(firmo, 'firmo_notAKeyAtAll000000000000000000000')('GET',
                                                                         `${ROOT}/dossiers/x`);
    expectStatus(r, 401, 'wrong key');
    r = await io('GET', `${ROOT}/dossiers/01ARZ3NDEKTSV4RRFFQ69G5FAV`);
    expectStatus(r, 404, 'unknown dossier');
    r = await io('GET', `${ROOT}/signature-requests/01ARZ3NDEKTSV4RRFFQ69G5FAV`);
    expectStatus(r, 404, 'unknown request');
    r = await io('POST', `${ROOT}/dossiers`, { json: { documents_metadata: [{ title: 'Doc' }] } });
    expectStatus(r, 422, 'dossier without a title');
    r = await io('POST', `${ROOT}/dossiers`, { raw: '{"title": ' });
    expectStatus(r, 400, 'malformed JSON');
    r = await io('POST', `${ROOT}/signature-requests`,
                 { json: { dossier_id: dossier.id, signer_id: signerId,
                           expires_at: '2001-01-01T00:00:00.000Z' } });
    expectStatus(r, 422, 'expiry in the past');
    r = await io('POST', `${ROOT}/signature-requests`,
                 { json: { dossier_id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', signer_id: signerId } });
    expectStatus(r, 404, 'unknown dossier in a request');
    r = await io('POST', `${ROOT}/signers`, { json: { fiscal_code: 'RSSMRA80A01H501X' } });
    expectStatus(r, 422, 'bad fiscal code');
    r = await io('PUT', `${ROOT}/signature-requests/${request.id}/status`, { json: 'SIGNED' });
    expectStatus(r, 422, 'a status one cannot set');
  });

  test('docs/openapi-iosign.yaml describes exactly the routes the root serves', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { repoRoot } = await import('../browser/harness.mjs');
    const { stdout } = await promisify(execFile)('python3', ['-c',
      'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))',
      `${repoRoot}/docs/openapi-iosign.yaml`]);
    const spec = JSON.parse(stdout);
    assert.deepEqual(spec.servers.map((s) => s.url), [ROOT]);
    const documented = [];
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const method of Object.keys(ops)) documented.push(`${method.toUpperCase()} ${path}`);
    }
    const served = [
      'GET /info', 'POST /dossiers', 'GET /dossiers/{id}', 'GET /dossiers/{id}/signature-requests',
      'POST /signers', 'POST /signature-requests', 'GET /signature-requests/{id}',
      'PUT /signature-requests/{id}/status',
      'GET /signature-requests/{id}/documents/{doc_id}/upload_url', 'PUT /uploads/{token}',
      'GET /documents/{token}', 'PUT /signature-requests/{id}/notification',
      'POST /validate-document',
    ];
    assert.deepEqual(documented.sort(), [...served].sort());
    // Each is routed (a 404 here would be a problem `no such endpoint`, a 405 a wrong method).
    for (const route of served) {
      const [method, path] = route.split(' ');
      const r = await io(method, ROOT + path.replace(/\{[a-z_]+\}/g, 'x'));
      assert.ok(r.status !== 405 && !(r.status === 404 && /no such endpoint/.test(r.body.detail)),
                `${route}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  });

  test("Firmo's own /api/v1 keeps its stricter semantics", async () => {
    const own = async (method, path, body, headers = {}) => {
      const res = await fetch(new URL(path, firmo.url), {
        method, body: body === undefined ? undefined : JSON.stringify(body),
        headers: { 'X-Api-Key': firmo.apiKey, 'Content-Type': 'application/json', ...headers },
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    // io-sign's key header is not Firmo's.
    let res = await fetch(new URL('/api/v1/dossiers', firmo.url),
                          { headers: { 'Ocp-Apim-Subscription-Key': firmo.apiKey } });
    assert.equal(res.status, 401);
    // No Content-Type: 415; unknown members and missing signature_fields: 422.
    res = await fetch(new URL('/api/v1/dossiers', firmo.url),
                      { method: 'POST', headers: { 'X-Api-Key': firmo.apiKey },
                        body: JSON.stringify({ title: 'abc', documents_metadata: [] }) });
    assert.equal(res.status, 415);
    let r = await own('POST', '/api/v1/dossiers', dossierBody);
    assert.equal(r.status, 422);
    r = await own('POST', '/api/v1/dossiers',
                  { title: 'Contratto', documents_metadata: [{ title: 'Informativa' }] });
    assert.equal(r.status, 422);
    // The 90-day cap.
    r = await own('POST', '/api/v1/signature-requests',
                  { dossier_id: dossier.id, signer_id: signerId,
                    expires_at: new Date(Date.now() + 200 * 86400e3).toISOString() });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    // READY stays READY until a notification or a signer; conflicts are 409.
    r = await own('POST', '/api/v1/signature-requests',
                  { dossier_id: dossier.id, signer_id: signerId });
    assert.equal(r.status, 201);
    const rq = r.body;
    r = await own('PUT', `/api/v1/signature-requests/${rq.id}/status`, 'READY');
    assert.equal(r.status, 409);
    for (const d of rq.documents) {
      const url = (await own('GET',
                             `/api/v1/signature-requests/${rq.id}/documents/${d.id}/upload_url`)).body;
      res = await fetch(url, { method: 'PUT', body: pdf,
                               headers: { 'Content-Type': 'application/pdf' } });
      assert.equal(res.status, 202);
    }
    for (let i = 0; ; i++) {
      r = await own('GET', `/api/v1/signature-requests/${rq.id}`);
      if (r.body.documents.every((d) => d.status === 'READY')) break;
      assert.ok(i < 400);
      await sleep(50);
    }
    r = await own('PUT', `/api/v1/signature-requests/${rq.id}/status`, 'READY');
    assert.equal(r.status, 204);
    r = await own('GET', `/api/v1/signature-requests/${rq.id}`);
    assert.equal(r.body.status, 'READY');
    // The same request read through the io-sign root shows READY too, and the compat
    // upload route refuses Firmo's own media-type rule only there: an application/pdf PUT to
    // Firmo's upload URL is unaffected (above).
    const viaIo = await io('GET', `${ROOT}/signature-requests/${rq.id}`);
    conforms('SignatureRequestDetailView', viaIo.body);
    assert.equal(viaIo.body.status, 'READY');
  });
});
