#!/usr/bin/env node
// Moving data between two local cairn-hubs (issue 18): the "Your data" page against a
// Node script doing the raw copy of the same files between the same hubs.
//
//   node bench/move.mjs [--runs R] [--only small|large] [--small N] [--large N]
//                       [--no-page] [--no-node] [--trace] [--no-write] [--hub BIN] [--pkg DIR]
//
// Two sets, each under its own identity (a fresh Secret Key) on one "old" cairn-hub:
//   small: 2,000 files of 1 KiB (random bytes), half in an app's bucket, half in a
//          collection bucket (the app holds a grant on it), as tests/node/e2e/move.test.mjs
//          seeds them; the identity bucket holds the signed settings file;
//   large: 20 files of 5 MiB, split the same way.
// For each set and run, a fresh "new" cairn-hub (another process, another port, so another
// read URL prefix, its own empty storage) receives:
//   - Node, raw: for every file the page would move (the three buckets' listings), one
//     after the other: GET from the old hub's read URL, POST to the new hub's store URL
//     with the bucket key's token (one per bucket) — the floor under any mover;
//   - Node, checked: the same plus what the page does to count a file as done: SHA-256 of
//     what was read, read back from the new hub, length and SHA-256 compared;
//   - the page: headless Chromium restores the identity, opens /data.html, Check hub, and
//     is timed from the click on "Move data" (in the page's clock) to "Done: …" (the
//     switch included; the end of the copy is when the progress bar is full).
// Every run is verified afterwards from Node: every seeded file is on the new hub with
// its length and SHA-256, so a move that dropped or damaged files is an error, not a
// fast number. Rates are files/s and MB/s (10^6 bytes) of what was copied.
//
// Writes the "Moving data" section of docs/BENCHMARKS.md (between its markers; bench/run.mjs
// keeps it) unless --no-write, --only or a non-default size is given. --trace adds, per
// page run, where the time went (requests by kind from the page's fetch, and the hubs'
// own /metrics). Needs pkg/ (scripts/build-wasm.sh: pkg/testing/ and pkg/data/), a
// cairn-hub (CAIRN_HUB_BIN, --hub, else target/debug/cairn-hub) and bench/'s npm
// packages (scripts/bench.sh installs them).
import { execFileSync } from 'node:child_process';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { signECDSA } from '@stacks/encryption';
import { generateWallet } from '@stacks/wallet-sdk';
import { startServer, parseMount, DEFAULT_CSP } from '../scripts/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const RUNS = Number(value('--runs', 3));
const ONLY = value('--only', '');
const SMALL = Number(value('--small', 2000));
const LARGE = Number(value('--large', 20));
const PAGE = !flag('--no-page');
const NODE = !flag('--no-node');
const TRACE = flag('--trace');
const DEFAULT_SIZES = SMALL === 2000 && LARGE === 20;
const WRITE = !flag('--no-write') && !ONLY && DEFAULT_SIZES && PAGE && NODE && !TRACE;
const PKG = path.resolve(ROOT, value('--pkg', process.env.CAIRN_E2E_PKG || 'pkg'));
const HUB = path.resolve(ROOT, value('--hub', process.env.CAIRN_HUB_BIN || 'target/debug/cairn-hub'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync',
];
const PASSWORD = 'correct horse battery staple';
const APP = 'http://localhost:7777';
const OUT = path.join(ROOT, 'docs', 'BENCHMARKS.md');
export const BEGIN = '<!-- move-bench:begin (bench/move.mjs writes this section) -->';
export const END = '<!-- move-bench:end -->';

if (!fs.existsSync(HUB)) {
  console.error(`no cairn-hub at ${HUB}: cargo build -p cairn-hub, or set CAIRN_HUB_BIN / --hub`);
  process.exit(2);
}
// The test-only build: the seeding exports (collectionBucketKey, appPrivateKey).
const cairn = await import(pathToFileURL(path.join(PKG, 'testing', 'cairn.js')).href);
cairn.initSync({ module: fs.readFileSync(path.join(PKG, 'testing', 'cairn_bg.wasm')) });

// ---- hubs -------------------------------------------------------------------------------
const children = new Set();
function startHub(dir) {
  fs.mkdirSync(dir, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(HUB, ['--bind', '127.0.0.1:0', '--storage', dir, '--log', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    child.once('exit', (code) => {
      children.delete(child);
      reject(new Error(`cairn-hub exited with ${code}: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/^cairn-hub listening on (http:\/\/\S+)$/);
      if (m) resolve({ child, url: m[1], dir });
    });
  });
}
function stopHub(hub) {
  hub.child.removeAllListeners('exit');
  hub.child.kill('SIGKILL');
  children.delete(hub.child);
  fs.rmSync(hub.dir, { recursive: true, force: true });
}

const hubInfo = async (url) => (await fetch(`${url}/hub_info`)).json();
const enc = (name) => name.split('/').map(encodeURIComponent).join('/');
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const addressOf = (key) => cairn.publicKeyToAddress(cairn.publicKeyFromPrivate(key));
const tokenFor = (key, info, hubUrl) => cairn.gaiaAuthToken(key, info.challenge_text, { hubUrl });

async function pool(items, n, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) {
      const item = items[i++];
      await fn(item);
    }
  }));
}

async function store(hubUrl, address, token, name, body, contentType) {
  const r = await fetch(`${hubUrl}/store/${address}/${enc(name)}`, {
    method: 'POST', headers: { 'Content-Type': contentType, Authorization: `bearer ${token}` }, body,
  });
  if (!r.ok) throw new Error(`store ${name} on ${hubUrl}: ${r.status} ${await r.text()}`);
  await r.arrayBuffer();
}

/** Every entry of a bucket (stat form, history included): [{name, contentLength, contentType}]. */
async function list(hubUrl, key) {
  const info = await hubInfo(hubUrl);
  const token = tokenFor(key, info, hubUrl);
  const out = [];
  let page = null;
  for (;;) {
    const r = await fetch(`${hubUrl}/list-files/${addressOf(key)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `bearer ${token}` },
      body: JSON.stringify({ page, stat: true }),
    });
    if (r.status !== 202) throw new Error(`list ${addressOf(key)} on ${hubUrl}: ${r.status}`);
    const j = await r.json();
    out.push(...j.entries.filter(Boolean));
    if (!j.page || j.entries.length === 0) break;
    page = j.page;
  }
  return out;
}

// ---- seeding ----------------------------------------------------------------------------
/** A fresh identity: its keys, its signed settings file's body, its buckets. */
async function identity() {
  const words = cairn.generateMnemonic(24);
  const kc = cairn.Keychain.fromMnemonic(words);
  const wallet = await generateWallet({ secretKey: words, password: 'bench-move' });
  const dataKey = wallet.accounts[0].dataPrivateKey.slice(0, 64);
  const appKey = kc.appPrivateKey(0, APP);
  const bucketKey = kc.collectionBucketKey(0, 'contact');
  kc.free();
  const now = Date.now();
  const settings = {
    v: 1,
    apps: [{ origin: APP, name: 'Bench App', firstSignIn: now, lastSignIn: now, scopes: ['store_write', 'collection.contact'] }],
    collections: {
      contact: {
        generation: 0,
        grants: [{ app: APP, mode: 'rw', grantedAt: now, tokenSalt: crypto.randomBytes(16).toString('hex'), tokenIat: Math.floor(now / 1000) }],
        revokedBefore: 0,
      },
    },
    log: [],
    journal: [],
  };
  const cipherText = cairn.encryptECIES(cairn.publicKeyFromPrivate(dataKey), JSON.stringify(settings));
  const { publicKey, signature } = signECDSA(dataKey, cipherText);
  return { words, dataKey, appKey, bucketKey, settingsBody: JSON.stringify({ signature, publicKey, cipherText }) };
}

/** (Re)writes the identity's settings file on `hubUrl`: no journal, nothing moved yet. */
async function putSettings(id, hubUrl) {
  const info = await hubInfo(hubUrl);
  await store(hubUrl, addressOf(id.dataKey), tokenFor(id.dataKey, info, hubUrl), 'cairn/settings.json', id.settingsBody, 'application/json');
}

/** Seeds `count` random files of `size` bytes, half in the app's bucket, half in the collection's. */
async function seed(set, hubUrl) {
  const id = await identity();
  await putSettings(id, hubUrl);
  const info = await hubInfo(hubUrl);
  const buckets = [
    { key: id.appKey, prefix: 'bench/f', type: 'application/octet-stream' },
    { key: id.bucketKey, prefix: 'collection/f', type: 'application/octet-stream' },
  ].map((b) => ({ ...b, address: addressOf(b.key), token: tokenFor(b.key, info, hubUrl), expected: new Map() }));
  const files = Array.from({ length: set.count }, (_, i) => {
    const b = buckets[i % 2];
    return { b, name: `${b.prefix}${String(i).padStart(5, '0')}.bin` };
  });
  await pool(files, set.concurrency, async ({ b, name }) => {
    const body = crypto.randomBytes(set.size);
    b.expected.set(name, { len: body.length, sha: sha256(body) });
    await store(hubUrl, b.address, b.token, name, body, b.type);
  });
  return { ...id, buckets };
}

/** What the page moves: every file of the identity's, the app's and the collection's buckets. */
async function moveList(id, hubUrl) {
  const out = [];
  for (const key of [id.dataKey, id.appKey, id.bucketKey]) {
    for (const e of await list(hubUrl, key)) {
      out.push({ key, address: addressOf(key), name: e.name, len: e.contentLength, type: e.contentType || 'application/octet-stream' });
    }
  }
  return out;
}

/**
 * Every seeded file on `newHub`, with its length and SHA-256 (read back from its read
 * URL), and the settings file there: throws otherwise. Returns the files checked.
 */
async function verify(id, newHub) {
  const info = await hubInfo(newHub);
  let n = 0;
  for (const b of id.buckets) {
    const listed = new Map((await list(newHub, b.key)).map((e) => [e.name, e]));
    const names = [...b.expected.keys()];
    const missing = names.filter((name) => !listed.has(name));
    if (missing.length) throw new Error(`${missing.length} of ${names.length} files missing on the new hub (e.g. ${missing[0]})`);
    await pool(names, 8, async (name) => {
      const want = b.expected.get(name);
      const r = await fetch(`${info.read_url_prefix}${b.address}/${enc(name)}`);
      if (!r.ok) throw new Error(`read back ${name}: ${r.status}`);
      const got = Buffer.from(await r.arrayBuffer());
      if (got.length !== want.len || sha256(got) !== want.sha) throw new Error(`${name} differs on the new hub`);
      n++;
    });
  }
  const ids = await list(newHub, id.dataKey);
  if (!ids.some((e) => e.name === 'cairn/settings.json')) throw new Error('no settings file on the new hub');
  return n;
}

// ---- the Node reference -----------------------------------------------------------------
/** Copies `files` from `oldHub` to `newHub` one after the other; `checked` adds the page's checks. */
async function nodeCopy(files, oldHub, newHub, checked) {
  const [oldInfo, newInfo] = await Promise.all([hubInfo(oldHub), hubInfo(newHub)]);
  const t0 = performance.now();
  const tokens = new Map();
  let bytes = 0;
  for (const f of files) {
    if (!tokens.has(f.key)) tokens.set(f.key, tokenFor(f.key, newInfo, newHub));
    const r = await fetch(`${oldInfo.read_url_prefix}${f.address}/${enc(f.name)}`);
    if (!r.ok) throw new Error(`read ${f.name}: ${r.status}`);
    const body = Buffer.from(await r.arrayBuffer());
    const hash = checked ? sha256(body) : null;
    const w = await fetch(`${newHub}/store/${f.address}/${enc(f.name)}`, {
      method: 'POST', headers: { 'Content-Type': f.type, Authorization: `bearer ${tokens.get(f.key)}` }, body,
    });
    if (!w.ok) throw new Error(`store ${f.name}: ${w.status}`);
    await w.arrayBuffer();
    if (checked) {
      const back = await fetch(`${newInfo.read_url_prefix}${f.address}/${enc(f.name)}`);
      const got = Buffer.from(await back.arrayBuffer());
      if (!back.ok || got.length !== body.length || sha256(got) !== hash) throw new Error(`${f.name} differs after the copy`);
    }
    bytes += body.length;
  }
  return { ms: performance.now() - t0, files: files.length, bytes };
}

// ---- the page -----------------------------------------------------------------------------
const byRole = (page, role, name) => page.getByRole(role, { name, exact: true });

/** Counts the page's fetches by kind and sums their time to headers (--trace). */
function traceFetches() {
  const t = { n: {}, ms: {} };
  window.__fetchTrace = t;
  const orig = window.fetch;
  window.fetch = function (input, init) {
    const req = input instanceof Request ? input : new Request(input, init);
    const u = new URL(req.url);
    const kind = `${req.method} ${u.port} ${u.pathname.split('/')[1]}`;
    const t0 = performance.now();
    const p = orig.call(this, input, init);
    p.then(() => {
      t.n[kind] = (t.n[kind] || 0) + 1;
      t.ms[kind] = (t.ms[kind] || 0) + performance.now() - t0;
    }, () => {});
    return p;
  };
}

/** The `n` functions of a CPU profile with the most self time: [[name, ms], …]. */
function topSelf(profile, n) {
  const self = new Map();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const f = node.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}`.trim();
    self.set(name, (self.get(name) || 0) + (dt[i + 1] ?? 0) / 1000);
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, Math.round(v)]);
}

/** Restores the identity, plans the move to `newHub` and times "Move data". */
async function pageMove(browser, auth, id, newHub) {
  const context = await browser.newContext({ viewport: { width: 960, height: 900 } });
  context.setDefaultTimeout(60_000);
  if (TRACE) await context.addInitScript(traceFetches);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  try {
    await page.goto(`${auth}/`);
    await byRole(page, 'button', 'Restore from Secret Key').click();
    await byRole(page, 'textbox', 'Secret Key').fill(id.words);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD);
    await byRole(page, 'button', 'Restore').click();
    await byRole(page, 'navigation', 'Main').waitFor();
    await page.goto(`${auth}/data.html`);
    await byRole(page, 'heading', 'Your data').waitFor();
    await byRole(page, 'textbox', 'New hub URL').fill(newHub);
    await byRole(page, 'button', 'Check hub').click();
    await page.getByText(/^Hub ready: /).waitFor();
    const start = byRole(page, 'button', 'Move data');
    if (await start.isDisabled()) throw new Error(`the page cannot start: ${await page.getByText(/^Hub ready: /).textContent()}`);
    const plan = await page.locator('.move-plan').textContent();
    // Timestamps in the page's clock: the click, the full progress bar, "Done:"/"Stopped:".
    await page.evaluate(() => {
      const m = { click: 0, copied: 0, end: 0, text: '' };
      window.__move = m;
      const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Move data');
      button.addEventListener('click', () => { m.click = performance.now(); }, { capture: true, once: true });
      const bar = document.querySelector('progress[aria-label="Move progress"]');
      new MutationObserver(() => {
        const max = Number(bar.getAttribute('max'));
        if (!m.copied && max > 1 && Number(bar.getAttribute('value')) >= max) m.copied = performance.now();
      }).observe(bar, { attributes: true, attributeFilter: ['value'] });
      const status = [...document.querySelectorAll('p[role="status"]')].find((p) => p.textContent.startsWith('Hub ready: '));
      new MutationObserver(() => {
        const text = status.textContent;
        if (!m.end && /^(Done: |Stopped: |Cancelled\.)/.test(text)) {
          m.end = performance.now();
          m.text = text;
        }
      }).observe(status, { childList: true, characterData: true, subtree: true });
    });
    let cdp;
    let perf0;
    if (TRACE) {
      cdp = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      perf0 = (await cdp.send('Performance.getMetrics')).metrics;
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    await start.click();
    await page.waitForFunction(() => window.__move.end > 0, null, { timeout: 600_000, polling: 250 });
    const m = await page.evaluate(() => window.__move);
    let busy = null;
    if (TRACE) {
      const perf1 = (await cdp.send('Performance.getMetrics')).metrics;
      const get = (ms, name) => ms.find((x) => x.name === name)?.value ?? NaN;
      busy = Object.fromEntries(['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration'].map((k) => [k, +(get(perf1, k) - get(perf0, k)).toFixed(3)]));
      const { profile } = await cdp.send('Profiler.stop');
      busy.top = topSelf(profile, 12);
    }
    if (!m.text.startsWith('Done: ')) throw new Error(`the move did not finish: ${m.text}`);
    const moved = Number(m.text.match(/^Done: (\d+) file/)[1]);
    const trace = TRACE ? await page.evaluate(() => window.__fetchTrace) : null;
    return { ms: m.end - m.click, copyMs: m.copied ? m.copied - m.click : NaN, moved, plan, trace, busy };
  } catch (e) {
    if (problems.length) e.message += `\n  page errors: ${problems.join('; ')}`;
    throw e;
  } finally {
    await context.close().catch(() => {});
  }
}

/** The hub's request counters and time per route (its Prometheus /metrics). */
async function metrics(hubUrl) {
  const text = await (await fetch(`${hubUrl}/metrics`)).text();
  const out = {};
  for (const line of text.split('\n')) {
    let m = line.match(/^cairn_hub_request_duration_seconds_sum\{([^}]*)\} (\S+)/);
    if (m) {
      const route = (m[1].match(/route="([^"]*)"/) || [])[1];
      out[route] = { ...(out[route] || {}), seconds: Number(m[2]) };
    }
    m = line.match(/^cairn_hub_request_duration_seconds_count\{([^}]*)\} (\S+)/);
    if (m) {
      const route = (m[1].match(/route="([^"]*)"/) || [])[1];
      out[route] = { ...(out[route] || {}), count: Number(m[2]) };
    }
  }
  return out;
}

// ---- report helpers ---------------------------------------------------------------------
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fmt = (x) => (!Number.isFinite(x) ? '—' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const times = (x) => (Number.isFinite(x) ? `${fmt(x)}×` : '—');
const rate = (r) => ({ fps: r.files / (r.ms / 1000), mbps: r.bytes / 1e6 / (r.ms / 1000) });

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
const mdTable = (header, rows) => [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');

// ---- main -------------------------------------------------------------------------------
const SETS = [
  { id: 'small', label: `${SMALL.toLocaleString('en')} files of 1 KiB`, count: SMALL, size: 1024, concurrency: 16 },
  { id: 'large', label: `${LARGE} files of 5 MiB`, count: LARGE, size: 5 << 20, concurrency: 4 },
].filter((s) => !ONLY || s.id === ONLY);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-move-bench-'));
let browser;
let server;
let hubSeq = 0;
const load0 = os.loadavg();
const started = Date.now();
const results = [];
try {
  const old = await startHub(path.join(tmp, 'old'));
  console.log(`old hub ${old.url} (${HUB})`);
  for (const set of SETS) {
    const t = performance.now();
    set.id_ = await seed(set, old.url);
    set.files = await moveList(set.id_, old.url);
    set.bytes = set.files.reduce((s, f) => s + f.len, 0);
    console.log(`seeded ${set.label} in ${((performance.now() - t) / 1000).toFixed(1)} s; the page moves ${set.files.length} files, ${(set.bytes / 1e6).toFixed(2)} MB (settings file included)`);
  }

  if (PAGE) {
    server = await startServer({
      host: '127.0.0.1', port: 0, log: false, csp: DEFAULT_CSP, frameOptions: 'DENY',
      mounts: [parseMount('/=www', ROOT), parseMount(`/pkg/=${PKG}`, ROOT)],
      configJson: { hubUrl: old.url },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }
  const auth = server ? `http://127.0.0.1:${server.address().port}` : '';

  for (const set of SETS) {
    const r = { set, node: [], checked: [], page: [] };
    results.push(r);
    for (let run = 0; run < RUNS; run++) {
      // Alternate the order of the three (A B C, C B A, …): drift on the shared machine hits all.
      const kinds = [NODE && 'node', NODE && 'checked', PAGE && 'page'].filter(Boolean);
      if (run % 2) kinds.reverse();
      for (const kind of kinds) {
        const hub = await startHub(path.join(tmp, `new-${++hubSeq}`));
        try {
          let out;
          if (kind === 'page') {
            await putSettings(set.id_, old.url); // no journal of an earlier run
            const m0 = TRACE ? await metrics(old.url) : null;
            const p = await pageMove(browser, auth, set.id_, hub.url);
            out = { ms: p.ms, copyMs: p.copyMs, files: p.moved, bytes: set.bytes };
            if (p.moved !== set.files.length) throw new Error(`the page moved ${p.moved} files, expected ${set.files.length}`);
            if (TRACE) {
              const m1 = await metrics(old.url);
              const mn = await metrics(hub.url);
              const delta = Object.fromEntries(Object.entries(m1).map(([k, v]) => [k, {
                count: v.count - (m0[k]?.count || 0), seconds: +(v.seconds - (m0[k]?.seconds || 0)).toFixed(3),
              }]).filter(([, v]) => v.count > 0));
              console.log(`  trace, page fetches (count, ms to headers): ${JSON.stringify(Object.fromEntries(Object.keys(p.trace.n).map((k) => [k, [p.trace.n[k], Math.round(p.trace.ms[k])]])))}`);
              console.log(`  trace, the page's main thread busy (s): ${JSON.stringify(p.busy)}`);
              console.log(`  trace, old hub routes during the move: ${JSON.stringify(delta)}`);
              console.log(`  trace, new hub routes: ${JSON.stringify(Object.fromEntries(Object.entries(mn).map(([k, v]) => [k, { count: v.count, seconds: +v.seconds.toFixed(3) }])))}`);
            }
          } else {
            out = await nodeCopy(set.files, old.url, hub.url, kind === 'checked');
          }
          const checked = await verify(set.id_, hub.url);
          if (checked !== set.count) throw new Error(`verified ${checked} files, expected ${set.count}`);
          r[kind].push(out);
          const { fps, mbps } = rate(out);
          const extra = kind === 'page' ? ` (copy done at ${(out.copyMs / 1000).toFixed(2)} s)` : '';
          console.log(`${set.id} run ${run + 1} ${kind.padEnd(7)} ${(out.ms / 1000).toFixed(2)} s  ${fmt(fps)} files/s  ${fmt(mbps)} MB/s${extra}  verified ${checked}`);
        } finally {
          stopHub(hub);
        }
      }
    }
  }
} finally {
  await browser?.close().catch(() => {});
  if (server) {
    server.close();
    server.closeAllConnections?.();
  }
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
}
const load1 = os.loadavg();

// ---- report -------------------------------------------------------------------------------
const rows = [];
for (const r of results) {
  const med = (xs) => (xs.length ? { ms: median(xs.map((x) => x.ms)), files: xs[0].files, bytes: xs[0].bytes } : null);
  const node = med(r.node);
  const checked = med(r.checked);
  const page = med(r.page);
  const copyMs = r.page.length ? median(r.page.map((x) => x.copyMs)) : NaN;
  for (const [what, m] of [['Node, raw copy (GET + POST)', node], ['Node, checked (+ SHA-256, read back, compare)', checked], ['the page (Move data → Done)', page]]) {
    if (!m) continue;
    const { fps, mbps } = rate(m);
    const vsNode = node ? m.ms / node.ms : NaN;
    const vsChecked = checked ? m.ms / checked.ms : NaN;
    rows.push([r.set.label, what, `${fmt(m.ms / 1000)} s`, fmt(fps), fmt(mbps), times(vsNode), times(vsChecked)]);
  }
  if (page && Number.isFinite(copyMs)) {
    rows.push([r.set.label, '  of it the copy (→ progress bar full)', `${fmt(copyMs / 1000)} s`, fmt(page.files / (copyMs / 1000)), fmt(page.bytes / 1e6 / (copyMs / 1000)), times(copyMs / node?.ms), times(copyMs / checked?.ms)]);
  }
}
const header = ['set', 'mover', 'time (median)', 'files/s', 'MB/s', 'time / Node raw', 'time / Node checked'];
console.log(`\n${table(header, rows)}\n`);
console.log(`runs: ${RUNS} of each; load average ${load0.map((x) => x.toFixed(2)).join(' / ')} before, ${load1.map((x) => x.toFixed(2)).join(' / ')} after; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);

if (WRITE) {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim()) commit += ' (+ uncommitted changes)';
  } catch {}
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m) || [])[1] || os.cpus()[0]?.model;
  const version = browser ? browser.version() : '';
  const perRun = results.map((r) => `${r.set.id}: Node raw ${r.node.map((x) => (x.ms / 1000).toFixed(2)).join(' / ')} s, checked ${r.checked.map((x) => (x.ms / 1000).toFixed(2)).join(' / ')} s, page ${r.page.map((x) => (x.ms / 1000).toFixed(2)).join(' / ')} s`).join('; ');
  const section = `${BEGIN}
## Moving data between hubs

Generated by \`node bench/move.mjs\` (run by \`scripts/bench.sh\`) on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}
(commit ${commit}; ${cpu}, ${os.cpus().length} logical cores shared with other work, load average
${load0.map((x) => x.toFixed(2)).join(' / ')} before and ${load1.map((x) => x.toFixed(2)).join(' / ')} after; headless Chromium ${version};
Node ${process.version}; two local \`cairn-hub\` processes, \`${path.relative(ROOT, HUB).startsWith('..') ? HUB : path.relative(ROOT, HUB)}\`, on disk with fsync).
Medians of ${RUNS} runs each, A B C / C B A order, each run into a fresh new hub; MB = 10^6 bytes.
"time / Node" above 1 means the page is slower; the issue's target is at most 2× the raw copy.

${mdTable(header, rows)}

Runs: ${perRun}.

What is measured: each set is one identity whose app bucket and collection bucket hold half
the files each (random bytes), plus its signed settings file (so ${results.map((r) => `${r.set.files.length}`).join(' and ')} files
are moved). The Node rows copy exactly the files the page moves, one after the other; the
page's time runs from the click on **Move data** to **Done:** (the plan is made before, at
**Check hub**), and includes its journal saves and the switch. After every run Node lists
the new hub and compares every seeded file's length and SHA-256 with what was seeded.
${END}`;
  const prev = fs.readFileSync(OUT, 'utf8');
  const re = /<!-- move-bench:begin[^]*?<!-- move-bench:end -->/;
  let next;
  if (re.test(prev)) next = prev.replace(re, () => section);
  else if (prev.includes('<!-- siws-bench:begin')) next = prev.replace('<!-- siws-bench:begin', () => `${section}\n\n<!-- siws-bench:begin`);
  else next = `${prev.replace(/\n*$/, '\n\n')}${section}\n`;
  fs.writeFileSync(OUT, next);
  console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
}
