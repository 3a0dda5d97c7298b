// Trust (docs/SECURITY.md): what must hold against someone who reads the browser's storage
// after the user closed Cairn's tab, and against someone who can write the user's Gaia bucket.
//
// (T1) A closed tab leaves nothing that opens: after restore and a sign-in, the tab is closed;
//      a new tab of the same profile collects every CryptoKey and every byte buffer and string
//      that the origin stores (IndexedDB, localStorage, Cache Storage, cookies) and tries every
//      key (stored CryptoKeys, and every 16- or 32-byte value as a raw AES key) with every
//      12-byte IV against every buffer: nothing decrypts. The same trial with the live tab's
//      sessionStorage does decrypt (so the trial can find a session), a reload keeps the
//      session, and the closed tab's record is purged.
// (T2) A forged settings file is not believed: the file on the hub is signed (verifiable with
//      @stacks/encryption's verifyECDSA); a forger decrypts it with the identity key, adds an
//      app with a collection grant and a pending revocation that would hand that app keys, and
//      writes it back encrypted but unsigned. Restored in a fresh profile: the page says the file
//      isn't signed, the forged app appears in neither Apps nor Permissions, and nothing is
//      written to its bucket. A signed-layout forgery is named as not trustworthy. "Sign
//      settings file" (the migration of an earlier Cairn's file) adopts it once confirmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { generateWallet } from '@stacks/wallet-sdk';
import { decryptECIES, encryptECIES, verifyECDSA } from '@stacks/encryption';
import {
  useStack, withPage, cairn, byRole, freshWords, restoreToHome, stacksAuthRequest, SLOW,
  mainNav, sleep,
} from './harness.mjs';

const stack = useStack();

/** Every key candidate and every buffer the origin stores (runs in the page). */
async function collect(page) {
  return page.evaluate(async () => {
    const buffers = [];
    const keys = [];
    const strings = [];
    const walk = (v, depth = 0) => {
      if (depth > 20 || v === null || v === undefined) return;
      if (typeof v === 'string') { strings.push(v); return; }
      if (typeof v !== 'object') return;
      if (v instanceof CryptoKey) { keys.push(v); return; }
      if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
        const u8 = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        buffers.push(Array.from(u8));
        return;
      }
      for (const x of Object.values(v)) walk(x, depth + 1);
    };
    for (const { name, version } of await indexedDB.databases()) {
      const db = await new Promise((res, rej) => {
        const r = indexedDB.open(name, version);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      for (const storeName of db.objectStoreNames) {
        const os = db.transaction(storeName, 'readonly').objectStore(storeName);
        const values = await new Promise((res) => { const r = os.getAll(); r.onsuccess = () => res(r.result); });
        const ks = await new Promise((res) => { const r = os.getAllKeys(); r.onsuccess = () => res(r.result); });
        values.forEach((v) => walk(v));
        ks.forEach((k) => walk(k));
      }
      db.close();
    }
    for (let i = 0; i < localStorage.length; i++) walk(localStorage.getItem(localStorage.key(i)));
    if (window.__withSessionStorage) {
      for (let i = 0; i < sessionStorage.length; i++) walk(sessionStorage.getItem(sessionStorage.key(i)));
    }
    if (self.caches) {
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const req of await cache.keys()) walk(new Uint8Array(await (await cache.match(req)).arrayBuffer()));
      }
    }
    walk(document.cookie);
    // Strings may hold bytes as JSON, base64 or hex: decode what decodes.
    const decoded = [];
    const fromB64 = (s) => { try { return Array.from(atob(s), (c) => c.charCodeAt(0)); } catch { return null; } };
    const fromHex = (s) => (/^([0-9a-f]{2})+$/i.test(s) ? s.match(/../g).map((h) => parseInt(h, 16)) : null);
    const scanString = (s, depth = 0) => {
      decoded.push(Array.from(new TextEncoder().encode(s)));
      for (const d of [fromB64(s), fromHex(s)]) if (d) decoded.push(d);
      if (depth < 3) {
        try { const j = JSON.parse(s); if (j && typeof j === 'object') JSON.stringify(j, (k, v) => { if (typeof v === 'string') scanString(v, depth + 1); return v; }); } catch {}
      }
    };
    strings.forEach((s) => scanString(s));
    const all = [...buffers, ...decoded];
    const candidates = [...keys];
    for (const b of all) {
      if (b.length === 16 || b.length === 32) {
        try { candidates.push(await crypto.subtle.importKey('raw', new Uint8Array(b), 'AES-GCM', false, ['decrypt'])); } catch {}
        try { candidates.push(await crypto.subtle.importKey('raw', new Uint8Array(b), 'AES-CBC', false, ['decrypt'])); } catch {}
      }
    }
    const ivs = all.filter((b) => b.length === 12 || b.length === 16);
    const cts = all.filter((b) => b.length >= 17);
    let opened = 0;
    for (const key of candidates) {
      for (const iv of ivs) {
        for (const ct of cts) {
          const alg = key.algorithm.name === 'AES-CBC' ? { name: 'AES-CBC', iv: new Uint8Array(iv.length === 16 ? iv : [...iv, 0, 0, 0, 0]) } : { name: 'AES-GCM', iv: new Uint8Array(iv) };
          if (key.algorithm.name === 'AES-CBC' && iv.length !== 16) continue;
          try {
            await crypto.subtle.decrypt(alg, key, new Uint8Array(ct));
            opened += 1;
          } catch {}
        }
      }
    }
    return { keys: keys.length, candidates: candidates.length, buffers: all.length, opened };
  });
}

