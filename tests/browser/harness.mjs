// Harness for Firmo's browser tests (node --test, ES modules): starts the real `firmo` binary
// on a free loopback port, the fakes around it (SMTP sink, OpenID provider), and Debian's
// headless chromium through playwright-core. Mirrors tests/e2e/harness.py.
//
// Needs: FIRMO_BIN (set by ctest; defaults to build/dev/firmo), tests/node/node_modules (the
// build runs `npm ci` there), /usr/bin/chromium, /usr/bin/python3 with python3-aiosmtpd, qpdf,
// pdfsig and certutil. Every helper cleans up after itself when its stop() is called.

import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
export const firmoBin = process.env.FIRMO_BIN || path.join(repoRoot, 'build/dev/firmo');
// Debian's python sees Debian's python3-aiosmtpd; a pyenv shim first on PATH would not.
const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// ---------------------------------------------------------------------------------------------
// Child processes that announce readiness with a line on stdout.

// Resolves with the regex match of the first stdout line matching `pattern`; rejects if the
// process exits first or `timeoutMs` passes. Every stdout line, before and after, is also
// handed to `onLine` for as long as the process runs.
function waitForLine(proc, pattern, timeoutMs, onLine, what) {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: proc.stdout });
    let done = false;
    const finish = (fn, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      proc.off('exit', onExit);
      fn(value);
    };
    const timer = setTimeout(
      () => finish(reject, new Error(`${what} did not become ready in ${timeoutMs} ms`)),
      timeoutMs);
    const onExit = (code, signal) =>
      finish(reject, new Error(`${what} exited early (code ${code}, signal ${signal})`));
    proc.on('exit', onExit);
    rl.on('line', (line) => {
      onLine(line);
      if (done) return;
      const m = pattern.exec(line);
      if (m) finish(resolve, m);
    });
  });
}

// SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (or the signal name).
async function terminate(proc, graceMs = 20000) {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode ?? proc.signalCode;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  const [code, signal] = await exited;
  clearTimeout(timer);
  return code ?? signal;
}

function tail(text, n = 8000) {
  return text.length > n ? text.slice(-n) : text;
}

// ---------------------------------------------------------------------------------------------
// Firmo

// Starts `firmo serve` on 127.0.0.1:0 with rate limiting off, issuer and signer side (as the
// Python e2e harness does).
// `dataDir`: reuse a directory (e.g. restart after kill9()); otherwise a fresh temp dir that
// stop() removes. `args` are appended to the command line, `env` added to the environment.
export async function startFirmo({ env = {}, args = [], dataDir, timeoutMs = 20000 } = {}) {
  const ownsDir = !dataDir;
  dataDir = dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-browser-'));
  const logPath = path.join(dataDir, 'server.log');
  const logFd = fs.openSync(logPath, 'a');
  const proc = spawn(firmoBin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir,
                                '--rate-limit-burst', '0', '--signer-calls-per-ip', '0',
                                '--signer-calls-per-request', '0', '--signer-sessions-per-ip', '0',
                                ...args],
                     { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', logFd] });
  fs.closeSync(logFd);  // the child holds its own copy
  const stdoutLines = [];
  const logs = () => {
    let server = '';
    try { server = fs.readFileSync(logPath, 'utf8'); } catch { /* removed by stop() */ }
    return `--- stdout\n${stdoutLines.join('\n')}\n--- server.log\n${tail(server)}`;
  };
  let url;
  try {
    [, url] = await waitForLine(proc, /^Firmo is listening on (\S+)/, timeoutMs,
                                (l) => stdoutLines.push(l), 'firmo');
  } catch (e) {
    proc.kill('SIGKILL');
    const err = new Error(`${e.message}\n${logs()}`);
    if (ownsDir) fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const keyLine = stdoutLines.find((l) => l.startsWith('API key: '));
  const firmo = {
    url,
    apiKey: keyLine ? keyLine.split(/\s+/).pop() : null,
    dataDir,
    proc,
    logs,
    // Graceful stop (SIGTERM); removes the data dir it created unless keepDataDir.
    async stop({ keepDataDir = false } = {}) {
      const code = await terminate(proc);
      if (ownsDir && !keepDataDir) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        // The CA key's secret, kept beside the data folder (OPERATIONS.md).
        fs.rmSync(`${dataDir.replace(/\/+$/, '')}.ca-key-secret`, { force: true });
      }
      return code;
    },
    // A crash: SIGKILL, data dir kept so startFirmo({dataDir}) can restart on it.
    async kill9() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    },
    // Runs a firmo subcommand on this server's data dir, e.g. cli('ca', 'init'); returns stdout.
    async cli(...cliArgs) {
      try {
        const { stdout } = await execFileP(firmoBin, [...cliArgs, '--data-dir', dataDir],
                                           { timeout: 60000, env: { ...process.env, ...env } });
        return stdout;
      } catch (e) {
        throw new Error(`firmo ${cliArgs.join(' ')} failed: ${e.stderr || e.message}`);
      }
    },
  };
  return firmo;
}

