// Shared harness of the end-to-end tests (node:test + playwright-core, the machine's Chromium).
//
// Per test file, `useStack()` starts (and stops after the file):
//   - cairn-hub (target/debug/cairn-hub, built by ./test) on an ephemeral port with a
//     temporary storage directory; its URL comes from its "cairn-hub listening on" line;
//   - the authenticator (scripts/serve.mjs: www/ + pkg/, the strict CSP, config.json → the
//     hub) on http://127.0.0.1:<port>;
//   - the demo app (demo/ + pkg/, the demo CSP allowing the authenticator's provider.js,
//     manifest with CORS, config.json → the authenticator, the demo server's /api/ of
//     scripts/demo-api.mjs) on http://localhost:<port> — another origin than the
//     authenticator, as a real app's would be;
//   - headless Chromium (/usr/bin/chromium, no browser download).
// Each test gets a fresh browser context (fresh profile: no storage shared between tests)
// through `withPage`, which also saves a screenshot when the test fails.
//
// Nothing is built here: ./test builds pkg/, cairn-hub and the demo's Connect bundle first.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { makeAuthRequestToken } from '@stacks/auth';
import { makeECPrivateKey } from '@stacks/encryption';
import { config as stacksConfig } from '@stacks/common';
import { startServer, parseMount, DEFAULT_CSP, demoCsp } from '../../../scripts/serve.mjs';
import { createDemoApi } from '../../../scripts/demo-api.mjs';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SCREENSHOTS = path.join(repo, 'tests', 'artifacts', 'screenshots');
const HUB_BIN = process.env.CAIRN_HUB_BIN || path.join(repo, 'target', 'debug', 'cairn-hub');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync',
];
/** Generous timeout for anything that waits on the KDF (Argon2id 19 MiB) on a busy 2-core box. */
export const SLOW = 30_000;
export const PASSWORD = 'correct horse battery staple';

// stacks.js logs every hub request ("[DEBUG] connectToGaiaHub: …"); keep the output readable.
stacksConfig.logLevel = 'error';
console.debug = () => {};

// Cairn's own wasm package, in Node (to compute expected addresses, keys and messages).
// CAIRN_E2E_PKG points the tests (servers and Node) at another wasm-bindgen output directory.
const pkgDir = path.resolve(repo, process.env.CAIRN_E2E_PKG || 'pkg');
export const cairn = await import(path.join(pkgDir, 'cairn.js'));
cairn.initSync({ module: fs.readFileSync(path.join(pkgDir, 'cairn_bg.wasm')) });
// The test-only build (pkg/testing/, feature `testing`): the developer package plus the
// exports that seed a hub with keys no app gets (collectionBucketKey, identityGaiaToken,
// collectionAppToken).
export const cairnTesting = await import(path.join(pkgDir, 'testing', 'cairn.js'));
cairnTesting.initSync({ module: fs.readFileSync(path.join(pkgDir, 'testing', 'cairn_bg.wasm')) });

/**
 * Starts a cairn-hub on `storageDir` (on `bind`, default any free loopback port), with
 * `args` added to its command line (e.g. `['--server-name', 'b.example']`): {child, url}.
 */
export function startHub(storageDir, bind = '127.0.0.1:0', args = []) {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(HUB_BIN)) {
      reject(new Error(`cairn-hub not found at ${HUB_BIN}: run "cargo build -p cairn-hub" (./test does)`));
      return;
    }
    const child = spawn(HUB_BIN, ['--bind', bind, '--storage', storageDir, '--log', 'warn', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-20_000);
    });
    const timer = setTimeout(() => reject(new Error(`cairn-hub did not start: ${stderr}`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cairn-hub exited with ${code}: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/^cairn-hub listening on (http:\/\/\S+)$/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
  });
}

/** Kills a hub's process at once (SIGKILL, as a crash), without its exit handler complaining. */
export function killHub(child) {
  child.removeAllListeners('exit');
  child.kill('SIGKILL');
}

async function serve(opts) {
  return startServer({ host: '127.0.0.1', port: 0, log: false, ...opts });
}

/**
 * Starts hub + authenticator + demo + Chromium for the current test file (before/after
 * hooks) and returns an object filled in once they run:
 *   {hubUrl, auth, demo, demoServer, demoApi, browser, servers, tmp, startAuthenticator(opts)}
 * `auth` is "http://127.0.0.1:<port>" and `demo` "http://localhost:<port>" (no trailing slash).
 */
