// The demo app's Connect 8 page (demo/connect.html) end to end, through the real
// @stacks/connect 8 (bundled by scripts/build-demo.mjs), Cairn's provider and popup, the
// demo server's API (scripts/demo-api.mjs, verifying with Cairn's package in Node) and a
// real cairn-hub:
//  - Connect through Connect's own picker (Cairn listed), the address shown;
//  - "Sign in to the demo server": nonce → SIWS message → stx_signMessage in Cairn's popup →
//    the server verifies → "Verified as SP…", an HttpOnly SameSite=Strict cookie; a replay of
//    the same signed message is refused; every request reaching the demo server is recorded
//    and none carries the app key, a Gaia token or the wallet's keys;
//  - "Sign a message" verifies with @stacks/encryption; "Save note" writes note.txt to the hub
//    with gaiaAppKey through @stacks/storage, and "Load note" reads it back.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { generateWallet, getAppPrivateKey, getStxAddress } from '@stacks/wallet-sdk';
import { verifyMessageSignatureRsv } from '@stacks/encryption';
import {
  privateKeyToPublic, publicKeyFromSignatureRsv, encodeStructuredDataBytes, Cl,
} from '@stacks/transactions';
import { createHash } from 'node:crypto';
import {
  useStack, withPage, restoreToHome, unlock, byRole, freshWords, repo, PASSWORD, SLOW, sleep, cairn,
} from './harness.mjs';

const stack = useStack();

// stx_signStructuredMessage came from another branch (wt-wallet, merged here): the test runs
// when the wallet interface knows the method.
const STRUCTURED = fs.readFileSync(path.join(repo, 'crates', 'core', 'src', 'protocol', 'wallet_rpc.rs'), 'utf8')
  .includes('"stx_signStructuredMessage"');

before(() => {
  const bundle = path.join(repo, 'demo', 'vendor', 'stacks.js');
  assert.ok(fs.existsSync(bundle), `${bundle} is missing: run node scripts/build-demo.mjs (./test does)`);
});

async function account(words) {
  const wallet = await generateWallet({ secretKey: words, password: PASSWORD });
  return wallet.accounts[0];
}

/** Every request reaching the demo server: method, URL, headers and body. */
function recordDemoServer() {
  const seen = [];
  const listener = (req) => {
    const entry = { method: req.method, url: req.url, headers: JSON.stringify(req.headers), body: '' };
    seen.push(entry);
    req.on('data', (c) => (entry.body += c.toString('utf8')));
  };
  stack.demoServer.on('request', listener);
  return { seen, stop: () => stack.demoServer.off('request', listener) };
}

/** Approves in Cairn's popup and waits for it to close (the next request opens a new one). */
async function approve(popup) {
  const b = byRole(popup, 'button', 'Approve');
  await b.waitFor({ timeout: SLOW });
  await popup.waitForFunction(() => {
    const btn = [...document.querySelectorAll('button')].find((x) => x.textContent === 'Approve');
    return btn && !btn.disabled;
  });
  const closed = popup.waitForEvent('close', { timeout: SLOW });
  await b.click();
  await closed;
}

/** Clicks `button` in the demo page and returns Cairn's popup (unlocked). */
async function popupFrom(context, demoPage, name) {
  const [popup] = await Promise.all([context.waitForEvent('page'), byRole(demoPage, 'button', name).click()]);
  await unlock(popup);
  return popup;
}

