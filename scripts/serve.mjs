#!/usr/bin/env node
// A small static file server for local development (node:http, no dependencies).
//
//   node scripts/serve.mjs [--host 127.0.0.1] [--port 8888] [--mount /=www] [--mount /pkg/=pkg]
//                          [--csp "<policy>" | --csp-preset authenticator|demo] [--name authenticator]
//                          [--config-json '{"hubUrl": "http://127.0.0.1:4000"}'] [--cors /manifest.json]
//                          [--keep-opener /rpc.html] [--coop same-origin-allow-popups]
//                          [--allow-script ORIGIN]
//                          [--demo-api [--demo-domain localhost:3000]]
//
// Defaults: 127.0.0.1:8888, www/ at / and pkg/ at /pkg/ (paths relative to the repository).
// Environment: HOST, PORT, CSP override the defaults; flags override the environment.
// Every response carries a Content-Security-Policy (the strict authenticator policy unless
// told otherwise) and other security headers.
// --config-json serves that JSON at /config.json instead of any file, so ./run and the tests
// can point a page at a hub (or an authenticator) on any port.
// --cors PATH adds `Access-Control-Allow-Origin: *` to PATH (exact) or, for PATH ending in
// "/", to everything under it (e.g. the demo app's manifest.json, which the authenticator
// page fetches cross-origin).
// --keep-opener PATH serves PATH (exact) with `Cross-Origin-Opener-Policy: unsafe-none`
// instead: the wallet popup (/rpc.html), which must keep `window.opener` to answer the app
// that opened it (docs/SECURITY.md, "The wallet popup and COOP").
// --coop sets the Cross-Origin-Opener-Policy of every other path (default same-origin; the
// demo app, which opens Cairn's wallet popup, needs same-origin-allow-popups).
// --allow-script ORIGIN adds ORIGIN to the policy's script-src (the demo's Connect page loads
// the authenticator's /provider.js).
// --demo-api answers the demo server's API under /api/ (scripts/demo-api.mjs: Sign-In with
// Stacks verified with Cairn's package from the /pkg/ mount); --demo-domain is the authority
// the demo is visited at (default localhost:<port>).
// Only GET and HEAD (and the API's POST and DELETE); no directory listings; no path may leave
// its mount's directory.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDemoApi, loadCairn } from './demo-api.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The authenticator's policy. Trusted Types: no string reaches a script or HTML sink
 * (nothing uses innerHTML); the only policy is main.js's "default", which lets exactly
 * the page's KDF worker script through (`new Worker('/kdf-worker.js')`).
 */
export const DEFAULT_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  'img-src \'self\' data: https: http:',
  "connect-src 'self' http://127.0.0.1:4000 http: https:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "require-trusted-types-for 'script'",
  'trusted-types default',
].join('; ');

/**
 * The demo app's policy: its own scripts and wasm (and scripts from `scriptOrigins`, e.g.
 * the authenticator's /provider.js), and fetches to hubs on loopback. It frames nothing and
 * may not be framed either.
 */
export function demoCsp(scriptOrigins = []) {
  return allowScripts(DEMO_CSP, scriptOrigins);
}

/** The demo app's policy, with no script origin besides its own. */
export const DEMO_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' http://127.0.0.1:* http://localhost:*",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export const CSP_PRESETS = { authenticator: DEFAULT_CSP, demo: DEMO_CSP };

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/**
 * Cross-Origin-Opener-Policy on every response: a page of another origin that opens
 * Cairn in a popup gets no handle on it (window.opener is null on Cairn's side, and the
 * opener sees a closed window). Sign-in is a redirect, not a popup, so nothing needs
 * the opener (docs/AUTHENTICATOR_UI.md, "Headers").
 */
export const DEFAULT_COOP = 'same-origin';

/** The COOP of --keep-opener paths: the opener (another origin) keeps its handle. */
export const OPENER_COOP = 'unsafe-none';

function securityHeaders(csp, frameOptions, coop) {
  const h = {
    'Content-Security-Policy': csp,
    'Cross-Origin-Opener-Policy': coop,
    'X-Frame-Options': frameOptions,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
  if (!coop) delete h['Cross-Origin-Opener-Policy'];
  // frameOptions null: no X-Frame-Options (only for tests that simulate a careless deployment).
  if (!frameOptions) delete h['X-Frame-Options'];
  if (!csp) delete h['Content-Security-Policy'];
  return h;
}

/** Normalises a --config-json value (string or object) to its JSON text; throws on bad JSON. */
export function parseConfigJson(value) {
  const parsed = typeof value === 'string' ? JSON.parse(value) : value;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('--config-json must be a JSON object');
  }
  return JSON.stringify(parsed);
}

/** Whether a request path gets `Access-Control-Allow-Origin: *` under the --cors rules. */
export function corsAllowed(urlPath, cors) {
  return cors.some((c) => (c.endsWith('/') ? urlPath.startsWith(c) : urlPath === c));
}

