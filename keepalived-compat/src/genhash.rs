//! `--genhash`: keepalived's `genhash`, which prints the MD5 digest of a URL's body to put
//! in an `HTTP_GET` / `SSL_GET` `digest`.
//!
//! `healthcheck` has no public digest function, so this asks its [`HttpCheck`] to compare
//! the body with an all-zero digest: the mismatch it reports carries the body's digest (and
//! a match means the digest is all zeros). The body is read whole, every status accepted.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use healthcheck::checkers::{HttpCheck, TlsClient, Url, Verify};
use healthcheck::{Check, Outcome, Reason};

const ZERO: &str = "00000000000000000000000000000000";

/// What `--genhash` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Genhash {
    /// `-s SERVER`.
    pub(crate) server: IpAddr,
    /// `-p PORT` (default 80, or 443 with `-S`).
    pub(crate) port: u16,
    /// `-u URL`: the path.
    pub(crate) url: String,
    /// `-S`: TLS.
    pub(crate) tls: bool,
    /// `-I`: send the virtual host as SNI.
    pub(crate) sni: bool,
    /// `-V VHOST`.
    pub(crate) virtualhost: Option<String>,
    /// `-P 1.0`, `1.0C`: HTTP/1.0.
    pub(crate) http10: bool,
    /// `-t SECS` (default 5).
    pub(crate) timeout: Duration,
}

impl Genhash {
    /// Parses the arguments after `--genhash`.
    pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let (mut server, mut port, mut url) = (None, None, None);
        let mut g = Genhash {
            server: IpAddr::from([0, 0, 0, 0]),
            port: 0,
            url: String::new(),
            tls: false,
            sni: false,
            virtualhost: None,
            http10: false,
            timeout: Duration::from_secs(5),
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or(format!("{flag} needs a value"));
            match flag.as_str() {
                "-s" | "--server" => {
                    let v = value()?;
                    server = Some(
                        v.parse()
                            .map_err(|_| format!("{v:?} is not an ip address"))?,
                    )
                }
                "-p" | "--port" => {
                    let v = value()?;
                    port = Some(v.parse().map_err(|_| format!("{v:?} is not a port"))?)
                }
                "-u" | "--url" => url = Some(value()?),
                "-V" | "--use-virtualhost" => g.virtualhost = Some(value()?),
                "-P" | "--protocol" => {
                    g.http10 = match value()?.as_str() {
                        "1.0" | "1.0C" | "1.0c" => true,
                        "1.1" => false,
                        v => return Err(format!("protocol {v:?} is not 1.0, 1.0C or 1.1")),
                    }
                }
                "-t" | "--timeout" => {
                    let v = value()?;
                    let secs: u64 = v
                        .parse()
                        .ok()
                        .filter(|s| *s > 0)
                        .ok_or(format!("timeout {v:?} is not a positive number of seconds"))?;
                    g.timeout = Duration::from_secs(secs);
                }
                "-S" | "--use-ssl" => g.tls = true,
                "-I" | "--use-sni" => g.sni = true,
                "-v" | "--verbose" => {}
                other => return Err(format!("unknown genhash option {other:?}")),
            }
        }
        g.server = server.ok_or("genhash needs -s SERVER")?;
        g.url = url.ok_or("genhash needs -u URL")?;
        g.port = port.unwrap_or(if g.tls { 443 } else { 80 });
        Ok(g)
    }

    /// Fetches the URL and returns the body's MD5 digest in lowercase hexadecimal.
    pub(crate) async fn digest(&self) -> Result<String, String> {
        let connect = SocketAddr::new(self.server, self.port);
        let url = Url::new(&self.url)
            .and_then(|u| u.status([100..=599]))
            .and_then(|u| u.digest(ZERO))
            .map_err(|e| e.to_string())?;
        let mut check = HttpCheck::new(connect, vec![url])
            .map_err(|e| e.to_string())?
            .max_body(usize::MAX);
        if let Some(v) = &self.virtualhost {
            check = check.virtualhost(v).map_err(|e| e.to_string())?;
        }
        if self.http10 {
            check = check.http10();
        }
        if self.tls {
            let mut client = TlsClient::new(Verify::Skip).map_err(|e| e.to_string())?;
            if let (true, Some(v)) = (self.sni, &self.virtualhost) {
                client = client.server_name(v).map_err(|e| e.to_string())?;
            }
            check = check.tls(client);
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        match tokio::time::timeout(self.timeout, check.check(deadline)).await {
            Err(_) => Err(format!("{connect}{}: timeout", self.url)),
            Ok(Outcome::Up(_)) => Ok(ZERO.to_owned()),
            Ok(Outcome::Down(Reason::DigestMismatch { actual })) => Ok(actual),
            Ok(Outcome::Down(reason)) => Err(format!("{connect}{}: {reason}", self.url)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(s: &str) -> Result<Genhash, String> {
        Genhash::parse(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn genhash_options_parse() {
        let g = parse("-s 192.0.2.21 -u /index.html -S -V www.example.org -I -t 3").unwrap();
        assert_eq!(g.server, IpAddr::from([192, 0, 2, 21]));
        assert_eq!((g.port, g.tls, g.sni), (443, true, true));
        assert_eq!(g.virtualhost.as_deref(), Some("www.example.org"));
        assert_eq!(g.timeout, Duration::from_secs(3));
        assert_eq!(parse("-s ::1 -p 8080 -u / -P 1.0").unwrap().port, 8080);
        assert!(parse("-s ::1 -u / -P 1.0").unwrap().http10);
    }

    #[test]
    fn genhash_bad_options_are_named() {
        assert_eq!(parse("-u /").unwrap_err(), "genhash needs -s SERVER");
        assert_eq!(parse("-s 192.0.2.1").unwrap_err(), "genhash needs -u URL");
        assert_eq!(
            parse("-s host -u /").unwrap_err(),
            "\"host\" is not an ip address"
        );
        assert_eq!(
            parse("-s 192.0.2.1 -u / -P 2").unwrap_err(),
            "protocol \"2\" is not 1.0, 1.0C or 1.1"
        );
        assert_eq!(
            parse("-s 192.0.2.1 -u / -p").unwrap_err(),
            "-p needs a value"
        );
    }
}
