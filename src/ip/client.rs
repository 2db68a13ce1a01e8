//! Which address a request comes from.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::request::Parts;
use ipnet::IpNet;

use super::allowlist::{Allowlist, ParseAllowlistError};
use super::forwarded::{self, Node};
use crate::rejection::{Reason, Rejection};

/// The most forwarding hops a walk looks at. Real chains are a handful of
/// proxies long; a longer run of trusted hops is refused rather than walked.
pub(crate) const MAX_FORWARDED_HOPS: usize = 32;

type PeerFn = dyn Fn(&Parts) -> Option<IpAddr> + Send + Sync;

/// Resolves the client address of a request.
///
/// By default the client is the TCP peer, found in the request extensions:
///
/// * axum's `ConnectInfo<SocketAddr>` (feature `axum`; serve with
///   `into_make_service_with_connect_info::<SocketAddr>()`),
/// * a plain [`SocketAddr`] (hyper users insert it themselves),
/// * tonic's `TcpConnectInfo` (feature `tonic`),
///
/// or wherever [`peer_ip_with`](Self::peer_ip_with) says.
///
/// Behind proxies, the client is read from `X-Forwarded-For` and/or
/// `Forwarded`, but **only** when the peer is one of the
/// [trusted proxies](Self::trust_proxies); from anyone else those headers
/// are ignored, since any client can write them. The walk goes from the
/// right (the hop the nearest proxy added) leftwards past trusted proxies
/// and stops at the first address that is not one: that is the client.
/// Entries further left were written by the client and are never read.
///
/// Failing closed, the address is unknown (a [`Rejection`] with
/// [`Reason::ClientIpUnknown`]) when there is no peer address, or when the
/// walk meets an entry it cannot use: `unknown`, an obfuscated identifier
/// (`_hidden`), garbage, an IPv6 address with a zone id (`fe80::1%eth0`,
/// meaningful only on the proxy that wrote it), or more than
/// 32 trusted hops.
///
/// Addresses are returned canonical: `::ffff:10.1.2.3` is `10.1.2.3`.
///
/// ```
/// use std::net::{IpAddr, SocketAddr};
/// use tower_webhook::ip::ClientIp;
///
/// let client_ip = ClientIp::new()
///     .trust_proxies("10.0.0.0/8")?
///     .use_x_forwarded_for();
///
/// let (mut parts, ()) = http::Request::builder()
///     .header("x-forwarded-for", "198.51.100.1, 203.0.113.7, 10.0.0.5")
///     .body(())?
///     .into_parts();
///
/// // From a trusted proxy, the header is believed up to the first untrusted hop.
/// parts.extensions.insert(SocketAddr::from(([10, 0, 0, 1], 40000)));
/// assert_eq!(client_ip.resolve(&parts)?, "203.0.113.7".parse::<IpAddr>()?);
///
/// // From anyone else, it is ignored.
/// parts.extensions.insert(SocketAddr::from(([192, 0, 2, 9], 40000)));
/// assert_eq!(client_ip.resolve(&parts)?, "192.0.2.9".parse::<IpAddr>()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct ClientIp {
    peer: Option<Arc<PeerFn>>,
    trusted_proxies: Allowlist,
    x_forwarded_for: bool,
    forwarded: bool,
    x_real_ip: bool,
    hops: Option<usize>,
}

/// The client address a component outside the checks (the stack's or the
/// tenant layer's [`ClientIp`]) resolved for the request, so every IP
/// filter inside uses it instead of resolving the peer again (a tenant's
/// allowlist behind a proxy need not repeat the proxy list). Set only by
/// server-side code: a request extension cannot come from the client.
/// `None`: the address could not be resolved (garbage in a forwarding
/// header from a trusted proxy), and every filter inside refuses rather than
/// falling back to the proxy's own address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResolvedClientIp(pub(crate) Option<IpAddr>);

impl ClientIp {
    /// The TCP peer, no proxies trusted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trust the proxies in a comma-separated list of networks and addresses
    /// (as [`IpFilterLayer::allow`](super::IpFilterLayer::allow) reads
    /// them); adds to any already trusted.
    ///
    /// Unless [`use_forwarded`](Self::use_forwarded) is chosen, the client is
    /// then read from `X-Forwarded-For`.
    pub fn trust_proxies(mut self, list: &str) -> Result<Self, ParseAllowlistError> {
        self.trusted_proxies.extend_from_str(list)?;
        Ok(self)
    }

    /// Trust the proxies in `net`.
    pub fn trust_proxy_net(mut self, net: impl Into<IpNet>) -> Self {
        self.trusted_proxies.push(net);
        self
    }

