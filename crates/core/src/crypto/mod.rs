//! Cryptographic formats composed from RustCrypto primitives: ECIES in the Stacks layout,
//! and the bulk (AES, HMAC) steps behind a trait so that the browser can run them in
//! WebCrypto.

pub mod bulk;
pub mod ecies;
