// The wallet provider module as the npm package ships it (pkg/provider.js, copied by
// scripts/build-wasm.sh from www/provider.js, which the authenticator serves at /provider.js):
// the same file, at most 5 KB gzipped, and the package says how to use it. Its behaviour is
// tested in a real browser by e2e/connect.test.mjs (both the served and the packaged copy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = path.join(repo, 'pkg');
const MAX_GZIP = 5 * 1024;

test('pkg/provider.js is www/provider.js, at most 5 KB gzipped', () => {
  const shipped = fs.readFileSync(path.join(pkg, 'provider.js'));
  assert.ok(shipped.equals(fs.readFileSync(path.join(repo, 'www', 'provider.js'))),
    'pkg/provider.js differs from www/provider.js: run scripts/build-wasm.sh');
  const gz = zlib.gzipSync(shipped, { level: 9 }).length;
  assert.ok(gz <= MAX_GZIP, `provider.js is ${gz} bytes gzipped, over the ${MAX_GZIP}-byte budget`);
});

test('the package lists provider.js and its README says how to install it', () => {
  const meta = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8'));
  assert.equal(meta.type, 'module');
  for (const f of ['cairn.js', 'cairn_bg.wasm', 'provider.js', 'README.md']) {
    assert.ok(meta.files.includes(f), f);
    assert.ok(fs.existsSync(path.join(pkg, f)), f);
  }
  const readme = fs.readFileSync(path.join(pkg, 'README.md'), 'utf8');
  assert.match(readme, /import \{ installCairnProvider \} from 'cairn\/provider\.js'/);
  assert.match(readme, /installCairnProvider\('https:\/\/cairn\.example'\)/);
  // The export the README names exists.
  assert.match(fs.readFileSync(path.join(pkg, 'provider.js'), 'utf8'), /^export function installCairnProvider\(url\)/m);
});