    /// Read the client from `X-Forwarded-For` when the peer is a trusted
    /// proxy. Several header lines are read as one list, in order.
    ///
    /// Choosing this and [`use_forwarded`](Self::use_forwarded) reads both:
    /// when a request carries both, they must name the same client, or the
    /// client is unknown. Choose both only if your proxies set both (or
    /// strip what clients send): a header the proxy passes through untouched
    /// is the client's word.
    pub fn use_x_forwarded_for(mut self) -> Self {
        self.x_forwarded_for = true;
        self
    }

    /// Read the client from `X-Real-IP` (one address, as nginx's
    /// `proxy_set_header X-Real-IP $remote_addr` writes it) when the peer is
    /// a trusted proxy. Chosen, it is the only header read; sent twice, or
    /// not an address, the client is unknown.
    pub fn use_x_real_ip(mut self) -> Self {
        self.x_real_ip = true;
        self
    }

    /// Read the client from the `for=` parameters of RFC 7239 `Forwarded`
    /// when the peer is a trusted proxy.
    pub fn use_forwarded(mut self) -> Self {
        self.forwarded = true;
        self
    }

    /// Take the client `hops` entries from the right of the forwarding
    /// header instead of walking past trusted proxies: for load balancers
    /// that append a fixed number of entries whose own addresses are not
    /// known in advance (one for most; two where the balancer adds the
    /// client and itself). `1` is the rightmost entry; `0` counts as `1`.
    ///
    /// The peer must still be a trusted proxy; trust the balancer's ranges
    /// (or, where the network guarantees every connection comes through
    /// it, `0.0.0.0/0, ::/0`). A header with fewer entries leaves the
    /// client unknown.
    pub fn forwarded_hops(mut self, hops: usize) -> Self {
        self.hops = Some(hops.max(1));
        self
    }

    /// Find the peer address with `peer` instead of the connection info in
    /// the request extensions: a custom connect-info type, an address from
    /// the PROXY protocol. Proxy headers are still applied on top when the
    /// address it returns is a trusted proxy. `None` leaves the client
    /// unknown.
    pub fn peer_ip_with<F>(mut self, peer: F) -> Self
    where
        F: Fn(&Parts) -> Option<IpAddr> + Send + Sync + 'static,
    {
        self.peer = Some(Arc::new(peer));
        self
    }

    /// The trusted proxies.
    #[cfg(test)]
    pub(crate) fn trusted_proxies(&self) -> &Allowlist {
        &self.trusted_proxies
    }

    /// The peer address (canonical), before any proxy header is considered.
    pub fn peer_ip(&self, parts: &Parts) -> Option<IpAddr> {
        let ip = match &self.peer {
            Some(peer) => peer(parts),
            None => peer_from_extensions(&parts.extensions),
        };
        ip.map(|ip| ip.to_canonical())
    }

    /// The client address of the request, canonical, or a rejection with
    /// [`Reason::ClientIpUnknown`].
    pub fn resolve(&self, parts: &Parts) -> Result<IpAddr, Rejection> {
        self.try_resolve(parts)
            .ok_or_else(|| Rejection::new(Reason::ClientIpUnknown))
    }

    fn try_resolve(&self, parts: &Parts) -> Option<IpAddr> {
        let peer = self.peer_ip(parts)?;
        if !self.trusted_proxies.contains(peer) {
            return Some(peer);
        }
        let headers = &parts.headers;
        if self.x_real_ip {
            let mut values = headers.get_all("x-real-ip").iter();
            return match (values.next(), values.next()) {
                (Some(value), None) => value
                    .to_str()
                    .ok()?
                    .trim()
                    .parse::<IpAddr>()
                    .ok()
                    .map(|ip| ip.to_canonical()),
                // A trusted proxy that wrote none sent the request itself.
                (None, _) => Some(peer),
                (Some(_), Some(_)) => None,
            };
        }
        let (use_xff, use_forwarded) = match (self.x_forwarded_for, self.forwarded) {
            (false, false) => (true, false),
            chosen => chosen,
        };
        let from_xff = (use_xff && forwarded::has_x_forwarded_for(headers))
            .then(|| self.walk(peer, forwarded::x_forwarded_for(headers)));
        let from_forwarded = (use_forwarded && forwarded::has_forwarded(headers)).then(|| {
            let keep = self.hops.unwrap_or(0).max(MAX_FORWARDED_HOPS);
            self.walk(peer, forwarded::forwarded(headers, keep))
        });
        match (from_xff, from_forwarded) {
            (Some(a), Some(b)) => a.filter(|a| Some(*a) == b),
            (Some(one), None) | (None, Some(one)) => one,
            // A trusted proxy that forwarded nothing sent the request itself.
            (None, None) if self.hops.is_none() => Some(peer),
            (None, None) => None,
        }
    }

