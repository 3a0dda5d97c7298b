// Shrinks the authenticator page's module and its JS glue, in place:
//
//   node scripts/build-tools/shrink-page.mjs pkg/app
//
// 1. wasm-opt (binaryen) at -O2 with shrinking and *no inlining*: rustc has already
//    inlined what pays; binaryen's own inlining makes the module smaller raw but larger
//    gzipped, which is what the page's users download.
// 2. Short names for the module's imports and exports. wasm-bindgen names every import
//    `__wbg_<name>_<16 hex digits>`: random text that neither the module nor the glue
//    compresses. wasm-opt renames them (and prints the mapping); the glue is rewritten to
//    match. Every rename must match exactly once in the glue, or the build stops.
// 3. A second wasm-opt run of a few size passes over -O2's output.
// 4. esbuild minifies the glue.
//
// Measured effects are in docs/BENCHMARKS.md (bench/FINDINGS.md).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2];
if (!dir) throw new Error('usage: shrink-page.mjs <wasm-bindgen out-dir>');
const wasmPath = path.join(dir, 'cairn_bg.wasm');
const jsPath = path.join(dir, 'cairn.js');

// The features rustc enables for wasm32-unknown-unknown (Rust ≥ 1.82); wasm-bindgen's
// output carries no target_features section to read them from.
const features = [
  '--enable-bulk-memory', '--enable-bulk-memory-opt', '--enable-nontrapping-float-to-int',
  '--enable-sign-ext', '--enable-mutable-globals', '--enable-reference-types',
  '--enable-multivalue',
];
const noInlining = ['-aimfs', '0', '-ocimfs', '0', '-fimfs', '0'];
const out = execFileSync(
  path.join(here, 'node_modules/.bin/wasm-opt'),
  ['-O2', '-s', '2', ...noInlining, '--minify-imports-and-exports-and-modules', ...features,
    wasmPath, '-o', wasmPath],
  { encoding: 'utf8', maxBuffer: 1 << 26 },
);
// A second run over -O2's output: merge identical code tails, pack locals by learned
// order, then tidy the blocks that leaves. Inside the first run these passes found little
// (-O2's own passes come after them); on its output they take 0.2 % off the gzipped
// module (docs/BENCHMARKS.md). No inlining here either.
execFileSync(
  path.join(here, 'node_modules/.bin/wasm-opt'),
  ['--code-folding', '--coalesce-locals-learning', '--reorder-locals', '--merge-blocks',
    '--remove-unused-brs', '--vacuum', ...features, wasmPath, '-o', wasmPath],
  { encoding: 'utf8', maxBuffer: 1 << 26 },
);
const map = JSON.parse(out.slice(out.indexOf('{')));

// The module name: every import now comes from the same one-letter module.
const wasm = fs.readFileSync(wasmPath);
const module = importModuleName(wasm);

let js = fs.readFileSync(jsPath, 'utf8');
const once = (pattern, replacement, what) => {
  const matches = js.match(pattern);
  if (!matches || matches.length !== 1) {
    throw new Error(`${what}: expected exactly one match of ${pattern} in ${jsPath}, found ${matches?.length ?? 0}`);
  }
  js = js.replace(pattern, replacement);
};
const escape = (s) => s.replace(/[$]/g, '\\$');
for (const [mod, name, short] of map.imports) {
  if (mod !== './cairn_bg.js') throw new Error(`unexpected import module ${mod}`);
  once(new RegExp(`(?<![\\w$])${escape(name)}:`, 'g'), `${JSON.stringify(short)}:`, `import ${name}`);
}
once(/"\.\/cairn_bg\.js": import0/g, `${JSON.stringify(module)}: import0`, 'the import module');
for (const [name, short] of map.exports) {
  const uses = new RegExp(`\\bwasm\\.${escape(name)}(?![\\w$])`, 'g');
  js = js.replace(uses, `wasm[${JSON.stringify(short)}]`);
}
if (/\bwasm\.(?!\[)[A-Za-z_$]/.test(js.replace(/\bwasm\[/g, ''))) {
  const left = js.match(/\bwasm\.[A-Za-z_$][\w$]*/g);
  throw new Error(`exports left unrenamed in ${jsPath}: ${[...new Set(left)].join(', ')}`);
}

js = (await esbuild.transform(js, { minify: true, format: 'esm', logLevel: 'warning' })).code;
fs.writeFileSync(jsPath, js);
// It described the module's exports by their old names.
fs.rmSync(path.join(dir, 'cairn_bg.wasm.d.ts'), { force: true });

/** The module name of the first import in a wasm binary. */
function importModuleName(bytes) {
  let i = 8;
  const leb = () => {
    let r = 0, s = 0, b;
    do { b = bytes[i++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80);
    return r >>> 0;
  };
  while (i < bytes.length) {
    const id = bytes[i++];
    const size = leb();
    if (id === 2) {
      leb(); // count
      const len = leb();
      return new TextDecoder().decode(bytes.subarray(i, i + len));
    }
    i += size;
  }
  throw new Error(`${wasmPath} has no imports`);
}
