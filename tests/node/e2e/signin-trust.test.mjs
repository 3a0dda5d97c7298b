// What the consent screen does to be trusted (docs/AUTHENTICATOR_UI.md, "Consent"):
//  - without a referrer, Cairn can't confirm which site made the request, and says so;
//  - Approve is disabled until the screen has been visible for 500 ms in a focused window
//    (again after every loss of focus); a click before that is ignored;
//  - the page is served with Cross-Origin-Opener-Policy: same-origin and a CSP requiring
//    Trusted Types, and still works (the KDF worker, the wasm glue, the sign-in).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useStack, withPage, restoreToHome, freshWords, stacksAuthRequest, byRole, watchProgressbars,
  recordRequests, sleep, SLOW,
} from './harness.mjs';

const stack = useStack();

/** Records, in the page, when the Approve button appears and each change of its `disabled`. */
function recordApprove() {
  window.__approve = { events: [] };
  const seen = new WeakSet();
  const watch = (btn) => {
    if (seen.has(btn)) return;
    seen.add(btn);
    const log = window.__approve;
    log.appearedAt = performance.now();
    log.disabledAtAppear = btn.disabled;
    // A click the moment the screen appears (a double-click's second half): both kinds.
    btn.click();
    btn.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
    new MutationObserver(() => log.events.push({ at: performance.now(), disabled: btn.disabled }))
      .observe(btn, { attributes: true, attributeFilter: ['disabled'] });
  };
  new MutationObserver(() => {
    for (const b of document.querySelectorAll('button')) {
      if (b.textContent.trim() === 'Approve') watch(b);
    }
  }).observe(document, { childList: true, subtree: true });
}

/** Waits for the redirect to the app carrying an authResponse; returns its URL. */
async function catchResponse(page, origin) {
  let resolveUrl;
  const url = new Promise((r) => (resolveUrl = r));
  await page.route(
    (u) => u.origin === origin && u.searchParams.has('authResponse'),
    async (route) => {
      resolveUrl(route.request().url());
      await route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>app</title>' });
    },
  );
  return url;
}

test('without a referrer the consent screen says Cairn cannot confirm the origin; with one it does not', async () => {
  await withPage(stack, 'signin-trust-referrer', async ({ page, shot }) => {
    await restoreToHome(page, stack, freshWords(12));
    const { token } = stacksAuthRequest(stack.demo);
    const warning = `Cairn can't confirm that this request comes from ${stack.demo}`;

    await page.goto(`${stack.auth}/?authRequest=${token}`);
    await byRole(page, 'heading', 'Sign in to Cairn Demo').waitFor({ timeout: SLOW });
    await page.getByText(warning, { exact: true }).waitFor();
    // The origin is shown as the request states it.
    await page.getByText(`Cairn Demo at ${stack.demo} wants to:`).waitFor();
    await shot('consent-no-referrer');

    await page.goto(`${stack.auth}/?authRequest=${token}`, { referer: `${stack.demo}/` });
    await byRole(page, 'heading', 'Sign in to Cairn Demo').waitFor({ timeout: SLOW });
    await byRole(page, 'button', 'Approve').waitFor();
    assert.equal(await page.getByText(warning).count(), 0, 'no warning when the referrer is the app');
  });
});

test('Approve is disabled for the first 500 ms; a click then is ignored; after that it signs in', async () => {
  await withPage(stack, 'signin-trust-delay', async ({ page, context }) => {
    const progress = await watchProgressbars(context);
    await restoreToHome(page, stack, freshWords(12));
    const urls = recordRequests(context);
    await context.addInitScript(recordApprove);
    const { token } = stacksAuthRequest(stack.demo, { scopes: ['store_write'] });
    const responseUrl = catchResponse(page, stack.demo);

    await page.goto(`${stack.auth}/?authRequest=${token}`);
    const approve = byRole(page, 'button', 'Approve');
    await approve.waitFor({ timeout: SLOW });
    assert.equal(
      await page.evaluate(() => window.__approve.disabledAtAppear), true,
      'Approve is disabled when the screen appears',
    );
    await page.waitForFunction(() => window.__approve.events.some((e) => !e.disabled));
    const log = await page.evaluate(() => window.__approve);
    const enabled = log.events.find((e) => !e.disabled);
    assert.ok(enabled.at - log.appearedAt >= 495, `enabled after ${enabled.at - log.appearedAt} ms`);
    // The clicks made the moment it appeared did nothing.
    await sleep(300);
    assert.ok(!progress.includes('Signing in'), 'no sign-in started from the early clicks');
    assert.deepEqual(urls.filter((u) => u.includes('authResponse')), []);
    assert.equal(await byRole(page, 'heading', 'Sign in to Cairn Demo').count(), 1);

    await approve.click();
    let timer;
    const url = new URL(await Promise.race([
      responseUrl,
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error('no redirect to the app with authResponse')), SLOW);
      }),
    ]).finally(() => clearTimeout(timer)));
    assert.ok(url.searchParams.get('authResponse'));
  });
});

