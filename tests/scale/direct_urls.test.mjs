// Direct upload and download URLs (storage.s3_direct_urls): the issuer PUTs the PDF straight
// to the object store with a pre-signed URL from `upload_url` (plain curl, no Firmo in the
// path), a node notices the upload and validates it, and the signed PDF's `documents[].url` is
// a pre-signed GET on the store. One node on SQLite + the loopback S3 server
// (tests/s3/start.mjs); the URLs are signed for the public endpoint "localhost" while the node
// talks to "127.0.0.1". Run by ctest as `scale.direct_urls`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { api, makePdf, pdfsigCheck, startFirmo, startSmtpSink } from '../browser/harness.mjs';
import { signWithSignerApi, startS3, waitFor } from './services.mjs';

const kMaxBytes = 200000;
let s3;
let smtp;
let node;
let dir;
let publicEndpoint;

before(async () => {
  [s3, smtp] = await Promise.all([startS3(), startSmtpSink()]);
  publicEndpoint = s3.endpoint.replace('127.0.0.1', 'localhost');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-direct-'));
  node = await startFirmo({
    dataDir: dir,
    args: ['--storage-url', 's3://firmo-test/direct', '--s3-endpoint', s3.endpoint,
           '--s3-access-key', 'S3RVER', '--s3-direct-urls', 'true',
           '--s3-public-endpoint', publicEndpoint, '--max-document-bytes', String(kMaxBytes),
           '--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-starttls', 'none'],
    env: { FIRMO_S3_SECRET_KEY: 'S3RVER' },
  });
});

after(async () => {
  await Promise.allSettled([node?.stop(), smtp?.stop()]);
  s3?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function draftRequest(a, to) {
  const dossier = await a.post('/api/v1/dossiers', {
    title: 'Direct', documents_metadata: [{ title: 'Contract', signature_fields: [
      { attrs: { unique_name: 'Signature1' },
        clause: { title: 'I accept the contract', type: 'REQUIRED' } }] }],
  });
  const signer = await a.post('/api/v1/signers', { email: to, name: 'Dora Direct' });
  return a.post('/api/v1/signature-requests', { dossier_id: dossier.id, signer_id: signer.id });
}

// curl -X PUT of `file` to `url`: the HTTP status.
function curlPut(url, file, contentType = 'application/pdf') {
  return execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT',
                               '-H', `Content-Type: ${contentType}`, '--data-binary', `@${file}`,
                               url], { encoding: 'utf8' });
}

test('upload straight to the object store, sign, download straight from it', async () => {
  const a = api(node);
  const to = 'dora.direct@example.org';
  const created = await draftRequest(a, to);
  const docPath = `/api/v1/signature-requests/${created.id}/documents/${created.documents[0].id}`;
  const uploadUrl = await a.get(`${docPath}/upload_url`);
  assert.ok(uploadUrl.startsWith(`${publicEndpoint}/firmo-test/direct/uploads/${created.id}/`),
            uploadUrl);
  assert.match(uploadUrl, /X-Amz-Signature=[0-9a-f]{64}/);
  // A second URL for the same document points at the same staging object.
  assert.equal((await a.get(`${docPath}/upload_url`)).split('?')[0], uploadUrl.split('?')[0]);

  const pdf = path.join(dir, 'contract.pdf');
  fs.writeFileSync(pdf, await makePdf({ pages: 2 }));
  // The content type is part of the signature: the store refuses any other.
  assert.equal(curlPut(uploadUrl, pdf, 'text/plain'), '403');
  assert.equal(curlPut(uploadUrl, pdf), '200');
  const doc = await waitFor(async () => (await a.get(`/api/v1/signature-requests/${created.id}`))
    .documents[0], (d) => d.status !== 'WAIT_FOR_UPLOAD' && d.status !== 'WAIT_FOR_VALIDATION',
                            'validation of the direct upload');
  assert.equal(doc.status, 'READY', JSON.stringify(doc));
  const events = await a.get(`/api/v1/signature-requests/${created.id}/events`);
  const uploaded = events.items.filter((e) => e.type === 'document.uploaded');
  assert.equal(uploaded.length, 1, JSON.stringify(events.items.map((e) => e.type)));
  assert.equal(uploaded[0].actor, 'upload-url');

  await a.put(`/api/v1/signature-requests/${created.id}/status`, 'READY');
  const request = await a.get(`/api/v1/signature-requests/${created.id}`);
  await signWithSignerApi(request, { smtp, to, nodes: [node] });
  const signed = await waitFor(() => a.get(`/api/v1/signature-requests/${created.id}`),
                               (r) => r.status === 'SIGNED', 'signing');
  const url = signed.documents[0].url;
  assert.ok(url.startsWith(`${publicEndpoint}/firmo-test/direct/requests/${created.id}/`), url);
  assert.match(url, /X-Amz-Signature=/);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pdf');
  assert.match(res.headers.get('content-disposition'), /^attachment; filename="[^"]+-signed\.pdf"$/);
  const file = path.join(dir, 'signed.pdf');
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const report = await pdfsigCheck(file, { firmo: node });
  assert.equal(report.signatures.length, 1, report.output);
  assert.ok(report.signatures[0].valid && report.signatures[0].trusted, report.output);
  // A tampered download URL (another object) is refused by the store.
  const tampered = url.replace(/\/requests\/[^/]+\//, '/requests/R0000000000000000000000000/');
  assert.equal((await fetch(tampered)).status, 403);
});

test('a direct upload over the size limit is rejected with the reason', async () => {
  const a = api(node);
  const created = await draftRequest(a, 'big.direct@example.org');
  const docPath = `/api/v1/signature-requests/${created.id}/documents/${created.documents[0].id}`;
  const big = path.join(dir, 'big.pdf');
  fs.writeFileSync(big, await makePdf({ fillerBytes: kMaxBytes + 1000 }));
  assert.equal(curlPut(await a.get(`${docPath}/upload_url`), big), '200');
  const doc = await waitFor(async () => (await a.get(`/api/v1/signature-requests/${created.id}`))
    .documents[0], (d) => d.status === 'REJECTED', 'the rejection');
  assert.match(doc.violations?.[0]?.reason ?? JSON.stringify(doc), /documents may be at most 200000/);
});
