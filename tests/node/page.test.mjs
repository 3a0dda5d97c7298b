// The authenticator page as ./run serves it (scripts/serve.mjs on www/ and pkg/), loaded in
// headless Chromium (Debian /usr/bin/chromium via playwright-core, no browser download):
// the module loads under the strict CSP and reports "ready", with no console errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer, parseMount } from '../../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

let server;
let browser;
let base;

before(async () => {
  assert.ok(fs.existsSync(path.join(repo, 'pkg', 'cairn_bg.wasm')), 'pkg/ missing: run scripts/build-wasm.sh first');
  server = await startServer({
    port: 0,
    mounts: [parseMount('/=www', repo), parseMount('/pkg/=pkg', repo)],
    log: false,
  });
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
  server?.closeAllConnections?.();
});

test('the page loads the wasm module under the CSP and says ready', async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  const response = await page.goto(`${base}/`);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'], /script-src 'self' 'wasm-unsafe-eval'/);
  await page.waitForFunction(() => document.getElementById('cairn-status')?.dataset.state, null, { timeout: 15000 });
  assert.equal(await page.textContent('#cairn-status'), 'ready');
  assert.equal(await page.textContent('h1'), 'Cairn — authenticator');
  assert.equal(await page.title(), 'Cairn — authenticator');
  assert.deepEqual(problems, []);
  await page.close();
});
