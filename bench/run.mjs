#!/usr/bin/env node
// Runner of the benchmark page (called by scripts/bench.sh after the builds):
// serves the repository with scripts/serve.mjs on an ephemeral port (/ = www, /pkg/ = pkg,
// /bench/ = bench), loads the authenticator page in headless Chromium to measure what it
// transfers, runs bench/index.html, prints both tables and writes docs/BENCHMARKS.md.
//
//   node bench/run.mjs [--quick] [--only REGEX] [--budget MS] [--no-write] [--out FILE]
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '..');

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const QUICK = flag('--quick');
const OUT = value('--out') || path.join(ROOT, 'docs', 'BENCHMARKS.md');
const WRITE = !flag('--no-write') && !QUICK && !value('--only');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

// ---- server -------------------------------------------------------------------------
function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'scripts', 'serve.mjs'),
        '--port', '0',
        '--mount', '/=www',
        '--mount', '/pkg/=pkg',
        '--mount', '/bench/=bench',
        '--name', 'bench',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve.mjs did not start: ${out}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/[0-9.]+:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: `http://127.0.0.1:${m[1]}` });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve.mjs exited (${code}): ${out}`)));
  });
}

// ---- helpers ------------------------------------------------------------------------
// gzip -9 itself (its deflate differs slightly from zlib's); zlib level 9 if it is missing.
const gz = (buf) => {
  try {
    return execFileSync('gzip', ['-9c'], { input: buf, maxBuffer: 1 << 28 }).length;
  } catch {
    return zlib.gzipSync(buf, { level: 9 }).length;
  }
};
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function mdTable(header, rows) {
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (cpuinfo.match(/^model name\s*:\s*(.+)$/m) || [])[1] || os.cpus()[0]?.model || 'unknown';
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim();
    if (dirty) commit += ' (+ uncommitted changes)';
  } catch {}
  const cargo = fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8');
  const rel = cargo.split('[profile.release]')[1] || '';
  const opt = (rel.match(/opt-level\s*=\s*("?[\w]+"?)/) || [])[1] || 'default';
  return {
    nproc: os.cpus().length,
    model,
    memGiB: (os.totalmem() / 2 ** 30).toFixed(0),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    commit,
    optLevel: opt,
  };
}

// ---- size of the authenticator page ---------------------------------------------------
async function pageTransfer(browser, base) {
  const page = await browser.newPage();
  const seen = new Map();
  page.on('response', async (res) => {
    const url = res.url();
    if (!url.startsWith(base) || res.status() !== 200) return;
    try {
      const body = await res.body();
      seen.set(new URL(url).pathname, body);
    } catch {}
  });
  await page.goto(`${base}/`, { waitUntil: 'networkidle' });
  await page.waitForTimeout(500);
  await page.close();
  const files = [...seen.entries()]
    .map(([p, body]) => ({ path: p === '/' ? '/ (index.html)' : p, raw: body.length, gzip: gz(body) }))
    .sort((a, b) => b.raw - a.raw);
  return files;
}

/** bench/FINDINGS.md (optimisations made, experiments), appended to the report. */
function findings() {
  try {
    return `\n${fs.readFileSync(path.join(here, 'FINDINGS.md'), 'utf8').replace(/^# .*\n/, '')}`;
  } catch {
    return '';
  }
}

// ---- main ---------------------------------------------------------------------------
const { child: server, base } = await startServer();
const stop = () => {
  try {
    server.kill('SIGTERM');
  } catch {}
};
process.on('exit', stop);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const load0 = os.loadavg();
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const browserVersion = browser.version();
let results;
let files;
try {
  files = await pageTransfer(browser, base);
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`console: ${m.text()}`);
  });
  const q = new URLSearchParams();
  if (QUICK) q.set('quick', '1');
  if (value('--only')) q.set('only', value('--only'));
  if (value('--budget')) q.set('budget', value('--budget'));
  const url = `${base}/bench/index.html${q.size ? `?${q}` : ''}`;
  console.log(`bench page: ${url}`);
  await page.goto(url);
  let last = '';
  const started = Date.now();
  for (;;) {
    const state = await page.evaluate(() => ({
      done: !!window.__benchResults,
      error: window.__benchError || null,
      status: document.getElementById('bench-status')?.textContent || '',
    }));
    if (state.error) throw new Error(`bench page failed:\n${state.error}`);
    if (state.done) break;
    if (state.status !== last) {
      console.log(`  ${state.status}`);
      last = state.status;
    }
    if (Date.now() - started > 20 * 60_000) throw new Error('bench page timed out (20 min)');
    await new Promise((r) => setTimeout(r, 250));
  }
  results = await page.evaluate(() => window.__benchResults);
} finally {
  await browser.close();
  stop();
}
const load1 = os.loadavg();

