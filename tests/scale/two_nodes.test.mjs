// Two `firmo serve` nodes on one PostgreSQL (private cluster from scripts/with-postgres.sh) and
// one S3 object store (s3rver behind a strict SigV4 check, tests/s3/start.mjs): a request
// created on node A gets its document through node B's upload URL, is validated by whichever
// node claims the job, is signed through node A, and its signed PDF downloads from node B and
// passes pdfsig. Run by ctest as `scale.two_nodes` under scripts/with-postgres.sh.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, test } from 'node:test';

import {
  api, makePdf, pdfsigCheck, repoRoot, startFirmo, startSmtpSink,
} from '../browser/harness.mjs';
import { codeFrom } from '../browser/flows.mjs';

const pgUrl = process.env.FIRMO_TEST_POSTGRES_URL;
let s3;
let smtp;
let nodeA;
let nodeB;
let sharedDir;

async function startS3() {
  const proc = spawn(process.execPath, [path.join(repoRoot, 'tests/s3/start.mjs')],
                     { stdio: ['pipe', 'pipe', 'inherit'] });
  const endpoint = await new Promise((resolve, reject) => {
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = /^S3 endpoint: (\S+)/.exec(line);
      if (m) resolve(m[1]);
    });
    proc.once('exit', () => reject(new Error('S3 server exited')));
  });
  return { endpoint, stop: () => proc.kill('SIGTERM') };
}

before(async () => {
  assert.ok(pgUrl, 'run under scripts/with-postgres.sh (FIRMO_TEST_POSTGRES_URL)');
  const db = `firmo_two_nodes_${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('psql', [pgUrl, '-q', '-c', `CREATE DATABASE ${db}`]);
  const url = new URL(pgUrl);
  url.pathname = `/${db}`;
  [s3, smtp] = await Promise.all([startS3(), startSmtpSink()]);
  // Both nodes share the CA (in production: the same CA files or a PKCS#11 token).
  sharedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-two-nodes-'));
  const args = ['--database-url', url.toString(), '--storage-url', 's3://firmo-test/two-nodes',
                '--s3-endpoint', s3.endpoint, '--s3-access-key', 'S3RVER',
                '--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-starttls', 'none'];
  const env = { FIRMO_S3_SECRET_KEY: 'S3RVER' };
  nodeA = await startFirmo({ args, env, dataDir: sharedDir });
  nodeB = await startFirmo({ args, env, dataDir: sharedDir });
  nodeB.apiKey = nodeA.apiKey;
});

after(async () => {
  await Promise.allSettled([nodeB?.stop(), nodeA?.stop(), smtp?.stop()]);
  s3?.stop();
  if (sharedDir) fs.rmSync(sharedDir, { recursive: true, force: true });
});

test('created on A, uploaded through B, signed through A, downloaded from B', async () => {
  assert.ok(nodeA.apiKey, nodeA.logs());
  assert.equal(fs.existsSync(path.join(sharedDir, 'firmo.db')), false, 'no SQLite with PostgreSQL');
  const a = api(nodeA);
  const b = api(nodeB);
  const dossier = await a.post('/api/v1/dossiers', {
    title: 'Two nodes', documents_metadata: [{ title: 'Contract', signature_fields: [
      { attrs: { unique_name: 'Signature1' },
        clause: { title: 'I accept the contract', type: 'REQUIRED' } }] }],
  });
  const to = 'two.nodes@example.org';
  const signer = await a.post('/api/v1/signers', { email: to, name: 'Tina Twonodes' });
  const created = await a.post('/api/v1/signature-requests',
                               { dossier_id: dossier.id, signer_id: signer.id });
  // Node B sees A's request at once (one database) and hands out the upload URL.
  const uploadUrl = await b.get(
    `/api/v1/signature-requests/${created.id}/documents/${created.documents[0].id}/upload_url`);
  assert.ok(uploadUrl.startsWith(nodeB.url));
  await b.uploadPdf(uploadUrl, await makePdf({ pages: 2 }));
  for (let i = 0; ; i++) {
    const r = await a.get(`/api/v1/signature-requests/${created.id}`);
    if (r.documents[0].status === 'READY') break;
    assert.notEqual(r.documents[0].status, 'REJECTED', JSON.stringify(r.documents[0]));
    assert.ok(i < 300, 'validation did not finish');
    await new Promise((res) => setTimeout(res, 50));
  }
  await a.put(`/api/v1/signature-requests/${created.id}/status`, 'READY');
  const request = await a.get(`/api/v1/signature-requests/${created.id}`);

  // The signer's ceremony through node A (JSON signer API); the session lives in the database.
  const link = request.signers[0].portal_url.split('/l/')[1];
  const call = async (node, method, p, body, token) => {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`${node.url}${p}`, { method, headers,
                                                 body: body && JSON.stringify(body) });
    assert.ok(res.status < 300, `${method} ${p}: ${res.status} ${await res.clone().text()}`);
    return res.status === 204 ? null : res.json();
  };
  await call(nodeA, 'POST', '/api/v1/signer/codes', { link_token: link });
  const code = codeFrom(await smtp.waitFor((m) => m.to.includes(to), 10000));
  // Logged in through B, carried on through A: any node serves any session.
  const { session_token: token } =
    await call(nodeB, 'POST', '/api/v1/signer/sessions', { link_token: link, code });
  await call(nodeA, 'GET', `/api/v1/signer/signature-requests/${created.id}`, undefined, token);
  await call(nodeA, 'POST', `/api/v1/signer/signature-requests/${created.id}/acceptance`,
             { accepted: [{ document_index: 0, field_index: 0 }] }, token);
  const confirm = codeFrom(await smtp.waitFor((m) => m.to.includes(to) && /confirm/.test(m.subject),
                                              10000));
  await call(nodeA, 'POST', `/api/v1/signer/signature-requests/${created.id}/confirmation`,
             { code: confirm }, token);
  let signed;
  for (let i = 0; i < 300; i++) {
    signed = await b.get(`/api/v1/signature-requests/${created.id}`);
    if (signed.status === 'SIGNED') break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(signed.status, 'SIGNED');
  assert.ok(signed.documents[0].url.startsWith(nodeB.url));
  const res = await fetch(signed.documents[0].url);
  assert.equal(res.status, 200);
  const file = path.join(sharedDir, 'signed.pdf');
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  const report = await pdfsigCheck(file, { firmo: nodeA });
  assert.equal(report.signatures.length, 1, report.output);
  assert.ok(report.signatures[0].valid && report.signatures[0].trusted, report.output);
  assert.equal(report.signatures[0].signerName, 'Tina Twonodes');
  // The documents are in the object store, not in a node's folder.
  assert.equal(fs.existsSync(path.join(sharedDir, 'documents', 'requests')), false);
});
