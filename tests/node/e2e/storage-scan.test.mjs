// (7) No secret in the clear in the authenticator's browser storage: after restore, after a
// sign-in and after Lock, localStorage, sessionStorage, every IndexedDB database and store,
// Cache Storage and cookies are read in full and searched for the Secret Key (any three
// consecutive words, in any case and with any separators), its entropy and seed, and the
// private keys derived from it (identity, STX, app keys, in hex and base64). CryptoKeys
// found in IndexedDB must be non-extractable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { generateWallet, getAppPrivateKey } from '@stacks/wallet-sdk';
import { decodeToken } from 'jsontokens';
import {
  useStack, withPage, cairn, byRole, freshWords, restoreToHome, stacksAuthRequest, SLOW,
  needs,
} from './harness.mjs';

const stack = useStack();

/** Everything the page's origin stores, serialised to text (runs in the page). */
async function dumpStorage(page) {
  return page.evaluate(async () => {
    const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
    const latin1 = (u8) => Array.from(u8, (b) => String.fromCharCode(b)).join('');
    const cryptoKeys = [];
    const ser = (v, depth = 0) => {
      if (depth > 20) return '"…"';
      if (v === null || v === undefined || typeof v !== 'object') return JSON.stringify(v ?? null);
      if (v instanceof CryptoKey) {
        cryptoKeys.push({ type: v.type, extractable: v.extractable, algorithm: v.algorithm.name, usages: v.usages });
        return JSON.stringify({ CryptoKey: { type: v.type, extractable: v.extractable } });
      }
      if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
        const u8 = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        return JSON.stringify({ bytes: hex(u8), text: latin1(u8), b64: btoa(latin1(u8)) });
      }
      if (v instanceof Blob) return JSON.stringify({ blob: v.size });
      if (v instanceof Date) return JSON.stringify(v.toISOString());
      if (v instanceof Map) return ser(Object.fromEntries(v), depth + 1);
      if (v instanceof Set) return ser([...v], depth + 1);
      if (Array.isArray(v)) return `[${v.map((x) => ser(x, depth + 1)).join(',')}]`;
      return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${ser(x, depth + 1)}`).join(',')}}`;
    };
    const out = { localStorage: {}, sessionStorage: {}, indexedDB: {}, caches: [], cookies: document.cookie };
    for (const [name, store] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]]) {
      for (let i = 0; i < store.length; i++) out[name][store.key(i)] = store.getItem(store.key(i));
    }
    for (const { name, version } of await indexedDB.databases()) {
      const db = await new Promise((res, rej) => {
        const r = indexedDB.open(name, version);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      out.indexedDB[name] = {};
      for (const storeName of db.objectStoreNames) {
        const tx = db.transaction(storeName, 'readonly');
        const os = tx.objectStore(storeName);
        const [keys, values] = await Promise.all([
          new Promise((res) => { const r = os.getAllKeys(); r.onsuccess = () => res(r.result); }),
          new Promise((res) => { const r = os.getAll(); r.onsuccess = () => res(r.result); }),
        ]);
        out.indexedDB[name][storeName] = keys.map((k, i) => `${ser(k)} => ${ser(values[i])}`);
      }
      db.close();
    }
    if (self.caches) {
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const req of await cache.keys()) out.caches.push(`${req.url} => ${await (await cache.match(req)).text()}`);
      }
    }
    return { text: JSON.stringify(out), cryptoKeys, dbs: Object.keys(out.indexedDB), summary: out };
  });
}

/** The secrets to look for, as lower-case strings. */
async function secretsOf(words, appDomain) {
  const wallet = await generateWallet({ secretKey: words, password: 'e2e-scan' });
  const account = wallet.accounts[0];
  const keychain = cairn.Keychain.fromMnemonic(words);
  const appKey = keychain.appPrivateKey(0, appDomain);
  keychain.free();
  const keys = {
    'identity private key': account.dataPrivateKey,
    'STX private key': account.stxPrivateKey,
    'apps key': account.appsKey,
    'app private key': appKey,
    'app private key (wallet-sdk)': getAppPrivateKey({ account, appDomain }),
  };
  const secrets = {};
  for (const [name, k] of Object.entries(keys)) {
    if (typeof k !== 'string') continue;
    const h = k.slice(0, 64).toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(h)) continue; // appsKey is an xprv: searched as is
    secrets[`${name} (hex)`] = h;
    secrets[`${name} (base64)`] = Buffer.from(h, 'hex').toString('base64').toLowerCase();
  }
  if (typeof account.appsKey === 'string') secrets['apps key (xprv)'] = account.appsKey.toLowerCase();
  // The BIP39 entropy (= the words) and a seed digest as raw hex.
  const { mnemonicToEntropy, mnemonicToSeedSync } = await import('@scure/bip39');
  const { wordlist } = await import('@scure/bip39/wordlists/english.js');
  const entropy = Buffer.from(mnemonicToEntropy(words, wordlist));
  secrets['entropy (hex)'] = entropy.toString('hex');
  secrets['entropy (base64)'] = entropy.toString('base64').toLowerCase();
  const seed = Buffer.from(mnemonicToSeedSync(words));
  secrets['seed (hex)'] = seed.toString('hex');
  secrets['seed sha256'] = createHash('sha256').update(seed).digest('hex');
  return secrets;
}

