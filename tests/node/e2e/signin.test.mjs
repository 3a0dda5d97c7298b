// Sign-in through the authenticator page with requests made by the real @stacks/auth:
//  (1) restore through the UI, approve; the response passes @stacks/auth verifyAuthResponse,
//      the decrypted app key is @stacks/wallet-sdk's, and @stacks/storage writes and reads
//      files on cairn-hub with the returned hubUrl and associationToken;
//  (3) deny: "Sign-in cancelled", a link back without a response, no response ever sent;
//  (4) tampered, expired and cross-origin requests show their specific error and never
//      redirect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAuthResponse, decryptPrivateKey, UserSession, AppConfig } from '@stacks/auth';
import { Storage } from '@stacks/storage';
import { generateWallet, getAppPrivateKey } from '@stacks/wallet-sdk';
import { decodeToken } from 'jsontokens';
import {
  useStack, withPage, cairn, byRole, freshWords, identityOf, restoreToHome, stacksAuthRequest,
  recordRequests, alertText, appears, watchProgressbars, SLOW,
  needs,
} from './harness.mjs';

const stack = useStack();
const SCOPES = ['store_write', 'publish_data', 'email'];

/** Answers the redirect to the app (any URL with authResponse on `origin`) with a stub page. */
async function catchResponse(page, origin) {
  let resolveUrl;
  const url = new Promise((r) => (resolveUrl = r));
  await page.route(
    (u) => u.origin === origin && u.searchParams.has('authResponse'),
    async (route) => {
      resolveUrl(route.request().url());
      await route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>app</title><p>back in the app</p>' });
    },
  );
  return url;
}

test('(1) restore, approve a @stacks/auth request; verifyAuthResponse, wallet-sdk app key, @stacks/storage on the hub', needs('Restore', 'Home', 'Consent'), async () => {
  await withPage(stack, 'signin-stacks', async ({ page, context, shot }) => {
    const progress = await watchProgressbars(context);
    const words = freshWords(24);
    const { address, did } = identityOf(words);
    await restoreToHome(page, stack, words, undefined, { shoot: shot });
    await shot('home');

    const { token, transit } = stacksAuthRequest(stack.demo, { scopes: SCOPES });
    const responseUrl = catchResponse(page, stack.demo);
    await page.goto(`${stack.auth}/?authRequest=${token}`);
    // The heading names the app once its manifest (served cross-origin by the demo) loads.
    await byRole(page, 'heading', 'Sign in to Cairn Demo').waitFor();
    await page.getByText(`Cairn Demo at ${stack.demo} wants to:`).waitFor();
    assert.equal(await byRole(page, 'radiogroup', 'Identity').count(), 1);
    await shot('consent');
    await byRole(page, 'button', 'Approve').click();
    let timer;
    const url = new URL(await Promise.race([
      responseUrl,
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error('no redirect to the app with authResponse')), SLOW);
      }),
    ]).finally(() => clearTimeout(timer)));
    assert.equal(`${url.origin}${url.pathname}`, `${stack.demo}/`);
    const authResponse = url.searchParams.get('authResponse');
    assert.ok(progress.includes('Signing in'), `a progress bar "Signing in" showed (saw ${JSON.stringify(progress)})`);

    // @stacks/auth accepts it; it is signed by identity 1 of this Secret Key.
    assert.equal(await verifyAuthResponse(authResponse), true);
    const { payload } = decodeToken(authResponse);
    assert.equal(payload.iss, did);
    assert.equal(payload.hubUrl, stack.hubUrl);
    assert.equal(typeof payload.associationToken, 'string');
    assert.equal(payload.version, '1.4.0');

    // The app key decrypts with the transit key and is wallet-sdk's derivation.
    const appKey = await decryptPrivateKey(transit, payload.private_key);
    const wallet = await generateWallet({ secretKey: words, password: 'e2e-wallet-password' });
    assert.equal(appKey, getAppPrivateKey({ account: wallet.accounts[0], appDomain: stack.demo }));

    // Sign-in writes (contract): profile.json published (publish_data), settings recorded.
    const readPrefix = (await (await fetch(`${stack.hubUrl}/hub_info`)).json()).read_url_prefix;
    assert.equal(payload.profile_url, `${readPrefix}${address}/profile.json`);
    assert.equal((await fetch(payload.profile_url)).status, 200, 'profile.json published');
    assert.equal((await fetch(`${readPrefix}${address}/cairn/settings.json`)).status, 200, 'settings.json written');

    // The app's side with the real stacks.js: handlePendingSignIn, then Storage on the hub.
    const userSession = new UserSession({ appConfig: new AppConfig(SCOPES, stack.demo) });
    const session = userSession.store.getSessionData();
    session.transitKey = transit;
    userSession.store.setSessionData(session);
    const userData = await userSession.handlePendingSignIn(authResponse, fetch);
    assert.equal(userData.appPrivateKey, appKey);
    assert.equal(userData.hubUrl, stack.hubUrl);
    assert.equal(userData.gaiaAssociationToken, payload.associationToken);
    assert.equal(userData.identityAddress, address);

    const storage = new Storage({ userSession });
    const plainUrl = await storage.putFile('e2e/plain.txt', 'written by @stacks/storage', { encrypt: false });
    assert.equal(plainUrl, `${readPrefix}${cairn.bucketAddress(appKey)}/e2e/plain.txt`);
    assert.equal(await storage.getFile('e2e/plain.txt', { decrypt: false }), 'written by @stacks/storage');
    await storage.putFile('e2e/secret.json', JSON.stringify({ hello: 'ünïcödé' }));
    assert.deepEqual(JSON.parse(await storage.getFile('e2e/secret.json')), { hello: 'ünïcödé' });
  });
});

