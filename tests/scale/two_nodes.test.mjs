// Two `firmo serve` nodes on one PostgreSQL (private cluster from scripts/with-postgres.sh) and
// one S3 object store (s3rver behind a strict SigV4 check, tests/s3/start.mjs): a request
// created on node A gets its document through node B's upload URL, is validated by whichever
// node claims the job, is signed through node A, and its signed PDF downloads from node B and
// passes pdfsig. Then a node is killed in the middle of a validation and the other one finishes
// it (that test has its own two nodes and database, and stays last). Run by ctest as
// `scale.two_nodes` under scripts/with-postgres.sh.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { api, makePdf, pdfsigCheck, startFirmo, startSmtpSink } from '../browser/harness.mjs';
import { signWithSignerApi, startS3, waitFor } from './services.mjs';

const pgUrl = process.env.FIRMO_TEST_POSTGRES_URL;
let s3;
let smtp;
let nodeA;
let nodeB;
let sharedDir;
const clusters = [];  // every startCluster() result, stopped by after()

// Two nodes on a new database of the cluster and one data folder (both nodes share the CA, as
// they would share the CA files or a PKCS#11 token in production), documents under `prefix` in
// the S3 bucket. Node `a` bootstraps the issuer and its API key; `b` uses the same key.
async function startCluster(prefix, extraArgs = []) {
  const db = `firmo_${prefix.replace(/-/g, '_')}_${crypto.randomBytes(4).toString('hex')}`;
  execFileSync('psql', [pgUrl, '-q', '-c', `CREATE DATABASE ${db}`]);
  const url = new URL(pgUrl);
  url.pathname = `/${db}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `firmo-${prefix}-`));
  const args = ['--database-url', url.toString(), '--storage-url', `s3://firmo-test/${prefix}`,
                '--s3-endpoint', s3.endpoint, '--s3-access-key', 'S3RVER',
                '--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-starttls', 'none',
                ...extraArgs];
  const env = { FIRMO_S3_SECRET_KEY: 'S3RVER' };
  const cluster = { databaseUrl: url.toString(), dir };
  clusters.push(cluster);
  cluster.a = await startFirmo({ args, env, dataDir: dir });
  cluster.b = await startFirmo({ args, env, dataDir: dir });
  cluster.b.apiKey = cluster.a.apiKey;
  return cluster;
}

before(async () => {
  assert.ok(pgUrl, 'run under scripts/with-postgres.sh (FIRMO_TEST_POSTGRES_URL)');
  [s3, smtp] = await Promise.all([startS3(), startSmtpSink()]);
  const cluster = await startCluster('two-nodes');
  [nodeA, nodeB, sharedDir] = [cluster.a, cluster.b, cluster.dir];
});

after(async () => {
  // stop() of a node killed by a test returns at once.
  await Promise.allSettled(clusters.flatMap((c) => [c.b?.stop(), c.a?.stop()]));
  await smtp?.stop();
  s3?.stop();
  for (const c of clusters) fs.rmSync(c.dir, { recursive: true, force: true });
});

// A dossier with one document and one signer, and a DRAFT request for it, created through `node`.
async function createRequest(node, title, email) {
  const client = api(node);
  const dossier = await client.post('/api/v1/dossiers', {
    title, documents_metadata: [{ title: 'Contract', signature_fields: [
      { attrs: { unique_name: 'Signature1' },
        clause: { title: 'I accept the contract', type: 'REQUIRED' } }] }],
  });
  const signer = await client.post('/api/v1/signers', { email, name: 'Tina Twonodes' });
  return client.post('/api/v1/signature-requests', { dossier_id: dossier.id, signer_id: signer.id });
}

