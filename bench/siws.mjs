#!/usr/bin/env node
// Sign-In with Stacks verification speed, one run, same inputs (issue 17):
//   - Cairn in Node: the npm package's verifySignIn (wasm: parse + recover + compare the
//     address + domain, nonce, chain and time checks);
//   - @stacks/encryption's verifyMessageSignatureRsv in Node (the reference of the target:
//     only the signature check, with the public key given);
//   - for the record, the nearest JavaScript equivalent of the whole check:
//     @stacks/transactions publicKeyFromSignatureRsv + getAddressFromPublicKey + compare
//     (no message parser exists in the libraries, so no parsing);
//   - Cairn natively (crates/verify/examples/siws_bench.rs, release, one core).
// Inputs: N fresh random keys, each with a SIWS message made by Cairn's createSignInMessage
// and signed by @stacks/transactions signMessageHashRsv over @stacks/encryption's hashMessage.
//
//   node bench/siws.mjs [--cases N] [--budget SECONDS] [--no-build] [--no-write]
//                       [--native-bin PATH] [--print-native]
//
// --native-bin runs another build of the example (e.g. one made with RUSTFLAGS="-C
// target-cpu=native" in its own target directory); --print-native prints its raw answer.
// Writes the "Sign-In with Stacks verification" section of docs/BENCHMARKS.md (between its
// markers; bench/run.mjs keeps that section when it rewrites the file) unless --no-write.
// Needs pkg/ (scripts/build-wasm.sh) and bench/'s npm packages (scripts/bench.sh installs them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hashMessage, verifyMessageSignatureRsv, getPublicKeyFromPrivate, makeECPrivateKey } from '@stacks/encryption';
import { signMessageHashRsv, publicKeyFromSignatureRsv, getAddressFromPublicKey } from '@stacks/transactions';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const value = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const CASES = Number(value('--cases', 64));
const BUDGET_S = Number(value('--budget', 4));
const OUT = path.join(ROOT, 'docs', 'BENCHMARKS.md');
export const BEGIN = '<!-- siws-bench:begin (bench/siws.mjs writes this section) -->';
export const END = '<!-- siws-bench:end -->';

const toHex = (b) => Buffer.from(b).toString('hex');

const cairn = await import(pathToFileURL(path.join(ROOT, 'pkg', 'cairn.js')).href);
cairn.initSync({ module: fs.readFileSync(path.join(ROOT, 'pkg', 'cairn_bg.wasm')) });

// ---- inputs ----
const DOMAIN = 'app.example.com';
const NOW = Date.now();
const cases = [];
for (let i = 0; i < CASES; i++) {
  const privateKey = makeECPrivateKey();
  const publicKey = getPublicKeyFromPrivate(privateKey);
  const address = getAddressFromPublicKey(publicKey, 'mainnet');
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(16)));
  const message = cairn.createSignInMessage({
    domain: DOMAIN, address, statement: 'Sign in to the example service.', uri: `https://${DOMAIN}/login`,
    version: '1', chainId: 1, nonce, issuedAt: new Date(NOW - 1000).toISOString(),
    expirationTime: new Date(NOW + 3600_000).toISOString(),
  });
  const signature = signMessageHashRsv({ messageHash: toHex(hashMessage(message)), privateKey });
  cases.push({ message, signature, nonce, address, publicKey, hash: toHex(hashMessage(message)) });
}

// ---- the implementations (each returns false on a wrong answer) ----
const impls = {
  cairn: (c) => cairn.verifySignIn(
    { message: c.message, signature: c.signature },
    { domain: DOMAIN, nonce: c.nonce, now: NOW, chainId: 1 },
  ).address === c.address,
  rsv: (c) => verifyMessageSignatureRsv({ message: c.message, signature: c.signature, publicKey: c.publicKey }),
  jsRecover: (c) => getAddressFromPublicKey(publicKeyFromSignatureRsv(toHex(hashMessage(c.message)), c.signature), 'mainnet') === c.address,
};
for (const [name, f] of Object.entries(impls)) {
  for (const c of cases) if (!f(c)) throw new Error(`${name}: a case did not verify`);
}
// And a wrong signer is refused by each.
{
  const c = cases[0];
  const bad = { ...c, signature: cases[1].signature };
  for (const [name, f] of Object.entries(impls)) {
    let ok;
    try {
      ok = f(bad);
    } catch {
      ok = false;
    }
    if (ok) throw new Error(`${name}: a wrong signature verified`);
  }
}

// ---- Node: alternating timed batches (one batch = one pass over every case) ----
const samples = Object.fromEntries(Object.keys(impls).map((k) => [k, []]));
const order = Object.keys(impls);
const deadline = performance.now() + BUDGET_S * 1000 * order.length;
for (let round = 0; performance.now() < deadline; round++) {
  const seq = round % 2 ? [...order].reverse() : order;
  for (const k of seq) {
    const f = impls[k];
    const t = performance.now();
    for (const c of cases) f(c);
    samples[k].push(((performance.now() - t) * 1000) / cases.length);
  }
}
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.round((s.length - 1) * p)];
  return { median: q(0.5), p95: q(0.95), n: s.length };
};
const node = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)]));

// ---- native: the same inputs through the example binary ----
const inputs = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-siws-bench-')), 'inputs.json');
fs.writeFileSync(inputs, JSON.stringify({ domain: DOMAIN, now: NOW, cases: cases.map(({ message, signature, nonce, address }) => ({ message, signature, nonce, address })) }));
if (!args.includes('--no-build')) {
  execFileSync('cargo', ['build', '--release', '-q', '-p', 'cairn-verify', '--example', 'siws_bench'], { cwd: ROOT, stdio: 'inherit' });
}
const bin = value('--native-bin') ? path.resolve(value('--native-bin')) : path.join(ROOT, 'target', 'release', 'examples', 'siws_bench');
// taskset pins it to one core when available.
const pin = spawnSync('taskset', ['--version']).status === 0;
const run = pin
  ? spawnSync('taskset', ['-c', '0', bin, inputs, String(BUDGET_S)], { encoding: 'utf8' })
  : spawnSync(bin, [inputs, String(BUDGET_S)], { encoding: 'utf8' });
