// A real S3 server on loopback for the S3 blob-store integration tests: npm `s3rver` (objects
// in a temporary folder, removed on exit) behind a strict AWS Signature Version 4 check.
//
//   node tests/s3/start.mjs [--port N] [--bucket NAME]
//
// Prints "S3 endpoint: http://127.0.0.1:PORT" once the bucket exists, then one line
// "request: METHOD URL STATUS" per request answered (the tests check which S3 calls were
// made, e.g. a multipart upload). Exits on SIGTERM, SIGINT or when stdin closes.
//
// Fault control, one command a line on stdin (each acknowledged by a line on stdout):
//   hold SUBSTRING  GETs whose URL contains SUBSTRING wait, unanswered, until `release`
//                   (ack "hold: SUBSTRING"; each GET held prints "held: GET URL"). Other
//                   methods are never held, so uploads go on. Holds add up.
//   release         ends every hold and answers the held GETs (ack "released: N", N the held
//                   GETs whose client was still there; the others are dropped unanswered).
// A test uses this to stop a node in the middle of reading a document, deterministically.
//
// Why the check: s3rver verifies V2 signatures only; for V4 it looks up the access key and
// accepts any signature. This wrapper recomputes every V4 signature (Authorization header or
// presigned query) with node's own crypto, an implementation independent of Firmo's, and
// answers 403 SignatureDoesNotMatch / InvalidAccessKeyId / AccessDenied like S3. The
// credentials are s3rver's built-in pair: access key S3RVER, secret key S3RVER. Like S3, a
// request whose x-amz-content-sha256 is not UNSIGNED-PAYLOAD gets its body hash checked.

import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import { PassThrough } from 'node:stream';
import S3rver from 's3rver';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const port = Number(opt('port', '0'));
const bucket = opt('bucket', 'firmo-test');
const CREDENTIALS = { S3RVER: 'S3RVER' };
const MAX_SKEW_MS = 15 * 60 * 1000;

const directory = mkdtempSync(join(tmpdir(), 'firmo-s3rver-'));
const s3 = new S3rver({ silent: true, directory, configureBuckets: [{ name: bucket }] });
await s3.configureBuckets();
const handle = s3.callback();

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();
const rfc3986 = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const decode = (s) => decodeURIComponent(s.replace(/\+/g, '%20'));
const amzTime = (d) =>
  Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(9, 11), +d.slice(11, 13), +d.slice(13, 15));

function s3Error(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

// Returns null if the request is correctly signed, else [status, code, message].
function verify(req, rawBody) {
  const [path, rawQuery = ''] = req.url.split('?', 2);
  const query = rawQuery === '' ? [] : rawQuery.split('&').map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? [decode(p), ''] : [decode(p.slice(0, eq)), decode(p.slice(eq + 1))];
  });
  const q = Object.fromEntries(query);
  let credential, signedHeaders, signature, amzDate, payloadHash;
  const presigned = 'X-Amz-Signature' in q;
  if (presigned) {
    if (q['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256') return [400, 'AuthorizationQueryParametersError', 'bad algorithm'];
    credential = q['X-Amz-Credential'];
    signedHeaders = q['X-Amz-SignedHeaders'];
    signature = q['X-Amz-Signature'];
    amzDate = q['X-Amz-Date'];
    payloadHash = 'UNSIGNED-PAYLOAD';
    const expires = Number(q['X-Amz-Expires']);
    if (!(expires > 0) || Date.now() > amzTime(amzDate) + expires * 1000) {
      return [403, 'AccessDenied', 'Request has expired'];
    }
  } else {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      req.headers.authorization || '');
    if (!m) return [403, 'AccessDenied', 'Access Denied (request not signed with SigV4)'];
    [, credential, signedHeaders, signature] = m;
    amzDate = req.headers['x-amz-date'];
    payloadHash = req.headers['x-amz-content-sha256'];
    if (!amzDate || !payloadHash) return [400, 'InvalidRequest', 'missing x-amz-date or x-amz-content-sha256'];
    if (Math.abs(Date.now() - amzTime(amzDate)) > MAX_SKEW_MS) return [403, 'RequestTimeTooSkewed', 'clock skew'];
    if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== sha256(rawBody)) {
      return [400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 does not match the body'];
    }
  }
  const [accessKey, date8, region, service, terminator] = (credential || '').split('/');
  if (!(accessKey in CREDENTIALS)) return [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
  if (service !== 's3' || terminator !== 'aws4_request' || !amzDate.startsWith(date8)) {
    return [403, 'SignatureDoesNotMatch', 'bad credential scope'];
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return [403, 'SignatureDoesNotMatch', 'host must be signed'];
  const canonicalQuery = query
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = names
    .map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [req.method, path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date8}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac('AWS4' + CREDENTIALS[accessKey], date8);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  if (expected !== signature) {
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'];
  }
  return null;
}

const holds = new Set();  // substrings of the URLs of GETs to hold
let held = [];            // { forward, gone } for each GET waiting for `release`

const server = http.createServer((req, res) => {
  res.on('finish', () => console.log(`request: ${req.method} ${req.url} ${res.statusCode}`));
  // The body is read here (to check its hash) and handed to s3rver unchanged.
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const denied = verify(req, body);
    if (denied) {
      s3Error(res, ...denied);
      return;
    }
    // Replay the buffered body to s3rver through a stand-in readable request.
    const forward = () => {
      const replay = new PassThrough();
      replay.end(body);
      Object.assign(replay, {
        method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders,
        httpVersion: req.httpVersion, socket: req.socket, connection: req.socket,
      });
      handle(replay, res);
    };
    if (req.method === 'GET' && [...holds].some((h) => req.url.includes(h))) {
      const entry = { forward, gone: false };
      res.once('close', () => { entry.gone = true; });  // before an answer: the client went away
      held.push(entry);
      console.log(`held: ${req.method} ${req.url}`);
      return;
    }
    forward();
  });
});

function control(line) {
  const [command, ...rest] = line.trim().split(/\s+/);
  if (command === 'hold' && rest.length === 1) {
    holds.add(rest[0]);
    console.log(`hold: ${rest[0]}`);
  } else if (command === 'release' && rest.length === 0) {
    holds.clear();
    const waiting = held;
    held = [];
    let answered = 0;
    for (const { forward, gone } of waiting) {
      if (gone) continue;  // its client died meanwhile
      forward();
      ++answered;
    }
    console.log(`released: ${answered}`);
  } else if (command) {
    console.log(`error: unknown command '${line.trim()}'`);
  }
}

function stop() {
  server.close();
  rmSync(directory, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
readline.createInterface({ input: process.stdin }).on('line', control).on('close', stop);

server.listen(port, '127.0.0.1', () => {
  console.log(`S3 endpoint: http://127.0.0.1:${server.address().port}`);
});
