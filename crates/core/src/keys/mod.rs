//! Keys: the Secret Key (a BIP39 mnemonic), the keychain derived from it, the secp256k1
//! key types every protocol uses, and the password-encrypted vault that keeps the Secret
//! Key at rest.

pub mod keychain;
pub mod mnemonic;
pub mod secp256k1;
pub mod vault;

pub use secp256k1::*;
