//! Parsers for `X-Forwarded-For` and RFC 7239 `Forwarded`, yielding hops
//! from the nearest proxy (the right) to the origin (the left).
//!
//! Work is bounded whatever a client sends: `X-Forwarded-For` is split
//! lazily from the right, so only the hops the walk visits are looked at;
//! `Forwarded` needs a left-to-right pass (quoted strings cannot be split
//! from the right), which is one linear scan keeping only the last few hops.
//! Nothing is allocated in proportion to the header.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use http::header::{HeaderMap, HeaderName, FORWARDED};

/// `X-Forwarded-For`.
pub(crate) const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// No address text is longer: `[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535`
/// is 53 bytes; obfuscated ports are allowed some room.
const MAX_NODE_LEN: usize = 64;

/// One hop of a forwarding header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    /// An address (any port dropped).
    Ip(IpAddr),
    /// `unknown`, or a `Forwarded` element without `for=`: the proxy did
    /// not say who its client was.
    Unknown,
    /// An obfuscated identifier (`_hidden`).
    Obfuscated,
    /// Anything else, including an IPv6 address with a zone id, and the
    /// marker for hops dropped because there were too many.
    Invalid,
}

/// The `X-Forwarded-For` hops, right to left, over every header line in
/// order.
pub(crate) fn x_forwarded_for(headers: &HeaderMap) -> impl Iterator<Item = Node> + '_ {
    headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .rev()
        .flat_map(|line| line.as_bytes().rsplit(|&b| b == b','))
        .map(parse_node)
}

/// Whether any `X-Forwarded-For` line is present.
pub(crate) fn has_x_forwarded_for(headers: &HeaderMap) -> bool {
    headers.contains_key(X_FORWARDED_FOR)
}

/// Whether any `Forwarded` line is present.
pub(crate) fn has_forwarded(headers: &HeaderMap) -> bool {
    headers.contains_key(FORWARDED)
}

/// The `for=` hops of `Forwarded`, right to left. Only the last `keep`
/// are kept; if more were present, the iterator ends with
/// [`Node::Invalid`] so a walk that gets that far fails closed.
pub(crate) fn forwarded(headers: &HeaderMap, keep: usize) -> impl Iterator<Item = Node> {
    let mut hops = Hops::new(keep);
    for line in headers.get_all(FORWARDED) {
        parse_forwarded_line(line.as_bytes(), &mut hops);
    }
    let truncated = hops.truncated.then_some(Node::Invalid);
    hops.nodes.into_iter().rev().chain(truncated)
}

/// A ring of the most recent hops.
struct Hops {
    nodes: VecDeque<Node>,
    keep: usize,
    truncated: bool,
}

impl Hops {
    fn new(keep: usize) -> Self {
        Self {
            nodes: VecDeque::with_capacity(keep.min(64)),
            keep,
            truncated: false,
        }
    }

    fn push(&mut self, node: Node) {
        if self.nodes.len() >= self.keep {
            self.nodes.pop_front();
            self.truncated = true;
        }
        if self.keep > 0 {
            self.nodes.push_back(node);
        } else {
            self.truncated = true;
        }
    }
}

/// One line of `Forwarded`: `element *( "," element )`, an element being
/// `pair *( ";" pair )` and a pair `token "=" ( token / quoted-string )`.
///
/// A syntax error ends the line with a [`Node::Invalid`] hop: what follows
/// cannot be attributed to an element with certainty (an unterminated
/// quote may have swallowed a proxy's own entry), so a walk reaching it
/// fails closed.
fn parse_forwarded_line(line: &[u8], hops: &mut Hops) {
    let mut cursor = Cursor {
        bytes: line,
        pos: 0,
    };
    loop {
        match parse_element(&mut cursor) {
            Ok(node) => hops.push(node),
            Err(Malformed) => {
                hops.push(Node::Invalid);
                return;
            }
        }
        cursor.skip_ows();
        match cursor.next() {
            None => return,
            Some(b',') => {}
            Some(_) => {
                hops.push(Node::Invalid);
                return;
            }
        }
    }
}

struct Malformed;

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> &[u8] {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        self.bytes.get(start..self.pos).unwrap_or_default()
    }
}

