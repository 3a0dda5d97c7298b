use super::*;
use crate::support::json;

// Produced by @stacks/transactions 7.6.0 (`serializeCV`, `encodeStructuredDataBytes`,
// `signStructuredData` with private key 1).
const DOMAIN_HEX: &str = "0c0000000308636861696e2d69640100000000000000000000000000000001046e616d650d00000005436169726e0776657273696f6e0d00000005312e302e30";
const MESSAGE_HEX: &str = "0c0000000806616d6f756e74010000000000000000000000000000006401620200000004deadbeef0163061a88888888888888888888888888888888888888880b6d792d636f6e747261637401650809056974656d730b0000000200ffffffffffffffffffffffffffffffff0000000000000000000000000000000002046d656d6f0a0e0000000668c3a96c6c6f0172070302746f0516a46ff88886c2ef9762d970b4d2c63678835bd39d";
const HASH_HEX: &str = "3cd02bac0d4f6731636f8430dc13dae8f9b1c69596c556905e93d12d71fb898b";
const SIG_HEX: &str = "c527ec593062c75a5db8deccace758654df0e99464d8f79824accfb3c128fd4159495e39d327275a1ec59624369d2c66ab3996e442a5764d33bd05d4589eba6a00";

fn hex(b: &[u8]) -> String {
    encoding::to_hex(b)
}

fn unhex(s: &str) -> Vec<u8> {
    encoding::from_hex(s).expect("test hex")
}

fn read(s: &str) -> Result<ClarityValue, ClarityError> {
    ClarityValue::from_hex(s)
}

fn roundtrip(v: &ClarityValue) -> String {
    let bytes = v.to_bytes().expect("serializes");
    assert_eq!(&ClarityValue::from_bytes(&bytes).expect("reads back"), v);
    hex(&bytes)
}

fn boxed(v: ClarityValue) -> Box<ClarityValue> {
    Box::new(v)
}

#[test]
fn every_type_round_trips_with_its_layout() {
    use ClarityValue::*;
    assert_eq!(roundtrip(&Int(100)), format!("00{}64", "00".repeat(15)));
    assert_eq!(roundtrip(&Int(-1)), format!("00{}", "ff".repeat(16)));
    assert_eq!(
        roundtrip(&Int(i128::MIN)),
        format!("0080{}", "00".repeat(15))
    );
    assert_eq!(
        roundtrip(&UInt(u128::MAX)),
        format!("01{}", "ff".repeat(16))
    );
    assert_eq!(roundtrip(&Buffer(vec![0xde, 0xad])), "0200000002dead");
    assert_eq!(roundtrip(&Buffer(vec![])), "0200000000");
    assert_eq!(roundtrip(&Bool(true)), "03");
    assert_eq!(roundtrip(&Bool(false)), "04");
    let standard = StandardPrincipal {
        version: 22,
        hash160: [0xa4; 20],
    };
    assert_eq!(roundtrip(&standard), format!("0516{}", "a4".repeat(20)));
    let contract = ContractPrincipal {
        version: 26,
        hash160: [0x88; 20],
        name: "my-contract".into(),
    };
    assert_eq!(
        roundtrip(&contract),
        format!("061a{}0b{}", "88".repeat(20), hex(b"my-contract"))
    );
    assert_eq!(roundtrip(&Ok(boxed(Bool(true)))), "0703");
    assert_eq!(roundtrip(&Err(boxed(None))), "0809");
    assert_eq!(roundtrip(&None), "09");
    assert_eq!(roundtrip(&Some(boxed(Bool(false)))), "0a04");
    assert_eq!(roundtrip(&List(vec![Bool(true), None])), "0b000000020309");
    assert_eq!(roundtrip(&List(vec![])), "0b00000000");
    assert_eq!(
        roundtrip(&StringAscii("hi\n".into())),
        "0d000000036869 0a".replace(' ', "")
    );
    assert_eq!(roundtrip(&StringUtf8("é".into())), "0e00000002c3a9");
    assert_eq!(roundtrip(&Tuple(vec![])), "0c00000000");
}

#[test]
fn the_stacks_transactions_vectors_read_and_write_back() {
    let domain = read(DOMAIN_HEX).unwrap();
    assert_eq!(domain.to_hex().unwrap(), DOMAIN_HEX);
    let message = read(MESSAGE_HEX).unwrap();
    assert_eq!(message.to_hex().unwrap(), MESSAGE_HEX);
    assert_eq!(
        message.field("to"),
        Some(&ClarityValue::StandardPrincipal {
            version: 22,
            hash160: unhex("a46ff88886c2ef9762d970b4d2c63678835bd39d")
                .try_into()
                .unwrap()
        })
    );
    assert_eq!(
        json::to_string(&to_json(message.field("to").unwrap())),
        r#"{"type":"address","value":"SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7"}"#
    );
    assert_eq!(
        json::to_string(&to_json(message.field("memo").unwrap())),
        r#"{"type":"some","value":{"type":"utf8","value":"héllo"}}"#
    );
}

