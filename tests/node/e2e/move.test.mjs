// "Your data": moving every file to another cairn-hub (a second process on another port,
// so another read URL prefix), end to end in the real page: Check hub, the plan, Move
// data, every file byte-identical on the new hub (history versions included), the key
// file and profile pointing at the new hub, Cairn switched; the new hub killed mid-move
// and restarted: Resume completes with nothing lost or duplicated; Delete on the old hub
// empties it and leaves the new one alone; a URL that is not a hub is refused clearly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  useStack, withPage, cairn, cairnTesting, byRole, freshWords, restoreToHome, startHub, killHub, SLOW,
} from './harness.mjs';
import { listBucket as list, readFile as get, putFile, putSettings } from './buckets.mjs';

const stack = useStack();
const APP = 'http://localhost:7777';
const PNG = crypto.randomBytes(3000); // a binary file: must arrive byte for byte

const put = (...args) => putFile(stack.hubUrl, ...args);

/**
 * Identity 0 with an app holding a grant on "contact" (settings signed as Cairn signs
 * them), `n` collection files plus a version of one, and the app's own files (one binary).
 */
async function seed(words, n) {
  const kc = cairnTesting.Keychain.fromMnemonic(words);
  const bucketKey = kc.collectionBucketKey(0, 'contact');
  const appKey = kc.appPrivateKey(0, APP);
  const now = Date.now();
  const salt = crypto.randomBytes(16).toString('hex');
  const settings = {
    v: 1,
    apps: [{ origin: APP, name: 'Alpha Contacts', firstSignIn: now, lastSignIn: now, scopes: ['store_write', 'collection.contact'] }],
    collections: {
      contact: { generation: 0, grants: [{ app: APP, mode: 'rw', grantedAt: now, tokenSalt: salt, tokenIat: Math.floor(now / 1000) }], revokedBefore: 0 },
    },
    log: [],
    journal: [],
  };
  const dataKey = await putSettings(stack.hubUrl, words, settings);
  const encPub = cairn.publicKeyFromPrivate(kc.collectionEncryptionKey(0, 'contact', 0));
  for (let i = 0; i < n; i++) {
    await put(bucketKey, `collection/c${String(i).padStart(3, '0')}.json`, cairn.encryptECIES(encPub, `{"i":${i}}`), 'application/json');
  }
  // A second write with an archival token keeps the first as a history version.
  const archival = { scopes: [{ scope: 'putFileArchivalPrefix', domain: 'collection/' }] };
  await put(bucketKey, 'collection/c000.json', cairn.encryptECIES(encPub, '{"i":"again"}'), 'application/json', archival);
  await put(appKey, 'photo.png', PNG, 'image/png');
  await put(appKey, 'notes/today.json', '{"text":"hello"}', 'application/json');
  return { kc, dataKey, bucketKey, appKey };
}

/** Every file of the three buckets on both hubs, compared byte for byte. */
async function assertMoved(keys, newHub, { except = [], added = [] } = {}) {
  for (const key of [keys.dataKey, keys.bucketKey, keys.appKey]) {
    const from = await list(stack.hubUrl, key);
    const to = await list(newHub, key);
    assert.deepEqual(to.names.filter((n) => !added.includes(n)), from.names, `the same files in ${from.address}`);
    for (const name of from.names) {
      if (except.includes(name)) continue;
      assert.deepEqual(await get(to.info, to.address, name), await get(from.info, from.address, name), name);
    }
  }
}

