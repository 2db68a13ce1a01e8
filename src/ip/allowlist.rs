//! A set of IPv4 / IPv6 networks, parsed from configuration text.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net};

/// The shortest IPv4 prefix an allowlist entry may have and still name
/// particular senders (`Allowlist::names_senders`).
const NARROWEST_BROAD_IPV4: u8 = 8;

/// The shortest IPv6 prefix an allowlist entry may have and still name
/// particular senders (`Allowlist::names_senders`).
const NARROWEST_BROAD_IPV6: u8 = 16;

/// A set of networks and single addresses, IPv4 and IPv6.
///
/// Used for the allowed sources of [`IpFilterLayer`](super::IpFilterLayer)
/// and for the trusted proxies of [`ClientIp`](super::ClientIp).
///
/// [`contains`](Self::contains) is plain membership: an empty list contains
/// nothing. [`permits`](Self::permits) is the allowlist reading, where an
/// empty list lets any source through.
///
/// Addresses are compared in canonical form: an IPv4-mapped IPv6 address
/// (`::ffff:10.1.2.3`) matches IPv4 entries, and an entry written in mapped
/// form matches the plain IPv4 address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    nets: Vec<IpNet>,
}

impl Allowlist {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse a comma-separated list of networks (`10.0.0.0/8`) and single
    /// addresses (`192.168.1.42`, `::1`). Spaces around entries and empty
    /// entries are ignored, so a blank string is an empty list.
    ///
    /// A network with host bits set (`10.1.2.3/8`) is refused rather than
    /// silently widened: it is usually a typo for a single address, and the
    /// wrong guess would open a whole network.
    pub fn parse(list: &str) -> Result<Self, ParseAllowlistError> {
        let mut allowlist = Self::new();
        allowlist.extend_from_str(list)?;
        Ok(allowlist)
    }

    /// Add the entries of a comma-separated list (see [`parse`](Self::parse)).
    /// On error nothing is added.
    pub fn extend_from_str(&mut self, list: &str) -> Result<(), ParseAllowlistError> {
        let parsed = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(parse_entry)
            .collect::<Result<Vec<_>, _>>()?;
        self.nets.extend(parsed);
        Ok(())
    }

    /// Add a network. Host bits are cleared (`10.1.2.3/8` becomes
    /// `10.0.0.0/8`): a typed value is taken at its word.
    pub fn push(&mut self, net: impl Into<IpNet>) {
        self.nets.push(canonical_net(net.into().trunc()));
    }

    /// Add a single address.
    pub fn push_ip(&mut self, ip: IpAddr) {
        self.push(IpNet::from(ip));
    }

    /// Whether `ip` is in one of the networks. An empty list contains nothing.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The allowlist reading: an empty list permits any address, otherwise
    /// the address must be [`contained`](Self::contains).
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.nets.is_empty() || self.contains(ip)
    }

    /// Whether the list names particular senders, so that being on it says
    /// something about who is calling: it has an entry, none broader than
    /// a `/8` for IPv4 or a `/16` for IPv6, and together the
    /// IPv4 entries cover at most sixteen `/8`s (1/16 of the address
    /// space). `0.0.0.0/0, ::/0`, or the Internet cut into halves, admits
    /// anyone and authenticates no one.
    pub fn names_senders(&self) -> bool {
        const MOST_IPV4: u64 = 16 << 24;
        let mut ipv4: u64 = 0;
        for net in &self.nets {
            match net {
                IpNet::V4(net) if net.prefix_len() < NARROWEST_BROAD_IPV4 => return false,
                IpNet::V4(net) => ipv4 += 1u64 << (32 - net.prefix_len()),
                IpNet::V6(net) if net.prefix_len() < NARROWEST_BROAD_IPV6 => return false,
                IpNet::V6(_) => {}
            }
        }
        !self.nets.is_empty() && ipv4 <= MOST_IPV4
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The networks, single addresses as `/32` or `/128`, IPv4-mapped
    /// entries as IPv4.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }
}

impl FromStr for Allowlist {
    type Err = ParseAllowlistError;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        Self::parse(list)
    }
}

impl fmt::Display for Allowlist {
    /// The list in the form [`parse`](Allowlist::parse) reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, net) in self.nets.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if net.prefix_len() == net.max_prefix_len() {
                write!(f, "{}", net.addr())?;
            } else {
                write!(f, "{net}")?;
            }
        }
        Ok(())
    }
}

impl<N: Into<IpNet>> FromIterator<N> for Allowlist {
    fn from_iter<I: IntoIterator<Item = N>>(iter: I) -> Self {
        let mut allowlist = Self::new();
        allowlist.extend(iter);
        allowlist
    }
}

impl<N: Into<IpNet>> Extend<N> for Allowlist {
    fn extend<I: IntoIterator<Item = N>>(&mut self, iter: I) {
        for net in iter {
            self.push(net);
        }
    }
}

