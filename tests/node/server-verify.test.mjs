// Servers checking who signed in (issue 17), against the real npm libraries with fresh
// random keys every run: Sign-In with Stacks messages signed by @stacks/transactions'
// signMessageHashRsv verify with Cairn's verifySignIn; Cairn's signMessage verifies
// with @stacks/encryption's verifyMessageSignatureRsv; authResponses from
// @stacks/wallet-sdk's makeAuthResponse and from Cairn's authenticator verify with
// verifySignInResponse, tampered ones fail with the right code; and the cairn-verify
// CLI gives the same answers through stdin/stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import * as stacksAuth from '@stacks/auth';
import * as stacksEncryption from '@stacks/encryption';
import { signMessageHashRsv, getAddressFromPublicKey } from '@stacks/transactions';
import { generateWallet, makeAuthResponse as walletMakeAuthResponse } from '@stacks/wallet-sdk';
import { bytesToHex } from '@stacks/common';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const pkgDir = path.join(root, 'pkg');
const cairn = await import(path.join(pkgDir, 'cairn.js'));
cairn.initSync({ module: readFileSync(path.join(pkgDir, 'cairn_bg.wasm')) });

const VERIFY_BIN = process.env.CAIRN_VERIFY_BIN ?? path.join(root, 'target', 'debug', 'cairn-verify');
const DOMAIN = 'example.com';
const APP = 'https://app.example';

/** The address of a key's compressed public key (what wallets use). */
function getAddressFromPrivateKey(privateKey, network) {
  return getAddressFromPublicKey(stacksEncryption.getPublicKeyFromPrivate(privateKey), network);
}

function randomNonce() {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(12)));
}

/** A fresh key, its mainnet address, and SIWS fields for it. */
function freshSigner(overrides = {}) {
  const privateKey = stacksEncryption.makeECPrivateKey();
  const address = getAddressFromPrivateKey(privateKey, 'mainnet');
  const now = Date.now();
  const fields = {
    domain: DOMAIN,
    address,
    statement: 'Sign in to the example service.',
    uri: `https://${DOMAIN}/login`,
    version: '1',
    chainId: 1,
    nonce: randomNonce(),
    issuedAt: new Date(now - 1000).toISOString(),
    expirationTime: new Date(now + 5 * 60_000).toISOString(),
    ...overrides,
  };
  return { privateKey, address, fields };
}

/** Signs as a Stacks wallet does, with @stacks/transactions over @stacks/encryption's hash. */
function jsSign(privateKey, message) {
  return signMessageHashRsv({ messageHash: bytesToHex(stacksEncryption.hashMessage(message)), privateKey });
}

function cli(request) {
  const out = spawnSync(VERIFY_BIN, [], { input: typeof request === 'string' ? request : JSON.stringify(request), encoding: 'utf8' });
  assert.equal(out.error, undefined, `cannot run ${VERIFY_BIN}: build it with cargo build -p cairn --bin cairn-verify`);
  return { status: out.status, answer: JSON.parse(out.stdout), stderr: out.stderr };
}

function throwsCode(fn, code) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, `not an Error: ${e}`);
    assert.equal(e.code, code, `${e.message}`);
    return true;
  });
}

test('createSignInMessage writes the EIP-4361 layout, parseSignInMessage reads it back', () => {
  const { fields, address } = freshSigner({ resources: ['ipfs://bafy', 'https://example.com/r'], requestId: 'r-1' });
  const text = cairn.createSignInMessage(fields);
  const lines = text.split('\n');
  assert.equal(lines[0], 'example.com wants you to sign in with your Stacks account:');
  assert.equal(lines[1], address);
  assert.equal(lines[3], 'Sign in to the example service.');
  assert.equal(lines[5], 'URI: https://example.com/login');
  assert.equal(lines[7], 'Chain ID: 1');
  assert.deepEqual(lines.slice(-3), ['Resources:', '- ipfs://bafy', '- https://example.com/r']);
  assert.deepEqual(cairn.parseSignInMessage(text), fields);
  assert.deepEqual(cairn.stacksChainIds(), { mainnet: 1, testnet: 2147483648 });
  // Errors name the line and the rule.
  assert.throws(() => cairn.parseSignInMessage(text.replace('Version: 1', 'Version: 2')), (e) => {
    assert.equal(e.code, 'malformed');
    assert.equal(e.line, 7);
    assert.match(e.message, /^line 7: .*Version/);
    return true;
  });
  throwsCode(() => cairn.parseSignInMessage(text.replaceAll('\n', '\r\n')), 'crlf');
  throwsCode(() => cairn.createSignInMessage({ ...fields, statement: 'two\nlines' }), 'bad_input');
  throwsCode(() => cairn.createSignInMessage({ ...fields, chainId: 'one' }), 'bad_input');
});

