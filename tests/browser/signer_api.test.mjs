// The JSON signer API a mobile app uses instead of the pages: link + code login, read, accept,
// confirm, sign, download; errors are problem+json. No browser needed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  longTermCheck, pdfsigCheck, signatureTimestampsCheck, startFirmo, startSmtpSink,
} from './harness.mjs';
import { codeFrom, readyRequest } from './flows.mjs';

let firmo;
let smtp;

before(async () => {
  smtp = await startSmtpSink();
  firmo = await startFirmo({
    args: ['--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-starttls', 'none'],
  });
});

after(async () => {
  await Promise.allSettled([firmo?.stop(), smtp?.stop()]);
});

async function call(method, p, { body, token, expect } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${firmo.url}${p}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json()
             : type.includes('pdf') ? Buffer.from(await res.arrayBuffer()) : await res.text();
  if (expect !== undefined) assert.equal(res.status, expect, `${method} ${p}: ${JSON.stringify(data)}`);
  return { status: res.status, data, type };
}

test('a mobile app signs through the JSON signer API', async () => {
  const to = 'app.user@example.org';
  const { client, request } = await readyRequest(firmo, {
    signers: [{ who: { email: to, name: 'App User' } }],
  });
  const link = request.signers[0].portal_url.split('/l/')[1];

  let r = await call('POST', '/api/v1/signer/codes', { body: { link_token: link }, expect: 202 });
  assert.equal(r.data.channel, 'email');
  assert.equal(r.data.destination, 'a***@example.org');
  const code = codeFrom(await smtp.waitFor((m) => m.to.includes(to), 10000));
  r = await call('POST', '/api/v1/signer/codes', { body: { link_token: link }, expect: 429 });
  assert.equal(r.type, 'application/problem+json');

  r = await call('POST', '/api/v1/signer/sessions',
                 { body: { link_token: link, code: code === '000000' ? '111111' : '000000' },
                   expect: 401 });
  assert.match(r.data.detail, /4 tries left/);
  r = await call('POST', '/api/v1/signer/sessions', { body: { link_token: link, code }, expect: 201 });
  const token = r.data.session_token;
  assert.equal(r.data.request_id, request.id);

  await call('GET', `/api/v1/signer/signature-requests/${request.id}`, { expect: 401 });
  const plain = await fetch(`${firmo.url}/api/v1/signer/inbox`);
  assert.equal(plain.headers.get('www-authenticate'), 'Bearer realm="firmo-signer"');
  r = await call('GET', `/api/v1/signer/signature-requests/${request.id}`, { token, expect: 200 });
  assert.equal(r.data.can_sign, true);
  assert.equal(r.data.second_factor, 'code');
  assert.deepEqual(r.data.documents[0].fields.map((f) => f.clause.type),
                   ['REQUIRED', 'UNFAIR', 'OPTIONAL']);
  const content = await call('GET', r.data.documents[0].content_url, { token, expect: 200 });
  assert.equal(content.data.subarray(0, 5).toString(), '%PDF-');
  // The signer's copy (issue 16): the signed PDF only once the request is SIGNED.
  const copyPath = `/api/v1/signer/requests/${request.id}/documents/${request.documents[0].id}/content`;
  r = await call('GET', copyPath, { token, expect: 409 });
  assert.equal(r.type, 'application/problem+json');
  assert.match(r.data.detail, /once every signer has signed/);
  await call('GET', copyPath, { expect: 401 });

  r = await call('POST', `/api/v1/signer/signature-requests/${request.id}/acceptance`,
                 { token, body: { accepted: [{ document_index: 0, field_index: 0 }] }, expect: 422 });
  assert.ok(r.data.violations.some((v) => /unfair/.test(v.reason)));
  r = await call('POST', `/api/v1/signer/signature-requests/${request.id}/confirmation`,
                 { token, body: { code: '123456' }, expect: 409 });
  r = await call('POST', `/api/v1/signer/signature-requests/${request.id}/acceptance`,
                 { token, body: { accepted: [{ document_index: 0, field_index: 0 },
                                             { document_index: 0, field_index: 1 },
                                             { document_index: 0, field_index: 2 }] },
                   expect: 200 });
  assert.equal(r.data.code_sent_to, 'a***@example.org');
  const confirm = codeFrom(await smtp.waitFor((m) => m.to.includes(to) && /confirm|conferm|bekreft/.test(m.subject),
                                              10000));
  await call('POST', `/api/v1/signer/signature-requests/${request.id}/confirmation`,
             { token, body: { code: confirm }, expect: 202 });
  let status;
  for (let i = 0; i < 200; i++) {
    status = (await client.get(`/api/v1/signature-requests/${request.id}`)).status;
    if (status === 'SIGNED') break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(status, 'SIGNED');
  r = await call('GET', `/api/v1/signer/signature-requests/${request.id}/documents/${request.documents[0].id}/content`,
                 { token, expect: 200 });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-app-')), 'signed.pdf');
  fs.writeFileSync(file, r.data);
  const copy = await call('GET', copyPath, { token, expect: 200 });
  assert.equal(copy.type, 'application/pdf');
  assert.deepEqual(copy.data, r.data);
  const report = await pdfsigCheck(file, { firmo });
  assert.equal(report.signatures.length, 3, report.output);  // the optional clause was accepted
  assert.ok(report.signatures.every((s) => s.valid && s.trusted && s.signerName === 'App User'),
            report.output);
  // Every signature is time-stamped (PAdES B-T) by the built-in TSA; OpenSSL verifies it.
  const stamps = await signatureTimestampsCheck(file, { firmo });
  assert.equal(stamps.length, 3);
  assert.ok(stamps.every((s) => s.stamped && s.verified), JSON.stringify(stamps));
  // ... and B-LTA: a DSS whose OCSP responses (signer certificates, TSA) OpenSSL verifies,
  // then a document time-stamp over the whole file.
  assert.equal(report.documentTimestamps.length, 1, report.output);
  assert.ok(report.documentTimestamps[0].fullyCovered, report.output);
  const lt = await longTermCheck(file, { firmo });
  assert.equal(lt.ocsp.length, 4, JSON.stringify(lt));  // three signer certificates and the TSA's
  assert.ok(lt.ocsp.every((o) => o.verified), JSON.stringify(lt));
  assert.equal(lt.crls, 1);
  assert.equal(lt.documentTimestamps.length, 1);
  assert.ok(lt.documentTimestamps[0].verified, lt.documentTimestamps[0].output);

  await call('DELETE', '/api/v1/signer/session', { token, expect: 204 });
  await call('GET', '/api/v1/signer/inbox', { token, expect: 401 });
});

test('signer API bad input: wrong shapes, forged link, other request', async () => {
  let r = await call('POST', '/api/v1/signer/sessions', { body: { code: '1' }, expect: 422 });
  assert.equal(r.type, 'application/problem+json');
  r = await call('POST', '/api/v1/signer/codes', { body: [], expect: 422 });
  r = await call('POST', '/api/v1/signer/codes', { body: { link_token: 'forged' }, expect: 403 });
  r = await call('POST', '/api/v1/signer/sessions', { body: { redirect_token: 'nope' }, expect: 403 });
  const res = await fetch(`${firmo.url}/api/v1/signer/codes`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"link_token":',
  });
  assert.equal(res.status, 400);
});
