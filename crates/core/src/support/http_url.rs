//! Strict parsing of absolute `http:`/`https:` URLs, for the checks an authenticator
//! makes on app origins, return addresses and manifest addresses.
//!
//! Deliberately narrower than the WHATWG URL standard: anything a browser might read
//! differently from us is refused rather than interpreted — backslashes (browsers treat
//! them as `/`), user information, white space and control characters, percent signs
//! or non-ASCII characters in the host (real origins are already punycode). What is
//! accepted, browsers parse to the same scheme, host and port.
//!
//! Numeric hosts: WHATWG reads a host whose last label is a number (`2130706433`,
//! `0x7f.1`, `127.1`, `0177.0.0.1`, `1.2.3.4.`, `example.123`) as an IPv4 address in
//! one of several spellings, or refuses it. Other parsers (and people reading the URL)
//! take some of these as names, so the same text could mean two origins; we accept
//! only the canonical dotted-decimal form (`127.0.0.1`) and refuse every other host
//! that ends in a number. IPv6 literals are kept in WHATWG's canonical text
//! (`[0:0::1]` → `[::1]`), so equal addresses compare equal.
//!
//! One known difference remains: `xn--` labels are not checked as punycode. WHATWG
//! refuses a URL whose `xn--` label does not decode to a valid name, so such a URL
//! reaches no origin at all in a browser (tests/fuzz_http_url.rs allows exactly this).

use std::fmt;

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// Not `http://` or `https://` (names the scheme found, if any).
    Scheme(String),
    /// Spaces, control characters or backslashes.
    Characters,
    /// `user@` or `user:password@` before the host.
    UserInfo,
    /// No host, or one with characters hosts cannot have.
    Host,
    /// A port that is not a number from 0 to 65535.
    Port,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Scheme(s) if s.is_empty() => f.write_str("it is not an absolute URL"),
            UrlError::Scheme(s) => write!(f, "it uses {s}: instead of https: or http:"),
            UrlError::Characters => {
                f.write_str("it contains spaces, backslashes or control characters")
            }
            UrlError::UserInfo => f.write_str("it contains user information"),
            UrlError::Host => f.write_str("it has no valid host"),
            UrlError::Port => f.write_str("its port is not a number from 0 to 65535"),
        }
    }
}

impl std::error::Error for UrlError {}

/// A parsed absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    https: bool,
    host: String,
    port: Option<u16>,
    rest: String,
}

impl HttpUrl {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<HttpUrl, UrlError> {
        if text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            return Err(UrlError::Characters);
        }
        let (scheme, after) = match text.split_once(':') {
            Some((s, a))
                if !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
            {
                (s.to_ascii_lowercase(), a)
            }
            _ => return Err(UrlError::Scheme(String::new())),
        };
        let https = match scheme.as_str() {
            "https" => true,
            "http" => false,
            other => return Err(UrlError::Scheme(other.to_string())),
        };
        let after = after.strip_prefix("//").ok_or(UrlError::Host)?;
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = split_host_port(authority)?;
        Ok(HttpUrl {
            https,
            host,
            port,
            rest: if rest.starts_with('/') {
                rest.to_string()
            } else {
                format!("/{rest}")
            },
        })
    }

    /// `"https"` or `"http"`.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// The host, lower-cased (IPv6 literals keep their brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The explicit port, if any and not the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port.filter(|p| *p != self.default_port())
    }

    fn default_port(&self) -> u16 {
        if self.https { 443 } else { 80 }
    }

    /// The port, or the scheme's default.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(self.default_port())
    }

    /// `scheme://host[:port]`, as `location.origin` writes it.
    pub fn origin(&self) -> String {
        match self.port() {
            Some(p) => format!("{}://{}:{p}", self.scheme(), self.host),
            None => format!("{}://{}", self.scheme(), self.host),
        }
    }

    /// Same scheme, host and port.
    pub fn same_origin(&self, other: &HttpUrl) -> bool {
        self.https == other.https
            && self.host == other.host
            && self.port_or_default() == other.port_or_default()
    }

    /// Path, query and fragment (starting with `/`).
    pub fn path_and_rest(&self) -> &str {
        &self.rest
    }

    /// Resolves `reference` against this URL: absolute http(s) URLs, `//host/…`,
    /// `/path`, and relative paths (against this URL's directory). `None` for anything
    /// else (other schemes such as `data:` or `javascript:`).
    pub fn join(&self, reference: &str) -> Option<HttpUrl> {
        if reference.starts_with("//") {
            return HttpUrl::parse(&format!("{}:{reference}", self.scheme())).ok();
        }
        if let Some((scheme, _)) = reference.split_once(':')
            && !scheme.contains(['/', '?', '#'])
        {
            return HttpUrl::parse(reference).ok();
        }
        let path = if reference.starts_with('/') {
            reference.to_string()
        } else {
            let own = self.rest.split(['?', '#']).next().unwrap_or("/");
            let dir = &own[..own.rfind('/').map_or(0, |i| i + 1)];
            format!("{dir}{reference}")
        };
        HttpUrl::parse(&format!("{}{path}", self.origin())).ok()
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin(), self.rest)
    }
}

