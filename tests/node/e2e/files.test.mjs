// The Files screen (contract: docs/FILES_UI.md) against a real cairn-hub.
//
// Data is seeded in Node the way the collections app side writes it: ECIES JSON bodies
// (@stacks/encryption) to the collection's generation-0 key, stored with the archival
// app token Cairn mints for an app (bucket key, putFileArchivalPrefix "collection/", iat,
// salt — cairn-hub records the salt as the writer), so every overwrite and delete keeps
// a history file. The settings file (collections + connected app) is sealed to the
// identity key. files-alpha.test.mjs has the real blockstack-collections apps write.
//
// Screenshots: files-browser, files-diff, files-undo-preview, files-app-data, …
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { encryptECIES as stacksEncrypt, signECDSA } from '@stacks/encryption';
import { generateWallet } from '@stacks/wallet-sdk';
import {
  useStack, withPage, cairn, cairnTesting, byRole, freshWords, restoreToHome, SLOW, localInput, sleep,
} from './harness.mjs';

const stack = useStack();
const APP = 'http://localhost:7777';
const APP_NAME = 'Alpha Contacts';
// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

/** Everything needed to write into identity 0's "contact" collection and its settings. */
/**
 * A settings file as Cairn writes it: encrypted to the identity key and signed with it
 * (docs/SECURITY.md), here with @stacks/encryption and the identity key from @stacks/wallet-sdk.
 */
async function signedSettings(words, identityPublicKey, settings) {
  const wallet = await generateWallet({ secretKey: words, password: 'e2e-files' });
  const key = wallet.accounts[0].dataPrivateKey.slice(0, 64);
  const cipherText = cairn.encryptECIES(identityPublicKey, JSON.stringify(settings));
  const { publicKey, signature } = signECDSA(key, cipherText);
  assert.equal(publicKey, identityPublicKey);
  return JSON.stringify({ signature, publicKey, cipherText });
}

async function seedContext(words) {
  const kc = cairnTesting.Keychain.fromMnemonic(words);
  const info = await (await fetch(`${stack.hubUrl}/hub_info`)).json();
  const bucketKey = kc.collectionBucketKey(0, 'contact');
  const address = kc.collectionBucketAddress(0, 'contact');
  const encKey = kc.collectionEncryptionKey(0, 'contact', 0);
  const encPub = cairn.publicKeyFromPrivate(encKey);
  const salt = crypto.randomBytes(16).toString('hex');
  const iat = Math.floor(Date.now() / 1000);
  const appToken = cairnTesting.collectionAppToken(bucketKey, info.challenge_text, stack.hubUrl, iat, salt);
  const ownerToken = cairn.gaiaAuthToken(bucketKey, info.challenge_text, { hubUrl: stack.hubUrl });
  const ctx = { kc, info, bucketKey, address, encKey, encPub, salt, iat, appToken, ownerToken };

  ctx.put = async (name, content, token = appToken) => {
    const body = typeof content === 'string'
      ? cairn.encryptECIES(encPub, content)
      : JSON.stringify(await stacksEncrypt(encPub, content, false));
    const r = await fetch(`${stack.hubUrl}/store/${address}/collection/${encodeURIComponent(name)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `bearer ${token}` }, body,
    });
    assert.ok(r.ok, `store ${name}: ${r.status}`);
  };
  ctx.del = async (name, token = appToken) => {
    const r = await fetch(`${stack.hubUrl}/delete/${address}/collection/${encodeURIComponent(name)}`, {
      method: 'DELETE', headers: { Authorization: `bearer ${token}` },
    });
    assert.ok(r.ok, `delete ${name}: ${r.status}`);
  };
  /** Every entry of the bucket (history included), stat form. */
  ctx.list = async () => {
    const out = [];
    let page = null;
    for (;;) {
      const r = await fetch(`${stack.hubUrl}/list-files/${address}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `bearer ${ownerToken}` },
        body: JSON.stringify({ page, stat: true }),
      });
      const j = await r.json();
      out.push(...j.entries.filter(Boolean));
      if (!j.page || j.entries.length === 0) break;
      page = j.page;
    }
    return out;
  };
  /** The decrypted current content of a file, or null when it does not exist. */
  ctx.current = async (name) => {
    const r = await fetch(`${info.read_url_prefix}${address}/collection/${encodeURIComponent(name)}`);
    if (r.status === 404) return null;
    return cairn.decryptECIES(encKey, await r.text());
  };
  ctx.historyOf = async (name) => (await ctx.list()).filter((e) => e.name.startsWith('collection/.history.') && e.name.endsWith(`.${name}`));
  ctx.writeSettings = async (extra = {}) => {
    const now = Date.now();
    const settings = {
      v: 1,
      apps: [{ origin: APP, name: APP_NAME, firstSignIn: now, lastSignIn: now, scopes: ['store_write', 'collection.contact'] }],
      collections: {
        contact: { generation: 0, grants: [{ app: APP, mode: 'rw', grantedAt: now, tokenSalt: salt, tokenIat: iat }], revokedBefore: 0 },
      },
      log: [],
      journal: [],
      ...extra,
    };
    const idAddress = kc.identityAddress(0);
    const token = kc.identityGaiaToken(0, info.challenge_text, stack.hubUrl);
    const r = await fetch(`${stack.hubUrl}/store/${idAddress}/cairn/settings.json`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `bearer ${token}` },
      body: await signedSettings(words, kc.identityPublicKey(0), settings),
    });
    assert.ok(r.ok, `settings: ${r.status}`);
  };
  return ctx;
}