/** The session records in IndexedDB `cairn`/`session`. */
async function sessionRecords(page) {
  return page.evaluate(async () => {
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open('cairn');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    if (!db.objectStoreNames.contains('session')) return 0;
    const os = db.transaction('session', 'readonly').objectStore('session');
    const n = await new Promise((res) => { const r = os.count(); r.onsuccess = () => res(r.result); });
    db.close();
    return n;
  });
}

test('(T1) a closed tab leaves nothing in storage that decrypts the Secret Key', async () => {
  await withPage(stack, 'trust-session', async ({ page, context, shot }) => {
    const words = freshWords(12);
    await restoreToHome(page, stack, words);
    const { token } = stacksAuthRequest(stack.demo, { scopes: ['store_write'] });
    await page.route((u) => u.origin === stack.demo && u.searchParams.has('authResponse'), (route) =>
      route.fulfill({ contentType: 'text/html', body: 'back in the app' }));
    await page.goto(`${stack.auth}/?authRequest=${token}`);
    await byRole(page, 'button', 'Approve').click();
    await page.waitForURL((u) => u.origin === stack.demo, { timeout: SLOW });

    // Back in the same tab: still unlocked (the session survives navigation and reloads).
    await page.goto(`${stack.auth}/`);
    await mainNav(page).waitFor({ timeout: SLOW });
    await page.reload();
    await mainNav(page).waitFor({ timeout: SLOW });
    assert.equal(await sessionRecords(page), 1, 'this tab has one session record');

    // The trial finds a live session when it is given this tab's sessionStorage too.
    await page.evaluate(() => { window.__withSessionStorage = true; });
    const live = await collect(page);
    assert.ok(live.opened >= 1, `with the tab's own sessionStorage the session opens (${JSON.stringify(live)})`);
    await page.evaluate(() => { window.__withSessionStorage = false; });
    const without = await collect(page);
    assert.equal(without.opened, 0, `without sessionStorage nothing opens, even while the tab lives (${JSON.stringify(without)})`);

    await page.close();
    const next = await context.newPage();
    await next.goto(`${stack.auth}/`);
    await byRole(next, 'heading', 'Unlock Cairn').waitFor({ timeout: SLOW });
    await shot('new-tab', next);
    const after = await collect(next);
    assert.ok(after.buffers > 0, 'the trial saw the stored vault');
    assert.equal(after.opened, 0, `nothing stored opens after the tab closed (${JSON.stringify(after)})`);
    // The closed tab's record was purged when this tab started.
    await sleep(300);
    assert.equal(await sessionRecords(next), 0, 'the closed tab\'s session record is gone');
  });
});

/** Identity 0's private key and bucket, an unscoped Gaia token for it, and the hub's read prefix. */
async function identityAccess(words) {
  const wallet = await generateWallet({ secretKey: words, password: 'e2e-trust' });
  const key = wallet.accounts[0].dataPrivateKey.slice(0, 64);
  const info = await (await fetch(`${stack.hubUrl}/hub_info`)).json();
  const gaiaToken = cairn.gaiaAuthToken(key, info.challenge_text, { hubUrl: stack.hubUrl });
  const address = cairn.bucketAddress(key);
  return { key, address, gaiaToken, info };
}

async function putSettings(access, body) {
  const r = await fetch(`${stack.hubUrl}/store/${access.address}/cairn/settings.json`, {
    method: 'POST',
    headers: { Authorization: `bearer ${access.gaiaToken}`, 'Content-Type': 'application/json' },
    body,
  });
  assert.equal(r.status, 202, await r.text());
}

async function getSettings(access) {
  const r = await fetch(`${access.info.read_url_prefix}${access.address}/cairn/settings.json`);
  assert.equal(r.status, 200);
  return r.text();
}

