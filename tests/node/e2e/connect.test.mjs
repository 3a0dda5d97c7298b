// Cairn as a wallet for the real @stacks/connect 8 (SIP-030 JSON-RPC), end to end: an app
// page on another origin loads Cairn's /provider.js (one module script) and calls Connect's
// request({provider: window.CairnProvider}, …); Cairn's popup (/rpc.html) asks, and answers
// by postMessage. Expected values come from @stacks/wallet-sdk and @stacks/encryption.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  generateWallet, getAppPrivateKey, getStxAddress, getGaiaAddress, signAndUploadProfile,
  fetchProfileFromUrl,
} from '@stacks/wallet-sdk';
import { extractProfile } from '@stacks/profile';
import { verifyMessageSignatureRsv } from '@stacks/encryption';
import {
  privateKeyToPublic, Cl, serializeCV, signStructuredData, encodeStructuredDataBytes,
  publicKeyFromSignatureRsv,
} from '@stacks/transactions';
import { createHash } from 'node:crypto';
import {
  useStack, withPage, restoreToHome, unlock, byRole, freshWords, repo, PASSWORD, SLOW, sleep,
  recordRequests,
} from './harness.mjs';
import { startServer, parseMount } from '../../../scripts/serve.mjs';

const stack = useStack();
const FIXTURES = path.join(repo, 'tests', 'node', 'e2e', 'fixtures', 'connect-app');
let app; // http://localhost:<port>, the app using Connect 8
let evil; // http://localhost:<port>, another site

before(async () => {
  // Connect 8 bundled for the browser with the page build's esbuild (window.Connect).
  const { build } = await import(path.join(repo, 'scripts', 'build-tools', 'node_modules', 'esbuild', 'lib', 'main.js'));
  const dir = fs.mkdtempSync(path.join(stack.tmp, 'connect-app-'));
  await build({
    stdin: {
      contents: "export { request, connect, JsonRpcError, JsonRpcErrorCode } from '@stacks/connect';\n" +
        "export { Cl } from '@stacks/transactions';",
      resolveDir: path.join(repo, 'tests', 'node'),
      loader: 'js',
    },
    bundle: true, format: 'iife', globalName: 'Connect', platform: 'browser', minify: true,
    outfile: path.join(dir, 'connect.js'), logLevel: 'error',
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  });
  // The npm package's copy of the provider (pkg/provider.js), served by the app itself.
  fs.copyFileSync(path.join(repo, 'pkg', 'provider.js'), path.join(dir, 'cairn-provider.js'));
  for (const f of fs.readdirSync(FIXTURES)) {
    const text = fs.readFileSync(path.join(FIXTURES, f), 'utf8');
    fs.writeFileSync(path.join(dir, f), text.replaceAll('__AUTH__', stack.auth));
  }
  const serveApp = async () => {
    const s = await startServer({
      host: '127.0.0.1', port: 0, log: false, mounts: [parseMount(`/=${dir}`)],
      csp: `default-src 'self'; script-src 'self' ${stack.auth}; style-src 'self' 'unsafe-inline'; ` +
        "img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'",
      // A hardened app: its own COOP still lets the popup it opens keep the opener.
      coop: 'same-origin-allow-popups',
      frameOptions: 'SAMEORIGIN',
    });
    stack.servers.push(s);
    return `http://localhost:${s.address().port}`;
  };
  app = await serveApp();
  evil = await serveApp();
});

/** The wallet-sdk account 0 of `words`. */
async function account(words) {
  const wallet = await generateWallet({ secretKey: words, password: PASSWORD });
  return wallet.accounts[0];
}

/** Opens the app page (provider loaded). */
async function openApp(context) {
  const page = await context.newPage();
  await page.goto(`${app}/`);
  await page.waitForFunction(() => window.CairnProvider && window.Connect);
  return page;
}

/**
 * Runs `Connect.request({provider: CairnProvider}, method, params)` from a click in the app
 * page; returns {popup, outcome} (outcome: a promise of {ok} or {err}).
 */
async function call(page, context, method, params) {
  await page.evaluate(([m, p]) => {
    window.next = () => window.Connect.request({ provider: window.CairnProvider }, m, p);
  }, [method, params]);
  const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#go')]);
  const outcome = popup.waitForEvent('close', { timeout: SLOW }).catch(() => {})
    .then(() => page.evaluate(() => window.outcome));
  outcome.catch(() => {}); // awaited by the test; a failed test must not leave it unhandled
  return { popup, outcome, result: () => page.evaluate(() => window.outcome) };
}

