//! The request path a gateway routes on and forwards: one normal form, so the resource whose
//! security is checked is the resource the backend serves.
//!
//! Tollgate normalises rather than passes paths through (RFC 3986 §6.2.2; as nginx does), and
//! refuses with 400 what different servers read differently:
//!
//! - percent-encoded unreserved characters are decoded (`%2e` → `.`, `%41` → `A`), other
//!   escapes kept with upper-case hex;
//! - dot segments are removed (§5.2.4) after that decoding, so `.%2e` and `%2E%2E` are `..`;
//!   a path that climbs above the root is refused;
//! - empty segments are merged (`//admin` is `/admin`);
//! - refused: an encoded `/` or `\` (`%2F`, `%5C`: a backend that decodes them sees other
//!   segments than the gateway did), a raw `\`, `;` raw or encoded (Tomcat and Spring drop what
//!   follows it in a segment, so `/public/..;/admin` would mean `/admin` to them), control
//!   characters, a malformed escape, and an encoded `%` followed by hex digits (`%252e`,
//!   `%25%32%65`: an escape to a backend that decodes twice).

use std::borrow::Cow;

/// Why a path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the request path must start with '/'")]
    NotAbsolute,
    #[error("the request path has a malformed percent-encoding")]
    BadEscape,
    #[error("the request path contains an encoded '/' or '\\'")]
    EncodedSeparator,
    #[error("the request path contains a '\\'")]
    Backslash,
    #[error("the request path contains ';'")]
    Semicolon,
    #[error("the request path contains a control character")]
    Control,
    #[error("the request path contains a double-encoded character")]
    DoubleEncoded,
    #[error("the request path climbs above the root with '..'")]
    AboveRoot,
}

/// The normal form of `path` (see the module documentation); borrowed when already normal.
pub fn normalise(path: &str) -> Result<Cow<'_, str>, PathError> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(PathError::NotAbsolute);
    }
    if is_normal(bytes) {
        return Ok(Cow::Borrowed(path));
    }
    let mut out = String::with_capacity(path.len());
    let raw_segments = path[1..].split('/');
    let mut segment = String::new();
    // Whether the path ends in a slash once dot segments are gone ("/a/b/.." → "/a/").
    let mut trailing_slash = false;
    for raw in raw_segments {
        decode_segment(raw, &mut segment)?;
        match segment.as_str() {
            "" | "." => trailing_slash = true,
            ".." => {
                if out.is_empty() {
                    return Err(PathError::AboveRoot);
                }
                let cut = out.rfind('/').unwrap_or(0);
                out.truncate(cut);
                trailing_slash = true;
            }
            _ => {
                out.push('/');
                out.push_str(&segment);
                trailing_slash = false;
            }
        }
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    Ok(Cow::Owned(out))
}

/// Bytes that make a path need a closer look: the ones refused or decoded, and '/' (whose
/// successor decides: `//` and `/.` are not normal).
const NOTABLE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[0x7f] = true;
    table[b'%' as usize] = true;
    table[b'\\' as usize] = true;
    table[b';' as usize] = true;
    table[b'/' as usize] = true;
    table
};