async function openFiles(page) {
  await byRole(page, 'navigation', 'Main').getByRole('link', { name: 'Files', exact: true }).click();
  await byRole(page, 'navigation', 'Collections').waitFor({ timeout: SLOW });
}

const fileList = (page) => byRole(page, 'list', 'Files');
const fileButton = (page, name) => fileList(page).getByRole('button', { name, exact: true });
const listed = (page) => page.getByRole('status').filter({ hasText: /files listed/ }).first();

async function dialogConfirm(page, action) {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: action, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

test('Files: browse, versions, diff, rollback, restore, undo since, app data, delete old versions', async () => {
  await withPage(stack, 'files', async ({ page, shot }) => {
    const words = freshWords(24);
    const c = await seedContext(words);
    try {
      // Before T.
      await c.put('alice', JSON.stringify({ name: 'Alice', phone: '111' }));
      await c.put('bob', JSON.stringify({ name: 'Bob', phone: '222' }));
      await c.put('carol', JSON.stringify({ name: 'Carol', phone: '333' }));
      await c.put('erin', JSON.stringify({ name: 'Erin', v: 1 }));
      await c.put('note.txt', 'first line\nsecond line');
      await c.put('photo', PNG);
      await sleep(1500);
      const T = Math.floor(Date.now() / 1000) * 1000 + 1000; // a whole second, after every write above
      await sleep(T - Date.now() + 1500);
      // After T: a new version of alice, bob deleted, carol changed, dave created, erin changed twice.
      await c.put('alice', JSON.stringify({ name: 'Alice', phone: '999' }));
      await c.del('bob');
      await c.put('carol', JSON.stringify({ name: 'Carol', phone: '334' }));
      await c.put('dave', JSON.stringify({ name: 'Dave' }));
      await c.put('erin', JSON.stringify({ name: 'Erin', v: 2 }));
      await c.put('erin', JSON.stringify({ name: 'Erin', v: 3 }));
      await c.writeSettings();
      // The connected app's own bucket: an encrypted file and a signed+encrypted one.
      const appKey = c.kc.appPrivateKey(0, APP);
      const appPub = cairn.publicKeyFromPrivate(appKey);
      const appAddr = cairn.bucketAddress(appKey);
      const appTok = cairn.gaiaAuthToken(appKey, c.info.challenge_text, { hubUrl: stack.hubUrl });
      const cipher = JSON.stringify(await stacksEncrypt(appPub, Buffer.from(JSON.stringify({ todo: 'buy milk' })), true));
      for (const [name, body] of [
        ['notes.json', cipher],
        ['signed.json', JSON.stringify({ signature: '00', publicKey: appPub, cipherText: cipher })],
      ]) {
        const r = await fetch(`${stack.hubUrl}/store/${appAddr}/${name}`, {
          method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `bearer ${appTok}` }, body,
        });
        assert.ok(r.ok);
      }

      await restoreToHome(page, stack, words);
      await openFiles(page);
      await byRole(page, 'navigation', 'Collections').getByRole('button', { name: 'contact', exact: true }).click();
      await listed(page).waitFor({ timeout: SLOW });
      // Deleted files are hidden until asked for.
      for (const n of ['alice', 'carol', 'dave', 'erin', 'note.txt', 'photo']) await fileButton(page, n).waitFor();
      assert.equal(await fileButton(page, 'bob').count(), 0);
      await page.getByLabel('Show deleted files').check();
      await fileButton(page, 'bob').waitFor();

      // Preview: JSON, text, image.
      await fileButton(page, 'alice').click();
      const preview = byRole(page, 'region', 'Preview');
      await preview.getByText('"999"').waitFor({ timeout: SLOW });
      await preview.getByText('Decrypted with key generation 0.').waitFor();
      await shot('browser');
      await fileButton(page, 'note.txt').click();
      await preview.getByText(/second line/).waitFor();
      await fileButton(page, 'photo').click();
      await preview.getByRole('img', { name: 'Image preview' }).waitFor();

      // Versions in order (newest first) and a diff.
      await fileButton(page, 'erin').click();
      await byRole(page, 'button', 'History').click();
      const versions = byRole(page, 'list', 'Versions');
      await versions.waitFor();
      assert.equal(await versions.getByRole('listitem').count(), 3);
      const times = await versions.getByRole('listitem').evaluateAll((lis) => lis.map((li) => Date.parse(li.querySelector('time').getAttribute('datetime'))));
      assert.deepEqual([...times].sort((a, b) => b - a), times, 'versions newest first');
      assert.match(await versions.getByRole('listitem').first().textContent(), /current/);
      const oldest = versions.getByRole('listitem').last();
      await oldest.getByRole('button', { name: 'Compare with current' }).click();
      const diff = byRole(page, 'region', 'Diff');
      await diff.getByText('-   "v": 1').waitFor();
      await diff.getByText('+   "v": 3').waitFor();
      await shot('diff');

      // Roll back alice to its first version: the old content is current, the replaced one a version.
      await fileButton(page, 'alice').click();
      await byRole(page, 'button', 'History').click();
      await byRole(page, 'list', 'Versions').getByRole('listitem').last()
        .getByRole('button', { name: 'Roll back to this version' }).click();
      await dialogConfirm(page, 'Roll back');
      await preview.getByText('"111"').waitFor({ timeout: SLOW });
      assert.deepEqual(JSON.parse(await c.current('alice')), { name: 'Alice', phone: '111' });
      const aliceHistory = await c.historyOf('alice');
      assert.equal(aliceHistory.length, 2, 'both earlier versions kept');
      await byRole(page, 'button', 'History').click();
      assert.equal(await byRole(page, 'list', 'Versions').getByRole('listitem').count(), 3);

      // Restore the deleted bob.
      await fileButton(page, 'bob').click();
      await byRole(page, 'button', 'Restore').click();
      await dialogConfirm(page, 'Restore');
      // The preview of a deleted file already shows its last version: wait for the write.
      await page.getByRole('status').filter({ hasText: /^bob: done\./ }).waitFor({ timeout: SLOW });
      await preview.getByText('"222"').waitFor({ timeout: SLOW });
      assert.equal(await byRole(page, 'button', 'Restore').count(), 0);
      assert.deepEqual(JSON.parse(await c.current('bob')), { name: 'Bob', phone: '222' });

      // Undo changes since T.
      await byRole(page, 'button', 'Undo changes since…').click();
      const since = page.getByLabel('Since', { exact: true });
      await since.evaluate((el, v) => { el.value = v; el.dispatchEvent(new Event('input', { bubbles: true })); }, localInput(T));
      await byRole(page, 'button', 'Preview').click();
      const plan = byRole(page, 'list', 'Undo preview');
      await plan.waitFor();
      const items = (await plan.getByRole('listitem').allTextContents()).map((t) => t.trim());
      assert.equal(items.length, 3, items.join(' | '));
      assert.ok(items.some((t) => /^carol: rolled back to the version of/.test(t)), items.join(' | '));
      assert.ok(items.some((t) => t === 'dave: removed (kept in history)'), items.join(' | '));
      assert.ok(items.some((t) => /^erin: rolled back/.test(t)), items.join(' | '));
      await shot('undo-preview');
      await byRole(page, 'button', 'Undo changes').click();
      await dialogConfirm(page, 'Undo changes');
      await page.getByText(/Undo complete: 3 file\(s\) changed\./).first().waitFor({ timeout: SLOW });
      assert.equal(await page.getByRole('progressbar', { name: 'Undo progress' }).count(), 1);
      await shot('undo-done');
      // File by file, the state at T; every intermediate version still in history.
      const atT = {
        alice: { name: 'Alice', phone: '111' },
        bob: { name: 'Bob', phone: '222' },
        carol: { name: 'Carol', phone: '333' },
        erin: { name: 'Erin', v: 1 },
        dave: null,
      };
      for (const [n, want] of Object.entries(atT)) {
        const got = await c.current(n);
        assert.deepEqual(got === null ? null : JSON.parse(got), want, n);
      }
      assert.equal(await c.current('note.txt'), 'first line\nsecond line');
      assert.equal((await c.historyOf('erin')).length, 3, 'erin v1, v2, v3 kept');
      assert.equal((await c.historyOf('dave')).length, 1, 'dave kept in history');
      assert.equal((await c.historyOf('carol')).length, 2);

      // Permanent deletion of old versions, with its own confirmation.
      await fileButton(page, 'erin').click();
      await byRole(page, 'button', 'Delete old versions').click();
      await dialogConfirm(page, 'Delete old versions');
      await page.getByText(/Old versions of erin deleted\./).first().waitFor({ timeout: SLOW });
      assert.equal((await c.historyOf('erin')).length, 0);
      assert.deepEqual(JSON.parse(await c.current('erin')), { name: 'Erin', v: 1 });

      // App data: read-only, decrypted with the app key.
      await byRole(page, 'navigation', 'App data').getByRole('button', { name: APP_NAME, exact: true }).click();
      await listed(page).waitFor({ timeout: SLOW });
      await fileButton(page, 'notes.json').click();
      await preview.getByText('"buy milk"').waitFor({ timeout: SLOW });
      await fileButton(page, 'signed.json').click();
      await preview.getByText('"buy milk"').waitFor({ timeout: SLOW });
      assert.equal(await byRole(page, 'button', 'History').count(), 0);
      await shot('app-data');
      assert.deepEqual(page.problems, []);
    } finally {
      c.kc.free();
    }
  });
});

