//! The IP filter as a tower layer.

use std::net::IpAddr;
use std::sync::Arc;

use http::request::Parts;
use ipnet::IpNet;
use tower_layer::Layer;

use super::allowlist::{Allowlist, ParseAllowlistError};
use super::client::ClientIp;
use crate::context::{AuthMethod, Authentication, WebhookContext};
use crate::guard::{Guard, RequestCheck};
use crate::rejection::{Reason, Rejection, Stop};

/// The check behind [`IpFilterLayer`]: resolve the client address, record it,
/// and refuse it unless the allowlist permits it. A tenant policy gets it
/// from `WebhookStack::ip_filter(..).into_tenant_policy()`.
#[derive(Debug, Clone, Default)]
pub struct IpPolicy {
    allowlist: Allowlist,
    client_ip: ClientIp,
}

impl IpPolicy {
    /// A policy from its parts. An empty allowlist permits any source.
    pub fn new(allowlist: Allowlist, client_ip: ClientIp) -> Self {
        Self {
            allowlist,
            client_ip,
        }
    }

    /// The allowed sources.
    pub fn allowlist(&self) -> &Allowlist {
        &self.allowlist
    }

    /// How the client address is found.
    pub fn client_ip(&self) -> &ClientIp {
        &self.client_ip
    }

    /// The client address if it is permitted; otherwise the rejection
    /// ([`Reason::ClientIpUnknown`] or [`Reason::IpNotAllowed`]).
    pub fn evaluate(&self, parts: &Parts) -> Result<IpAddr, Rejection> {
        let ip = self.client(parts)?;
        self.admit(ip)
    }

    /// The address resolved once for the whole stack or tenant layer, else
    /// this policy's own resolution.
    fn client(&self, parts: &Parts) -> Result<IpAddr, Rejection> {
        match parts.extensions.get::<super::client::ResolvedClientIp>() {
            Some(resolved) => resolved
                .0
                .ok_or_else(|| Rejection::new(Reason::ClientIpUnknown)),
            None => self.client_ip.resolve(parts),
        }
    }

    fn admit(&self, ip: IpAddr) -> Result<IpAddr, Rejection> {
        if self.allowlist.permits(ip) {
            Ok(ip)
        } else {
            Err(Rejection::new(Reason::IpNotAllowed))
        }
    }
}

impl RequestCheck for IpPolicy {
    fn check(&self, parts: &mut Parts, context: &WebhookContext) -> Result<(), Stop> {
        let ip = self.client(parts)?;
        let admitted = self.admit(ip);
        context.update(|verification| {
            // Recorded whatever the verdict, so the audit trail names
            // refused sources too.
            verification.client_ip = Some(ip);
            // An allowlist is the only credential some senders have: say
            // so, so handlers that require an authenticated request accept
            // it. A token or signature checked later replaces this record.
            if admitted.is_ok() && !self.allowlist.is_empty() {
                verification
                    .authentication
                    .get_or_insert_with(|| Authentication::new(AuthMethod::IpAllowlist));
            }
        });
        admitted.map(|_| ()).map_err(Stop::from)
    }
}

/// Refuses requests whose client address is not on an allowlist, with
/// `403 Forbidden`, before anything else runs and before the body is read.
///
/// See the [module docs](super) for an example.
#[derive(Debug, Clone, Default)]
pub struct IpFilterLayer {
    policy: Arc<IpPolicy>,
}

impl IpFilterLayer {
    /// Any source allowed, client address from the TCP peer. Add sources
    /// with [`allow`](Self::allow).
    pub fn new() -> Self {
        Self::default()
    }