test('move to another hub: plan, copy with checks, switch; kill the new hub mid-move, Resume; delete on the old hub', { timeout: 300_000 }, async () => {
  const words = freshWords();
  const keys = await seed(words, 60);
  const second = path.join(stack.tmp, 'hub-b');
  let hubB = await startHub(second);
  const port = new URL(hubB.url).port;
  try {
    await withPage(stack, 'move', async ({ page, shot }) => {
      await restoreToHome(page, stack, words);
      await page.goto(`${stack.auth}/data.html`);
      await byRole(page, 'heading', 'Your data').waitFor({ timeout: SLOW });

      // Not a hub: said clearly, nothing planned.
      await byRole(page, 'textbox', 'New hub URL').fill(`${stack.demo}/`);
      await byRole(page, 'button', 'Check hub').click();
      await page.getByText(/^Check failed: /).waitFor({ timeout: SLOW });
      assert.ok(await byRole(page, 'button', 'Move data').isDisabled());

      await byRole(page, 'textbox', 'New hub URL').fill(hubB.url);
      await byRole(page, 'button', 'Check hub').click();
      await page.getByText(/^Hub ready: /).waitFor({ timeout: SLOW });
      await page.getByText('The collection contact: 61 file(s)', { exact: false }).waitFor();
      await page.getByText('The app Alpha Contacts: 2 file(s)', { exact: false }).waitFor();
      await shot('plan');

      // Kill the new hub once 20 files are through.
      await byRole(page, 'button', 'Move data').click();
      const bar = byRole(page, 'progressbar', 'Move progress');
      await page.waitForFunction(() => Number(document.querySelector('progress[aria-label="Move progress"]')?.getAttribute('value') ?? 0) >= 20, null, { timeout: SLOW });
      await shot('moving');
      killHub(hubB.child);
      await page.getByText(/^Stopped: /).waitFor({ timeout: SLOW });
      await shot('stopped');
      assert.equal(await bar.isVisible(), false);

      hubB = await startHub(second, `127.0.0.1:${port}`);
      await byRole(page, 'button', 'Resume').click();
      await page.getByText(/^Done: /).waitFor({ timeout: 120_000 });
      await shot('done');

      // Byte-identical on the new hub (history versions too), nothing duplicated; the
      // switch rewrote the settings and gave the app a key file on the new hub.
      await assertMoved(keys, hubB.url, { except: ['cairn/settings.json'], added: ['.collections.keys'] });
      const appOnB = await list(hubB.url, keys.appKey);
      const keyFile = cairn.decryptECIES(keys.appKey, (await get(appOnB.info, appOnB.address, '.collections.keys')).toString());
      const entry = JSON.parse(keyFile).contact;
      assert.equal(entry.hubConfig.server, hubB.url);
      assert.equal(entry.hubConfig.url_prefix, appOnB.info.read_url_prefix);
      const history = (await list(hubB.url, keys.bucketKey)).names.filter((n) => n.includes('.history.'));
      assert.equal(history.length, 1);

      // Apps says which apps still use the old hub.
      await page.goto(`${stack.auth}/#/apps`);
      await page.getByText('Not signed in since your data moved', { exact: false }).waitFor({ timeout: SLOW });
      await shot('apps');

      // Cairn now uses the new hub.
      await page.goto(`${stack.auth}/data.html`);
      await page.getByText(`Your data is on the Gaia hub ${hubB.url}.`).waitFor({ timeout: SLOW });
      await byRole(page, 'button', 'Delete data on the old hub').waitFor();
      await shot('before-delete');
      await byRole(page, 'button', 'Delete data on the old hub').click();
      await byRole(page, 'dialog', 'Delete your data on the old hub?').waitFor({ timeout: SLOW });
      await shot('confirm');
      await byRole(page, 'button', 'Delete').click();
      await page.getByText(/^Deleted\. Every bucket of yours on /).waitFor({ timeout: 60_000 });
      await shot('deleted');
    });
    for (const key of [keys.dataKey, keys.bucketKey, keys.appKey]) {
      assert.deepEqual((await list(stack.hubUrl, key)).names, [], 'the old hub is empty');
      assert.ok((await list(hubB.url, key)).names.length > 0, 'the new hub is untouched');
    }
  } finally {
    killHub(hubB.child);
  }
});

test('the old hub killed mid-move: the move waits for it, then goes on by itself', { timeout: 300_000 }, async () => {
  const words = freshWords();
  const keys = await seed(words, 60);
  const hubC = await startHub(path.join(stack.tmp, 'hub-c'));
  const oldPort = new URL(stack.hubUrl).port;
  try {
    await withPage(stack, 'move-old-hub-down', async ({ page, shot }) => {
      await restoreToHome(page, stack, words);
      await page.goto(`${stack.auth}/data.html`);
      await byRole(page, 'textbox', 'New hub URL').fill(hubC.url);
      await byRole(page, 'button', 'Check hub').click();
      await page.getByText(/^Hub ready: /).waitFor({ timeout: SLOW });
      await byRole(page, 'button', 'Move data').click();
      await page.waitForFunction(() => Number(document.querySelector('progress[aria-label="Move progress"]')?.getAttribute('value') ?? 0) >= 15, null, { timeout: SLOW });
      killHub(stack.hub);
      await page.getByText(/The old hub is not answering\./).waitFor({ timeout: SLOW });
      await shot('waiting');
      // Still running: no Resume offered, the progress bar stays.
      assert.ok(await byRole(page, 'progressbar', 'Move progress').isVisible());
      assert.equal(await byRole(page, 'button', 'Resume').isVisible(), false);
      const back = await startHub(path.join(stack.tmp, 'hub'), `127.0.0.1:${oldPort}`);
      stack.hub = back.child;
      await page.getByText(/^Done: /).waitFor({ timeout: 120_000 });
      await shot('done');
    });
    await assertMoved(keys, hubC.url, { except: ['cairn/settings.json'], added: ['.collections.keys'] });
  } finally {
    killHub(hubC.child);
  }
});

