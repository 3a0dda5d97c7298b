#!/usr/bin/env node
// Files screen listing benchmark (run by hand; not part of ./test):
// starts a temporary cairn-hub, seeds a "contact" collection with N files (default
// 10,000; ECIES bodies, archival app token) plus history (every 20th file rewritten, so
// it has a second version, and every 100th deleted), writes the settings file, then in
// headless Chromium restores the identity, opens Files → contact and measures, from the
// click:
//   - first rows: the first row of the list is in the DOM;
//   - full listing: the status says "… files listed";
// and the scroll cost (rows rendered while scrolling through the whole list).
//
//   node bench/files-listing.mjs [--files N] [--pkg DIR] [--hub BIN] [--runs R]
//
// Needs pkg/ (scripts/build-wasm.sh) or --pkg, and target/debug/cairn-hub (or --hub,
// e.g. target/release/cairn-hub).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer, parseMount, DEFAULT_CSP } from '../scripts/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const FILES = Number(opt('--files', 10000));
const RUNS = Number(opt('--runs', 3));
const PKG = path.resolve(ROOT, opt('--pkg', process.env.CAIRN_E2E_PKG || 'pkg'));
const HUB = path.resolve(ROOT, opt('--hub', 'target/debug/cairn-hub'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'correct horse battery staple';

// The test-only build: it has the seeding exports (collectionBucketKey, identityGaiaToken).
const cairn = await import(path.join(PKG, 'testing', 'cairn.js'));
cairn.initSync({ module: fs.readFileSync(path.join(PKG, 'testing', 'cairn_bg.wasm')) });

function startHub(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(HUB, ['--bind', '127.0.0.1:0', '--storage', dir, '--log', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('exit', (c) => reject(new Error(`cairn-hub exited ${c}`)));
    createInterface({ input: child.stdout }).on('line', (l) => {
      const m = l.match(/^cairn-hub listening on (http:\/\/\S+)$/);
      if (m) resolve({ child, url: m[1] });
    });
  });
}

async function pool(items, n, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-files-bench-'));
const hub = await startHub(path.join(tmp, 'hub'));
const server = await startServer({
  host: '127.0.0.1', port: 0, log: false, csp: DEFAULT_CSP, frameOptions: 'DENY',
  mounts: [parseMount('/=www', ROOT), parseMount(`/pkg/=${PKG}`, ROOT)],
  configJson: { hubUrl: hub.url },
});
const auth = `http://127.0.0.1:${server.address().port}`;
let browser;
try {
  const words = cairn.generateMnemonic(24);
  const kc = cairn.Keychain.fromMnemonic(words);
  const info = await (await fetch(`${hub.url}/hub_info`)).json();
  const bucketKey = kc.collectionBucketKey(0, 'contact');
  const address = kc.collectionBucketAddress(0, 'contact');
  const encPub = cairn.publicKeyFromPrivate(kc.collectionEncryptionKey(0, 'contact', 0));
  const salt = crypto.randomBytes(16).toString('hex');
  const iat = Math.floor(Date.now() / 1000);
  const token = cairn.collectionAppToken(bucketKey, info.challenge_text, hub.url, iat, salt);
  const put = async (name, text) => {
    const r = await fetch(`${hub.url}/store/${address}/collection/${name}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `bearer ${token}` },
      body: cairn.encryptECIES(encPub, text),
    });
    if (!r.ok) throw new Error(`store ${name}: ${r.status}`);
  };
  const names = Array.from({ length: FILES }, (_, i) => `contact-${String(i).padStart(5, '0')}`);
  let t = Date.now();
  await pool(names, 16, (n) => put(n, JSON.stringify({ id: n, name: `Person ${n}`, phone: '555-0100' })));
  await pool(names.filter((_, i) => i % 20 === 0), 16, (n) => put(n, JSON.stringify({ id: n, name: `Person ${n}`, phone: '555-0199' })));
  await pool(names.filter((_, i) => i % 100 === 1), 16, async (n) => {
    await fetch(`${hub.url}/delete/${address}/collection/${n}`, { method: 'DELETE', headers: { Authorization: `bearer ${token}` } });
  });
  const history = FILES / 20 + FILES / 100;
  console.log(`seeded ${FILES} files + ${Math.round(history)} history files in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const now = Date.now();
  const settings = {
    v: 1, apps: [], log: [], journal: [],
    collections: { contact: { generation: 0, grants: [], revokedBefore: 0 } },
  };
  const idTok = kc.identityGaiaToken(0, info.challenge_text, hub.url);
  await fetch(`${hub.url}/store/${kc.identityAddress(0)}/cairn/settings.json`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `bearer ${idTok}` },
    body: cairn.encryptECIES(kc.identityPublicKey(0), JSON.stringify(settings)),
  });
  void now;

  // The hub alone (Node, same pages): the floor under the page's numbers.
  {
    const owner = cairn.gaiaAuthToken(bucketKey, info.challenge_text, { hubUrl: hub.url });
    const t0 = performance.now();
    let page = null;
    let first = 0;
    let pages = 0;
    for (;;) {
      const r = await fetch(`${hub.url}/list-files/${address}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `bearer ${owner}` },
        body: JSON.stringify({ page, stat: true }),
      });
      const j = await r.json();
      pages++;
      if (!first) first = performance.now() - t0;
      if (!j.page || j.entries.length === 0) break;
      page = j.page;
    }
    console.log(`hub alone (Node fetch): first page ${first.toFixed(0)} ms, all ${pages} pages ${(performance.now() - t0).toFixed(0)} ms`);
  }

  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const page = await (await browser.newContext({ viewport: { width: 960, height: 900 } })).newPage();
  page.setDefaultTimeout(120_000);
  await page.goto(`${auth}/`);
  await page.getByRole('button', { name: 'Restore from Secret Key', exact: true }).click();
  await page.getByRole('textbox', { name: 'Secret Key', exact: true }).fill(words);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await page.getByRole('link', { name: 'Files', exact: true }).click();
  const contact = page.getByRole('navigation', { name: 'Collections' }).getByRole('button', { name: 'contact', exact: true });
  await contact.waitFor();

  const results = [];
  for (let run = 0; run < RUNS; run++) {
    // Observe the DOM from inside the page: first row, and the "files listed" status.
    await page.evaluate(() => {
      window.__bench = { start: 0, first: 0, full: 0 };
      const obs = new MutationObserver(() => {
        const b = window.__bench;
        if (!b.start) return;
        if (!b.first && document.querySelector('.file-list li')) b.first = performance.now();
        if (!b.full && [...document.querySelectorAll('[role=status]')].some((s) => /files listed/.test(s.textContent))) {
          b.full = performance.now();
          obs.disconnect();
        }
      });
      obs.observe(document.body, { childList: true, subtree: true, characterData: true });
      document.addEventListener('click', () => { window.__bench.start = performance.now(); }, { capture: true, once: true });
    });
    await contact.click();
    await page.waitForFunction(() => window.__bench.full > 0, null, { timeout: 300_000 });
    const b = await page.evaluate(() => window.__bench);
    const status = await page.getByRole('status').filter({ hasText: /files listed/ }).first().textContent();
    // Scroll through the whole list in steps of one screen; time per step.
    const scroll = await page.evaluate(async () => {
      const box = document.querySelector('.file-scroll');
      const steps = [];
      let maxRows = 0;
      for (let top = 0; top < box.scrollHeight; top += box.clientHeight) {
        const t0 = performance.now();
        box.scrollTop = top;
        box.dispatchEvent(new Event('scroll'));
        steps.push(performance.now() - t0);
        maxRows = Math.max(maxRows, box.querySelectorAll('li').length);
      }
      steps.sort((a, b) => a - b);
      return { steps: steps.length, median: steps[steps.length >> 1], p95: steps[Math.floor(steps.length * 0.95)], maxRows };
    });
    results.push({ first: b.first - b.start, full: b.full - b.start, status: status.trim(), scroll });
    console.log(`run ${run + 1}: first rows ${(b.first - b.start).toFixed(0)} ms, full listing ${(b.full - b.start).toFixed(0)} ms (${status.trim()}); scroll: ${scroll.steps} screens, median ${scroll.median.toFixed(2)} ms, p95 ${scroll.p95.toFixed(2)} ms per screen, at most ${scroll.maxRows} rows in the DOM`);
  }
  const med = (k) => results.map((r) => r[k]).sort((a, b) => a - b)[results.length >> 1];
  console.log(`\nFiles listing, ${FILES} files (+${Math.round(history)} history files), median of ${RUNS}: time to first rows ${med('first').toFixed(0)} ms, time to full listing ${med('full').toFixed(0)} ms`);
  kc.free();
} finally {
  await browser?.close();
  server.close();
  server.closeAllConnections?.();
  hub.child.removeAllListeners('exit');
  hub.child.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
}