    fn walk(&self, peer: IpAddr, mut hops: impl Iterator<Item = Node>) -> Option<IpAddr> {
        if let Some(n) = self.hops {
            return match hops.nth(n - 1) {
                Some(Node::Ip(ip)) => Some(ip.to_canonical()),
                _ => None,
            };
        }
        let mut client = peer;
        for (seen, hop) in hops.enumerate() {
            if seen >= MAX_FORWARDED_HOPS {
                return None;
            }
            let Node::Ip(ip) = hop else { return None };
            client = ip.to_canonical();
            if !self.trusted_proxies.contains(client) {
                return Some(client);
            }
        }
        // Every hop is a trusted proxy: the request started at the leftmost.
        Some(client)
    }
}

impl fmt::Debug for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIp")
            .field(
                "peer",
                &self.peer.as_ref().map_or("connect info", |_| "custom"),
            )
            .field("trusted_proxies", &self.trusted_proxies)
            .field("x_forwarded_for", &self.x_forwarded_for)
            .field("forwarded", &self.forwarded)
            .field("x_real_ip", &self.x_real_ip)
            .field("hops", &self.hops)
            .finish()
    }
}

fn peer_from_extensions(extensions: &http::Extensions) -> Option<IpAddr> {
    #[cfg(feature = "axum")]
    if let Some(info) = extensions.get::<axum::extract::ConnectInfo<SocketAddr>>() {
        return Some(info.0.ip());
    }
    if let Some(addr) = extensions.get::<SocketAddr>() {
        return Some(addr.ip());
    }
    #[cfg(feature = "tonic")]
    if let Some(info) = extensions.get::<tonic::transport::server::TcpConnectInfo>() {
        return info.remote_addr().map(|addr| addr.ip());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = http::Request::builder();
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let (mut parts, ()) = builder.body(()).unwrap().into_parts();
        if !peer.is_empty() {
            parts.extensions.insert(peer.parse::<SocketAddr>().unwrap());
        }
        parts
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn unknown(result: Result<IpAddr, Rejection>) -> bool {
        matches!(result, Err(r) if r.reason() == Reason::ClientIpUnknown)
    }

    fn proxied() -> ClientIp {
        ClientIp::new()
            .trust_proxies("10.0.0.0/8, fd00::/8")
            .unwrap()
    }

    #[test]
    fn peer_from_a_socket_addr_extension() {
        let resolver = ClientIp::new();
        assert_eq!(
            resolver.resolve(&parts("192.0.2.1:5", &[])).unwrap(),
            ip("192.0.2.1")
        );
        assert!(unknown(resolver.resolve(&parts("", &[]))));
    }

    #[cfg(feature = "axum")]
    #[test]
    fn peer_from_axum_connect_info() {
        let mut parts = parts("", &[]);
        parts
            .extensions
            .insert(axum::extract::ConnectInfo(SocketAddr::from((
                [192, 0, 2, 3],
                1,
            ))));
        assert_eq!(ClientIp::new().resolve(&parts).unwrap(), ip("192.0.2.3"));
    }

    #[test]
    fn ipv4_mapped_peer_is_canonical() {
        let resolved = ClientIp::new()
            .resolve(&parts("[::ffff:10.1.2.3]:443", &[]))
            .unwrap();
        assert_eq!(resolved, ip("10.1.2.3"));
        assert!(resolved.is_ipv4());
        // ...and so is a mapped peer checked against trusted IPv4 proxies.
        let resolved = proxied()
            .resolve(&parts(
                "[::ffff:10.0.0.1]:443",
                &[("x-forwarded-for", "::ffff:192.0.2.8")],
            ))
            .unwrap();
        assert_eq!(resolved, ip("192.0.2.8"));
    }

    #[test]
    fn headers_from_untrusted_peers_are_ignored() {
        for resolver in [ClientIp::new(), proxied(), proxied().use_forwarded()] {
            let parts = parts(
                "192.0.2.1:5",
                &[
                    ("x-forwarded-for", "203.0.113.7"),
                    ("forwarded", "for=203.0.113.7"),
                ],
            );
            assert_eq!(resolver.resolve(&parts).unwrap(), ip("192.0.2.1"));
        }
    }

    #[test]
    fn walks_past_trusted_proxies() {
        let resolver = proxied();
        let xff = |v| resolver.resolve(&parts("10.0.0.1:5", &[("x-forwarded-for", v)]));
        assert_eq!(xff("203.0.113.7").unwrap(), ip("203.0.113.7"));
        assert_eq!(
            xff("198.51.100.1, 203.0.113.7, 10.9.9.9").unwrap(),
            ip("203.0.113.7")
        );
        assert_eq!(xff("garbage, 203.0.113.7").unwrap(), ip("203.0.113.7"));
        assert_eq!(xff("10.2.2.2, 10.3.3.3").unwrap(), ip("10.2.2.2"));
        assert!(unknown(xff("203.0.113.7, garbage")));
        assert!(unknown(xff("203.0.113.7, unknown")));
        assert!(unknown(xff("203.0.113.7, _hidden")));
        assert!(unknown(xff("fe80::1%eth0")));
        assert!(unknown(xff("")));
        // No header: the proxy itself is the client.
        assert_eq!(
            resolver.resolve(&parts("10.0.0.1:5", &[])).unwrap(),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn long_runs_of_trusted_hops_fail_closed() {
        let resolver = proxied();
        let within = vec!["10.0.0.9"; MAX_FORWARDED_HOPS - 1].join(", ");
        let parts_within = parts(
            "10.0.0.1:5",
            &[("x-forwarded-for", &format!("203.0.113.7, {within}"))],
        );
        assert_eq!(resolver.resolve(&parts_within).unwrap(), ip("203.0.113.7"));
        let beyond = vec!["10.0.0.9"; 10_000].join(", ");
        let parts_beyond = parts(
            "10.0.0.1:5",
            &[("x-forwarded-for", &format!("203.0.113.7, {beyond}"))],
        );
        assert!(unknown(resolver.resolve(&parts_beyond)));
        let forwarded = vec!["for=10.0.0.9"; 10_000].join(", ");
        let parts_beyond = parts(
            "10.0.0.1:5",
            &[("forwarded", &format!("for=203.0.113.7, {forwarded}"))],
        );
        assert!(unknown(resolver.use_forwarded().resolve(&parts_beyond)));
    }

    #[test]
    fn forwarded_header() {
        let resolver = proxied().use_forwarded();
        let fwd = |v| resolver.resolve(&parts("[fd00::1]:5", &[("forwarded", v)]));
        assert_eq!(
            fwd(r#"for="[2001:db8::1]:4711";proto=https, for=10.0.0.2"#).unwrap(),
            ip("2001:db8::1")
        );
        assert!(unknown(fwd("for=_hidden")));
        assert!(unknown(fwd("for=unknown, for=10.0.0.2")));
        assert!(unknown(fwd("proto=https")));
        // Only Forwarded was chosen: X-Forwarded-For is not read.
        let parts = parts("10.0.0.1:5", &[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(resolver.resolve(&parts).unwrap(), ip("10.0.0.1"));
    }

    #[test]
    fn both_headers_must_agree() {
        let resolver = proxied().use_forwarded().use_x_forwarded_for();
        let both = |xff, fwd| {
            resolver.resolve(&parts(
                "10.0.0.1:5",
                &[("x-forwarded-for", xff), ("forwarded", fwd)],
            ))
        };
        assert_eq!(
            both("203.0.113.7", "for=203.0.113.7").unwrap(),
            ip("203.0.113.7")
        );
        assert!(unknown(both("203.0.113.7", "for=198.51.100.1")));
        let only = resolver.resolve(&parts("10.0.0.1:5", &[("forwarded", "for=203.0.113.7")]));
        assert_eq!(only.unwrap(), ip("203.0.113.7"));
    }

    #[test]
    fn fixed_hops() {
        // e.g. a balancer that appends "<client>, <balancer>".
        let resolver = ClientIp::new()
            .trust_proxies("0.0.0.0/0")
            .unwrap()
            .forwarded_hops(2);
        let xff = |v| resolver.resolve(&parts("192.0.2.1:5", &[("x-forwarded-for", v)]));
        assert_eq!(
            xff("1.1.1.1, 203.0.113.7, 35.191.0.1").unwrap(),
            ip("203.0.113.7")
        );
        assert!(unknown(xff("35.191.0.1")));
        assert!(unknown(xff("_x, 35.191.0.1")));
        assert!(unknown(resolver.resolve(&parts("192.0.2.1:5", &[]))));
        // Zero counts as the rightmost entry.
        let rightmost = ClientIp::new()
            .trust_proxies("0.0.0.0/0")
            .unwrap()
            .forwarded_hops(0);
        let parts = parts(
            "192.0.2.1:5",
            &[("x-forwarded-for", "1.1.1.1, 203.0.113.7")],
        );
        assert_eq!(rightmost.resolve(&parts).unwrap(), ip("203.0.113.7"));
    }

    #[test]
    fn custom_peer() {
        let resolver = proxied().peer_ip_with(|parts| {
            parts
                .headers
                .get("x-test-peer")?
                .to_str()
                .ok()?
                .parse()
                .ok()
        });
        let from = |peer, xff| {
            resolver.resolve(&parts(
                "",
                &[("x-test-peer", peer), ("x-forwarded-for", xff)],
            ))
        };
        assert_eq!(from("10.0.0.1", "203.0.113.7").unwrap(), ip("203.0.113.7"));
        assert_eq!(from("192.0.2.1", "203.0.113.7").unwrap(), ip("192.0.2.1"));
        assert!(unknown(from("nope", "203.0.113.7")));
    }
}