async function approve(popup) {
  const b = byRole(popup, 'button', 'Approve');
  await b.waitFor();
  await popup.waitForFunction(() => {
    const btn = [...document.querySelectorAll('button')].find((x) => x.textContent === 'Approve');
    return btn && !btn.disabled;
  });
  await b.click();
}

test('getAddresses: consent, Approve → wallet-sdk addresses; remembered: the next call answers without consent', { timeout: 120_000 }, async () => {
  await withPage(stack, 'connect-get-addresses', async ({ page, context, shot }) => {
    const words = freshWords();
    await restoreToHome(page, stack, words);
    const acct = await account(words);
    const publicKey = privateKeyToPublic(acct.stxPrivateKey);
    const appPage = await openApp(context);

    const first = await call(appPage, context, 'getAddresses');
    await unlock(first.popup);
    await byRole(first.popup, 'heading', `${app} wants to connect`).waitFor({ timeout: SLOW });
    assert.ok(await byRole(first.popup, 'radiogroup', 'Identity').isVisible());
    await byRole(first.popup, 'button', 'Deny').waitFor();
    await shot('consent', first.popup);
    await approve(first.popup);
    const r1 = await first.outcome;
    assert.deepEqual(r1, {
      ok: { addresses: [{ symbol: 'STX', address: getStxAddress(acct, 'mainnet'), publicKey }] },
    });

    // Connected: stx_getAddresses on testnet comes back without a consent screen.
    const second = await call(appPage, context, 'stx_getAddresses', { network: 'testnet' });
    await unlock(second.popup);
    const r2 = await second.outcome;
    assert.equal(r2.ok.addresses[0].address, getStxAddress(acct, 'testnet'));
    assert.match(r2.ok.addresses[0].address, /^ST/);
    assert.equal(r2.ok.addresses[0].publicKey, publicKey);

    // Apps lists the connection in plain words; Disconnect makes the app ask again.
    await byRole(page, 'link', 'Apps').click();
    await page.getByText('Permissions: connected via wallet interface').waitFor({ timeout: SLOW });
    await byRole(page, 'button', `Disconnect ${app}`).click();
    await page.getByText('No connected apps yet.').waitFor({ timeout: SLOW });
    const third = await call(appPage, context, 'getAddresses');
    await unlock(third.popup);
    await byRole(third.popup, 'heading', `${app} wants to connect`).waitFor({ timeout: SLOW });
    await byRole(third.popup, 'button', 'Deny').click();
    assert.equal((await third.outcome).err.code, -32000);
  });
});

test("connect(): Connect's own wallet picker lists Cairn (window.wbip_providers); choosing it connects", { timeout: 120_000 }, async () => {
  await withPage(stack, 'connect-picker', async ({ page, context, shot }) => {
    const words = freshWords();
    await restoreToHome(page, stack, words);
    const acct = await account(words);
    const appPage = await openApp(context);
    assert.deepEqual(await appPage.evaluate(() => window.wbip_providers.map((p) => [p.id, p.name, p.webUrl])),
      [['CairnProvider', 'Cairn', `${stack.auth}/`]]);
    await appPage.evaluate(() => {
      window.next = () => window.Connect.connect();
    });
    await appPage.click('#go');
    // Cairn is the one installed wallet: its row has the only "Connect" button.
    await appPage.getByText('Cairn', { exact: true }).first().waitFor();
    const choose = appPage.getByRole('button', { name: 'Connect', exact: true });
    assert.equal(await choose.count(), 1);
    await sleep(500); // the modal fades in
    await shot('picker', appPage);
    const [popup] = await Promise.all([context.waitForEvent('page'), choose.click()]);
    await unlock(popup);
    await byRole(popup, 'heading', `${app} wants to connect`).waitFor({ timeout: SLOW });
    await approve(popup);
    await popup.waitForEvent('close', { timeout: SLOW }).catch(() => {});
    const r = await appPage.evaluate(() => window.outcome);
    assert.equal(r.ok.addresses[0].address, getStxAddress(acct, 'mainnet'));
  });
});

