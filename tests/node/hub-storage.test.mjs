// cairn-hub against the real @stacks/storage client (node --test).
//
// Spawns the hub binary (CAIRN_HUB_BIN, default <repo>/target/debug/cairn-hub) on an
// ephemeral port with a temporary storage directory and a page size of 3, then drives it
// through @stacks/storage's Storage class with a fresh app key each run.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

import { Storage, connectToGaiaHub } from '@stacks/storage';
import { UserSession, AppConfig } from '@stacks/auth';
import { makeECPrivateKey, getPublicKeyFromPrivate, publicKeyToBtcAddress } from '@stacks/encryption';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const HUB_BIN = process.env.CAIRN_HUB_BIN || join(repo, 'target', 'debug', 'cairn-hub');

// stacks.js logs every request with console.debug; keep the test output readable.
console.debug = () => {};

let hub;
let hubUrl;
let dataDir;

function startHub(args) {
  return new Promise((resolvePromise, reject) => {
    if (!existsSync(HUB_BIN)) {
      reject(new Error(`cairn-hub binary not found at ${HUB_BIN} (build it or set CAIRN_HUB_BIN)`));
      return;
    }
    const child = spawn(HUB_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
    });
    const timer = setTimeout(() => reject(new Error(`hub did not start: ${stderr}`)), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code}: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/^cairn-hub listening on (http:\/\/\S+)$/);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ child, url: m[1] });
      }
    });
  });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cairn-hub-node-'));
  const started = await startHub([
    '--bind', '127.0.0.1:0',
    '--storage', join(dataDir, 'data'),
    '--page-size', '3',
  ]);
  hub = started.child;
  hubUrl = started.url;
});

