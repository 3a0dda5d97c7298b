// Cairn Demo: a tiny app that signs in with the Cairn authenticator through Cairn's app-side
// API (pkg/cairn.js), shows who signed in, and writes and reads `note.txt` in its own Gaia
// bucket with the credentials the sign-in returned (app private key, hub URL, association
// token). An ES module: the page's CSP forbids inline scripts.
import init, { makeAuthRequest, handleAuthResponse, gaiaAuthToken, bucketAddress } from '/pkg/cairn.js';

// DEMO ONLY: the transit key (between "Sign in" and the redirect back) and the signed-in
// user (including the app private key) are kept in sessionStorage, so they last for this
// tab only. That is what many Stacks apps do with localStorage; a production app should
// think harder about where its app key lives (e.g. a non-extractable WebCrypto wrapping key).
const TRANSIT_KEY = 'cairn-demo.transitPrivateKey';
const SESSION_KEY = 'cairn-demo.user';
const DEFAULT_AUTHENTICATOR = 'http://127.0.0.1:8888/';
const NOTE_PATH = 'note.txt';

const $ = (id) => document.getElementById(id);
const status = $('status');
const error = $('error');

function say(text) {
  status.textContent = text;
}

function fail(e) {
  error.textContent = e instanceof Error ? e.message : String(e);
  error.hidden = false;
}

function clearError() {
  error.hidden = true;
  error.textContent = '';
}

/** The authenticator URL from this app's own config.json (./run and the tests set it). */
async function loadConfig() {
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (res.ok) {
      const cfg = await res.json();
      if (typeof cfg.authenticator === 'string') return cfg;
    }
  } catch {
    // fall through to the default
  }
  return { authenticator: DEFAULT_AUTHENTICATOR };
}

function loadUser() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  } catch {
    return null;
  }
}

function render(user) {
  $('signed-out').hidden = !!user;
  $('signed-in').hidden = !user;
  if (!user) return;
  $('who').textContent = `Signed in as ${user.identityAddress}`;
  $('hub-url').textContent = user.hubUrl;
  $('bucket').textContent = bucketAddress(user.appPrivateKey);
  $('profile-url').textContent = user.profileUrl || '(none: the hub was not reachable at sign-in)';
}

function signIn(config) {
  clearError();
  const origin = location.origin;
  const { authRequest, transitPrivateKey } = makeAuthRequest({
    appDomain: origin,
    redirectUri: `${origin}/`,
    manifestUri: `${origin}/manifest.json`,
    scopes: ['store_write', 'publish_data', 'email'],
    appName: 'Cairn Demo',
    appIcon: `${origin}/icon.png`,
  });
  sessionStorage.setItem(TRANSIT_KEY, transitPrivateKey);
  const target = new URL(config.authenticator);
  target.searchParams.set('authRequest', authRequest);
  say('Opening Cairn…');
  location.href = target.href;
}

/** Finishes a sign-in when the authenticator sent us back with ?authResponse=. */
function finishSignIn(token) {
  // Whatever happens, the response must not stay in the address bar or the history.
  history.replaceState(null, '', location.pathname);
  const transit = sessionStorage.getItem(TRANSIT_KEY);
  if (!transit) throw new Error('This sign-in response was not requested from this tab. Sign in again.');
  sessionStorage.removeItem(TRANSIT_KEY);
  const user = handleAuthResponse(token, transit);
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(user));
  return user;
}

function hubBase(hubUrl) {
  return hubUrl.replace(/\/+$/, '');
}

/** hub_info, then a v1 Gaia token for the app bucket (with the association token). */
async function connect(user) {
  const res = await fetch(`${hubBase(user.hubUrl)}/hub_info`, { cache: 'no-store' });
  if (!res.ok) throw new Error(`the hub answered ${res.status} to hub_info`);
  const info = await res.json();
  const token = gaiaAuthToken(user.appPrivateKey, info.challenge_text, {
    hubUrl: user.hubUrl,
    associationToken: user.associationToken || undefined,
  });
  return { token, address: bucketAddress(user.appPrivateKey), readPrefix: info.read_url_prefix };
}

async function saveNote(user) {
  const hub = await connect(user);
  const text = $('note').value;
  const res = await fetch(`${hubBase(user.hubUrl)}/store/${hub.address}/${NOTE_PATH}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain; charset=utf-8', Authorization: `bearer ${hub.token}` },
    body: text,
  });
  if (!res.ok) throw new Error(`the hub refused the write (${res.status}): ${await res.text()}`);
  const { publicURL } = await res.json();
  say(`Saved ${NOTE_PATH} (${new TextEncoder().encode(text).length} bytes) at ${publicURL}`);
}

async function loadNote(user) {
  const hub = await connect(user);
  const res = await fetch(`${hub.readPrefix}${hub.address}/${NOTE_PATH}`, { cache: 'no-store' });
  if (res.status === 404) {
    say('No note saved yet.');
    return;
  }
  if (!res.ok) throw new Error(`the hub answered ${res.status} when reading the note`);
  $('note').value = await res.text();
  say(`Loaded ${NOTE_PATH}.`);
}

/** Runs an action with the buttons disabled and errors shown in the alert. */
async function busy(action) {
  clearError();
  const buttons = [...document.querySelectorAll('button')];
  buttons.forEach((b) => (b.disabled = true));
  try {
    await action();
  } catch (e) {
    fail(e);
    say('');
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

async function main() {
  await init();
  const config = await loadConfig();
  let user = loadUser();
  const response = new URLSearchParams(location.search).get('authResponse');
  if (response) {
    try {
      user = finishSignIn(response);
      say('Signed in.');
    } catch (e) {
      fail(e);
    }
  } else {
    say(user ? '' : 'Not signed in.');
  }
  render(user);

  $('sign-in').addEventListener('click', () => busy(async () => signIn(config)));
  $('save').addEventListener('click', () => busy(() => saveNote(user)));
  $('load').addEventListener('click', () => busy(() => loadNote(user)));
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(SESSION_KEY);
    user = null;
    $('note').value = '';
    clearError();
    render(null);
    say('Signed out.');
  });
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  fail(e);
  say('');
});
