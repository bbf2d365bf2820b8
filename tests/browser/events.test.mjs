// Notifications and events on the real binary, against real servers on loopback: an SMTP
// server (aiosmtpd) for e-mail, an HTTP sink for the SMS gateway and webhooks. Webhook
// signatures are checked, a 500 is retried, nothing is delivered twice, a kill -9 between the
// state change and the delivery loses nothing; the polling queue; reminders and expiry.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, test } from 'node:test';

import { api, repoRoot, startFirmo, startSmtpSink } from './harness.mjs';
import { readyRequest } from './flows.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startHttpSink() {
  const proc = spawn('/usr/bin/python3', [path.join(repoRoot, 'tests/http_sink/sink.py'), '--stdout'],
                     { stdio: ['ignore', 'pipe', 'inherit'] });
  const received = [];
  const lines = readline.createInterface({ input: proc.stdout });
  const port = await new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      const ready = /^READY (\d+)/.exec(line);
      if (ready) resolve(Number(ready[1]));
      else if (line.startsWith('{')) received.push(JSON.parse(line));
    });
    proc.once('exit', () => reject(new Error('HTTP sink exited')));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    received,
    control: (plan) => fetch(`${url}/_control`, { method: 'POST', body: JSON.stringify(plan) }),
    // The matching requests once there are at least `count` of them.
    async waitFor(predicate, ms = 10000, count = 1) {
      for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
        const found = received.filter(predicate);
        if (found.length >= count) return found;
      }
      throw new Error(`nothing matching within ${ms} ms: ${JSON.stringify(received)}`);
    },
    stop: () => proc.kill('SIGTERM'),
  };
}