test('messages signed with @stacks/transactions signMessageHashRsv verify with Cairn', () => {
  for (let round = 0; round < 5; round++) {
    const { privateKey, address, fields } = freshSigner();
    const message = cairn.createSignInMessage(fields);
    const signature = jsSign(privateKey, message);
    assert.equal(cairn.hashMessage(message), bytesToHex(stacksEncryption.hashMessage(message)));
    const out = cairn.verifySignIn({ message, signature }, { domain: DOMAIN, nonce: fields.nonce });
    assert.equal(out.address, address);
    assert.equal(out.publicKey, stacksEncryption.getPublicKeyFromPrivate(privateKey));
    assert.deepEqual(out.fields, fields);
  }
  // Testnet (ST… address, chain 2147483648), and a long message (varint 0xfd length).
  const privateKey = stacksEncryption.makeECPrivateKey();
  const { fields } = freshSigner({
    address: getAddressFromPrivateKey(privateKey, 'testnet'),
    chainId: 2147483648,
    statement: 'x'.repeat(400),
  });
  const message = cairn.createSignInMessage(fields);
  const out = cairn.verifySignIn(
    { message, signature: jsSign(privateKey, message) },
    { domain: DOMAIN, nonce: fields.nonce, chainId: 2147483648 },
  );
  assert.match(out.address, /^ST/);
});

test("Cairn's signMessage signatures verify with verifyMessageSignatureRsv", () => {
  for (const message of ['hello', 'héllo ✓ 😀', 'x'.repeat(300), 'y'.repeat(70_000)]) {
    const privateKey = stacksEncryption.makeECPrivateKey();
    const publicKey = stacksEncryption.getPublicKeyFromPrivate(privateKey);
    const signature = cairn.signMessage(privateKey, message);
    assert.match(signature, /^[0-9a-f]{128}0[0-3]$/);
    assert.equal(stacksEncryption.verifyMessageSignatureRsv({ signature, message, publicKey }), true);
    // The same bytes as the library's own signer (both RFC 6979, low-S).
    assert.equal(signature, jsSign(privateKey, message));
    const other = stacksEncryption.getPublicKeyFromPrivate(stacksEncryption.makeECPrivateKey());
    assert.equal(stacksEncryption.verifyMessageSignatureRsv({ signature, message, publicKey: other }), false);
  }
});

test('verifySignIn refuses each bad input with its code', () => {
  const { privateKey, fields } = freshSigner();
  const message = cairn.createSignInMessage(fields);
  const signature = jsSign(privateKey, message);
  const opts = { domain: DOMAIN, nonce: fields.nonce };
  const now = Date.now();
  const cases = [
    ['domain mismatch', { message, signature }, { ...opts, domain: 'evil.example' }, 'domain_mismatch'],
    ['nonce mismatch', { message, signature }, { ...opts, nonce: randomNonce() }, 'nonce_mismatch'],
    ['expired', { message, signature }, { ...opts, now: now + 10 * 60_000 }, 'expired'],
    ['issued in the future', { message, signature }, { ...opts, now: now - 10 * 60_000 }, 'issued_in_future'],
    ['wrong chain', { message, signature }, { ...opts, chainId: 2147483648 }, 'wrong_chain'],
    ['address mismatch', { message, signature }, { ...opts, address: getAddressFromPrivateKey(stacksEncryption.makeECPrivateKey(), 'mainnet') }, 'address_mismatch'],
    ['altered message', { message: message.replace('service.', 'service!'), signature }, opts, 'bad_signature'],
    ['another signer', { message, signature: jsSign(stacksEncryption.makeECPrivateKey(), message) }, opts, 'bad_signature'],
    ['short signature', { message, signature: signature.slice(2) }, opts, 'signature_length'],
    ['recovery id 27', { message, signature: signature.slice(0, 128) + '1b' }, opts, 'recovery_id'],
    ['empty message', { message: '', signature }, opts, 'empty'],
    ['oversized message', { message: message + 'x'.repeat(16 * 1024), signature }, opts, 'too_large'],
    ['time without zone', { message: message.replace(/Issued At: (\S+)Z/, 'Issued At: $1'), signature }, opts, 'time_without_zone'],
    ['missing signature', { message }, opts, 'bad_input'],
  ];
  for (const [name, signed, options, code] of cases) {
    assert.throws(() => cairn.verifySignIn(signed, options), (e) => {
      assert.equal(e.code, code, `${name}: ${e.message}`);
      return true;
    }, name);
  }
  // The good one, for contrast.
  cairn.verifySignIn({ message, signature }, opts);
});

