// The demo server's API (scripts/serve.mjs --demo-api): Sign-In with Stacks for the demo
// app, verified with Cairn's own library (the npm package's JS API, pkg/cairn.js, in Node).
//
//   GET    /api/nonce    → {nonce, expiresAt, domain, uri, chainId}: a fresh random nonce,
//                          single use, valid for 5 minutes
//   POST   /api/session  {message, signature} (application/json) → {address}: the message
//                          is parsed and verified (domain, nonce, times, chain, signature), the
//                          nonce is marked used, and an `HttpOnly; SameSite=Strict` session
//                          cookie is set; a replayed message gets 409 `nonce_used`
//   GET    /api/session  → {address, expiresAt} of the session cookie ({address: null}
//                          without a session)
//   DELETE /api/session  → ends the session (the cookie is cleared)
//
// Errors answer {error: {code, message, line?}} with a 4xx status; `code` is the failed
// check (the library's codes, e.g. `domain_mismatch`, `bad_signature`, plus this server's
// `unknown_nonce`, `nonce_expired`, `nonce_used`, `uri_mismatch`, `cross_origin`).
//
// What the server gets is a signed text and an address: nothing that can act for the user
// (no app key, no Gaia token, no authResponse). State is in memory (a demo): a restart
// forgets nonces and sessions.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** How long a nonce may be used after GET /api/nonce. */
export const NONCE_TTL_MS = 5 * 60_000;
/** How long a used nonce is remembered (a replay within this time gets `nonce_used`). */
export const USED_TTL_MS = 24 * 3600_000;
/** How long a session lasts. */
export const SESSION_TTL_MS = 3600_000;
/** The session cookie's name. */
export const SESSION_COOKIE = 'cairn_demo_session';
/** The largest request body read (a SIWS message is at most 16 KiB). */
export const MAX_BODY = 64 * 1024;
/** At most this many outstanding nonces, used nonces and sessions each (oldest dropped). */
export const MAX_ENTRIES = 10_000;

/** Loads Cairn's npm package (wasm-bindgen output in `pkgDir`) for Node. */
export async function loadCairn(pkgDir) {
  const cairn = await import(pathToFileURL(path.join(pkgDir, 'cairn.js')).href);
  cairn.initSync({ module: fs.readFileSync(path.join(pkgDir, 'cairn_bg.wasm')) });
  return cairn;
}

class ApiError extends Error {
  constructor(status, code, message, line) {
    super(message);
    this.status = status;
    this.code = code;
    this.line = line;
  }
}

/** A bounded map: entries expire at `expires`; past `MAX_ENTRIES` the oldest go first. */
class Expiring {
  constructor() {
    this.map = new Map();
  }
  prune(now) {
    for (const [k, v] of this.map) {
      if (v.expires <= now || this.map.size > MAX_ENTRIES) this.map.delete(k);
    }
  }
  set(key, value) {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > MAX_ENTRIES) this.map.delete(this.map.keys().next().value);
  }
  get(key) {
    return this.map.get(key);
  }
  delete(key) {
    this.map.delete(key);
  }
}