test('Download my data: one zip with every file as stored, decrypted beside it, a manifest, and no key', { timeout: 180_000 }, async () => {
  const { unzipSync } = await import('fflate');
  const words = freshWords();
  const keys = await seed(words, 5);
  await withPage(stack, 'download', async ({ page, shot }) => {
    // As in a browser without the File System Access API (Firefox, Safari): the archive
    // becomes one Blob, downloaded. (Headless Chromium has the API but no picker to show:
    // it answers as if the user closed it; the next test covers that path.)
    await page.addInitScript(() => {
      Object.defineProperty(window, 'showSaveFilePicker', { value: undefined, configurable: true });
    });
    await restoreToHome(page, stack, words);
    await page.goto(`${stack.auth}/data.html`);
    await byRole(page, 'button', 'Download my data').waitFor({ timeout: SLOW });
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      byRole(page, 'button', 'Download my data').click(),
    ]);
    await page.getByText(/^Downloaded: /).waitFor({ timeout: SLOW });
    await shot('downloaded');
    assert.match(download.suggestedFilename(), /^cairn-data-\d{4}-\d{2}-\d{2}\.zip$/);
    const file = path.join(stack.tmp, 'export.zip');
    await download.saveAs(file);
    const zip = unzipSync(new Uint8Array(fs.readFileSync(file)));
    const manifest = JSON.parse(Buffer.from(zip['manifest.json']).toString());
    assert.equal(manifest.hub, stack.hubUrl);

    // Every file of every bucket, as stored (hash and bytes), in the archive.
    const kinds = manifest.buckets.map((b) => b.kind).sort();
    assert.deepEqual(kinds, ['app', 'collection', 'identity']);
    for (const key of [keys.dataKey, keys.bucketKey, keys.appKey]) {
      const onHub = await list(stack.hubUrl, key);
      const bucket = manifest.buckets.find((b) => b.address === onHub.address);
      assert.deepEqual(bucket.files.map((f) => f.name).sort(), onHub.names);
      for (const f of bucket.files) {
        const stored = Buffer.from(zip[f.stored]);
        assert.deepEqual(stored, await get(onHub.info, onHub.address, f.name), f.name);
        assert.equal(crypto.createHash('sha256').update(stored).digest('hex'), f.sha256);
      }
    }
    // Decrypted beside each file Cairn can open: what the apps wrote.
    const collection = manifest.buckets.find((b) => b.kind === 'collection');
    assert.equal(collection.keyGeneration, 0);
    const c001 = collection.files.find((f) => f.name === 'collection/c001.json');
    assert.equal(Buffer.from(zip[c001.decrypted]).toString(), '{"i":1}');
    const again = collection.files.find((f) => f.name === 'collection/c000.json');
    assert.equal(Buffer.from(zip[again.decrypted]).toString(), '{"i":"again"}');
    const identity = manifest.buckets.find((b) => b.kind === 'identity');
    const settings = identity.files.find((f) => f.name === 'cairn/settings.json');
    assert.match(Buffer.from(zip[settings.decrypted]).toString(), /Alpha Contacts/);
    const photo = manifest.buckets.find((b) => b.kind === 'app').files.find((f) => f.name === 'photo.png');
    assert.deepEqual(Buffer.from(zip[photo.stored]), PNG);

    // No key material anywhere: no three Secret Key words in a row, no private key in hex
    // or base64.
    const secrets = [keys.dataKey, keys.bucketKey, keys.appKey, keys.kc.collectionEncryptionKey(0, 'contact', 0)];
    const needles = secrets.flatMap((k) => [k, Buffer.from(k, 'hex').toString('base64')]);
    const list3 = words.split(' ');
    for (let i = 0; i + 3 <= list3.length; i++) needles.push(list3.slice(i, i + 3).join(' '));
    for (const [name, bytes] of Object.entries(zip)) {
      const text = Buffer.from(bytes).toString('latin1');
      for (const n of needles) assert.ok(!text.includes(n), `${name} holds key material`);
    }
  });
});

