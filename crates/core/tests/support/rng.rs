//! A deterministic test-only random generator (xorshift64*), shared by the fuzz-style
//! and crash tests of the crate and the hub so failures reproduce from a seed. Not for
//! anything cryptographic.
#![allow(dead_code)]

/// xorshift64* state.
pub(crate) struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Up to `max` random bytes.
    pub(crate) fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }
}
