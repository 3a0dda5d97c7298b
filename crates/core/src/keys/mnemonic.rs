//! The Secret Key: a BIP39 English mnemonic of 12 or 24 words.
//!
//! Parsing is forgiving about layout (extra spaces, line breaks, capitals) and precise
//! about mistakes: the error names the word position and suggests the closest valid
//! words, or says the word count or checksum is wrong.

use crate::support::encoding::sha256;
use std::fmt;
use std::sync::OnceLock;
use zeroize::{Zeroize, Zeroizing};

/// Why a Secret Key was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MnemonicError {
    /// No words at all.
    Empty,
    /// The number of words is not one BIP39 allows (Cairn accepts 12, 15, 18, 21, 24).
    WordCount {
        /// How many words were given.
        found: usize,
    },
    /// A word is not in the BIP39 English list.
    UnknownWord {
        /// 1-based position of the word.
        position: usize,
        /// Closest valid words, best first (may be empty).
        suggestions: Vec<&'static str>,
    },
    /// Every word is valid but the checksum does not match: a word is wrong or words
    /// are in the wrong order.
    Checksum,
    /// Only 12 or 24 words can be generated.
    UnsupportedLength {
        /// The length asked for.
        requested: u32,
    },
    /// The system random number generator failed.
    Randomness,
}

impl fmt::Display for MnemonicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MnemonicError::Empty => f.write_str("the Secret Key is empty: enter its 12 or 24 words"),
            MnemonicError::WordCount { found } => write!(
                f,
                "the Secret Key has {found} word{}; it should have 12 or 24 words",
                if *found == 1 { "" } else { "s" }
            ),
            MnemonicError::UnknownWord {
                position,
                suggestions,
            } => {
                write!(f, "word {position} is not a valid Secret Key word")?;
                match suggestions.as_slice() {
                    [] => Ok(()),
                    [one] => write!(f, "; did you mean \"{one}\"?"),
                    many => {
                        let quoted: Vec<String> = many.iter().map(|w| format!("\"{w}\"")).collect();
                        write!(f, "; did you mean one of {}?", quoted.join(", "))
                    }
                }
            }
            MnemonicError::Checksum => f.write_str(
                "the Secret Key's checksum does not match: one of the words is wrong or the words are out of order",
            ),
            MnemonicError::UnsupportedLength { requested } => write!(
                f,
                "a new Secret Key has 12 or 24 words, not {requested}"
            ),
            MnemonicError::Randomness => {
                f.write_str("the system random number generator is not available")
            }
        }
    }
}

impl std::error::Error for MnemonicError {}

/// A validated Secret Key in canonical form (lower-case words separated by single
/// spaces). The text is wiped when dropped.
pub struct SecretKey {
    phrase: Zeroizing<String>,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({} words)", self.word_count())
    }
}

impl SecretKey {
    /// Generates a new Secret Key of 12 or 24 words from the system CSPRNG.
    pub fn generate(word_count: u32) -> Result<Self, MnemonicError> {
        let len = match word_count {
            12 => 16,
            24 => 32,
            other => return Err(MnemonicError::UnsupportedLength { requested: other }),
        };
        let mut entropy = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut entropy[..len]).map_err(|_| MnemonicError::Randomness)?;
        Ok(SecretKey {
            phrase: phrase_of(&entropy[..len]),
        })
    }

    /// Parses and validates user input.
    pub fn parse(input: &str) -> Result<Self, MnemonicError> {
        let mut canonical = Zeroizing::new(String::with_capacity(input.len()));
        let mut count = 0;
        for word in input.split_whitespace() {
            if count > 0 {
                canonical.push(' ');
            }
            for c in word.chars() {
                canonical.push(c.to_ascii_lowercase());
            }
            count += 1;
        }
        if count == 0 {
            return Err(MnemonicError::Empty);
        }
        // Report unknown words first: they are the most actionable mistake.
        for (i, word) in canonical.split(' ').enumerate() {
            if word_index(word).is_none() {
                return Err(MnemonicError::UnknownWord {
                    position: i + 1,
                    suggestions: suggest(word),
                });
            }
        }
        if !matches!(count, 12 | 15 | 18 | 21 | 24) {
            return Err(MnemonicError::WordCount { found: count });
        }
        if !checksum_ok(&canonical) {
            return Err(MnemonicError::Checksum);
        }
        // Every word is plain ASCII from the English list, so the text is already NFKD.
        Ok(SecretKey { phrase: canonical })
    }

    /// The canonical phrase.
    pub fn phrase(&self) -> &str {
        &self.phrase
    }

    /// Number of words.
    pub fn word_count(&self) -> usize {
        self.phrase.split(' ').count()
    }

    /// The BIP39 seed with the empty passphrase (PBKDF2-HMAC-SHA512, 2048 rounds).
    pub fn to_seed(&self) -> Zeroizing<[u8; 64]> {
        // BIP39: PBKDF2-HMAC-SHA512 of the (already NFKD, ASCII) phrase, salt "mnemonic"
        // + the empty passphrase. RustCrypto's pbkdf2 over the sha2 we already ship, not
        // bip39's `to_seed`, which would bring a second SHA-512 (bitcoin_hashes) along;
        // tests/vectors.rs checks the result against the BIP39 vectors and bip39's own.
        let mut seed = Zeroizing::new([0u8; 64]);
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(
            self.phrase.as_bytes(),
            b"mnemonic",
            2048,
            seed.as_mut(),
        );
        seed
    }
}

