// scripts/serve.mjs options used by ./run and the end-to-end tests: --config-json (served at
// /config.json instead of the file), --cors (per path or prefix), the demo CSP preset, and
// frameOptions. Temporary directory, random ports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import {
  startServer, parseMount, parseConfigJson, corsAllowed, DEFAULT_CSP, DEMO_CSP,
} from '../../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let tmp;
const servers = [];

async function serve(opts) {
  const server = await startServer({ host: '127.0.0.1', port: 0, log: false, ...opts });
  servers.push(server);
  return `http://127.0.0.1:${server.address().port}`;
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-serve-opts-'));
  fs.mkdirSync(path.join(tmp, 'www', 'icons'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'www', 'config.json'), '{"hubUrl":"http://127.0.0.1:4000"}');
  fs.writeFileSync(path.join(tmp, 'www', 'manifest.json'), '{"name":"x"}');
  fs.writeFileSync(path.join(tmp, 'www', 'index.html'), 'index');
  fs.writeFileSync(path.join(tmp, 'www', 'icons', 'a.svg'), '<svg/>');
});

after(() => {
  for (const s of servers) {
    s.close();
    s.closeAllConnections?.();
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('--config-json replaces config.json, with the security headers', async () => {
  const mounts = [parseMount('/=www', tmp)];
  const plain = await serve({ mounts });
  assert.deepEqual(await (await fetch(`${plain}/config.json`)).json(), { hubUrl: 'http://127.0.0.1:4000' });

  const base = await serve({ mounts, configJson: '{"hubUrl": "http://127.0.0.1:45678"}' });
  const r = await fetch(`${base}/config.json?x=1`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(r.headers.get('content-security-policy'), DEFAULT_CSP);
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.deepEqual(await r.json(), { hubUrl: 'http://127.0.0.1:45678' });
  const h = await fetch(`${base}/config.json`, { method: 'HEAD' });
  assert.equal(h.status, 200);
  assert.equal(await h.text(), '');
  // Objects work too; other files are unaffected.
  const obj = await serve({ mounts, configJson: { authenticator: 'http://127.0.0.1:8888/' } });
  assert.deepEqual(await (await fetch(`${obj}/config.json`)).json(), { authenticator: 'http://127.0.0.1:8888/' });
  assert.equal(await (await fetch(`${obj}/index.html`)).text(), 'index');

  assert.equal(parseConfigJson(' {"a": [1]} '), '{"a":[1]}');
  assert.throws(() => parseConfigJson('{nope'));
  assert.throws(() => parseConfigJson('[1]'), /JSON object/);
  assert.throws(() => parseConfigJson('null'), /JSON object/);
});

test('--cors: exact paths and prefixes only', async () => {
  const base = await serve({ mounts: [parseMount('/=www', tmp)], cors: ['/manifest.json', '/icons/'] });
  for (const [p, want] of [
    ['/manifest.json', '*'],
    ['/manifest.json?v=2', '*'],
    ['/icons/a.svg', '*'],
    ['/icons/missing.svg', '*'],
    ['/index.html', null],
    ['/config.json', null],
    ['/manifest.json.bak', null],
  ]) {
    const r = await fetch(`${base}${p}`);
    assert.equal(r.headers.get('access-control-allow-origin'), want, p);
  }
  assert.equal(corsAllowed('/a', []), false);
  assert.equal(corsAllowed('/a/b', ['/a/']), true);
  assert.equal(corsAllowed('/ab', ['/a']), false);
});

test('--keep-opener: COOP unsafe-none on exactly those paths, same-origin elsewhere', async () => {
  const base = await serve({ mounts: [parseMount('/=www', tmp)], keepOpener: ['/rpc.html'], cors: ['/provider.js'] });
  for (const [p, want] of [
    ['/rpc.html', 'unsafe-none'],
    ['/rpc.html?r=1', 'unsafe-none'],
    ['/index.html', 'same-origin'],
    ['/', 'same-origin'],
    ['/rpc.html.bak', 'same-origin'],
  ]) {
    const r = await fetch(`${base}${p}`);
    assert.equal(r.headers.get('cross-origin-opener-policy'), want, p);
    assert.ok(r.headers.get('content-security-policy'), p);
  }
});

test('demo CSP preset and frameOptions', async () => {
  const base = await serve({ mounts: [parseMount('/=www', tmp)], csp: DEMO_CSP, frameOptions: null });
  const r = await fetch(`${base}/`);
  assert.equal(r.headers.get('content-security-policy'), DEMO_CSP);
  assert.equal(r.headers.get('x-frame-options'), null);
  assert.match(DEMO_CSP, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(DEMO_CSP, /connect-src 'self' http:\/\/127\.0\.0\.1:\* http:\/\/localhost:\*/);
  assert.doesNotMatch(DEMO_CSP, /unsafe-inline/);
});

test('command line: --config-json, --cors, --csp-preset; bad values exit 2', async () => {
  const child = spawn(process.execPath, [
    path.join(repo, 'scripts', 'serve.mjs'), '--port', '0', '--name', 'demo',
    '--mount', `/=${path.join(tmp, 'www')}`, '--csp-preset', 'demo', '--cors', '/manifest.json',
    '--config-json', '{"authenticator":"http://127.0.0.1:1/"}',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    const m = line.match(/^demo: serving (http:\/\/127\.0\.0\.1:\d+)\//);
    assert.ok(m, line);
    const cfg = await fetch(`${m[1]}/config.json`);
    assert.deepEqual(await cfg.json(), { authenticator: 'http://127.0.0.1:1/' });
    assert.equal(cfg.headers.get('content-security-policy'), DEMO_CSP);
    const man = await fetch(`${m[1]}/manifest.json`);
    assert.equal(man.headers.get('access-control-allow-origin'), '*');
  } finally {
    child.kill('SIGTERM');
  }
  for (const bad of [['--config-json', '{x'], ['--csp-preset', 'nope'], ['--cors', 'manifest.json']]) {
    const code = await new Promise((resolve) => {
      spawn(process.execPath, [path.join(repo, 'scripts', 'serve.mjs'), '--port', '0', ...bad], { stdio: 'ignore' })
        .on('exit', resolve);
    });
    assert.equal(code, 2, bad.join(' '));
  }
});
