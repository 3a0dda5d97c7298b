// Entry point of the authenticator page (an ES module: the CSP forbids inline scripts).
// Loads the wasm module, reports readiness in #cairn-status, and starts the Rust UI,
// which renders every screen into <main id="cairn-root">. Nothing secret lives here.
import init, { startAuthenticator } from '/pkg/app/cairn.js';

const status = document.getElementById('cairn-status');

function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

try {
  await init();
  show('ready', 'ready');
  await startAuthenticator();
} catch (e) {
  show('error', `failed to load: ${e instanceof Error ? e.message : String(e)}`);
  throw e;
}
