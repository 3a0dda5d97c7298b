// Cairn Demo, the Connect 8 page: the real @stacks/connect 8 (window.Stacks, bundled by
// scripts/build-demo.mjs) with Cairn's provider (loaded from the authenticator's
// /provider.js, which lists Cairn in Connect's wallet picker).
//  - Connect a wallet: Connect's own picker; the address it answers is shown.
//  - Sign a message / Sign structured data: stx_signMessage / stx_signStructuredMessage.
//  - Save note / Load note: stx_getAccounts gives this site's Gaia app key and hub URL;
//    @stacks/storage writes and reads note.txt in the app's bucket. The key stays in this
//    page's memory (never stored, never sent to the demo server).
//  - Sign in to the demo server: GET /api/nonce, a Sign-In with Stacks message made with
//    Cairn's createSignInMessage, signed by the wallet (stx_signMessage), POST /api/session;
//    the server verifies it and answers the address ("Verified as SP…").
import init, { createSignInMessage, stacksChainIds } from '/pkg/cairn.js';

const NOTE_PATH = 'note.txt';
const DEFAULT_AUTHENTICATOR = 'http://127.0.0.1:8888/';
const $ = (id) => document.getElementById(id);
const S = window.Stacks;

let address = null;
let hubConfig = null; // {server, token, address, url_prefix}: in memory only

function say(text) {
  $('status').textContent = text;
}

function fail(e) {
  $('error').textContent = e instanceof Error ? e.message : String(e?.message ?? e);
  $('error').hidden = false;
  say('');
}

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

/** The STX address Connect remembered (mainnet first), or null. */
function rememberedAddress() {
  const stx = S.getLocalStorage()?.addresses?.stx ?? [];
  return (stx.find((a) => a.address.startsWith('SP')) ?? stx[0])?.address ?? null;
}

function render() {
  const connected = address !== null;
  $('not-connected').hidden = connected;
  $('connected').hidden = !connected;
  $('disconnect').hidden = !connected;
  $('connect').hidden = connected;
  $('actions').hidden = !connected;
  $('address').textContent = address ?? '';
}

function showServerSession(who) {
  $('server-session').textContent = who ? `Verified as ${who}` : 'Not signed in to the demo server.';
  $('server-sign-out').hidden = !who;
}

async function connectWallet() {
  const { addresses } = await S.connect();
  const stx = addresses.filter((a) => a.symbol === 'STX' || /^S[PT]/.test(a.address));
  address = (stx.find((a) => a.address.startsWith('SP')) ?? stx[0])?.address ?? null;
  if (!address) throw new Error('The wallet answered no Stacks address.');
  render();
  say(`Connected as ${address}.`);
}

function showSignature(what, { signature, publicKey }) {
  $('signed-what').textContent = what;
  $('signature').textContent = signature;
  $('public-key').textContent = publicKey;
  $('signature-out').hidden = false;
}

async function signMessage() {
  const message = $('message').value;
  const result = await S.request('stx_signMessage', { message });
  showSignature('the message', result);
  say('Message signed.');
}

async function signStructured() {
  const { Cl } = S;
  const message = Cl.tuple({ app: Cl.stringAscii('Cairn Demo'), message: Cl.stringUtf8($('message').value) });
  const domain = Cl.tuple({ name: Cl.stringAscii('Cairn Demo'), version: Cl.stringAscii('1.0.0'), 'chain-id': Cl.uint(1) });
  const result = await S.request('stx_signStructuredMessage', { message, domain });
  showSignature('structured data (a Clarity tuple)', result);
  say('Structured data signed.');
}

/** This site's Gaia hub config, from the wallet's gaiaAppKey and gaiaHubUrl (asked once). */
async function hub() {
  if (hubConfig) return hubConfig;
  const { accounts } = await S.request('stx_getAccounts');
  const account = accounts?.[0];
  if (!account?.gaiaAppKey || !account?.gaiaHubUrl) throw new Error('The wallet gave no Gaia app key or hub URL.');
  hubConfig = await S.connectToGaiaHub(account.gaiaHubUrl, account.gaiaAppKey);
  return hubConfig;
}