#[test]
fn the_writer_sorts_tuple_fields_by_bytes_and_refuses_duplicates() {
    use ClarityValue::*;
    let t = Tuple(vec![
        ("b".into(), Bool(true)),
        ("B".into(), Bool(false)),
        ("a".into(), None),
    ]);
    // "B" (0x42) < "a" (0x61) < "b".
    assert_eq!(
        t.to_hex().unwrap(),
        format!(
            "0c00000003 01{}04 01{}09 01{}03",
            hex(b"B"),
            hex(b"a"),
            hex(b"b")
        )
        .replace(' ', "")
    );
    let dup = Tuple(vec![("a".into(), Bool(true)), ("a".into(), Bool(false))]);
    assert!(matches!(
        dup.to_bytes(),
        Result::Err(ClarityError::Invalid { .. })
    ));
    // The reader keeps wire order, and refuses a repeated field.
    let unsorted = "0c00000002016203016103";
    let v = read(unsorted).unwrap();
    assert_eq!(
        v,
        Tuple(vec![("b".into(), Bool(true)), ("a".into(), Bool(true))])
    );
    assert_eq!(
        read("0c00000002016103016103").unwrap_err(),
        ClarityError::DuplicateField {
            offset: 8,
            name: "a".into()
        }
    );
}

#[test]
fn malformed_inputs_give_specific_errors() {
    assert_eq!(read("").unwrap_err(), ClarityError::Empty);
    assert!(matches!(read("0g").unwrap_err(), ClarityError::Hex(_)));
    assert_eq!(
        read("0f").unwrap_err(),
        ClarityError::UnknownType {
            offset: 0,
            id: 0x0f
        }
    );
    assert_eq!(
        read("0b0000000109ff").unwrap_err(),
        ClarityError::TrailingBytes { offset: 6 }
    );
    assert_eq!(
        read("0b0000000114").unwrap_err(),
        ClarityError::UnknownType {
            offset: 5,
            id: 0x14
        }
    );
    // Truncated int, buffer, principal, length.
    assert_eq!(
        read("000102").unwrap_err(),
        ClarityError::Truncated {
            offset: 1,
            what: "int",
            needed: 16,
            remaining: 2
        }
    );
    assert!(matches!(
        read("0200").unwrap_err(),
        ClarityError::Truncated {
            what: "buffer length",
            ..
        }
    ));
    assert!(matches!(
        read("0516aa").unwrap_err(),
        ClarityError::Truncated {
            what: "principal hash",
            ..
        }
    ));
    assert!(matches!(
        read("0a").unwrap_err(),
        ClarityError::Truncated {
            what: "type id",
            offset: 1,
            ..
        }
    ));
    // Declared lengths beyond the input are refused before anything is reserved.
    assert_eq!(
        read("02ffffffff00").unwrap_err(),
        ClarityError::LengthTooLarge {
            offset: 1,
            what: "buffer length",
            declared: 0xffff_ffff,
            max: 1
        }
    );
    assert!(matches!(
        read("0bffffffff").unwrap_err(),
        ClarityError::LengthTooLarge {
            what: "list length",
            ..
        }
    ));
    assert!(matches!(
        read("0c7fffffff0161ff").unwrap_err(),
        ClarityError::LengthTooLarge {
            what: "tuple field count",
            max: 1,
            ..
        }
    ));
    assert!(matches!(
        read("0d80000000").unwrap_err(),
        ClarityError::LengthTooLarge { .. }
    ));
    assert!(matches!(
        read("0e00000010c3").unwrap_err(),
        ClarityError::LengthTooLarge { .. }
    ));
    // Strings.
    assert_eq!(
        read("0d0000000361e962").unwrap_err(),
        ClarityError::NotAscii {
            offset: 6,
            byte: 0xe9
        }
    );
    assert_eq!(
        read("0d0000000100").unwrap_err(),
        ClarityError::NotAscii { offset: 5, byte: 0 }
    );
    assert_eq!(
        read("0e0000000361c328").unwrap_err(),
        ClarityError::InvalidUtf8 { offset: 6 }
    );
    assert_eq!(
        read("0e00000003eda080").unwrap_err(),
        ClarityError::InvalidUtf8 { offset: 5 }
    );
    // Principals and names.
    assert_eq!(
        read(&format!("0520{}", "00".repeat(20))).unwrap_err(),
        ClarityError::BadPrincipalVersion {
            offset: 1,
            version: 32
        }
    );
    for name in ["", "1abc", "a.b", "a b", "é"] {
        let hexname = hex(name.as_bytes());
        let input = format!("0616{}{:02x}{hexname}", "00".repeat(20), name.len());
        assert_eq!(
            read(&input).unwrap_err(),
            ClarityError::BadContractName { offset: 22 },
            "{name:?}"
        );
    }
    let long = "a".repeat(129);
    let input = format!("0616{}81{}", "00".repeat(20), hex(long.as_bytes()));
    assert_eq!(
        read(&input).unwrap_err(),
        ClarityError::BadContractName { offset: 22 }
    );
    for name in ["", "1", "a\n", "-a", "<<"] {
        // Two spare bytes so the field count passes its check and the name is read.
        let input = format!("0c00000001{:02x}{}030303", name.len(), hex(name.as_bytes()));
        assert_eq!(
            read(&input).unwrap_err(),
            ClarityError::BadFieldName { offset: 5 },
            "{name:?}"
        );
    }
    for name in ["-", "<=", "a-b?!", "A*"] {
        let input = format!("0c00000001{:02x}{}03", name.len(), hex(name.as_bytes()));
        assert!(read(&input).is_ok(), "{name:?}");
    }
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = unhex(MESSAGE_HEX);
    for end in 0..bytes.len() {
        assert!(ClarityValue::from_bytes(&bytes[..end]).is_err(), "{end}");
    }
    assert!(matches!(
        read(&format!("0616{}0561", "00".repeat(20))).unwrap_err(),
        ClarityError::Truncated {
            what: "contract name",
            offset: 23,
            needed: 5,
            remaining: 1
        }
    ));
    assert!(matches!(
        read("0c0000000101").unwrap_err(),
        ClarityError::LengthTooLarge {
            what: "tuple field count",
            ..
        }
    ));
    assert!(matches!(
        read("0c00000001056162").unwrap_err(),
        ClarityError::Truncated {
            what: "field name",
            ..
        }
    ));
}