export function useStack() {
  const stack = { servers: [] };
  before(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    stack.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-e2e-'));
    const hub = await startHub(path.join(stack.tmp, 'hub'));
    stack.hub = hub.child;
    stack.hubUrl = hub.url;

    stack.startAuthenticator = async ({ csp = DEFAULT_CSP, frameOptions = 'DENY', keepOpener = ['/rpc.html'] } = {}) => {
      const server = await serve({
        mounts: [parseMount('/=www', repo), parseMount(`/pkg/=${pkgDir}`, repo)],
        csp,
        frameOptions,
        cors: ['/provider.js'],
        keepOpener,
        configJson: { hubUrl: stack.hubUrl },
      });
      stack.servers.push(server);
      return `http://127.0.0.1:${server.address().port}`;
    };
    stack.auth = await stack.startAuthenticator();

    stack.demoApi = createDemoApi({ cairn });
    const demo = await serve({
      mounts: [parseMount('/=demo', repo), parseMount(`/pkg/=${pkgDir}`, repo)],
      csp: demoCsp([stack.auth]),
      // It opens Cairn's wallet popup (connect.html) and must keep its handle on it.
      coop: 'same-origin-allow-popups',
      cors: ['/manifest.json', '/icon.png', '/icon.svg'],
      configJson: { authenticator: `${stack.auth}/` },
      api: stack.demoApi,
    });
    stack.servers.push(demo);
    stack.demoServer = demo;
    stack.demo = `http://localhost:${demo.address().port}`;

    stack.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await stack.browser?.close().catch(() => {});
    for (const s of stack.servers) {
      s.close();
      s.closeAllConnections?.();
    }
    if (stack.hub) killHub(stack.hub);
    if (stack.tmp) fs.rmSync(stack.tmp, { recursive: true, force: true });
  });
  return stack;
}