    /// Allow the networks and addresses of a comma-separated list, e.g.
    /// `"10.0.0.0/8, 192.168.1.42, 2001:db8:abcd::/48"`. Spaces around
    /// entries are ignored; a network with host bits set (`10.1.2.3/8`) is
    /// refused rather than silently widened (usually a typo for a single
    /// address). Addresses compare in canonical form: an IPv4-mapped IPv6
    /// address (`::ffff:10.1.2.3`) matches IPv4 entries.
    ///
    /// A blank list is refused ([`ParseAllowlistError::Blank`]): in code it
    /// is almost always an unset environment variable, and reading it as
    /// "any source" would silently open the endpoint. Say
    /// [`allow_any`](Self::allow_any) when that is meant.
    pub fn allow(mut self, list: &str) -> Result<Self, ParseAllowlistError> {
        if list.split(',').all(|entry| entry.trim().is_empty()) {
            return Err(ParseAllowlistError::Blank);
        }
        self.policy_mut().allowlist.extend_from_str(list)?;
        Ok(self)
    }

    /// Admit every source, on purpose: the client address is still resolved
    /// (through trusted proxies) and recorded. Forgets any allowed entries.
    /// Such a layer [`restricts`](Self::restricts) nothing, so it does not
    /// count as a protection.
    pub fn allow_any(mut self) -> Self {
        self.policy_mut().allowlist = Allowlist::new();
        self
    }

    /// Whether the layer refuses some source, i.e. its allowlist has an
    /// entry. `false` for [`new`](Self::new) alone and
    /// [`allow_any`](Self::allow_any): such a layer records addresses but
    /// protects nothing.
    pub fn restricts(&self) -> bool {
        !self.policy.allowlist.is_empty()
    }

    /// Whether the layer counts as authentication: its allowlist names
    /// particular senders: an entry, none broader than a `/8` (IPv4) or a
    /// `/16` (IPv6), and at most a sixteenth of the IPv4 space in all.
    /// A stack whose
    /// only protection is an allowlist admitting any address (or most of
    /// them, `0.0.0.0/0, ::/0`) is refused unless it says
    /// [`insecure_no_authentication`](crate::WebhookStack::insecure_no_authentication).
    pub fn authenticates(&self) -> bool {
        self.policy.allowlist.names_senders()
    }

    /// Allow a network.
    pub fn allow_net(mut self, net: impl Into<IpNet>) -> Self {
        self.policy_mut().allowlist.push(net);
        self
    }

    /// Allow a single address.
    pub fn allow_ip(mut self, ip: IpAddr) -> Self {
        self.policy_mut().allowlist.push_ip(ip);
        self
    }

    /// Find the client address with `client_ip`, replacing what was
    /// configured so far.
    pub fn client_ip(mut self, client_ip: ClientIp) -> Self {
        self.policy_mut().client_ip = client_ip;
        self
    }

    /// Trust the proxies of a comma-separated list; see
    /// [`ClientIp::trust_proxies`]. The client is then read from
    /// `X-Forwarded-For` unless [`client_ip_from_forwarded`](Self::client_ip_from_forwarded)
    /// is chosen.
    pub fn trust_proxies(self, list: &str) -> Result<Self, ParseAllowlistError> {
        let client_ip = self.policy.client_ip.clone().trust_proxies(list)?;
        Ok(self.client_ip(client_ip))
    }

    /// Trust the proxies in `net`.
    pub fn trust_proxy_net(self, net: impl Into<IpNet>) -> Self {
        let client_ip = self.policy.client_ip.clone().trust_proxy_net(net);
        self.client_ip(client_ip)
    }

    /// Behind trusted proxies, read the client from `X-Forwarded-For`; see
    /// [`ClientIp::use_x_forwarded_for`].
    pub fn client_ip_from_x_forwarded_for(self) -> Self {
        let client_ip = self.policy.client_ip.clone().use_x_forwarded_for();
        self.client_ip(client_ip)
    }

    /// Behind trusted proxies, read the client from RFC 7239 `Forwarded`;
    /// see [`ClientIp::use_forwarded`].
    pub fn client_ip_from_forwarded(self) -> Self {
        let client_ip = self.policy.client_ip.clone().use_forwarded();
        self.client_ip(client_ip)
    }