async function saveNote() {
  const text = $('note').value;
  const cfg = await hub();
  // Not a new file (no If-None-Match), so saving again overwrites.
  const { publicURL } = await S.uploadToGaiaHub(NOTE_PATH, text, cfg, 'text/plain; charset=utf-8', false);
  say(`Saved ${NOTE_PATH} (${new TextEncoder().encode(text).length} bytes) at ${publicURL}`);
}

async function loadNote() {
  const cfg = await hub();
  const res = await fetch(await S.getFullReadUrl(NOTE_PATH, cfg), { cache: 'no-store' });
  if (res.status === 404) {
    say('No note saved yet.');
    return;
  }
  if (!res.ok) throw new Error(`the hub answered ${res.status} when reading the note`);
  $('note').value = await res.text();
  say(`Loaded ${NOTE_PATH}.`);
}

async function api(method, body) {
  const res = await fetch('/api/session', {
    method,
    cache: 'no-store',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = await res.json().catch(() => ({}));
  return { ok: res.ok, status: res.status, answer };
}

async function serverSignIn() {
  const res = await fetch('/api/nonce', { cache: 'no-store' });
  if (!res.ok) throw new Error(`the demo server answered ${res.status} for a nonce`);
  const { nonce, expiresAt } = await res.json();
  const message = createSignInMessage({
    domain: location.host,
    address,
    statement: 'Sign in to the Cairn Demo server.',
    uri: `${location.origin}/`,
    version: '1',
    chainId: address.startsWith('ST') ? stacksChainIds().testnet : stacksChainIds().mainnet,
    nonce,
    issuedAt: new Date().toISOString(),
    expirationTime: expiresAt,
  });
  const { signature } = await S.request('stx_signMessage', { message });
  const r = await api('POST', { message, signature });
  if (!r.ok) {
    const e = r.answer.error ?? {};
    throw new Error(`The demo server refused the sign-in (${e.code ?? r.status}): ${e.message ?? ''}`);
  }
  showServerSession(r.answer.address);
  say('Signed in to the demo server.');
}

async function serverSignOut() {
  await api('DELETE');
  showServerSession(null);
  say('Signed out of the demo server.');
}

/** Runs an action with the buttons disabled and errors shown in the alert. */
async function busy(action) {
  $('error').hidden = true;
  $('error').textContent = '';
  const buttons = [...document.querySelectorAll('main button')];
  buttons.forEach((b) => (b.disabled = true));
  try {
    await action();
  } catch (e) {
    fail(e);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

async function main() {
  if (!S) throw new Error('The Connect bundle /vendor/stacks.js is missing: run node scripts/build-demo.mjs (./run does).');
  await init();
  const config = await loadConfig();
  // Cairn's provider (window.CairnProvider, listed in Connect's picker), from the authenticator.
  await import(new URL('provider.js', config.authenticator).href);
  address = rememberedAddress();
  render();
  const session = await api('GET');
  showServerSession(session.ok ? session.answer.address ?? null : null);
  say(address ? `Connected as ${address}.` : '');

  $('connect').addEventListener('click', () => busy(connectWallet));
  $('disconnect').addEventListener('click', () => {
    S.disconnect();
    address = null;
    hubConfig = null;
    render();
    say('Disconnected.');
  });
  $('sign-message').addEventListener('click', () => busy(signMessage));
  $('sign-structured').addEventListener('click', () => busy(signStructured));
  $('save').addEventListener('click', () => busy(saveNote));
  $('load').addEventListener('click', () => busy(loadNote));
  $('server-sign-in').addEventListener('click', () => busy(serverSignIn));
  $('server-sign-out').addEventListener('click', () => busy(serverSignOut));
  document.body.dataset.ready = 'true';
}

main().catch(fail);