/** Fails if `text` holds any secret or any three consecutive Secret Key words. */
function assertClean(label, text, words, secrets) {
  // JSON escapes (\n, \u00a0 …) count as separators, not as letters.
  const lower = text.toLowerCase().replace(/\\u[0-9a-f]{4}|\\[nrtbf"\\/]/g, ' ');
  for (const [name, s] of Object.entries(secrets)) {
    assert.ok(!lower.includes(s), `${label}: found the ${name} in the clear`);
  }
  const list = words.split(' ');
  for (let i = 0; i + 3 <= list.length; i++) {
    const run = list.slice(i, i + 3).join('[^a-z]{0,8}');
    assert.doesNotMatch(lower, new RegExp(`(^|[^a-z])${run}([^a-z]|$)`), `${label}: found Secret Key words ${i + 1}–${i + 3}`);
  }
}

test('(7) no Secret Key words and no private key in the clear in any browser storage', needs('Restore', 'Home', 'Consent', 'Unlock'), async () => {
  await withPage(stack, 'storage-scan', async ({ page, context }) => {
    const words = freshWords(24);
    const secrets = await secretsOf(words, stack.demo);
    // The scanner works: it finds the words and a key when they are there.
    assertNotClean(words, secrets);

    const check = async (label) => {
      const dump = await dumpStorage(page);
      assertClean(label, dump.text, words, secrets);
      for (const k of dump.cryptoKeys) {
        assert.equal(k.extractable, false, `${label}: an extractable ${k.algorithm} CryptoKey in IndexedDB`);
      }
      const cookies = await context.cookies();
      assertClean(`${label} cookies`, JSON.stringify(cookies), words, secrets);
      return dump;
    };

    await restoreToHome(page, stack, words);
    const afterRestore = await check('after restore');
    if (process.env.CAIRN_E2E_DUMP) console.log(JSON.stringify(afterRestore.summary, null, 1).slice(0, 4000), afterRestore.cryptoKeys);
    assert.ok(afterRestore.dbs.includes('cairn'), `the IndexedDB database "cairn" exists (${afterRestore.dbs})`);
    assert.ok(afterRestore.text.includes('vault'), 'the vault store is there and was read');

    // Sign in to the demo origin (the app key was derived and sent).
    const { token } = stacksAuthRequest(stack.demo, { scopes: ['store_write', 'publish_data'] });
    let response;
    await page.route((u) => u.origin === stack.demo && u.searchParams.has('authResponse'), async (route) => {
      response = new URL(route.request().url()).searchParams.get('authResponse');
      await route.fulfill({ contentType: 'text/html', body: 'back in the app' });
    });
    await page.goto(`${stack.auth}/?authRequest=${token}`);
    await byRole(page, 'button', 'Approve').click();
    await page.waitForURL((u) => u.origin === stack.demo, { timeout: SLOW });
    assert.ok(decodeToken(response).payload.private_key);
    await page.goto(`${stack.auth}/`);
    await byRole(page, 'navigation', 'Main').waitFor({ timeout: SLOW });
    await check('after sign-in');

    await byRole(page, 'button', 'Lock').click();
    await byRole(page, 'heading', 'Unlock Cairn').waitFor();
    await check('after lock');
  });
});

/** Self-check of the scanner on text that does contain the secrets. */
function assertNotClean(words, secrets) {
  const sample = [
    JSON.stringify({ v: words.toUpperCase().split(' ').slice(5, 9).join('\n') }),
    JSON.stringify({ v: `x ${words.split(' ').slice(0, 3).join('')} y` }),
    JSON.stringify({ v: words.split(' ').slice(9, 12).join('\u00a0') }),
    JSON.stringify({ k: secrets['app private key (hex)'].toUpperCase() }),
    `{"b64":"${secrets['identity private key (base64)']}"}`,
  ];
  for (const s of sample) assert.throws(() => assertClean('self-check', s, words, secrets));
}