test('(3) deny: "Sign-in cancelled", a link back to the app without a response', needs('Restore', 'Consent', 'Denied'), async () => {
  await withPage(stack, 'signin-deny', async ({ page, context, shot }) => {
    await restoreToHome(page, stack, freshWords(12));
    const urls = recordRequests(context);
    const { token } = stacksAuthRequest(stack.demo, { scopes: ['store_write'] });
    await page.goto(`${stack.auth}/?authRequest=${token}`);
    await byRole(page, 'heading', 'Sign in to Cairn Demo').waitFor();
    await byRole(page, 'button', 'Deny').click();
    await byRole(page, 'heading', 'Sign-in cancelled').waitFor();
    const back = page.getByRole('link', { name: /^Back to / });
    assert.match(await back.textContent(), /Back to (Cairn Demo|http:\/\/localhost)/);
    assert.equal(await back.getAttribute('href'), `${stack.demo}/`);
    assert.equal(await byRole(page, 'button', 'Approve').count(), 0);
    await shot('denied');
    await back.click();
    await page.waitForURL(`${stack.demo}/`);
    await byRole(page, 'button', 'Sign in with Cairn').waitFor();
    assert.deepEqual(urls.filter((u) => u.includes('authResponse')), [], 'no response was ever sent');
  });
});

/** Re-encodes a JWT's payload without re-signing it. */
function tamper(token, change) {
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  change(payload);
  return [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.');
}

/** The message Cairn's verifyAuthRequest gives for a token (what the page must show). */
function cairnMessage(token) {
  try {
    cairn.verifyAuthRequest(token);
  } catch (e) {
    return e.message;
  }
  throw new Error('the request unexpectedly verifies');
}

test('(4) tampered, expired and cross-origin requests show their error and never redirect', needs('Restore', 'Bad request'), async () => {
  await withPage(stack, 'signin-bad', async ({ page, context, shot }) => {
    await restoreToHome(page, stack, freshWords(12));
    const urls = recordRequests(context);
    const cases = {
      tampered: tamper(stacksAuthRequest(stack.demo).token, (p) => p.scopes.push('collection.contact')),
      expired: stacksAuthRequest(stack.demo, { expiresAt: Date.now() - 60_000 }).token,
      'cross-origin': stacksAuthRequest(stack.demo, { redirect: 'http://evil.localhost:9/' }).token,
    };
    const expected = {
      tampered: /signature does not match its key: it was altered or forged/,
      expired: /^the sign-in request has expired/,
      'cross-origin': /return address is on another site than the app/,
    };
    for (const [name, token] of Object.entries(cases)) {
      const message = cairnMessage(token);
      assert.match(message, expected[name]);
      await page.goto(`${stack.auth}/?authRequest=${token}`);
      await byRole(page, 'heading', "This sign-in request can't be used").waitFor({ timeout: SLOW });
      const text = await alertText(page);
      assert.ok(text.includes(message), `${name}: alert ${JSON.stringify(text)} lacks ${JSON.stringify(message)}`);
      assert.equal(await byRole(page, 'button', 'Approve').count(), 0, name);
      await shot(name);
      // Nothing happens later either.
      assert.equal(await appears(page.getByRole('button', { name: 'Approve' }), 1000), false);
      assert.equal(new URL(page.url()).origin, stack.auth);
    }
    const leaked = urls.filter((u) => u.includes('authResponse') || u.startsWith(stack.demo) || u.includes('evil'));
    assert.deepEqual(leaked.filter((u) => !u.endsWith('/manifest.json') && !u.includes('/icon.')), []);
  });
});

test('hub unreachable: the sign-in still completes, without a profile URL; no manifest: the origin names the app', needs('Restore', 'Settings', 'Consent'), async () => {
  await withPage(stack, 'signin-no-hub', async ({ page, shot }) => {
    await restoreToHome(page, stack, freshWords(12));
    const dead = 'http://127.0.0.1:9';
    await byRole(page, 'navigation', 'Main').getByRole('link', { name: 'Settings', exact: true }).click();
    await byRole(page, 'textbox', 'Gaia hub URL').fill(dead);
    await byRole(page, 'button', 'Save').click();
    await page.getByRole('status').filter({ hasText: /^Hub not reachable/ }).waitFor({ timeout: SLOW });

    // The manifest does not exist: the heading keeps naming the origin.
    const { token, transit } = stacksAuthRequest(stack.demo, {
      scopes: ['store_write', 'publish_data'], manifest: `${stack.demo}/no-such-manifest.json`,
    });
    const responseUrl = catchResponse(page, stack.demo);
    await page.goto(`${stack.auth}/?authRequest=${token}`);
    await byRole(page, 'heading', `Sign in to ${stack.demo}`).waitFor({ timeout: SLOW });
    await page.waitForTimeout(1000);
    assert.equal(await byRole(page, 'heading', `Sign in to ${stack.demo}`).count(), 1);
    await shot('consent-no-manifest');
    await byRole(page, 'button', 'Approve').click();
    // The page says so before it redirects.
    await page.getByRole('status').filter({ hasText: /hub could not be reached/i }).waitFor({ timeout: SLOW });
    await shot('hub-unreachable');
    let timer;
    const url = new URL(await Promise.race([
      responseUrl,
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error('no redirect to the app with authResponse')), SLOW);
      }),
    ]).finally(() => clearTimeout(timer)));
    const authResponse = url.searchParams.get('authResponse');
    assert.equal(await verifyAuthResponse(authResponse), true);
    const { payload } = decodeToken(authResponse);
    assert.equal(payload.profile_url, null);
    assert.equal(payload.hubUrl.replace(/\/$/, ''), dead);
    assert.match(await decryptPrivateKey(transit, payload.private_key), /^[0-9a-f]{64}$/);
  });
});
