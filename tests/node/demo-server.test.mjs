// The demo server's API (scripts/demo-api.mjs through scripts/serve.mjs): nonces, Sign-In
// with Stacks sessions verified with Cairn's package, replays and every refusal, with
// messages signed by the real @stacks/transactions signMessageHashRsv and fresh random keys.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as stacksEncryption from '@stacks/encryption';
import { signMessageHashRsv, getAddressFromPublicKey } from '@stacks/transactions';
import { bytesToHex } from '@stacks/common';
import { startServer, parseMount } from '../../scripts/serve.mjs';
import { createDemoApi, loadCairn, NONCE_TTL_MS, SESSION_COOKIE, MAX_BODY } from '../../scripts/demo-api.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cairn = await loadCairn(path.join(repo, 'pkg'));

let server;
let base;
let domain;
let tmp;
let clock = Date.now();

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-demo-api-'));
  fs.writeFileSync(path.join(tmp, 'index.html'), '<!doctype html><title>demo</title>');
  server = await startServer({
    port: 0, log: false, mounts: [parseMount(`/=${tmp}`)],
    api: createDemoApi({ cairn, now: () => clock }),
  });
  const { port } = server.address();
  base = `http://127.0.0.1:${port}`;
  domain = `localhost:${port}`;
});

after(() => {
  server?.close();
  server?.closeAllConnections?.();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A fresh key and its mainnet (or testnet) address. */
function freshKey(network = 'mainnet') {
  const privateKey = stacksEncryption.makeECPrivateKey();
  return { privateKey, address: getAddressFromPublicKey(stacksEncryption.getPublicKeyFromPrivate(privateKey), network) };
}

function sign(privateKey, message) {
  return signMessageHashRsv({ messageHash: bytesToHex(stacksEncryption.hashMessage(message)), privateKey });
}

async function nonce() {
  const r = await fetch(`${base}/api/nonce`);
  assert.equal(r.status, 200);
  return r.json();
}

/** A signed SIWS message for the demo server, with `overrides` to its fields. */
async function signIn({ key = freshKey(), overrides = {}, edit = (m) => m, signer } = {}) {
  const n = await nonce();
  const message = edit(cairn.createSignInMessage({
    domain, address: key.address, statement: 'Sign in to the Cairn Demo server.', uri: `http://${domain}/`,
    version: '1', chainId: 1, nonce: n.nonce, issuedAt: new Date(clock).toISOString(), expirationTime: n.expiresAt,
    ...overrides,
  }));
  return { key, nonce: n.nonce, message, signature: sign(signer ?? key.privateKey, message) };
}

function post(body, headers = {}) {
  return fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function refused(res, status, code) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.error.code, code, body.error.message);
  assert.equal(typeof body.error.message, 'string');
  assert.equal(res.headers.get('set-cookie'), null);
  return body.error;
}

test('GET /api/nonce: random, 128 bits, expires in 5 minutes, with the domain to sign for', async () => {
  const a = await nonce();
  const b = await nonce();
  assert.match(a.nonce, /^[0-9a-f]{32}$/);
  assert.notEqual(a.nonce, b.nonce);
  assert.equal(Date.parse(a.expiresAt), clock + NONCE_TTL_MS);
  assert.equal(a.domain, domain);
  assert.equal(a.uri, `http://${domain}/`);
  assert.equal(a.chainId, 1);
  const r = await fetch(`${base}/api/nonce`, { method: 'POST' });
  assert.equal(r.status, 405);
});

test('POST /api/session: a good sign-in sets an HttpOnly SameSite=Strict cookie and answers the address; a replay is refused', async () => {
  const s = await signIn();
  const r = await post({ message: s.message, signature: s.signature });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.address, s.key.address);
  const cookie = r.headers.get('set-cookie');
  assert.match(cookie, new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/; Max-Age=3600$`));
  const jar = cookie.split(';')[0];
  // The session answers the address; without the cookie, nobody.
  let who = await (await fetch(`${base}/api/session`, { headers: { Cookie: jar } })).json();
  assert.equal(who.address, s.key.address);
  who = await (await fetch(`${base}/api/session`)).json();
  assert.equal(who.address, null);
  who = await (await fetch(`${base}/api/session`, { headers: { Cookie: `${SESSION_COOKIE}=forged` } })).json();
  assert.equal(who.address, null);

  // The same signed message again: a replay.
  const e = await refused(await post({ message: s.message, signature: s.signature }), 409, 'nonce_used');
  assert.match(e.message, /already used/);

  // DELETE ends the session and clears the cookie.
  const out = await fetch(`${base}/api/session`, { method: 'DELETE', headers: { Cookie: jar } });
  assert.equal(out.status, 200);
  assert.match(out.headers.get('set-cookie'), /Max-Age=0/);
  who = await (await fetch(`${base}/api/session`, { headers: { Cookie: jar } })).json();
  assert.equal(who.address, null);
});

test('POST /api/session refuses each bad sign-in with its code, and a refused attempt does not use up the nonce', async () => {
  const other = freshKey();
  const cases = [
    ['another domain', { overrides: { domain: 'evil.example' } }, 401, 'domain_mismatch'],
    ['another signer', { signer: other.privateKey }, 401, 'bad_signature'],
    ['testnet message', { key: freshKey('testnet'), overrides: { chainId: 2147483648 } }, 401, 'wrong_chain'],
    ['URI of another site', { overrides: { uri: 'https://evil.example/' } }, 401, 'uri_mismatch'],
    ['issued in the future', { overrides: { issuedAt: new Date(clock + 3600_000).toISOString() } }, 401, 'issued_in_future'],
    ['expired message', { overrides: { expirationTime: new Date(clock - 1000).toISOString(), issuedAt: new Date(clock - 2000).toISOString() } }, 401, 'expired'],
    ['not yet valid', { overrides: { notBefore: new Date(clock + 3600_000).toISOString() } }, 401, 'not_yet_valid'],
    ['time without zone', { edit: (m) => m.replace(/Issued At: (\S+)Z/, 'Issued At: $1') }, 400, 'time_without_zone'],
    ['CRLF line endings', { edit: (m) => m.replaceAll('\n', '\r\n') }, 400, 'crlf'],
  ];
  for (const [name, opts, status, code] of cases) {
    const s = await signIn(opts);
    await refused(await post({ message: s.message, signature: s.signature }), status, code).catch((e) => {
      e.message = `${name}: ${e.message}`;
      throw e;
    });
  }
  // A malformed message: the line is named.
  const s = await signIn({ edit: (m) => m.replace('Version: 1', 'Version: 2') });
  const e = await refused(await post({ message: s.message, signature: s.signature }), 400, 'malformed');
  assert.equal(e.line, 7);

  // A failed attempt leaves the nonce usable: someone who only knows the nonce cannot burn it.
  const good = await signIn();
  await refused(await post({ message: good.message, signature: sign(other.privateKey, good.message) }), 401, 'bad_signature');
  assert.equal((await post({ message: good.message, signature: good.signature })).status, 200);

  // A nonce this server never issued.
  const key = freshKey();
  const forged = cairn.createSignInMessage({
    domain, address: key.address, uri: `http://${domain}/`, version: '1', chainId: 1,
    nonce: bytesToHex(crypto.getRandomValues(new Uint8Array(16))), issuedAt: new Date(clock).toISOString(),
  });
  await refused(await post({ message: forged, signature: sign(key.privateKey, forged) }), 401, 'unknown_nonce');
});

