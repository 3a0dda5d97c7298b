#!/usr/bin/env node
// Builds the demo app's Connect page bundle, demo/vendor/stacks.js (git-ignored, ≈ 1 MB):
// the real @stacks/connect 8 (its wallet picker included), @stacks/storage's Gaia calls and
// @stacks/transactions' Clarity values, bundled for the browser by the pinned esbuild of
// scripts/build-tools from the packages tests/node installs (scripts/install.sh). The page
// reads them from window.Stacks.
//
//   node scripts/build-demo.mjs [OUT_DIR]      (default demo/vendor; ./run and ./test call it)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What the page uses, nothing more (esbuild drops the rest). */
export const ENTRY = [
  "export { connect, request, disconnect, getLocalStorage, isConnected } from '@stacks/connect';",
  "export { connectToGaiaHub, uploadToGaiaHub, getFullReadUrl } from '@stacks/storage';",
  "export { Cl } from '@stacks/transactions';",
].join('\n');

/** Bundles into `outDir`/stacks.js; resolves to the file's path. */
export async function buildDemo(outDir = path.join(REPO, 'demo', 'vendor')) {
  const esbuildMain = path.join(REPO, 'scripts', 'build-tools', 'node_modules', 'esbuild', 'lib', 'main.js');
  const packages = path.join(REPO, 'tests', 'node', 'node_modules', '@stacks', 'connect');
  if (!fs.existsSync(esbuildMain) || !fs.existsSync(packages)) {
    throw new Error('esbuild or @stacks/connect is not installed: run scripts/install.sh');
  }
  const { build } = await import(pathToFileURL(esbuildMain).href);
  fs.mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, 'stacks.js');
  await build({
    stdin: { contents: ENTRY, resolveDir: path.join(REPO, 'tests', 'node'), loader: 'js' },
    bundle: true,
    format: 'iife',
    globalName: 'Stacks',
    platform: 'browser',
    minify: true,
    legalComments: 'linked',
    outfile,
    logLevel: 'error',
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  });
  return outfile;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  buildDemo(process.argv[2] ? path.resolve(process.argv[2]) : undefined).then(
    (file) => console.log(`    ${path.relative(REPO, file)}: ${fs.statSync(file).size} bytes`),
    (e) => {
      console.error(`build-demo.mjs: ${e.message}`);
      process.exit(1);
    },
  );
}
