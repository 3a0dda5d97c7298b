// "Move my data to another hub" (issue 18) at full scale and with bad targets, end to end
// in the real page:
//  (1) two real apps signed in through Cairn's consent screen — the blockstack-collections
//      app (tests/node/e2e/alpha-app) sharing "contact" and writing contacts through the
//      library, and the same harness as a plain storage app on another origin with other
//      scopes writing through UserSession.putFile — plus bulk files with history versions,
//      600 files in all, moved to a second cairn-hub with another port (read URL prefix)
//      and another server name (challenge text: every token must be made afresh). Every
//      file byte-identical, history names and order intact, the profile and the key file
//      pointing at the new hub; then both apps sign in again, get the new hub and read and
//      write their data there, and the Apps note about the move goes away app by app;
//  (2) bad targets, each refused with a clear message and Cairn left on the old hub:
//      (a) a hub whose quota is smaller than the data (507 mid-move),
//      (b) a hub whose hub_info announces a challenge it does not accept,
//      (c) a hub whose upload limit is smaller than one file (named before anything is written).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { encryptECIES, getPublicKeyFromPrivate } from '@stacks/encryption';
import { extractProfile } from '@stacks/profile';
import {
  useStack, withPage, cairn, cairnTesting, byRole, freshWords, restoreToHome, startHub, killHub, SLOW,
} from './harness.mjs';
import { alphaKit } from './alpha.mjs';
import {
  hubInfo, addressOf, listBucket, readFile, bucketWriter, identityKey, stxKey, putSettings, pool,
} from './buckets.mjs';

const stack = useStack();
const { alphaApp, signIn, alpha } = alphaKit(stack);

/** Every started hub, killed after its test. */
async function withHubs(fn) {
  const hubs = [];
  const start = async (name, args = []) => {
    const hub = await startHub(path.join(stack.tmp, `${name}-${crypto.randomBytes(3).toString('hex')}`), '127.0.0.1:0', args);
    hubs.push(hub);
    return hub;
  };
  try {
    return await fn(start);
  } finally {
    for (const h of hubs) {
      killHub(h.child);
    }
  }
}

/**
 * An app signed in before the move signs in again, as its user would: signs out of its
 * old session (blockstack.js refuses a sign-in over one), then through Cairn.
 */
async function signInAgain(page, app) {
  await page.goto(`${app.origin}/`);
  await page.evaluate(async () => (await window.alpha.ready).userSession.signUserOut());
  await signIn(page, app);
}

/** The page's app session: what the app library holds after sign-in. */
const userData = (page) => page.evaluate(async () => {
  const { userSession } = await window.alpha.ready;
  const d = userSession.loadUserData();
  return { hubUrl: d.hubUrl, appPrivateKey: d.appPrivateKey };
});

/** UserSession.putFile / getFile of the app's own bucket, through the library. */
const putAppFile = (page, name, text, options = {}) => page.evaluate(async ([n, t, o]) => {
  const { userSession } = await window.alpha.ready;
  return userSession.putFile(n, t, o);
}, [name, text, options]);
const getAppFile = (page, name, options = {}) => page.evaluate(async ([n, o]) => {
  const { userSession } = await window.alpha.ready;
  return userSession.getFile(n, o);
}, [name, options]);

/** The Apps screen's row of an app, and whether it carries the "not signed in since" note. */
async function appsNotes(page, names) {
  await page.goto(`${stack.auth}/#/apps`);
  await page.locator('li.app').first().waitFor({ timeout: SLOW });
  const out = {};
  for (const name of names) {
    const row = page.locator('li.app', { has: page.locator('.app-name', { hasText: name }) });
    assert.equal(await row.count(), 1, `one row for ${name}`);
    out[name] = (await row.getByText('Not signed in since your data moved', { exact: false }).count()) > 0;
  }
  return out;
}

/** Decrypts identity 0's settings file on a hub (signature not checked here). */
async function settingsOn(hubUrl, dataKey) {
  const info = await hubInfo(hubUrl);
  const file = JSON.parse((await readFile(info, addressOf(dataKey), 'cairn/settings.json')).toString());
  return JSON.parse(cairn.decryptECIES(dataKey, file.cipherText));
}

/** A history file's time (`….history.<ms>.<id>.<name>`). */
const historyTime = (name) => Number(name.match(/\.history\.(\d+)\./)[1]);

