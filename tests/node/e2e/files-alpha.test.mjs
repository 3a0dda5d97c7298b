// The Files screen (docs/FILES_UI.md) on data written by real apps: the alpha app harness
// (tests/node/e2e/alpha-app/, blockstack-collections@0.1.8 + blockstack@20.0.0-alpha.5,
// helpers in alpha.mjs) signs apps in through Cairn's consent; the apps save, update and
// delete Contacts with the library, through the archival token Cairn minted for them, so
// cairn-hub keeps every replaced or deleted version as `.history.<ms>.<id>.<name>` and
// records the token's salt as the writer. Then, in Cairn:
//  (1) versions in order, a diff, rollback, restore of a contact the app deleted, undo since
//      T checked file by file against the state at T (decrypted in Node with the current
//      generation key), every intermediate version kept, the app's own files decrypted;
//  (2) "Changed by": two apps write after T, one of them signs in again (new token salt);
//      undo since T changed by that app reverts its changes (both salts) and only those.
//
// Screenshots: files-alpha-browser, -diff, -undo-preview, -app-data, files-changed-by-*.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useStack, withPage, cairn, byRole, freshWords, restoreToHome, SLOW, mainNav, localInput, sleep,
} from './harness.mjs';
import { alphaKit } from './alpha.mjs';

const stack = useStack();
const { alphaApp, signIn, open, alpha, hubInfo, listAll, collectionKeys, ownerToken } = alphaKit(stack);

/** Reads and decrypts the collection's files: {current: {id: attrs}, history: {id: [attrs]}}. */
async function bucketState(words) {
  const { address, keys: [key] } = collectionKeys(words, 1);
  const { read_url_prefix: prefix } = await hubInfo();
  const names = (await listAll(address, await ownerToken(words))).filter((n) => n.startsWith('collection/'));
  const current = {};
  const history = {};
  for (const n of names) {
    const body = await (await fetch(`${prefix}${address}/${n.split('/').map(encodeURIComponent).join('/')}`)).text();
    const attrs = JSON.parse(cairn.decryptECIES(key, body));
    const m = n.match(/^collection\/\.history\.\d+\.[^.]+\.(.+)$/);
    if (m) (history[m[1]] ??= []).push(attrs);
    else current[n.slice('collection/'.length)] = attrs;
  }
  return { current, history };
}

/** Waits until the next whole second, returns it (ms) and waits 1.5 s past it. */
async function markT() {
  await sleep(1500);
  const T = Math.floor(Date.now() / 1000) * 1000 + 1000;
  await sleep(T - Date.now() + 1500);
  return T;
}

