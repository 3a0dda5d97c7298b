// The keychain JS API of pkg/ (wasm-bindgen --target web), checked from Node against the
// shared vectors (produced by the real @stacks libraries). Run by ./test after
// scripts/build-wasm.sh; alone: node --test tests/node/keychain.test.mjs
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const pkgDir = path.join(repo, 'pkg');
const vectorsPath = path.join(repo, 'tests', 'data', 'stacks-vectors.json');

const V = JSON.parse(fs.readFileSync(vectorsPath, 'utf8'));
const WALLETS = V.derivation.wallets;
const ABOUT = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

let cairn;
before(async () => {
  assert.ok(fs.existsSync(path.join(pkgDir, 'cairn.js')), 'pkg/cairn.js missing: run scripts/build-wasm.sh first');
  cairn = await import(path.join(pkgDir, 'cairn.js'));
  cairn.initSync({ module: fs.readFileSync(path.join(pkgDir, 'cairn_bg.wasm')) });
});

/** Runs f, which must throw an Error whose message matches `expected` (string = exact). */
function throwsError(f, expected) {
  let thrown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected an Error matching ${expected}, but nothing was thrown`);
  assert.ok(thrown instanceof Error, `thrown value is not an Error: ${String(thrown)}`);
  assert.ok(!(thrown instanceof WebAssembly.RuntimeError), `wasm trap: ${thrown.message}`);
  if (typeof expected === 'string') assert.equal(thrown.message, expected);
  else assert.match(thrown.message, expected);
  return thrown;
}

/** STX private keys in the vectors carry the legacy "01" compressed suffix. */
const strip01 = (hex) => (hex.length === 66 && hex.endsWith('01') ? hex.slice(0, 64) : hex);

const INDEX_ERROR = 'an identity index must be a whole number from 0 to 2147483647';

describe('vectors: derivation', () => {
  test('the vectors cover 3 wallets, 2 accounts each, 3 app domains each', () => {
    assert.equal(WALLETS.length, 3);
    for (const w of WALLETS) {
      assert.equal(w.identities.length, 2);
      for (const id of w.identities) assert.equal(id.apps.length, 3);
    }
  });

  for (const [wi, w] of WALLETS.entries()) {
    test(`wallet ${wi}: salt, identities, app keys, STX addresses`, () => {
      const kc = cairn.Keychain.fromMnemonic(w.mnemonic);
      try {
        assert.equal(kc.salt(), w.salt.walletSdk);
        assert.equal(kc.salt(), w.salt.legacyBlockstackJs);
        for (const id of w.identities) {
          const i = id.index;
          assert.equal(kc.identityAddress(i), id.identityAddress, `identityAddress(${i})`);
          assert.equal(kc.identityPublicKey(i), id.publicKey, `identityPublicKey(${i})`);
          assert.equal(kc.did(i), id.did, `did(${i})`);
          assert.equal(kc.did(i), `did:btc-addr:${id.identityAddress}`);
          assert.equal(kc.stxAddress(i, true), id.stx.mainnet, `stxAddress(${i}, true)`);
          assert.equal(kc.stxAddress(i, false), id.stx.testnet, `stxAddress(${i}, false)`);
          for (const app of id.apps) {
            const key = kc.appPrivateKey(i, app.appDomain);
            assert.equal(key, app.appPrivateKey, `appPrivateKey(${i}, ${app.appDomain})`);
            assert.match(key, /^[0-9a-f]{64}$/);
            assert.notEqual(key, app.longPathVariant.appPrivateKey, 'must not be the 11-level longPathVariant');
          }
        }
      } finally {
        kc.free();
      }
    });
  }

  test('the 24-word mnemonic is accepted with messy layout and capitals', () => {
    const w = WALLETS.find((x) => x.mnemonic.split(' ').length === 24);
    assert.ok(w, 'a 24-word wallet in the vectors');
    const messy = '  ' + w.mnemonic.toUpperCase().split(' ').join(' \n\t ') + '  ';
    assert.equal(cairn.validateMnemonic(messy), w.mnemonic);
    const kc = cairn.Keychain.fromMnemonic(messy);
    assert.equal(kc.salt(), w.salt.walletSdk);
    kc.free();
  });
});

describe('vectors: collectionsSample', () => {
  test('collection bucket address and encryption key (generation 0)', () => {
    const cs = V.collectionsSample;
    const w = WALLETS[0];
    const kc = cairn.Keychain.fromMnemonic(w.mnemonic);
    try {
      const i = cs.inputs.accountIndex;
      const name = cs.inputs.collection;
      assert.equal(kc.appPrivateKey(i, cs.inputs.appDomain), cs.derived.appPrivateKey);
      assert.equal(kc.collectionBucketAddress(i, name), cs.derived.bucketKey.gaiaBucketAddress);
      assert.equal(kc.collectionBucketAddress(i, name), cs.authenticatorSide.collectionHubConfig.address);
      assert.equal(
        kc.collectionEncryptionKey(i, name, cs.derived.encryptionKey.encryptionKeyIndex),
        cs.derived.encryptionKey.privateKey,
      );
      assert.equal(kc.collectionEncryptionKey(i, name, 0), cs.authenticatorSide.keyFilePlaintext[name].encryptionKey);
      // Other generations and collections give other keys.
      assert.notEqual(kc.collectionEncryptionKey(i, name, 1), cs.derived.encryptionKey.privateKey);
      assert.notEqual(kc.collectionBucketAddress(i, 'contacts'), cs.derived.bucketKey.gaiaBucketAddress);
      assert.notEqual(kc.collectionBucketAddress(1, name), cs.derived.bucketKey.gaiaBucketAddress);
    } finally {
      kc.free();
    }
  });

  test('STX private keys in the vectors are what the STX addresses are made from', () => {
    // A consistency check of the vectors' own conventions (the API returns addresses only).
    for (const w of WALLETS) for (const id of w.identities) assert.match(strip01(id.stx.privateKey), /^[0-9a-f]{64}$/);
  });
});

describe('generateMnemonic', () => {
  for (const n of [12, 24]) {
    test(`${n} words: valid, canonical, different each time`, () => {
      const seen = new Set();
      for (let k = 0; k < 5; k++) {
        const m = cairn.generateMnemonic(n);
        assert.equal(m.split(' ').length, n);
        assert.match(m, /^[a-z]+( [a-z]+)*$/);
        assert.equal(cairn.validateMnemonic(m), m);
        const kc = cairn.Keychain.fromMnemonic(m);
        assert.match(kc.identityAddress(0), /^1[1-9A-HJ-NP-Za-km-z]{25,34}$/);
        kc.free();
        seen.add(m);
      }
      assert.equal(seen.size, 5);
    });
  }

  test('other word counts throw', () => {
    throwsError(() => cairn.generateMnemonic(13), 'a new Secret Key has 12 or 24 words, not 13');
    throwsError(() => cairn.generateMnemonic(15), 'a new Secret Key has 12 or 24 words, not 15');
    throwsError(() => cairn.generateMnemonic(0), 'a new Secret Key has 12 or 24 words, not 0');
    throwsError(() => cairn.generateMnemonic(-12), 'a new Secret Key has 12 or 24 words, not -12');
    throwsError(() => cairn.generateMnemonic(12.5), 'a new Secret Key has 12 or 24 words, not 12.5');
    throwsError(() => cairn.generateMnemonic(NaN), 'a new Secret Key has 12 or 24 words, not NaN');
    throwsError(() => cairn.generateMnemonic('12'), 'a new Secret Key has 12 or 24 words, not a string');
    throwsError(() => cairn.generateMnemonic(), 'a new Secret Key has 12 or 24 words, not undefined');
  });
});

describe('validateMnemonic and Keychain.fromMnemonic errors', () => {
  const words = ABOUT.split(' ');
  const cases = [
    [
      'unknown word: position and one suggestion',
      ['abandon', 'abandn', ...words.slice(2)].join(' '),
      'word 2 is not a valid Secret Key word; did you mean "abandon"?',
    ],
    [
      'unknown word: position and several suggestions',
      [...words.slice(0, 11), 'abuot'].join(' '),
      'word 12 is not a valid Secret Key word; did you mean one of "about", "abuse", "adult"?',
    ],
    ['wrong word count (13)', `${ABOUT} abandon`, 'the Secret Key has 13 words; it should have 12 or 24 words'],
    ['wrong word count (1)', 'abandon', 'the Secret Key has 1 word; it should have 12 or 24 words'],
    [
      'bad checksum',
      [...words.slice(0, 11), 'abandon'].join(' '),
      "the Secret Key's checksum does not match: one of the words is wrong or the words are out of order",
    ],
    ['empty', '   ', 'the Secret Key is empty: enter its 12 or 24 words'],
    ['not a string', 123, 'the Secret Key must be a string, not 123'],
    ['undefined', undefined, 'the Secret Key must be a string, not undefined'],
  ];
  for (const [what, input, message] of cases) {
    test(what, () => {
      throwsError(() => cairn.validateMnemonic(input), message);
      throwsError(() => cairn.Keychain.fromMnemonic(input), message);
    });
  }
  test('a valid mnemonic is returned in canonical form', () => {
    assert.equal(cairn.validateMnemonic(`  ${ABOUT.toUpperCase()}\n`), ABOUT);
  });
  test('the unknown word itself is not echoed (it may be part of a secret)', () => {
    const e = throwsError(() => cairn.validateMnemonic([...words.slice(0, 11), 'qqqqzzz'].join(' ')), /^word 12 /);
    assert.ok(!e.message.includes('qqqqzzz'));
  });
});

describe('Keychain: bad input throws a clear Error, never a trap', () => {
  let kc;
  before(() => {
    kc = cairn.Keychain.fromMnemonic(ABOUT);
  });

  const badIndices = [-1, 1.5, NaN, 2 ** 31, 1e20, Infinity, -0.5, null, undefined, '0', true];
  for (const bad of badIndices) {
    test(`index ${typeof bad === 'string' ? JSON.stringify(bad) : String(bad)}`, () => {
      throwsError(() => kc.identityAddress(bad), INDEX_ERROR);
      throwsError(() => kc.identityPublicKey(bad), INDEX_ERROR);
      throwsError(() => kc.did(bad), INDEX_ERROR);
      throwsError(() => kc.appPrivateKey(bad, 'https://example.com'), INDEX_ERROR);
      throwsError(() => kc.stxAddress(bad, true), INDEX_ERROR);
      throwsError(() => kc.collectionBucketAddress(bad, 'contact'), INDEX_ERROR);
      throwsError(() => kc.collectionEncryptionKey(bad, 'contact', 0), INDEX_ERROR);
    });
  }

  test('the largest index, 2**31 - 1, works', () => {
    assert.match(kc.did(2 ** 31 - 1), /^did:btc-addr:1/);
    assert.match(kc.stxAddress(2 ** 31 - 1, true), /^SP/);
  });

  test('the keychain still works after errors', () => {
    assert.equal(kc.identityAddress(0), WALLETS[0].identities[0].identityAddress);
  });

  const badDomains = [
    ['example.com', 'invalid app domain: it must start with https:// or http://'],
    ['https://example.com/', 'invalid app domain: it must be an origin only, with no path, query or trailing slash'],
    ['https://example.com/app', 'invalid app domain: it must be an origin only, with no path, query or trailing slash'],
    ['https://', 'invalid app domain: it has no host name'],
    ['https://user@example.com', 'invalid app domain: it must not contain user information'],
    ['ftp://example.com', 'invalid app domain: it must start with https:// or http://'],
    ['', 'invalid app domain: it must start with https:// or http://'],
  ];
  for (const [domain, message] of badDomains) {
    test(`app domain ${JSON.stringify(domain)}`, () => {
      throwsError(() => kc.appPrivateKey(0, domain), message);
    });
  }
  test('app domain of the wrong type', () => {
    throwsError(() => kc.appPrivateKey(0, undefined), 'the app domain must be a string, not undefined');
    throwsError(() => kc.appPrivateKey(0, 42), 'the app domain must be a string, not 42');
  });

  const nameRule = "use 1 to 32 characters, a lower-case letter first, then lower-case letters, digits, '_' or '-'";
  for (const name of ['Contact', '', '1contact', 'a'.repeat(33), 'con tact', 'contact/x']) {
    test(`collection name ${JSON.stringify(name)}`, () => {
      const message = `invalid collection name ${JSON.stringify(name)}: ${nameRule}`;
      throwsError(() => kc.collectionBucketAddress(0, name), message);
      throwsError(() => kc.collectionEncryptionKey(0, name, 0), message);
    });
  }
  test('collection name of the wrong type', () => {
    throwsError(() => kc.collectionBucketAddress(0, null), 'the collection name must be a string, not null');
  });

  test('bad collection key generation', () => {
    const message = 'a collection key generation must be a whole number from 0 to 4294967295';
    for (const g of [-1, 0.5, NaN, 2 ** 32, undefined, '0']) {
      throwsError(() => kc.collectionEncryptionKey(0, 'contact', g), message);
    }
    assert.match(kc.collectionEncryptionKey(0, 'contact', 2 ** 32 - 1), /^[0-9a-f]{64}$/);
  });

  test('mainnet must be a boolean', () => {
    throwsError(() => kc.stxAddress(0, 'yes'), 'mainnet must be true or false, not a string');
    throwsError(() => kc.stxAddress(0), 'mainnet must be true or false, not undefined');
    throwsError(() => kc.stxAddress(0, 1), 'mainnet must be true or false, not 1');
  });

  test('a freed keychain throws an Error, not a trap', () => {
    const k = cairn.Keychain.fromMnemonic(ABOUT);
    k.free();
    throwsError(() => k.salt(), /./);
  });
});

describe('vault: synchronous and WebCrypto forms read each other', () => {
  // The smallest parameters Cairn accepts (19 MiB, 2 passes), so the suite stays quick.
  const P = { m: 19456, t: 2, p: 1 };

  test('vaultSealAsync → vaultOpen and vaultSeal → vaultOpenAsync', async () => {
    const a = await cairn.vaultSealAsync(ABOUT, 'correct horse', P);
    assert.equal(JSON.parse(a).cipher, 'aes-256-gcm');
    assert.equal(cairn.vaultOpen(a, 'correct horse'), ABOUT);
    const b = cairn.vaultSeal(ABOUT, 'correct horse', P);
    assert.equal(await cairn.vaultOpenAsync(b, 'correct horse'), ABOUT);
    assert.equal(await cairn.vaultOpenAsync(a, 'correct horse'), ABOUT);
  });

  test('vaultOpenAsync: a wrong password or an altered record rejects with code wrong_password', async () => {
    const rec = await cairn.vaultSealAsync(ABOUT, 'correct horse', P);
    await assert.rejects(cairn.vaultOpenAsync(rec, 'wrong horse'), (e) => {
      assert.ok(e instanceof Error);
      assert.equal(e.code, 'wrong_password');
      return true;
    });
    const r = JSON.parse(rec);
    const ct = Buffer.from(r.ct, 'base64');
    ct[0] ^= 1;
    const altered = JSON.stringify({ ...r, ct: ct.toString('base64') });
    await assert.rejects(cairn.vaultOpenAsync(altered, 'correct horse'), (e) => e.code === 'wrong_password');
    // The synchronous form agrees.
    throwsError(() => cairn.vaultOpen(altered, 'correct horse'), 'wrong password');
  });

  test('vault secrets as bytes: zeroed once read, the Secret Key comes back as bytes', async () => {
    const utf8 = (s) => new TextEncoder().encode(s);
    const phrase = utf8(ABOUT);
    const password = utf8('correct horse');
    const rec = await cairn.vaultSealAsync(phrase, password, P);
    assert.ok(phrase.every((b) => b === 0), 'the Secret Key bytes were zeroed');
    assert.ok(password.every((b) => b === 0), 'the password bytes were zeroed');
    const pw2 = utf8('correct horse');
    const out = await cairn.vaultOpenAsync(rec, pw2);
    assert.ok(out instanceof Uint8Array, 'bytes in, bytes out');
    assert.equal(new TextDecoder().decode(out), ABOUT);
    assert.ok(pw2.every((b) => b === 0));
    // A string password still gives a string, and the two forms read each other.
    assert.equal(await cairn.vaultOpenAsync(rec, 'correct horse'), ABOUT);
    await assert.rejects(cairn.vaultOpenAsync(rec, utf8('wrong horse')), (e) => e.code === 'wrong_password');
    await assert.rejects(cairn.vaultOpenAsync(rec, new Uint8Array([0xff, 0xfe])), /UTF-8/);
  });

  test('vaultSealAsync refuses a bad Secret Key and an empty password', async () => {
    await assert.rejects(cairn.vaultSealAsync('abandon abandon', 'pw', P), /Secret Key has 2 words/);
    await assert.rejects(cairn.vaultSealAsync(ABOUT, '', P), (e) => e.code === 'empty_password');
  });
});
