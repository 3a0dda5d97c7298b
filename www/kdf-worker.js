// The vault's key derivation (Argon2id) off the main thread. A module worker: it loads
// the same wasm module as the page and answers one kind of message:
//   {op: 'open', record, password}  → {ok: true, result: <Secret Key>}
//   {op: 'seal', phrase, password, params?: {m, t, p}}  → {ok: true, result: <vault record JSON>}
// or {ok: false, error, code} (code 'wrong_password' when the password is wrong).
// The page starts a fresh worker per call and terminates it after the answer.
//
// The page sends the password and Secret Key as UTF-8 bytes in transferred buffers (so no
// copy stays in the page); the wasm functions zero them once read, and an opened Secret
// Key comes back as bytes whose buffer is transferred to the page, which zeroes it.
// The wallet popup's module (pkg/rpc/, which names its worker "rpc") or the page's. Loaded
// without a top-level await, so that onmessage is set before the first message arrives.
const ready = import(self.name === 'rpc' ? '/pkg/rpc/cairn.js' : '/pkg/app/cairn.js')
  .then((m) => m.default().then(() => m));

const wipe = (...values) => {
  for (const v of values) if (v instanceof Uint8Array) v.fill(0);
};

self.onmessage = async (event) => {
  const { op, record, phrase, password, params } = event.data ?? {};
  try {
    const { vaultOpenAsync, vaultSealAsync } = await ready;
    if (op === 'open') {
      const result = await vaultOpenAsync(record, password);
      const transfer = result instanceof Uint8Array ? [result.buffer] : [];
      self.postMessage({ ok: true, result }, transfer);
    } else if (op === 'seal') {
      self.postMessage({ ok: true, result: await vaultSealAsync(phrase, password, params) });
    } else {
      throw new Error(`unknown operation ${String(op)}`);
    }
  } catch (e) {
    self.postMessage({
      ok: false,
      error: e instanceof Error ? e.message : String(e),
      code: e?.code ?? null,
    });
  } finally {
    wipe(phrase, password);
  }
};
