// (8) Framing the consent page does not let it approve.
//  a) As ./run serves it (CSP frame-ancestors 'none' + X-Frame-Options: DENY), a page on
//     another site (http://localhost:…) or on the same site (http://127.0.0.1:<other port>)
//     that iframes the consent URL gets nothing: no frame shows an Approve button.
//  b) Even when served carelessly without those headers, the page notices it is framed
//     (window.top !== window.self) and shows only the heading "Cairn can't sign you in from
//     inside another page": no Approve, no Unlock, no other screen — with an unlocked vault
//     in the same tab and site, from a locked tab, and for the plain page.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, parseMount, DEFAULT_CSP } from '../../../scripts/serve.mjs';
import {
  useStack, withPage, repo, freshWords, restoreToHome, stacksAuthRequest, recordRequests,
  appears, SLOW,
  needs,
} from './harness.mjs';

const stack = useStack();
let attackerPort;

before(async () => {
  // The framing page: it may frame anything.
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    log: false,
    mounts: [parseMount('/=' + path.join('tests', 'node', 'e2e', 'fixtures'), repo)],
    csp: "default-src 'self'; frame-src http: https:",
    frameOptions: null,
  });
  stack.servers.push(server);
  attackerPort = server.address().port;
});

const REFUSAL = /Cairn can.t sign you in from inside another page/;

/** Approve buttons in any frame of the page (0 when the frame is blocked). */
async function approveButtons(page) {
  let n = 0;
  for (const frame of page.frames()) {
    n += await frame.getByRole('button', { name: 'Approve' }).count().catch(() => 0);
  }
  return n;
}

test('(8a) the consent page refuses to load in a frame (CSP frame-ancestors, X-Frame-Options)', needs('Restore', 'Home'), async () => {
  await withPage(stack, 'framing-headers', async ({ page, context, shot }) => {
    await restoreToHome(page, stack, freshWords(12));
    const urls = recordRequests(context);
    const { token } = stacksAuthRequest(stack.demo);
    const consent = `${stack.auth}/?authRequest=${token}`;
    for (const attacker of [`http://localhost:${attackerPort}`, `http://127.0.0.1:${attackerPort}`]) {
      const framed = [];
      const onResponse = (r) => {
        if (r.url() === consent) framed.push(r);
      };
      page.on('response', onResponse);
      await page.goto(`${attacker}/framer.html?src=${encodeURIComponent(consent)}`);
      await page.waitForFunction(() => document.body.dataset.loaded === 'true', null, { timeout: SLOW });
      page.off('response', onResponse);
      // The page was requested and answered with the anti-framing headers...
      assert.ok(framed.length >= 1, 'the frame requested the consent page');
      const headers = framed[0].headers();
      assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
      assert.equal(headers['x-frame-options'], 'DENY');
      // ...so nothing of it renders: no Approve anywhere, now or a little later.
      assert.equal(await approveButtons(page), 0);
      await page.waitForTimeout(1500);
      assert.equal(await approveButtons(page), 0, `${attacker}: an Approve button in the frame`);
      const child = page.frames().find((f) => f !== page.mainFrame());
      assert.ok(child, 'the iframe exists');
      assert.equal(await child.locator('#cairn-root').count().catch(() => 0), 0, 'the page did not render in the frame');
      await shot(attacker.includes('localhost') ? 'cross-site' : 'same-site');
    }
    assert.deepEqual(urls.filter((u) => u.includes('authResponse')), []);
  });
});

test('(8b) served without anti-framing headers, the framed page still refuses to do anything', needs('Restore', 'Home', 'Framed'), async () => {
  const relaxed = await stack.startAuthenticator({
    csp: DEFAULT_CSP.replace(/;\s*frame-ancestors 'none'/, ''),
    frameOptions: null,
  });
  await withPage(stack, 'framing-script', async ({ page, context, shot }) => {
    // A vault and an unlocked session for the relaxed origin, in this tab.
    await restoreToHome(page, { ...stack, auth: relaxed }, freshWords(12));
    const urls = recordRequests(context);
    const { token } = stacksAuthRequest(stack.demo);
    const consent = `${relaxed}/?authRequest=${token}`;
    // Same site as the authenticator (127.0.0.1), so the frame sees its storage and, in
    // this tab, its unlocked session; then from another tab (locked), then the plain page.
    const framer = (src) => `http://127.0.0.1:${attackerPort}/framer.html?src=${encodeURIComponent(src)}`;
    const other = await context.newPage();
    for (const [label, tab, src] of [['unlocked', page, consent], ['locked', other, consent], ['home', page, `${relaxed}/`]]) {
      await tab.goto(framer(src));
      const frame = tab.frameLocator('#victim');
      await frame.getByRole('heading', { name: REFUSAL }).waitFor({ timeout: SLOW });
      // Only the refusal: no Approve, no Unlock, no password or Secret Key field, no navigation.
      await tab.waitForTimeout(500);
      assert.equal(await frame.getByRole('button').count(), 0, `${label}: a button in the framed page`);
      assert.equal(await frame.getByRole('textbox').count(), 0, `${label}: a text box in the framed page`);
      assert.equal(await frame.getByLabel('Password', { exact: true }).count(), 0, `${label}: a password field`);
      assert.equal(await frame.getByRole('navigation').count(), 0, `${label}: navigation in the framed page`);
      assert.equal(await appears(frame.getByRole('button', { name: 'Approve' }), 1000), false);
      await shot(`refused-${label}`, tab);
    }
    assert.deepEqual(urls.filter((u) => u.includes('authResponse')), []);
  });
});