test('stx_getAccounts: gaiaAppKey is wallet-sdk getAppPrivateKey for the app origin, gaiaHubUrl the hub', { timeout: 120_000 }, async () => {
  await withPage(stack, 'connect-get-accounts', async ({ page, context, shot }) => {
    const words = freshWords();
    await restoreToHome(page, stack, words);
    const acct = await account(words);
    const urls = recordRequests(context);
    const appPage = await openApp(context);
    const { popup, outcome } = await call(appPage, context, 'stx_getAccounts');
    await unlock(popup);
    await byRole(popup, 'heading', `${app} wants to connect`).waitFor({ timeout: SLOW });
    await popup.getByText('Get its own storage key for your Gaia hub').waitFor();
    await shot('consent', popup);
    await approve(popup);
    const r = await outcome;
    assert.deepEqual(r.ok, {
      accounts: [{
        symbol: 'STX',
        address: getStxAddress(acct, 'mainnet'),
        publicKey: privateKeyToPublic(acct.stxPrivateKey),
        gaiaHubUrl: stack.hubUrl,
        gaiaAppKey: getAppPrivateKey({ account: acct, appDomain: app }),
      }],
    });
    // The popup (and its KDF worker) load the wallet module only, not the page's as well.
    assert.ok(urls.includes(`${stack.auth}/pkg/rpc/cairn_bg.wasm`), urls.join('\n'));
    assert.ok(!urls.some((u) => u.includes('/pkg/app/')), urls.join('\n'));
  });
});

test('stx_signMessage: the message shown exactly, the signature verifies with verifyMessageSignatureRsv', { timeout: 120_000 }, async () => {
  await withPage(stack, 'connect-sign-message', async ({ page, context, shot }) => {
    const words = freshWords();
    await restoreToHome(page, stack, words);
    const acct = await account(words);
    const appPage = await openApp(context);
    const message = 'Hello from the app\n  indented line\u200B\nend';
    const { popup, outcome } = await call(appPage, context, 'stx_signMessage', { message });
    await unlock(popup);
    await byRole(popup, 'heading', `Sign a message for ${app}`).waitFor({ timeout: SLOW });
    const shown = await popup.getByLabel('Message to sign').textContent();
    assert.equal(shown, 'Hello from the app\n  indented line[U+200B]\nend');
    await shot('consent', popup);
    await approve(popup);
    const r = await outcome;
    const publicKey = privateKeyToPublic(acct.stxPrivateKey);
    assert.equal(r.ok.publicKey, publicKey);
    assert.match(r.ok.signature, /^[0-9a-f]{130}$/);
    assert.ok(verifyMessageSignatureRsv({ message, signature: r.ok.signature, publicKey }));
  });
});

test('stx_signMessage with a Sign-In with Stacks message: its fields; a mismatch warns and needs "Sign anyway"', { timeout: 120_000 }, async () => {
  await withPage(stack, 'connect-siws', async ({ page, context, shot }) => {
    const words = freshWords();
    await restoreToHome(page, stack, words);
    const acct = await account(words);
    const publicKey = privateKeyToPublic(acct.stxPrivateKey);
    const siws = (domain, address) => `${domain} wants you to sign in with your Stacks account:\n${address}\n\n` +
      `Sign in to the test app.\n\nURI: ${app}/\nVersion: 1\nChain ID: 1\nNonce: abcdef123456\n` +
      'Issued At: 2026-12-03T03:00:00Z';
    const appPage = await openApp(context);

    // Matching: the fields, no warning.
    const good = siws(new URL(app).host, getStxAddress(acct, 'mainnet'));
    const one = await call(appPage, context, 'stx_signMessage', { message: good });
    await unlock(one.popup);
    await one.popup.getByText('This is a sign-in message:').waitFor({ timeout: SLOW });
    assert.equal(await one.popup.locator('dl.sign-in-fields dd').first().textContent(), new URL(app).host);
    assert.equal(await one.popup.getByText(/This sign-in message (is for|names)/).count(), 0);
    await shot('matching', one.popup);
    await approve(one.popup);
    assert.ok(verifyMessageSignatureRsv({ message: good, signature: (await one.outcome).ok.signature, publicKey }));

    // Another domain and address: a warning, and Approve alone does not sign.
    const bad = siws('evil.example', 'SP000000000000000000002Q6VF78');
    const two = await call(appPage, context, 'stx_signMessage', { message: bad });
    await unlock(two.popup);
    await two.popup.getByText('This sign-in message is for evil.example, but the request comes from').waitFor({ timeout: SLOW });
    await two.popup.getByText('This sign-in message names the address SP000000000000000000002Q6VF78').waitFor();
    await shot('mismatch', two.popup);
    await approve(two.popup);
    await two.popup.getByText('Tick "Sign anyway" to sign it.').waitFor();
    assert.equal(two.popup.isClosed(), false);
    await two.popup.getByLabel('Sign anyway: I know why this message does not match').check();
    await byRole(two.popup, 'button', 'Approve').click();
    assert.ok(verifyMessageSignatureRsv({ message: bad, signature: (await two.outcome).ok.signature, publicKey }));
  });
});

