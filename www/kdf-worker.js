// The vault's key derivation (Argon2id) off the main thread. A module worker: it loads
// the same wasm module as the page and answers one kind of message:
//   {op: 'open', record, password}  → {ok: true, result: <Secret Key>}
//   {op: 'seal', phrase, password, params?: {m, t, p}}  → {ok: true, result: <vault record JSON>}
// or {ok: false, error, code} (code 'wrong_password' when the password is wrong).
// The page starts a fresh worker per call and terminates it after the answer.
import init, { vaultOpenAsync, vaultSealAsync } from '/pkg/app/cairn.js';

const ready = init();

self.onmessage = async (event) => {
  const { op, record, phrase, password, params } = event.data ?? {};
  try {
    await ready;
    let result;
    if (op === 'open') result = await vaultOpenAsync(record, password);
    else if (op === 'seal') result = await vaultSealAsync(phrase, password, params);
    else throw new Error(`unknown operation ${String(op)}`);
    self.postMessage({ ok: true, result });
  } catch (e) {
    self.postMessage({
      ok: false,
      error: e instanceof Error ? e.message : String(e),
      code: e?.code ?? null,
    });
  }
};
