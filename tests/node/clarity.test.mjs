// Clarity values and SIP-018 structured data (crates/core/src/protocol/clarity.rs, crates/browser/src/js_api/clarity.rs) against
// the real @stacks/transactions: random values of every type serialized by the library
// decode with Cairn to the same tree and re-serialize to the same hex, and the other way
// round; Cairn's SIP-018 hash and signature equal the library's for random domains,
// messages and keys. Run by ./test after scripts/build-wasm.sh; alone:
// node --test tests/node/clarity.test.mjs
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Cl,
  ClarityType,
  serializeCV,
  deserializeCV,
  encodeStructuredDataBytes,
  signStructuredData,
  publicKeyFromSignatureRsv,
  privateKeyToPublic,
  randomPrivateKey,
} from '@stacks/transactions';
import { c32address } from 'c32check';
import * as secp from '@noble/secp256k1';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.resolve(here, '..', '..', 'pkg');

let cairn;
before(async () => {
  assert.ok(fs.existsSync(path.join(pkgDir, 'cairn.js')), 'pkg/cairn.js missing: run scripts/build-wasm.sh first');
  cairn = await import(path.join(pkgDir, 'cairn.js'));
  cairn.initSync({ module: fs.readFileSync(path.join(pkgDir, 'cairn_bg.wasm')) });
});

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
const pick = (xs) => xs[crypto.randomInt(xs.length)];
const randomHex = (n) => crypto.randomBytes(n).toString('hex');

function randomBigInt(signed) {
  const special = signed
    ? [0n, 1n, -1n, (1n << 127n) - 1n, -(1n << 127n), 255n, -256n]
    : [0n, 1n, (1n << 128n) - 1n, 1n << 64n, 255n];
  if (crypto.randomInt(4) === 0) return pick(special);
  const raw = BigInt('0x' + randomHex(crypto.randomInt(1, 17)));
  return signed ? BigInt.asIntN(128, raw) : raw;
}

const ASCII = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~\t\n\r';
const UTF8_PIECES = ['a', 'é', '日本', '😀', '\u202e', '\u200b', '\u0000', '"', '\\', '\n', 'Ω', '\u{10ffff}'];
const randomAscii = () => Array.from({ length: crypto.randomInt(12) }, () => pick([...ASCII])).join('');
const randomUtf8 = () => Array.from({ length: crypto.randomInt(8) }, () => pick(UTF8_PIECES)).join('');
const randomAddress = () => c32address(pick([22, 26, 20, 21]), randomHex(20));
const randomName = (first, rest, max) =>
  pick([...first]) + Array.from({ length: crypto.randomInt(max) }, () => pick([...rest])).join('');
// Tuple field names in lower case, digits and '-': the library sorts fields with
// localeCompare, which agrees with Clarity's byte order for these (not for mixed case:
// see the test below).
const randomField = () => randomName('abcdefghijklmnopqrstuvwxyz', 'abcxyz0189-', 8);

function randomCV(depth = 0) {
  const kinds = depth >= 5 ? 9 : 14;
  switch (crypto.randomInt(kinds)) {
    case 0: return Cl.int(randomBigInt(true));
    case 1: return Cl.uint(randomBigInt(false));
    case 2: return Cl.bufferFromHex(randomHex(crypto.randomInt(40)));
    case 3: return Cl.bool(crypto.randomInt(2) === 0);
    case 4: return Cl.standardPrincipal(randomAddress());
    case 5: return Cl.contractPrincipal(randomAddress(), randomName('abcXYZ', 'abcXYZ0189-_', 39));
    case 6: return Cl.none();
    case 7: return Cl.stringAscii(randomAscii());
    case 8: return Cl.stringUtf8(randomUtf8());
    case 9: return Cl.some(randomCV(depth + 1));
    case 10: return Cl.ok(randomCV(depth + 1));
    case 11: return Cl.error(randomCV(depth + 1));
    case 12: return Cl.list(Array.from({ length: crypto.randomInt(4) }, () => randomCV(depth + 1)));
    default: {
      const fields = {};
      for (let i = crypto.randomInt(5); i > 0; i--) fields[randomField()] = randomCV(depth + 1);
      return Cl.tuple(fields);
    }
  }
}

/** The library's value as the JSON tree Cairn uses (BigInts as decimal strings). */
function tree(cv) {
  switch (cv.type) {
    case ClarityType.BoolTrue:
    case ClarityType.BoolFalse:
    case ClarityType.OptionalNone:
      return { type: cv.type };
    case ClarityType.Int:
    case ClarityType.UInt:
      return { type: cv.type, value: BigInt(cv.value).toString() };
    case ClarityType.OptionalSome:
    case ClarityType.ResponseOk:
    case ClarityType.ResponseErr:
      return { type: cv.type, value: tree(cv.value) };
    case ClarityType.List:
      return { type: cv.type, value: cv.value.map(tree) };
    case ClarityType.Tuple:
      return { type: cv.type, value: Object.fromEntries(Object.entries(cv.value).map(([k, v]) => [k, tree(v)])) };
    default:
      return { type: cv.type, value: cv.value };
  }
}