if (process.env.SIWS_BENCH_KEEP) fs.copyFileSync(inputs, process.env.SIWS_BENCH_KEEP);
fs.rmSync(path.dirname(inputs), { recursive: true, force: true });
if (run.status !== 0) throw new Error(`siws_bench failed (${run.status}): ${run.stderr}`);
const native = JSON.parse(run.stdout);
if (args.includes("--print-native")) console.error(native);

// ---- report ----
const fmt = (us) => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2));
const ratio = (k) => node[k].median / node.cairn.median;
const nativeRatio = node.rsv.median / native.medianUs;
const load = os.loadavg().map((x) => x.toFixed(2)).join(' / ');
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  if (execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim()) commit += ' (+ uncommitted changes)';
} catch {
  // not a git checkout
}
const rows = [
  ['Cairn `verifySignIn`, Node (wasm)', node.cairn, `${ratio('rsv').toFixed(2)}×`, '≥ 3×', ratio('rsv') >= 3 ? 'yes' : '**no**'],
  ['Cairn `verify_sign_in`, native (release, one core)', { median: native.medianUs, p95: native.p95Us }, `${nativeRatio.toFixed(2)}×`, '≥ 3×', nativeRatio >= 3 ? 'yes' : '**no**'],
  ['`verifyMessageSignatureRsv` (@stacks/encryption), Node — the reference', node.rsv, '1×', '', ''],
  ['JS equivalent: `publicKeyFromSignatureRsv` + `getAddressFromPublicKey` + compare, Node', node.jsRecover, `${(node.jsRecover.median / node.cairn.median).toFixed(2)}× (vs wasm)`, '', ''],
];
const md = `${BEGIN}
## Sign-In with Stacks verification

Generated by \`node bench/siws.mjs\` on ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} (commit ${commit}; load average ${load};
Node ${process.version}; ${os.cpus()[0]?.model ?? 'CPU'} × ${os.cpus().length}) — do not edit by hand; re-run the command.

Same run, same inputs: ${CASES} fresh random keys, each with a Sign-In with Stacks message (made by
Cairn's \`createSignInMessage\`, ${cases[0].message.length} bytes) signed by \`@stacks/transactions\`
\`signMessageHashRsv\` over \`@stacks/encryption\`'s \`hashMessage\`. Cairn's verification is the whole
check: strict parse, public-key recovery from the RSV signature, the recovered key's address
compared with the message's, then domain, nonce, chain and times. The reference,
\`verifyMessageSignatureRsv\`, only checks the signature against a public key it is given. In Node
the implementations run in alternating timed batches (one batch = one pass over every message;
sample = batch time / ${CASES}); natively, \`crates/verify/examples/siws_bench.rs\` (release${pin ? ', pinned to one core with `taskset -c 0`' : ''}) loops
over the same messages for ${BUDGET_S} s. ratio = reference median / this row's median.

| verification | median µs | p95 µs | ratio (reference / this) | target | met |
|---|---|---|---|---|---|
${rows.map(([name, s, r, target, met]) => `| ${name} | ${fmt(s.median)} | ${fmt(s.p95)} | ${r} | ${target} | ${met} |`).join('\n')}

Native throughput on one core: **${native.perSecond.toLocaleString('en-US')} verifications per second** of wall-clock time
(${native.verifications.toLocaleString('en-US')} in ${native.seconds} s)${native.perCpuSecond ? `, **${native.perCpuSecond.toLocaleString('en-US')} per second of CPU time**
(only the time the thread was on a CPU, from \`/proc/thread-self/schedstat\`: ${native.cpuSeconds} s; median ${fmt(native.cpuMedianUs)} µs per
verification), which is what one core gives when nothing else shares it` : ''}. Target ≥ 10,000/s:
${native.perSecond >= 10_000 ? 'met' : native.perCpuSecond >= 10_000 ? '**not met in wall-clock time** on this shared machine; met in CPU time' : '**not met**'}.
Where the native time goes (medians of each step alone): parse ${fmt(native.parseUs)} µs, public-key
recovery (\`recover_message_signer\`: hash, \`VerifyingKey::recover_from_prehash\`) ${fmt(native.recoverUs)} µs.
A profile of the native loop (\`perf record\`, 2026-12-03) puts about 90 % of the time in k256's
point arithmetic, in \`recover_from_prehash\`'s one variable-time double-scalar multiplication
(GLV + wNAF): projective additions 33 %, doublings 18 %, field squarings 10 %, the constant-time
(safegcd) inversions of r and of the result's z coordinate 11 %; the parse, the c32 address
decode and the hashes share the rest. Going faster means other curve code than RustCrypto's
(e.g. libsecp256k1's hand-tuned C, not measured here), which this project does not take on. So the
10,000/s target sits at the edge of what k256 gives on one core of this machine: runs on 2026-12-03
measured 8,800–10,200 verifications per CPU-second, while the wall-clock figure depends on how busy
the two shared cores are; a second core doubles it.
${END}`;
console.log(md);

if (!args.includes('--no-write')) {
  let doc = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  doc = a >= 0 && b > a ? doc.slice(0, a) + md + doc.slice(b + END.length) : `${doc.replace(/\n*$/, '\n\n')}${md}\n`;
  fs.writeFileSync(OUT, doc);
  console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
}