#[test]
fn error_messages_name_the_offset_and_the_rule() {
    let e = read("0d0000000361e962").unwrap_err().to_string();
    assert_eq!(
        e,
        "Clarity value: string-ascii holds byte 0xe9 at byte 6 (only printable ASCII and whitespace are allowed)"
    );
    let e = read("02ffffffff00").unwrap_err().to_string();
    assert_eq!(
        e,
        "Clarity value: the buffer length at byte 1 declares 4294967295, but the rest of the input holds at most 1"
    );
}

#[test]
fn depth_and_size_limits() {
    // 31 `some` around a bool: depth 32, accepted; one more is refused.
    let ok = format!("{}03", "0a".repeat(MAX_DEPTH - 1));
    assert!(read(&ok).is_ok());
    let deep = format!("{}03", "0a".repeat(MAX_DEPTH));
    assert_eq!(
        read(&deep).unwrap_err(),
        ClarityError::TooDeep { offset: MAX_DEPTH }
    );
    // A depth bomb far beyond the limit stops at the limit (no stack overflow).
    let bomb = "0b00000001".repeat(100_000);
    assert!(matches!(
        read(&bomb).unwrap_err(),
        ClarityError::TooDeep { .. }
    ));
    // The writer refuses the same depth.
    let mut v = ClarityValue::Bool(true);
    for _ in 0..MAX_DEPTH {
        v = ClarityValue::Some(Box::new(v));
    }
    assert!(matches!(
        v.to_bytes(),
        Result::Err(ClarityError::Invalid { .. })
    ));
    // Size: over 1 MiB is refused before decoding.
    let big = vec![0x04u8; MAX_SERIALIZED_LEN + 1];
    assert_eq!(
        ClarityValue::from_bytes(&big).unwrap_err(),
        ClarityError::TooLarge {
            len: MAX_SERIALIZED_LEN + 1
        }
    );
    assert!(matches!(
        read(&"04".repeat(MAX_SERIALIZED_LEN + 1)).unwrap_err(),
        ClarityError::TooLarge { .. }
    ));
    // Value count: a list of more than MAX_VALUES bools.
    let mut many = vec![0x0b];
    many.extend_from_slice(&(MAX_VALUES as u32).to_be_bytes());
    many.extend(std::iter::repeat_n(0x03, MAX_VALUES));
    assert!(matches!(
        ClarityValue::from_bytes(&many).unwrap_err(),
        ClarityError::TooManyValues { .. }
    ));
}

