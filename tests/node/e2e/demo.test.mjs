// The demo app (demo/, as ./run serves it on http://localhost:3000/):
//  - against a scripted authenticator (the response made in Node by Cairn's own
//    Keychain.makeAuthResponse), so the app side is tested on its own: sign in, "Signed in
//    as", save and load a note on cairn-hub, sign out;
//  - end to end through the real authenticator page: Sign in with Cairn → restore → consent
//    → Approve → back in the demo, save and load a note.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useStack, withPage, cairn, byRole, freshWords, identityOf, restore, SLOW,
  needs,
} from './harness.mjs';

const stack = useStack();

async function hubInfo() {
  return (await fetch(`${stack.hubUrl}/hub_info`)).json();
}

/** Saves a note, clears the box, loads it back; returns the bucket address shown. */
async function noteRoundTrip(page, shot, text) {
  const note = page.getByRole('textbox', { name: 'Note', exact: true });
  await note.fill(text);
  await byRole(page, 'button', 'Save note').click();
  await page.getByRole('status').filter({ hasText: /^Saved note\.txt/ }).waitFor();
  await note.fill('');
  await byRole(page, 'button', 'Load note').click();
  await page.getByRole('status').filter({ hasText: 'Loaded note.txt.' }).waitFor();
  assert.equal(await note.inputValue(), text);
  if (shot) await shot('note-saved');
  return (await page.locator('#bucket').textContent()).trim();
}

test('demo app: sign in (scripted authenticator), note on the hub, sign out', async () => {
  await withPage(stack, 'demo-scripted', async ({ page, shot }) => {
    const words = freshWords(12);
    const keychain = cairn.Keychain.fromMnemonic(words);
    const { read_url_prefix: readPrefix } = await hubInfo();
    let seenRequest;
    // Stand in for the authenticator: verify the request as Cairn would, answer with a redirect.
    await page.route(`${stack.auth}/**`, async (route) => {
      const url = new URL(route.request().url());
      seenRequest = url.searchParams.get('authRequest');
      const r = keychain.makeAuthResponse(0, seenRequest, {
        hubUrl: stack.hubUrl, readUrlPrefix: readPrefix, expectedOrigin: stack.demo,
      });
      await route.fulfill({ status: 302, headers: { Location: r.redirectUrl } });
    });
    await page.goto(`${stack.demo}/`);
    await byRole(page, 'heading', 'Not signed in').waitFor();
    await shot('signed-out');
    await byRole(page, 'button', 'Sign in with Cairn').click();
    const { address } = identityOf(words);
    await byRole(page, 'heading', `Signed in as ${address}`).waitFor();
    // The request the demo made is a valid one for its origin, with the scopes it needs.
    const payload = cairn.verifyAuthRequest(seenRequest, stack.demo);
    assert.equal(payload.domain_name, stack.demo);
    assert.equal(payload.redirect_uri, `${stack.demo}/`);
    assert.equal(payload.manifest_uri, `${stack.demo}/manifest.json`);
    assert.deepEqual(payload.scopes, ['store_write', 'publish_data', 'email']);
    // The response left the address bar; the hub URL is shown.
    assert.equal(new URL(page.url()).search, '');
    assert.equal((await page.locator('#hub-url').textContent()).trim(), stack.hubUrl);

    const text = `hello from the demo ${Date.now()} ✓`;
    const bucket = await noteRoundTrip(page, shot, text);
    const appKey = keychain.appPrivateKey(0, stack.demo);
    assert.equal(bucket, cairn.bucketAddress(appKey));
    const stored = await fetch(`${readPrefix}${bucket}/note.txt`);
    assert.equal(stored.status, 200);
    assert.equal(await stored.text(), text);

    // A reload keeps the demo session (sessionStorage); Sign out ends it.
    await page.reload();
    await byRole(page, 'heading', `Signed in as ${address}`).waitFor();
    await byRole(page, 'button', 'Sign out').click();
    await byRole(page, 'button', 'Sign in with Cairn').waitFor();
    keychain.free();
    assert.deepEqual(page.problems, []);
  });
});

test('demo app: a response nobody asked for is refused', async () => {
  await withPage(stack, 'demo-unsolicited', async ({ page }) => {
    const words = freshWords(12);
    const keychain = cairn.Keychain.fromMnemonic(words);
    const req = cairn.makeAuthRequest({ appDomain: stack.demo, scopes: ['store_write'] });
    const r = keychain.makeAuthResponse(0, req.authRequest, { hubUrl: stack.hubUrl });
    keychain.free();
    await page.goto(r.redirectUrl);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent(), /not requested from this tab/);
    await byRole(page, 'button', 'Sign in with Cairn').waitFor();
    assert.equal(new URL(page.url()).search, '');
  });
});

test('demo app end to end through Cairn: restore, consent, Approve, note', needs('Restore', 'Consent'), async () => {
  await withPage(stack, 'demo-cairn', async ({ page, shot }) => {
    const words = freshWords(24);
    await page.goto(`${stack.demo}/`);
    await byRole(page, 'button', 'Sign in with Cairn').click();
    await page.waitForURL((u) => u.origin === stack.auth && u.searchParams.has('authRequest'));
    // No vault yet: restore first; the sign-in request survives it.
    await restore(page, words);
    await byRole(page, 'heading', 'Sign in to Cairn Demo').waitFor({ timeout: SLOW });
    await shot('consent');
    await byRole(page, 'button', 'Approve').click();
    await page.waitForURL((u) => u.origin === stack.demo, { timeout: SLOW });
    const { address } = identityOf(words);
    await byRole(page, 'heading', `Signed in as ${address}`).waitFor();
    await shot('signed-in');
    assert.equal((await page.locator('#hub-url').textContent()).trim(), stack.hubUrl);
    await noteRoundTrip(page, shot, `a note written through Cairn ${Date.now()}`);
  });
});