/**
 * Like `call`, for stx_signStructuredMessage: the values travel to the app page as hex and
 * are turned back into @stacks/transactions ClarityValue objects there (Cl.deserialize), so
 * Connect serializes them itself, as an app's call does.
 */
async function callStructured(page, context, domain, message) {
  await page.evaluate(([d, m]) => {
    const { Cl } = window.Connect;
    window.next = () => window.Connect.request({ provider: window.CairnProvider }, 'stx_signStructuredMessage',
      { domain: Cl.deserialize(d), message: Cl.deserialize(m) });
  }, [serializeCV(domain), serializeCV(message)]);
  const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#go')]);
  const outcome = popup.waitForEvent('close', { timeout: SLOW }).catch(() => {})
    .then(() => page.evaluate(() => window.outcome));
  outcome.catch(() => {});
  return { popup, outcome };
}

test('stx_signStructuredMessage: domain and readable tree shown; the signature is @stacks/transactions\' over its hash', { timeout: 120_000 }, async () => {
  await withPage(stack, 'connect-structured', async ({ page, context, shot }) => {
    const words = freshWords();
    await restoreToHome(page, stack, words);
    const acct = await account(words);
    const publicKey = privateKeyToPublic(acct.stxPrivateKey);
    const appPage = await openApp(context);
    const domain = Cl.tuple({ name: Cl.stringAscii('Cairn Test App'), version: Cl.stringAscii('1.0.0'), 'chain-id': Cl.uint(1) });
    const message = Cl.tuple({
      action: Cl.stringAscii('vote'),
      amount: Cl.uint(1000000n),
      memo: Cl.some(Cl.stringUtf8('snow \u202e mountain')),
      choices: Cl.list([Cl.int(-1), Cl.int(2)]),
      voter: Cl.standardPrincipal(getStxAddress(acct, 'mainnet')),
      proof: Cl.ok(Cl.bufferFromHex('cafe01')),
      done: Cl.bool(false),
    });
    const { popup, outcome } = await callStructured(appPage, context, domain, message);
    await unlock(popup);
    await byRole(popup, 'heading', `Sign structured data for ${app}`).waitFor({ timeout: SLOW });
    const fields = await popup.locator('dl[aria-label="Domain"] dd').allTextContents();
    assert.deepEqual(fields, ['"Cairn Test App"', '"1.0.0"', '1 (mainnet)']);
    const tree = await popup.getByLabel('Structured message to sign').textContent();
    // The tree as Cairn renders it: fields in the order sent (Clarity's sorted order).
    assert.match(tree, /^tuple, 7 fields\n/);
    assert.match(tree, /\n {2}amount: u1000000(\n|$)/);
    assert.match(tree, /\n {2}memo: \(some u"snow \\u\{202e\} mountain"\)(\n|$)/);
    assert.match(tree, /\n {2}choices: list, 2 items\n {4}\[0\]: -1\n {4}\[1\]: 2(\n|$)/);
    assert.match(tree, /\n {2}proof: \(ok 0xcafe01\)(\n|$)/);
    assert.match(tree, /\n {2}done: false(\n|$)/);
    await byRole(popup, 'radiogroup', 'Identity').waitFor();
    await shot('consent', popup);
    await approve(popup);
    const r = await outcome;
    assert.equal(r.ok.publicKey, publicKey);
    assert.match(r.ok.signature, /^[0-9a-f]{130}$/);
    // Byte for byte @stacks/transactions' signature (RFC 6979), and it recovers the key
    // from @stacks/transactions' structured-data hash.
    assert.equal(r.ok.signature, signStructuredData({ message, domain, privateKey: acct.stxPrivateKey }));
    const hash = createHash('sha256').update(encodeStructuredDataBytes({ message, domain })).digest('hex');
    assert.equal(publicKeyFromSignatureRsv(hash, r.ok.signature), publicKey);

    // Deny: -32000; closing the popup: -31001.
    const denied = await callStructured(appPage, context, domain, Cl.uint(5));
    await unlock(denied.popup);
    await byRole(denied.popup, 'heading', `Sign structured data for ${app}`).waitFor({ timeout: SLOW });
    await byRole(denied.popup, 'button', 'Deny').click();
    assert.equal((await denied.outcome).err.code, -32000);
    const closed = await callStructured(appPage, context, domain, Cl.uint(6));
    await unlock(closed.popup);
    await byRole(closed.popup, 'heading', `Sign structured data for ${app}`).waitFor({ timeout: SLOW });
    await closed.popup.close();
    assert.equal((await closed.outcome).err.code, -31001);
  });
});