// ---- tables -------------------------------------------------------------------------
const m = machine();
const opRows = results.rows.map((r) => [
  r.op,
  fmt(r.cairn.median),
  fmt(r.cairn.p95),
  r.reference ? r.reference.name : '— (no JS reference)',
  r.reference ? fmt(r.reference.median) : '—',
  r.reference ? fmt(r.reference.p95) : '—',
  r.ratio != null ? `${r.ratio.toFixed(2)}×` : '—',
  r.target ? r.target.text : '—',
  r.met == null ? '—' : r.met ? 'yes' : '**no**',
]);
const opHeader = ['operation', 'Cairn median ms', 'Cairn p95 ms', 'reference', 'ref median ms', 'ref p95 ms', 'ratio ref/Cairn', 'target', 'met'];

const refBundle = fs.readFileSync(path.join(here, 'dist', 'reference.js'));
const total = files.reduce((a, f) => ({ raw: a.raw + f.raw, gzip: a.gzip + f.gzip }), { raw: 0, gzip: 0 });
const sizeHeader = ['transfer', 'raw', 'gzip -9'];
const sizeRows = [
  ...files.map((f) => [`Cairn: ${f.path}`, kb(f.raw), kb(f.gzip)]),
  ['**Cairn authenticator page, total**', `**${kb(total.raw)}**`, `**${kb(total.gzip)}**`],
  ['**Reference bundle** (bench/dist/reference.js: only the functions benchmarked, no UI)', `**${kb(refBundle.length)}**`, `**${kb(gz(refBundle))}**`],
  ['Target: authenticator page', '', `≤ 250 KB ${total.gzip <= 250_000 ? '(met)' : '(**not met**)'}`],
];

const plain = (rows) => rows.map((r) => r.map((c) => String(c).replace(/\*\*/g, '')));
console.log('');
console.log(table(opHeader, plain(opRows)));
console.log('');
console.log(table(sizeHeader, plain(sizeRows)));
const failed = results.checks.filter((c) => !c.ok);
console.log(`\ncross-checks: ${results.checks.length - failed.length}/${results.checks.length} ok`);
console.log(`machine: ${m.nproc} × ${m.model}; load ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}; Chromium ${browserVersion}`);