test('Approve needs the window to have focus, for 500 ms after it regains it', async () => {
  await withPage(stack, 'signin-trust-focus', async ({ page, context }) => {
    await restoreToHome(page, stack, freshWords(12));
    // The window behind another (popup-under): document.hasFocus() is false.
    await context.addInitScript(() => {
      window.__focused = false;
      Document.prototype.hasFocus = function hasFocus() {
        return window.__focused;
      };
    });
    const { token } = stacksAuthRequest(stack.demo, { scopes: ['store_write'] });
    await page.goto(`${stack.auth}/?authRequest=${token}`);
    const approve = byRole(page, 'button', 'Approve');
    await approve.waitFor({ timeout: SLOW });
    await sleep(1500);
    assert.equal(await approve.isDisabled(), true, 'disabled while the window has no focus');

    const t0 = await page.evaluate(() => {
      window.__focused = true;
      return performance.now();
    });
    await page.waitForFunction(() => !document.querySelector('.consent .btn.primary').disabled);
    const t1 = await page.evaluate(() => performance.now());
    assert.ok(t1 - t0 >= 495, `enabled ${t1 - t0} ms after the window got focus`);

    // Losing focus disables it again at once; regaining it starts the 500 ms again.
    await page.evaluate(() => {
      window.__focused = false;
    });
    await page.waitForFunction(() => document.querySelector('.consent .btn.primary').disabled, null, { timeout: 1000 });
    await page.evaluate(() => {
      window.__focused = true;
    });
    await sleep(200);
    assert.equal(await approve.isDisabled(), true, 'still disabled 200 ms after focus came back');
    await page.waitForFunction(() => !document.querySelector('.consent .btn.primary').disabled);
  });
});

test('served with COOP same-origin and a Trusted Types CSP; the page, its worker and a sign-in still work', async () => {
  await withPage(stack, 'signin-trust-headers', async ({ page, context }) => {
    const response = await page.goto(`${stack.auth}/`);
    const headers = response.headers();
    assert.equal(headers['cross-origin-opener-policy'], 'same-origin');
    const csp = headers['content-security-policy'];
    assert.match(csp, /(^|; )require-trusted-types-for 'script'(;|$)/);
    assert.match(csp, /(^|; )trusted-types default(;|$)/);
    assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/);

    // The page works: Restore runs the KDF worker; a sign-in completes.
    await restoreToHome(page, stack, freshWords(12));
    const { token } = stacksAuthRequest(stack.demo, { scopes: ['store_write'] });
    const responseUrl = catchResponse(page, stack.demo);
    await page.goto(`${stack.auth}/?authRequest=${token}`);
    await byRole(page, 'button', 'Approve').click({ timeout: SLOW });
    let timer;
    const url = new URL(await Promise.race([
      responseUrl,
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error('no redirect to the app with authResponse')), SLOW);
      }),
    ]).finally(() => clearTimeout(timer)));
    assert.ok(url.searchParams.get('authResponse'));
    assert.deepEqual(page.problems, [], 'no page errors (Trusted Types violations would be)');

    // Trusted Types are enforced (on another page: Chromium logs each violation).
    const probe = await context.newPage();
    await probe.goto(`${stack.auth}/`);
    // Trusted Types are enforced: a string reaching innerHTML throws.
    const sink = await probe.evaluate(() => {
      try {
        document.createElement('div').innerHTML = '<b>x</b>';
        return 'allowed';
      } catch (e) {
        return e.name;
      }
    });
    assert.equal(sink, 'TypeError');
    // ...and so does a worker from any other script URL.
    const worker = await probe.evaluate(() => {
      try {
        new Worker('/main.js', { type: 'module' }).terminate();
        return 'allowed';
      } catch (e) {
        return e.name;
      }
    });
    assert.equal(worker, 'TypeError');

    // COOP: a page of another origin that opens Cairn gets no handle on it.
    const opener = await context.newPage();
    await opener.goto(`${stack.demo}/`);
    const popupPage = context.waitForEvent('page');
    const closedSeen = await opener.evaluate(async (auth) => {
      const w = window.open(`${auth}/`);
      await new Promise((r) => setTimeout(r, 1500));
      return w === null || w.closed;
    }, stack.auth);
    const popup = await popupPage;
    await popup.waitForLoadState();
    assert.equal(closedSeen, true, 'the opener sees the Cairn window as closed');
    assert.equal(await popup.evaluate(() => window.opener), null, 'Cairn has no window.opener');
  });
});
