//! Cairn derives BIP32 nodes itself (one HMAC-SHA512 and a scalar addition per step,
//! public keys only on demand). This test holds that derivation to the `bip32` crate on
//! random seeds and paths, hardened and not, including the `xprv` serialisations.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

#[path = "support/rng.rs"]
mod rng;

use bip32::{ChildNumber, Prefix, XPrv};
use cairn_core::keys::keychain::Keychain;
use cairn_core::support::encoding::to_hex;
use rng::Rng;

fn reference(seed: &[u8; 64], path: &[(u32, bool)]) -> XPrv {
    let mut node = XPrv::new(seed).unwrap();
    for (i, hardened) in path {
        node = node
            .derive_child(ChildNumber::new(*i, *hardened).unwrap())
            .unwrap();
    }
    node
}

fn key_hex(node: &XPrv) -> String {
    to_hex(&node.private_key().to_bytes())
}

#[test]
fn derivation_matches_the_bip32_crate() {
    let mut rng = Rng(0x5eed_b1b3_2c0f_fee5);
    for _ in 0..40 {
        let mut seed = [0u8; 64];
        seed.iter_mut().for_each(|b| *b = rng.next() as u8);
        let kc = Keychain::from_seed(&seed).unwrap();
        assert_eq!(
            *kc.root_xprv(),
            *reference(&seed, &[]).to_string(Prefix::XPRV)
        );

        let i = (rng.next() % 0x8000_0000) as u32;
        let small = (rng.next() % 5) as u32;
        // Identity, apps node (as xprv), collections node (as xprv).
        assert_eq!(
            *kc.identity(i).unwrap().key.to_hex(),
            key_hex(&reference(&seed, &[(888, true), (0, true), (i, true)]))
        );
        assert_eq!(
            *kc.apps_node_xprv(small).unwrap(),
            *reference(&seed, &[(888, true), (0, true), (small, true), (0, true)])
                .to_string(Prefix::XPRV)
        );
        assert_eq!(
            *kc.collections_node_xprv(small).unwrap(),
            *reference(&seed, &[(888, true), (0, true), (small, true), (3, true)])
                .to_string(Prefix::XPRV)
        );
        // STX key: the last two levels are not hardened.
        assert_eq!(
            *kc.stx_key(i).unwrap().to_hex(),
            key_hex(&reference(
                &seed,
                &[(44, true), (5757, true), (0, true), (0, false), (i, false)]
            ))
        );
        // Arbitrary hardened paths below m/888'/0'.
        let depth = 1 + rng.below(5);
        let path: Vec<u32> = (0..depth)
            .map(|_| (rng.next() % 0x8000_0000) as u32)
            .collect();
        let mut full = vec![(888, true), (0, true)];
        full.extend(path.iter().map(|i| (*i, true)));
        assert_eq!(
            *kc.derive_below_identity_keychain(&path).unwrap().to_hex(),
            key_hex(&reference(&seed, &full))
        );
    }
}
