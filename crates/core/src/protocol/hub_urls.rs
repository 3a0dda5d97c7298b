//! The URLs of a Gaia hub's endpoints for one bucket, built in one place.
//!
//! A bucket path is encoded segment by segment as `encodeURIComponent` does (the
//! `@stacks/storage` client and the authenticator agree on it), so `a b/ü.json` is
//! `a%20b/%C3%BC.json` and the slashes stay.

/// `encodeURIComponent`: every byte of the UTF-8 text except `A–Z a–z 0–9 - _ . ! ~ * ' ( )`
/// as `%XX` (upper-case hex).
pub fn encode_uri_component(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

/// A bucket path for a URL: each `/`-separated segment through [`encode_uri_component`].
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&encode_uri_component(segment));
    }
    out
}

/// `<read prefix><address>/<path>`: where anyone reads a file.
pub fn read_url(read_url_prefix: &str, address: &str, path: &str) -> String {
    format!("{read_url_prefix}{address}/{}", encode_path(path))
}

/// `<hub>/store/<address>/<path>`.
pub fn store_url(hub_url: &str, address: &str, path: &str) -> String {
    endpoint(hub_url, "store", address, path)
}

/// `<hub>/delete/<address>/<path>`.
pub fn delete_url(hub_url: &str, address: &str, path: &str) -> String {
    endpoint(hub_url, "delete", address, path)
}

/// `<hub>/list-files/<address>`.
pub fn list_files_url(hub_url: &str, address: &str) -> String {
    format!("{}/list-files/{address}", hub_url.trim_end_matches('/'))
}

/// `<hub>/revoke-all/<address>`.
pub fn revoke_all_url(hub_url: &str, address: &str) -> String {
    format!("{}/revoke-all/{address}", hub_url.trim_end_matches('/'))
}

fn endpoint(hub_url: &str, what: &str, address: &str, path: &str) -> String {
    format!(
        "{}/{what}/{address}/{}",
        hub_url.trim_end_matches('/'),
        encode_path(path)
    )
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn paths_are_encoded_as_encode_uri_component_does() {
        // What `encodeURIComponent` gives for each segment in a JS engine.
        assert_eq!(encode_uri_component("a b"), "a%20b");
        assert_eq!(encode_uri_component("ü"), "%C3%BC");
        assert_eq!(encode_uri_component("-_.!~*'()"), "-_.!~*'()");
        assert_eq!(encode_uri_component("?#&=+/%"), "%3F%23%26%3D%2B%2F%25");
        assert_eq!(
            encode_path("collection/.history.1.x.a b"),
            "collection/.history.1.x.a%20b"
        );
        assert_eq!(
            store_url("http://hub.example/", "1Abc", "collection/ü.json"),
            "http://hub.example/store/1Abc/collection/%C3%BC.json"
        );
        assert_eq!(
            read_url("http://hub.example/read/", "1Abc", "cairn/settings.json"),
            "http://hub.example/read/1Abc/cairn/settings.json"
        );
        assert_eq!(
            delete_url("http://hub.example", "1Abc", "a/b"),
            "http://hub.example/delete/1Abc/a/b"
        );
    }
}