test('a nonce expires after 5 minutes', async () => {
  const s = await signIn({ overrides: { expirationTime: undefined } });
  clock += NONCE_TTL_MS + 1;
  try {
    await refused(await post({ message: s.message, signature: s.signature }), 401, 'nonce_expired');
  } finally {
    clock = Date.now();
  }
});

test('requests the server refuses before verifying: other origins, other types, big or broken bodies, other methods', async () => {
  const s = await signIn();
  const body = { message: s.message, signature: s.signature };
  await refused(await post(body, { Origin: 'https://evil.example' }), 403, 'cross_origin');
  await refused(await post(JSON.stringify(body), { 'Content-Type': 'text/plain' }), 415, 'bad_input');
  await refused(await post('{"message": 1}'), 400, 'bad_input');
  await refused(await post('not json'), 400, 'bad_input');
  await refused(await post({ message: 'x'.repeat(MAX_BODY), signature: s.signature }), 413, 'too_large');
  await refused(await post({ message: '', signature: s.signature }), 400, 'empty');
  const put = await fetch(`${base}/api/session`, { method: 'PUT' });
  assert.equal(put.status, 405);
  // The nonce is still good after all that; the page's own origin is accepted.
  assert.equal((await post(body, { Origin: `http://${domain}` })).status, 200);
  // Static files are still GET-only.
  assert.equal((await fetch(`${base}/index.html`, { method: 'POST' })).status, 405);
});

test('command line: --demo-api serves /api/ with Cairn from the /pkg/ mount; bad flags exit 2', async () => {
  const child = spawn(process.execPath, [
    path.join(repo, 'scripts', 'serve.mjs'), '--port', '0', '--name', 'demo', '--mount', `/=${tmp}`,
    '--mount', `/pkg/=${path.join(repo, 'pkg')}`, '--csp-preset', 'demo', '--allow-script', 'http://127.0.0.1:8888',
    '--coop', 'same-origin-allow-popups', '--demo-api', '--demo-domain', 'localhost:3000',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    const m = line.match(/^demo: serving (http:\/\/127\.0\.0\.1:\d+)\//);
    assert.ok(m, line);
    const r = await fetch(`${m[1]}/api/nonce`);
    assert.equal((await r.json()).domain, 'localhost:3000');
    assert.match(r.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval' http:\/\/127\.0\.0\.1:8888;/);
    assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin-allow-popups');
  } finally {
    child.kill('SIGTERM');
  }
  for (const bad of [['--demo-domain', 'localhost:3000'], ['--coop', 'nope'], ['--allow-script', 'http://x/path'], ['--demo-api', '--demo-domain', 'Evil.example']]) {
    const code = await new Promise((resolve) => {
      spawn(process.execPath, [path.join(repo, 'scripts', 'serve.mjs'), '--port', '0', ...bad], { stdio: 'ignore' })
        .once('exit', resolve);
    });
    assert.equal(code, 2, bad.join(' '));
  }
});