// A small client for the issuer API. Every call sends X-Api-Key (unless key: false), JSON in
// (`body`) or raw bytes (`raw` + `contentType`), and returns the parsed JSON (or text) body.
// It throws, with the problem document in the message and as err.problem, when the status is
// not in `expect` (default: any 2xx). `path` may be absolute (e.g. an upload URL).
export function api(firmo, { key } = {}) {
  async function request(method, urlPath, { body, raw, contentType, expect, headers = {},
                                            key: callKey } = {}) {
    const h = { Accept: 'application/json', ...headers };
    const k = callKey === undefined ? (key ?? firmo.apiKey) : callKey;
    if (k) h['X-Api-Key'] = k;
    let payload;
    if (raw !== undefined) {
      payload = raw;
      h['Content-Type'] = contentType || 'application/octet-stream';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['Content-Type'] = contentType || 'application/json';
    }
    const res = await fetch(new URL(urlPath, firmo.url), { method, headers: h, body: payload });
    const text = await res.text();
    let data = text;
    if ((res.headers.get('content-type') || '').includes('json') && text) data = JSON.parse(text);
    const ok = expect === undefined ? res.ok
             : [].concat(expect).includes(res.status);
    if (!ok) {
      const err = new Error(`${method} ${urlPath}: HTTP ${res.status}: ${text.slice(0, 2000)}`);
      err.status = res.status;
      err.problem = data;
      throw err;
    }
    return data;
  }
  return {
    request,
    get: (p, opts) => request('GET', p, opts),
    post: (p, body, opts) => request('POST', p, { ...opts, body }),
    put: (p, body, opts) => request('PUT', p, { ...opts, body }),
    patch: (p, body, opts) => request('PATCH', p, { ...opts, body }),
    delete: (p, opts) => request('DELETE', p, opts),
    // Uploads PDF bytes to an upload URL (which carries its own token: no API key).
    uploadPdf: (uploadUrl, pdf) =>
      request('PUT', uploadUrl, { raw: pdf, contentType: 'application/pdf', key: false }),
  };
}

// ---------------------------------------------------------------------------------------------
// PDFs

