//! Who the client is, for throttling: the TCP peer, unless the peer is one of
//! the configured `trusted_proxies` — then the nearest `X-Forwarded-For` hop
//! that is not itself a trusted proxy. Anyone can send `X-Forwarded-For`, so
//! believing it from untrusted peers would let an attacker pick its own key.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::Context;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::state::AppState;

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .with_context(|| format!("{s:?} is not an IP address or range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .with_context(|| format!("{s:?}: the prefix must be 0..={max}"))?,
            None => max,
        };
        Ok(Self {
            addr: addr.to_canonical(),
            prefix,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        fn bits(ip: IpAddr) -> (u128, u8) {
            match ip {
                IpAddr::V4(v) => (u32::from(v) as u128, 32),
                IpAddr::V6(v) => (u128::from(v), 128),
            }
        }
        let (net, width) = bits(self.addr);
        let (ip, ip_width) = bits(ip.to_canonical());
        if width != ip_width {
            return false;
        }
        let host_bits = u32::from(width - self.prefix);
        let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
        (net & mask) == (ip & mask)
    }
}

/// The client address as far as the server can tell.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Without connection info (a router driven directly) every caller
        // shares one key, which only ever throttles more.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(Self(resolve(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    // From the nearest hop outwards; the first one not a proxy of ours is the
    // client. Anything unparsable ends the walk at the last hop we trust.
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip.to_canonical();
                if !is_trusted(client) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_match_their_addresses() {
        let net = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.1.2.3")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped");
        assert!(IpNet::parse("::1").unwrap().contains(ip("::1")));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpNet::parse("10.0.0.0/33").is_err());
        assert!(IpNet::parse("proxy").is_err());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 1.2.3.4, 10.0.0.2"),
        );
        let trusted = [IpNet::parse("10.0.0.0/8").unwrap()];
        assert_eq!(resolve(ip("9.9.9.9"), &h, &trusted), ip("9.9.9.9"));
        assert_eq!(resolve(ip("10.0.0.1"), &h, &trusted), ip("1.2.3.4"));
        assert_eq!(resolve(ip("10.0.0.1"), &h, &[]), ip("10.0.0.1"));
        assert_eq!(
            resolve(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
    }
}
