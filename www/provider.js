// Cairn's wallet provider for @stacks/connect 8 (SIP-030 JSON-RPC). An app adds Cairn with
//   <script type="module" src="https://<cairn>/provider.js"></script>
// which defines window.CairnProvider (request(method, params) → Promise of the JSON-RPC
// response, as Connect's StacksProvider) and lists Cairn in window.wbip_providers (WBIP004),
// so Connect's wallet picker shows it. Served by the authenticator at /provider.js, it finds
// the authenticator where it came from. The npm package ships this file too (pkg/provider.js):
// there nothing happens on import, and the app calls
//   import { installCairnProvider } from 'cairn/provider.js';
//   installCairnProvider('https://<cairn>');
//
// Each request goes to Cairn's popup (/rpc.html) by postMessage, to Cairn's origin only;
// answers are read only from that origin and that popup. Errors reject with an Error that
// carries {code, message} and the JSON-RPC error response (Connect reads either).
let AUTH = '';
const ICON =
  'data:image/svg+xml,' +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#2d3b45"/>' +
      '<path d="M9 24h14l-2-5H11zm3-7h8l-2-5h-4zm3-7h2l-1-3z" fill="#e8dcc2"/></svg>',
  );

let popup = null;
let ready = null;
let markReady = null;
let watcher = 0;
const pending = new Map();

class CairnError extends Error {
  constructor(code, message, id = null) {
    super(message);
    this.name = 'JsonRpcError';
    this.code = code;
    this.jsonrpc = '2.0';
    this.id = id;
    this.error = { code, message };
  }
}

function rejectAll(code, message) {
  for (const [id, p] of pending) p.reject(new CairnError(code, message, id));
  pending.clear();
}

window.addEventListener('message', (e) => {
  if (e.origin !== AUTH || !popup || e.source !== popup) return;
  const d = e.data;
  if (!d || typeof d !== 'object' || d.jsonrpc !== '2.0') return;
  if (d.method === 'cairn_ready') return markReady?.();
  const p = pending.get(d.id);
  if (!p) return;
  pending.delete(d.id);
  if (d.error && typeof d.error === 'object') {
    p.reject(new CairnError(Number(d.error.code), String(d.error.message), d.id));
  } else if ('result' in d) {
    p.resolve({ jsonrpc: '2.0', id: d.id, result: d.result });
  } else {
    p.reject(new CairnError(-32603, 'Cairn sent an answer without a result', d.id));
  }
});

function openPopup() {
  if (popup && !popup.closed) return true;
  // A fresh query makes even a reused window load the page again (and say it is ready).
  const url = `${AUTH}/rpc.html?r=${Date.now()}#origin=${encodeURIComponent(location.origin)}`;
  popup = window.open(url, 'cairn-wallet', 'popup,width=480,height=760');
  if (!popup) return false;
  ready = new Promise((r) => {
    markReady = r;
  });
  clearInterval(watcher);
  watcher = setInterval(() => {
    if (popup && !popup.closed) return;
    clearInterval(watcher);
    popup = null;
    rejectAll(-31001, 'The request was canceled: Cairn\u2019s window was closed');
  }, 250);
  return true;
}

const CairnProvider = {
  isCairn: true,
  /** Sends one JSON-RPC request to Cairn; resolves to {jsonrpc, id, result}. */
  request(method, params) {
    let message;
    const id = crypto.randomUUID();
    try {
      message = JSON.parse(JSON.stringify({ jsonrpc: '2.0', id, method, params: params ?? {} }));
    } catch (e) {
      return Promise.reject(new CairnError(-32602, `params cannot be sent to Cairn: ${e.message}`, id));
    }
    // window.open must run now, inside the click that asked (pop-up blockers).
    if (!openPopup()) {
      return Promise.reject(
        new CairnError(-31000, 'Cairn\u2019s window was blocked by the browser: allow pop-ups for this site and try again', id),
      );
    }
    const to = popup;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      ready.then(() => to.postMessage(message, AUTH));
    });
  },
};

/**
 * Defines window.CairnProvider for the authenticator at `url` (its origin is kept) and lists
 * Cairn in window.wbip_providers; returns the provider. Throws for a URL that is not http(s).
 */
export function installCairnProvider(url) {
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('Cairn\u2019s URL must be http(s)');
  AUTH = u.origin;
  window.CairnProvider = CairnProvider;
  const list = (window.wbip_providers = Array.isArray(window.wbip_providers) ? window.wbip_providers : []);
  const entry = { id: 'CairnProvider', name: 'Cairn', icon: ICON, webUrl: `${AUTH}/` };
  const i = list.findIndex((p) => p && p.id === 'CairnProvider');
  if (i < 0) list.push(entry);
  else list[i] = entry;
  return CairnProvider;
}

// Loaded from the authenticator itself (/provider.js at its root): install for it.
const self = new URL(import.meta.url);
if (self.pathname === '/provider.js' && /^https?:$/.test(self.protocol)) installCairnProvider(self.origin);
