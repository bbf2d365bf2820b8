// Webhook delivery benchmark: N requests are cancelled through the issuer API (each cancel is
// one signature_request.cancelled event written to the outbox in the cancel's transaction) and
// an HTTP sink on loopback receives the signed webhook calls. Measures the latency from the
// cancel's answer to the sink's receipt, and the delivery rate. Prints one summary line.
//
//   FIRMO_BIN=build/release/firmo node bench/webhook_bench.mjs [N] [DELIVERY_THREADS]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';

import { api, repoRoot, startFirmo } from '../tests/browser/harness.mjs';

const n = Number(process.argv[2] || 300);
const threads = process.argv[3] || '1';

const sink = spawn('/usr/bin/python3', [path.join(repoRoot, 'tests/http_sink/sink.py'), '--stdout'],
                   { stdio: ['ignore', 'pipe', 'inherit'] });
const arrivals = new Map();
const port = await new Promise((resolve) => {
  readline.createInterface({ input: sink.stdout }).on('line', (line) => {
    const ready = /^READY (\d+)/.exec(line);
    if (ready) return resolve(Number(ready[1]));
    const req = JSON.parse(line);
    arrivals.set(JSON.parse(req.body).data.signature_request_id, performance.now());
  });
});
// The sink is on loopback, which webhooks may not call by default (SSRF).
const firmo = await startFirmo({ args: ['--log-level', 'warn', '--delivery-threads', threads,
                                        '--webhook-allow-private', 'true'] });
try {
  const client = api(firmo);
  await client.post('/api/v1/webhooks', { url: `http://127.0.0.1:${port}/hook` });
  const dossier = await client.post('/api/v1/dossiers', {
    title: 'Bench', documents_metadata: [{ title: 'Doc', signature_fields: [] }],
  });
  const signer = await client.post('/api/v1/signers', { email: 'bench@example.org' });
  const ids = [];
  for (let i = 0; i < n; i++) {
    ids.push((await client.post('/api/v1/signature-requests',
                                { dossier_id: dossier.id, signer_id: signer.id })).id);
  }
  const sent = new Map();
  const t0 = performance.now();
  for (const id of ids) {
    await client.put(`/api/v1/signature-requests/${id}/status`, 'CANCELLED');
    sent.set(id, performance.now());
  }
  while (arrivals.size < n) await new Promise((r) => setTimeout(r, 5));
  const t1 = Math.max(...arrivals.values());
  const lat = ids.map((id) => arrivals.get(id) - sent.get(id)).sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(1);
  console.log(`webhook_bench: n=${n} delivery_threads=${threads} ` +
              `rate=${(n / ((t1 - t0) / 1000)).toFixed(0)}/s latency_ms p50=${pct(0.5)} ` +
              `p95=${pct(0.95)} max=${lat[lat.length - 1].toFixed(1)}`);
} finally {
  await firmo.stop();
  sink.kill('SIGTERM');
}
