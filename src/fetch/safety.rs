//! Which addresses may be fetched.
//!
//! The resolver given to the HTTP client drops addresses that are not public, so
//! a host name that resolves (or rebinds) to a private address cannot be reached;
//! IP literals and schemes are checked on every hop by [`check_target`].

use std::net::{IpAddr, SocketAddr};

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
pub fn check_target(url: &Url, allow_private: bool) -> Result<(), Error> {
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
        && !allow_private
        && !is_public_address(ip)
    {
        return Err(refuse(format!("{ip} is not a public address")));
    }
    Ok(())
}

/// DNS resolution that keeps only allowed addresses.
pub struct SafeResolver {
    /// Keep private addresses too.
    pub allow_private: bool,
}

impl Resolve for SafeResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| {
                    Box::new(DnsFailure(format!("{host}: {e}")))
                        as Box<dyn std::error::Error + Send + Sync>
                })?
                .collect();
            let allowed: Vec<SocketAddr> = addresses
                .iter()
                .copied()
                .filter(|a| allow_private || is_public_address(a.ip()))
                .collect();
            if allowed.is_empty() {
                let shown: Vec<String> = addresses.iter().map(|a| a.ip().to_string()).collect();
                return Err(Box::new(Refused(format!(
                    "{host} resolves to {}, which is not a public address",
                    if shown.is_empty() {
                        "nothing".to_string()
                    } else {
                        shown.join(", ")
                    }
                )))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
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
        assert!(check_target(&Url::parse("file:///etc/passwd").unwrap(), true).is_err());
        assert!(
            check_target(&Url::parse("http://169.254.169.254/latest").unwrap(), false).is_err()
        );
        assert!(check_target(&Url::parse("http://127.0.0.1:8080/").unwrap(), true).is_ok());
        assert!(check_target(&Url::parse("https://example.com/").unwrap(), false).is_ok());
    }
}