// A real PDF (Buffer): `pages` A4 pages saying "Firmo test page N", and on page 1 an empty
// AcroForm signature field named `signatureField` (null for none). Made by the Python e2e
// harness's make_pdf (stdlib + the qpdf CLI) so both suites use the very same documents.
export async function makePdf({ pages = 1, signatureField = 'Signature1', fillerBytes = 0 } = {}) {
  const code = [
    'import sys',
    `sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'tests/e2e'))})`,
    'from harness import make_pdf',
    `sys.stdout.buffer.write(make_pdf(pages=${Number(pages)}, ` +
      `signature_field=${signatureField ? JSON.stringify(String(signatureField)) : 'None'}, ` +
      `filler_bytes=${Number(fillerBytes)}))`,
  ].join('\n');
  const { stdout } = await execFileP(python, ['-c', code], {
    encoding: 'buffer', maxBuffer: 64 << 20, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  if (stdout.subarray(0, 5).toString() !== '%PDF-') throw new Error('makePdf: not a PDF');
  return stdout;
}

// Runs pdfsig (poppler, an independent verifier) on `pdfPath`. With `caPem` (or `firmo`, whose
// data dir holds ca/ca-cert.pem) the CA is trusted through a temporary NSS database, so a good
// Firmo signature reads as valid AND trusted. Returns {exitCode, output, signatures: [{
// name, signerName, validation, valid, certificate, trusted, fullyCovered}], documentTimestamps:
// [the same]}, one entry per signature field pdfsig lists (unsigned fields too, with validation
// undefined).
export async function pdfsigCheck(pdfPath, { caPem, firmo } = {}) {
  if (!caPem && firmo) caPem = path.join(firmo.dataDir, 'ca', 'ca-cert.pem');
  const nss = caPem ? fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-nss-')) : null;
  try {
    const args = [];
    if (nss) {
      await execFileP('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']);
      await execFileP('certutil', ['-A', '-d', `sql:${nss}`, '-n', 'firmo-ca', '-t', 'CT,C,C',
                                   '-i', caPem]);
      args.push('-nssdir', `sql:${nss}`);
    }
    // Not -no-ocsp: poppler 22.12 then reports a generic certificate error for any chain
    // (see src/pdf/testing/pdf_fixtures_test.cpp). The OCSP URL of Firmo's certificates is the
    // server's own /pki/ocsp.
    let exitCode = 0;
    let output;
    try {
      ({ stdout: output } = await execFileP('pdfsig', [...args, pdfPath]));
    } catch (e) {
      // pdfsig exits non-zero for "no signatures" or an invalid one; the report still counts.
      if (typeof e.code !== 'number') throw e;
      exitCode = e.code;
      output = `${e.stdout}${e.stderr}`;
    }
    // Document time-stamps (PAdES B-LTA, /SubFilter /ETSI.RFC3161) are listed apart: poppler
    // 22.12 shows them as "Signature Type: unknown" and does not check them (openssl does:
    // longTermCheck).
    const all = parsePdfsig(output);
    const isStamp = (s) => s.type === 'ETSI.RFC3161' || s.type === 'unknown';
    return { exitCode, output, signatures: all.filter((s) => !isStamp(s)),
             documentTimestamps: all.filter(isStamp) };
  } finally {
    if (nss) fs.rmSync(nss, { recursive: true, force: true });
  }
}

// Splits pdfsig's report at "Signature #N:" headers and reads the "  - Key: value" lines.
export function parsePdfsig(output) {
  const sigs = [];
  let cur = null;
  for (const line of output.split('\n')) {
    const head = /^Signature #(\d+):/.exec(line);
    if (head) {
      cur = { index: Number(head[1]), fields: {} };
      sigs.push(cur);
      continue;
    }
    const kv = /^\s+- ([^:]+): (.*)$/.exec(line);
    if (cur && kv) cur.fields[kv[1].trim()] = kv[2].trim();
    else if (cur && /^\s+- Total document signed/.test(line)) cur.fields['Total document signed'] = true;
  }
  return sigs.map(({ index, fields }) => {
    const validation = fields['Signature Validation'];
    const certificate = fields['Certificate Validation'];
    return {
      index,
      name: fields['Signature Field Name'],
      signerName: fields['Signer Certificate Common Name'],
      signingTime: fields['Signing Time'],
      type: fields['Signature Type'],
      validation,
      valid: validation === 'Signature is Valid.',
      certificate,
      trusted: certificate === 'Certificate is Trusted.',
      fullyCovered: fields['Total document signed'] === true,
      fields,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Mail

// A loopback SMTP server (tests/browser/smtp_sink.py, Debian's aiosmtpd) that keeps every
// message. messages() resolves to [{to: [..], from, subject, text, html, headers}] in arrival
// order; waitFor(pred, timeoutMs) resolves with the first message matching pred (old or new).
export async function startSmtpSink({ timeoutMs = 15000 } = {}) {
  const proc = spawn(python, [path.join(here, 'smtp_sink.py')],
                     { stdio: ['ignore', 'pipe', 'pipe'],
                       env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr = tail(stderr + d); });
  const received = [];
  const waiters = new Set();
  const onLine = (line) => {
    if (!line.startsWith('{')) return;
    const msg = JSON.parse(line);
    received.push(msg);
    for (const w of [...waiters]) w(msg);
  };
  let port;
  try {
    [, port] = await waitForLine(proc, /^SMTP sink listening on 127\.0\.0\.1:(\d+)/, timeoutMs,
                                 onLine, 'SMTP sink');
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n${stderr}`);
  }
  return {
    port: Number(port),
    host: '127.0.0.1',
    proc,
    messages: async () => received.slice(),
    waitFor(predicate = () => true, waitMs = 10000) {
      const found = received.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching mail within ${waitMs} ms; got ${received.length}: ` +
                           JSON.stringify(received.map((m) => [m.to, m.subject]))));
        }, waitMs);
        const check = (msg) => {
          if (!predicate(msg)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(msg);
        };
        waiters.add(check);
      });
    },
    stop: () => terminate(proc, 5000),
  };
}

