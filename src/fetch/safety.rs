//! Which addresses may be fetched.
//!
//! An [`AddressPolicy`] (`fetch.allow_private_addresses`) says which addresses beyond the
//! public ones may be reached: none (the default), all (`true`, for tests), or a list of
//! [`AddressRange`]s (`["10.20.0.0/16", "192.168.1.5:8080"]`, for intranets). The resolver given
//! to the HTTP client drops addresses the policy refuses, so a host name that resolves (or
//! rebinds) to a private address cannot be reached; IP literals and schemes are checked on every
//! hop by [`check_target`]. The browser's requests go through [`super::egress`], which applies
//! the same policy.
//!
//! ```
//! use policydiff::fetch::safety::AddressPolicy;
//!
//! let policy = AddressPolicy::Also(vec!["10.20.0.0/16".parse().unwrap()]);
//! assert!(policy.permits("10.20.3.4".parse().unwrap(), Some(443)));
//! assert!(!policy.permits("169.254.169.254".parse().unwrap(), Some(80)));
//! assert!(policy.permits("93.184.216.34".parse().unwrap(), None));
//! ```

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use crate::Error;

/// Whether an address is public: not loopback, private, link-local, shared, documentation,
/// multicast, broadcast or unspecified.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Which addresses may be reached besides public ones: `fetch.allow_private_addresses`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AddressPolicy {
    /// Public addresses only (`false`, the default).
    #[default]
    PublicOnly,
    /// Every address (`true`): for tests, and intranets that trust every page they track.
    Any,
    /// Public addresses and these.
    Also(Vec<AddressRange>),
}

impl AddressPolicy {
    /// Whether `ip` may be reached; `port` is the port when the URL writes the address itself
    /// (entries with a port match only then), `None` for addresses a host name resolved to.
    pub fn permits(&self, ip: IpAddr, port: Option<u16>) -> bool {
        if is_public_address(ip) {
            return true;
        }
        match self {
            AddressPolicy::PublicOnly => false,
            AddressPolicy::Any => true,
            AddressPolicy::Also(ranges) => ranges.iter().any(|range| range.contains(ip, port)),
        }
    }

    /// Whether every address is allowed, so that no check is needed.
    pub fn allows_everything(&self) -> bool {
        *self == AddressPolicy::Any
    }
}

impl<'de> serde::Deserialize<'de> for AddressPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = AddressPolicy;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "true, false, or a list of addresses and networks like [\"10.0.0.0/8\", \"192.168.1.5:8080\"]",
                )
            }
            fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<AddressPolicy, E> {
                Ok(if value {
                    AddressPolicy::Any
                } else {
                    AddressPolicy::PublicOnly
                })
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<AddressPolicy, A::Error> {
                let mut ranges = Vec::new();
                while let Some(entry) = seq.next_element::<String>()? {
                    ranges.push(entry.parse().map_err(serde::de::Error::custom)?);
                }
                Ok(AddressPolicy::Also(ranges))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// An address, a network (`10.0.0.0/8`, `fd00::/8`) or an address with a port
/// (`10.0.0.5:8080`, `[fd00::5]:443`) allowed by an [`AddressPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
    port: Option<u16>,
}

impl AddressRange {
    /// Whether the range holds `ip` (and `port`, if the range names one).
    pub fn contains(&self, ip: IpAddr, port: Option<u16>) -> bool {
        if self.port.is_some() && self.port != port {
            return false;
        }
        match (canonical(self.network), canonical(ip)) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4 addresses written as IPv6 (`::ffff:10.0.0.1`) are compared as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

impl FromStr for AddressRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let invalid = |why: &str| {
            format!(
                "'{text}' in fetch.allow_private_addresses is not an address, a network or an address with a port ({why}); write it like 10.0.0.0/8, 192.168.1.5 or 192.168.1.5:8080"
            )
        };
        if let Ok(socket) = text.parse::<SocketAddr>() {
            let ip = canonical(socket.ip());
            return Ok(AddressRange {
                network: ip,
                prefix: if ip.is_ipv4() { 32 } else { 128 },
                port: Some(socket.port()),
            });
        }
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = canonical(
            address
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .map_err(|e| invalid(&e.to_string()))?,
        );
        let longest = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= longest)
                .ok_or_else(|| invalid(&format!("the prefix length must be 0 to {longest}")))?,
            None => longest,
        };
        Ok(AddressRange {
            network,
            prefix,
            port: None,
        })
    }
}

impl std::fmt::Display for AddressRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.port, self.network) {
            (Some(port), IpAddr::V6(ip)) => write!(f, "[{ip}]:{port}"),
            (Some(port), ip) => write!(f, "{ip}:{port}"),
            (None, ip) => write!(f, "{ip}/{}", self.prefix),
        }
    }
}

/// A target refused for safety.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// A host name that does not resolve.
#[derive(Debug)]
pub struct DnsFailure(pub String);

impl std::fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DnsFailure {}