/// Whether `bytes` (starting with '/') is already normal: nothing to decode, no dot or empty
/// segment, nothing to refuse. One table lookup per byte: the common case.
fn is_normal(bytes: &[u8]) -> bool {
    for (i, &b) in bytes.iter().enumerate() {
        if NOTABLE[b as usize] && (b != b'/' || matches!(bytes.get(i + 1), Some(b'/' | b'.'))) {
            return false;
        }
    }
    true
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Decodes one segment into `out`: unreserved escapes decoded, others kept (upper-case hex).
fn decode_segment(raw: &str, out: &mut String) -> Result<(), PathError> {
    out.clear();
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'%' => {
                let value = match (bytes.get(i + 1), bytes.get(i + 2)) {
                    (Some(&h), Some(&l)) => match (hex(h), hex(l)) {
                        (Some(h), Some(l)) => h * 16 + l,
                        _ => return Err(PathError::BadEscape),
                    },
                    _ => return Err(PathError::BadEscape),
                };
                match value {
                    b'/' | b'\\' => return Err(PathError::EncodedSeparator),
                    v if v < 0x20 || v == 0x7f => return Err(PathError::Control),
                    b';' => return Err(PathError::Semicolon),
                    v if is_unreserved(v) => out.push(v as char),
                    v => {
                        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
                        out.push('%');
                        out.push(DIGITS[(v >> 4) as usize] as char);
                        out.push(DIGITS[(v & 15) as usize] as char);
                    }
                }
                i += 3;
            }
            b'\\' => return Err(PathError::Backslash),
            b';' => return Err(PathError::Semicolon),
            b if b < 0x20 || b == 0x7f => return Err(PathError::Control),
            _ => {
                // Copy the run of plain bytes up to the next special one (UTF-8 stays whole:
                // every special byte is ASCII).
                // A segment holds no '/', so every notable byte here is special.
                let end = bytes[i..]
                    .iter()
                    .position(|&b| NOTABLE[b as usize])
                    .map_or(bytes.len(), |p| i + p);
                out.push_str(&raw[i..end]);
                i = end;
            }
        }
    }
    // An encoded '%' followed by hex digits (however those were spelt: `%252e`, `%25%32%65`)
    // becomes an escape on a backend that decodes twice.
    let decoded = out.as_bytes();
    if decoded
        .windows(5)
        .any(|w| w.starts_with(b"%25") && hex(w[3]).is_some() && hex(w[4]).is_some())
    {
        return Err(PathError::DoubleEncoded);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn norm(path: &str) -> Result<String, PathError> {
        normalise(path).map(Cow::into_owned)
    }

    #[test]
    fn dot_segments_in_every_spelling_are_resolved() {
        for path in [
            "/ctx/1.0/public/../admin",
            "/ctx/1.0/public/%2e%2e/admin",
            "/ctx/1.0/public/%2E%2E/admin",
            "/ctx/1.0/public/.%2e/admin",
            "/ctx/1.0/public/%2e./admin",
            "/ctx/1.0/public/x/../../admin",
            "/ctx/1.0/public/./../admin",
            "/ctx/1.0//admin",
            "/ctx/1.0/./admin",
            "/ctx/1.0/%61dmin",
        ] {
            assert_eq!(norm(path).as_deref(), Ok("/ctx/1.0/admin"), "{path}");
        }
        assert_eq!(norm("/a/b/..").as_deref(), Ok("/a/"));
        assert_eq!(norm("/a/b/.").as_deref(), Ok("/a/b/"));
        assert_eq!(norm("/a/b/").as_deref(), Ok("/a/b/"));
        assert_eq!(norm("/").as_deref(), Ok("/"));
        assert_eq!(norm("/.well-known/x").as_deref(), Ok("/.well-known/x"));
        assert_eq!(norm("/a%20b/%c3%a9").as_deref(), Ok("/a%20b/%C3%A9"));
        assert_eq!(norm("/caf\u{e9}/x").as_deref(), Ok("/caf\u{e9}/x"));
        assert_eq!(norm("/100%25").as_deref(), Ok("/100%25"));
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        assert_eq!(norm("/a/..%2Fadmin"), Err(PathError::EncodedSeparator));
        assert_eq!(norm("/a/%2f"), Err(PathError::EncodedSeparator));
        assert_eq!(norm("/a/%5cadmin"), Err(PathError::EncodedSeparator));
        assert_eq!(norm("/a\\admin"), Err(PathError::Backslash));
        assert_eq!(norm("/public/..;/admin"), Err(PathError::Semicolon));
        assert_eq!(norm("/admin;x=1"), Err(PathError::Semicolon));
        assert_eq!(norm("/a/%00"), Err(PathError::Control));
        assert_eq!(norm("/a/%zz"), Err(PathError::BadEscape));
        assert_eq!(norm("/a/%4"), Err(PathError::BadEscape));
        assert_eq!(norm("/a/%252e%252e/x"), Err(PathError::DoubleEncoded));
        assert_eq!(
            norm("/a/%25%32%65%25%32%65/x"),
            Err(PathError::DoubleEncoded)
        );
        assert_eq!(norm("/a/%25%32%66"), Err(PathError::DoubleEncoded));
        assert_eq!(norm("/public/..%3B/admin"), Err(PathError::Semicolon));
        assert_eq!(norm("/public/..%3b/admin"), Err(PathError::Semicolon));
        assert_eq!(norm("/a/../../etc"), Err(PathError::AboveRoot));
        assert_eq!(norm("*"), Err(PathError::NotAbsolute));
    }

    #[test]
    fn normal_paths_are_borrowed() {
        assert!(matches!(
            normalise("/pizzashack/1.0.0/menu"),
            Ok(Cow::Borrowed(_))
        ));
        assert!(matches!(normalise("/a.b/c..d"), Ok(Cow::Borrowed(_))));
    }

    fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
        let mut decoded = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let h = (*bytes.get(i + 1)? as char).to_digit(16)?;
                let l = (*bytes.get(i + 2)? as char).to_digit(16)?;
                decoded.push((h * 16 + l) as u8);
                i += 3;
            } else {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
        Some(decoded)
    }

    /// What a backend that percent-decodes the path `times` times, then splits it on `/` and
    /// `\`, drops `;` parameters, resolves dot segments and merges slashes makes of it (the
    /// readings an attacker hopes differ from the gateway's).
    fn backend_view(path: &str, times: usize) -> Option<Vec<Vec<u8>>> {
        let mut decoded = path.as_bytes().to_vec();
        for _ in 0..times {
            // Not decodable a second time: such a backend would refuse it.
            decoded = percent_decode(&decoded)?;
        }
        let mut segments: Vec<Vec<u8>> = Vec::new();
        for segment in decoded.split(|&b| b == b'/' || b == b'\\') {
            let segment = segment.split(|&b| b == b';').next().unwrap_or_default();
            match segment {
                b"" | b"." => {}
                b".." => {
                    segments.pop();
                }
                s => segments.push(s.to_vec()),
            }
        }
        Some(segments)
    }

    /// The segments the gateway routes on, each decoded once.
    fn gateway_view(normal: &str) -> Vec<Vec<u8>> {
        normal
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s.as_bytes()).unwrap_or_default())
            .collect()
    }

    fn path_strategy() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "/", "/", "/", "a", "admin", "public", ".", "..", "%2e", "%2E", "%2f", "%2F", "%5c",
            "%25", "%41", "%20", ";", "\\", "%", "2e", "~", "%00", "x", "%32", "%65", "%3B", "%3b",
            "41",
        ]);
        prop::collection::vec(pieces, 0..12).prop_map(|parts| format!("/{}", parts.concat()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// Whatever the gateway accepts and forwards, a decoding, normalising backend reads as
        /// the same resource the gateway routed on; and the normal form is normal.
        #[test]
        fn the_gateway_and_any_backend_agree(path in path_strategy()) {
            if let Ok(normal) = normalise(&path) {
                let normal = normal.into_owned();
                // A backend that decodes once, or twice, reads the segments the gateway routed
                // on — from what the gateway forwards and from what the client sent alike.
                let routed = Some(gateway_view(&normal));
                for times in [1, 2] {
                    let forwarded = backend_view(&normal, times);
                    prop_assert!(forwarded.is_none() || forwarded == routed, "{} → {} ({}×)", path, normal, times);
                }
                prop_assert_eq!(backend_view(&path, 1), routed.clone(), "{} → {}", path, normal);
                prop_assert_eq!(normalise(&normal).map(Cow::into_owned), Ok(normal.clone()));
                prop_assert!(!normal.contains("//"));
                prop_assert!(!normal.contains('\\') && !normal.contains(';'));
                for segment in normal.split('/') {
                    prop_assert!(segment != "." && segment != "..", "{}", normal);
                    prop_assert!(!segment.to_ascii_lowercase().contains("%2e"), "{}", normal);
                }
            }
        }

        /// Arbitrary bytes never panic it.
        #[test]
        fn any_text_is_handled(path in "/\\PC{0,40}") {
            let _ = normalise(&path);
        }
    }
}