// ---------------------------------------------------------------------------------------------
// OpenID provider

// Spawns tests/node/oidc-provider.mjs with `config` as JSON both in env OIDC_CONFIG and as
// argv[2]; resolves once it prints "OIDC issuer: <url>". Returns {issuer, proc, logs(), stop()}.
export async function startOidcProvider(config = {}, {
  timeoutMs = 20000, script = path.join(repoRoot, 'tests/node/oidc-provider.mjs'),
} = {}) {
  const json = JSON.stringify(config);
  const proc = spawn(process.execPath, [script, json],
                     { stdio: ['ignore', 'pipe', 'pipe'],
                       env: { ...process.env, OIDC_CONFIG: json } });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr = tail(stderr + d); });
  const lines = [];
  const logs = () => `--- stdout\n${lines.join('\n')}\n--- stderr\n${stderr}`;
  let issuer;
  try {
    [, issuer] = await waitForLine(proc, /OIDC issuer: (\S+)/, timeoutMs,
                                   (l) => lines.push(l), 'OIDC provider');
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n${logs()}`);
  }
  return { issuer, proc, logs, stop: () => terminate(proc, 5000) };
}

// ---------------------------------------------------------------------------------------------
// Browser

export const viewports = {
  phone: { width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { width: 1280, height: 900 },
};

async function playwright() {
  const entry = path.join(repoRoot, 'tests/node/node_modules/playwright-core/index.mjs');
  if (!fs.existsSync(entry)) {
    throw new Error(`${entry} is missing: build Firmo (it runs \`npm ci\` in tests/node) ` +
                    'or run `npm ci` there yourself');
  }
  return import(entry);
}

// Debian's headless chromium (playwright-core never downloads a browser of its own).
export async function launchBrowser(options = {}) {
  const { chromium } = await playwright();
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'],
                           ...options });
}