test('demo Connect page: connect via the picker, sign in to the demo server (replay refused), sign, save a note', { timeout: 240_000 }, async () => {
  await withPage(stack, 'demo-connect', async ({ page, context, shot }) => {
    const words = freshWords();
    await restoreToHome(page, stack, words);
    const acct = await account(words);
    const stxAddress = getStxAddress(acct, 'mainnet');
    const publicKey = privateKeyToPublic(acct.stxPrivateKey);
    const appKey = getAppPrivateKey({ account: acct, appDomain: stack.demo });
    const rec = recordDemoServer();

    const demo = await context.newPage();
    await demo.goto(`${stack.demo}/connect.html`);
    await demo.locator('body[data-ready="true"]').waitFor({ timeout: SLOW });
    await shot('signed-out', demo);

    // Connect, from the keyboard: the two page links, then "Connect a wallet"; Enter opens
    // Connect's own picker, which lists Cairn; choosing it opens Cairn's popup.
    const focused = () => demo.evaluate(() => document.activeElement?.textContent?.trim());
    const order = [];
    for (let i = 0; i < 3; i++) {
      await demo.keyboard.press('Tab');
      order.push(await focused());
    }
    assert.deepEqual(order, ['Sign in with an authRequest', 'Connect 8 and the demo server', 'Connect a wallet']);
    await demo.keyboard.press('Enter');
    await demo.getByText('Cairn', { exact: true }).first().waitFor();
    await sleep(500); // the modal fades in
    await shot('picker', demo);
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      demo.getByRole('button', { name: 'Connect', exact: true }).click(),
    ]);
    await unlock(popup);
    await byRole(popup, 'heading', `${stack.demo} wants to connect`).waitFor({ timeout: SLOW });
    await approve(popup);
    await demo.getByText(`Connected as ${stxAddress}.`).waitFor({ timeout: SLOW });
    assert.equal((await demo.locator('#address').textContent()).trim(), stxAddress);
    await shot('connected', demo);

    // Sign in to the demo server: Cairn's popup shows the sign-in message's fields.
    const siwsPopup = await popupFrom(context, demo, 'Sign in to the demo server');
    await byRole(siwsPopup, 'heading', `Sign a message for ${stack.demo}`).waitFor({ timeout: SLOW });
    await siwsPopup.getByText('This is a sign-in message:').waitFor();
    assert.equal(await siwsPopup.locator('dl.sign-in-fields dd').first().textContent(), new URL(stack.demo).host);
    assert.equal(await siwsPopup.getByText(/This sign-in message (is for|names)/).count(), 0);
    await shot('siws-consent', siwsPopup);
    await approve(siwsPopup);
    await demo.getByText(`Verified as ${stxAddress}`, { exact: true }).waitFor({ timeout: SLOW });
    await shot('verified', demo);

    // What the server got: a SIWS message for this origin with its nonce, signed by the account.
    const posts = rec.seen.filter((r) => r.method === 'POST' && r.url === '/api/session');
    assert.equal(posts.length, 1);
    const signed = JSON.parse(posts[0].body);
    assert.deepEqual(Object.keys(signed).sort(), ['message', 'signature']);
    const fields = cairn.parseSignInMessage(signed.message);
    assert.equal(fields.domain, new URL(stack.demo).host);
    assert.equal(fields.address, stxAddress);
    assert.equal(fields.uri, `${stack.demo}/`);
    assert.equal(fields.chainId, 1);
    assert.ok(verifyMessageSignatureRsv({ message: signed.message, signature: signed.signature, publicKey }));
    const nonceGets = rec.seen.filter((r) => r.method === 'GET' && r.url === '/api/nonce');
    assert.equal(nonceGets.length, 1);

    // The session cookie: HttpOnly, SameSite=Strict; a reload still shows the verified address.
    const cookies = await context.cookies(stack.demo);
    const session = cookies.find((c) => c.name === 'cairn_demo_session');
    assert.ok(session, JSON.stringify(cookies));
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(await demo.evaluate(() => document.cookie), '');
    await demo.reload();
    await demo.getByText(`Verified as ${stxAddress}`, { exact: true }).waitFor({ timeout: SLOW });

    // A replay of the very same signed message (from anywhere): refused, the nonce is used.
    const replay = await fetch(`${stack.demo}/api/session`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: posts[0].body,
    });
    assert.equal(replay.status, 409);
    assert.equal((await replay.json()).error.code, 'nonce_used');
    assert.equal(replay.headers.get('set-cookie'), null);

    // Sign a message: the signature verifies with @stacks/encryption.
    const message = `Hello from the demo ${Date.now()}`;
    await demo.getByLabel('Message', { exact: true }).fill(message);
    const signPopup = await popupFrom(context, demo, 'Sign a message');
    await byRole(signPopup, 'heading', `Sign a message for ${stack.demo}`).waitFor({ timeout: SLOW });
    assert.equal(await signPopup.getByLabel('Message to sign').textContent(), message);
    await approve(signPopup);
    await demo.getByText('Message signed.').waitFor({ timeout: SLOW });
    const signature = (await demo.locator('#signature').textContent()).trim();
    assert.equal((await demo.locator('#public-key').textContent()).trim(), publicKey);
    assert.ok(verifyMessageSignatureRsv({ message, signature, publicKey }));

    // Save note: stx_getAccounts (consent for the storage key), then @stacks/storage to the hub.
    const hubAuth = [];
    context.on('request', (r) => {
      const a = r.headers().authorization;
      if (a) hubAuth.push(a.replace(/^bearer /i, ''));
    });
    const text = `a note from the Connect page ${Date.now()} ✓`;
    await demo.getByLabel('Note', { exact: true }).fill(text);
    const accountsPopup = await popupFrom(context, demo, 'Save note');
    await byRole(accountsPopup, 'heading', `${stack.demo} wants to connect`).waitFor({ timeout: SLOW });
    await accountsPopup.getByText('Get its own storage key for your Gaia hub').waitFor();
    await approve(accountsPopup);
    await demo.getByRole('status').filter({ hasText: /^Saved note\.txt/ }).waitFor({ timeout: SLOW });
    const { read_url_prefix: readPrefix } = await (await fetch(`${stack.hubUrl}/hub_info`)).json();
    const stored = await fetch(`${readPrefix}${cairn.bucketAddress(appKey)}/note.txt`);
    assert.equal(stored.status, 200);
    assert.equal(await stored.text(), text);
    // Load note reads it back (the hub config stays in the page: no second popup).
    await demo.getByLabel('Note', { exact: true }).fill('');
    await byRole(demo, 'button', 'Load note').click();
    await demo.getByRole('status').filter({ hasText: 'Loaded note.txt.' }).waitFor({ timeout: SLOW });
    assert.equal(await demo.getByLabel('Note', { exact: true }).inputValue(), text);
    assert.ok(hubAuth.length > 0, 'the page wrote to the hub with a Gaia token');
    await shot('note-saved', demo);

    // Nothing that reached the demo server could act for the user: no app key, no Gaia
    // token, no wallet key, no Secret Key (in URLs, headers or bodies).
    rec.stop();
    assert.ok(rec.seen.length > 5);
    const secrets = [
      ['the app key (gaiaAppKey)', appKey],
      ['the STX private key', acct.stxPrivateKey],
      ['the data private key', acct.dataPrivateKey],
      ['the Secret Key', words],
      ...hubAuth.map((t, i) => [`Gaia token ${i}`, t]),
    ];
    for (const r of rec.seen) {
      const all = `${r.url}\n${r.headers}\n${r.body}`.toLowerCase();
      for (const [what, secret] of secrets) {
        assert.ok(!all.includes(secret.toLowerCase().slice(0, 64)), `${what} reached the demo server: ${r.method} ${r.url}`);
      }
      assert.ok(!/bearer|authresponse|private_key/i.test(all), `${r.method} ${r.url}`);
    }

    // Sign out of the demo server: the cookie is cleared.
    await byRole(demo, 'button', 'Sign out of the demo server').click();
    await demo.getByText('Not signed in to the demo server.').waitFor();
    assert.equal((await context.cookies(stack.demo)).some((c) => c.name === 'cairn_demo_session'), false);
  });
});