fn split_host_port(authority: &str) -> Result<(String, Option<u16>), UrlError> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (v6, after) = inner.split_once(']').ok_or(UrlError::Host)?;
        if v6.is_empty()
            || !v6
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(UrlError::Host);
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(UrlError::Host)?),
        };
        (ipv6_host(v6).ok_or(UrlError::Host)?, port)
    } else {
        let (h, p) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let ok = !h.is_empty()
            && h.len() <= 253
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !h.starts_with('.')
            && !h.contains("..");
        if !ok || (ends_in_a_number(h) && !is_dotted_decimal(h)) {
            return Err(UrlError::Host);
        }
        (h.to_ascii_lowercase(), p)
    };
    let port = match port {
        None | Some("") => None,
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| UrlError::Port)?)
        }
        Some(_) => return Err(UrlError::Port),
    };
    Ok((host, port))
}

/// WHATWG's "ends in a number": the last label (before one trailing dot) is decimal
/// digits, or `0x` and hex digits. Such a host is an IPv4 address to a browser.
fn ends_in_a_number(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or(host);
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    match last.get(..2) {
        Some("0x" | "0X") => last[2..].bytes().all(|b| b.is_ascii_hexdigit()),
        _ => false,
    }
}

/// `a.b.c.d`, each 0–255 in decimal without leading zeros: the one IPv4 spelling
/// every parser reads alike.
fn is_dotted_decimal(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            (1..=3).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u8>().is_ok()
        })
}

