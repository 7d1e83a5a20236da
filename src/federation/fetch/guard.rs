//! The SSRF guard: which addresses outbound requests may reach, the URL check
//! every hop passes, and the DNS resolver that drops forbidden addresses.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::FetchError;

/// True for addresses an outbound request must not reach unless private
/// addresses are allowed: loopback, private, shared (CGNAT), link-local,
/// multicast, unspecified, broadcast and reserved, documentation and
/// benchmarking ranges, IPv6 unique-local and site-local, and every IPv6 form
/// that embeds an IPv4 address (mapped, compatible, NAT64, 6to4) of those.
pub fn is_forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // 0.0.0.0/8, "this network", with the unspecified address
        || a == 10 // 10/8 private
        || a == 127 // loopback
        || (a == 100 && b & 0xc0 == 64) // 100.64/10 shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local
        || (a == 172 && b & 0xf0 == 16) // 172.16/12 private
        || (a == 192 && b == 168) // 192.168/16 private
        || (a == 192 && b == 0 && c == 0) // 192.0.0/24 protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 198 && b & 0xfe == 18) // 198.18/15 benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_forbidden_v4(v4);
    }
    let s = ip.segments();
    s[0] & 0xffc0 == 0xfe80 // link-local fe80::/10
        || s[0] & 0xffc0 == 0xfec0 // site-local fec0::/10 (deprecated, still routable inside sites)
        || s[0] & 0xfe00 == 0xfc00 // unique local fc00::/7
        || s[0] & 0xff00 == 0xff00 // multicast ff00::/8
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || (s[0] == 0x3fff && s[1] & 0xf000 == 0) // documentation 3fff::/20
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only 100::/64
        || (s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64 64:ff9b:1::/48
}

/// The IPv4 address an IPv6 address stands for, when it is one of the forms
/// that carry one: mapped `::ffff:a.b.c.d`, translated `::ffff:0:a.b.c.d`,
/// compatible `::a.b.c.d` (which covers `::` and `::1`), NAT64
/// `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let from = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Some(Ipv4Addr::new(a, b, c, d))
    };
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo]
        | [0, 0, 0, 0, 0xffff, 0, hi, lo]
        | [0, 0, 0, 0, 0, 0, hi, lo]
        | [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => from(hi, lo),
        [0x2002, hi, lo, ..] => from(hi, lo),
        _ => None,
    }
}

/// The check every URL passes before a request, including each redirect
/// hop: http or https only, no credentials, and a literal IP host must not be
/// forbidden (unless `allow_private`). Host names are checked after DNS
/// resolution by the client's resolver.
pub fn check_url(url: &Url, allow_private: bool) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::InvalidUrl(format!(
            "{url}: only http and https URLs are fetched"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::InvalidUrl(format!(
            "{}: credentials in URLs are not sent",
            url.host_str().unwrap_or_default()
        )));
    }
    let ip = match url.host() {
        None => return Err(FetchError::InvalidUrl(format!("{url}: no host"))),
        Some(Host::Domain(_)) => return Ok(()),
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    if !allow_private && is_forbidden_address(ip) {
        return Err(FetchError::ForbiddenAddress(ip.to_string()));
    }
    Ok(())
}

/// Resolves host names with the system resolver and, unless private
/// addresses are allowed, keeps only the addresses that are not forbidden.
#[derive(Debug, Clone, Copy)]
pub(super) struct GuardedResolver {
    pub(super) allow_private: bool,
}

type BoxError = Box<dyn StdError + Send + Sync>;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await {
                Ok(addrs) => addrs.collect(),
                Err(source) => return Err(Box::new(source) as BoxError),
            };
            if found.is_empty() {
                return Err(format!("{host}: no addresses").into());
            }
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| allow_private || !is_forbidden_address(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(NoAllowedAddress { host }) as BoxError);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Every address a host name resolved to is forbidden. Found again in the
/// client's error chain and turned into [`FetchError::ForbiddenAddress`].
#[derive(Debug)]
pub(super) struct NoAllowedAddress {
    pub(super) host: String,
}

