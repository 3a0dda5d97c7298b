// The JavaScript reference, bundled by scripts/bench.sh (esbuild, browser, esm, minified)
// into bench/dist/reference.js. Every function here does what @stacks/wallet-sdk 7.4.0 /
// @stacks/auth 7.6.0 / @stacks/encryption 7.6.0 / jsontokens 4.0.1 do in a JS wallet,
// with only network I/O left out. bench.js times them against Cairn's pkg/.
import { validateMnemonic, mnemonicToSeed } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english';
import { HDKey } from '@scure/bip32';
import {
  deriveSalt,
  deriveAccount,
  DerivationType,
  getAppPrivateKey,
  getStxAddress,
  getGaiaAddress,
  makeGaiaAssociationToken,
  signProfileForUpload,
  DEFAULT_PROFILE,
} from '@stacks/wallet-sdk';
import {
  makeAuthResponse as stacksMakeAuthResponse,
  makeAuthRequestToken,
  verifyAuthRequest,
  verifyAuthResponse,
  decryptPrivateKey,
} from '@stacks/auth';
import {
  encryptECIES,
  decryptECIES,
  getPublicKeyFromPrivate,
  makeECPrivateKey,
} from '@stacks/encryption';
import { TokenSigner, TokenVerifier, decodeToken } from 'jsontokens';

export { makeAuthRequestToken, verifyAuthResponse, decryptPrivateKey, decodeToken, getPublicKeyFromPrivate, makeECPrivateKey };

/**
 * Restore as generateWallet does (minus encryptMnemonic, which only a first sign-in
 * needs): validate, seed (@scure/bip39 PBKDF2 in JS), root node, salt, account 0
 * (deriveAccount: STX key, identity ("data") key, apps node xprv).
 */
export async function restore(words) {
  if (!validateMnemonic(words, wordlist)) throw new Error('invalid Secret Key');
  const seed = await mnemonicToSeed(words);
  const rootNode = HDKey.fromMasterSeed(seed);
  const salt = await deriveSalt(rootNode);
  return deriveAccount({ rootNode, index: 0, salt, stxDerivationType: DerivationType.Wallet });
}

/** BIP39 seed only (validate + @scure/bip39 mnemonicToSeed). */
export async function bip39Seed(words) {
  if (!validateMnemonic(words, wordlist)) throw new Error('invalid Secret Key');
  return mnemonicToSeed(words);
}

/** wallet-sdk getAppPrivateKey (parses the apps-node xprv, one hardened child). */
export function appPrivateKey(account, appDomain) {
  return getAppPrivateKey({ account, appDomain });
}

/**
 * The authResponse as wallet-sdk makeAuthResponse builds it, minus the network: the hub
 * answered (hubInfo.read_url_prefix = readUrlPrefix), no stored profile (404 →
 * DEFAULT_PROFILE), the profile upload is skipped (the signed profile file is built).
 * Before that, the request is verified with @stacks/auth verifyAuthRequest and decoded,
 * as a wallet does on receipt; Cairn's Keychain.makeAuthResponse also verifies.
 */
export async function authResponse(account, authRequest, { hubUrl, readUrlPrefix }) {
  if (!(await verifyAuthRequest(authRequest))) throw new Error('invalid authRequest');
  const req = decodeToken(authRequest).payload;
  const appDomain = req.domain_name;
  const transitPublicKey = req.public_keys[0];
  const scopes = req.scopes || [];
  const appPrivateKey = getAppPrivateKey({ account, appDomain });
  const profile = structuredClone(DEFAULT_PROFILE);
  const profileUrl = `${readUrlPrefix}${getGaiaAddress(account)}/profile.json`;
  let profileFile = null;
  if (scopes.includes('publish_data')) {
    const publicKey = getPublicKeyFromPrivate(appPrivateKey);
    const storageUrl = `${readUrlPrefix}${publicKeyToAddress(publicKey)}/`;
    profile.apps = { [appDomain]: storageUrl };
    profile.appsMeta = { [appDomain]: { storage: storageUrl, publicKey } };
    profileFile = signProfileForUpload({ profile, account });
  }
  const compressedAppPublicKey = getPublicKeyFromPrivate(appPrivateKey.slice(0, 64));
  const associationToken = makeGaiaAssociationToken({
    privateKey: account.dataPrivateKey,
    childPublicKeyHex: compressedAppPublicKey,
  });
  const token = await stacksMakeAuthResponse(
    account.dataPrivateKey,
    {
      ...profile,
      stxAddress: {
        testnet: getStxAddress({ account, network: 'testnet' }),
        mainnet: getStxAddress({ account, network: 'mainnet' }),
      },
    },
    { profileUrl },
    undefined,
    appPrivateKey,
    undefined,
    transitPublicKey,
    hubUrl,
    undefined,
    associationToken,
    null,
  );
  return { authResponse: token, appPrivateKey, profileFile };
}

import { publicKeyToBtcAddress } from '@stacks/encryption';
function publicKeyToAddress(pk) {
  return publicKeyToBtcAddress(pk);
}

const enc = new TextEncoder();

/** @stacks/encryption encryptECIES of a string; the cipher object as JSON text (as stored). */
export async function eciesEncrypt(publicKeyHex, text) {
  return JSON.stringify(await encryptECIES(publicKeyHex, enc.encode(text), true));
}

/** @stacks/encryption decryptECIES of a cipher object's JSON text. */
export async function eciesDecrypt(privateKeyHex, cipherJson) {
  return decryptECIES(privateKeyHex, JSON.parse(cipherJson));
}

/** jsontokens ES256K sign of a payload object. */
export function jwtSign(payload, privateKeyHex) {
  return new TokenSigner('ES256K', privateKeyHex).sign(payload);
}

/** jsontokens decode + ES256K verify. */
export function jwtVerify(token, publicKeyHex) {
  return new TokenVerifier('ES256K', publicKeyHex).verify(token);
}

// ---- the wallet interface's signatures (stx_signMessage, stx_signStructuredMessage) ----
// What a JavaScript wallet does with the request's params: @stacks/encryption hashMessage
// then @stacks/transactions signMessageHashRsv; for SIP-018 the params arrive as hex
// Clarity values: deserializeCV, then signStructuredData (encode, hash, sign).
import { hashMessage, verifyMessageSignatureRsv } from '@stacks/encryption';
import {
  signMessageHashRsv,
  deserializeCV,
  signStructuredData,
  encodeStructuredDataBytes,
  Cl,
} from '@stacks/transactions';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@stacks/common';

export { Cl, verifyMessageSignatureRsv };

/** stx_signMessage as a JS wallet answers it: RSV hex of the Stacks message hash. */
export function signMessage(privateKey, message) {
  return signMessageHashRsv({ messageHash: bytesToHex(hashMessage(message)), privateKey });
}

/** stx_signStructuredMessage: hex domain and message → RSV hex. */
export function signStructured(privateKey, domainHex, messageHex) {
  return signStructuredData({ domain: deserializeCV(domainHex), message: deserializeCV(messageHex), privateKey });
}

/** The SIP-018 hash of hex domain and message (hex). */
export function hashStructured(domainHex, messageHex) {
  return bytesToHex(sha256(encodeStructuredDataBytes({ domain: deserializeCV(domainHex), message: deserializeCV(messageHex) })));
}