/// An entry of an allowlist or trusted-proxy list that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseAllowlistError {
    /// The entry is neither an address nor a network in CIDR notation.
    InvalidEntry {
        /// The entry as written (trimmed).
        entry: String,
    },
    /// The list is blank where entries are required
    /// ([`IpFilterLayer::allow`](super::IpFilterLayer::allow)).
    Blank,
    /// Several entries separated by spaces instead of commas
    /// (`10.0.0.0/8 192.168.0.0/16`).
    NotCommaSeparated {
        /// The entry as written (trimmed).
        entry: String,
    },
    /// The entry has bits set after its prefix, e.g. `10.1.2.3/8`.
    HostBitsSet {
        /// The entry as written (trimmed).
        entry: String,
        /// The network it would cover (`10.0.0.0/8`); write that, or the
        /// single address, instead.
        network: IpNet,
    },
}

impl fmt::Display for ParseAllowlistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidEntry { entry } => write!(
                f,
                "invalid IP list entry {entry:?}: expected an address or a network in CIDR notation"
            ),
            Self::Blank => f.write_str(
                "the IP allowlist is blank (an unset environment variable?); \
                 use IpFilterLayer::allow_any to admit every source on purpose",
            ),
            Self::NotCommaSeparated { entry } => write!(
                f,
                "invalid IP list entry {entry:?}: several addresses or networks; separate them with commas"
            ),
            Self::HostBitsSet { entry, network } => write!(
                f,
                "invalid IP list entry {entry:?}: host bits set; write the network {network} or a single address"
            ),
        }
    }
}

impl std::error::Error for ParseAllowlistError {}

fn parse_entry(entry: &str) -> Result<IpNet, ParseAllowlistError> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Ok(canonical_net(IpNet::from(ip)));
    }
    let net = entry.parse::<IpNet>().map_err(|_| {
        // `10.0.0.0/8 192.168.0.0/16`: a list written with spaces deserves
        // to be told what separates entries.
        let mut words = entry.split_ascii_whitespace();
        let several = words.clone().nth(1).is_some()
            && words.all(|word| word.parse::<IpAddr>().is_ok() || word.parse::<IpNet>().is_ok());
        if several {
            ParseAllowlistError::NotCommaSeparated {
                entry: entry.to_owned(),
            }
        } else {
            ParseAllowlistError::InvalidEntry {
                entry: entry.to_owned(),
            }
        }
    })?;
    if net.trunc() != net {
        return Err(ParseAllowlistError::HostBitsSet {
            entry: entry.to_owned(),
            network: net.trunc(),
        });
    }
    Ok(canonical_net(net))
}