function randomDomainCV() {
  return Cl.tuple({
    name: Cl.stringAscii(randomAscii()),
    version: Cl.stringAscii(randomAscii()),
    'chain-id': Cl.uint(pick([1n, 2147483648n, randomBigInt(false)])),
  });
}

/** Runs f, which must throw an Error whose message matches `expected`. */
function throwsError(f, expected) {
  let thrown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof Error, `expected an Error, got ${thrown}`);
  if (typeof expected === 'string') assert.equal(thrown.message, expected);
  else assert.match(thrown.message, expected);
}

describe('Clarity values against @stacks/transactions', () => {
  test('the library\'s serialization decodes to the same tree and re-serializes to the same hex', () => {
    for (let i = 0; i < 500; i++) {
      const cv = randomCV();
      const hex = serializeCV(cv);
      const decoded = cairn.deserializeClarityValue(hex);
      assert.deepStrictEqual(decoded, tree(cv), hex);
      assert.equal(cairn.serializeClarityValue(decoded), hex);
      // The library's own objects (BigInt integers) are accepted as they are.
      assert.equal(cairn.serializeClarityValue(cv), hex);
      assert.deepStrictEqual(cairn.deserializeClarityValue('0x' + hex.toUpperCase()), decoded);
    }
  });

  test('Cairn\'s serialization decodes with the library to the same value and hex', () => {
    for (let i = 0; i < 500; i++) {
      const expected = tree(randomCV());
      const hex = cairn.serializeClarityValue(expected);
      const cv = deserializeCV(hex);
      assert.deepStrictEqual(tree(cv), expected, hex);
      assert.equal(serializeCV(cv), hex);
    }
  });

  test('every type appears with the library\'s type names', () => {
    const cv = Cl.tuple({
      i: Cl.int(-5), u: Cl.uint(5), b: Cl.bufferFromHex('00ff'), t: Cl.bool(true), f: Cl.bool(false),
      p: Cl.standardPrincipal('SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7'),
      c: Cl.contractPrincipal('SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7', 'pool-v2'),
      n: Cl.none(), s: Cl.some(Cl.stringAscii('x')), o: Cl.ok(Cl.stringUtf8('é')), e: Cl.error(Cl.uint(1)),
      l: Cl.list([Cl.int(1)]),
    });
    const decoded = cairn.deserializeClarityValue(serializeCV(cv));
    assert.deepStrictEqual(decoded.value.p, { type: 'address', value: 'SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7' });
    assert.deepStrictEqual(decoded.value.c, { type: 'contract', value: 'SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7.pool-v2' });
    assert.deepStrictEqual(decoded.value.i, { type: 'int', value: '-5' });
    assert.deepStrictEqual(decoded.value.o, { type: 'ok', value: { type: 'utf8', value: 'é' } });
    assert.deepStrictEqual(decoded, tree(cv));
  });

  test('tuple field order: Cairn reads any order, writes Clarity\'s byte order', () => {
    // The library sorts with localeCompare ('a' before 'B'); Clarity by bytes ('B' first).
    const cv = Cl.tuple({ B: Cl.uint(1), a: Cl.uint(2) });
    const hex = serializeCV(cv);
    const decoded = cairn.deserializeClarityValue(hex);
    assert.deepStrictEqual(Object.keys(decoded.value), ['a', 'B']);
    const ours = cairn.serializeClarityValue(decoded);
    assert.notEqual(ours, hex);
    assert.ok(ours.indexOf('0142') < ours.indexOf('0161'), ours);
    assert.deepStrictEqual(tree(deserializeCV(ours)), decoded);
    // Hashing uses the bytes as given, so it agrees with the library either way.
    const domain = randomDomainCV();
    assert.equal(
      cairn.hashStructuredData(serializeCV(domain), hex),
      sha256(encodeStructuredDataBytes({ message: cv, domain })),
    );
  });

  test('malformed and oversized input throws errors naming the offset and the rule', () => {
    throwsError(() => cairn.deserializeClarityValue('0f'), 'Clarity value: unknown type id 0x0f at byte 0 (types are 0x00 to 0x0e)');
    throwsError(() => cairn.deserializeClarityValue('0102'), /^Clarity value: truncated at byte 1: the uint needs 16 bytes, 1 remain$/);
    throwsError(() => cairn.deserializeClarityValue('02ffffffff'), /buffer length at byte 1 declares 4294967295/);
    throwsError(() => cairn.deserializeClarityValue('0d0000000161e9'), /trailing|unexpected bytes after the value/);
    throwsError(() => cairn.deserializeClarityValue('0d00000001e9'), /string-ascii holds byte 0xe9 at byte 5/);
    throwsError(() => cairn.deserializeClarityValue('0e00000001ff'), /string-utf8 is not valid UTF-8 at byte 5/);
    throwsError(() => cairn.deserializeClarityValue('0a'.repeat(40) + '03'), /nested more than 32 deep/);
    throwsError(() => cairn.deserializeClarityValue('0b00000001'.repeat(50000)), /nested more than 32 deep/);
    throwsError(() => cairn.deserializeClarityValue('04'.repeat((1 << 20) + 1)), /over the limit/);
    throwsError(() => cairn.deserializeClarityValue('zz'), /not valid hexadecimal/);
    throwsError(() => cairn.deserializeClarityValue(42), 'the serialized Clarity value must be a string, not 42');
    throwsError(() => cairn.serializeClarityValue({ type: 'tuple', value: { a: { type: 'uint', value: '-1' } } }), 'Clarity value: $.a: uint value -1 is out of range');
    throwsError(() => cairn.serializeClarityValue({ type: 'ascii', value: 'é' }), /\$: ascii value holds byte 0xc3/);
    throwsError(() => cairn.serializeClarityValue({ type: 'list', value: [{ type: 'bogus' }] }), 'Clarity value: $[0]: unknown type "bogus"');
  });
});

