// Collections end to end (COLLECTIONS.md, docs/COLLECTIONS_UI.md) with apps built on the
// real blockstack-collections@0.1.8 and blockstack@20.0.0-alpha.5 (their published UMD
// bundles, tests/node/e2e/alpha-app/), each served from its own origin:
//  (1) two apps sign in through Cairn asking for collection.contact, save and list
//      Contacts on cairn-hub and see each other's; the user revokes the first in the
//      permission manager: its old token gets 401, its old key opens no current file, the
//      second app (after re-reading its key file) reads every contact and writes; every
//      file decrypts with the new generation; grant it back; make it read-only;
//  (2) read-only grant: reads and decrypts, every write refused by the hub;
//  (3) fault: the hub is killed in the middle of re-encrypting 200+ files; after it comes
//      back and the tab is closed and reopened, unlocking resumes the revocation from the
//      journal; nothing lost or left undecryptable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { decryptECIES, encryptECIES, getPublicKeyFromPrivate, verifyECDSA } from '@stacks/encryption';
import { generateWallet } from '@stacks/wallet-sdk';
import {
  useStack, withPage, freshWords, restoreToHome, repo, SLOW, mainNav, unlock, byRole, sleep, cairn, killHub,
} from './harness.mjs';
import { alphaKit } from './alpha.mjs';

const stack = useStack();
const {
  alphaApp, signIn, open, alpha, hubInfo, store, collectionKeys, ownerToken, currentFiles,
} = alphaKit(stack);

/** The first journal entry of identity 0's settings file on the hub (signature checked), as JSON text. */
async function decryptedJournal(words) {
  const wallet = await generateWallet({ secretKey: words, password: 'e2e-journal' });
  const key = wallet.accounts[0].dataPrivateKey.slice(0, 64);
  const info = await hubInfo();
  const r = await fetch(`${info.read_url_prefix}${cairn.bucketAddress(key)}/cairn/settings.json`, { cache: 'no-store' });
  const file = await r.json();
  assert.ok(verifyECDSA(file.cipherText, file.publicKey, file.signature));
  const doc = JSON.parse(await decryptECIES(key, JSON.parse(file.cipherText)));
  return JSON.stringify(doc.journal[0] ?? null);
}

/** Opens Permissions in the authenticator. */
async function openPermissions(page) {
  await page.goto(`${stack.auth}/#/permissions`);
  await mainNav(page).waitFor({ timeout: SLOW });
  await byRole(page, 'heading', 'Permissions').waitFor();
}