/** Makes a file-name-safe slug. */
function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** Saves tests/artifacts/screenshots/<test>-<step>.png. */
export async function shot(page, test, step) {
  const file = path.join(SCREENSHOTS, `${slug(test)}-${slug(step)}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Runs `fn({page, context, shot})` in a fresh browser context (a fresh profile). Page errors
 * and console errors are collected in `page.problems`; on failure a screenshot
 * `<name>-failed.png` is saved and the problems are printed.
 */
export async function withPage(stack, name, fn) {
  const context = await stack.browser.newContext({ viewport: { width: 960, height: 720 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.problems = [];
  const watch = (p) => {
    p.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error') page.problems.push(`console: ${m.text()}`);
    });
  };
  watch(page);
  context.on('page', watch);
  try {
    await fn({ page, context, shot: (step, p = page) => shot(p, name, step) });
  } catch (e) {
    await shot(page, name, 'failed').catch(() => {});
    if (page.problems.length) e.message += `\n  page problems:\n    ${page.problems.join('\n    ')}`;
    throw e;
  } finally {
    await context.close().catch(() => {});
  }
}

// ---- screens not landed yet ---------------------------------------------------------------
// The authenticator UI (crates/authenticator/src/, www/) landed in pieces. A test that needs a screen listed
// here is skipped with "waiting for <screen>" (never passed); remove a screen from the list
// once it is in the tree. Names: docs/AUTHENTICATOR_UI.md. Every screen the tests use is in.
export const PENDING = new Set([]);

/** The node:test options for a test that needs `screens`: {} or {skip: "waiting for …"}. */
export function needs(...screens) {
  const missing = screens.filter((s) => PENDING.has(s));
  return missing.length ? { skip: `waiting for ${missing.join(', ')}` } : {};
}

// ---- the page, through the contract's roles and names (docs/AUTHENTICATOR_UI.md) ----------

export const byRole = (page, role, name, opts = {}) => page.getByRole(role, { name, exact: true, ...opts });
export const passwordField = (page) => page.getByLabel('Password', { exact: true });
export const mainNav = (page) => byRole(page, 'navigation', 'Main');

/** Waits until the Home screen (navigation "Main") shows. */
export async function waitForHome(page) {
  await mainNav(page).waitFor({ timeout: SLOW });
}

/** Welcome → Restore: fills the Secret Key and the passwords, clicks Restore. */
export async function restore(page, words, password = PASSWORD, { url, shoot } = {}) {
  if (url) await page.goto(url);
  await byRole(page, 'button', 'Restore from Secret Key').click();
  await byRole(page, 'textbox', 'Secret Key').fill(words);
  await passwordField(page).fill(password);
  await page.getByLabel('Confirm password', { exact: true }).fill(password);
  if (shoot) await shoot('restore');
  await byRole(page, 'button', 'Restore').click();
}

/** Restores at the page's root and waits for Home. */
export async function restoreToHome(page, stack, words, password = PASSWORD, opts = {}) {
  await restore(page, words, password, { url: `${stack.auth}/`, ...opts });
  await waitForHome(page);
}

/**
 * Welcome → Create: reads the words from the list "Secret Key words", confirms the asked
 * "Word N" boxes, sets the password, clicks Create. Returns {words, asked}.
 * `beforeConfirm(asked, words)` may try wrong words first.
 */
export async function create(page, password = PASSWORD, { shoot, beforeConfirm } = {}) {
  await byRole(page, 'button', 'Create new Secret Key').click();
  await byRole(page, 'heading', 'Your Secret Key').waitFor();
  const items = byRole(page, 'list', 'Secret Key words').getByRole('listitem');
  const words = (await items.allTextContents()).map((w) => w.trim());
  assert.ok(words.length === 12 || words.length === 24, `expected 12 or 24 words, got ${words.length}`);
  if (shoot) await shoot('words');
  await byRole(page, 'button', 'I have written it down').click();
  await page.getByRole('textbox', { name: /^Word \d+$/ }).first().waitFor();
  const asked = [];
  for (let n = 1; n <= words.length; n++) {
    if ((await byRole(page, 'textbox', `Word ${n}`).count()) > 0) asked.push(n);
  }
  if (beforeConfirm) await beforeConfirm(asked, words);
  for (const n of asked) await byRole(page, 'textbox', `Word ${n}`).fill(words[n - 1]);
  if (shoot) await shoot('confirm');
  await byRole(page, 'button', 'Continue').click();
  await page.getByLabel('Confirm password', { exact: true }).waitFor();
  await passwordField(page).fill(password);
  await page.getByLabel('Confirm password', { exact: true }).fill(password);
  if (shoot) await shoot('password');
  await byRole(page, 'button', 'Create').click();
  return { words: words.join(' '), asked };
}

/** Unlock screen: password, Unlock. */
export async function unlock(page, password = PASSWORD) {
  await byRole(page, 'heading', 'Unlock Cairn').waitFor({ timeout: SLOW });
  await passwordField(page).fill(password);
  await byRole(page, 'button', 'Unlock').click();
}

/** The text of the first visible alert, waiting for one to appear. */
export async function alertText(page, timeout = SLOW) {
  const alert = page.getByRole('alert').filter({ hasText: /\S/ }).first();
  await alert.waitFor({ timeout });
  return (await alert.textContent()).trim();
}

/** Resolves true once `locator` is visible, false after `ms` without it. */
export async function appears(locator, ms) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: ms });
    return true;
  } catch {
    return false;
  }
}

// ---- app side -----------------------------------------------------------------------------

/**
 * An authRequest made by the real @stacks/auth for `origin` with a fresh transit key.
 * Returns {token, transit}.
 */
export function stacksAuthRequest(origin, {
  scopes = ['store_write', 'publish_data', 'email'],
  expiresAt = Date.now() + 3600_000,
  redirect = `${origin}/`,
  manifest = `${origin}/manifest.json`,
  name = 'Cairn Demo',
} = {}) {
  const transit = makeECPrivateKey();
  const token = makeAuthRequestToken(
    transit, redirect, manifest, scopes, origin, expiresAt,
    { appDetails: { name, icon: `${origin}/icon.png` } },
  );
  return { token, transit };
}

/** Records every request URL a context makes (for "no redirect ever happens" checks). */
export function recordRequests(context) {
  const urls = [];
  context.on('request', (r) => urls.push(r.url()));
  return urls;
}

/**
 * Records the accessible name (aria-label / aria-labelledby) of every progress bar any page of
 * the context ever shows, even for an instant or just before navigating away. Call before the
 * pages load. Returns the (live) list of names.
 */
export async function watchProgressbars(context) {
  const seen = [];
  await context.exposeBinding('__e2eProgress', (_source, name) => {
    seen.push(name);
  });
  await context.addInitScript(() => {
    const nameOf = (el) => el.getAttribute('aria-label')
      || (el.getAttribute('aria-labelledby') || '').split(/\s+/)
        .map((id) => document.getElementById(id)?.textContent || '').join(' ').trim();
    const check = (node) => {
      if (!(node instanceof Element)) return;
      for (const el of [node, ...node.querySelectorAll('progress, [role="progressbar"]')]) {
        if (el.matches('progress, [role="progressbar"]')) window.__e2eProgress(nameOf(el));
      }
    };
    new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach(check)))
      .observe(document, { childList: true, subtree: true });
  });
  return seen;
}

/** A fresh random Secret Key from Cairn's own generator. */
export function freshWords(count = 24) {
  return cairn.generateMnemonic(count);
}

/** The expected identity address and DID of identity `i` of a Secret Key. */
export function identityOf(words, i = 0) {
  const kc = cairn.Keychain.fromMnemonic(words);
  try {
    return { address: kc.identityAddress(i), did: kc.did(i) };
  } finally {
    kc.free();
  }
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The local "YYYY-MM-DDTHH:MM:SS" of a time (what a datetime-local field holds). */
export function localInput(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