test('Files: an interrupted undo (journaled in settings) resumes', async () => {
  await withPage(stack, 'files-resume', async ({ page, shot }) => {
    const words = freshWords(24);
    const c = await seedContext(words);
    try {
      await c.put('x', JSON.stringify({ x: 1 }));
      await c.put('x', JSON.stringify({ x: 2 }));
      await c.put('y', JSON.stringify({ y: 1 }));
      const hx = (await c.historyOf('x'))[0].name;
      const job = {
        op: 'undo', collection: 'contact', sinceMs: Date.now() - 1000, startedAt: Date.now(), done: 0,
        plan: [
          { action: 'restore', path: 'collection/x', from: hx, wasDeleted: false },
          { action: 'remove', path: 'collection/y' },
        ],
      };
      await c.writeSettings({ journal: [job] });
      await restoreToHome(page, stack, words);
      await openFiles(page);
      const note = byRole(page, 'region', 'Interrupted undo');
      await note.getByText(/stopped after 0 of 2 changes/).waitFor();
      await shot('interrupted');
      await note.getByRole('button', { name: 'Resume undo' }).click();
      await page.getByText(/Undo complete: 2 file\(s\) changed\./).first().waitFor({ timeout: SLOW });
      assert.deepEqual(JSON.parse(await c.current('x')), { x: 1 });
      assert.equal(await c.current('y'), null);
      // The journal entry is gone: no more "Interrupted undo" after reopening.
      await byRole(page, 'navigation', 'Main').getByRole('link', { name: 'Apps', exact: true }).click();
      await openFiles(page);
      await byRole(page, 'navigation', 'App data').waitFor();
      assert.equal(await byRole(page, 'region', 'Interrupted undo').count(), 0);
      await shot('resumed');
    } finally {
      c.kc.free();
    }
  });
});