#[test]
fn the_writer_refuses_what_clarity_would_not_read() {
    use ClarityValue::*;
    for bad in [
        StringAscii("é".into()),
        StringAscii("\u{7}".into()),
        StandardPrincipal {
            version: 32,
            hash160: [0; 20],
        },
        ContractPrincipal {
            version: 22,
            hash160: [0; 20],
            name: "a.b".into(),
        },
        Tuple(vec![("1a".into(), None)]),
        List(vec![Bool(true), Tuple(vec![(String::new(), None)])]),
    ] {
        assert!(
            matches!(bad.to_bytes(), Result::Err(ClarityError::Invalid { .. })),
            "{bad:?}"
        );
    }
    let e = List(vec![
        Bool(true),
        Tuple(vec![("x".into(), StringAscii("\u{1}".into()))]),
    ])
    .to_bytes()
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "Clarity value: $[1].x: string-ascii holds byte 0x01 (only printable ASCII and whitespace are allowed)"
    );
}

#[test]
fn addresses_parse_only_in_canonical_form() {
    let a = "SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7";
    let (v, h) = parse_address(a).unwrap();
    assert_eq!(v, 22);
    assert_eq!(hex(&h), "a46ff88886c2ef9762d970b4d2c63678835bd39d");
    assert_eq!(principal_address(v, &h), a);
    // Zero hash: leading zero bytes.
    let zero = principal_address(26, &[0; 20]);
    assert_eq!(parse_address(&zero), Some((26, [0; 20])));
    for bad in [
        "",
        "S",
        "SP",
        "SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ8",
        "sp2j6zy48gv1ez5v2v5rb9mp66sw86pykknrv9ej7",
        "SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7 ",
        "XP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7",
        "SPZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
        "SP02J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7",
    ] {
        assert_eq!(parse_address(bad), Option::None, "{bad:?}");
    }
}