/// Checks a URL before a request: scheme, and the address when the host is an IP literal.
pub fn check_target(url: &Url, policy: &AddressPolicy) -> Result<(), Error> {
    let refuse = |reason: String| Error::ForbiddenAddress {
        url: url.to_string(),
        reason,
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse(format!(
            "only http and https are fetched, not {}:",
            url.scheme()
        )));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(refuse("it has no host".into())),
    };
    if let Some(ip) = ip
        && !policy.permits(ip, url.port_or_known_default())
    {
        return Err(refuse(format!(
            "{ip} is not a public address, and fetch.allow_private_addresses does not allow it"
        )));
    }
    Ok(())
}

/// Resolves a host name and keeps the addresses `policy` permits; `port` is set on the result.
/// An error says whether the name did not resolve ([`DnsFailure`]) or resolved only to
/// refused addresses ([`Refused`]).
pub async fn resolve_permitted(
    host: &str,
    port: u16,
    policy: &AddressPolicy,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| {
            Box::new(DnsFailure(format!("{host}: {e}"))) as Box<dyn std::error::Error + Send + Sync>
        })?
        .collect();
    let allowed: Vec<SocketAddr> = addresses
        .iter()
        .copied()
        .filter(|a| policy.permits(a.ip(), None))
        .collect();
    if allowed.is_empty() {
        let shown: Vec<String> = addresses.iter().map(|a| a.ip().to_string()).collect();
        return Err(Box::new(Refused(format!(
            "{host} resolves to {}, which is not a public address (allow it in fetch.allow_private_addresses if it is meant to be reached)",
            if shown.is_empty() {
                "nothing".to_string()
            } else {
                shown.join(", ")
            }
        ))));
    }
    Ok(allowed)
}

/// DNS resolution for the HTTP client that keeps only the addresses the policy permits.
pub struct SafeResolver {
    /// What may be reached.
    pub policy: AddressPolicy,
}

impl Resolve for SafeResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let allowed = resolve_permitted(&host, 0, &policy).await?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public_address(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public_address(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn schemes_and_literals_are_checked() {
        let check =
            |url: &str, policy: &AddressPolicy| check_target(&Url::parse(url).unwrap(), policy);
        assert!(check("file:///etc/passwd", &AddressPolicy::Any).is_err());
        assert!(check("http://169.254.169.254/latest", &AddressPolicy::PublicOnly).is_err());
        assert!(check("http://127.0.0.1:8080/", &AddressPolicy::Any).is_ok());
        assert!(check("https://example.com/", &AddressPolicy::PublicOnly).is_ok());
        let intranet = AddressPolicy::Also(vec![
            "10.20.0.0/16".parse().unwrap(),
            "127.0.0.1:8080".parse().unwrap(),
        ]);
        assert!(check("http://10.20.1.2/terms", &intranet).is_ok());
        assert!(check("http://10.21.1.2/terms", &intranet).is_err());
        assert!(check("http://127.0.0.1:8080/", &intranet).is_ok());
        assert!(check("http://127.0.0.1:8081/", &intranet).is_err());
        assert!(check("http://169.254.169.254/", &intranet).is_err());
    }

    #[tokio::test]
    async fn a_name_of_refused_addresses_is_refused_not_unresolved() {
        let error = resolve_permitted("localhost", 80, &AddressPolicy::PublicOnly)
            .await
            .unwrap_err();
        assert!(error.is::<Refused>(), "{error}");
        let allowed = AddressPolicy::Also(vec!["127.0.0.0/8".parse().unwrap()]);
        let addresses = resolve_permitted("localhost", 80, &allowed).await.unwrap();
        assert!(
            addresses
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 80)
        );
    }

    #[test]
    fn ranges_parse_match_and_explain_mistakes() {
        let range = |text: &str| text.parse::<AddressRange>();
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert!(
            range("10.0.0.0/8")
                .unwrap()
                .contains(ip("10.255.0.1"), None)
        );
        assert!(!range("10.0.0.0/8").unwrap().contains(ip("11.0.0.1"), None));
        assert!(
            range("192.168.1.5")
                .unwrap()
                .contains(ip("192.168.1.5"), Some(80))
        );
        assert!(
            !range("192.168.1.5")
                .unwrap()
                .contains(ip("192.168.1.6"), Some(80))
        );
        assert!(range("fd00::/8").unwrap().contains(ip("fd12::1"), None));
        assert!(range("0.0.0.0/0").unwrap().contains(ip("127.0.0.1"), None));
        assert!(
            range("[fd00::5]:443")
                .unwrap()
                .contains(ip("fd00::5"), Some(443))
        );
        // An entry with a port matches only a URL that names that port.
        let with_port = range("10.0.0.5:8080").unwrap();
        assert!(with_port.contains(ip("10.0.0.5"), Some(8080)));
        assert!(!with_port.contains(ip("10.0.0.5"), Some(8081)));
        assert!(!with_port.contains(ip("10.0.0.5"), None));
        // IPv4 written as IPv6 is the same address.
        assert!(
            range("10.0.0.0/8")
                .unwrap()
                .contains(ip("::ffff:10.1.2.3"), None)
        );
        for wrong in ["10.0.0.0/33", "intranet", "10.0.0/8", "fd00::/129", ""] {
            let error = range(wrong).unwrap_err();
            assert!(error.contains("fetch.allow_private_addresses"), "{error}");
        }
        assert_eq!(range("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(range("[::1]:8080").unwrap().to_string(), "[::1]:8080");
    }
}
