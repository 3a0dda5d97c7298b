// Interop of Cairn's wasm package with the real npm libraries, with fresh random keys
// every run: requests made by @stacks/auth and blockstack@21 are accepted by our
// verifyAuthRequest; responses we make pass @stacks/auth and blockstack@21
// verifyAuthResponse and decryptPrivateKey; the app key equals the @stacks/wallet-sdk
// derivation; ECIES round-trips both ways with @stacks/encryption.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import * as stacksAuth from '@stacks/auth';
import * as stacksEncryption from '@stacks/encryption';
import { decodeToken } from 'jsontokens';
import { generateWallet, getAppPrivateKey, getStxAddress } from '@stacks/wallet-sdk';
import blockstack from 'blockstack';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
// blockstack@21 keeps decryptPrivateKey out of its index; it is the function its
// UserSession.handlePendingSignIn calls.
const { decryptPrivateKey: legacyDecryptPrivateKey } = require('blockstack/lib/auth/authMessages.js');

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.join(here, '..', '..', 'pkg');
const cairn = await import(path.join(pkgDir, 'cairn.js'));
cairn.initSync({ module: readFileSync(path.join(pkgDir, 'cairn_bg.wasm')) });

const HUB = 'http://127.0.0.1:4000';
const READ = 'http://127.0.0.1:4000/read/';

function freshKeychain() {
  const words = cairn.generateMnemonic(24);
  return { words, keychain: cairn.Keychain.fromMnemonic(words) };
}

test('@stacks/auth authRequests are accepted, with every scope kind', async () => {
  for (const origin of ['https://app.example', 'http://localhost:3000']) {
    const transit = stacksEncryption.makeECPrivateKey();
    const token = stacksAuth.makeAuthRequestToken(
      transit,
      `${origin}/callback`,
      `${origin}/manifest.json`,
      ['store_write', 'publish_data', 'email', 'collection.contact', 'collection.photo.read'],
      origin,
      Date.now() + 3600_000,
      { appDetails: { name: 'Interop', icon: `${origin}/icon.png` } },
    );
    assert.equal(await stacksAuth.verifyAuthRequest(token), true);
    const payload = cairn.verifyAuthRequest(token, origin);
    assert.equal(payload.domain_name, origin);
    assert.deepEqual(payload.public_keys, [stacksEncryption.getPublicKeyFromPrivate(transit)]);
    // The same token from another page is refused, with a code.
    assert.throws(() => cairn.verifyAuthRequest(token, 'https://evil.example'), (e) => {
      assert.ok(e instanceof Error);
      assert.equal(e.code, 'origin_mismatch');
      assert.match(e.message, /evil\.example/);
      return true;
    });
    // With the blockstack: custom-protocol prefix too.
    cairn.verifyAuthRequest(`blockstack:${token}`, origin);
  }
});

test('blockstack@21 authRequests are accepted', async () => {
  const origin = 'https://legacy.example';
  const transit = stacksEncryption.makeECPrivateKey();
  const token = blockstack.makeAuthRequest(
    transit, `${origin}/`, `${origin}/manifest.json`, ['store_write', 'publish_data'], origin,
  );
  assert.equal(await blockstack.verifyAuthRequest(token), true);
  const payload = cairn.verifyAuthRequest(token, origin);
  assert.equal(payload.version, '1.3.1');
});