#[test]
fn json_form_round_trips_and_names_bad_paths() {
    let message = read(MESSAGE_HEX).unwrap();
    let j = to_json(&message);
    let text = json::to_string(&j);
    let back = from_json(&json::from_str(&text).unwrap()).unwrap();
    assert_eq!(back, message);
    let cases = [
        (
            r#"{"type":"int","value":"170141183460469231731687303715884105728"}"#,
            "$: int value 170141183460469231731687303715884105728 is out of range",
        ),
        (
            r#"{"type":"uint","value":"-1"}"#,
            "$: uint value -1 is out of range",
        ),
        (
            r#"{"type":"uint","value":"1e3"}"#,
            "$: uint value \"1e3\" is not a whole decimal number",
        ),
        (
            r#"{"type":"int","value":" 1"}"#,
            "$: int value \" 1\" is not a whole decimal number",
        ),
        (
            r#"{"type":"list","value":[{"type":"true"},{"type":"nope"}]}"#,
            "$[1]: unknown type \"nope\"",
        ),
        (
            r#"{"type":"tuple","value":{"a":{"type":"some","value":{"type":"ascii","value":"é"}}}}"#,
            "$.a.some: ascii value holds byte 0xc3 (only printable ASCII and whitespace are allowed)",
        ),
        (
            r#"{"type":"address","value":"SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ8"}"#,
            "$: not a valid STX address: \"SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ8\"",
        ),
        (
            r#"{"type":"contract","value":"SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7"}"#,
            "$: not a contract principal (address.name): \"SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7\"",
        ),
        (
            r#"{"type":"true","value":1}"#,
            "$: unexpected key \"value\"",
        ),
        (
            r#"{"type":"buffer","value":"abc"}"#,
            "$: buffer value must be hex",
        ),
        (r#"{"type":"some"}"#, "$: some needs a \"value\""),
        (r#"[]"#, "$: expected an object, not an array"),
    ];
    for (input, expected) in cases {
        let e = from_json(&json::from_str(input).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("Clarity value: {expected}"),
            "{input}"
        );
    }
    // Whole JSON numbers are accepted for ints.
    let v = from_json(&json::from_str(r#"{"type":"int","value":-42}"#).unwrap()).unwrap();
    assert_eq!(v, ClarityValue::Int(-42));
}

#[test]
fn rendering_for_a_consent_screen() {
    let message = read(MESSAGE_HEX).unwrap();
    let lines: Vec<String> = render(&message)
        .iter()
        .map(|l| format!("{}{}: {}", "  ".repeat(l.depth), l.label, l.value))
        .collect();
    assert_eq!(
        lines,
        [
            ": tuple, 8 fields",
            "  amount: u100",
            "  b: 0xdeadbeef",
            "  c: ST248888888888888888888888888888888888888888.my-contract"
                .replace(
                    "ST248888888888888888888888888888888888888888",
                    &principal_address(26, &[0x88; 20])
                )
                .as_str(),
            "  e: (err none)",
            "  items: list, 2 items",
            "    [0]: -1",
            "    [1]: 2",
            "  memo: (some u\"héllo\")",
            "  r: (ok true)",
            "  to: SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7",
        ]
    );
    let tricky = ClarityValue::Some(Box::new(ClarityValue::List(vec![
        ClarityValue::StringUtf8("a\"b\\c\n\u{202e}evil\u{200b}\u{0}日本".into()),
    ])));
    let r = render(&tricky);
    assert_eq!(r[0].value, "(some list, 1 item)");
    assert_eq!(r[1].value, r#"u"a\"b\\c\n\u{202e}evil\u{200b}\u{0}日本""#);
    assert_eq!(r[1].depth, 1);
    assert_eq!(r[1].label, "[0]");
}

#[test]
fn sip018_hash_and_signature_match_stacks_transactions() {
    let data = StructuredData::from_hex(DOMAIN_HEX, MESSAGE_HEX).unwrap();
    assert_eq!(hex(&data.hash), HASH_HEX);
    assert_eq!(
        data.domain,
        Domain {
            name: "Cairn".into(),
            version: "1.0.0".into(),
            chain_id: 1
        }
    );
    let mut one = [0u8; 32];
    one[31] = 1;
    let key = PrivateKey::from_bytes(&one).unwrap();
    let sig = data.sign(&key);
    assert_eq!(hex(&sig), SIG_HEX);
    // The signature recovers to the key's public key.
    let signature = k256::ecdsa::Signature::from_slice(&sig[..64]).unwrap();
    let recovery = k256::ecdsa::RecoveryId::from_byte(sig[64]).unwrap();
    let recovered =
        k256::ecdsa::VerifyingKey::recover_from_prehash(&data.hash, &signature, recovery).unwrap();
    assert_eq!(&recovered, key.public_key().verifying_key());
    // 0x prefix accepted.
    let again = StructuredData::from_hex(&format!("0x{DOMAIN_HEX}"), MESSAGE_HEX).unwrap();
    assert_eq!(again.hash, data.hash);
}

#[test]
fn sip018_domain_errors_name_the_field() {
    let tuple = |fields: Vec<(&str, ClarityValue)>| {
        ClarityValue::Tuple(
            fields
                .into_iter()
                .map(|(n, v)| (n.to_string(), v))
                .collect(),
        )
    };
    let ascii = |s: &str| ClarityValue::StringAscii(s.into());
    let msg = "03";
    let cases = [
        (
            ClarityValue::Bool(true),
            "SIP-018 domain: must be a tuple {name, version, chain-id}, not a bool",
        ),
        (
            tuple(vec![("name", ascii("a")), ("version", ascii("1"))]),
            "SIP-018 domain: field \"chain-id\" is missing",
        ),
        (
            tuple(vec![
                ("name", ClarityValue::StringUtf8("a".into())),
                ("version", ascii("1")),
                ("chain-id", ClarityValue::UInt(1)),
            ]),
            "SIP-018 domain: field \"name\" must be a string-ascii, not a string-utf8",
        ),
        (
            tuple(vec![
                ("name", ascii("a")),
                ("version", ascii("1")),
                ("chain-id", ClarityValue::Int(1)),
            ]),
            "SIP-018 domain: field \"chain-id\" must be a uint, not a int",
        ),
        (
            tuple(vec![
                ("name", ascii("a")),
                ("version", ascii("1")),
                ("chain-id", ClarityValue::UInt(1)),
                ("extra", ClarityValue::None),
            ]),
            "SIP-018 domain: unexpected field \"extra\" (a domain has only name, version and chain-id)",
        ),
    ];
    for (domain, expected) in cases {
        let e = StructuredData::from_hex(&domain.to_hex().unwrap(), msg).unwrap_err();
        assert_eq!(e.to_string(), expected);
    }
    // A bad message is reported as a Clarity error.
    assert!(matches!(
        StructuredData::from_hex(DOMAIN_HEX, "0f").unwrap_err(),
        ClarityError::UnknownType { .. }
    ));
}