function header(req, name) {
  const key = Object.keys(req.headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : req.headers[key];
}

function verifySignature(req, secret) {
  const ts = header(req, 'Firmo-Timestamp');
  const expected = crypto.createHmac('sha256', secret).update(`${ts}.${req.body}`).digest('hex');
  const got = (header(req, 'Firmo-Signature') || '').replace(/^v1=/, '');
  return got.length === expected.length &&
         crypto.timingSafeEqual(Buffer.from(got), Buffer.from(expected));
}

let smtp;
let sink;
let firmo;

before(async () => {
  [smtp, sink] = await Promise.all([startSmtpSink(), startHttpSink()]);
  firmo = await startFirmo({
    args: ['--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-starttls', 'none',
           '--sms-url', `${sink.url}/sms`, '--sms-auth-header', 'Authorization: Bearer sms-key',
           '--retry-base-ms', '200', '--poll-empty-interval-ms', '300',
           '--poll-redeliver-after', '1', '--reminders', 'email:48h',
           // The sink is on loopback, which webhooks may not call by default (SSRF).
           '--webhook-allow-private', 'true'],
  });
});

after(async () => {
  await Promise.allSettled([firmo?.stop(), smtp?.stop()]);
  sink?.stop();
});

test('webhooks: signed, retried after a 500, never twice, logged, redelivered on request',
     async () => {
  const client = api(firmo);
  const hook = await client.post('/api/v1/webhooks', {
    url: `${sink.url}/hooks/a`, events: ['signature_request.ready', 'signature_request.cancelled'],
  });
  assert.match(hook.secret, /^whsec_/);
  await sink.control({ status: 500, times: 1 });
  const { request } = await readyRequest(firmo, { signers: [{ who: { email: 'wh@example.org' } }] });
  const isHook = (r) => r.path === '/hooks/a';
  // The first call (answered 500) and its retry; then nothing else may come.
  await sink.waitFor(isHook, 10000, 2);
  await sleep(1000);
  const calls = sink.received.filter(isHook);
  assert.equal(calls.length, 2, JSON.stringify(calls));
  const body = JSON.parse(calls[0].body);
  assert.equal(body.data.signature_request_id, request.id);
  assert.equal(body.type, 'signature_request.ready');
  assert.equal(calls[1].body, calls[0].body);
  assert.equal(header(calls[0], 'Firmo-Event-Id'), body.id);
  for (const c of calls) assert.ok(verifySignature(c, hook.secret), 'bad signature');
  assert.ok(!verifySignature(calls[0], `${hook.secret}x`));

  const log = await client.get('/api/v1/webhooks/deliveries');
  const entry = log.items.find((d) => d.event_id === body.id);
  assert.equal(entry.status, 'delivered');
  assert.equal(entry.attempts, 2);
  assert.match(entry.last_response, /HTTP 200/);
  await client.post(`/api/v1/webhooks/deliveries/${entry.id}/redeliver`, {}, { expect: 202 });
  const sent = await sink.waitFor(isHook, 10000, 3);
  assert.equal(header(sent[2], 'Firmo-Event-Id'), body.id);
  // Endpoints can be removed; a bad URL or event type is refused.
  await client.delete(`/api/v1/webhooks/${hook.id}`, { expect: 204 });
  assert.deepEqual((await client.get('/api/v1/webhooks')).items, []);
  await client.post('/api/v1/webhooks', { url: 'ftp://example.org' }, { expect: 422 });
  await client.post('/api/v1/webhooks', { url: `${sink.url}/x`, events: ['nope'] }, { expect: 422 });
});

test('notification by e-mail and SMS: once, with the link and the non-sensitive title only',
     async () => {
  const to = 'notified@example.org';
  const { client, request } = await readyRequest(firmo, {
    signers: [{ who: { email: to, phone: '+393331234567', name: 'Nora Notified' } }],
  });
  const first = await client.put(`/api/v1/signature-requests/${request.id}/notification`, null,
                                 { expect: 201 });
  const again = await client.put(`/api/v1/signature-requests/${request.id}/notification`, null,
                                 { expect: 201 });
  assert.equal(again.io_message_id, first.io_message_id);
  const mail = await smtp.waitFor((m) => m.to.includes(to) && !/code/i.test(m.subject), 10000);
  assert.match(mail.subject, /Contract 2026|Default issuer|firma|sign/i);
  assert.ok(mail.text.includes(request.signers[0].portal_url), mail.text);
  assert.ok(mail.html.includes(request.signers[0].portal_url.replace(/&/g, '&amp;')));
  assert.ok(!mail.text.includes('Service contract'), 'document titles stay out of messages');
  // Italian (+39), with the deadline on the signer's clock, the zone named.
  assert.match(mail.text, /Firma entro il \d{1,2} \p{L}+ \d{4}, \d\d:\d\d \(Ora Italia\)/u, mail.text);
  // SMS: sent now, or deferred to 08:00 local time in Italy (quiet hours) — both are logged.
  const deadline = Date.now() + 5000;
  let sms;
  let log;
  while (Date.now() < deadline) {
    sms = sink.received.find((r) => r.path === '/sms');
    log = (await client.get('/api/v1/notifications/deliveries?channel=sms')).items
      .find((d) => d.signature_request_id === request.id);
    const deferred = log && log.status === 'pending' && log.attempts === 0 &&
                     Date.parse(log.next_attempt_at) - Date.parse(log.created_at) > 60000;
    if (sms || deferred) break;
    await sleep(100);
  }
  if (sms) {
    assert.equal(header(sms, 'Authorization'), 'Bearer sms-key');
    const payload = JSON.parse(sms.body);
    assert.equal(payload.to, '+393331234567');
    assert.ok(payload.text.includes(request.signers[0].portal_url), payload.text);
  } else {
    const hour = new Date(log.next_attempt_at).getUTCHours();
    assert.ok(hour === 6 || hour === 7, `deferred to 08:00 Rome: ${log.next_attempt_at}`);
  }
  await sleep(500);
  const notices = (await smtp.messages()).filter((m) => m.to.includes(to) &&
                                                       !/code/i.test(m.subject));
  assert.equal(notices.length, 1, JSON.stringify(notices.map((m) => m.subject)));
  const emailLog = (await client.get('/api/v1/notifications/deliveries?channel=email')).items
    .filter((d) => d.signature_request_id === request.id);
  assert.equal(emailLog.length, 1);
  assert.equal(emailLog[0].status, 'delivered');
});

test('polling queue: one change at a time, 429 when too early, served again until confirmed',
     async () => {
  const other = await startFirmo({ args: ['--poll-empty-interval-ms', '400',
                                          '--poll-redeliver-after', '1'] });
  try {
    const client = api(other);
    const poll = (expect) => client.request('GET', '/api/v1/status-changes', { expect });
    await poll([204]);
    let res = await fetch(`${other.url}/api/v1/status-changes`, { headers: { 'X-Api-Key': other.apiKey } });
    assert.equal(res.status, 429);
    assert.ok(res.headers.get('x-next-permitted-poll'));
    await sleep(450);
    const { request } = await readyRequest(other, { signers: [{ who: { email: 'poll@example.org' } }] });
    const change = await poll([200]);
    assert.equal(change.event.type, 'signature_request.ready');
    assert.equal(change.event.data.signature_request_id, request.id);
    await poll([204]);  // hidden while served
    await sleep(1200);  // not confirmed: it comes back
    const again = await poll([200]);
    assert.equal(again.id, change.id);
    await client.post(`/api/v1/status-changes/${change.id}/confirm`, {}, { expect: 204 });
    await client.post(`/api/v1/status-changes/${change.id}/confirm`, {}, { expect: 404 });
    await sleep(1200);
    await poll([204]);
  } finally {
    await other.stop();
  }
});

test('kill -9 between the state change and the delivery: delivered once per endpoint',
     async () => {
  const quiet = await startFirmo({ args: ['--delivery-threads', '0'] });
  const client = api(quiet);
  const a = await client.post('/api/v1/webhooks', { url: `${sink.url}/crash/a` });
  const b = await client.post('/api/v1/webhooks', { url: `${sink.url}/crash/b` });
  const { request } = await readyRequest(quiet, { signers: [{ who: { email: 'crash@example.org' } }] });
  await client.put(`/api/v1/signature-requests/${request.id}/status`, 'CANCELLED', { expect: 204 });
  await sleep(300);
  assert.equal(sink.received.filter((r) => r.path.startsWith('/crash/')).length, 0);
  await quiet.kill9();
  const again = await startFirmo({ dataDir: quiet.dataDir,
                                  args: ['--delivery-threads', '1', '--webhook-allow-private', 'true'] });
  try {
    await sink.waitFor((r) => r.path === '/crash/b' &&
                              JSON.parse(r.body).type === 'signature_request.cancelled');
    await sleep(1000);
    for (const [endpoint, hook] of [['/crash/a', a], ['/crash/b', b]]) {
      const calls = sink.received.filter((r) => r.path === endpoint);
      const ids = calls.map((r) => header(r, 'Firmo-Event-Id'));
      assert.equal(new Set(ids).size, ids.length, `duplicates at ${endpoint}: ${ids}`);
      assert.deepEqual(calls.map((r) => JSON.parse(r.body).type).sort(),
                       ['signature_request.cancelled', 'signature_request.ready']);
      assert.ok(calls.every((r) => verifySignature(r, hook.secret)));
    }
  } finally {
    await again.stop();
  }
});

test('reminder before expiry, then the expired notification and webhook', async () => {
  const client = api(firmo);
  const hook = await client.post('/api/v1/webhooks', {
    url: `${sink.url}/expiry`, events: ['signature_request.expired'],
  });
  const to = 'expiring@example.org';
  const dossier = await client.post('/api/v1/dossiers', {
    title: 'Short deadline', documents_metadata: [{ title: 'Form', signature_fields: [] }],
  });
  const signer = await client.post('/api/v1/signers', { email: to });
  const created = await client.post('/api/v1/signature-requests', {
    dossier_id: dossier.id, signer_id: signer.id,
    expires_at: new Date(Date.now() + 14000).toISOString(),
  });
  const { makePdf } = await import('./harness.mjs');
  const uploadUrl = await client.get(`/api/v1/signature-requests/${created.id}/documents/${created.documents[0].id}/upload_url`);
  await client.uploadPdf(uploadUrl, await makePdf());
  for (let i = 0; i < 100; i++) {
    if ((await client.get(`/api/v1/signature-requests/${created.id}`)).documents[0].status === 'READY') break;
    await sleep(50);
  }
  await client.put(`/api/v1/signature-requests/${created.id}/status`, 'READY', { expect: 204 });
  await client.put(`/api/v1/signature-requests/${created.id}/notification`, null, { expect: 201 });
  // --reminders email:48h: the request expires within 48 h, so the next sweep reminds once.
  const reminder = await smtp.waitFor((m) => m.to.includes(to) && /remind|promemoria|påminnelse/i.test(m.subject), 15000);
  assert.ok(reminder.text.includes('/l/'));
  const expired = await smtp.waitFor((m) => m.to.includes(to) && /expired|scadut|utløpt/i.test(m.subject), 25000);
  assert.ok(expired);
  const calls = await sink.waitFor((r) => r.path === '/expiry', 10000);
  assert.equal(JSON.parse(calls[0].body).data.signature_request_id, created.id);
  assert.ok(verifySignature(calls[0], hook.secret));
  const reminders = (await smtp.messages()).filter((m) => m.to.includes(to) && /remind|promemoria|påminnelse/i.test(m.subject));
  assert.equal(reminders.length, 1);
});

test('a signer reached by phone gets the one-time code by SMS, at any hour', async () => {
  const { request } = await readyRequest(firmo, { signers: [{ who: { phone: '+4791234567' } }] });
  const link = request.signers[0].portal_url.split('/l/')[1];
  const res = await fetch(`${firmo.url}/api/v1/signer/codes`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ link_token: link }),
  });
  assert.equal(res.status, 202);
  assert.equal((await res.json()).channel, 'sms');
  const [sms] = await sink.waitFor((r) => r.path === '/sms' && JSON.parse(r.body).to === '+4791234567');
  const text = JSON.parse(sms.body).text;
  assert.match(text, /^\d{6} er din Firmo-kode/);
  const login = await fetch(`${firmo.url}/api/v1/signer/sessions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ link_token: link, code: text.slice(0, 6) }),
  });
  assert.equal(login.status, 201);
});
