//! The Secret Key: a BIP39 English mnemonic of 12 or 24 words.
//!
//! Parsing is forgiving about layout (extra spaces, line breaks, capitals) and precise
//! about mistakes: the error names the word position and suggests the closest valid
//! words, or says the word count or checksum is wrong.

use bip39::{Language, Mnemonic};
use std::fmt;
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
        let mnemonic =
            Mnemonic::from_entropy(&entropy[..len]).map_err(|_| MnemonicError::Randomness)?;
        Ok(Self::from_mnemonic(mnemonic))
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
            if !english_words().any(|w| w == word) {
                return Err(MnemonicError::UnknownWord {
                    position: i + 1,
                    suggestions: suggest(word),
                });
            }
        }
        if !matches!(count, 12 | 15 | 18 | 21 | 24) {
            return Err(MnemonicError::WordCount { found: count });
        }
        // Every word is plain ASCII from the English list, so the text is already NFKD.
        let mnemonic =
            Mnemonic::parse_in_normalized(Language::English, &canonical).map_err(|e| match e {
                bip39::Error::BadWordCount(found) => MnemonicError::WordCount { found },
                _ => MnemonicError::Checksum,
            })?;
        Ok(Self::from_mnemonic(mnemonic))
    }

    fn from_mnemonic(mnemonic: Mnemonic) -> Self {
        let mut phrase = Zeroizing::new(String::new());
        for (i, w) in mnemonic.words().enumerate() {
            if i > 0 {
                phrase.push(' ');
            }
            phrase.push_str(w);
        }
        SecretKey { phrase }
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

/// The BIP39 English words, in list order. Read through bip39's own (non-inlined)
/// iterator on purpose: `Language::word_list()` is `#[inline]`, and calling it here
/// would put a second copy of the 2048-word table (27 KB) into the wasm module.
fn english_words() -> impl Iterator<Item = &'static str> + Clone {
    Language::English.words_by_prefix_iter("")
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
        && let Some(w) = english_words().find(|w| w.starts_with(&word[..4]))
    {
        out.push(w);
    }
    let mut scored: Vec<(usize, &'static str)> = english_words()
        .map(|w| (edit_distance(word, w), w))
        .filter(|(d, _)| *d <= 2)
        .collect();
    scored.sort();
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

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn seed_matches_bip39_crate() {
        // The published BIP39 seed of the all-"abandon" phrase with the empty passphrase.
        let known = SecretKey::parse(ABANDON).unwrap().to_seed();
        assert_eq!(
            crate::encoding::to_hex(known.as_ref()),
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