impl fmt::Display for NoAllowedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: no allowed address after DNS resolution", self.host)
    }
}

impl StdError for NoAllowedAddress {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_policy_table() {
        let forbidden = [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.8.9.10",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "ff0e::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "64:ff9b:1::1",
            // IPv4-mapped, translated and compatible forms of forbidden IPv4.
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:192.168.0.1",
            "::ffff:0.0.0.0",
            "::ffff:0:127.0.0.1",
            "::127.0.0.1",
            "::10.1.2.3",
            // NAT64 and 6to4 forms of forbidden IPv4.
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
        ];
        let allowed = [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "126.255.255.255",
            "128.0.0.1",
            "169.253.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.3.1",
            "192.167.1.1",
            "192.169.1.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
            "2606:2800::1",
            "2606:2800:220:1:248:1893:25c8:1946",
            "2a00:1450:4001::200e",
            "2001:db9::1",
            "::ffff:93.184.216.34",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ];
        for text in forbidden {
            let ip: IpAddr = text.parse().unwrap();
            assert!(is_forbidden_address(ip), "{text} must be forbidden");
        }
        for text in allowed {
            let ip: IpAddr = text.parse().unwrap();
            assert!(!is_forbidden_address(ip), "{text} must be allowed");
        }
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn check_url_allows_public_http_and_https() {
        for text in [
            "https://example.com/users/alice",
            "http://example.com:8080/x?y=1",
            "https://93.184.216.34/",
            "https://[2606:2800::1]/",
        ] {
            assert!(check_url(&url(text), false).is_ok(), "{text}");
        }
    }

    #[test]
    fn check_url_refuses_other_schemes() {
        for text in [
            "ftp://example.com/file",
            "file:///etc/passwd",
            "gopher://example.com/",
            "data:text/plain,hi",
            "ws://example.com/",
        ] {
            for allow_private in [false, true] {
                assert!(
                    matches!(
                        check_url(&url(text), allow_private),
                        Err(FetchError::InvalidUrl(_))
                    ),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn check_url_refuses_credentials() {
        let err = check_url(&url("https://user:secret@example.com/"), true).unwrap_err();
        assert!(matches!(err, FetchError::InvalidUrl(_)));
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn check_url_checks_literal_addresses() {
        for (text, host) in [
            ("http://127.0.0.1:8080/", "127.0.0.1"),
            ("http://10.0.0.5/", "10.0.0.5"),
            (
                "http://169.254.169.254/latest/meta-data/",
                "169.254.169.254",
            ),
            ("http://[::1]/", "::1"),
            ("http://[::ffff:127.0.0.1]/", "127.0.0.1"),
            ("http://[fd00::1]/", "fd00::1"),
            // WHATWG parsing turns these spellings into 127.0.0.1.
            ("http://2130706433/", "127.0.0.1"),
            ("http://0x7f.1/", "127.0.0.1"),
        ] {
            match check_url(&url(text), false) {
                Err(FetchError::ForbiddenAddress(found)) => {
                    assert!(found.ends_with(host), "{text}: {found}")
                }
                other => panic!("{text}: {other:?}"),
            }
            assert!(check_url(&url(text), true).is_ok(), "{text}");
        }
    }

    #[test]
    fn check_url_leaves_names_to_the_resolver() {
        assert!(check_url(&url("http://localhost/"), false).is_ok());
    }

    #[tokio::test]
    async fn resolver_drops_forbidden_addresses() {
        let guarded = GuardedResolver {
            allow_private: false,
        };
        let err = match guarded.resolve("localhost".parse().unwrap()).await {
            Err(err) => err,
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
        };
        let refused = err.downcast_ref::<NoAllowedAddress>().unwrap();
        assert_eq!(refused.host, "localhost");
        assert!(err.to_string().contains("after DNS resolution"));

        let open = GuardedResolver {
            allow_private: true,
        };
        let addrs: Vec<_> = open
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
