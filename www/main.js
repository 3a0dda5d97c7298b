// Entry point of the authenticator page (an ES module: the CSP forbids inline scripts).
// Loads the wasm module, reports readiness in #cairn-status, and starts the Rust UI,
// which renders every screen into <main id="cairn-root">. Nothing secret lives here.
//
// Trusted Types (CSP `require-trusted-types-for 'script'`): strings never reach script or
// HTML sinks. The one sink the page uses is `new Worker(url)` for its KDF worker; the
// "default" policy below lets exactly that URL through and refuses everything else (it
// has no createHTML/createScript, so those sinks always throw). Module imports, fetch and
// WebAssembly instantiation are not sinks. The policy exists before the module is imported.

const KDF_WORKER = new URL('/kdf-worker.js', location.href).href;
if (globalThis.trustedTypes?.createPolicy) {
  globalThis.trustedTypes.createPolicy('default', {
    createScriptURL(url) {
      if (new URL(url, location.href).href === KDF_WORKER) return url;
      throw new TypeError(`Trusted Types: refusing script URL ${url}`);
    },
  });
}

const status = document.getElementById('cairn-status');

function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

// The wallet popup (/rpc.html) has its own module, with the wallet interface (pkg/rpc/),
// and so has "Your data" (/data.html: moving to another hub, pkg/data/); the page's
// (pkg/app/) carries neither.
const MODULES = { '/rpc.html': '/pkg/rpc/cairn.js', '/data.html': '/pkg/data/cairn.js' };
const MODULE = MODULES[location.pathname] ?? '/pkg/app/cairn.js';

try {
  const { default: init, startAuthenticator } = await import(MODULE);
  await init();
  show('ready', 'ready');
  await startAuthenticator();
} catch (e) {
  show('error', `failed to load: ${e instanceof Error ? e.message : String(e)}`);
  throw e;
}
