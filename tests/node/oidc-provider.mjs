// A real OpenID provider (npm oidc-provider) on loopback, for Firmo's login tests.
//
//   node tests/node/oidc-provider.mjs [PORT] [CONFIG]
//
// PORT: 0 or absent = a random free port. CONFIG: a JSON object, or the path of a JSON file, or
// absent to read the OIDC_PROVIDER_CONFIG environment variable:
//   {
//     "client_id": "firmo",                        (default "firmo")
//     "client_secret": "…",                        (absent or "" = public client, PKCE only)
//     "redirect_uris": ["http://127.0.0.1:8080/…"],
//     "accounts": { "mario": {"fiscal_number": "TINIT-RSSMRA80A01H501U", "name": "Mario Rossi"},
//                   "kari":  {"pid": "01810010068", "given_name": "Kari"} },
//     "id_token_claims": true,                     (default true: profile claims also in the
//                                                   ID token; false: userinfo only, as OIDC Core)
//     "id_token_signed_response_alg": "RS256",     (or "PS256", "ES256")
//     "acr": "idporten-loa-substantial"            (the ID token's `acr` for every login; an
//                                                   account's own "acr" member wins; "" = none;
//                                                   absent = the first of the request's
//                                                   acr_values, as a provider that grants what
//                                                   was asked for)
//     "acr_values_supported": ["…"]                (added to the built-in SPID/CIE/ID-porten list)
//   }
// An account's "acr" is not a claim: it is the level that account's logins reach.
// The browser side is oidc-provider's own development login form (any password; the login is
// an account key) followed by its consent form. PKCE S256 is required for every client.
// When ready, prints exactly one line on stdout: `OIDC issuer: http://127.0.0.1:PORT`
// (the library's notices go to stderr). Exits on SIGTERM or SIGINT.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import process from 'node:process';

import Provider from 'oidc-provider';

// oidc-provider prints notices with console.info; keep stdout for the ready line.
console.info = (...args) => console.error(...args);

function parseArgs(argv) {
  let port = 0;
  let configText = process.env.OIDC_PROVIDER_CONFIG || '{}';
  for (const arg of argv) {
    if (/^\d+$/.test(arg)) {
      port = Number(arg);
    } else if (arg.trimStart().startsWith('{')) {
      configText = arg;
    } else {
      configText = readFileSync(arg, 'utf8');
    }
  }
  return { port, config: JSON.parse(configText) };
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server.address().port));
  });
}

const STANDARD_PROFILE_CLAIMS = ['name', 'given_name', 'family_name', 'fiscal_number', 'pid'];

// The levels the provider announces (and so puts in ID tokens): SPID and CIE, ID-porten.
const KNOWN_ACR_VALUES = [
  'https://www.spid.gov.it/SpidL1', 'https://www.spid.gov.it/SpidL2', 'https://www.spid.gov.it/SpidL3',
  'idporten-loa-low', 'idporten-loa-substantial', 'idporten-loa-high', 'Level3', 'Level4',
];

async function main() {
  const { port: wantedPort, config } = parseArgs(process.argv.slice(2));
  const accounts = config.accounts || {};
  const profileClaims = new Set(STANDARD_PROFILE_CLAIMS);
  for (const claims of Object.values(accounts)) {
    for (const name of Object.keys(claims)) if (name !== 'sub' && name !== 'acr') profileClaims.add(name);
  }

  // Fresh signing keys per run: RS256/PS256 use the RSA key, ES256 the P-256 one.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

  const secret = config.client_secret || '';
  const client = {
    client_id: config.client_id || 'firmo',
    redirect_uris: config.redirect_uris || [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: secret ? 'client_secret_basic' : 'none',
    id_token_signed_response_alg: config.id_token_signed_response_alg || 'RS256',
  };
  if (secret) client.client_secret = secret;

  const server = createServer();
  const port = await listen(server, wantedPort);
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: [client],
    jwks: { keys: [{ ...rsa, kid: 'rsa-1', use: 'sig' }, { ...ec, kid: 'ec-1', use: 'sig' }] },
    async findAccount(ctx, id) {
      const claims = accounts[id];
      if (!claims) return undefined;
      const { acr, ...rest } = claims;
      return { accountId: id, claims: async () => ({ ...rest, sub: id }) };
    },
    claims: { openid: ['sub'], profile: [...profileClaims] },
    acrValues: [...new Set([...KNOWN_ACR_VALUES, ...(config.acr_values_supported || [])])],
    // false = claims requested by scope are put in the ID token too (SPID/ID-porten style).
    conformIdTokenClaims: config.id_token_claims === false,
    features: { devInteractions: { enabled: true }, userinfo: { enabled: true } },
    pkce: { methods: ['S256'], required: () => true },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // Seconds; set explicitly so the library does not print a notice for each default.
    ttl: {
      AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600,
    },
  });
  provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));

  // The level a login reaches: devInteractions finishes the login without an acr, so one is
  // added here (the account's, the configured one, or the first one asked for).
  const finish = provider.interactionFinished.bind(provider);
  provider.interactionFinished = async (req, res, result, options) => {
    if (result && result.login) {
      const details = await provider.interactionDetails(req, res);
      const account = accounts[result.login.accountId] || {};
      const asked = String(details.params.acr_values || '').split(' ').filter(Boolean);
      const acr = 'acr' in account ? account.acr : ('acr' in config ? config.acr : asked[0]);
      if (acr) result.login.acr = acr;
    }
    return finish(req, res, result, options);
  };
  server.on('request', provider.callback());

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  process.stdout.write(`OIDC issuer: ${issuer}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