function readCookie(header, name) {
  for (const part of (header || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'too_large', `the request body is larger than ${MAX_BODY} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The demo API. `cairn`: Cairn's package (see loadCairn). `domain`: the authority the
 * demo is visited at (e.g. "localhost:3000"); when null, startServer sets it to
 * `localhost:<listening port>` (see `listening`). `chainId`: 1 (mainnet) unless told.
 * `now`: the clock (ms). Returns {handle(req, res, urlPath, headers) → Promise<boolean>
 * (false: not an API path), listening(port), domain, origin}.
 */
export function createDemoApi({ cairn, domain = null, chainId = 1, now = Date.now } = {}) {
  if (!cairn || typeof cairn.verifySignIn !== 'function') throw new Error('createDemoApi needs Cairn\'s package (loadCairn)');
  const nonces = new Expiring(); // outstanding: nonce → {validUntil, expires}
  const used = new Expiring(); // used: nonce → {expires}
  const sessions = new Expiring(); // cookie value → {address, expires}
  const api = {
    domain,
    get origin() {
      return `http://${api.domain}`;
    },
    /** Called by startServer once the port is known. */
    listening(port) {
      if (api.domain === null) api.domain = `localhost:${port}`;
    },
    handle,
  };

  function issueNonce() {
    const t = now();
    nonces.prune(t);
    // 128 random bits as 32 hex digits (EIP-4361: at least 8 alphanumerics).
    const nonce = crypto.randomBytes(16).toString('hex');
    const validUntil = t + NONCE_TTL_MS;
    // Remembered for another 5 minutes after it expires, to say "expired" rather than "unknown".
    nonces.set(nonce, { validUntil, expires: validUntil + NONCE_TTL_MS });
    return { nonce, expiresAt: new Date(validUntil).toISOString(), domain: api.domain, uri: `${api.origin}/`, chainId };
  }

  function verify(body) {
    let signed;
    try {
      signed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ApiError(400, 'bad_input', 'the body is not JSON');
    }
    const { message, signature } = signed || {};
    if (typeof message !== 'string' || typeof signature !== 'string') {
      throw new ApiError(400, 'bad_input', 'the body must be {"message": string, "signature": string}');
    }
    let fields;
    try {
      fields = cairn.parseSignInMessage(message);
    } catch (e) {
      throw new ApiError(400, e.code || 'malformed', e.message, e.line);
    }
    const t = now();
    nonces.prune(t);
    used.prune(t);
    if (used.get(fields.nonce)) {
      throw new ApiError(409, 'nonce_used', 'this sign-in message was already used (a replay): ask for a new nonce and sign again');
    }
    const issued = nonces.get(fields.nonce);
    if (!issued) {
      throw new ApiError(401, 'unknown_nonce', 'this server did not issue the message\'s nonce (or has forgotten it): ask for a new one');
    }
    if (issued.validUntil <= t) {
      throw new ApiError(401, 'nonce_expired', 'the nonce expired (5 minutes): ask for a new one');
    }
    let verified;
    try {
      verified = cairn.verifySignIn({ message, signature }, { domain: api.domain, nonce: fields.nonce, chainId, now: t });
    } catch (e) {
      throw new ApiError(401, e.code || 'bad_input', e.message, e.line);
    }
    let uriOrigin = null;
    try {
      uriOrigin = new URL(verified.fields.uri).origin;
    } catch {
      // left null: refused below
    }
    if (uriOrigin !== api.origin) {
      throw new ApiError(401, 'uri_mismatch', `the message's URI is not on ${api.origin}`);
    }
    // Single use: from here on the same message (or any other with this nonce) is a replay.
    nonces.delete(fields.nonce);
    used.set(fields.nonce, { expires: t + USED_TTL_MS });
    return verified;
  }

  async function handle(req, res, urlPath, headers) {
    if (urlPath !== '/api/nonce' && urlPath !== '/api/session') return false;
    const send = (status, obj, extra = {}) => {
      const body = Buffer.from(JSON.stringify(obj));
      res.writeHead(status, {
        ...headers,
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': body.length,
        ...extra,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const fail = (e) => {
      if (!(e instanceof ApiError)) e = new ApiError(500, 'internal', 'the server failed');
      const error = { code: e.code, message: e.message };
      if (e.line !== undefined) error.line = e.line;
      send(e.status, { error });
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        // A write from another site (the cookie is SameSite=Strict too): refused.
        const origin = req.headers.origin;
        if (origin !== undefined && origin !== api.origin) {
          throw new ApiError(403, 'cross_origin', `requests from ${origin} are not accepted`);
        }
      }
      if (urlPath === '/api/nonce') {
        if (req.method === 'GET') send(200, issueNonce());
        else send(405, { error: { code: 'method', message: 'use GET' } }, { Allow: 'GET' });
        return true;
      }
      const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (req.method === 'GET' || req.method === 'HEAD') {
        sessions.prune(now());
        const s = cookie && sessions.get(cookie);
        if (s) send(200, { address: s.address, expiresAt: new Date(s.expires).toISOString() });
        else send(200, { address: null });
      } else if (req.method === 'POST') {
        const type = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
        if (type !== 'application/json') throw new ApiError(415, 'bad_input', 'send the body as application/json');
        const verified = verify(await readBody(req));
        const token = crypto.randomBytes(32).toString('base64url');
        const expires = now() + SESSION_TTL_MS;
        sessions.set(token, { address: verified.address, expires });
        send(200, { address: verified.address, expiresAt: new Date(expires).toISOString() }, {
          'Set-Cookie': `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`,
        });
      } else if (req.method === 'DELETE') {
        if (cookie) sessions.delete(cookie);
        send(200, { signedOut: true }, { 'Set-Cookie': `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
      } else {
        send(405, { error: { code: 'method', message: 'use GET, POST or DELETE' } }, { Allow: 'GET, POST, DELETE' });
      }
    } catch (e) {
      fail(e);
    }
    return true;
  }

  return api;
}