if (WRITE) {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const md = `# Benchmarks: Cairn against the JavaScript reference

Generated by \`scripts/bench.sh\` on ${date} — do not edit by hand; re-run the command.

## Machine and browser

| | |
|---|---|
| CPU | ${m.model} (${m.nproc} logical cores, shared) |
| memory | ${m.memGiB} GiB |
| OS | ${m.kernel} |
| load average (1/5/15 min) | ${load0.map((x) => x.toFixed(2)).join(' / ')} before, ${load1.map((x) => x.toFixed(2)).join(' / ')} after |
| browser | headless Chromium ${browserVersion} (playwright-core, \`${CHROMIUM}\`) |
| user agent | ${results.userAgent} |
| Node | ${m.node} |
| commit | ${m.commit} |
| wasm build | release, opt-level ${m.optLevel} (3 for the curve, hash and AES crates), LTO, codegen-units 1, \`--cfg cpubits="32"\` (.cargo/config.toml); the developer package \`pkg/\` (timed here) as wasm-bindgen writes it; the page's \`pkg/app/\` then shrunk by \`scripts/build-tools/shrink-page.mjs\` (wasm-opt -O2 -s 2 without inlining, then a second run of size passes, short import/export names, esbuild-minified glue) |

## Speed

Same page, same inputs; after a warm-up the two implementations run in alternating timed
batches (A B B A …). A sample is a batch of k calls (≥ 8 ms, because \`performance.now()\` is
coarsened to 100 µs without cross-origin isolation) divided by k, so p95 is over batch
means. ratio = reference median / Cairn median: above 1, Cairn is faster. Budget about
${(results.budgetMs / 1000).toFixed(1)} s per implementation and operation.

${mdTable(opHeader, opRows)}

What each side does (see \`bench/bench.js\` and \`bench/reference.mjs\`):

- **restore** — Cairn: \`benchRestore\` = \`Keychain::from_mnemonic\` (validate, BIP39 seed,
  root, \`m/888'/0'\`, salt) + identity 0 (key, public key, address) + apps node xprv + STX key.
  Reference: \`@scure/bip39\` validateMnemonic + mnemonicToSeed, \`HDKey.fromMasterSeed\`,
  wallet-sdk \`deriveSalt\` + \`deriveAccount(0)\` (= \`generateWallet\` without
  \`encryptMnemonic\`).
- **app private key** — a fresh origin \`https://app-<i>.example\` every call, for both.
  Cairn: \`Keychain.appPrivateKey(0, origin)\`; reference: wallet-sdk \`getAppPrivateKey\`
  with the restored account.
- **authResponse** — the same authRequest (made once by \`@stacks/auth\`
  \`makeAuthRequestToken\`, scopes store_write + publish_data). Cairn:
  \`Keychain.makeAuthResponse(0, request, {hubUrl, readUrlPrefix, now})\` (verifies the
  request, derives the keys, signs the profile token, association token, ECIES of the app
  key, signs the response). Reference: \`@stacks/auth\` \`verifyAuthRequest\` + decode, then
  what wallet-sdk \`makeAuthResponse\` does with the hub's answer given (no stored profile),
  without the upload: \`getAppPrivateKey\`, \`signProfileForUpload\`,
  \`makeGaiaAssociationToken\`, \`getStxAddress\` ×2, \`@stacks/auth\` \`makeAuthResponse\`.
- **ECIES** — ASCII text of the given size, hex cipher text; Cairn \`encryptECIES\` /
  \`decryptECIES\` (JSON text in and out); reference \`@stacks/encryption\`
  \`encryptECIES\` / \`decryptECIES\` plus \`JSON.stringify\` / \`JSON.parse\`. Decryption of
  the same cipher object. The "WebCrypto" rows are Cairn's \`encryptECIESAsync\` /
  \`decryptECIESAsync\`: curve work in wasm, AES-256-CBC and HMAC-SHA256 in
  \`crypto.subtle\` (which is what \`@stacks/encryption\` does for AES too).
- **JWT** — an authResponse-sized payload; Cairn \`benchJwtSign\` (JSON text in) /
  \`benchJwtVerify\`; reference jsontokens \`TokenSigner\` / \`TokenVerifier\`; the verified token
  is the one jsontokens made.
- **AES-256-GCM** — 1 MiB, same key and nonce, against \`crypto.subtle.encrypt/decrypt\`
  with an imported key. Cairn's bulk path is \`benchAesGcmSealAsync/OpenAsync\`: the core's
  \`Bulk\` trait implemented with WebCrypto (\`crates/browser/src/webcrypto.rs\`), as the page runs every
  AES step (key import, the call, copies in and out of wasm memory included). The
  "in software" rows are \`benchAesGcmSeal/Open\`: \`bulk::Software\` (the \`aes-gcm\`
  crate), which native code and the synchronous \`vaultSeal\`/\`vaultOpen\` use; no
  target, for the record.
- **BIP39 seed** — Cairn \`benchBip39Seed\` (validation + PBKDF2-HMAC-SHA512 ×2048) against
  WebCrypto PBKDF2 (\`importKey\` + \`deriveBits\`) and against \`@scure/bip39\`.
- **vault unlock** — \`benchVaultOpen\`: Argon2id with \`KdfParams::DEFAULT\`, the shipped
  parameters (64 MiB, t=4, p=1), in wasm, then AES-256-GCM of the Secret Key in WebCrypto,
  as the page's KDF worker does. No JS reference in the list; absolute time.

Cross-checks run first (same salt and app keys; each side's authResponse carries the same
app key and Cairn's passes \`@stacks/auth\` \`verifyAuthResponse\`; ECIES and JWT interoperate
both ways; same AES-GCM ciphertext and BIP39 seed): ${results.checks.length - failed.length}/${results.checks.length} ok.

## Size

What the authenticator page (\`www/\` + its own module \`pkg/app/\`, built with \`--features app\`)
transfers when loaded, as measured in the same
Chromium run (every same-origin response), raw and gzip -9; and the reference bundle
(esbuild, browser, esm, minified) built from the pinned libraries in \`bench/package.json\`.

${mdTable(sizeHeader, sizeRows)}
${findings()}`;
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  // The hub's section (written from crates/hub's hub-bench), "Moving data" and "Sign-In
  // with Stacks verification" (bench/move.mjs's and bench/siws.mjs's) are kept as they are.
  const prev = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
  const kept = ['hub', 'move', 'siws']
    .map((name) => prev.match(new RegExp(`<!-- ${name}-bench:begin[^]*?<!-- ${name}-bench:end -->`))?.[0])
    .filter(Boolean);
  fs.writeFileSync(OUT, [md.replace(/\n*$/, ''), ...kept].join('\n\n') + '\n');
  console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
}
if (failed.length) process.exit(1);