// A page in a fresh context (own cookies) with one of `viewports`; the viewport's name is
// remembered for screenshot(). Close it with page.context().close().
// `language`: the portal language the signer chose (the `firmo_lang` cookie the language switch
// sets), English unless given, so tests that read English texts do not depend on the signer's
// identifier (a fiscal code means Italian); null leaves the choice to the portal.
export async function newPage(browser, viewport = 'desktop', contextOptions = {},
                              { language = 'en' } = {}) {
  if (!viewports[viewport]) throw new Error(`unknown viewport ${viewport}`);
  const context = await browser.newContext({
    viewport: { width: viewports[viewport].width, height: viewports[viewport].height },
    ...viewports[viewport], ...contextOptions,
  });
  if (language) {
    await context.addCookies([{ name: 'firmo_lang', value: language, domain: '127.0.0.1',
                                path: '/' }]);
  }
  const page = await context.newPage();
  firmoViewport.set(page, viewport);
  return page;
}
const firmoViewport = new WeakMap();

// Runs `fn(page, viewportName)` once per viewport, each in its own fresh context.
export async function forEachViewport(browser, fn) {
  for (const name of Object.keys(viewports)) {
    const page = await newPage(browser, name);
    try {
      await fn(page, name);
    } finally {
      await page.context().close();
    }
  }
}

export const screenshotsDir = path.join(repoRoot, 'docs/screenshots');

