// Entry point of the authenticator page (an ES module: the CSP forbids inline scripts).
// Loads the wasm module and reports readiness. Nothing secret is generated or stored here.
import init, { validateMnemonic } from '/pkg/cairn.js';

const status = document.getElementById('cairn-status');

function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

try {
  await init();
  // A cheap self-check that the module works (a public test mnemonic, not a secret).
  validateMnemonic('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about');
  show('ready', 'ready');
} catch (e) {
  show('error', `failed to load: ${e instanceof Error ? e.message : String(e)}`);
  throw e;
}
