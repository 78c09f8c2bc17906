//! keepalived's checker blocks as `healthcheck` checks.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use healthcheck::Check;
use healthcheck::checkers::{
    DnsCheck, FileCheck, HexPattern, HttpCheck, IcmpCheck, ProgramCheck, RecordType, ReplyRule,
    SmtpCheck, TcpCheck, TlsClient, UdpCheck, Url, Verify,
};

use super::LvsError;
use keepalived_conf::{Checker, CheckerKind, HttpProtocol, RealServer, UrlSpec};

/// The check described by `c`, a checker of real server `rs`.
pub(super) fn check(rs: &RealServer, c: &Checker) -> Result<Arc<dyn Check>, LvsError> {
    let kw = keyword(&c.kind);
    let err = |e: healthcheck::ConfigError| LvsError::new(&c.loc, kw, e.to_string());
    let connect = SocketAddr::new(
        c.connect_ip.unwrap_or(rs.addr.ip()),
        c.connect_port.unwrap_or(rs.addr.port()),
    );
    let bind = c
        .bind_to
        .map(|ip| SocketAddr::new(ip, c.bind_port.unwrap_or(0)));
    Ok(match &c.kind {
        CheckerKind::Tcp => {
            let t = TcpCheck::new(connect);
            Arc::new(match bind {
                Some(b) => t.bind(b),
                None => t,
            })
        }
        CheckerKind::Http {
            tls,
            urls,
            virtualhost,
            protocol,
            enable_sni,
        } => {
            let urls = urls.iter().map(url).collect::<Result<Vec<_>, _>>()?;
            let mut h = HttpCheck::new(connect, urls).map_err(err)?;
            if let Some(v) = virtualhost {
                h = h.virtualhost(v).map_err(err)?;
            }
            if *protocol != HttpProtocol::Http11 {
                h = h.http10();
            }
            if *tls {
                let mut client = TlsClient::new(Verify::Skip).map_err(err)?;
                if let (true, Some(v)) = (*enable_sni, virtualhost) {
                    client = client.server_name(v).map_err(err)?;
                }
                h = h.tls(client);
            }
            if let Some(b) = bind {
                h = h.bind(b);
            }
            Arc::new(h)
        }
        CheckerKind::Smtp { helo_name } => {
            let s = SmtpCheck::new(connect, helo_name).map_err(err)?;
            Arc::new(match bind {
                Some(b) => s.bind(b),
                None => s,
            })
        }
        CheckerKind::Dns { qtype, name } => {
            let t = RecordType::from_str(qtype).map_err(|_| {
                LvsError::new(
                    &c.loc,
                    "type",
                    format!("{qtype:?} is not a dns record type"),
                )
            })?;
            let d = DnsCheck::new(connect, name, t).map_err(err)?;
            Arc::new(match bind {
                Some(b) => d.bind(b),
                None => d,
            })
        }
        CheckerKind::Udp {
            payload,
            require_reply,
            min_reply_length,
            max_reply_length,
        } => {
            let mut u = UdpCheck::new(connect, payload.clone());
            if let Some(pattern) = require_reply {
                let mut rule = ReplyRule::new(*min_reply_length, *max_reply_length).map_err(err)?;
                if !pattern.is_empty() {
                    let p = HexPattern::parse(pattern, true).ok_or_else(|| {
                        LvsError::new(
                            &c.loc,
                            "require_reply",
                            format!("{pattern:?} is not a hexadecimal pattern"),
                        )
                    })?;
                    rule = rule.pattern(p);
                }
                u = u.require_reply(rule);
            }
            if let Some(b) = bind {
                u = u.bind(b);
            }
            Arc::new(u)
        }
        CheckerKind::Ping => Arc::new(IcmpCheck::new(connect.ip())),
        CheckerKind::Misc { path, dynamic, .. } => {
            let (program, args) = path
                .split_first()
                .ok_or_else(|| LvsError::new(&c.loc, "misc_path", "missing command"))?;
            // As keepalived: MISC_CHECK's own `user`, else the default script user.
            let mut p = ProgramCheck::new(program, args);
            if let Some(user) = crate::security::run_as(c.user.as_ref()) {
                p = p.run_as(user);
            }
            Arc::new(if *dynamic { p.dynamic() } else { p })
        }
        CheckerKind::File { path, weight, .. } => {
            let f = FileCheck::new(path).weight(*weight);
            // With a weight, the file's value moves the real server's weight (keepalived).
            Arc::new(if *weight != 0 { f.dynamic() } else { f })
        }
    })
}

fn url(u: &UrlSpec) -> Result<Url, LvsError> {
    let err = |kw: &str, e: healthcheck::ConfigError| LvsError::new(&u.loc, kw, e.to_string());
    let mut url = Url::new(&u.path).map_err(|e| err("path", e))?;
    if !u.status.is_empty() {
        url = url
            .status(u.status.iter().map(|&(a, b)| a..=b))
            .map_err(|e| err("status_code", e))?;
    }
    if let Some(d) = &u.digest {
        url = url.digest(d).map_err(|e| err("digest", e))?;
    }
    if let Some(r) = &u.regex {
        let re = regex::bytes::Regex::new(r)
            .map_err(|e| LvsError::new(&u.loc, "regex", format!("{r:?}: {e}")))?;
        url = url.regex(re);
    }
    Ok(url)
}

/// keepalived's name of a checker kind.
pub(super) fn keyword(kind: &CheckerKind) -> &'static str {
    match kind {
        CheckerKind::Tcp => "TCP_CHECK",
        CheckerKind::Http { tls: false, .. } => "HTTP_GET",
        CheckerKind::Http { tls: true, .. } => "SSL_GET",
        CheckerKind::Smtp { .. } => "SMTP_CHECK",
        CheckerKind::Dns { .. } => "DNS_CHECK",
        CheckerKind::Udp { .. } => "UDP_CHECK",
        CheckerKind::Ping => "PING_CHECK",
        CheckerKind::Misc { .. } => "MISC_CHECK",
        CheckerKind::File { .. } => "FILE_CHECK",
    }
}