// Saves a full-page PNG as docs/screenshots/<name>-<viewport>.png, but only when
// FIRMO_SCREENSHOTS=1 (so test runs in CI leave the tree alone). Call it once per viewport
// (pages from newPage/forEachViewport know theirs). Returns the path, or null if skipped.
export async function screenshot(page, name) {
  if (process.env.FIRMO_SCREENSHOTS !== '1') return null;
  const viewport = firmoViewport.get(page) || 'page';
  fs.mkdirSync(screenshotsDir, { recursive: true });
  const file = path.join(screenshotsDir, `${name}-${viewport}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Checks the signature time-stamp (PAdES B-T) of every signature in `pdfPath` with
// `openssl ts -verify`, trusting the CA of `firmo`'s data dir (its built-in TSA is under it).
// Returns one {stamped, verified, output} per signature.
export async function signatureTimestampsCheck(pdfPath, { firmo }) {
  const caPem = path.join(firmo.dataDir, 'ca', 'ca-cert.pem');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-ts-'));
  try {
    const pdf = fs.readFileSync(pdfPath, 'latin1');
    const results = [];
    for (const m of pdf.matchAll(/\/Contents <([0-9A-Fa-f]+)>/g)) {
      // A document time-stamp is a token itself, not a signature to stamp.
      if (pdf.slice(Math.max(0, m.index - 120), m.index).includes('/ETSI.RFC3161')) continue;
      const padded = Buffer.from(m[1], 'hex');
      const n = padded[1] & 0x7f;
      const len = padded[1] < 0x80 ? 2 + padded[1] : 2 + n + padded.readUIntBE(2, n);
      const sigFile = path.join(dir, `sig${results.length}.der`);
      fs.writeFileSync(sigFile, padded.subarray(0, len));
      const { stdout } = await execFileP('openssl', ['asn1parse', '-inform', 'der', '-in', sigFile],
                                         { maxBuffer: 16 << 20 });
      const lines = stdout.split('\n');
      const at = lines.findIndex((l) => l.includes(':id-smime-aa-timeStampToken'));
      if (at < 0) {
        results.push({ stamped: false, verified: false, output: '' });
        continue;
      }
      // The signature value: the last OCTET STRING before the unsigned attributes.
      const value = lines.slice(0, at).reverse().find((l) => l.includes('OCTET STRING'));
      const hex = value.split('[HEX DUMP]:')[1].trim();
      const digest = crypto.createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
      const [, off, hl, l] = lines[at + 2].match(/^\s*(\d+):d=\d+\s+hl=(\d+)\s+l=\s*(\d+)/);
      const der = fs.readFileSync(sigFile);
      const tokenFile = path.join(dir, `token${results.length}.der`);
      fs.writeFileSync(tokenFile, der.subarray(+off, +off + +hl + +l));
      let output;
      let verified = true;
      try {
        ({ stdout: output } = await execFileP('openssl', [
          'ts', '-verify', '-token_in', '-in', tokenFile, '-digest', digest, '-CAfile', caPem]));
      } catch (e) {
        verified = false;
        output = `${e.stdout}${e.stderr}`;
      }
      results.push({ stamped: true, verified: verified && output.includes('Verification: OK'),
                     output });
    }
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The DER object at the start of `bytes` (a /Contents hole is padded with zeros after it).
function derPrefix(bytes) {
  const n = bytes[1] & 0x7f;
  const len = bytes[1] < 0x80 ? 2 + bytes[1] : 2 + n + bytes.readUIntBE(2, n);
  return bytes.subarray(0, len);
}

// PAdES B-LT and B-LTA of a PDF Firmo signed, checked with OpenSSL, trusting the CA of
// `firmo`'s data dir: each OCSP response in the (last) DSS with `openssl ocsp` (signature by
// the CA, status good), each document time-stamp over its byte ranges with `openssl ts
// -verify`. Returns {certificates, crls, ocsp: [{verified, output}], documentTimestamps:
// [{verified, output}]}.
export async function longTermCheck(pdfPath, { firmo }) {
  const caPem = path.join(firmo.dataDir, 'ca', 'ca-cert.pem');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firmo-lt-'));
  try {
    const bytes = fs.readFileSync(pdfPath);
    const text = bytes.toString('latin1');
    // The newest definition of object `num`, an unfiltered stream (as Firmo writes the DSS's).
    const streamOf = (num) => {
      let last = null;
      for (const m of text.matchAll(new RegExp(`(?:^|[\\r\\n])${num} 0 obj\\s*<< /Length (\\d+) >>\\s*stream\\r?\\n`, 'g'))) last = m;
      if (!last) return null;
      const start = last.index + last[0].length;
      return bytes.subarray(start, start + Number(last[1]));
    };
    const refsOf = (key) => {
      const all = [...text.matchAll(new RegExp(`/${key} \\[([^\\]]*)\\]`, 'g'))];
      return all.length ? [...all[all.length - 1][1].matchAll(/(\d+) 0 R/g)].map((m) => m[1]) : [];
    };
    const run = async (args) => {
      try {
        const { stdout, stderr } = await execFileP('openssl', args);
        return { ok: true, output: `${stdout}${stderr}` };
      } catch (e) {
        return { ok: false, output: `${e.stdout}${e.stderr}` };
      }
    };
    const ocsp = [];
    for (const ref of refsOf('OCSPs')) {
      const file = path.join(dir, `ocsp${ref}.der`);
      fs.writeFileSync(file, streamOf(ref));
      const r = await run(['ocsp', '-respin', file, '-issuer', caPem, '-CAfile', caPem, '-resp_text']);
      ocsp.push({ verified: r.ok && r.output.includes('Response verify OK') &&
                            r.output.includes('Cert Status: good'), output: r.output });
    }
    const documentTimestamps = [];
    const stamps = /\/SubFilter \/ETSI\.RFC3161 \/ByteRange \[\s*(\d+) (\d+) (\d+) (\d+)\s*\] \/Contents <([0-9A-Fa-f]+)>/g;
    for (const m of text.matchAll(stamps)) {
      const [a, b, c, d] = m.slice(1, 5).map(Number);
      const data = path.join(dir, `stamp${documentTimestamps.length}.data`);
      const token = path.join(dir, `stamp${documentTimestamps.length}.der`);
      fs.writeFileSync(data, Buffer.concat([bytes.subarray(a, a + b), bytes.subarray(c, c + d)]));
      fs.writeFileSync(token, derPrefix(Buffer.from(m[5], 'hex')));
      const r = await run(['ts', '-verify', '-token_in', '-in', token, '-data', data, '-CAfile', caPem]);
      documentTimestamps.push({ verified: r.ok && r.output.includes('Verification: OK'),
                                output: r.output });
    }
    return { certificates: refsOf('Certs').length, crls: refsOf('CRLs').length, ocsp,
             documentTimestamps };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