test('(1) two blockstack-collections apps share contacts; revoke the first; grant back; make read-only', async () => {
  await withPage(stack, 'collections-interop', async ({ page, shot }) => {
    const words = freshWords(12);
    await restoreToHome(page, stack, words);
    const A = await alphaApp('Alpha Contacts', ['store_write', 'collection.contact']);
    const B = await alphaApp('Beta Contacts', ['store_write', 'collection.contact']);

    // App A: sign in (consent lists the collection), save and list contacts.
    await page.goto(`${A.origin}/`);
    await signIn(page, A, { shoot: shot });
    await byRole(page, 'heading', 'Alpha Contacts').waitFor();
    const people = [['Ada', 'Lovelace'], ['Alan', 'Turing'], ['Grace', 'Hopper']];
    for (const [firstName, lastName] of people) {
      assert.equal(await alpha.save(page, { firstName, lastName, email: `${firstName}@example.com` }), `${firstName} ${lastName}`);
    }
    assert.deepEqual(await alpha.list(page), ['Ada Lovelace', 'Alan Turing', 'Grace Hopper']);
    const oldA = await alpha.config(page);
    const { address, keys: [gen0] } = collectionKeys(words, 1);
    assert.equal(oldA.hubConfig.address, address, 'the collection bucket of identity 1');
    assert.equal(oldA.encryptionKey, gen0, 'generation 0 = the alpha derivation');

    // App B (another origin) sees A's contacts and adds one.
    // One tab throughout: Cairn's unlock session is per tab.
    const pageB = page;
    await signIn(pageB, B);
    assert.deepEqual(await alpha.list(pageB), ['Ada Lovelace', 'Alan Turing', 'Grace Hopper']);
    assert.equal((await alpha.get(pageB, 'Ada Lovelace')).email, 'Ada@example.com');
    await alpha.save(pageB, { firstName: 'Katherine', lastName: 'Johnson' });
    await open(page, A);
    assert.deepEqual(await alpha.list(page), ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Katherine Johnson']);

    // The permission manager shows both apps on "contact" and both connected apps.
    await openPermissions(page);
    const contact = page.getByRole('region', { name: 'contact', exact: true });
    await contact.getByText('Alpha Contacts', { exact: true }).waitFor({ timeout: SLOW });
    await contact.getByText('Beta Contacts', { exact: true }).waitFor();
    assert.equal(await contact.getByText('read and write', { exact: true }).count(), 2);
    await page.getByRole('region', { name: 'Connected apps' }).waitFor();
    await shot('permission-manager');

    // Revoke A: the dialog says what revocation cannot undo; Escape cancels.
    await byRole(page, 'button', 'Revoke Alpha Contacts').click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByText('Alpha Contacts may have kept copies of what it already read; revoking cannot take those back.').waitFor();
    assert.equal(await byRole(dialog, 'checkbox', 'Re-encrypt current files').isChecked(), true);
    assert.equal(await byRole(dialog, 'checkbox', 'Re-encrypt history').isChecked(), false);
    await shot('revoke-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Revoke Alpha Contacts', 'focus returns');
    await byRole(page, 'button', 'Revoke Alpha Contacts').click();
    await byRole(page.getByRole('dialog'), 'button', 'Revoke').click();
    const done = page.getByRole('status').filter({ hasText: /^Done: Alpha Contacts can no longer use contact/ });
    await done.waitFor({ timeout: 60_000 });
    await shot('revoked');
    assert.equal(await contact.getByText('Alpha Contacts', { exact: true }).count(), 0);

    // A's old token is dead; its old key opens no current file; all are generation 1.
    assert.equal(await store(oldA.hubConfig, 'collection/Eve Evil', '{}'), 401);
    const { keys } = collectionKeys(words, 2);
    // B re-reads its key file: its fresh token lists the bucket (listing is never scoped).
    await open(pageB, B);
    await alpha.refresh(pageB);
    const newB = await alpha.config(pageB);
    assert.equal(newB.encryptionKey, keys[1]);
    const files = await currentFiles(address, newB.hubConfig.token, keys);
    assert.equal(files.length, 4);
    for (const f of files) assert.equal(f.key, 1, `${f.path} is at generation 1`);

    // B, after re-reading its key file, reads every contact and writes a new one.
    for (const [firstName, lastName] of people) {
      assert.equal((await alpha.get(pageB, `${firstName} ${lastName}`)).lastName, lastName);
    }
    await alpha.save(pageB, { firstName: 'Mary', lastName: 'Jackson' });
    assert.equal((await alpha.list(pageB)).length, 5);
    // A's key file no longer has the collection.
    const pageA = page;
    await open(pageA, A);
    await alpha.refresh(pageA);
    await assert.rejects(alpha.config(pageA));

    // Grant contact back to A (Connected apps), then make it read-only.
    await openPermissions(page);
    await byRole(page, 'button', 'Grant contact to Alpha Contacts').click();
    await contact.getByText('Alpha Contacts', { exact: true }).waitFor({ timeout: SLOW });
    await open(pageA, A);
    await alpha.refresh(pageA);
    assert.equal((await alpha.list(pageA)).length, 5);
    await alpha.save(pageA, { firstName: 'Dorothy', lastName: 'Vaughan' });
    // An overwrite through the archival token keeps the old version as a history file.
    await alpha.save(pageA, { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@analytical.example' });
    const grantedA = await alpha.config(pageA);
    await openPermissions(page);
    await byRole(page, 'button', 'Make read-only Alpha Contacts').click();
    await byRole(page.getByRole('dialog'), 'checkbox', 'Re-encrypt history').check();
    await byRole(page.getByRole('dialog'), 'button', 'Make read-only').click();
    await page.getByRole('status').filter({ hasText: /^Done: Alpha Contacts is now read-only on contact/ }).waitFor({ timeout: 60_000 });
    await contact.getByText('read only', { exact: true }).waitFor({ timeout: SLOW });
    await shot('made-read-only');
    assert.equal(await store(grantedA.hubConfig, 'collection/Eve Evil', '{}'), 401, 'the old rw token is dead');
    await open(pageA, A);
    await alpha.refresh(pageA);
    const roA = await alpha.config(pageA);
    assert.equal(roA.hubConfig.token, '');
    assert.equal(roA.encryptionKey, collectionKeys(words, 3).keys[2]);
    assert.equal((await alpha.get(pageA, 'Dorothy Vaughan')).firstName, 'Dorothy');
    assert.equal((await alpha.get(pageA, 'Ada Lovelace')).email, 'ada@analytical.example');
    // History was asked for too: every file, history included, is at generation 2.
    const all = await currentFiles(address, await ownerToken(words), collectionKeys(words, 3).keys, { history: true });
    assert.ok(all.some((f) => f.path.includes('/.history.')), 'a history file exists');
    assert.equal(all.length, 6 + all.filter((f) => f.path.includes('/.history.')).length);
    assert.deepEqual(all.filter((f) => f.key !== 2), []);
    await open(pageA, A);
    await assert.rejects(alpha.save(pageA, { firstName: 'Eve', lastName: 'Evil' }));
    // B still writes.
    await open(pageB, B);
    await alpha.refresh(pageB);
    await alpha.save(pageB, { firstName: 'Annie', lastName: 'Easley' });
  });
});

test('(2) a read-only grant reads and decrypts; every write is refused by the hub', async () => {
  await withPage(stack, 'collections-read-only', async ({ page, shot }) => {
    const words = freshWords(12);
    await restoreToHome(page, stack, words);
    const W = await alphaApp('Writer Contacts', ['store_write', 'collection.contact']);
    const R = await alphaApp('Reader Contacts', ['store_write', 'collection.contact.read']);
    await signIn(page, W);
    await alpha.save(page, { firstName: 'Ada', lastName: 'Lovelace', telephone: '+44 1' });
    await alpha.save(page, { firstName: 'Alan', lastName: 'Turing' });

    await page.goto(`${R.origin}/`);
    await page.evaluate(() => window.alpha.ready);
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(stack.auth), { timeout: SLOW }),
      page.evaluate(() => window.alpha.signIn()),
    ]);
    await byRole(page, 'heading', 'Sign in to Reader Contacts').waitFor({ timeout: SLOW });
    await page.getByText('Read your contact collection', { exact: true }).waitFor();
    await shot('consent-read-only');
    await byRole(page, 'button', 'Approve').click();
    await page.waitForURL((u) => u.href.startsWith(R.origin), { timeout: SLOW });
    await page.getByText('Signed in', { exact: true }).waitFor({ timeout: SLOW });

    const cfg = await alpha.config(page);
    assert.equal(cfg.hubConfig.token, '', 'no write token');
    assert.equal(cfg.encryptionKey, collectionKeys(words, 1).keys[0]);
    assert.equal((await alpha.get(page, 'Ada Lovelace')).telephone, '+44 1');
    assert.equal((await alpha.get(page, 'Alan Turing')).lastName, 'Turing');
    await assert.rejects(alpha.save(page, { firstName: 'Eve', lastName: 'Evil' }));
    assert.equal(await store(cfg.hubConfig, 'collection/Eve Evil', '{}'), 401);
    const del = await fetch(`${cfg.hubConfig.server}/delete/${cfg.hubConfig.address}/collection/Ada%20Lovelace`, {
      method: 'DELETE', headers: { Authorization: 'bearer ' },
    });
    assert.equal(del.status, 401);

    await openPermissions(page);
    const contact = page.getByRole('region', { name: 'contact', exact: true });
    await contact.getByText('read only', { exact: true }).waitFor({ timeout: SLOW });
    assert.equal(await byRole(page, 'button', 'Make read-only Reader Contacts').count(), 0);
    assert.equal(await byRole(page, 'button', 'Make read-only Writer Contacts').count(), 1);
    await shot('permissions-read-only');
  });
});