test('stx_signStructuredMessage: bad params are -32602 naming the field', { timeout: 120_000 }, async () => {
  await withPage(stack, 'connect-structured-errors', async ({ page, context }) => {
    await restoreToHome(page, stack, freshWords());
    const appPage = await openApp(context);
    const domain = serializeCV(Cl.tuple({ name: Cl.stringAscii('A'), version: Cl.stringAscii('1'), 'chain-id': Cl.uint(1) }));
    const cases = [
      [{ domain, message: 42 }, /params\.message must be a hex-serialized Clarity value/],
      [{ message: '0100000000000000000000000000000005' }, /params\.domain must be/],
      [{ domain, message: '0e00000010ff' }, /params\.message: Clarity value: the string-utf8 length at byte 1 declares 16/],
      [{ domain: serializeCV(Cl.tuple({ name: Cl.stringAscii('A'), version: Cl.uint(1), 'chain-id': Cl.uint(1) })),
        message: '03' }, /params\.domain: SIP-018 domain: field "version" must be a string-ascii/],
      [{ domain: '0c0000', message: '03' }, /params\.domain: Clarity value/],
    ];
    for (const [params, want] of cases) {
      const { outcome } = await call(appPage, context, 'stx_signStructuredMessage', params);
      const r = await outcome;
      assert.equal(r.err?.code, -32602, JSON.stringify(r));
      assert.match(r.err.message, want);
    }
  });
});

test('stx_updateProfile: the change shown against the stored profile; signed profile.json on the hub, as wallet-sdk reads it', { timeout: 150_000 }, async () => {
  await withPage(stack, 'connect-update-profile', async ({ page, context, shot }) => {
    const words = freshWords();
    await restoreToHome(page, stack, words);
    const acct = await account(words);
    const publicKey = privateKeyToPublic(acct.stxPrivateKey);
    const info = await (await fetch(`${stack.hubUrl}/hub_info`)).json();
    const profileUrl = `${info.read_url_prefix}${getGaiaAddress(acct)}/profile.json`;
    // A profile written before by @stacks/wallet-sdk itself, with another app's bucket.
    const apps = { 'https://other.example': `${info.read_url_prefix}1OtherBucket/` };
    await signAndUploadProfile({
      profile: { '@type': 'Person', '@context': 'http://schema.org', name: 'Old Name', description: 'gone soon', apps },
      account: acct, gaiaHubUrl: stack.hubUrl,
    });
    const appPage = await openApp(context);
    const update = { '@type': 'Person', name: 'Alice Example', image: [{ '@type': 'ImageObject', name: 'avatar', contentUrl: 'https://example.com/a.png' }] };
    const { popup, outcome } = await call(appPage, context, 'stx_updateProfile', { profile: update });
    await unlock(popup);
    await byRole(popup, 'heading', `Update your public profile for ${app}`).waitFor({ timeout: SLOW });
    const table = byRole(popup, 'table', 'Profile changes');
    await table.waitFor({ timeout: SLOW });
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    assert.deepEqual(rows, [
      ['name', '"Old Name"', '"Alice Example"'],
      ['image', '(not set)', JSON.stringify(update.image)],
      ['description', '"gone soon"', '(removed)'],
    ]);
    await shot('consent', popup);
    await approve(popup);
    const r = await outcome;
    const written = { '@type': 'Person', '@context': 'http://schema.org', name: 'Alice Example', image: update.image, apps };
    assert.deepEqual(r.ok, { profile: written });

    // Read back from the hub: signed by the STX key (extractProfile verifies it), the
    // claim as wallet-sdk's fetchProfileFromUrl reads it; the other app's entry kept.
    const body = await (await fetch(profileUrl)).json();
    assert.equal(body.length, 1);
    assert.deepEqual(extractProfile(body[0].token, publicKey), written);
    assert.deepEqual(await fetchProfileFromUrl(profileUrl), written);
    assert.equal(body[0].decodedToken.payload.issuer.publicKey, publicKey);

    // Deny: -32000, nothing written; closing the popup: -31001.
    const denied = await call(appPage, context, 'stx_updateProfile', { profile: { name: 'Mallory' } });
    await unlock(denied.popup);
    await byRole(denied.popup, 'table', 'Profile changes').waitFor({ timeout: SLOW });
    await byRole(denied.popup, 'button', 'Deny').click();
    assert.equal((await denied.outcome).err.code, -32000);
    assert.deepEqual(await fetchProfileFromUrl(profileUrl), written);
    const closed = await call(appPage, context, 'stx_updateProfile', { profile: { name: 'Mallory' } });
    await unlock(closed.popup);
    await byRole(closed.popup, 'heading', `Update your public profile for ${app}`).waitFor({ timeout: SLOW });
    await closed.popup.close();
    assert.equal((await closed.outcome).err.code, -31001);
    const bad = await call(appPage, context, 'stx_updateProfile', { profile: 'x' });
    const b = await bad.outcome;
    assert.equal(b.err.code, -32602);
    assert.match(b.err.message, /params\.profile/);
  });
});