test('(1) full scale: two real apps, 600 files with history, moved to a hub with another name; both apps sign in again and use it', { timeout: 300_000 }, async () => {
  await withHubs(async (start) => {
    const hubB = await start('hub-b', ['--server-name', 'hub-b.example']);
    const [infoA, infoB] = [await hubInfo(stack.hubUrl), await hubInfo(hubB.url)];
    assert.notEqual(infoB.challenge_text, infoA.challenge_text, 'the new hub has another challenge');
    assert.notEqual(infoB.read_url_prefix, infoA.read_url_prefix);
    await withPage(stack, 'move-scale', async ({ page, shot }) => {
      const words = freshWords(12);
      const kc = cairnTesting.Keychain.fromMnemonic(words);
      await restoreToHome(page, stack, words);
      const C = await alphaApp('Alpha Contacts', ['store_write', 'publish_data', 'collection.contact']);
      const N = await alphaApp('Beta Notes', ['store_write', 'publish_data', 'email']);

      // The collections app signs in through the consent screen and writes contacts with
      // the library; the second save of Ada (its archival token) leaves a history version.
      await signIn(page, C, { shoot: shot });
      const people = [['Ada', 'Lovelace'], ['Alan', 'Turing'], ['Grace', 'Hopper'], ['Katherine', 'Johnson']];
      for (const [firstName, lastName] of people) {
        await alpha.save(page, { firstName, lastName, email: `${firstName.toLowerCase()}@example.com` });
      }
      await alpha.save(page, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@analytical.example' });
      const cfgC = await alpha.config(page);
      const appKeyC = (await userData(page)).appPrivateKey;

      // The storage app (other origin, other scopes) writes through UserSession.putFile.
      await signIn(page, N, { shoot: shot });
      const NOTE = JSON.stringify({ text: 'written before the move', at: Date.now() });
      await putAppFile(page, 'notes/first.json', NOTE);
      await putAppFile(page, 'public/hello.txt', 'hello from Beta Notes', { encrypt: false, contentType: 'text/plain' });
      const appKeyN = (await userData(page)).appPrivateKey;
      assert.equal(appKeyN, kc.appPrivateKey(0, N.origin), "the app's key is the one Cairn derives");

      const dataKey = await identityKey(words);
      const collectionKey = kc.collectionBucketKey(0, 'contact');
      const bucketKeys = { identity: dataKey, [C.name]: appKeyC, [N.name]: appKeyN, contact: collectionKey };
      assert.equal(addressOf(collectionKey), cfgC.hubConfig.address);

      // Bulk, at most 8 writes at a time: contacts as the library writes them (ECIES to
      // generation 0, with the app's archival token), 50 of them written twice more
      // (two history versions each); and the storage app's files (some binary), 20 of
      // them written twice more with an archival token of its own key.
      const before = {};
      for (const [k, key] of Object.entries(bucketKeys)) before[k] = (await listBucket(stack.hubUrl, key)).names;
      const already = Object.values(before).reduce((n, names) => n + names.length, 0);
      const NOTES = 150;
      const contacts = 600 - already - NOTES - 2 * 20 - 2 * 50;
      assert.ok(contacts >= 280, `${already} files before the bulk`);
      const pub = getPublicKeyFromPrivate(cfgC.encryptionKey);
      const contactBody = async (id, version) => JSON.stringify(await encryptECIES(
        pub, Buffer.from(JSON.stringify({ identifier: id, firstName: id.split(' ')[0], lastName: 'Seed', note: `v${version}` })), true,
      ));
      const writeContact = async (id, version) => {
        const r = await fetch(`${cfgC.hubConfig.server}/store/${cfgC.hubConfig.address}/collection/${encodeURIComponent(id)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `bearer ${cfgC.hubConfig.token}` },
          body: await contactBody(id, version),
        });
        assert.equal(r.status, 202, `store ${id}`);
      };
      const ids = Array.from({ length: contacts }, (_, i) => `Person${String(i).padStart(3, '0')} Seed`);
      const seeded = Date.now();
      await pool(ids, 8, (id) => writeContact(id, 0));
      for (const v of [1, 2]) await pool(ids.slice(0, 50), 8, (id) => writeContact(id, v));
      const writeN = await bucketWriter(stack.hubUrl, appKeyN);
      const archivalN = await bucketWriter(stack.hubUrl, appKeyN, { scopes: [{ scope: 'putFileArchivalPrefix', domain: 'bulk/' }] });
      const noteBody = (i, v) => (i % 5 === 0 ? crypto.randomBytes(2000 + i * 7) : `{"i":${i},"v":${v}}`);
      const noteNames = Array.from({ length: NOTES }, (_, i) => `bulk/n${String(i).padStart(3, '0')}${i % 5 === 0 ? '.bin' : '.json'}`);
      await pool(noteNames, 8, async (name, i) => assert.equal(await writeN(name, noteBody(i, 0)), 202));
      for (const v of [1, 2]) {
        await pool(noteNames.slice(0, 20), 8, async (name, i) => assert.equal(await archivalN(name, noteBody(i, v)), 202));
      }
      console.log(`# seeded ${contacts} contacts and ${NOTES} notes (+140 versions) in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

      // What the old hub holds: 600 files, history versions among them.
      const old = {};
      for (const [k, key] of Object.entries(bucketKeys)) old[k] = await listBucket(stack.hubUrl, key);
      const total = Object.values(old).reduce((n, b) => n + b.names.length, 0);
      assert.equal(total, 600);
      const historyOld = old.contact.names.filter((n) => n.includes('/.history.'));
      assert.equal(historyOld.length, 101, '2 × 50 seeded versions + the one the library made');
      assert.equal(old[N.name].names.filter((n) => n.includes('/.history.')).length, 40);

      // Check hub: the plan names every bucket and the 600 files.
      await page.goto(`${stack.auth}/data.html`);
      await byRole(page, 'heading', 'Your data').waitFor({ timeout: SLOW });
      await byRole(page, 'textbox', 'New hub URL').fill(hubB.url);
      await byRole(page, 'button', 'Check hub').click();
      await page.getByText(`Hub ready: its files are read at ${infoB.read_url_prefix}`, { exact: false }).waitFor({ timeout: SLOW });
      const plan = page.locator('.move-plan');
      await plan.getByText(`The collection contact: ${old.contact.names.length} file(s)`, { exact: false }).waitFor();
      await plan.getByText(`The app ${C.name}: ${old[C.name].names.length} file(s)`, { exact: false }).waitFor();
      await plan.getByText(`The app ${N.name}: ${old[N.name].names.length} file(s)`, { exact: false }).waitFor();
      await plan.getByText(`Your identity: ${old.identity.names.length} file(s)`, { exact: false }).waitFor();
      await plan.getByText(/^In all: 600 file\(s\), .* \(141 earlier version\(s\) among them\)\.$/).waitFor();
      await shot('plan');

      const moved = Date.now();
      await byRole(page, 'button', 'Move data').click();
      await page.waitForFunction(() => Number(document.querySelector('progress[aria-label="Move progress"]')?.getAttribute('value') ?? 0) >= 200, null, { timeout: 60_000 });
      await shot('moving');
      const done = page.getByText(/^Done: /);
      await done.waitFor({ timeout: 180_000 });
      console.log(`# moved 600 files in ${((Date.now() - moved) / 1000).toFixed(1)} s`);
      assert.match(await done.textContent(), new RegExp(`^Done: 600 file\\(s\\) moved to ${hubB.url}\\.`));
      await page.getByText(`Your data is on the Gaia hub ${hubB.url}.`).waitFor();
      await shot('done');

      // Every file byte-identical on the new hub, but the three the switch rewrites.
      const rewritten = new Set(['cairn/settings.json', 'profile.json', '.collections.keys']);
      const onB = {};
      for (const [k, key] of Object.entries(bucketKeys)) {
        onB[k] = await listBucket(hubB.url, key);
        assert.deepEqual(onB[k].names, old[k].names, `the same files in ${k}`);
        await pool(old[k].names.filter((n) => !rewritten.has(n)), 8, async (name) => {
          assert.deepEqual(await readFile(infoB, onB[k].address, name), await readFile(infoA, old[k].address, name), `${k}: ${name}`);
        });
      }
      // History names and order: the versions of a contact, oldest first, are v0, v1,
      // then the current file v2 — on the new hub as on the old.
      const genKey = cfgC.encryptionKey;
      const open1 = async (info, name) => JSON.parse(cairn.decryptECIES(genKey, (await readFile(info, cfgC.hubConfig.address, name)).toString())).note;
      // (The hub stores the decoded name: "collection/Person007 Seed".)
      const sample = ids[7];
      const versionsOf = (names) => names.filter((n) => n.startsWith('collection/.history.') && n.endsWith(`.${sample}`))
        .sort((a, b) => historyTime(a) - historyTime(b));
      assert.deepEqual(versionsOf(onB.contact.names), versionsOf(old.contact.names));
      for (const [info, names] of [[infoA, old.contact.names], [infoB, onB.contact.names]]) {
        const history = versionsOf(names);
        assert.equal(history.length, 2);
        assert.deepEqual([await open1(info, history[0]), await open1(info, history[1]), await open1(info, `collection/${sample}`)], ['v0', 'v1', 'v2']);
      }

      // The profile on the new hub (in the identity bucket, signed by the STX key as
      // wallet-sdk signs it) lists each app's bucket there; the old hub's still lists the
      // old ones.
      const signerPub = cairn.publicKeyFromPrivate(await stxKey(words));
      const claimOn = async (info) => extractProfile(JSON.parse((await readFile(info, addressOf(dataKey), 'profile.json')).toString())[0].token, signerPub);
      const [oldClaim, newClaim] = [await claimOn(infoA), await claimOn(infoB)];
      for (const [app, key] of [[C, appKeyC], [N, appKeyN]]) {
        assert.equal(oldClaim.apps[app.origin], `${infoA.read_url_prefix}${addressOf(key)}/`);
        assert.equal(newClaim.apps[app.origin], `${infoB.read_url_prefix}${addressOf(key)}/`);
        assert.equal(newClaim.appsMeta[app.origin].storage, `${infoB.read_url_prefix}${addressOf(key)}/`);
        assert.equal(newClaim.appsMeta[app.origin].publicKey, cairn.publicKeyFromPrivate(key));
      }
      // The key file on the new hub: the new hub's config with a token made for its
      // challenge (the copied one, made for the old challenge, is refused there).
      const keyFileOn = async (info) => JSON.parse(cairn.decryptECIES(appKeyC, (await readFile(info, addressOf(appKeyC), '.collections.keys')).toString())).contact;
      const [oldEntry, newEntry] = [await keyFileOn(infoA), await keyFileOn(infoB)];
      assert.equal(newEntry.hubConfig.server, hubB.url);
      assert.equal(newEntry.hubConfig.url_prefix, infoB.read_url_prefix);
      assert.equal(newEntry.hubConfig.address, cfgC.hubConfig.address);
      assert.equal(newEntry.encryptionKey, cfgC.encryptionKey);
      const listWith = async (token) => (await fetch(`${hubB.url}/list-files/${cfgC.hubConfig.address}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `bearer ${token}` }, body: '{}',
      })).status;
      assert.equal(await listWith(newEntry.hubConfig.token), 202);
      assert.equal(await listWith(oldEntry.hubConfig.token), 401);
      // Settings on the new hub: the move logged, no journal left.
      const settingsB = await settingsOn(hubB.url, dataKey);
      assert.equal(settingsB.journal.length, 0);
      assert.equal(settingsB.log.at(-1).event, 'move');

      // Apps: both have not signed in since the move.
      assert.deepEqual(await appsNotes(page, [C.name, N.name]), { [C.name]: true, [N.name]: true });
      await shot('apps-after-move');

      // The collections app signs in again: it gets the new hub, reads the contacts it
      // wrote before the move (and the seeded ones), and writes there.
      await signInAgain(page, C);
      assert.equal((await userData(page)).hubUrl, hubB.url);
      const listed = await alpha.list(page);
      assert.equal(listed.length, people.length + contacts);
      for (const [firstName, lastName] of people) assert.ok(listed.includes(`${firstName} ${lastName}`));
      assert.equal((await alpha.get(page, 'Ada Lovelace')).email, 'ada@analytical.example');
      assert.equal((await alpha.get(page, 'Grace Hopper')).email, 'grace@example.com');
      assert.equal((await alpha.get(page, ids[7])).note, 'v2');
      assert.equal(await alpha.save(page, { firstName: 'Mary', lastName: 'Jackson' }), 'Mary Jackson');
      assert.equal((await alpha.config(page)).hubConfig.server, hubB.url);
      assert.deepEqual(await appsNotes(page, [C.name, N.name]), { [C.name]: false, [N.name]: true });
      await shot('apps-after-one-sign-in');

      // The storage app signs in again: its note, read and written on the new hub.
      await signInAgain(page, N);
      assert.equal((await userData(page)).hubUrl, hubB.url);
      assert.equal(await getAppFile(page, 'notes/first.json'), NOTE);
      assert.equal(await getAppFile(page, 'public/hello.txt', { decrypt: false }), 'hello from Beta Notes');
      await putAppFile(page, 'notes/after.json', '{"text":"written after the move"}');
      assert.equal(await getAppFile(page, 'notes/after.json'), '{"text":"written after the move"}');
      assert.deepEqual(await appsNotes(page, [C.name, N.name]), { [C.name]: false, [N.name]: false });
      await shot('apps-after-both-sign-ins');

      // The writes went to the new hub; the old hub's buckets are as they were.
      const mary = (names) => names.some((n) => /^collection\/Mary(%20| )Jackson$/.test(n));
      assert.ok(mary((await listBucket(hubB.url, collectionKey)).names), 'the new contact is on the new hub');
      assert.ok((await listBucket(hubB.url, appKeyN)).names.includes('notes/after.json'));
      for (const [k, key] of Object.entries(bucketKeys)) {
        if (k === 'identity') continue; // the old hub's journal records the switch
        assert.deepEqual((await listBucket(stack.hubUrl, key)).names, old[k].names, `nothing new on the old hub in ${k}`);
      }
    });
  });
});

/**
 * An identity with one connected app ("Photos") and `files` ([name, bytes]) in its
 * bucket; returns {words, dataKey, appKey}.
 */
async function seedPhotos(files) {
  const words = freshWords(12);
  const kc = cairnTesting.Keychain.fromMnemonic(words);
  const origin = 'http://localhost:7778';
  const now = Date.now();
  const dataKey = await putSettings(stack.hubUrl, words, {
    v: 1,
    apps: [{ origin, name: 'Photos', firstSignIn: now, lastSignIn: now, scopes: ['store_write'] }],
    collections: {},
    log: [],
    journal: [],
  });
  const appKey = kc.appPrivateKey(0, origin);
  const write = await bucketWriter(stack.hubUrl, appKey);
  for (const [name, body] of files) assert.equal(await write(name, body), 202);
  return { words, dataKey, appKey };
}

/** The page names the old hub as the one in use, after a fresh load too; no delete offered. */
async function stillOnOldHub(page) {
  await page.goto(`${stack.auth}/data.html`);
  await page.getByText(`Your data is on the Gaia hub ${stack.hubUrl}.`).waitFor({ timeout: SLOW });
  await page.getByText('No move has been made from this browser.').waitFor();
  assert.equal(await byRole(page, 'button', 'Delete data on the old hub').isVisible(), false);
}

/** Check hub with `url`; resolves to the status line's text once it settles. */
async function checkHub(page, url) {
  await page.goto(`${stack.auth}/data.html`);
  await byRole(page, 'textbox', 'New hub URL').fill(url);
  await byRole(page, 'button', 'Check hub').click();
  const line = page.getByText(/^(Hub ready: |Check failed: )/);
  await line.waitFor({ timeout: SLOW });
  return (await line.textContent()).trim();
}

test('(2a) a new hub with a quota smaller than the data: 507 mid-move, the file named, nothing switched', { timeout: 120_000 }, async () => {
  await withHubs(async (start) => {
    const hubQ = await start('hub-quota', ['--quota-mb', '1']);
    const big = [1, 2, 3, 4].map((i) => [`big-${i}.bin`, crypto.randomBytes(400 * 1024)]);
    const seed = await seedPhotos([...big, ['small.json', '{"a":1}']]);
    await withPage(stack, 'move-quota', async ({ page, shot }) => {
      await restoreToHome(page, stack, seed.words);
      assert.match(await checkHub(page, hubQ.url), /^Hub ready: /);
      await byRole(page, 'button', 'Move data').click();
      const stopped = page.getByText(/^Stopped: /);
      await stopped.waitFor({ timeout: 60_000 });
      const text = (await stopped.textContent()).trim();
      await shot('stopped');
      console.log(`# ${text}`);
      // The status and the file are named; nothing is switched.
      assert.match(text, /507/);
      const named = text.match(/big-\d\.bin/)?.[0];
      assert.ok(named, `the file is named: ${text}`);
      assert.match(text, /Nothing is switched/);
      await byRole(page, 'button', 'Resume').waitFor();
      const onQ = await listBucket(hubQ.url, seed.appKey);
      assert.ok(!onQ.names.includes(named), 'the refused file is not on the new hub');
      assert.ok(onQ.entries.reduce((n, e) => n + (e.contentLength ?? 0), 0) <= 1024 * 1024);

      // Still on the old hub: the page (after a reload), the settings there (the move
      // journaled, not switched), and no switch on the new hub.
      await stillOnOldHub(page);
      await page.getByText(`A move to ${hubQ.url} is unfinished`, { exact: false }).waitFor({ timeout: SLOW });
      const settings = await settingsOn(stack.hubUrl, seed.dataKey);
      assert.equal(settings.journal.length, 1);
      assert.equal(settings.journal[0].switched, false);
      const onNew = (await listBucket(hubQ.url, seed.dataKey)).names;
      if (onNew.includes('cairn/settings.json')) {
        assert.ok(!(await settingsOn(hubQ.url, seed.dataKey)).log.some((l) => l.event === 'move'), 'no switch on the new hub');
      }
      await shot('still-on-old-hub');
    });
  });
});

/**
 * A proxy in front of `hubUrl` that answers /hub_info with another server's challenge
 * text (everything else passes through): the hub then refuses tokens made for what it
 * announces.
 */
async function lyingProxy(hubUrl) {
  const target = new URL(hubUrl);
  const server = http.createServer((req, res) => {
    const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      if (req.url === '/hub_info') {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => {
          const info = JSON.parse(Buffer.concat(chunks).toString());
          info.challenge_text = info.challenge_text.replace(/"[^"]*\.example"|"localhost"/, '"somewhere-else.example"');
          const body = JSON.stringify(info);
          res.writeHead(r.statusCode, { ...r.headers, 'content-length': Buffer.byteLength(body) });
          res.end(body);
        });
      } else {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      }
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  stack.servers.push(server);
  return `http://127.0.0.1:${server.address().port}`;
}

test('(2b) a hub announcing a challenge it does not accept: Check hub says the probe write was refused and why', { timeout: 120_000 }, async () => {
  await withHubs(async (start) => {
    const hubX = await start('hub-x', ['--server-name', 'hub-x.example']);
    const proxy = await lyingProxy(hubX.url);
    const announced = (await hubInfo(proxy)).challenge_text;
    assert.notEqual(announced, (await hubInfo(hubX.url)).challenge_text, 'the proxy announces another challenge');
    const seed = await seedPhotos([['a.json', '{"a":1}']]);
    await withPage(stack, 'move-bad-challenge', async ({ page, shot }) => {
      await restoreToHome(page, stack, seed.words);
      const text = await checkHub(page, proxy);
      await shot('check-failed');
      console.log(`# ${text}`);
      assert.match(text, /^Check failed: /);
      assert.match(text, /probe file/);
      assert.match(text, /401/);
      assert.match(text, /challenge/i, `says why: ${text}`);
      assert.ok(await byRole(page, 'button', 'Move data').isDisabled());
      assert.equal(await page.locator('.move-plan li').count(), 0, 'no plan');
      for (const key of [seed.dataKey, seed.appKey]) {
        assert.deepEqual((await listBucket(hubX.url, key)).names, [], 'nothing written on the hub');
      }
      await stillOnOldHub(page);
    });
  });
});

test('(2c) a hub whose upload limit is smaller than one file: the plan names it before anything is written', { timeout: 120_000 }, async () => {
  await withHubs(async (start) => {
    const hubL = await start('hub-limit', ['--max-upload-mb', '1']);
    const seed = await seedPhotos([['albums/holiday.jpg', crypto.randomBytes(1536 * 1024)], ['small.json', '{"a":1}']]);
    await withPage(stack, 'move-too-large', async ({ page, shot }) => {
      await restoreToHome(page, stack, seed.words);
      const text = await checkHub(page, hubL.url);
      await shot('plan-too-large');
      console.log(`# ${text}`);
      assert.match(text, /^Hub ready: .* But it cannot take everything: albums\/holiday\.jpg in the app Photos /);
      assert.match(text, new RegExp(`${1536 * 1024} bytes`));
      assert.ok(await byRole(page, 'button', 'Move data').isDisabled());
      for (const key of [seed.dataKey, seed.appKey]) {
        assert.deepEqual((await listBucket(hubL.url, key)).names, [], 'nothing written on the hub');
      }
      await stillOnOldHub(page);
    });
  });
});
