// Shared helpers for the end-to-end tests that drive the alpha app harness
// (tests/node/e2e/alpha-app/: blockstack-collections@0.1.8 + blockstack@20.0.0-alpha.5,
// each app served from its own origin) against Cairn and cairn-hub. Used by
// collections.test.mjs and files*.test.mjs.
//
//   const { alphaApp, signIn, open, alpha, … } = alphaKit(stack);
import assert from 'node:assert/strict';
import path from 'node:path';
import { decryptECIES } from '@stacks/encryption';
import { HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';
import { startServer, parseMount } from '../../../scripts/serve.mjs';
import { cairn, byRole, repo, SLOW } from './harness.mjs';

/** The helpers, bound to a stack of `useStack()`. */
export function alphaKit(stack) {
  const NODE_MODULES = path.join(repo, 'tests', 'node', 'node_modules');
  const ALPHA_CSP = [
    "default-src 'self'",
    "script-src 'self' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self' http://127.0.0.1:* http://localhost:*",
  ].join('; ');

  /** Serves the alpha app on its own origin (http://localhost:<port>) with a name and scopes. */
  async function alphaApp(name, scopes) {
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      log: false,
      mounts: [
        parseMount('/lib/blockstack/=' + path.join(NODE_MODULES, 'blockstack-alpha', 'dist')),
        parseMount('/lib/collections/=' + path.join(NODE_MODULES, 'blockstack-collections', 'dist')),
        parseMount('/=' + path.join(repo, 'tests', 'node', 'e2e', 'alpha-app')),
      ],
      csp: ALPHA_CSP,
      cors: ['/config.json'],
      configJson: { name, scopes, authenticator: `${stack.auth}/` },
    });
    stack.servers.push(server);
    return { name, origin: `http://localhost:${server.address().port}` };
  }

  /** Opens the app, signs in through Cairn (Approve), back in the app signed in. */
  async function signIn(page, app, { shoot } = {}) {
    await page.goto(`${app.origin}/`);
    await page.evaluate(() => window.alpha.ready);
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(stack.auth), { timeout: SLOW }),
      page.evaluate(() => window.alpha.signIn()),
    ]);
    await byRole(page, 'heading', `Sign in to ${app.name}`).waitFor({ timeout: SLOW });
    if (shoot) await shoot(`consent-${app.name}`);
    await byRole(page, 'button', 'Approve').click();
    await page.waitForURL((u) => u.href.startsWith(app.origin), { timeout: SLOW });
    await page.getByText('Signed in', { exact: true }).waitFor({ timeout: SLOW });
  }

  /** Opens an app (already signed in) in `page`. */
  async function open(page, app) {
    await page.goto(`${app.origin}/`);
    await page.evaluate(() => window.alpha.ready);
  }

  const alpha = {
    save: (page, attrs) => page.evaluate((a) => window.alpha.save(a), attrs),
    list: (page) => page.evaluate(() => window.alpha.list()),
    get: (page, id) => page.evaluate((i) => window.alpha.get(i), id),
    config: (page) => page.evaluate(() => window.alpha.config()),
    refresh: (page) => page.evaluate(() => window.alpha.refreshKeys()),
    /** Contact.delete(id) of the library (the app's token: archival, so a history file stays). */
    remove: (page, id) => page.evaluate(async (i) => {
      const { userSession } = await window.alpha.ready;
      // eslint-disable-next-line no-undef
      await blockstackCollections.Contact.delete(i, userSession);
    }, id),
  };

  async function hubInfo() {
    return (await fetch(`${stack.hubUrl}/hub_info`)).json();
  }

  /** Every file name in a bucket (owner token from the bucket key). */
  async function listAll(address, token) {
    const names = [];
    let page = null;
    do {
      const r = await fetch(`${stack.hubUrl}/list-files/${address}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `bearer ${token}` },
        body: JSON.stringify({ page }),
      });
      assert.ok(r.ok, `list-files ${r.status}`);
      const j = await r.json();
      names.push(...j.entries);
      page = j.page;
    } while (page);
    return names;
  }

  /** POST a file with a token; returns the status. */
  async function store(hubConfig, file, body) {
    const r = await fetch(`${hubConfig.server}/store/${hubConfig.address}/${file}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `bearer ${hubConfig.token}` },
      body,
    });
    return r.status;
  }

  /** Tries each key on a file body; returns the index of the key that opens it, or -1. */
  async function whichKey(body, keys) {
    for (let i = 0; i < keys.length; i++) {
      try {
        await decryptECIES(keys[i], JSON.parse(body));
        return i;
      } catch {
        // not this one
      }
    }
    return -1;
  }

  /** The collection's keys of identity 0: {address, keys: [gen0, gen1, …]}. */
  function collectionKeys(words, generations) {
    const kc = cairn.Keychain.fromMnemonic(words);
    try {
      return {
        address: kc.collectionBucketAddress(0, 'contact'),
        keys: Array.from({ length: generations }, (_, g) => kc.collectionEncryptionKey(0, 'contact', g)),
      };
    } finally {
      kc.free();
    }
  }

  /**
   * The owner's (unscoped) token for the collection bucket of identity 0: the bucket key
   * derived here independently (COLLECTIONS.md §2), so listings include history files.
   */
  async function ownerToken(words, name = 'contact') {
    const H = 0x80000000;
    const hashCode = (s) => {
      let h = 0;
      for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
      return h & 0x7fffffff;
    };
    const hex = (s) => bytesToHex(sha256(new TextEncoder().encode(s)));
    const idRoot = HDKey.fromMasterSeed(mnemonicToSeedSync(words)).deriveChild(888 + H).deriveChild(H);
    const salt = hex(bytesToHex(idRoot.publicKey));
    const key = bytesToHex(idRoot.deriveChild(H).deriveChild(3 + H).deriveChild(hashCode(hex(name + 'default' + salt)) + H).privateKey);
    const { address } = collectionKeys(words, 1);
    assert.equal(cairn.bucketAddress(key), address);
    // Past any revoke-all of the test (the hub does not refuse an iat in the future).
    return cairn.gaiaAuthToken(key, (await hubInfo()).challenge_text, { hubUrl: stack.hubUrl, iat: Math.floor(Date.now() / 1000) + 600 });
  }

  /** Reads every current collection file (not history) with the keys; returns [{path, key}]. */
  async function currentFiles(address, token, keys, { history = false } = {}) {
    const { read_url_prefix: prefix } = await hubInfo();
    const names = (await listAll(address, token)).filter((n) => n.startsWith('collection/') && (history || !n.includes('/.history.')));
    const out = [];
    for (const n of names) {
      const body = await (await fetch(`${prefix}${address}/${n.split('/').map(encodeURIComponent).join('/')}`)).text();
      out.push({ path: n, key: await whichKey(body, keys) });
    }
    return out;
  }

  return {
    ALPHA_CSP, alphaApp, signIn, open, alpha, hubInfo, listAll, store, whichKey, collectionKeys, ownerToken, currentFiles,
  };
}