/// One element; its hop is the `for=` node, or [`Node::Unknown`] without one.
fn parse_element(cursor: &mut Cursor<'_>) -> Result<Node, Malformed> {
    let mut node = None;
    loop {
        cursor.skip_ows();
        if matches!(cursor.peek(), None | Some(b',')) {
            break; // an empty element, or the end of the pairs
        }
        let name_is_for = cursor.token().eq_ignore_ascii_case(b"for");
        if cursor.next() != Some(b'=') {
            return Err(Malformed);
        }
        let value = parse_value(cursor)?;
        if name_is_for {
            if node.is_some() {
                // Two `for=` in one element: which is right is a guess.
                return Err(Malformed);
            }
            node = Some(value.map_or(Node::Invalid, |v| parse_node(v.as_slice())));
        }
        cursor.skip_ows();
        match cursor.peek() {
            Some(b';') => cursor.pos += 1,
            None | Some(b',') => break,
            Some(_) => return Err(Malformed),
        }
    }
    Ok(node.unwrap_or(Node::Unknown))
}

/// A pair's value, unescaped. `Ok(None)` when it is well-formed but too long
/// to be a node.
fn parse_value(cursor: &mut Cursor<'_>) -> Result<Option<SmallValue>, Malformed> {
    let mut value = SmallValue::default();
    if cursor.peek() != Some(b'"') {
        let token = cursor.token();
        if token.is_empty() {
            return Err(Malformed);
        }
        return Ok(value.extend(token).then_some(value));
    }
    cursor.pos += 1;
    let mut fits = true;
    loop {
        match cursor.next() {
            None => return Err(Malformed),
            Some(b'"') => return Ok(fits.then_some(value)),
            Some(b'\\') => match cursor.next() {
                Some(escaped) if is_qdtext(escaped) || escaped == b'"' || escaped == b'\\' => {
                    fits &= value.extend(&[escaped]);
                }
                _ => return Err(Malformed),
            },
            Some(byte) if is_qdtext(byte) => fits &= value.extend(&[byte]),
            Some(_) => return Err(Malformed),
        }
    }
}

/// A value of at most [`MAX_NODE_LEN`] bytes, on the stack.
struct SmallValue {
    bytes: [u8; MAX_NODE_LEN],
    len: usize,
}

impl Default for SmallValue {
    fn default() -> Self {
        Self {
            bytes: [0; MAX_NODE_LEN],
            len: 0,
        }
    }
}

impl SmallValue {
    /// Append; false (and nothing appended) if it would not fit.
    fn extend(&mut self, more: &[u8]) -> bool {
        let end = self.len + more.len();
        match self.bytes.get_mut(self.len..end) {
            Some(slot) => {
                slot.copy_from_slice(more);
                self.len = end;
                true
            }
            None => false,
        }
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

fn is_qdtext(byte: u8) -> bool {
    matches!(byte, b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e)
}

/// One node: an address with an optional port, `unknown`, or an obfuscated
/// identifier. Used for `X-Forwarded-For` entries and `for=` values alike
/// (proxies write IPv6 with and without brackets, IPv4 with and without a
/// port, in both headers).
///
/// An IPv6 zone id (`fe80::1%eth0`) is refused: a zone names an interface of
/// the proxy that saw it, so the address says nothing usable to this host,
/// and stripping it would make link-local addresses of different links
/// look the same.
pub(crate) fn parse_node(raw: &[u8]) -> Node {
    let raw = trim_ows(raw);
    if raw.len() > MAX_NODE_LEN {
        return Node::Invalid;
    }
    let Ok(text) = std::str::from_utf8(raw) else {
        return Node::Invalid;
    };
    if text.eq_ignore_ascii_case("unknown") {
        return Node::Unknown;
    }
    if let Some(rest) = text.strip_prefix('_') {
        return if !rest.is_empty() && rest.bytes().all(is_obfuscated_char) {
            Node::Obfuscated
        } else {
            Node::Invalid
        };
    }
    if let Some(rest) = text.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return Node::Invalid;
        };
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return match ip.parse::<Ipv6Addr>() {
            Ok(ip) if port_ok => Node::Ip(IpAddr::V6(ip)),
            _ => Node::Invalid,
        };
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Node::Ip(ip);
    }
    match text.rsplit_once(':') {
        Some((ip, port)) if is_port(port) => ip
            .parse::<Ipv4Addr>()
            .map_or(Node::Invalid, |ip| Node::Ip(IpAddr::V4(ip))),
        _ => Node::Invalid,
    }
}

