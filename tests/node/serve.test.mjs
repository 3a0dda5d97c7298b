// scripts/serve.mjs, the static server ./run uses: MIME types, security headers, and no
// way out of its directories. Uses a temporary directory and a random port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { startServer, parseMount, DEFAULT_CSP } from '../../scripts/serve.mjs';

let server;
let base;
let tmp;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-serve-'));
  const www = path.join(tmp, 'www');
  const pkg = path.join(tmp, 'pkg');
  fs.mkdirSync(path.join(www, 'sub'), { recursive: true });
  fs.mkdirSync(pkg);
  fs.writeFileSync(path.join(www, 'index.html'), '<!doctype html><title>t</title>');
  fs.writeFileSync(path.join(www, 'main.js'), 'export {};');
  fs.writeFileSync(path.join(www, 'sub', 'index.html'), 'sub');
  fs.writeFileSync(path.join(pkg, 'cairn_bg.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'outside');
  fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(www, 'link.txt'));
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    mounts: [parseMount('/=www', tmp), parseMount('/pkg/=pkg', tmp)],
    log: false,
  });
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server?.close();
  server?.closeAllConnections?.();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A raw GET, so that "..", "%2e" etc. reach the server unnormalised. */
function rawGet(target) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.address().port, '127.0.0.1', () => {
      sock.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    sock.on('data', (d) => (data += d));
    sock.on('end', () => resolve({ status: Number(data.split(' ')[1]), body: data.split('\r\n\r\n').slice(1).join('') }));
    sock.on('error', reject);
  });
}

test('serves www at / and pkg at /pkg/ with the right types', async () => {
  let r = await fetch(`${base}/`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  r = await fetch(`${base}/main.js`);
  assert.equal(r.headers.get('content-type'), 'text/javascript; charset=utf-8');
  r = await fetch(`${base}/pkg/cairn_bg.wasm`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/wasm');
  assert.equal((await r.arrayBuffer()).byteLength, 8);
  r = await fetch(`${base}/?authRequest=abc`);
  assert.equal(r.status, 200);
});

test('security headers on every response', async () => {
  for (const p of ['/', '/pkg/cairn_bg.wasm', '/missing']) {
    const r = await fetch(`${base}${p}`);
    assert.equal(r.headers.get('content-security-policy'), DEFAULT_CSP);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
  }
  assert.match(DEFAULT_CSP, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(DEFAULT_CSP, /frame-ancestors 'none'/);
  assert.match(DEFAULT_CSP, /require-trusted-types-for 'script'/);
  assert.match(DEFAULT_CSP, /trusted-types default/);
});

test('directories: index.html, redirect without slash, no listing', async () => {
  let r = await fetch(`${base}/sub`, { redirect: 'manual' });
  assert.equal(r.status, 301);
  assert.equal(r.headers.get('location'), '/sub/');
  r = await fetch(`${base}/sub/`);
  assert.equal(await r.text(), 'sub');
  r = await fetch(`${base}/pkg/`);
  assert.equal(r.status, 404);
});

test('no directory traversal, no symlink escape', async () => {
  for (const target of [
    '/../secret.txt',
    '/pkg/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/pkg/%2e%2e/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/%00',
    '/link.txt',
    '/%E0%A4%A',
  ]) {
    const r = await rawGet(target);
    assert.ok(r.status === 400 || r.status === 404, `${target} → ${r.status}`);
    assert.ok(!r.body.includes('outside'), `${target} leaked the file outside the root`);
  }
});

test('only GET and HEAD', async () => {
  const r = await fetch(`${base}/`, { method: 'POST', body: 'x' });
  assert.equal(r.status, 405);
  const h = await fetch(`${base}/main.js`, { method: 'HEAD' });
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('content-length'), '10');
});
