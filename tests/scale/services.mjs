// What the scale tests share: the loopback S3 server (tests/s3/start.mjs) and a signer's
// whole ceremony through the JSON signer API.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

import { repoRoot } from '../browser/harness.mjs';
import { codeFrom } from '../browser/flows.mjs';

// s3rver behind a strict SigV4 check, bucket `firmo-test`, credentials S3RVER / S3RVER.
// tests/s3/start.mjs, with its stdin control: hold(substring) makes GETs of matching keys wait
// until release(); waitForLine() finds the first matching line from line number `from` on, as
// printed so far or later (its result's `line` is that line's number).
export async function startS3() {
  const proc = spawn(process.execPath, [path.join(repoRoot, 'tests/s3/start.mjs')],
                     { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  const waiters = new Set();
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters) w();
  });
  const waitForLine = (pattern, { from = 0, timeoutMs = 30000, what = String(pattern) } = {}) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const i = lines.findIndex((l, n) => n >= from && pattern.test(l));
        if (i < 0) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(Object.assign(lines[i].match(pattern), { line: i }));
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`S3 server printed no line ${what} in ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const exited = new Promise((_, reject) => {
    proc.once('exit', () => reject(new Error('S3 server exited')));
  });
  const [, endpoint] = await Promise.race([waitForLine(/^S3 endpoint: (\S+)/), exited]);
  const command = async (text, ack) => {
    const from = lines.length;
    proc.stdin.write(`${text}\n`);
    return waitForLine(ack, { from, timeoutMs: 10000, what: `acknowledging '${text}'` });
  };
  return {
    endpoint,
    lines,
    waitForLine,
    hold: (substring) => command(`hold ${substring}`, new RegExp(`^hold: ${substring}$`)),
    release: async () => Number((await command('release', /^released: (\d+)$/))[1]),
    stop: () => proc.kill('SIGTERM'),
  };
}

// One signer with an e-mail signs a READY request through the signer API: code by mail, a
// session, acceptance of the first field's clause, the confirmation code. `nodes` lists the
// node for each step in turn (any node serves any session); one node for all by default.
export async function signWithSignerApi(request, { smtp, to, nodes }) {
  const [login, session, ceremony] = [nodes[0], nodes[1] ?? nodes[0], nodes[2] ?? nodes[0]];
  const call = async (node, method, p, body, token) => {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`${node.url}${p}`, { method, headers,
                                                 body: body && JSON.stringify(body) });
    assert.ok(res.status < 300, `${method} ${p}: ${res.status} ${await res.clone().text()}`);
    return res.status === 204 ? null : res.json();
  };
  const link = request.signers[0].portal_url.split('/l/')[1];
  await call(login, 'POST', '/api/v1/signer/codes', { link_token: link });
  const code = codeFrom(await smtp.waitFor((m) => m.to.includes(to), 10000));
  const { session_token: token } =
    await call(session, 'POST', '/api/v1/signer/sessions', { link_token: link, code });
  await call(ceremony, 'GET', `/api/v1/signer/signature-requests/${request.id}`, undefined, token);
  await call(ceremony, 'POST', `/api/v1/signer/signature-requests/${request.id}/acceptance`,
             { accepted: [{ document_index: 0, field_index: 0 }] }, token);
  const confirm = codeFrom(await smtp.waitFor((m) => m.to.includes(to) && /confirm/.test(m.subject),
                                              10000));
  await call(ceremony, 'POST', `/api/v1/signer/signature-requests/${request.id}/confirmation`,
             { code: confirm }, token);
}

// Polls until `done(value)` (value = await get()) or fails after `tries` x 50 ms.
export async function waitFor(get, done, what, tries = 300) {
  for (let i = 0; ; i++) {
    const value = await get();
    if (done(value)) return value;
    assert.ok(i < tries, `${what} did not happen: ${JSON.stringify(value)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