test('our authResponses pass @stacks/auth and blockstack@21, and carry the wallet-sdk app key', async () => {
  const { words, keychain } = freshKeychain();
  const wallet = await generateWallet({ secretKey: words, password: 'interop-password' });
  for (const [i, origin] of [[0, 'https://app.example'], [0, 'http://localhost:3000']]) {
    const transit = stacksEncryption.makeECPrivateKey();
    const request = stacksAuth.makeAuthRequestToken(
      transit, `${origin}/`, `${origin}/manifest.json`, ['store_write', 'publish_data', 'email'],
      origin, Date.now() + 600_000, {},
    );
    const out = keychain.makeAuthResponse(i, request, {
      hubUrl: HUB, readUrlPrefix: READ, email: 'user@example.com', expectedOrigin: origin,
    });
    const token = out.authResponse;
    assert.equal(await stacksAuth.verifyAuthResponse(token), true);
    assert.equal(await blockstack.verifyAuthResponse(token, 'https://core.invalid/v1/names'), true);

    const payload = decodeToken(token).payload;
    const appKey = await stacksAuth.decryptPrivateKey(transit, payload.private_key);
    const legacyAppKey = await legacyDecryptPrivateKey(transit, payload.private_key);
    const expected = getAppPrivateKey({ account: wallet.accounts[i], appDomain: origin });
    assert.equal(appKey, expected);
    assert.equal(legacyAppKey, expected);
    assert.equal(out.appPrivateKey, expected);
    assert.equal(cairn.Keychain.fromMnemonic(words).appPrivateKey(i, origin), expected);

    assert.equal(payload.version, '1.4.0');
    assert.equal(payload.hubUrl, HUB);
    assert.equal(payload.email, 'user@example.com');
    assert.equal(payload.iss, `did:btc-addr:${keychain.identityAddress(i)}`);
    assert.equal(payload.profile_url, `${READ}${keychain.identityAddress(i)}/profile.json`);
    assert.equal(payload.profile.stxAddress.mainnet, getStxAddress({ account: wallet.accounts[i], network: 'mainnet' }));
    assert.equal(payload.profile.stxAddress.testnet, getStxAddress({ account: wallet.accounts[i], network: 'testnet' }));
    assert.equal(out.redirectUrl, `${origin}/?authResponse=${token}`);
    // publish_data: the profile file's token lists the app's bucket.
    const file = JSON.parse(out.profileFile);
    const claim = decodeToken(file[0].token).payload.claim;
    const appAddress = stacksEncryption.publicKeyToBtcAddress(stacksEncryption.getPublicKeyFromPrivate(expected));
    assert.equal(claim.apps[origin], `${READ}${appAddress}/`);

    // The association token is signed by the identity key for the app key.
    const assoc = decodeToken(payload.associationToken).payload;
    assert.equal(assoc.iss, keychain.identityPublicKey(i));
    assert.equal(assoc.childToAssociate, stacksEncryption.getPublicKeyFromPrivate(expected));
  }
});

test('a response built by @stacks/auth is handled by our app side', async () => {
  const made = cairn.makeAuthRequest({ appDomain: 'http://localhost:3000', scopes: ['store_write'] });
  assert.equal(await stacksAuth.verifyAuthRequest(made.authRequest), true);
  const identityKey = stacksEncryption.makeECPrivateKey();
  const appKey = stacksEncryption.makeECPrivateKey();
  const transitPub = stacksEncryption.getPublicKeyFromPrivate(made.transitPrivateKey);
  const response = await stacksAuth.makeAuthResponse(
    identityKey, {}, null, null, appKey, undefined, transitPub, HUB, null, null,
  );
  const user = cairn.handleAuthResponse(response, made.transitPrivateKey);
  assert.equal(user.appPrivateKey, appKey);
  assert.equal(user.hubUrl, HUB);
  assert.equal(
    user.identityAddress,
    stacksEncryption.publicKeyToBtcAddress(stacksEncryption.getPublicKeyFromPrivate(identityKey)),
  );
  assert.throws(() => cairn.handleAuthResponse(response, stacksEncryption.makeECPrivateKey()), /cannot be decrypted/);
});