    /// Take the client a fixed number of entries from the right of the
    /// forwarding header; see [`ClientIp::forwarded_hops`].
    pub fn forwarded_hops(self, hops: usize) -> Self {
        let client_ip = self.policy.client_ip.clone().forwarded_hops(hops);
        self.client_ip(client_ip)
    }

    /// Find the peer address with a closure; see [`ClientIp::peer_ip_with`].
    pub fn peer_ip_with<F>(self, peer: F) -> Self
    where
        F: Fn(&Parts) -> Option<IpAddr> + Send + Sync + 'static,
    {
        let client_ip = self.policy.client_ip.clone().peer_ip_with(peer);
        self.client_ip(client_ip)
    }

    /// The policy this layer applies.
    pub(crate) fn policy(&self) -> &IpPolicy {
        &self.policy
    }

    pub(crate) fn shared_policy(&self) -> Arc<IpPolicy> {
        Arc::clone(&self.policy)
    }

    fn policy_mut(&mut self) -> &mut IpPolicy {
        Arc::make_mut(&mut self.policy)
    }
}

impl<S> Layer<S> for IpFilterLayer {
    type Service = IpFilter<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard::new(Arc::clone(&self.policy), inner)
    }
}

/// The service of [`IpFilterLayer`].
pub type IpFilter<S> = Guard<IpPolicy, S>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn parts(peer: &str) -> Parts {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.extensions.insert(peer.parse::<SocketAddr>().unwrap());
        parts
    }

    #[test]
    fn records_the_client_ip_whatever_the_verdict() {
        let layer = IpFilterLayer::new().allow("10.0.0.0/8").unwrap();
        for (peer, reason) in [
            ("10.1.1.1:1", None),
            ("192.0.2.1:1", Some(Reason::IpNotAllowed)),
        ] {
            let context = WebhookContext::new();
            let mut parts = parts(peer);
            let result = layer.policy().check(&mut parts, &context);
            let refused = match result {
                Ok(()) => None,
                Err(Stop::Refuse(rejection)) => Some(rejection.reason()),
                Err(Stop::Answer(answer)) => panic!("the IP filter answered {answer:?}"),
            };
            assert_eq!(refused, reason);
            let expected = peer.parse::<SocketAddr>().unwrap().ip();
            assert_eq!(context.snapshot().client_ip, Some(expected));
        }
    }

    #[test]
    fn blank_allowlist_admits_and_records() {
        assert_eq!(
            IpFilterLayer::new().allow(" , ").unwrap_err(),
            ParseAllowlistError::Blank
        );
        let layer = IpFilterLayer::new().allow_any();
        assert!(!layer.restricts());
        let context = WebhookContext::new();
        assert!(layer
            .policy()
            .check(&mut parts("[2001:db8::5]:1"), &context)
            .is_ok());
        assert_eq!(
            context.snapshot().client_ip,
            Some("2001:db8::5".parse().unwrap())
        );
    }

    #[test]
    fn builder_keeps_earlier_settings() {
        let layer = IpFilterLayer::new()
            .allow("192.0.2.0/24")
            .unwrap()
            .trust_proxies("10.0.0.0/8")
            .unwrap()
            .client_ip_from_forwarded()
            .allow_ip("::1".parse().unwrap());
        assert_eq!(layer.policy().allowlist().to_string(), "192.0.2.0/24, ::1");
        assert_eq!(
            layer.policy().client_ip().trusted_proxies().to_string(),
            "10.0.0.0/8"
        );
        let (mut parts, ()) = http::Request::builder()
            .header("forwarded", "for=192.0.2.7")
            .body(())
            .unwrap()
            .into_parts();
        parts
            .extensions
            .insert(SocketAddr::from(([10, 0, 0, 1], 1)));
        assert_eq!(
            layer.policy().evaluate(&parts).unwrap(),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }
}
