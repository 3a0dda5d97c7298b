// Reading and writing buckets on a Gaia hub straight from Node, with a bucket's own key
// (tokens made by Cairn's JS API): seeding identities for the move tests and comparing
// what two hubs hold. Used by move.test.mjs and move-scale.test.mjs.
import assert from 'node:assert/strict';
import { signECDSA } from '@stacks/encryption';
import { generateWallet } from '@stacks/wallet-sdk';
import { cairn } from './harness.mjs';

/** `GET <hub>/hub_info`. */
export const hubInfo = async (url) => (await fetch(`${url}/hub_info`)).json();

/** A bucket's address from its key. */
export const addressOf = (key) => cairn.publicKeyToAddress(cairn.publicKeyFromPrivate(key));

/** A path with each segment URL-encoded. */
const encodePath = (name) => name.split('/').map(encodeURIComponent).join('/');

/**
 * Lists a bucket (stat form, history included) with the bucket key's own token:
 * {address, info, names (sorted), entries}.
 */
export async function listBucket(hubUrl, key) {
  const info = await hubInfo(hubUrl);
  const token = cairn.gaiaAuthToken(key, info.challenge_text, { hubUrl });
  const address = addressOf(key);
  const entries = [];
  let page = null;
  for (;;) {
    const r = await fetch(`${hubUrl}/list-files/${address}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `bearer ${token}` },
      body: JSON.stringify({ page, stat: true }),
    });
    assert.equal(r.status, 202, `list ${address} on ${hubUrl}`);
    const j = await r.json();
    entries.push(...j.entries.filter(Boolean));
    if (!j.page || j.entries.length === 0) break;
    page = j.page;
  }
  return { address, info, names: entries.map((e) => e.name).sort(), entries };
}

/** A file's bytes from the hub's read URL (asserting it is there). */
export async function readFile(info, address, name) {
  const r = await fetch(`${info.read_url_prefix}${address}/${encodePath(name)}`, { cache: 'no-store' });
  assert.equal(r.status, 200, `read ${name}`);
  return Buffer.from(await r.arrayBuffer());
}

/**
 * A writer for one bucket on one hub: `(name, body, contentType?) => status`, with one
 * token made for the hub's challenge (`tokenOpts`: e.g. archival scopes).
 */
export async function bucketWriter(hubUrl, key, tokenOpts = {}) {
  const info = await hubInfo(hubUrl);
  const token = cairn.gaiaAuthToken(key, info.challenge_text, { hubUrl, ...tokenOpts });
  const address = addressOf(key);
  return async (name, body, contentType = 'application/octet-stream') => {
    const r = await fetch(`${hubUrl}/store/${address}/${encodePath(name)}`, {
      method: 'POST', headers: { 'Content-Type': contentType, Authorization: `bearer ${token}` }, body,
    });
    await r.arrayBuffer();
    return r.status;
  };
}

/** Stores one file with the bucket key's token (asserting it is accepted). */
export async function putFile(hubUrl, key, name, body, contentType = 'application/octet-stream', tokenOpts = {}) {
  const status = await (await bucketWriter(hubUrl, key, tokenOpts))(name, body, contentType);
  assert.ok(status >= 200 && status < 300, `store ${name}: ${status}`);
}

/** Identity `i`'s key (its data key, as @stacks/wallet-sdk derives it). */
export async function identityKey(words, i = 0) {
  const wallet = await generateWallet({ secretKey: words, password: 'e2e-buckets' });
  return wallet.accounts[i].dataPrivateKey.slice(0, 64);
}

/** The STX key of identity `i` (hex, 64 chars): it signs `profile.json`, as wallet-sdk does. */
export async function stxKey(words, i = 0) {
  const wallet = await generateWallet({ secretKey: words, password: 'e2e-buckets' });
  return wallet.accounts[i].stxPrivateKey.slice(0, 64);
}

/** Writes identity 0's settings file as Cairn signs it (ECIES to the identity key, signed). */
export async function putSettings(hubUrl, words, settings) {
  const dataKey = await identityKey(words);
  const cipherText = cairn.encryptECIES(cairn.publicKeyFromPrivate(dataKey), JSON.stringify(settings));
  const { publicKey, signature } = signECDSA(dataKey, cipherText);
  await putFile(hubUrl, dataKey, 'cairn/settings.json', JSON.stringify({ signature, publicKey, cipherText }), 'application/json');
  return dataKey;
}

/** Runs `fn` on every item, at most `n` at a time; resolves to the results in order. */
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}
