//! Property test: random and mutated inputs into every parser and validator. None may
//! panic. Seeded, so failures reproduce.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

use cairn_core::keys::PrivateKey;
use cairn_core::protocol::gaia::{Scope, V1TokenOptions, challenge_text, make_v1_token};
use cairn_hub::auth::{AuthPolicy, parse_header};
use cairn_hub::{config, envelope, listing, paths, precondition};

#[path = "../../core/tests/support/rng.rs"]
mod rng;
use rng::Rng;

/// Random strings built from pieces that matter to paths, tokens and cursors.
trait RandomString {
    fn string(&mut self, max: usize) -> String;
}

impl RandomString for Rng {
    fn string(&mut self, max: usize) -> String {
        const PIECES: &[&str] = &[
            "a",
            "/",
            ".",
            "..",
            "%",
            "bearer ",
            "v1:",
            ":",
            "{",
            "}",
            "\"",
            "\0",
            "é",
            "😀",
            ".history.",
            "eyJ",
            "=",
            "\n",
            " ",
            "*",
            "c1.",
            "\\",
        ];
        let n = self.below(max + 1);
        let mut s = String::new();
        for _ in 0..n {
            if self.below(3) == 0 {
                s.push(char::from_u32(self.below(0x3000) as u32).unwrap_or('x'));
            } else {
                s.push_str(PIECES[self.below(PIECES.len())]);
            }
        }
        s
    }
}

fn mutate(rng: &mut Rng, s: &str) -> String {
    let mut b = s.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        if b.is_empty() {
            break;
        }
        let i = rng.below(b.len());
        match rng.below(4) {
            0 => b[i] = rng.next() as u8,
            1 => {
                b.remove(i);
            }
            2 => b.insert(i, b"._-=:"[rng.below(5)]),
            _ => b.truncate(i),
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn parsers_never_panic() {
    let mut rng = Rng(0x5EED_CAFE_F00D_0001);
    let key = PrivateKey::random().unwrap();
    let address = key.public_key().address();
    let policy = AuthPolicy {
        server_name: "localhost".into(),
        require_correct_hub_url: true,
        valid_hub_urls: vec!["http://x".into()],
        whitelist: Some(vec![address.clone()]),
    };
    let valid = format!(
        "bearer {}",
        make_v1_token(
            &key,
            &challenge_text("localhost"),
            &V1TokenOptions {
                hub_url: Some("http://x".into()),
                scopes: vec![Scope::new("putFilePrefix", "a/")],
                iat: Some(5),
                ..Default::default()
            },
        )
    );
    assert!(
        parse_header(Some(&valid))
            .unwrap()
            .validate(&address, &policy, 0, 1.0)
            .is_ok()
    );

    for i in 0..5000 {
        // Tokens: random strings, and mutations of a valid one.
        let header = if i % 2 == 0 {
            rng.string(60)
        } else {
            mutate(&mut rng, &valid)
        };
        if let Ok(a) = parse_header(Some(&header)) {
            let _ = a.validate(&address, &policy, rng.next() % 10, rng.next() as f64);
            let p = rng.string(20);
            let _ = a.scopes.check_archival(&address, &p);
            let _ = a.scopes.check_write(&address, &p);
            let _ = a.scopes.check_delete(&address, &p);
        }
        // Paths and history names.
        let p = rng.string(30);
        let _ = paths::validate_path(&p);
        let _ = paths::validate_path(paths::strip_one_trailing_slash(&p));
        let h = paths::history_path(&p, rng.next(), "0123456789");
        let _ = paths::validate_path(&h);
        let _ = paths::is_history_file(&p);
        let _ = paths::is_valid_address(&p);
        let _ = paths::history_id_from_bytes(&rng.bytes(20));
        // Cursors and paging.
        let _ = listing::decode_cursor(&rng.string(20));
        let _ = listing::decode_cursor(&mutate(&mut rng, &listing::encode_cursor(&p)));
        let items: Vec<String> = (0..rng.below(10)).map(|_| rng.string(5)).collect();
        let after = rng.string(3);
        let page = listing::paginate(
            items,
            |s| s.as_str(),
            Some(&after),
            rng.below(4),
            |n| n.len() % 2 == 0,
        );
        assert!(page.entries.len() <= 3);
        // Preconditions.
        let im = rng.string(3);
        let inm = rng.string(3);
        if let Ok(pre) = precondition::parse(
            Some(im.as_str()).filter(|_| i % 3 != 0),
            Some(inm.as_str()).filter(|_| i % 5 != 0),
        ) {
            let _ = pre.check(Some(&p));
            let _ = pre.check(None);
        }
        // Envelopes.
        let raw = rng.bytes(64);
        let _ = envelope::decode_trailer(&raw, rng.next() % 100);
        let mut obj = envelope::encode(&raw, &p, "e");
        let n = obj.len() as u64;
        if !obj.is_empty() {
            let j = rng.below(obj.len());
            obj[j] = rng.next() as u8;
        }
        let _ = envelope::decode_trailer(&obj, n);
        // Configuration files.
        let _ = config::parse_toml(&rng.string(20));
        let _ = config::parse_storage(&rng.string(10));
    }
}