const HUB_BIN = process.env.CAIRN_HUB_BIN || path.join(repo, 'target', 'debug', 'cairn-hub');

/** Starts cairn-hub again on the same port and storage directory. */
function restartHub() {
  const port = new URL(stack.hubUrl).port;
  return new Promise((resolve, reject) => {
    const child = spawn(HUB_BIN, ['--bind', `127.0.0.1:${port}`, '--storage', path.join(stack.tmp, 'hub'), '--log', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.once('exit', (code) => reject(new Error(`cairn-hub exited with ${code}: ${err}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('cairn-hub listening on')) {
        child.removeAllListeners('exit');
        resolve(child);
      }
    });
  });
}

test('(3) fault: the hub dies mid-revocation of 240 files; after it returns and the tab is reopened, unlock resumes it from the journal', async () => {
  await withPage(stack, 'collections-fault', async ({ page: firstPage, shot: shotFirst }) => {
    let page = firstPage;
    const shot = (step) => shotFirst(step, page);
    const N = 240;
    const words = freshWords(12);
    await restoreToHome(page, stack, words);
    const A = await alphaApp('Alpha Contacts', ['store_write', 'collection.contact']);
    const B = await alphaApp('Beta Contacts', ['store_write', 'collection.contact']);
    await signIn(page, A);
    const cfgA = await alpha.config(page);
    await signIn(page, B);

    // Seed N contacts as the alpha would write them (ECIES JSON to the generation-0 key).
    const pub = getPublicKeyFromPrivate(cfgA.encryptionKey);
    const ids = Array.from({ length: N }, (_, i) => `Person${String(i).padStart(3, '0')} Seed`);
    for (let i = 0; i < N; i += 12) {
      await Promise.all(ids.slice(i, i + 12).map(async (id) => {
        const body = JSON.stringify(await encryptECIES(pub, Buffer.from(JSON.stringify({ identifier: id, firstName: id.split(' ')[0], lastName: 'Seed' })), true));
        assert.equal(await store(cfgA.hubConfig, `collection/${encodeURIComponent(id)}`, body), 202);
      }));
    }
    assert.equal((await alpha.list(page)).length, N);

    await openPermissions(page);
    await byRole(page, 'button', 'Revoke Alpha Contacts').click();
    await byRole(page.getByRole('dialog'), 'button', 'Revoke').click();
    const bar = page.getByRole('progressbar', { name: 'Revocation progress' });
    await bar.waitFor({ timeout: SLOW });
    const started = Date.now();
    // Cancel stops between files and leaves the journal; Resume continues.
    await page.waitForFunction(() => Number(document.querySelector('progress[aria-label="Revocation progress"]')?.value) >= 10, null, { timeout: 60_000 });
    await byRole(page, 'button', 'Cancel').click();
    await page.getByRole('alert').filter({ hasText: /^Cancelled\. The operation is saved unfinished/ }).waitFor({ timeout: SLOW });
    await shot('revocation-cancelled');
    await byRole(page, 'button', 'Resume').click();
    await page.getByRole('status').filter({ hasText: /^Resuming revocation of Alpha Contacts from contact/ }).waitFor({ timeout: SLOW });
    await page.waitForFunction(() => Number(document.querySelector('progress[aria-label="Revocation progress"]')?.value) >= 25, null, { timeout: 60_000 });
    // Lock stops the job (it holds the keychain); it resumes from the journal after unlock.
    await byRole(page, 'button', 'Lock').click();
    await byRole(page, 'heading', 'Unlock Cairn').waitFor({ timeout: SLOW });
    // The file in flight finishes and the progress is journaled; then nothing moves.
    await sleep(1500);
    const atLock = JSON.parse(await decryptedJournal(words));
    await sleep(2000);
    const afterLock = JSON.parse(await decryptedJournal(words));
    assert.ok(atLock && !atLock.done.includes('finish'), 'the revocation is still unfinished in the journal');
    assert.ok(atLock.filesDone >= 25, `its progress was journaled (${atLock.filesDone} files)`);
    assert.equal(afterLock.filesDone, atLock.filesDone, 'nothing re-encrypted while locked');
    await unlock(page);
    await page.getByRole('status').filter({ hasText: /^Resuming revocation of Alpha Contacts from contact/ }).waitFor({ timeout: SLOW });
    await page.waitForFunction(() => Number(document.querySelector('progress[aria-label="Revocation progress"]')?.value) >= 40, null, { timeout: 60_000 });
    await shot('revocation-progress');
    const doneBefore = Number(await bar.evaluate((p) => p.value));
    // The hub dies in the middle.
    killHub(stack.hub);
    const stopped = page.getByRole('alert').filter({ hasText: /^Stopped: / });
    await stopped.waitFor({ timeout: 60_000 });
    await byRole(page, 'button', 'Resume').waitFor();
    await shot('revocation-stopped');

    // It comes back; the tab is closed; a new tab asks for the password, and the unlock
    // resumes the revocation from the journal.
    stack.hub = await restartHub();
    const context = page.context();
    await page.close();
    page = await context.newPage();
    await page.goto(`${stack.auth}/`);
    await unlock(page);
    const resumedAt = Date.now();
    await page.getByRole('status').filter({ hasText: /^Resuming revocation of Alpha Contacts from contact/ }).waitFor({ timeout: SLOW });
    await shot('revocation-resumed');
    const doneLine = page.getByRole('status').filter({ hasText: /^Done: Alpha Contacts can no longer use contact/ });
    await doneLine.waitFor({ timeout: 120_000 });
    console.log(`# ${await doneLine.textContent()}`);
    const total = (Date.now() - started) / 1000;
    console.log(`# revocation of ${N} files: ${((Date.now() - resumedAt) / 1000).toFixed(1)} s after resume (stopped after ≥${doneBefore} files); ${total.toFixed(1)} s in all, outage included`);
    await shot('revocation-done');

    // Nothing lost, nothing undecryptable: every current file opens with generation 1 only.
    await open(page, B);
    await alpha.refresh(page);
    const cfgB = await alpha.config(page);
    const { address, keys } = collectionKeys(words, 2);
    const files = await currentFiles(address, cfgB.hubConfig.token, keys);
    assert.equal(files.length, N);
    assert.deepEqual(files.filter((f) => f.key !== 1), []);
    assert.equal(await store(cfgA.hubConfig, 'collection/Eve Evil', '{}'), 401);
    assert.deepEqual((await alpha.list(page)).sort(), ids.sort());
    assert.equal((await alpha.get(page, 'Person123 Seed')).firstName, 'Person123');
  });
});