/// Rewrite an IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) as the IPv4
/// network it covers, so it matches canonicalised client addresses.
fn canonical_net(net: IpNet) -> IpNet {
    const MAPPED_PREFIX: u8 = 96;
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= MAPPED_PREFIX => match v6.addr().to_ipv4_mapped() {
            Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - MAPPED_PREFIX)
                .map(IpNet::V4)
                .unwrap_or(net),
            None => net,
        },
        _ => net,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipnet::Ipv6Net;
    use proptest::prelude::*;

    #[test]
    fn networks_addresses_and_mapped_forms() -> Result<(), Box<dyn std::error::Error>> {
        let list: Allowlist = "10.0.0.0/8, 192.168.1.42, 2001:db8:abcd::/48".parse()?;
        assert!(list.contains("10.1.2.3".parse::<IpAddr>()?));
        assert!(list.contains("::ffff:10.1.2.3".parse::<IpAddr>()?));
        assert!(list.contains("2001:db8:abcd:12::1".parse::<IpAddr>()?));
        assert!(!list.contains("192.168.1.43".parse::<IpAddr>()?));
        Ok(())
    }

    #[test]
    fn only_narrow_lists_name_senders() -> Result<(), Box<dyn std::error::Error>> {
        assert!("192.30.252.0/22, 2606:50c0::/32"
            .parse::<Allowlist>()?
            .names_senders());
        assert!("10.0.0.0/8, 172.16.0.0/12"
            .parse::<Allowlist>()?
            .names_senders());
        assert!(!"0.0.0.0/0, ::/0".parse::<Allowlist>()?.names_senders());
        assert!(!"0.0.0.0/1, 128.0.0.0/1"
            .parse::<Allowlist>()?
            .names_senders());
        assert!(!"2000::/3".parse::<Allowlist>()?.names_senders());
        Ok(())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_the_documented_form() {
        let list = Allowlist::parse("10.0.0.0/8, 192.168.1.42,2001:db8:abcd::/48 ,  ::1").unwrap();
        assert_eq!(list.nets().len(), 4);
        assert!(list.contains(ip("10.255.0.1")));
        assert!(list.contains(ip("192.168.1.42")));
        assert!(!list.contains(ip("192.168.1.41")));
        assert!(list.contains(ip("2001:db8:abcd:ffff::1")));
        assert!(!list.contains(ip("2001:db8:abce::1")));
        assert!(list.contains(ip("::1")));
        assert!(!list.contains(ip("::2")));
    }

    #[test]
    fn blank_is_empty_and_permits_everything() {
        for blank in ["", "   ", ",", " , ,"] {
            let list = Allowlist::parse(blank).unwrap();
            assert!(list.is_empty());
            assert!(list.permits(ip("203.0.113.9")));
            assert!(!list.contains(ip("203.0.113.9")));
        }
    }

    #[test]
    fn bad_entries_are_named() {
        let err = Allowlist::parse("10.0.0.0/8, 10.0.0.300, ::1").unwrap_err();
        assert_eq!(
            err,
            ParseAllowlistError::InvalidEntry {
                entry: "10.0.0.300".into()
            }
        );
        assert!(err.to_string().contains("\"10.0.0.300\""), "{err}");

        for bad in [
            "10.0.0.0/33",
            "::1/129",
            "example.com",
            "10.0.0.0/8/8",
            "fe80::1%eth0",
        ] {
            assert!(
                matches!(Allowlist::parse(bad), Err(ParseAllowlistError::InvalidEntry { entry }) if entry == bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn host_bits_are_refused_when_parsed_and_cleared_when_typed() {
        let err = Allowlist::parse("10.1.2.3/8").unwrap_err();
        assert_eq!(
            err,
            ParseAllowlistError::HostBitsSet {
                entry: "10.1.2.3/8".into(),
                network: "10.0.0.0/8".parse().unwrap(),
            }
        );
        let mut list = Allowlist::new();
        list.push("10.1.2.3/8".parse::<IpNet>().unwrap());
        assert!(list.contains(ip("10.200.0.1")));
    }

    #[test]
    fn ipv4_mapped_addresses_match_ipv4_entries_both_ways() {
        let list = Allowlist::parse("10.0.0.0/8, ::ffff:192.168.0.0/112").unwrap();
        assert!(list.contains(ip("::ffff:10.1.2.3")));
        assert!(list.contains(ip("192.168.7.7")));
        assert!(list.contains(ip("::ffff:192.168.7.7")));
        assert!(!list.contains(ip("::ffff:11.1.2.3")));
        assert_eq!(list.to_string(), "10.0.0.0/8, 192.168.0.0/16");
    }

    #[test]
    fn failed_extend_adds_nothing() {
        let mut list = Allowlist::parse("10.0.0.0/8").unwrap();
        assert!(list.extend_from_str("192.168.0.1, nope").is_err());
        assert_eq!(list.nets().len(), 1);
    }

    fn any_net() -> impl Strategy<Value = IpNet> {
        prop_oneof![
            (any::<u32>(), 0u8..=32)
                .prop_map(|(a, p)| IpNet::V4(Ipv4Net::new(a.into(), p).unwrap().trunc())),
            (any::<u128>(), 0u8..=128)
                .prop_map(|(a, p)| IpNet::V6(Ipv6Net::new(a.into(), p).unwrap().trunc())),
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in ".{0,200}") {
            let _ = Allowlist::parse(&input);
        }

        #[test]
        fn parse_never_panics_on_near_misses(input in "[0-9a-fA-F:./%, \\[\\]]{0,80}") {
            let _ = Allowlist::parse(&input);
        }

        #[test]
        fn display_round_trips(nets in proptest::collection::vec(any_net(), 0..8)) {
            let list: Allowlist = nets.into_iter().collect();
            let reparsed = Allowlist::parse(&list.to_string()).unwrap();
            prop_assert_eq!(reparsed, list);
        }

        #[test]
        fn a_network_contains_its_addresses(net in any_net(), offset in any::<u128>()) {
            let list: Allowlist = std::iter::once(net).collect();
            let ip = match net {
                IpNet::V4(n) => {
                    let host = u32::MAX.checked_shr(u32::from(n.prefix_len())).unwrap_or(0);
                    IpAddr::from((u32::from(n.network()) | (offset as u32 & host)).to_be_bytes())
                }
                IpNet::V6(n) => {
                    let host = u128::MAX.checked_shr(u32::from(n.prefix_len())).unwrap_or(0);
                    IpAddr::from((u128::from(n.network()) | (offset & host)).to_be_bytes())
                }
            };
            // An IPv4-mapped address is an IPv4 address, whatever IPv6
            // network its bits fall in.
            prop_assume!(ip.to_canonical() == ip);
            prop_assert!(list.contains(ip), "{} not in {}", ip, list);
        }
    }
}
