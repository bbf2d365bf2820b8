// The sender portal's optional login with the institution's own OpenID provider (staff_oidc,
// issue 17) against a real provider on loopback (oidc-provider): "Sign in with <name>", the
// authorization code flow with PKCE, state and nonce through Firmo's OIDC client; the role comes
// from a claim through staff_oidc.role_map. An admin by claim reaches the admin pages, a viewer by
// claim cannot send, a person with no mapped role is refused with a page that says why; the first
// login creates the account (audited); a later login following the claim's role is unit-tested
// (StaffServiceTest).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { launchBrowser, newPage, startFirmo, startOidcProvider } from './harness.mjs';
import { assertStrictCsp, firstIssuerId, freePort, loginAtProvider } from './flows.mjs';

let firmo;
let provider;
let browser;
let dataDir;

const SECRET = 'a-long-staff-client-secret-for-tests';
const accounts = {
  ada: { email: 'ada@corp.example', roles: ['firmo-admins', 'staff'] },
  vic: { email: 'vic@corp.example', roles: ['staff'] },
  nora: { email: 'nora@corp.example', roles: ['canteen'] },
};

before(async () => {
  const port = await freePort();
  provider = await startOidcProvider({
    client_id: 'firmo-staff',
    client_secret: SECRET,
    redirect_uris: [`http://127.0.0.1:${port}/app/login/oidc/callback`],
    accounts,
  });
  // The first start creates the issuer the provider's staff belong to.
  const first = await startFirmo({ args: ['--listen', `127.0.0.1:${port}`] });
  const issuer = await firstIssuerId(first);
  dataDir = first.dataDir;
  await first.stop({ keepDataDir: true });
  [firmo, browser] = await Promise.all([
    startFirmo({
      dataDir,
      env: { FIRMO_STAFF_OIDC_CLIENT_SECRET: SECRET },
      args: ['--listen', `127.0.0.1:${port}`, '--staff-oidc-issuer', provider.issuer,
             '--staff-oidc-client-id', 'firmo-staff', '--staff-oidc-scopes', 'openid profile',
             '--staff-oidc-role-claim', 'roles', '--staff-oidc-name', 'Corp ID',
             '--staff-oidc-role-map', 'firmo-admins=admin,firmo-senders=sender,staff=viewer',
             '--staff-oidc-issuer-id', issuer],
    }),
    launchBrowser(),
  ]);
});

after(async () => {
  await Promise.allSettled([firmo?.stop(), browser?.close(), provider?.stop()]);
});

async function signIn(account) {
  const page = await newPage(browser, 'desktop');
  const res = await page.goto(`${firmo.url}/app/login`);
  assertStrictCsp(res);
  const answer = page.waitForResponse((r) => r.url().startsWith(
    `${firmo.url}/app/login/oidc/callback`));
  await page.getByRole('link', { name: 'Sign in with Corp ID' }).click();
  await loginAtProvider(page, account, firmo.url);
  return { page, callback: await answer };
}

function sql(query) {
  const code = 'import sqlite3,sys; print("\\n".join(str(a) for (a,) in ' +
               'sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))';
  return execFileSync('python3', ['-c', code, path.join(dataDir, 'firmo.db'), query]).toString();
}

const audit = () => sql('SELECT action FROM staff_audit ORDER BY seq');

test('an admin by claim: the account is created and reaches the admin pages', async () => {
  const { page, callback } = await signIn('ada');
  try {
    assert.equal(callback.status(), 303);
    await page.waitForURL(`${firmo.url}/app`);
    await page.getByText('ada@corp.example').first().waitFor();
    const res = await page.goto(`${firmo.url}/app/admin/users`);
    assert.equal(res.status(), 200);
    assert.match(audit(), /staff_user\.created/);
    assert.equal(sql("SELECT role FROM staff_users WHERE email = 'ada@corp.example'").trim(),
                 'admin');
  } finally {
    await page.context().close();
  }
});

test('a viewer by claim cannot send', async () => {
  const { page, callback } = await signIn('vic');
  try {
    assert.equal(callback.status(), 303);
    await page.waitForURL(`${firmo.url}/app`);
    assert.equal(await page.getByRole('link', { name: 'New signature request' }).count(), 0);
    assert.equal((await page.goto(`${firmo.url}/app/send`)).status(), 403);
    assert.equal((await page.goto(`${firmo.url}/app/admin/users`)).status(), 403);
  } finally {
    await page.context().close();
  }
});

test('no mapped role: refused with a page that says why, and no account', async () => {
  const { page, callback } = await signIn('nora');
  try {
    assert.equal(callback.status(), 403);
    await page.getByRole('heading', { name: 'No access to the sender portal' }).waitFor();
    assert.equal((await page.goto(`${firmo.url}/app`)).url(), `${firmo.url}/app/login`);
    assert.equal(sql("SELECT count(*) FROM staff_users WHERE email = 'nora@corp.example'").trim(),
                 '0');
  } finally {
    await page.context().close();
  }
});

test('a callback without this browser\'s login is refused', async () => {
  const page = await newPage(browser, 'desktop');
  try {
    const res = await page.goto(`${firmo.url}/app/login/oidc/callback?code=x&state=y`);
    assert.equal(res.status(), 400);
    await page.getByRole('heading', { name: 'The login did not complete' }).waitFor();
  } finally {
    await page.context().close();
  }
});
