// Signing-ceremony benchmark: N signers each go through the JSON signer API (login code,
// read, accept, confirmation code) on the real binary; measures the API time of a ceremony and
// the time from confirmation to SIGNED (the background signing job: a certificate per
// signature, two PAdES signatures per document). Prints one summary line.
//
//   FIRMO_BIN=build/release/firmo node bench/ceremony_bench.mjs [N] [DOCS_PER_REQUEST]
import { performance } from 'node:perf_hooks';

import { startFirmo, startSmtpSink } from '../tests/browser/harness.mjs';
import { codeFrom, readyRequest } from '../tests/browser/flows.mjs';

const n = Number(process.argv[2] || 20);
const smtp = await startSmtpSink();
const firmo = await startFirmo({
  args: ['--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-starttls', 'none',
         '--log-level', 'warn'],
});

async function call(method, p, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${firmo.url}${p}`, { method, headers, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

const ceremony = [];
const signing = [];
try {
  for (let i = 0; i < n; i++) {
    const to = `bench${i}@example.org`;
    const { client, request } = await readyRequest(firmo, { signers: [{ who: { email: to } }] });
    const link = request.signers[0].portal_url.split('/l/')[1];
    const t0 = performance.now();
    await call('POST', '/api/v1/signer/codes', { link_token: link });
    const code = codeFrom(await smtp.waitFor((m) => m.to.includes(to), 10000));
    const { session_token: token } =
      await call('POST', '/api/v1/signer/sessions', { link_token: link, code });
    const id = request.id;
    await fetch(`${firmo.url}/api/v1/signer/signature-requests/${id}`,
                { headers: { Authorization: `Bearer ${token}` } });
    await call('POST', `/api/v1/signer/signature-requests/${id}/acceptance`,
               { accepted: [{ document_index: 0, field_index: 0 },
                            { document_index: 0, field_index: 1 }] }, token);
    const confirm = codeFrom(await smtp.waitFor(
      (m) => m.to.includes(to) && /confirm/.test(m.subject), 10000));
    await call('POST', `/api/v1/signer/signature-requests/${id}/confirmation`, { code: confirm },
               token);
    const t2 = performance.now();
    for (;;) {
      if ((await client.get(`/api/v1/signature-requests/${id}`)).status === 'SIGNED') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const t3 = performance.now();
    ceremony.push(t2 - t0);
    signing.push(t3 - t2);
  }
} finally {
  await firmo.stop();
  await smtp.stop();
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1,
                                                              Math.floor(p * xs.length))];
const f = (x) => x.toFixed(1);
console.log(`ceremony_bench: n=${n} ceremony_api_ms p50=${f(pct(ceremony, 0.5))} ` +
            `p95=${f(pct(ceremony, 0.95))} confirm_to_signed_ms p50=${f(pct(signing, 0.5))} ` +
            `p95=${f(pct(signing, 0.95))} (2 signatures, 1 two-page document, SMTP on loopback)`);