test("the npm package's provider.js: nothing on import, installCairnProvider(url) makes Cairn a provider for that authenticator", { timeout: 120_000 }, async () => {
  await withPage(stack, 'connect-package-provider', async ({ page, context }) => {
    await restoreToHome(page, stack, freshWords());
    const appPage = await context.newPage();
    await appPage.goto(`${app}/pkg.html`);
    await appPage.waitForFunction(() => window.CairnProvider && window.Connect);
    assert.deepEqual(await appPage.evaluate(() => [window.installedOnImport, window.returned]), [false, true]);
    assert.deepEqual(await appPage.evaluate(() => window.wbip_providers.map((p) => [p.id, p.webUrl])),
      [['CairnProvider', `${stack.auth}/`]]);
    const { popup, outcome } = await call(appPage, context, 'getAddresses');
    assert.ok(popup.url().startsWith(`${stack.auth}/rpc.html`), popup.url());
    await unlock(popup);
    await byRole(popup, 'heading', `${app} wants to connect`).waitFor({ timeout: SLOW });
    await byRole(popup, 'button', 'Deny').click();
    assert.equal((await outcome).err.code, -32000);
  });
});

test('errors: Deny -32000, closing the popup -31001, unknown and transaction methods -32601, bad params -32602, blocked popup', { timeout: 120_000 }, async () => {
  await withPage(stack, 'connect-errors', async ({ page, context }) => {
    const words = freshWords();
    await restoreToHome(page, stack, words);
    const appPage = await openApp(context);

    const denied = await call(appPage, context, 'getAddresses');
    await unlock(denied.popup);
    await byRole(denied.popup, 'button', 'Deny').click({ timeout: SLOW });
    assert.equal((await denied.outcome).err.code, -32000);

    const closed = await call(appPage, context, 'getAddresses');
    await byRole(closed.popup, 'heading', 'Unlock Cairn').waitFor({ timeout: SLOW });
    await closed.popup.close();
    await appPage.waitForFunction(() => window.outcome && true);
    const c = await closed.result();
    assert.equal(c.err.code, -31001);

    const unknown = await call(appPage, context, 'stx_mintMoney', {});
    const u = await unknown.outcome;
    assert.equal(u.err.code, -32601);
    assert.match(u.err.message, /stx_mintMoney/);

    const tx = await call(appPage, context, 'stx_transferStx', { recipient: 'SP000000000000000000002Q6VF78', amount: '1' });
    const t = await tx.outcome;
    assert.equal(t.err.code, -32601);
    assert.match(t.err.message, /does not sign or send transactions/);

    const bad = await call(appPage, context, 'stx_signMessage', { message: 42 });
    const b = await bad.outcome;
    assert.equal(b.err.code, -32602);
    assert.match(b.err.message, /params\.message/);

    const net = await call(appPage, context, 'getAddresses', { network: 'moon' });
    const n = await net.outcome;
    assert.equal(n.err.code, -32602);
    assert.match(n.err.message, /params\.network/);

    // A pop-up blocker: window.open gives null.
    await appPage.evaluate(() => {
      window.open = () => null;
      window.next = () => window.Connect.request({ provider: window.CairnProvider }, 'getAddresses');
    });
    await appPage.click('#go');
    const blocked = await appPage.evaluate(() => window.outcome);
    assert.equal(blocked.err.code, -31000);
    assert.match(blocked.err.message, /blocked.*pop-ups/);
  });
});

