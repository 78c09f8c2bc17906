//! Command-line values: backends with weights and durations.

use super::SpecError;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;
use vrrp_core::{Centisecs, VirtualAddress, Vrid};

/// One `--backend`: `http://IP:PORT[/][,WEIGHT]` (weight 1 when left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendSpec {
    /// Where the backend listens.
    pub addr: SocketAddr,
    /// Its relative share of requests.
    pub weight: u32,
}

impl FromStr for BackendSpec {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, SpecError> {
        let (url, weight) = match s.rsplit_once(',') {
            Some((url, w)) => (
                url,
                w.trim()
                    .parse()
                    .map_err(|_| SpecError::Weight(w.to_owned()))?,
            ),
            None => (s, 1),
        };
        let authority = url
            .strip_prefix("http://")
            .map(|rest| rest.strip_suffix('/').unwrap_or(rest))
            .ok_or_else(|| SpecError::Backend(s.to_owned()))?;
        let addr = authority
            .parse()
            .map_err(|_| SpecError::Backend(s.to_owned()))?;
        Ok(BackendSpec { addr, weight })
    }
}

/// `250ms`, `1.5s` or a bare number of seconds (`0.1`).
pub fn parse_duration(s: &str) -> Result<Duration, SpecError> {
    let bad = || SpecError::Duration(s.to_owned());
    let (number, scale) = if let Some(ms) = s.strip_suffix("ms") {
        (ms, 1e-3)
    } else {
        (s.strip_suffix('s').unwrap_or(s), 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    Duration::try_from_secs_f64(value * scale).map_err(|_| bad())
}

/// `IP/PREFIX`, the VIP of a proxy's command line.
pub fn parse_vip(s: &str) -> Result<VirtualAddress, String> {
    let (addr, len) = s.split_once('/').ok_or(format!("{s:?} has no /PREFIX"))?;
    let addr: IpAddr = addr.parse().map_err(|_| format!("{addr:?} is not an IP"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    match len.parse::<u8>() {
        Ok(len) if len <= max => Ok(VirtualAddress::with_prefix(addr, len)),
        _ => Err(format!("prefix {len:?} is not 0-{max}")),
    }
}

/// A virtual router id, 1-255.
pub fn parse_vrid(s: &str) -> Result<Vrid, String> {
    s.parse()
        .ok()
        .and_then(Vrid::new)
        .ok_or(format!("vrid {s:?} is not 1-255"))
}

/// An advertisement interval as [`parse_duration`] reads it, 10 ms - 40.95 s in 10 ms steps.
pub fn parse_advert_interval(s: &str) -> Result<Centisecs, String> {
    let d = parse_duration(s).map_err(|e| e.to_string())?;
    match u16::try_from(d.as_millis() / 10) {
        Ok(cs) if (1..=Centisecs::MAX_V3.get()).contains(&cs) => Ok(Centisecs::new(cs)),
        _ => Err(format!("advert interval {s:?} is not 10 ms - 40.95 s")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_with_and_without_weight() {
        assert_eq!(
            "http://192.0.2.21:8080,3".parse(),
            Ok(BackendSpec {
                addr: SocketAddr::from(([192, 0, 2, 21], 8080)),
                weight: 3
            })
        );
        assert_eq!(
            "http://[2001:db8::21]:80/"
                .parse::<BackendSpec>()
                .map(|b| b.weight),
            Ok(1)
        );
    }

    #[test]
    fn backend_errors_name_the_value() {
        let err = "https://192.0.2.21:443".parse::<BackendSpec>().err();
        assert_eq!(
            err,
            Some(SpecError::Backend("https://192.0.2.21:443".into()))
        );
        let err = "http://192.0.2.21:80,heavy".parse::<BackendSpec>().err();
        assert_eq!(err, Some(SpecError::Weight("heavy".into())));
        let err = "http://backend.example:80".parse::<BackendSpec>().err();
        assert!(matches!(err, Some(SpecError::Backend(_))));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0.1"), Ok(Duration::from_millis(100)));
        assert_eq!(
            parse_duration("-1s"),
            Err(SpecError::Duration("-1s".into()))
        );
        assert_eq!(
            parse_duration("soon"),
            Err(SpecError::Duration("soon".into()))
        );
    }
}
