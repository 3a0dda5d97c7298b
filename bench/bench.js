// Cairn (pkg/) against the JavaScript reference (dist/reference.js, built by
// scripts/bench.sh) and WebCrypto, in the same page. For every operation both
// implementations get the same inputs; after a warm-up, timed batches alternate
// A, B, B, A, A, B … so slow drifts of a shared machine hit both alike.
//
// Timing: performance.now() is coarsened (100 µs without cross-origin isolation), so each
// sample is a batch of k calls lasting ≥ MIN_BATCH_MS, divided by k. Median and p95 are
// over those samples. ratio = reference median / Cairn median (> 1: Cairn is faster).
//
// Query: ?quick=1 (short run), ?budget=<ms per implementation and op>, ?only=<regex>.
// Results: window.__benchResults (JSON-able), or window.__benchError; also shown in the page.
import init, * as cairn from '/pkg/cairn.js';
import * as ref from './dist/reference.js';

const params = new URLSearchParams(location.search);
const QUICK = params.has('quick');
const BUDGET_MS = Number(params.get('budget')) || (QUICK ? 250 : 1500);
const WARMUP_MS = QUICK ? 60 : 300;
const MIN_BATCH_MS = 8;
const ONLY = params.get('only') ? new RegExp(params.get('only')) : null;

// ---- fixed inputs ---------------------------------------------------------------------
// BIP39 test vector (entropy 7f…7f, 24 words).
const WORDS =
  'legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title';
const APP = 'https://app.example';
const HUB = 'https://hub.example';
const READ = 'https://gaia.example/hub/';
const PRIV = 'e4a8a9d3c4b1f0e2d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a392817065';
const PASSWORD = 'correct horse battery staple';
const enc = new TextEncoder();

function text(n) {
  // Deterministic printable ASCII (no JSON escapes), n bytes.
  let s = '';
  let x = 0x12345678;
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_';
  while (s.length < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += alphabet[x % alphabet.length];
  }
  return s;
}

function bytes(n, seed) {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');

// ---- measurement ----------------------------------------------------------------------
const isPromise = (r) => r && typeof r.then === 'function';

async function batch(impl, k) {
  const t0 = performance.now();
  for (let j = 0; j < k; j++) {
    const r = impl.fn(impl.counter++);
    if (isPromise(r)) await r;
  }
  return (performance.now() - t0) / k;
}

async function warmUp(impl) {
  let calls = 0;
  const t0 = performance.now();
  while (calls < 3 || performance.now() - t0 < WARMUP_MS) {
    const r = impl.fn(impl.counter++);
    if (isPromise(r)) await r;
    calls++;
  }
  return (performance.now() - t0) / calls;
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { median: q(0.5), p95: q(0.95), min: s[0], n: s.length };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/** Times one or two implementations of an operation, interleaved. */
async function measure(impls) {
  for (const impl of impls) impl.counter = 0;
  const per = [];
  for (const impl of impls) per.push(await warmUp(impl));
  const ks = per.map((t) => Math.max(1, Math.ceil(MIN_BATCH_MS / Math.max(t, 1e-3))));
  const slowest = Math.max(...per.map((t, i) => t * ks[i]));
  const minSamples = slowest > 100 ? (QUICK ? 3 : 9) : QUICK ? 7 : 21;
  const n = Math.max(minSamples, Math.min(300, Math.floor(BUDGET_MS / slowest)));
  const samples = impls.map(() => []);
  for (let s = 0; s < n; s++) {
    const order = s % 2 === 0 ? impls.map((_, i) => i) : impls.map((_, i) => impls.length - 1 - i);
    for (const i of order) samples[i].push(await batch(impls[i], ks[i]));
    if (s % 8 === 7) await tick(); // let the page breathe (GC, rendering)
  }
  return impls.map((impl, i) => ({ ...stats(samples[i]), k: ks[i] }));
}

// ---- output ---------------------------------------------------------------------------
const status = (t) => {
  document.getElementById('bench-status').textContent = t;
};
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));