// BIP39's encoding (the word list itself is bip39's): the entropy followed by the first
// ENT/32 bits of its SHA-256, cut into 11-bit word indices. Done here with the sha2 we
// already ship; bip39's own would add a second SHA-256 (bitcoin_hashes) to the page.
// Tests check both directions against bip39's `from_entropy` and `parse`.

/// Bit `i` (most significant first) of `bytes`.
fn bit(bytes: &[u8], i: usize) -> u16 {
    u16::from((bytes[i / 8] >> (7 - i % 8)) & 1)
}

/// The phrase of `entropy` (16 to 32 bytes, a multiple of 4).
fn phrase_of(entropy: &[u8]) -> Zeroizing<String> {
    let words = english_words();
    let hash = sha256(entropy);
    let ent = entropy.len() * 8;
    let mut phrase = Zeroizing::new(String::new());
    for w in 0..(ent + ent / 32) / 11 {
        let mut index = 0usize;
        for b in w * 11..w * 11 + 11 {
            let v = if b < ent {
                bit(entropy, b)
            } else {
                bit(&hash, b - ent)
            };
            index = index << 1 | usize::from(v);
        }
        if w > 0 {
            phrase.push(' ');
        }
        phrase.push_str(words[index]);
    }
    phrase
}

/// Whether a canonical phrase of known words (12 to 24, a multiple of 3) has the right
/// checksum.
fn checksum_ok(phrase: &str) -> bool {
    let mut bits: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(24 * 11));
    for word in phrase.split(' ') {
        let Some(index) = word_index(word) else {
            return false;
        };
        bits.extend((0..11).rev().map(|k| ((index >> k) & 1) as u8));
    }
    let ent = bits.len() * 32 / 33;
    let mut entropy = Zeroizing::new(vec![0u8; ent / 8]);
    for (i, b) in bits[..ent].iter().enumerate() {
        entropy[i / 8] |= b << (7 - i % 8);
    }
    let hash = sha256(&entropy);
    (0..bits.len() - ent).all(|i| u16::from(bits[ent + i]) == bit(&hash, i))
}

/// The BIP39 English word list (one word per line, in list order). Kept as one string
/// rather than an array of `&str`: the array's 2048 pointer-and-length pairs would add
/// 16 KB to the wasm module (4.6 KB gzipped) for lookups that are linear scans anyway.
/// A test checks it against the bip39 crate's list.
const ENGLISH: &str = include_str!("bip39-english.txt");

/// The BIP39 English words, in list order (which is alphabetical), split out of
/// [`ENGLISH`] once: the index lives on the heap, not in the module.
fn english_words() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| ENGLISH.split_terminator('\n').collect())
}

/// A word's index in the list.
fn word_index(word: &str) -> Option<usize> {
    english_words().binary_search(&word).ok()
}