describe('SIP-018 structured data against @stacks/transactions', () => {
  test('the hash equals the library\'s for random domains and messages', () => {
    for (let i = 0; i < 200; i++) {
      const domain = randomDomainCV();
      const message = randomCV();
      assert.equal(
        cairn.hashStructuredData(serializeCV(domain), serializeCV(message)),
        sha256(encodeStructuredDataBytes({ message, domain })),
      );
    }
  });

  test('the signature equals the library\'s byte for byte and recovers to the key', () => {
    for (let i = 0; i < 100; i++) {
      const privateKey = randomPrivateKey(); // 66 hex, compressed flag
      const key = i % 2 ? privateKey : privateKey.slice(0, 64);
      const domain = randomDomainCV();
      const message = randomCV();
      const ours = cairn.signStructuredData(key, serializeCV(domain), serializeCV(message));
      assert.equal(ours, signStructuredData({ message, domain, privateKey: key }));
      assert.match(ours, /^[0-9a-f]{128}0[01]$/);
      const hash = cairn.hashStructuredData(serializeCV(domain), serializeCV(message));
      const publicKey = privateKeyToPublic(privateKey);
      assert.equal(publicKeyFromSignatureRsv(hash, ours), publicKey);
      assert.ok(secp.verify(secp.Signature.fromCompact(ours.slice(0, 128)), hash, publicKey));
    }
  });

  test('a bad domain is refused naming the field', () => {
    const message = serializeCV(Cl.uint(1));
    const domain = (fields) => serializeCV(Cl.tuple(fields));
    throwsError(
      () => cairn.hashStructuredData(domain({ name: Cl.stringAscii('a'), version: Cl.stringAscii('1') }), message),
      'SIP-018 domain: field "chain-id" is missing',
    );
    throwsError(
      () => cairn.hashStructuredData(domain({ name: Cl.stringUtf8('a'), version: Cl.stringAscii('1'), 'chain-id': Cl.uint(1) }), message),
      'SIP-018 domain: field "name" must be a string-ascii, not a string-utf8',
    );
    throwsError(
      () => cairn.signStructuredData('01'.repeat(32), domain({ name: Cl.stringAscii('a'), version: Cl.stringAscii('1'), 'chain-id': Cl.int(1) }), message),
      'SIP-018 domain: field "chain-id" must be a uint, not a int',
    );
    throwsError(() => cairn.hashStructuredData(serializeCV(Cl.uint(1)), message), /must be a tuple/);
    throwsError(() => cairn.signStructuredData('00'.repeat(32), serializeCV(randomDomainCV()), message), 'the private key is zero or larger than the curve order');
    throwsError(() => cairn.serializeClarityValue(undefined), 'the Clarity value must be a plain object');
  });

  test('renderClarityValue shows a readable tree', () => {
    const cv = Cl.tuple({ to: Cl.standardPrincipal('SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7'), memo: Cl.some(Cl.stringUtf8('hi\u202e')), n: Cl.list([Cl.int(-1)]) });
    assert.deepStrictEqual(cairn.renderClarityValue(serializeCV(cv)), [
      { depth: 0, label: '', value: 'tuple, 3 fields' },
      { depth: 1, label: 'memo', value: '(some u"hi\\u{202e}")' },
      { depth: 1, label: 'n', value: 'list, 1 item' },
      { depth: 2, label: '[0]', value: '-1' },
      { depth: 1, label: 'to', value: 'SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7' },
    ]);
  });
});