/** Adds `origins` to the script-src of `csp`. */
export function allowScripts(csp, origins) {
  if (origins.length === 0) return csp;
  return csp.replace(/script-src ([^;]*)/, (_, v) => `script-src ${[v, ...origins].join(' ')}`);
}

/** Parses "PREFIX=DIR" into {prefix, dir}; PREFIX is normalised to start and end with "/". */
export function parseMount(spec, base = REPO) {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new Error(`bad --mount ${JSON.stringify(spec)}: use PREFIX=DIR, e.g. /pkg/=pkg`);
  let prefix = spec.slice(0, eq) || '/';
  if (!prefix.startsWith('/')) prefix = '/' + prefix;
  if (!prefix.endsWith('/')) prefix += '/';
  return { prefix, dir: path.resolve(base, spec.slice(eq + 1)) };
}

/**
 * Maps a request path to a file inside one of the mounts, or null. Refuses encoded
 * slashes/backslashes, NUL bytes and any ".." segment; the resolved path must stay
 * inside the mount's directory.
 */
export function resolveFile(urlPath, mounts) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  if (/%2f|%5c/i.test(urlPath)) return null;
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  // Longest prefix first, so /pkg/ wins over /.
  const sorted = [...mounts].sort((a, b) => b.prefix.length - a.prefix.length);
  for (const { prefix, dir } of sorted) {
    const bare = prefix.slice(0, -1);
    if (decoded !== bare && !decoded.startsWith(prefix)) continue;
    const rel = decoded === bare ? '' : decoded.slice(prefix.length);
    const file = path.resolve(dir, '.' + path.sep + rel);
    if (file !== dir && !file.startsWith(dir + path.sep)) return null;
    return { file, dir, rel };
  }
  return null;
}

async function statFile(file, dir) {
  let st = await fs.promises.stat(file);
  if (st.isDirectory()) {
    file = path.join(file, 'index.html');
    st = await fs.promises.stat(file);
  }
  if (!st.isFile()) throw new Error('not a file');
  // Symlinks must not lead outside the mount either.
  const real = await fs.promises.realpath(file);
  const realDir = await fs.promises.realpath(dir);
  if (!real.startsWith(realDir + path.sep)) throw new Error('outside root');
  return { file: real, size: st.size };
}

/**
 * Starts a server; resolves to the listening http.Server.
 *
 * Options: `host`, `port` (0 = any free port), `mounts` ([{prefix, dir}], see parseMount),
 * `csp` (the Content-Security-Policy; default the strict authenticator policy),
 * `frameOptions` (X-Frame-Options, default "DENY"; null omits it), `coop`
 * (Cross-Origin-Opener-Policy, default "same-origin"; null omits it), `configJson` (an object
 * or JSON text served at /config.json, overriding any file), `cors` (paths, see
 * corsAllowed), `keepOpener` (exact paths served with COOP `unsafe-none`), `api` (the
 * demo API of scripts/demo-api.mjs, answering /api/…), `log`.
 */