// --- authResponses ---

async function walletSdkResponse() {
  const wallet = await generateWallet({ secretKey: cairn.generateMnemonic(24), password: 'x' });
  const transit = stacksEncryption.makeECPrivateKey();
  const token = await walletMakeAuthResponse({
    account: wallet.accounts[0],
    appDomain: APP,
    transitPublicKey: stacksEncryption.getPublicKeyFromPrivate(transit),
    scopes: ['store_write'],
    gaiaHubUrl: 'https://hub.example',
    fetchFn: async () => new Response('offline', { status: 503 }),
  });
  return { token, wallet };
}

function cairnResponse(nonce) {
  const keychain = cairn.Keychain.fromMnemonic(cairn.generateMnemonic(24));
  const made = cairn.makeAuthRequest({ appDomain: APP, nonce });
  const out = keychain.makeAuthResponse(0, made.authRequest, { hubUrl: 'https://hub.example', readUrlPrefix: 'https://gaia.example/hub/' });
  return { token: out.authResponse, keychain, transit: made.transitPrivateKey };
}

/** `token` with one payload claim changed, the signature kept. */
function tamper(token, claim, value) {
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  payload[claim] = value;
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

test('authResponses from @stacks/wallet-sdk makeAuthResponse verify (and are not bound)', async () => {
  const { token, wallet } = await walletSdkResponse();
  const out = cairn.verifySignInResponse(token, {});
  const account = wallet.accounts[0];
  assert.equal(out.publicKey, stacksEncryption.getPublicKeyFromPrivate(account.dataPrivateKey));
  assert.equal(out.identityAddress, stacksEncryption.publicKeyToBtcAddress(out.publicKey));
  assert.equal(out.hubUrl, 'https://hub.example');
  assert.equal(typeof out.expiresAt, 'number');
  assert.ok(out.expiresAt > Date.now());
  // The libraries add no aud and no nonce: a server that asks for them is told.
  assert.throws(() => cairn.verifySignInResponse(token, { appDomain: APP }), (e) => {
    assert.equal(e.code, 'not_bound');
    assert.match(e.message, /not bound to this server/);
    return true;
  });
  throwsCode(() => cairn.verifySignInResponse(token, { nonce: randomNonce() }), 'not_bound');
});

test("Cairn's authResponses carry aud and the request's nonce, still pass @stacks/auth, and verify bound", async () => {
  const nonce = randomNonce();
  const { token, keychain } = cairnResponse(nonce);
  assert.equal(await stacksAuth.verifyAuthResponse(token), true);
  const payload = cairn.decodeToken(token).payload;
  assert.equal(payload.aud, APP);
  assert.equal(payload.nonce, nonce);
  assert.equal(payload.private_key.length > 0, true);
  const out = cairn.verifySignInResponse(token, { appDomain: APP, nonce });
  assert.equal(out.identityAddress, keychain.identityAddress(0));
  assert.equal(out.publicKey, keychain.identityPublicKey(0));
  assert.equal(out.profileUrl, `https://gaia.example/hub/${keychain.identityAddress(0)}/profile.json`);
  assert.equal(out.audience, APP);
  assert.equal(out.nonce, nonce);
  // The result holds nothing that can act for the user.
  for (const value of Object.values(out)) {
    assert.notEqual(value, payload.private_key);
    assert.notEqual(value, payload.associationToken);
  }
  // Bound: another app, another nonce.
  throwsCode(() => cairn.verifySignInResponse(token, { appDomain: 'https://evil.example', nonce }), 'audience_mismatch');
  throwsCode(() => cairn.verifySignInResponse(token, { appDomain: APP, nonce: randomNonce() }), 'nonce_mismatch');
  // Without a nonce in the request, there is none to check.
  const unbound = cairnResponse(undefined).token;
  assert.equal(cairn.decodeToken(unbound).payload.nonce, undefined);
  throwsCode(() => cairn.verifySignInResponse(unbound, { appDomain: APP, nonce }), 'not_bound');
});

test('tampered authResponses fail, each claim with its code', async () => {
  const nonce = randomNonce();
  const { token } = cairnResponse(nonce);
  const { token: sdkToken } = await walletSdkResponse();
  const opts = { appDomain: APP, nonce };
  for (const t of [token, sdkToken]) {
    const payload = cairn.decodeToken(t).payload;
    for (const claim of Object.keys(payload)) {
      const expected = claim === 'exp' || claim === 'iat' ? 'time_not_number' : claim === 'public_keys' ? 'missing_public_key' : 'bad_signature';
      throwsCode(() => cairn.verifySignInResponse(tamper(t, claim, 'changed'), {}), expected);
    }
    throwsCode(() => cairn.verifySignInResponse(tamper(t, 'aud', 'https://evil.example'), opts), 'bad_signature');
  }
  throwsCode(() => cairn.verifySignInResponse(token, { ...opts, now: Date.now() + 40 * 86_400_000 }), 'expired');
  throwsCode(() => cairn.verifySignInResponse(token, { ...opts, now: Date.now() - 3600_000 }), 'issued_in_future');
  throwsCode(() => cairn.verifySignInResponse('', opts), 'empty');
  throwsCode(() => cairn.verifySignInResponse('a'.repeat(65 * 1024), opts), 'too_large');
  throwsCode(() => cairn.verifySignInResponse('a.b', opts), 'malformed');
  // Re-signed by another key with its own public key: the issuer no longer matches.
  const other = stacksEncryption.makeECPrivateKey();
  const payload = cairn.decodeToken(token).payload;
  payload.public_keys = [stacksEncryption.getPublicKeyFromPrivate(other)];
  const { TokenSigner } = await import('jsontokens');
  const forged = new TokenSigner('ES256K', other).sign(payload);
  throwsCode(() => cairn.verifySignInResponse(forged, opts), 'issuer_mismatch');
});

// --- the CLI ---

test('cairn-verify answers through stdin/stdout with exit codes 0, 1 and 2', { skip: !existsSync(VERIFY_BIN) && `no ${VERIFY_BIN}` }, async () => {
  const { privateKey, address, fields } = freshSigner();
  const message = cairn.createSignInMessage(fields);
  const signature = jsSign(privateKey, message);
  let r = cli({ kind: 'siws', message, signature, domain: DOMAIN, nonce: fields.nonce });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.answer.valid, true);
  assert.equal(r.answer.result.address, address);
  assert.deepEqual(r.answer.result.fields, fields);
  const bad = [
    [{ domain: 'evil.example' }, 'domain_mismatch'],
    [{ nonce: randomNonce() }, 'nonce_mismatch'],
    [{ now: Date.now() + 3600_000 }, 'expired'],
    [{ signature: jsSign(stacksEncryption.makeECPrivateKey(), message) }, 'bad_signature'],
    [{ message: message.replace('Version: 1', 'Version: 2') }, 'malformed'],
  ];
  for (const [change, code] of bad) {
    r = cli({ kind: 'siws', message, signature, domain: DOMAIN, nonce: fields.nonce, ...change });
    assert.equal(r.status, 1, code);
    assert.equal(r.answer.valid, false);
    assert.equal(r.answer.error.code, code);
    assert.equal(typeof r.answer.error.message, 'string');
  }
  assert.equal(cli({ kind: 'siws', message: message.replace('Version: 1', 'Version: 2'), signature, domain: DOMAIN, nonce: fields.nonce }).answer.error.line, 7);

  const nonce = randomNonce();
  const { token, keychain } = cairnResponse(nonce);
  r = cli({ kind: 'authResponse', token, appDomain: APP, nonce });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.answer.result.identityAddress, keychain.identityAddress(0));
  r = cli({ kind: 'authResponse', token, appDomain: APP, nonce: randomNonce() });
  assert.equal(r.status, 1);
  assert.equal(r.answer.error.code, 'nonce_mismatch');
  const { token: sdkToken } = await walletSdkResponse();
  r = cli({ kind: 'authResponse', token: sdkToken, appDomain: APP });
  assert.equal(r.status, 1);
  assert.equal(r.answer.error.code, 'not_bound');
  r = cli({ kind: 'authResponse', token: tamper(token, 'hubUrl', 'https://evil.example'), appDomain: APP, nonce });
  assert.equal(r.answer.error.code, 'bad_signature');

  // Usage errors: exit 2.
  for (const input of ['not json', '[]', JSON.stringify({ kind: 'other' }), JSON.stringify({ kind: 'siws', message })]) {
    r = cli(input);
    assert.equal(r.status, 2, input);
    assert.equal(r.answer.error.code, 'usage');
    assert.match(r.stderr, /cairn-verify: /);
  }
  const latin1 = spawnSync(VERIFY_BIN, [], { input: Buffer.from([0x7b, 0xff, 0x7d]), encoding: 'utf8' });
  assert.equal(latin1.status, 2);
  assert.match(JSON.parse(latin1.stdout).error.message, /not UTF-8/);
  assert.equal(spawnSync(VERIFY_BIN, ['extra'], { input: '{}' }).status, 2);
  const help = spawnSync(VERIFY_BIN, ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /"kind": "siws"/);
});