test('demo Connect page: "Sign structured data" signs the SIP-018 tuple the page shows', STRUCTURED ? { timeout: 180_000 } : { skip: 'waiting for stx_signStructuredMessage in the wallet (branch wt-wallet)' }, async () => {
  await withPage(stack, 'demo-connect-structured', async ({ page, context, shot }) => {
    const words = freshWords();
    await restoreToHome(page, stack, words);
    const acct = await account(words);
    const publicKey = privateKeyToPublic(acct.stxPrivateKey);
    const demo = await context.newPage();
    await demo.goto(`${stack.demo}/connect.html`);
    await demo.locator('body[data-ready="true"]').waitFor({ timeout: SLOW });
    await byRole(demo, 'button', 'Connect a wallet').click();
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      demo.getByRole('button', { name: 'Connect', exact: true }).click(),
    ]);
    await unlock(popup);
    await approve(popup);
    const text = `structured ${Date.now()}`;
    await demo.getByLabel('Message', { exact: true }).fill(text);
    const signPopup = await popupFrom(context, demo, 'Sign structured data');
    await byRole(signPopup, 'heading', `Sign structured data for ${stack.demo}`).waitFor({ timeout: SLOW });
    await signPopup.getByText(text).first().waitFor();
    await shot('consent', signPopup);
    await approve(signPopup);
    await demo.getByText('Structured data signed.').waitFor({ timeout: SLOW });
    const signature = (await demo.locator('#signature').textContent()).trim();
    assert.equal((await demo.locator('#public-key').textContent()).trim(), publicKey);
    // What the page asked to sign (connect.js), hashed as SIP-018 says.
    const message = Cl.tuple({ app: Cl.stringAscii('Cairn Demo'), message: Cl.stringUtf8(text) });
    const domain = Cl.tuple({ name: Cl.stringAscii('Cairn Demo'), version: Cl.stringAscii('1.0.0'), 'chain-id': Cl.uint(1) });
    const hash = createHash('sha256').update(encodeStructuredDataBytes({ message, domain })).digest('hex');
    assert.equal(publicKeyFromSignatureRsv(hash, signature), publicKey);
  });
});