test('forged traffic gets nothing: another window of the app, a replayed id, another site claiming to be the app', { timeout: 150_000 }, async () => {
  await withPage(stack, 'connect-forged', async ({ page, context, shot }) => {
    const words = freshWords();
    await restoreToHome(page, stack, words);
    // Record the app's popup handle and everything the app's top window receives.
    await context.addInitScript(() => {
      if (location.hostname !== 'localhost') return;
      const open = window.open;
      window.popups = [];
      window.got = window.got || [];
      window.open = function (...a) {
        const w = open.apply(this, a);
        if (w) window.popups.push(w);
        return w;
      };
      if (window === window.top) window.addEventListener('message', (e) => window.got.push({ origin: e.origin, data: e.data }));
    });
    const appPage = await openApp(context);
    const pending = await call(appPage, context, 'getAddresses');
    await pending.popup.locator('#cairn-status[data-state="ready"]').waitFor({ timeout: SLOW });
    await sleep(300);

    // From a frame of the app's own origin (right origin, wrong window): ignored.
    const frame = appPage.frames().find((f) => f.url().endsWith('/frame.html'));
    await frame.evaluate((auth) => {
      window.parent.popups[0].postMessage({ jsonrpc: '2.0', id: 'forged-1', method: 'stx_mintMoney' }, auth);
      window.parent.popups[0].postMessage({ jsonrpc: '2.0', id: 'forged-2', method: 'getAddresses' }, auth);
    }, stack.auth);

    // From the app's window itself: answered once; the same id again: ignored.
    await appPage.evaluate((auth) => {
      window.popups[0].postMessage({ jsonrpc: '2.0', id: 'x1', method: 'stx_mintMoney' }, auth);
    }, stack.auth);
    await appPage.waitForFunction(() => window.got.some((m) => m.data && m.data.id === 'x1'));
    await appPage.evaluate((auth) => {
      window.popups[0].postMessage({ jsonrpc: '2.0', id: 'x1', method: 'stx_mintMoney' }, auth);
      window.popups[0].postMessage({ jsonrpc: '2.0', id: 'x1', method: 'getAddresses' }, auth);
    }, stack.auth);
    await sleep(1500);
    const got = await appPage.evaluate(() => window.got.filter((m) => m.data && m.data.id !== undefined));
    assert.deepEqual(got.map((m) => [m.origin, m.data.id, m.data.error?.code]), [[stack.auth, 'x1', -32601]]);
    const frameGot = await frame.evaluate(() => window.got);
    assert.deepEqual(frameGot, []);

    // The legitimate request is still the only one on screen; connect the app.
    await unlock(pending.popup);
    await byRole(pending.popup, 'heading', `${app} wants to connect`).waitFor({ timeout: SLOW });
    await approve(pending.popup);
    assert.ok((await pending.outcome).ok.addresses[0].address.startsWith('SP'));

    // Another site opens Cairn's popup itself and claims (in the URL) to be the app: the
    // "ready" note never reaches it, and its own request is asked about under its own
    // origin (the app's connection does not count for it).
    const evilPage = await context.newPage();
    await evilPage.goto(`${evil}/evil.html?auth=${encodeURIComponent(stack.auth)}&claim=${encodeURIComponent(app)}`);
    const [popup] = await Promise.all([context.waitForEvent('page'), evilPage.click('#go')]);
    await popup.locator('#cairn-status[data-state="ready"]').waitFor({ timeout: SLOW });
    await sleep(500);
    assert.deepEqual(await evilPage.evaluate(() => window.got), []);
    await evilPage.evaluate(() => window.w.postMessage({ jsonrpc: '2.0', id: 'e1', method: 'getAddresses' }, window.AUTH));
    await unlock(popup);
    await byRole(popup, 'heading', `${evil} wants to connect`).waitFor({ timeout: SLOW });
    await shot('other-site', popup);
    assert.deepEqual(await evilPage.evaluate(() => window.got), []);
  });
});