// The File System Access API path: where the browser can show a save picker, the archive
// is written into the picked file as it is made. Headless Chromium cannot show the picker,
// so the page's `showSaveFilePicker` answers with a real file handle of the origin's private
// file system — the handle, its writable stream and the bytes on disk are the browser's own —
// and counts the chunks written. A second run closes the picker: nothing is written.
test('Download my data into a picked file: streamed in chunks, the same archive; closing the picker writes nothing', { timeout: 180_000 }, async () => {
  const { unzipSync } = await import('fflate');
  const words = freshWords();
  const keys = await seed(words, 3);
  // Two app files of 1.5 MiB: the archive is more than two chunks.
  const big = [crypto.randomBytes(1536 * 1024), crypto.randomBytes(1536 * 1024)];
  await put(keys.appKey, 'big/a.bin', big[0], 'application/octet-stream');
  await put(keys.appKey, 'big/b.bin', big[1], 'application/octet-stream');
  await withPage(stack, 'download-picked', async ({ page, shot }) => {
    await page.addInitScript(() => {
      window.__picker = { calls: [], writes: 0, cancel: false };
      window.showSaveFilePicker = async (options) => {
        window.__picker.calls.push(options);
        if (window.__picker.cancel) throw new DOMException('The user aborted a request.', 'AbortError');
        const root = await navigator.storage.getDirectory();
        const handle = await root.getFileHandle(options.suggestedName, { create: true });
        const open = handle.createWritable.bind(handle);
        handle.createWritable = async () => {
          const w = await open();
          const write = w.write.bind(w);
          w.write = (chunk) => { window.__picker.writes += 1; return write(chunk); };
          return w;
        };
        return handle;
      };
    });
    let downloads = 0;
    page.on('download', () => { downloads += 1; });
    await restoreToHome(page, stack, words);
    await page.goto(`${stack.auth}/data.html`);
    await byRole(page, 'button', 'Download my data').click();
    const saved = page.getByText(/^Saved to cairn-data-\d{4}-\d{2}-\d{2}\.zip: /);
    await saved.waitFor({ timeout: 60_000 });
    await shot('saved');
    const picker = await page.evaluate(() => ({ calls: window.__picker.calls, writes: window.__picker.writes }));
    assert.equal(picker.calls.length, 1);
    assert.deepEqual(picker.calls[0].types[0].accept, { 'application/zip': ['.zip'] });
    assert.ok(picker.writes >= 3, `written in chunks as the archive grew (${picker.writes} writes)`);
    const name = picker.calls[0].suggestedName;
    const bytes = await page.evaluate(async (n) => {
      const root = await navigator.storage.getDirectory();
      const file = await (await root.getFileHandle(n)).getFile();
      return Array.from(new Uint8Array(await file.arrayBuffer()));
    }, name);
    const zip = unzipSync(new Uint8Array(bytes));
    const manifest = JSON.parse(Buffer.from(zip['manifest.json']).toString());
    for (const key of [keys.dataKey, keys.bucketKey, keys.appKey]) {
      const onHub = await list(stack.hubUrl, key);
      const bucket = manifest.buckets.find((b) => b.address === onHub.address);
      assert.deepEqual(bucket.files.map((f) => f.name).sort(), onHub.names);
      for (const f of bucket.files) {
        assert.deepEqual(Buffer.from(zip[f.stored]), await get(onHub.info, onHub.address, f.name), f.name);
      }
    }
    const app = manifest.buckets.find((b) => b.kind === 'app');
    assert.deepEqual(Buffer.from(zip[app.files.find((f) => f.name === 'big/b.bin').stored]), big[1]);
    assert.equal(downloads, 0, 'nothing went the download way');

    // The picker closed: nothing written, the page says so.
    await page.evaluate(() => { window.__picker.cancel = true; window.__picker.writes = 0; });
    await byRole(page, 'button', 'Download my data').click();
    await page.getByText('Download cancelled: nothing was written.').waitFor({ timeout: SLOW });
    assert.equal(await page.evaluate(() => window.__picker.writes), 0);
    assert.ok(await byRole(page, 'button', 'Download my data').isEnabled());
    assert.equal(downloads, 0);
  });
});