fn is_port(port: &str) -> bool {
    let numeric = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    let obfuscated = port
        .strip_prefix('_')
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(is_obfuscated_char));
    numeric || obfuscated
}

fn is_obfuscated_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-')
}

fn trim_ows(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;

    fn headers(name: HeaderName, lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(name.clone(), HeaderValue::from_str(line).unwrap());
        }
        headers
    }

    fn ip(s: &str) -> Node {
        Node::Ip(s.parse().unwrap())
    }

    fn xff(lines: &[&str]) -> Vec<Node> {
        x_forwarded_for(&headers(X_FORWARDED_FOR, lines)).collect()
    }

    fn fwd(lines: &[&str]) -> Vec<Node> {
        forwarded(&headers(FORWARDED, lines), 32).collect()
    }

    #[test]
    fn nodes() {
        assert_eq!(parse_node(b" 192.0.2.1 "), ip("192.0.2.1"));
        assert_eq!(parse_node(b"192.0.2.1:8080"), ip("192.0.2.1"));
        assert_eq!(parse_node(b"2001:db8::1"), ip("2001:db8::1"));
        assert_eq!(parse_node(b"[2001:db8::1]"), ip("2001:db8::1"));
        assert_eq!(parse_node(b"[2001:db8::1]:4711"), ip("2001:db8::1"));
        assert_eq!(parse_node(b"[2001:db8::1]:_port"), ip("2001:db8::1"));
        assert_eq!(parse_node(b"::ffff:10.1.2.3"), ip("::ffff:10.1.2.3"));
        assert_eq!(parse_node(b"unknown"), Node::Unknown);
        assert_eq!(parse_node(b"UNKNOWN"), Node::Unknown);
        assert_eq!(parse_node(b"_hidden"), Node::Obfuscated);
        for bad in [
            &b""[..],
            b"_",
            b"_a b",
            b"fe80::1%eth0",
            b"[fe80::1%25eth0]",
            b"[fe80::1%eth0]:80",
            b"2001:db8::1:99999999",
            b"[2001:db8::1",
            b"[192.0.2.1]",
            b"192.0.2.1:",
            b"192.0.2.1:123456",
            b"192.0.2.256",
            b"example.com",
            b"\xff\xfe",
        ] {
            assert_eq!(
                parse_node(bad),
                Node::Invalid,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn x_forwarded_for_lines_are_concatenated_in_order() {
        assert_eq!(
            xff(&["203.0.113.7, 10.0.0.2", "10.0.0.1"]),
            vec![ip("10.0.0.1"), ip("10.0.0.2"), ip("203.0.113.7")]
        );
        assert_eq!(xff(&["a,,b"]).get(1), Some(&Node::Invalid));
        assert!(xff(&[]).is_empty());
    }

    #[test]
    fn forwarded_elements() {
        assert_eq!(
            fwd(&[
                r#"for="[2001:db8:cafe::17]:4711";proto=https;by=203.0.113.43, For=192.0.2.60"#,
                "proto=http, for=unknown",
                "for=_hidden;by=_proxy",
            ]),
            vec![
                Node::Obfuscated,
                Node::Unknown,
                Node::Unknown,
                ip("192.0.2.60"),
                ip("2001:db8:cafe::17"),
            ]
        );
        assert_eq!(fwd(&[r#"for="192.0.\2.60""#]), vec![ip("192.0.2.60")]);
    }

    #[test]
    fn forwarded_syntax_errors_end_the_line_fail_closed() {
        // The unterminated quote swallows what a proxy appended after it.
        assert_eq!(fwd(&[r#"for="1.2.3.4, for=5.6.7.8"#]), vec![Node::Invalid]);
        assert_eq!(fwd(&["for=1.2.3.4;for=5.6.7.8"]), vec![Node::Invalid]);
        assert_eq!(fwd(&["for=1.2.3.4 junk"]), vec![Node::Invalid]);
        assert_eq!(
            fwd(&["for=1.2.3.4, for=5.6.7.8 junk"]),
            vec![Node::Invalid, ip("1.2.3.4")]
        );
        assert_eq!(fwd(&["for"]), vec![Node::Invalid]);
        assert_eq!(fwd(&["for="]), vec![Node::Invalid]);
        assert_eq!(
            fwd(&[r#"for="[fe80::1%25eth0]""#]),
            vec![Node::Invalid],
            "zone ids are refused"
        );
    }

    #[test]
    fn forwarded_keeps_only_the_last_hops() {
        let line = vec!["for=10.0.0.1"; 100].join(", ") + ", for=192.0.2.1";
        let hops: Vec<Node> = forwarded(&headers(FORWARDED, &[&line]), 4).collect();
        assert_eq!(
            hops,
            vec![
                ip("192.0.2.1"),
                ip("10.0.0.1"),
                ip("10.0.0.1"),
                ip("10.0.0.1"),
                Node::Invalid
            ]
        );
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<u32>().prop_map(|a| IpAddr::V4(a.into())),
            any::<u128>().prop_map(|a| IpAddr::V6(a.into())),
        ]
    }

    /// Split `entries` (already formatted) into header lines at `cuts`.
    fn into_lines(entries: &[String], cuts: &[bool]) -> Vec<String> {
        let mut lines = vec![String::new()];
        for (i, entry) in entries.iter().enumerate() {
            let current = lines.last_mut().unwrap();
            if !current.is_empty() {
                current.push_str(", ");
            }
            current.push_str(entry);
            if cuts.get(i).copied().unwrap_or(false) && i + 1 < entries.len() {
                lines.push(String::new());
            }
        }
        lines
    }

    proptest! {
        #[test]
        fn parse_node_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = parse_node(&raw);
        }

        #[test]
        fn headers_never_panic(line in "[ -~\t]{0,200}") {
            let Ok(value) = HeaderValue::from_str(&line) else { return Ok(()) };
            for name in [X_FORWARDED_FOR, FORWARDED] {
                let mut map = HeaderMap::new();
                map.append(name, value.clone());
                let _ = x_forwarded_for(&map).count();
                let _ = forwarded(&map, 8).count();
            }
        }

        #[test]
        fn forwarded_near_misses_never_panic(line in r#"(for|by|proto|[;,="\\ \[\]:_0-9a-f.]){0,60}"#) {
            let mut map = HeaderMap::new();
            map.append(FORWARDED, HeaderValue::from_str(&line).unwrap());
            prop_assert!(forwarded(&map, 8).count() <= 9);
        }

        #[test]
        fn x_forwarded_for_round_trips(
            ips in proptest::collection::vec(any_ip(), 1..12),
            cuts in proptest::collection::vec(any::<bool>(), 12),
            ports in proptest::collection::vec(proptest::option::of(any::<u16>()), 12),
        ) {
            let entries: Vec<String> = ips.iter().zip(&ports).map(|(ip, port)| match (ip, port) {
                (IpAddr::V4(v4), Some(port)) => format!("{v4}:{port}"),
                (IpAddr::V6(v6), Some(port)) => format!("[{v6}]:{port}"),
                (ip, None) => ip.to_string(),
            }).collect();
            let lines = into_lines(&entries, &cuts);
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            let expected: Vec<Node> = ips.iter().rev().map(|ip| Node::Ip(*ip)).collect();
            prop_assert_eq!(xff(&lines), expected);
        }

        #[test]
        fn forwarded_round_trips(
            ips in proptest::collection::vec(any_ip(), 1..12),
            cuts in proptest::collection::vec(any::<bool>(), 12),
            ports in proptest::collection::vec(proptest::option::of(any::<u16>()), 12),
        ) {
            let entries: Vec<String> = ips.iter().zip(&ports).map(|(ip, port)| {
                let node = match (ip, port) {
                    (IpAddr::V4(v4), None) => return format!("for={v4};proto=https"),
                    (IpAddr::V4(v4), Some(port)) => format!("{v4}:{port}"),
                    (IpAddr::V6(v6), Some(port)) => format!("[{v6}]:{port}"),
                    (IpAddr::V6(v6), None) => format!("[{v6}]"),
                };
                format!("by=_proxy;for=\"{node}\"")
            }).collect();
            let lines = into_lines(&entries, &cuts);
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            let expected: Vec<Node> = ips.iter().rev().map(|ip| Node::Ip(*ip)).collect();
            prop_assert_eq!(fwd(&lines), expected);
        }
    }
}