test('Files: Cancel in the middle of an undo leaves it journaled; Resume completes it', async () => {
  await withPage(stack, 'files-cancel', async ({ page, shot }) => {
    const N = 100;
    const words = freshWords(24);
    const c = await seedContext(words);
    try {
      const names = Array.from({ length: N }, (_, i) => `f${String(i).padStart(3, '0')}`);
      const putAll = async (v) => {
        for (let i = 0; i < N; i += 10) {
          await Promise.all(names.slice(i, i + 10).map((n) => c.put(n, JSON.stringify({ n, v }))));
        }
      };
      await putAll(1);
      await sleep(1500);
      const T = Math.floor(Date.now() / 1000) * 1000 + 1000;
      await sleep(T - Date.now() + 1500);
      await putAll(2);
      await c.writeSettings();

      await restoreToHome(page, stack, words);
      await openFiles(page);
      await byRole(page, 'navigation', 'Collections').getByRole('button', { name: 'contact', exact: true }).click();
      await listed(page).waitFor({ timeout: SLOW });
      await byRole(page, 'button', 'Undo changes since…').click();
      await page.getByLabel('Since', { exact: true }).evaluate((el, v) => { el.value = v; el.dispatchEvent(new Event('input', { bubbles: true })); }, localInput(T));
      await byRole(page, 'button', 'Preview').click();
      await page.getByText(`${N} file(s) will change.`).waitFor({ timeout: SLOW });
      await byRole(page, 'button', 'Undo changes').click();
      await dialogConfirm(page, 'Undo changes');
      // Cancel once a few changes are done.
      await page.waitForFunction(() => Number(document.querySelector('progress[aria-label="Undo progress"]')?.value) >= 5, null, { timeout: SLOW });
      await byRole(page, 'button', 'Cancel').click();
      const cancelled = page.getByText(/Undo cancelled after \d+ of 100 changes\. It can be resumed\./).first();
      await cancelled.waitFor({ timeout: SLOW });
      const k = Number((await cancelled.textContent()).match(/after (\d+) of/)[1]);
      assert.ok(k >= 5 && k < N, `cancelled after ${k}`);
      // The journal entry: the interrupted undo, with exactly the changes made so far.
      const note = byRole(page, 'region', 'Interrupted undo');
      await note.getByText(new RegExp(`stopped after ${k} of ${N} changes`)).waitFor({ timeout: SLOW });
      await shot('cancelled');
      const backAtT = async () => {
        let n = 0;
        for (const name of names) if (JSON.parse(await c.current(name)).v === 1) n += 1;
        return n;
      };
      assert.equal(await backAtT(), k, 'the changes made before Cancel, no more');
      // It is in the settings file: still there after reopening Files.
      await byRole(page, 'navigation', 'Main').getByRole('link', { name: 'Apps', exact: true }).click();
      await openFiles(page);
      await byRole(page, 'region', 'Interrupted undo').getByText(new RegExp(`stopped after ${k} of ${N} changes`)).waitFor({ timeout: SLOW });

      await byRole(page, 'region', 'Interrupted undo').getByRole('button', { name: 'Resume undo' }).click();
      await page.getByText(`Undo complete: ${N} file(s) changed.`).first().waitFor({ timeout: 120_000 });
      await shot('resumed');
      assert.equal(await backAtT(), N, 'every file at its state at T');
      for (const name of names.slice(0, 5)) {
        assert.ok((await c.historyOf(name)).length >= 2, `${name}: v2 kept in history`);
      }
      await byRole(page, 'navigation', 'Main').getByRole('link', { name: 'Apps', exact: true }).click();
      await openFiles(page);
      await byRole(page, 'navigation', 'App data').waitFor();
      assert.equal(await byRole(page, 'region', 'Interrupted undo').count(), 0);
    } finally {
      c.kc.free();
    }
  });
});