/// An IPv6 literal (without brackets) in WHATWG's serialisation: lower-case hex
/// pieces without leading zeros, the first longest run of two or more zero pieces
/// written `::`, no embedded IPv4. `None` if it is not an IPv6 address.
fn ipv6_host(text: &str) -> Option<String> {
    let pieces = text.parse::<std::net::Ipv6Addr>().ok()?.segments();
    let (mut compress, mut longest) = (None, 1);
    let mut i = 0;
    while i < 8 {
        let start = i;
        while i < 8 && pieces[i] == 0 {
            i += 1;
        }
        if i - start > longest {
            (compress, longest) = (Some(start), i - start);
        }
        i = i.max(start + 1);
    }
    let mut out = String::from("[");
    let mut i = 0;
    while i < 8 {
        if compress == Some(i) {
            out.push_str(if i == 0 { "::" } else { ":" });
            i += longest;
            continue;
        }
        out.push_str(&format!("{:x}", pieces[i]));
        if i != 7 {
            out.push(':');
        }
        i += 1;
    }
    out.push(']');
    Some(out)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn accepts_origins_and_compares_them() {
        let a = HttpUrl::parse("https://App.Example/cb?x=1#f").unwrap();
        assert_eq!(a.origin(), "https://app.example");
        assert_eq!(a.path_and_rest(), "/cb?x=1#f");
        let b = HttpUrl::parse("https://app.example:443/").unwrap();
        assert!(a.same_origin(&b));
        assert_eq!(b.origin(), "https://app.example");
        let c = HttpUrl::parse("http://localhost:3000").unwrap();
        assert_eq!(c.origin(), "http://localhost:3000");
        assert_eq!(c.path_and_rest(), "/");
        assert!(!c.same_origin(&HttpUrl::parse("http://localhost:3001/").unwrap()));
        assert!(!a.same_origin(&HttpUrl::parse("http://app.example/").unwrap()));
        let v6 = HttpUrl::parse("http://[::1]:8080/x").unwrap();
        assert_eq!(v6.origin(), "http://[::1]:8080");
    }

    #[test]
    fn refuses_what_browsers_could_read_differently() {
        for (bad, err) in [
            ("javascript:alert(1)", UrlError::Scheme("javascript".into())),
            ("data:text/html,x", UrlError::Scheme("data".into())),
            ("example.com/x", UrlError::Scheme(String::new())),
            ("https://user@evil.example/", UrlError::UserInfo),
            ("https://app.example@evil.example/", UrlError::UserInfo),
            ("https://app.example\\@evil.example/", UrlError::Characters),
            ("https://app .example/", UrlError::Characters),
            ("https://", UrlError::Host),
            ("https:app.example", UrlError::Host),
            ("https://exämple.com/", UrlError::Host),
            ("https://a%2eb/", UrlError::Host),
            ("https://app.example:99999/", UrlError::Port),
            ("https://app.example:8a/", UrlError::Port),
        ] {
            assert_eq!(HttpUrl::parse(bad), Err(err), "{bad}");
        }
    }

    #[test]
    fn numeric_hosts_and_ipv6_as_browsers_read_them() {
        // WHATWG reads these as 127.0.0.1 (or refuses them): refused.
        for bad in [
            "http://2130706433",
            "http://0x7f.1",
            "http://127.1",
            "http://0177.0.0.1",
            "http://127.0.0.1.",
            "http://example.123",
            "http://example.0x",
            "http://[0]",
        ] {
            assert_eq!(HttpUrl::parse(bad), Err(UrlError::Host), "{bad}");
        }
        let ip = HttpUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(ip.origin(), "http://127.0.0.1:8080");
        for (v6, origin) in [
            ("http://[0:0::1]/", "http://[::1]"),
            ("http://[::FFFF:127.0.0.1]", "http://[::ffff:7f00:1]"),
            ("http://[1:0:0:2:0:0:0:3]", "http://[1:0:0:2::3]"),
            ("http://[1:0:0:2:0:0:3:4]", "http://[1::2:0:0:3:4]"),
        ] {
            assert_eq!(HttpUrl::parse(v6).unwrap().origin(), origin, "{v6}");
        }
    }

    #[test]
    fn joins_references() {
        let base = HttpUrl::parse("https://app.example/static/manifest.json").unwrap();
        let j = |r: &str| base.join(r).map(|u| u.to_string());
        assert_eq!(
            j("icon.png").as_deref(),
            Some("https://app.example/static/icon.png")
        );
        assert_eq!(
            j("/icon.png").as_deref(),
            Some("https://app.example/icon.png")
        );
        assert_eq!(
            j("//cdn.example/i.png").as_deref(),
            Some("https://cdn.example/i.png")
        );
        assert_eq!(
            j("http://other.example/i.png").as_deref(),
            Some("http://other.example/i.png")
        );
        assert_eq!(j("data:image/png;base64,AAAA"), None);
        assert_eq!(j("javascript:alert(1)"), None);
    }
}