after(() => {
  if (hub) {
    hub.removeAllListeners('exit');
    hub.kill('SIGKILL');
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh "signed-in" session for an app key, as an app would have after sign-in. */
function session(appPrivateKey) {
  const userSession = new UserSession({
    appConfig: new AppConfig(['store_write'], 'http://localhost:5173'),
  });
  const data = userSession.store.getSessionData();
  data.userData = {
    appPrivateKey,
    hubUrl,
    decentralizedID: 'did:btc-addr:1111111111111111111114oLvT2',
    identityAddress: '1111111111111111111114oLvT2',
    profile: {},
  };
  userSession.store.setSessionData(data);
  return new Storage({ userSession });
}

function freshKey() {
  return makeECPrivateKey();
}

test('hub_info is what stacks.js expects', async () => {
  const res = await fetch(`${hubUrl}/hub_info`);
  assert.equal(res.status, 200);
  const info = await res.json();
  assert.equal(info.latest_auth_version, 'v1');
  assert.equal(info.read_url_prefix, `${hubUrl}/read/`);
  assert.equal(info.challenge_text, '["gaiahub","0","localhost","blockstack_storage_please_sign"]');
});

test('putFile / getFile: plain, encrypted, signed', async () => {
  const key = freshKey();
  const storage = session(key);

  // Plain text.
  const url = await storage.putFile('plain.txt', 'hello gaia', { encrypt: false, contentType: 'text/plain' });
  const address = publicKeyToBtcAddress(getPublicKeyFromPrivate(key));
  assert.equal(url, `${hubUrl}/read/${address}/plain.txt`);
  assert.equal(await storage.getFile('plain.txt', { decrypt: false }), 'hello gaia');

  // Binary, plain.
  const bytes = new Uint8Array(5000).map((_, i) => (i * 31) % 256);
  await storage.putFile('bin/data.bin', bytes, { encrypt: false });
  const back = new Uint8Array(await storage.getFile('bin/data.bin', { decrypt: false }));
  assert.deepEqual(back, bytes);

  // Encrypted (the default).
  await storage.putFile('secret.json', JSON.stringify({ a: 1, s: 'ünïcödé' }));
  const raw = await (await fetch(`${hubUrl}/read/${address}/secret.json`)).text();
  assert.ok(!raw.includes('ünïcödé'), 'content must be encrypted at rest');
  assert.deepEqual(JSON.parse(await storage.getFile('secret.json')), { a: 1, s: 'ünïcödé' });

  // Signed, unencrypted: content plus a .sig file, verified on read.
  await storage.putFile('signed.txt', 'signed content', { encrypt: false, sign: true });
  assert.equal(await storage.getFile('signed.txt', { decrypt: false, verify: true }), 'signed content');
  const sig = await fetch(`${hubUrl}/read/${address}/signed.txt.sig`);
  assert.equal(sig.status, 200);

  // Signed and encrypted.
  await storage.putFile('signed-secret.txt', 'both', { encrypt: true, sign: true });
  assert.equal(await storage.getFile('signed-secret.txt', { decrypt: true, verify: true }), 'both');

  // Overwrite within the same session uses If-Match and succeeds.
  await storage.putFile('plain.txt', 'hello again', { encrypt: false, contentType: 'text/plain' });
  assert.equal(await storage.getFile('plain.txt', { decrypt: false }), 'hello again');
});

test('listFiles across several pages', async () => {
  const key = freshKey();
  const storage = session(key);
  const names = [];
  for (let i = 0; i < 10; i++) names.push(`list/file-${String(i).padStart(2, '0')}.txt`);
  for (const n of names) await storage.putFile(n, n, { encrypt: false });

  const seen = [];
  const count = await storage.listFiles((name) => {
    seen.push(name);
    return true;
  });
  assert.equal(count, names.length);
  assert.deepEqual([...seen].sort(), names);

  // The hub really paged (page size 3) and ended with page: null.
  const hubConfig = storage.userSession.loadUserData().gaiaHubConfig;
  let page = null;
  let pages = 0;
  do {
    const res = await fetch(`${hubUrl}/list-files/${hubConfig.address}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `bearer ${hubConfig.token}` },
      body: JSON.stringify({ page }),
    });
    assert.equal(res.status, 202);
    const body = await res.json();
    assert.ok(body.entries.length > 0 && body.entries.every((e) => e !== null));
    page = body.page;
    pages++;
  } while (page);
  assert.equal(pages, 4);

  // Stopping early from the callback.
  let calls = 0;
  await storage.listFiles(() => ++calls < 4);
  assert.equal(calls, 4);
});

test('deleteFile', async () => {
  const key = freshKey();
  const storage = session(key);
  await storage.putFile('gone.txt', 'bye', { encrypt: false });
  await storage.deleteFile('gone.txt');
  await assert.rejects(storage.getFile('gone.txt', { decrypt: false }), (err) => {
    assert.equal(err.code, 'does_not_exist');
    return true;
  });
  // A signed file and its signature go together.
  await storage.putFile('s.txt', 'x', { encrypt: false, sign: true });
  await storage.deleteFile('s.txt', { wasSigned: true });
  const address = storage.userSession.loadUserData().gaiaHubConfig.address;
  assert.equal((await fetch(`${hubUrl}/read/${address}/s.txt`)).status, 404);
  assert.equal((await fetch(`${hubUrl}/read/${address}/s.txt.sig`)).status, 404);
  // Deleting a missing file fails with DoesNotExist.
  await assert.rejects(storage.deleteFile('never.txt'), (err) => {
    assert.equal(err.code, 'does_not_exist');
    return true;
  });
});

test('ETag conflicts', async () => {
  const key = freshKey();
  const first = session(key);
  await first.putFile('doc.json', '{"v":1}', { encrypt: false, contentType: 'application/json' });

  // A new session does not know the file: its first putFile sends If-None-Match: *.
  const second = session(key);
  await assert.rejects(second.putFile('doc.json', '{"v":2}', { encrypt: false }), (err) => {
    assert.equal(err.code, 'precondition_failed_error');
    assert.equal(err.hubError.statusCode, 412);
    return true;
  });

  // After reading it, the second session writes with If-Match and wins.
  assert.equal(await second.getFile('doc.json', { decrypt: false }), '{"v":1}');
  await second.putFile('doc.json', '{"v":2}', { encrypt: false, contentType: 'application/json' });

  // The first session's ETag is now stale: 412.
  await assert.rejects(first.putFile('doc.json', '{"v":3}', { encrypt: false }), (err) => {
    assert.equal(err.code, 'precondition_failed_error');
    return true;
  });
  assert.equal(await second.getFile('doc.json', { decrypt: false }), '{"v":2}');

  // dangerouslyIgnoreEtag overwrites unconditionally.
  await first.putFile('doc.json', '{"v":4}', { encrypt: false, dangerouslyIgnoreEtag: true });
  assert.equal(await first.getFile('doc.json', { decrypt: false }), '{"v":4}');
});

// Refusals decided before the body is read (401, 409, 412, 413) must reach the client as
// a status and a JSON body, not as a connection reset ("network error"), also when the
// client is still sending several MB.
test('refused multi-MB uploads are readable (Node fetch, @stacks/storage)', async () => {
  const MIB = 1024 * 1024;
  const key = freshKey();
  const address = publicKeyToBtcAddress(getPublicKeyFromPrivate(key));
  const { token } = await connectToGaiaHub(hubUrl, key);
  const auth = `bearer ${token}`;
  const post = (path, headers, size) =>
    fetch(`${hubUrl}/store/${address}/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream', ...headers },
      body: Buffer.alloc(size, 0x61),
    });

  // Several rounds: a hub that resets instead of answering fails some of them at random.
  const other = await connectToGaiaHub(hubUrl, freshKey());
  for (let round = 0; round < 3; round++) {
    // 401: a token for another bucket, 12 MiB body.
    let res = await post('a.bin', { Authorization: `bearer ${other.token}` }, 12 * MIB);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error, 'ValidationError');

    // 413: over the 20 MiB limit by Content-Length (22 MiB).
    res = await post('b.bin', { Authorization: auth }, 22 * MIB);
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error, 'PayloadTooLargeError');

    // 412: If-Match on a file that does not exist, 8 MiB body.
    res = await post('c.bin', { Authorization: auth, 'If-Match': 'nope' }, 8 * MIB);
    assert.equal(res.status, 412);
    assert.equal((await res.json()).error, 'PreconditionFailedError');
  }

  // Far over the limit (64 MiB): answered, then the connection is closed gracefully.
  const res = await post('d.bin', { Authorization: auth }, 64 * MIB);
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error, 'PayloadTooLargeError');

  // @stacks/storage: a new session's first putFile of an existing path sends
  // If-None-Match: * and must see the 412, not a network error.
  const first = session(key);
  await first.putFile('e.bin', 'small', { encrypt: false });
  const second = session(key);
  await assert.rejects(
    second.putFile('e.bin', Buffer.alloc(6 * MIB, 0x62), { encrypt: false }),
    (err) => {
      assert.equal(err.code, 'precondition_failed_error');
      assert.equal(err.hubError.statusCode, 412);
      return true;
    },
  );

  // Nothing of the refused uploads was stored.
  for (const p of ['a.bin', 'b.bin', 'c.bin', 'd.bin']) {
    const r = await fetch(`${hubUrl}/read/${address}/${p}`);
    assert.equal(r.status, 404, p);
  }
  assert.equal(await second.getFile('e.bin', { decrypt: false }), 'small');
});