export function startServer({
  host = '127.0.0.1',
  port = 8888,
  mounts,
  csp = DEFAULT_CSP,
  frameOptions = 'DENY',
  coop = DEFAULT_COOP,
  configJson,
  cors = [],
  keepOpener = [],
  api = null,
  log = true,
} = {}) {
  mounts ??= [parseMount('/=www'), parseMount('/pkg/=pkg')];
  const baseHeaders = securityHeaders(csp, frameOptions, coop);
  const openerHeaders = securityHeaders(csp, frameOptions, OPENER_COOP);
  const config = configJson === undefined || configJson === null ? null : Buffer.from(parseConfigJson(configJson));
  const server = http.createServer(async (req, res) => {
    const urlPath = (req.url || '/').split(/[?#]/, 1)[0];
    const corsHeaders = corsAllowed(urlPath, cors) ? { 'Access-Control-Allow-Origin': '*' } : {};
    const headers = keepOpener.includes(urlPath) ? openerHeaders : baseHeaders;
    const send = (status, body, extra = {}) => {
      res.writeHead(status, { ...headers, ...corsHeaders, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (api && (await api.handle(req, res, urlPath, { ...headers, ...corsHeaders }))) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    }
    if (config && urlPath === '/config.json') {
      return send(200, config, { 'Content-Type': MIME['.json'], 'Content-Length': config.length });
    }
    const hit = urlPath.startsWith('/') ? resolveFile(urlPath, mounts) : null;
    if (!hit) return send(hit === null && urlPath.includes('..') ? 400 : 404, 'not found\n');
    let found;
    try {
      found = await statFile(hit.file, hit.dir);
    } catch {
      return send(404, 'not found\n');
    }
    // A directory requested without its trailing slash: redirect so relative URLs work.
    if (found.file.endsWith(path.sep + 'index.html') && !urlPath.endsWith('/') && !hit.file.endsWith('index.html')) {
      return send(301, 'moved\n', { Location: urlPath + '/' });
    }
    const type = MIME[path.extname(found.file).toLowerCase()] || 'application/octet-stream';
    res.writeHead(200, { ...headers, ...corsHeaders, 'Content-Type': type, 'Content-Length': found.size });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(found.file)
      .on('error', () => res.destroy())
      .pipe(res);
    if (log && process.env.SERVE_LOG) console.log(`${req.method} ${urlPath} → ${found.file}`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      api?.listening(server.address().port);
      resolve(server);
    });
  });
}

function parseArgs(argv) {
  const opts = {
    host: process.env.HOST || '127.0.0.1',
    port: Number(process.env.PORT || 8888),
    csp: process.env.CSP || DEFAULT_CSP,
    mounts: [],
    cors: [],
    keepOpener: [],
    allowScript: [],
    coop: DEFAULT_COOP,
    demoApi: false,
    demoDomain: null,
    configJson: undefined,
    name: 'server',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--host') opts.host = val();
    else if (a === '--port') opts.port = Number(val());
    else if (a === '--mount') opts.mounts.push(parseMount(val()));
    else if (a === '--csp') opts.csp = val();
    else if (a === '--csp-preset') {
      const name = val();
      if (!CSP_PRESETS[name]) throw new Error(`unknown --csp-preset ${name} (known: ${Object.keys(CSP_PRESETS).join(', ')})`);
      opts.csp = CSP_PRESETS[name];
    } else if (a === '--config-json') opts.configJson = parseConfigJson(val());
    else if (a === '--cors') {
      const p = val();
      if (!p.startsWith('/')) throw new Error(`--cors ${p}: a path starting with /`);
      opts.cors.push(p);
    } else if (a === '--keep-opener') {
      const p = val();
      if (!p.startsWith('/')) throw new Error(`--keep-opener ${p}: a path starting with /`);
      opts.keepOpener.push(p);
    } else if (a === '--allow-script') {
      const o = val();
      let u;
      try {
        u = new URL(o);
      } catch {
        u = null;
      }
      if (!u || !/^https?:$/.test(u.protocol) || u.origin !== o) throw new Error(`--allow-script ${o}: an http(s) origin, e.g. http://127.0.0.1:8888`);
      opts.allowScript.push(o);
    } else if (a === '--coop') {
      const c = val();
      if (!['same-origin', 'same-origin-allow-popups', 'unsafe-none'].includes(c)) {
        throw new Error(`--coop ${c}: same-origin, same-origin-allow-popups or unsafe-none`);
      }
      opts.coop = c;
    } else if (a === '--demo-api') opts.demoApi = true;
    else if (a === '--demo-domain') {
      const d = val();
      if (!/^[a-z0-9.-]+(:[0-9]{1,5})?$/.test(d)) throw new Error(`--demo-domain ${d}: a lower-case host[:port]`);
      opts.demoDomain = d;
    } else if (a === '--name') opts.name = val();
    else if (a === '-h' || a === '--help') {
      console.log(
        'usage: node scripts/serve.mjs [--host H] [--port P] [--mount PREFIX=DIR]... [--csp POLICY | --csp-preset authenticator|demo]\n' +
          "                              [--config-json '{...}'] [--cors PATH]... [--keep-opener PATH]... [--coop POLICY]\n" +
          '                              [--allow-script ORIGIN]... [--demo-api [--demo-domain HOST:PORT]] [--name NAME]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error('bad port');
  if (opts.mounts.length === 0) opts.mounts = [parseMount('/=www'), parseMount('/pkg/=pkg')];
  opts.csp = allowScripts(opts.csp, opts.allowScript);
  if (opts.demoDomain && !opts.demoApi) throw new Error('--demo-domain needs --demo-api');
  return opts;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`serve.mjs: ${e.message}`);
    process.exit(2);
  }
  const withApi = async () => {
    if (!opts.demoApi) return opts;
    // Cairn's package: the directory mounted at /pkg/, else the repository's pkg/.
    const pkg = opts.mounts.find((m) => m.prefix === '/pkg/')?.dir ?? path.join(REPO, 'pkg');
    let cairn;
    try {
      cairn = await loadCairn(pkg);
    } catch (e) {
      console.error(`serve.mjs: --demo-api: cannot load Cairn's package from ${pkg} (run scripts/build-wasm.sh): ${e.message}`);
      process.exit(1);
    }
    return { ...opts, api: createDemoApi({ cairn, domain: opts.demoDomain }) };
  };
  withApi().then(startServer).then(
    (server) => {
      const { port } = server.address();
      const where = opts.mounts.map((m) => `${m.prefix} → ${path.relative(REPO, m.dir) || '.'}`).join(', ');
      console.log(`${opts.name}: serving http://${opts.host}:${port}/ (${where})`);
      const stop = () => {
        server.close();
        server.closeAllConnections?.();
        process.exit(0);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (e) => {
      console.error(`serve.mjs: cannot listen on ${opts.host}:${opts.port}: ${e.message}`);
      process.exit(1);
    },
  );
}