function showRow(row) {
  const tr = document.createElement('tr');
  const cells = [
    row.op,
    fmt(row.cairn.median),
    fmt(row.cairn.p95),
    row.reference ? row.reference.name : '—',
    row.reference ? fmt(row.reference.median) : '—',
    row.reference ? fmt(row.reference.p95) : '—',
    row.ratio != null ? `${row.ratio.toFixed(2)}×` : '—',
    row.target ? row.target.text : '—',
    row.met == null ? '—' : row.met ? 'yes' : 'NO',
  ];
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c;
    tr.append(td);
  }
  document.querySelector('#bench-table tbody').append(tr);
}

// ---- the run --------------------------------------------------------------------------
async function main() {
  status('loading wasm…');
  await init();
  const subtle = crypto.subtle;

  status('setting up inputs…');
  const kc = cairn.Keychain.fromMnemonic(WORDS);
  const account = await ref.restore(WORDS);
  const PUB = ref.getPublicKeyFromPrivate(PRIV);
  const transit = ref.makeECPrivateKey();
  const REQUEST = ref.makeAuthRequestToken(
    transit,
    `${APP}/`,
    `${APP}/manifest.json`,
    ['store_write', 'publish_data'],
    APP,
    Date.now() + 24 * 3600_000,
    { appDetails: { name: 'Bench', icon: `${APP}/icon.png` } },
  );
  const NOW = Date.now();
  const TEXTS = { '64 B': text(64), '4 KiB': text(4096), '64 KiB': text(65536) };
  const CIPHERS = {};
  for (const [k, t] of Object.entries(TEXTS)) CIPHERS[k] = await ref.eciesEncrypt(PUB, t);
  const PAYLOAD = {
    jti: '0b1e8f3c-9d2a-4c5b-8e7f-6a5b4c3d2e1f',
    iat: 1700000000,
    exp: 1702592000,
    iss: `did:btc-addr:${kc.identityAddress(0)}`,
    public_keys: [kc.identityPublicKey(0)],
    profile: { '@type': 'Person', '@context': 'http://schema.org', apps: { [APP]: `${READ}1Ab/` } },
    hubUrl: HUB,
    version: '1.4.0',
  };
  const TOKEN = ref.jwtSign(PAYLOAD, PRIV);
  const AES_KEY = bytes(32, 1);
  const AES_IV = bytes(12, 2);
  const MIB = bytes(1 << 20, 3);
  const CK = await subtle.importKey('raw', AES_KEY, 'AES-GCM', false, ['encrypt', 'decrypt']);
  const SEALED = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: AES_IV }, CK, MIB));
  const SALT = enc.encode('mnemonic');
  const webPbkdf2 = async () => {
    const k = await subtle.importKey('raw', enc.encode(WORDS), 'PBKDF2', false, ['deriveBits']);
    return subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-512', salt: SALT, iterations: 2048 }, k, 512);
  };
  const RECORD = cairn.benchVaultSeal(WORDS, PASSWORD);
  // The wallet interface: messages to sign and SIP-018 structured data (hex, as it arrives).
  const MESSAGES = {
    'a Sign-In with Stacks message (330 B)':
      `app.example wants you to sign in with your Stacks account:\n${kc.stxAddress(0, true)}\n\n` +
      `Sign in to the bench app.\n\nURI: ${APP}/\nVersion: 1\nChain ID: 1\nNonce: 8f2a7c1d9e4b6a30\n` +
      'Issued At: 2026-12-03T09:00:00Z\nExpiration Time: 2026-12-03T09:10:00Z',
    '4 KiB': text(4096),
  };
  const { Cl } = ref;
  const DOMAIN_HEX = Cl.serialize(Cl.tuple({ name: Cl.stringAscii('Bench App'), version: Cl.stringAscii('1.0.0'), 'chain-id': Cl.uint(1) }));
  const vote = (i) => Cl.tuple({
    action: Cl.stringAscii('vote'),
    amount: Cl.uint(1000000n + BigInt(i)),
    memo: Cl.some(Cl.stringUtf8(`ballot ${i} \u2713`)),
    choices: Cl.list([Cl.int(-1), Cl.int(i)]),
    voter: Cl.standardPrincipal(kc.stxAddress(0, true)),
    proof: Cl.ok(Cl.bufferFromHex('cafe0123456789ab')),
  });
  const STRUCTURED = {
    'a tuple of 6 fields': Cl.serialize(vote(0)),
    'a list of 100 such tuples': Cl.serialize(Cl.list(Array.from({ length: 100 }, (_, i) => vote(i)))),
  };

  // ---- cross-checks: the two sides compute the same things ----
  const checks = [];
  const check = (name, ok) => checks.push({ name, ok: !!ok });
  check('salt equal', kc.salt() === account.salt);
  check('restore: salt equal (benchRestore)', cairn.benchRestore(WORDS) === account.salt);
  for (const o of [APP, 'https://app-0.example', 'http://localhost:3000']) {
    check(`app key equal for ${o}`, kc.appPrivateKey(0, o) === ref.appPrivateKey(account, o));
  }
  const ours = kc.makeAuthResponse(0, REQUEST, { hubUrl: HUB, readUrlPrefix: READ, now: NOW });
  check('Cairn authResponse passes @stacks/auth verifyAuthResponse', await ref.verifyAuthResponse(ours.authResponse));
  check(
    'Cairn authResponse carries the wallet-sdk app key',
    (await ref.decryptPrivateKey(transit, ref.decodeToken(ours.authResponse).payload.private_key)) ===
      ref.appPrivateKey(account, APP),
  );
  const theirs = await ref.authResponse(account, REQUEST, { hubUrl: HUB, readUrlPrefix: READ });
  check(
    'reference authResponse carries the same app key',
    (await ref.decryptPrivateKey(transit, ref.decodeToken(theirs.authResponse).payload.private_key)) ===
      ours.appPrivateKey,
  );
  check('both sign a profile file (publish_data)', ours.profileFile && theirs.profileFile);
  for (const [k, t] of Object.entries(TEXTS)) {
    check(`ECIES ${k}: Cairn decrypts the reference's`, cairn.decryptECIES(PRIV, CIPHERS[k]) === t);
    check(`ECIES ${k}: reference decrypts Cairn's`, (await ref.eciesDecrypt(PRIV, cairn.encryptECIES(PUB, t))) === t);
    check(`ECIES ${k} (WebCrypto): Cairn decrypts the reference's`, (await cairn.decryptECIESAsync(PRIV, CIPHERS[k])) === t);
    check(`ECIES ${k} (WebCrypto): reference decrypts Cairn's`, (await ref.eciesDecrypt(PRIV, await cairn.encryptECIESAsync(PUB, t))) === t);
  }
  check('JWT: Cairn verifies the jsontokens token', cairn.benchJwtVerify(TOKEN, PUB));
  check('JWT: jsontokens verifies Cairn\'s token', ref.jwtVerify(cairn.benchJwtSign(JSON.stringify(PAYLOAD), PRIV), PUB));
  check('AES-GCM: same ciphertext as WebCrypto', hex(cairn.benchAesGcmSeal(AES_KEY, AES_IV, MIB).subarray(0, 64)) === hex(SEALED.subarray(0, 64)) && cairn.benchAesGcmOpen(AES_KEY, AES_IV, SEALED).length === MIB.length);
  check('AES-GCM through Cairn\'s WebCrypto path: same ciphertext', hex((await cairn.benchAesGcmSealAsync(AES_KEY, AES_IV, MIB)).subarray(0, 64)) === hex(SEALED.subarray(0, 64)) && (await cairn.benchAesGcmOpenAsync(AES_KEY, AES_IV, SEALED)).length === MIB.length);
  const seedC = hex(cairn.benchBip39Seed(WORDS));
  check('BIP39 seed: Cairn = WebCrypto PBKDF2', seedC === hex(new Uint8Array(await webPbkdf2())));
  check('BIP39 seed: Cairn = @scure/bip39', seedC === hex(await ref.bip39Seed(WORDS)));
  check('vault opens', (await cairn.benchVaultOpen(RECORD, PASSWORD)) === 24);
  for (const [k, m] of Object.entries(MESSAGES)) {
    check(`message signature, ${k}: same RSV as @stacks/transactions`, cairn.signMessage(PRIV, m) === ref.signMessage(PRIV, m));
    check(`message signature, ${k}: verifyMessageSignatureRsv accepts Cairn's`,
      ref.verifyMessageSignatureRsv({ message: m, signature: cairn.signMessage(PRIV, m), publicKey: PUB }));
  }
  for (const [k, m] of Object.entries(STRUCTURED)) {
    check(`SIP-018 hash, ${k}: equal`, cairn.hashStructuredData(DOMAIN_HEX, m) === ref.hashStructured(DOMAIN_HEX, m));
    check(`SIP-018 signature, ${k}: equal`, cairn.signStructuredData(PRIV, DOMAIN_HEX, m) === ref.signStructured(PRIV, DOMAIN_HEX, m));
  }
  document.getElementById('bench-checks').textContent = checks
    .map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`)
    .join('\n');
  if (!checks.every((c) => c.ok)) throw new Error(`cross-check failed: ${checks.filter((c) => !c.ok).map((c) => c.name).join('; ')}`);

  // ---- the operations ----
  const x2 = { min: 2, text: '≥ 2×' };
  const x3 = { min: 3, text: '≥ 3×' };
  const gcm = { min: 1 / 3, text: '≥ 0.33× (within 3×)' };
  const ops = [
    {
      op: 'restore: Secret Key → seed → identity 0, salt, apps node',
      target: x2,
      cairn: () => cairn.benchRestore(WORDS),
      refName: 'wallet-sdk (scure bip39/bip32)',
      ref: () => ref.restore(WORDS),
    },
    {
      op: 'app private key, new origin',
      target: x2,
      cairn: (i) => kc.appPrivateKey(0, `https://app-${i}.example`),
      refName: 'wallet-sdk getAppPrivateKey',
      ref: (i) => ref.appPrivateKey(account, `https://app-${i}.example`),
    },
    {
      op: 'authResponse (verify request, sign profile, no network)',
      target: x3,
      cairn: () => kc.makeAuthResponse(0, REQUEST, { hubUrl: HUB, readUrlPrefix: READ, now: NOW }),
      refName: 'wallet-sdk + @stacks/auth',
      ref: () => ref.authResponse(account, REQUEST, { hubUrl: HUB, readUrlPrefix: READ }),
    },
    ...Object.keys(TEXTS).flatMap((k) => [
      {
        op: `ECIES encrypt ${k}`,
        target: x2,
        cairn: () => cairn.encryptECIES(PUB, TEXTS[k]),
        refName: '@stacks/encryption',
        ref: () => ref.eciesEncrypt(PUB, TEXTS[k]),
      },
      {
        op: `ECIES decrypt ${k}`,
        target: x2,
        cairn: () => cairn.decryptECIES(PRIV, CIPHERS[k]),
        refName: '@stacks/encryption',
        ref: () => ref.eciesDecrypt(PRIV, CIPHERS[k]),
      },
      {
        op: `ECIES encrypt ${k}, AES and HMAC in WebCrypto (encryptECIESAsync)`,
        target: x2,
        cairn: () => cairn.encryptECIESAsync(PUB, TEXTS[k]),
        refName: '@stacks/encryption',
        ref: () => ref.eciesEncrypt(PUB, TEXTS[k]),
      },
      {
        op: `ECIES decrypt ${k}, AES and HMAC in WebCrypto (decryptECIESAsync)`,
        target: x2,
        cairn: () => cairn.decryptECIESAsync(PRIV, CIPHERS[k]),
        refName: '@stacks/encryption',
        ref: () => ref.eciesDecrypt(PRIV, CIPHERS[k]),
      },
    ]),
    {
      op: 'ES256K JWT sign',
      target: x2,
      cairn: () => cairn.benchJwtSign(JSON.stringify(PAYLOAD), PRIV),
      refName: 'jsontokens',
      ref: () => ref.jwtSign(PAYLOAD, PRIV),
    },
    {
      op: 'ES256K JWT verify',
      target: x2,
      cairn: () => cairn.benchJwtVerify(TOKEN, PUB),
      refName: 'jsontokens',
      ref: () => ref.jwtVerify(TOKEN, PUB),
    },
    ...Object.keys(MESSAGES).map((k) => ({
      op: `stx_signMessage: hash and sign ${k}`,
      target: x2,
      cairn: () => cairn.signMessage(PRIV, MESSAGES[k]),
      refName: '@stacks/encryption hashMessage + @stacks/transactions signMessageHashRsv',
      ref: () => ref.signMessage(PRIV, MESSAGES[k]),
    })),
    ...Object.keys(STRUCTURED).flatMap((k) => [
      {
        op: `stx_signStructuredMessage: decode, hash and sign ${k} (hex in, RSV out)`,
        target: x2,
        cairn: () => cairn.signStructuredData(PRIV, DOMAIN_HEX, STRUCTURED[k]),
        refName: '@stacks/transactions deserializeCV + signStructuredData',
        ref: () => ref.signStructured(PRIV, DOMAIN_HEX, STRUCTURED[k]),
      },
      {
        op: `SIP-018 hash only: decode and hash ${k}`,
        target: x2,
        cairn: () => cairn.hashStructuredData(DOMAIN_HEX, STRUCTURED[k]),
        refName: '@stacks/transactions deserializeCV + encodeStructuredDataBytes + sha256',
        ref: () => ref.hashStructured(DOMAIN_HEX, STRUCTURED[k]),
      },
    ]),
    {
      op: 'AES-256-GCM encrypt 1 MiB, Cairn\'s bulk path (WebCrypto through `Bulk`, as the page runs it)',
      target: gcm,
      cairn: () => cairn.benchAesGcmSealAsync(AES_KEY, AES_IV, MIB),
      refName: 'WebCrypto',
      ref: () => subtle.encrypt({ name: 'AES-GCM', iv: AES_IV }, CK, MIB),
    },
    {
      op: 'AES-256-GCM decrypt 1 MiB, Cairn\'s bulk path (WebCrypto through `Bulk`)',
      target: gcm,
      cairn: () => cairn.benchAesGcmOpenAsync(AES_KEY, AES_IV, SEALED),
      refName: 'WebCrypto',
      ref: () => subtle.decrypt({ name: 'AES-GCM', iv: AES_IV }, CK, SEALED),
    },
    {
      op: 'AES-256-GCM encrypt 1 MiB in software (aes-gcm crate: native code, synchronous vaultSeal)',
      target: null,
      cairn: () => cairn.benchAesGcmSeal(AES_KEY, AES_IV, MIB),
      refName: 'WebCrypto',
      ref: () => subtle.encrypt({ name: 'AES-GCM', iv: AES_IV }, CK, MIB),
    },
    {
      op: 'AES-256-GCM decrypt 1 MiB in software (aes-gcm crate)',
      target: null,
      cairn: () => cairn.benchAesGcmOpen(AES_KEY, AES_IV, SEALED),
      refName: 'WebCrypto',
      ref: () => subtle.decrypt({ name: 'AES-GCM', iv: AES_IV }, CK, SEALED),
    },
    {
      op: 'BIP39 seed (PBKDF2-SHA512 ×2048)',
      target: null,
      cairn: () => cairn.benchBip39Seed(WORDS),
      refName: 'WebCrypto PBKDF2',
      ref: webPbkdf2,
    },
    {
      op: 'BIP39 seed (PBKDF2-SHA512 ×2048)',
      target: x2,
      cairn: () => cairn.benchBip39Seed(WORDS),
      refName: '@scure/bip39 mnemonicToSeed',
      ref: () => ref.bip39Seed(WORDS),
    },
    {
      op: 'vault unlock (Argon2id 64 MiB, t=4, p=1 in wasm + AES-GCM in WebCrypto; the shipped parameters, as the page runs it)',
      target: null,
      cairn: () => cairn.benchVaultOpen(RECORD, PASSWORD),
      refName: null,
      ref: null,
    },
  ];

  const rows = [];
  for (const [n, o] of ops.entries()) {
    if (ONLY && !ONLY.test(o.op)) continue;
    status(`running ${n + 1}/${ops.length}: ${o.op} vs ${o.refName ?? '(absolute)'}…`);
    await tick();
    const impls = [{ fn: o.cairn }];
    if (o.ref) impls.push({ fn: o.ref });
    const [c, r] = await measure(impls);
    const ratio = r ? r.median / c.median : null;
    const row = {
      op: o.op,
      cairn: c,
      reference: r ? { name: o.refName, ...r } : null,
      ratio,
      target: o.target,
      met: o.target && ratio != null ? ratio >= o.target.min : null,
    };
    rows.push(row);
    showRow(row);
  }
  kc.free();
  status('done');
  return {
    quick: QUICK,
    budgetMs: BUDGET_MS,
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    crossOriginIsolated: self.crossOriginIsolated,
    checks,
    rows,
  };
}

main().then(
  (r) => {
    window.__benchResults = r;
  },
  (e) => {
    status(`failed: ${e && e.message}`);
    window.__benchError = String((e && e.stack) || e);
  },
);
