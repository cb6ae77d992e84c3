//! The address a request comes from: the socket's peer, or, when that peer is a trusted
//! proxy (the web app's server, a load balancer), the client it names in
//! `X-Forwarded-For`. Per-IP limits (log-in, sockets) count this address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};
use ipnet::IpNet;

/// The client's address, placed in every request's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

/// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    /// 127.0.0.1 and ::1: the web app's server on the same machine.
    pub fn loopback() -> Self {
        Self(vec![
            IpNet::from(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            IpNet::from(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)),
        ])
    }

    /// Comma-separated addresses or CIDR ranges; an entry that is neither is named.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("TRUSTED_PROXIES: `{e}` is not an IP address or a CIDR range")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request from `peer`: walking `X-Forwarded-For` from the right past
    /// trusted proxies, the first address that is not one. A forged left part of the header
    /// is never reached while a trusted proxy appended the real client on its right.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else {
                // Garbage in the header: stop at the last address we could believe.
                break;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }

    /// The client of a request whose extensions carry the socket's peer (axum's
    /// `ConnectInfo`); without it (a router served in-process without connect info),
    /// the unspecified address.
    pub fn client_of(&self, extensions: &Extensions, headers: &HeaderMap) -> ClientIp {
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        ClientIp(self.client(peer, headers))
    }
}

/// IPv4 peers reached over an IPv6 socket count as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().expect("header"));
        h
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = TrustedProxies::loopback();
        let peer: IpAddr = "203.0.113.7".parse().expect("ip");
        assert_eq!(trusted.client(peer, &headers("198.51.100.1")), peer);
    }

    #[test]
    fn a_trusted_proxy_names_the_client_on_the_right() {
        let trusted = TrustedProxies::loopback();
        let peer: IpAddr = "127.0.0.1".parse().expect("ip");
        let forged_then_real = headers("10.9.9.9, 198.51.100.1");
        assert_eq!(
            trusted.client(peer, &forged_then_real),
            "198.51.100.1".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(trusted.client(peer, &HeaderMap::new()), peer);
        assert_eq!(
            trusted.client(peer, &headers("not an ip")),
            peer,
            "garbage is not believed"
        );
    }

    #[test]
    fn entries_parse_or_are_named() {
        let parsed = TrustedProxies::parse(&["10.0.0.0/8".into(), " ::1 ".into()]).expect("parse");
        assert!(parsed.trusts("10.1.2.3".parse().expect("ip")));
        assert!(parsed.trusts("::1".parse().expect("ip")));
        assert!(!parsed.trusts("11.0.0.1".parse().expect("ip")));
        let err = TrustedProxies::parse(&["proxy.local".into()]).expect_err("not an ip");
        assert!(err.contains("proxy.local"), "{err}");
    }
}