/// Up to three valid words closest to `word`: an exact 4-letter prefix match first
/// (BIP39 English words are unique in their first four letters), then the words at the
/// smallest edit distance (at most 2).
fn suggest(word: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    // BIP39 English words have at most 8 letters; anything much longer is not a typo
    // of one (and would make the edit-distance scan needlessly slow).
    if word.chars().count() > 12 {
        return out;
    }
    if word.len() >= 4
        && word.is_ascii()
        && let Some(w) = english_words().iter().find(|w| w.starts_with(&word[..4]))
    {
        out.push(*w);
    }
    let mut scored: Vec<(usize, &'static str)> = english_words()
        .iter()
        .map(|w| (edit_distance(word, w), *w))
        .filter(|(d, _)| *d <= 2)
        .collect();
    crate::support::sorting::sort_by(&mut scored, |a, b| a.cmp(b));
    for (_, w) in scored {
        if out.len() >= 3 {
            break;
        }
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    prev.zeroize();
    d
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use bip39::{Language, Mnemonic};

    #[test]
    fn word_list_is_bip39_english() {
        let ours = english_words();
        assert_eq!(ours.len(), 2048);
        assert_eq!(ours, Language::English.word_list());
        // `word_index` binary-searches it.
        assert!(ours.windows(2).all(|w| w[0] < w[1]));
        for (i, w) in ours.iter().enumerate() {
            assert_eq!(word_index(w), Some(i));
        }
        assert_eq!(word_index("abandonn"), None);
    }

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn encoding_matches_bip39_crate() {
        let mut x: u64 = 0x0123_4567_89ab_cdef;
        for round in 0..200 {
            let len = [16, 20, 24, 28, 32][round % 5];
            let entropy: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let ours = phrase_of(&entropy);
            let theirs = Mnemonic::from_entropy(&entropy).unwrap().to_string();
            assert_eq!(*ours, theirs);
            assert!(SecretKey::parse(&ours).is_ok());
            // Changing the last word almost always breaks the checksum; whatever we
            // decide, bip39 decides the same.
            let mut words: Vec<&str> = ours.split(' ').collect();
            let last = words.len() - 1;
            words[last] = if words[last] == "zoo" {
                "abandon"
            } else {
                "zoo"
            };
            let changed = words.join(" ");
            assert_eq!(
                SecretKey::parse(&changed).is_ok(),
                Mnemonic::parse_in_normalized(Language::English, &changed).is_ok(),
                "{changed}"
            );
        }
    }

    #[test]
    fn seed_matches_bip39_crate() {
        // The published BIP39 seed of the all-"abandon" phrase with the empty passphrase.
        let known = SecretKey::parse(ABANDON).unwrap().to_seed();
        assert_eq!(
            crate::support::encoding::to_hex(known.as_ref()),
            "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4"
        );
        for words in [12, 24, 12, 24, 12, 24] {
            let key = SecretKey::generate(words).unwrap();
            let reference = Mnemonic::parse_in_normalized(Language::English, key.phrase())
                .unwrap()
                .to_seed_normalized("");
            assert_eq!(key.to_seed().as_ref(), &reference);
        }
    }

    #[test]
    fn tolerates_whitespace_and_capitals() {
        let messy = "  Abandon abandon\tabandon abandon abandon\nabandon abandon abandon abandon abandon ABANDON   about ";
        assert_eq!(SecretKey::parse(messy).unwrap().phrase(), ABANDON);
    }

    #[test]
    fn names_the_unknown_word_and_suggests() {
        let input = ABANDON.replacen("about", "abuot", 1);
        match SecretKey::parse(&input) {
            Err(MnemonicError::UnknownWord {
                position,
                suggestions,
            }) => {
                assert_eq!(position, 12);
                assert!(suggestions.contains(&"about"), "{suggestions:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let err = SecretKey::parse(&ABANDON.replacen("abandon", "zzzzzz", 1)).unwrap_err();
        assert_eq!(
            err,
            MnemonicError::UnknownWord {
                position: 1,
                suggestions: vec![]
            }
        );
        assert_eq!(err.to_string(), "word 1 is not a valid Secret Key word");
    }

    #[test]
    fn word_count_and_checksum() {
        assert_eq!(
            SecretKey::parse("abandon abandon about").unwrap_err(),
            MnemonicError::WordCount { found: 3 }
        );
        assert_eq!(SecretKey::parse("   ").unwrap_err(), MnemonicError::Empty);
        let bad = ABANDON.replacen("about", "abandon", 1);
        assert_eq!(SecretKey::parse(&bad).unwrap_err(), MnemonicError::Checksum);
    }

    #[test]
    fn generates_valid_keys_of_both_lengths() {
        for n in [12u32, 24] {
            let k = SecretKey::generate(n).unwrap();
            assert_eq!(k.word_count(), n as usize);
            assert_eq!(SecretKey::parse(k.phrase()).unwrap().phrase(), k.phrase());
        }
        let a = SecretKey::generate(12).unwrap();
        let b = SecretKey::generate(12).unwrap();
        assert_ne!(a.phrase(), b.phrase());
        assert_eq!(
            SecretKey::generate(13).unwrap_err(),
            MnemonicError::UnsupportedLength { requested: 13 }
        );
    }
}