// Polls the request through `node` until its document is READY (fails if it is REJECTED).
async function waitUntilReady(node, requestId) {
  for (let i = 0; ; i++) {
    const r = await api(node).get(`/api/v1/signature-requests/${requestId}`);
    if (r.documents[0].status === 'READY') return r;
    assert.notEqual(r.documents[0].status, 'REJECTED', JSON.stringify(r.documents[0]));
    assert.ok(i < 600, `validation did not finish: ${JSON.stringify(r.documents[0])}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

test('created on A, uploaded through B, signed through A, downloaded from B', async () => {
  assert.ok(nodeA.apiKey, nodeA.logs());
  assert.equal(fs.existsSync(path.join(sharedDir, 'firmo.db')), false, 'no SQLite with PostgreSQL');
  const a = api(nodeA);
  const b = api(nodeB);
  const to = 'two.nodes@example.org';
  const created = await createRequest(nodeA, 'Two nodes', to);
  // Node B sees A's request at once (one database) and hands out the upload URL.
  const uploadUrl = await b.get(
    `/api/v1/signature-requests/${created.id}/documents/${created.documents[0].id}/upload_url`);
  assert.ok(uploadUrl.startsWith(nodeB.url));
  await b.uploadPdf(uploadUrl, await makePdf({ pages: 2 }));
  await waitUntilReady(nodeA, created.id);
  await a.put(`/api/v1/signature-requests/${created.id}/status`, 'READY');
  const request = await a.get(`/api/v1/signature-requests/${created.id}`);

  // The signer's ceremony (JSON signer API): code asked through A, logged in through B, carried
  // on through A; the session lives in the database, so any node serves it.
  await signWithSignerApi(request, { smtp, to, nodes: [nodeA, nodeB, nodeA] });
  const signed = await waitFor(() => b.get(`/api/v1/signature-requests/${created.id}`),
                               (r) => r.status === 'SIGNED', 'signing');
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

// Keep this test last: it kills one of its nodes. It has its own two nodes (with a 3 s job lease,
// so the takeover comes soon) and its own database, so the test above does not depend on it.
test('a node killed while validating: the other node finishes the work, once', async () => {
  const leaseMs = 3000;
  const cluster = await startCluster('two-nodes-kill', ['--job-lease-ms', String(leaseMs)]);
  const nodes = [cluster.a, cluster.b];
  const created = await createRequest(cluster.a, 'Killed node', 'killed.node@example.org');
  const jobRow = () => {
    const out = execFileSync('psql', [
      cluster.databaseUrl, '-At', '-F', '|', '-c',
      'SELECT leased_by, lease_until, attempts, done FROM jobs ' +
        `WHERE request_id = '${created.id}' AND kind = 'validate_document'`,
    ]).toString().trim();
    if (!out) return null;
    assert.equal(out.split('\n').length, 1, `one validation job: ${out}`);
    const [leasedBy, leaseUntil, attempts, done] = out.split('|');
    return { leasedBy, leaseUntil: Number(leaseUntil), attempts: Number(attempts),
             done: done === 't' };
  };
  // Polls the job row until `ready(row)`; bounded, so a hang fails with the row it last saw.
  const waitForJob = async (ready, what) => {
    let row;
    for (let i = 0; i < 600; i++) {
      row = jobRow();
      if (row && ready(row)) return row;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.fail(`${what}: job row ${JSON.stringify(row)}`);
  };
  const nodeOf = (leasedBy) => {
    const m = /^(.+)-(\d+)$/.exec(leasedBy);
    assert.ok(m, `leased_by is <host>-<pid>: ${leasedBy}`);
    // The worker id names this host (cut at its first dot, to 32 characters) and the pid.
    assert.equal(m[1], os.hostname().split('.')[0].slice(0, 32) || 'node');
    const node = nodes.find((n) => n.proc.pid === Number(m[2]));
    assert.ok(node, `leased_by ${leasedBy} is one of the nodes (${nodes.map((n) => n.proc.pid)})`);
    return node;
  };

  // Reads of this request's documents from S3 wait until released; the upload (a PUT) goes on.
  await s3.hold(created.id);
  const heldGet = new RegExp(`^held: GET \\S*/${created.id}/`);
  const uploadUrl = await api(cluster.b).get(
    `/api/v1/signature-requests/${created.id}/documents/${created.documents[0].id}/upload_url`);
  await api(cluster.b).uploadPdf(uploadUrl, await makePdf({ pages: 1 }));

  // A node claims the job and is stuck reading the document: that node dies.
  const first = await waitForJob((r) => r.attempts >= 1, 'the validation job was not claimed');
  assert.equal(first.attempts, 1);
  assert.equal(first.done, false);
  const firstRead = await s3.waitForLine(heldGet, { what: 'holding the first node\'s GET' });
  const victim = nodeOf(first.leasedBy);
  const survivor = nodes.find((n) => n !== victim);
  await victim.kill9();
  assert.equal(victim.proc.signalCode, 'SIGKILL');

  // Once the lease has ended the survivor claims the job and reads the document (still held,
  // so the row shows its claim before it completes).
  await s3.waitForLine(heldGet, { from: firstRead.line + 1, what: 'holding the survivor\'s GET' });
  const second = jobRow();
  assert.equal(second.attempts, 2, JSON.stringify(second));
  assert.equal(second.done, false);
  assert.equal(nodeOf(second.leasedBy), survivor, 're-claimed by the other node');
  assert.ok(second.leaseUntil - leaseMs >= first.leaseUntil,
            `re-claimed at ${second.leaseUntil - leaseMs}, before the first lease ended at ` +
            `${first.leaseUntil}: the job ran twice at once`);
  // Two reads in all, one per claim; the dead node's was dropped, only the survivor's answered.
  assert.equal(s3.lines.filter((l) => heldGet.test(l)).length, 2);
  assert.equal(await s3.release(), 1);

  const ready = await waitUntilReady(survivor, created.id);
  assert.equal(ready.documents[0].page_count, 1);
  const done = await waitForJob((r) => r.done, 'the job was not completed');
  assert.equal(done.attempts, 2, 'no third attempt');
  assert.equal(done.leasedBy, second.leasedBy);
  // One validation result in the audit log: the dead node stored nothing.
  const { items } = await api(survivor).get(`/api/v1/signature-requests/${created.id}/events`);
  const count = (type) => items.filter((e) => e.type === type).length;
  assert.equal(count('document.uploaded'), 1, JSON.stringify(items));
  assert.equal(count('document.ready'), 1, JSON.stringify(items));
  assert.equal(count('document.rejected'), 0, JSON.stringify(items));
  assert.equal(items.find((e) => e.type === 'document.ready').actor, 'worker');

  // The survivor goes on serving the request.
  await api(survivor).put(`/api/v1/signature-requests/${created.id}/status`, 'READY');
  const request = await api(survivor).get(`/api/v1/signature-requests/${created.id}`);
  assert.equal(request.status, 'READY');
  assert.equal(request.documents[0].status, 'READY');
});
