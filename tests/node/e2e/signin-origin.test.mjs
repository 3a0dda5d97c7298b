// A sign-in request must come from the app it names: when the browser reports the page
// that sent the user (document.referrer), its origin must be the request's domain_name.
// No referrer (e.g. a no-referrer policy) means the check cannot be made: the consent
// screen then says so (signin-trust.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useStack, withPage, restoreToHome, freshWords, stacksAuthRequest, byRole, alertText, SLOW,
} from './harness.mjs';

const stack = useStack();

test('a request sent by another site is refused; one sent by the app itself is shown', async () => {
  await withPage(stack, 'signin-origin', async ({ page, shot }) => {
    await restoreToHome(page, stack, freshWords(12));
    const { token } = stacksAuthRequest(stack.demo);

    await page.goto(`${stack.auth}/?authRequest=${token}`, { referer: 'http://127.0.0.2:9/phish.html' });
    await byRole(page, 'heading', "This sign-in request can't be used").waitFor({ timeout: SLOW });
    const text = await alertText(page);
    assert.match(text, new RegExp(`says it comes from ${stack.demo.replace(/[.]/g, '\\.')}, but it was sent by http://127\\.0\\.0\\.2:9`));
    assert.equal(await byRole(page, 'button', 'Approve').count(), 0);
    await shot('sent-by-another-site');

    await page.goto(`${stack.auth}/?authRequest=${token}`, { referer: `${stack.demo}/` });
    await byRole(page, 'button', 'Approve').waitFor({ timeout: SLOW });
  });
});