test('ECIES round-trips both ways with @stacks/encryption', async () => {
  const priv = stacksEncryption.makeECPrivateKey();
  const pub = stacksEncryption.getPublicKeyFromPrivate(priv);
  for (const text of ['', 'hello', 'héllo ✓ 😀', 'x'.repeat(70_000)]) {
    const ours = JSON.parse(cairn.encryptECIES(pub, text));
    assert.equal(await stacksEncryption.decryptECIES(priv, ours), text);
    const theirs = await stacksEncryption.encryptECIES(pub, new TextEncoder().encode(text), true);
    assert.equal(cairn.decryptECIES(priv, JSON.stringify(theirs)), text);
    const theirsB64 = await stacksEncryption.encryptECIES(pub, new TextEncoder().encode(text), true, 'base64');
    assert.equal(cairn.decryptECIES(priv, JSON.stringify(theirsB64)), text);
  }
  const bytes = await stacksEncryption.encryptECIES(pub, new Uint8Array([0, 255, 7]), false);
  assert.deepEqual([...cairn.decryptECIES(priv, JSON.stringify(bytes))], [0, 255, 7]);
  const tampered = JSON.parse(cairn.encryptECIES(pub, 'secret'));
  tampered.cipherText = tampered.cipherText.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  assert.throws(() => cairn.decryptECIES(priv, JSON.stringify(tampered)), /altered|not encrypted for this key/);
});

test('decodeToken matches jsontokens', () => {
  const key = stacksEncryption.makeECPrivateKey();
  const token = stacksAuth.makeAuthRequestToken(key, 'https://a.example/', 'https://a.example/manifest.json', ['store_write'], 'https://a.example');
  assert.deepEqual(cairn.decodeToken(token), decodeToken(token));
  assert.throws(() => cairn.decodeToken('nope'), /three parts/);
});

test('ECIES with WebCrypto (encryptECIESAsync / decryptECIESAsync) interoperates both ways', async () => {
  const priv = stacksEncryption.makeECPrivateKey();
  const pub = stacksEncryption.getPublicKeyFromPrivate(priv);
  for (const text of ['', 'hello', 'héllo ✓ 😀', 'x'.repeat(70_000)]) {
    for (const enc of [undefined, 'hex', 'base64']) {
      const ours = JSON.parse(await cairn.encryptECIESAsync(pub, text, enc));
      assert.equal(ours.wasString, true);
      assert.equal(ours.cipherTextEncoding, enc === 'base64' ? 'base64' : undefined);
      assert.equal(await stacksEncryption.decryptECIES(priv, ours), text);
      // The synchronous (all-wasm) decryption reads what WebCrypto wrote.
      assert.equal(cairn.decryptECIES(priv, JSON.stringify(ours)), text);
    }
    const theirs = await stacksEncryption.encryptECIES(pub, new TextEncoder().encode(text), true, 'base64');
    assert.equal(await cairn.decryptECIESAsync(priv, JSON.stringify(theirs)), text);
    assert.equal(await cairn.decryptECIESAsync(priv, cairn.encryptECIES(pub, text)), text);
  }
  // Bytes stay bytes, both ways, up to a MiB.
  const big = new Uint8Array(1 << 20).map((_, i) => (i * 31 + 7) & 0xff);
  const ours = JSON.parse(await cairn.encryptECIESAsync(pub, big));
  assert.equal(ours.wasString, false);
  assert.deepEqual(Buffer.from(await stacksEncryption.decryptECIES(priv, ours)), Buffer.from(big));
  const theirs = await stacksEncryption.encryptECIES(pub, big, false);
  assert.deepEqual(Buffer.from(await cairn.decryptECIESAsync(priv, JSON.stringify(theirs))), Buffer.from(big));
  // Tampering, a wrong key and bad arguments are refused with the synchronous API's errors.
  const tampered = JSON.parse(await cairn.encryptECIESAsync(pub, 'secret'));
  tampered.cipherText = tampered.cipherText.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  await assert.rejects(cairn.decryptECIESAsync(priv, JSON.stringify(tampered)), /altered|not encrypted for this key/);
  const other = stacksEncryption.makeECPrivateKey();
  await assert.rejects(cairn.decryptECIESAsync(other, JSON.stringify(ours)), /altered|not encrypted for this key/);
  await assert.rejects(cairn.encryptECIESAsync(pub, 42), /string or a Uint8Array/);
  await assert.rejects(cairn.encryptECIESAsync(pub, 'x', 'base32'), /"hex" or "base64"/);
  await assert.rejects(cairn.encryptECIESAsync('02zz', 'x'), Error);
  await assert.rejects(cairn.decryptECIESAsync(priv, '{"iv":"00"}'), Error);
});