async function openContacts(page) {
  await page.goto(`${stack.auth}/#/files`);
  await mainNav(page).waitFor({ timeout: SLOW });
  await byRole(page, 'navigation', 'Collections').getByRole('button', { name: 'contact', exact: true }).click({ timeout: SLOW });
  await listed(page).waitFor({ timeout: SLOW });
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

/** Undo changes since T (optionally changed by one app): the preview's items. */
async function previewUndo(page, T, app) {
  await byRole(page, 'button', 'Undo changes since…').click();
  const since = page.getByLabel('Since', { exact: true });
  await since.evaluate((el, v) => { el.value = v; el.dispatchEvent(new Event('input', { bubbles: true })); }, localInput(T));
  if (app) await page.getByLabel('Changed by', { exact: true }).selectOption({ label: app });
  await byRole(page, 'button', 'Preview').click();
  const plan = byRole(page, 'list', 'Undo preview');
  await plan.waitFor({ timeout: SLOW });
  return (await plan.getByRole('listitem').allTextContents()).map((t) => t.trim());
}

test('Files on contacts written by blockstack-collections apps: versions, rollback, restore, undo since T, app data', async () => {
  await withPage(stack, 'files-alpha', async ({ page, shot }) => {
    const words = freshWords(12);
    await restoreToHome(page, stack, words);
    const A = await alphaApp('Alpha Contacts', ['store_write', 'collection.contact']);
    const B = await alphaApp('Beta Contacts', ['store_write', 'collection.contact']);

    // Before T: A saves four contacts and a file of its own; B saves one.
    await signIn(page, A);
    await alpha.save(page, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@v1.example' });
    await alpha.save(page, { firstName: 'Alan', lastName: 'Turing', telephone: '+44 2' });
    await alpha.save(page, { firstName: 'Grace', lastName: 'Hopper', organization: 'Navy' });
    await alpha.save(page, { firstName: 'Katherine', lastName: 'Johnson' });
    await page.evaluate(async () => {
      const { userSession } = await window.alpha.ready;
      await userSession.putFile('notes.json', JSON.stringify({ todo: 'buy milk' }), { encrypt: true });
    });
    await signIn(page, B);
    await alpha.save(page, { firstName: 'Hedy', lastName: 'Lamarr' });
    const atT = (await bucketState(words)).current;
    assert.deepEqual(Object.keys(atT).sort(), ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Hedy Lamarr', 'Katherine Johnson']);
    const T = await markT();

    // After T: A updates Ada twice, deletes Alan, creates Dorothy; B updates Grace.
    await open(page, A);
    await alpha.save(page, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@v2.example' });
    await alpha.save(page, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@v3.example' });
    await alpha.remove(page, 'Alan Turing');
    await alpha.save(page, { firstName: 'Dorothy', lastName: 'Vaughan' });
    await open(page, B);
    await alpha.save(page, { firstName: 'Grace', lastName: 'Hopper', organization: 'Navy', email: 'grace@v2.example' });
    assert.deepEqual(await alpha.list(page), ['Ada Lovelace', 'Dorothy Vaughan', 'Grace Hopper', 'Hedy Lamarr', 'Katherine Johnson']);
    const before = await bucketState(words);
    assert.equal(before.history['Ada Lovelace'].length, 2, 'two archival overwrites of Ada');
    assert.equal(before.history['Alan Turing'].length, 1, 'the deleted Alan is kept');

    // Files in Cairn lists what the apps wrote.
    await openContacts(page);
    for (const n of ['Ada Lovelace', 'Dorothy Vaughan', 'Grace Hopper', 'Hedy Lamarr', 'Katherine Johnson']) await fileButton(page, n).waitFor();
    assert.equal(await fileButton(page, 'Alan Turing').count(), 0);
    await page.getByLabel('Show deleted files').check();
    await fileButton(page, 'Alan Turing').waitFor();
    await fileButton(page, 'Ada Lovelace').click();
    const preview = byRole(page, 'region', 'Preview');
    await preview.getByText('"ada@v3.example"').waitFor({ timeout: SLOW });
    await preview.getByText('Decrypted with key generation 0.').waitFor();
    await byRole(page, 'region', 'File').getByText(/changed by Alpha Contacts/).waitFor();
    await shot('browser');

    // Versions in order, newest first, attributed to the app; a diff.
    await byRole(page, 'button', 'History').click();
    const versions = byRole(page, 'list', 'Versions');
    await versions.waitFor();
    assert.equal(await versions.getByRole('listitem').count(), 3);
    const times = await versions.getByRole('listitem').evaluateAll((lis) => lis.map((li) => Date.parse(li.querySelector('time').getAttribute('datetime'))));
    assert.deepEqual([...times].sort((a, b) => b - a), times, 'versions newest first');
    assert.ok(times[2] < T && times[1] > T, `v1 before T, v2 after: ${times} vs ${T}`);
    const texts = await versions.getByRole('listitem').allTextContents();
    assert.match(texts[0], /current/);
    for (const t of texts) assert.match(t, /by Alpha Contacts/);
    await versions.getByRole('listitem').last().getByRole('button', { name: 'Compare with current' }).click();
    const diff = byRole(page, 'region', 'Diff');
    await diff.getByText('-   "email": "ada@v1.example",').waitFor();
    await diff.getByText('+   "email": "ada@v3.example",').waitFor();
    await shot('diff');
    // B's update is B's.
    await fileButton(page, 'Grace Hopper').click();
    await byRole(page, 'button', 'History').click();
    assert.match(await byRole(page, 'list', 'Versions').getByRole('listitem').first().textContent(), /by Beta Contacts/);

    // Roll Ada back to v2: v2 is current, v3 becomes a version.
    await fileButton(page, 'Ada Lovelace').click();
    await byRole(page, 'button', 'History').click();
    await byRole(page, 'list', 'Versions').getByRole('listitem').nth(1)
      .getByRole('button', { name: 'Roll back to this version' }).click();
    await dialogConfirm(page, 'Roll back');
    await preview.getByText('"ada@v2.example"').waitFor({ timeout: SLOW });
    let state = await bucketState(words);
    assert.equal(state.current['Ada Lovelace'].email, 'ada@v2.example');
    assert.deepEqual(state.history['Ada Lovelace'].map((a) => a.email).sort(), ['ada@v1.example', 'ada@v2.example', 'ada@v3.example']);
    await byRole(page, 'button', 'History').click();
    assert.equal(await byRole(page, 'list', 'Versions').getByRole('listitem').count(), 4);

    // Restore the contact the app deleted.
    await fileButton(page, 'Alan Turing').click();
    await byRole(page, 'button', 'Restore').click();
    await dialogConfirm(page, 'Restore');
    await page.getByRole('status').filter({ hasText: /^Alan Turing: done\./ }).waitFor({ timeout: SLOW });
    assert.deepEqual((await bucketState(words)).current['Alan Turing'], atT['Alan Turing']);

    // Undo changes since T: exactly the state at T, file by file; nothing lost.
    const items = await previewUndo(page, T);
    const joined = items.join(' | ');
    assert.ok(items.some((t) => /^Ada Lovelace: rolled back to the version of/.test(t)), joined);
    assert.ok(items.some((t) => /^Grace Hopper: rolled back to the version of/.test(t)), joined);
    assert.ok(items.includes('Dorothy Vaughan: removed (kept in history)'), joined);
    assert.ok(!items.some((t) => /^(Katherine Johnson|Hedy Lamarr):/.test(t)), joined);
    await shot('undo-preview');
    await byRole(page, 'button', 'Undo changes').click();
    await dialogConfirm(page, 'Undo changes');
    await page.getByText(/Undo complete: \d+ file\(s\) changed\./).first().waitFor({ timeout: SLOW });
    await shot('undo-done');
    state = await bucketState(words);
    assert.deepEqual(Object.keys(state.current).sort(), Object.keys(atT).sort());
    for (const [id, attrs] of Object.entries(atT)) assert.deepEqual(state.current[id], attrs, id);
    // Every intermediate version is still there.
    const emails = state.history['Ada Lovelace'].map((a) => a.email);
    for (const e of ['ada@v1.example', 'ada@v2.example', 'ada@v3.example']) assert.ok(emails.includes(e), `${e} in ${emails}`);
    assert.ok(state.history['Grace Hopper'].some((a) => a.email === 'grace@v2.example'));
    assert.deepEqual(state.history['Dorothy Vaughan'].map((a) => a.lastName), ['Vaughan']);

    // The apps read the state at T through the library.
    await open(page, A);
    assert.deepEqual(await alpha.list(page), Object.keys(atT).sort());
    assert.equal((await alpha.get(page, 'Ada Lovelace')).email, 'ada@v1.example');
    assert.equal((await alpha.get(page, 'Alan Turing')).telephone, '+44 2');

    // The app's own bucket: its file, written by blockstack.js, decrypted with the app key.
    await page.goto(`${stack.auth}/#/files`);
    await byRole(page, 'navigation', 'App data').getByRole('button', { name: 'Alpha Contacts', exact: true }).click({ timeout: SLOW });
    await listed(page).waitFor({ timeout: SLOW });
    await fileButton(page, 'notes.json').click();
    await preview.getByText('"buy milk"').waitFor({ timeout: SLOW });
    await preview.getByText("Decrypted with the app's key.").waitFor();
    assert.equal(await byRole(page, 'button', 'History').count(), 0);
    await shot('app-data');
  });
});

test('Files: undo since T changed by one app reverts only its changes, under every token it had', async () => {
  await withPage(stack, 'files-changed-by', async ({ page, shot }) => {
    const words = freshWords(12);
    await restoreToHome(page, stack, words);
    const A = await alphaApp('Alpha Contacts', ['store_write', 'collection.contact']);
    const B = await alphaApp('Beta Contacts', ['store_write', 'collection.contact']);
    await signIn(page, A);
    await alpha.save(page, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@t.example' });
    await alpha.save(page, { firstName: 'Alan', lastName: 'Turing', email: 'alan@t.example' });
    const firstToken = (await alpha.config(page)).hubConfig.token;
    await signIn(page, B);
    await alpha.save(page, { firstName: 'Grace', lastName: 'Hopper', email: 'grace@t.example' });
    await alpha.save(page, { firstName: 'Hedy', lastName: 'Lamarr', email: 'hedy@t.example' });
    const atT = (await bucketState(words)).current;
    const T = await markT();

    // After T: both apps change things; A signs in again in between (a new token salt).
    await open(page, A);
    await alpha.save(page, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@a.example' });
    await alpha.save(page, { firstName: 'Dorothy', lastName: 'Vaughan' });
    await open(page, B);
    await alpha.save(page, { firstName: 'Grace', lastName: 'Hopper', email: 'grace@b.example' });
    await alpha.remove(page, 'Hedy Lamarr');
    await open(page, A);
    // blockstack.js refuses a sign-in over a session: sign out in the app first.
    await page.evaluate(async () => (await window.alpha.ready).userSession.signUserOut());
    await signIn(page, A);
    assert.notEqual((await alpha.config(page)).hubConfig.token, firstToken, 'a new token after the new sign-in');
    await alpha.save(page, { firstName: 'Alan', lastName: 'Turing', email: 'alan@a.example' });

    await openContacts(page);
    // Ada's current version was written with A's first token: still A's.
    await fileButton(page, 'Ada Lovelace').click();
    await byRole(page, 'region', 'File').getByText(/changed by Alpha Contacts/).waitFor({ timeout: SLOW });
    await byRole(page, 'button', 'History').click();
    assert.match(await byRole(page, 'list', 'Versions').getByRole('listitem').first().textContent(), /by Alpha Contacts/);
    const items = await previewUndo(page, T, 'Alpha Contacts');
    const joined = items.join(' | ');
    assert.equal(items.length, 3, joined);
    assert.ok(items.some((t) => /^Ada Lovelace: rolled back to the version of/.test(t)), joined);
    assert.ok(items.some((t) => /^Alan Turing: rolled back to the version of/.test(t)), joined);
    assert.ok(items.includes('Dorothy Vaughan: removed (kept in history)'), joined);
    await shot('preview');
    await byRole(page, 'button', 'Undo changes').click();
    await dialogConfirm(page, 'Undo changes');
    await page.getByText(/Undo complete: 3 file\(s\) changed\./).first().waitFor({ timeout: SLOW });

    const { current } = await bucketState(words);
    assert.deepEqual(current['Ada Lovelace'], atT['Ada Lovelace']);
    assert.deepEqual(current['Alan Turing'], atT['Alan Turing']);
    assert.equal(current['Dorothy Vaughan'], undefined);
    // B's changes stand.
    assert.equal(current['Grace Hopper'].email, 'grace@b.example');
    assert.equal(current['Hedy Lamarr'], undefined);
    assert.deepEqual(Object.keys(current).sort(), ['Ada Lovelace', 'Alan Turing', 'Grace Hopper']);
    await shot('done');
  });
});