test('(T2) a forged settings file on the hub is not believed and writes nothing for the forger', async () => {
  const words = freshWords(12);
  const access = await identityAccess(words);
  const evil = 'https://evil.example';
  const victim = 'https://victim.example';
  const kc = cairn.Keychain.fromMnemonic(words);
  const evilBucket = cairn.bucketAddress(kc.appPrivateKey(0, evil));
  kc.free();

  // Cairn writes a signed settings file when the user signs in to an app.
  await withPage(stack, 'trust-settings-a', async ({ page }) => {
    await restoreToHome(page, stack, words);
    const { token } = stacksAuthRequest(stack.demo, { scopes: ['store_write'] });
    await page.route((u) => u.origin === stack.demo && u.searchParams.has('authResponse'), (route) =>
      route.fulfill({ contentType: 'text/html', body: 'back in the app' }));
    await page.goto(`${stack.auth}/?authRequest=${token}`);
    await byRole(page, 'button', 'Approve').click();
    await page.waitForURL((u) => u.origin === stack.demo, { timeout: SLOW });
  });
  const genuine = JSON.parse(await getSettings(access));
  assert.deepEqual(Object.keys(genuine).sort(), ['cipherText', 'publicKey', 'signature']);
  assert.equal(genuine.publicKey, cairn.publicKeyFromPrivate(access.key));
  assert.ok(verifyECDSA(genuine.cipherText, genuine.publicKey, genuine.signature), 'signed as @stacks/storage signs');

  // The forger: decrypt (the hub operator would need the identity key only for this test's
  // convenience: encrypting needs only the public key), add an app, a grant and a pending
  // revocation of another app that would rewrite the forger's key file, re-encrypt unsigned.
  const doc = JSON.parse(await decryptECIES(access.key, JSON.parse(genuine.cipherText)));
  const now = Date.now();
  doc.apps.push({ origin: evil, name: 'Evil App', firstSignIn: now, lastSignIn: now, scopes: ['store_write'] });
  doc.collections = {
    contact: {
      generation: 0,
      revokedBefore: 0,
      grants: [
        { app: evil, mode: 'rw', grantedAt: now, tokenSalt: '00'.repeat(16), tokenIat: 1 },
        { app: victim, mode: 'rw', grantedAt: now, tokenSalt: '11'.repeat(16), tokenIat: 1 },
      ],
    },
  };
  doc.journal = [{
    op: 'revoke', collection: 'contact', app: victim, mode: 'rw', fromGeneration: 0, toGeneration: 1,
    oldestValid: Math.floor(now / 1000), reencryptCurrent: false, reencryptHistory: false, done: [],
    filesDone: 0, filesTotal: 0, startedAt: now, downgrade: false, newSalts: {},
  }];
  const unsigned = JSON.stringify(await encryptECIES(cairn.publicKeyFromPrivate(access.key),
    new TextEncoder().encode(JSON.stringify(doc)), true));
  await putSettings(access, unsigned);

  const evilDir = path.join(stack.tmp, 'hub', evilBucket);
  await withPage(stack, 'trust-settings-b', async ({ page, shot }) => {
    await restoreToHome(page, stack, words);
    const notice = page.locator('#settings-notice [role="alert"]');
    await notice.waitFor({ timeout: SLOW });
    assert.match(await notice.textContent(), /isn't signed/);
    await shot('unsigned-notice');
    await page.goto(`${stack.auth}/#/apps`);
    await page.getByText(/Could not load the connected apps/).waitFor({ timeout: SLOW });
    assert.equal(await page.getByText('Evil App').count(), 0, 'the forged app is not listed in Apps');
    await page.goto(`${stack.auth}/#/permissions`);
    await sleep(1500);
    assert.equal(await page.getByText('Evil App').count(), 0, 'nor in Permissions');
    assert.equal(await page.getByText(evil).count(), 0, 'nor by origin');
    await shot('permissions');
    // Resuming the forged revocation would have written a key file into the forger's bucket.
    await sleep(2000);
    assert.ok(!fs.existsSync(evilDir), `nothing was written to the forged app's bucket (${evilDir})`);
    assert.equal(await getSettings(access), unsigned, 'the file was not rewritten');

    // A forgery in the signed layout, signed by another key: named as untrustworthy.
    await putSettings(access, JSON.stringify({
      signature: genuine.signature, publicKey: genuine.publicKey, cipherText: unsigned,
    }));
    await page.reload();
    await notice.waitFor({ timeout: SLOW });
    assert.match(await notice.textContent(), /can't be trusted: .*signature check/);
    assert.equal(await byRole(page, 'button', 'Sign settings file').count(), 0);
    await shot('forged-notice');

    // The migration: an unsigned file the user recognises is adopted and signed once confirmed.
    await putSettings(access, unsigned);
    await page.reload();
    await notice.waitFor({ timeout: SLOW });
    await byRole(page, 'button', 'Sign settings file').click();
    await notice.waitFor({ state: 'detached', timeout: SLOW });
    const adopted = JSON.parse(await getSettings(access));
    assert.ok(verifyECDSA(adopted.cipherText, adopted.publicKey, adopted.signature), 'now signed');
    await page.goto(`${stack.auth}/#/apps`);
    await page.getByText('Evil App').first().waitFor({ timeout: SLOW });
  });
});
