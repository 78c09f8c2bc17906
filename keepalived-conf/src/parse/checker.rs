//! The checker blocks of a `real_server`: `TCP_CHECK`, `HTTP_GET`, `SSL_GET`, `SMTP_CHECK`,
//! `DNS_CHECK`, `UDP_CHECK`, `PING_CHECK`, `MISC_CHECK` and `FILE_CHECK`.

use super::Ctx;
use super::values::{arg, block, command, flag, number, seconds};
use super::virtual_server::{file_weight, ip, port, timing};
use crate::error::ConfError;
use crate::tree::Node;
use crate::virtual_server::{CheckTiming, Checker, CheckerKind, HttpProtocol, TrackFile, UrlSpec};

/// The checker keywords.
pub(super) const KINDS: &[&str] = &[
    "TCP_CHECK",
    "HTTP_GET",
    "SSL_GET",
    "SMTP_CHECK",
    "DNS_CHECK",
    "UDP_CHECK",
    "PING_CHECK",
    "ICMP_CHECK",
    "MISC_CHECK",
    "FILE_CHECK",
];

/// keepalived checker keywords this daemon reads but does not act upon.
const NO_EFFECT: &[&str] = &["bind_if", "fwmark", "log_all_failures", "bindto_if"];

pub(super) fn checker(
    ctx: &mut Ctx,
    node: &Node,
    track_files: &[TrackFile],
) -> Result<Checker, ConfError> {
    let section = node.keyword().to_owned();
    let mut c = Checker {
        loc: node.loc.clone(),
        connect_ip: None,
        connect_port: None,
        bind_to: None,
        bind_port: None,
        timing: CheckTiming::default(),
        user: None,
        kind: match section.as_str() {
            "HTTP_GET" | "SSL_GET" => CheckerKind::Http {
                tls: section == "SSL_GET",
                urls: Vec::new(),
                virtualhost: None,
                protocol: HttpProtocol::Http11,
                enable_sni: false,
            },
            "SMTP_CHECK" => CheckerKind::Smtp {
                helo_name: "localhost".to_owned(),
            },
            "DNS_CHECK" => CheckerKind::Dns {
                qtype: "SOA".to_owned(),
                name: ".".to_owned(),
            },
            "UDP_CHECK" => CheckerKind::Udp {
                payload: Vec::new(),
                require_reply: None,
                min_reply_length: 0,
                max_reply_length: usize::MAX,
            },
            "PING_CHECK" | "ICMP_CHECK" => CheckerKind::Ping,
            "MISC_CHECK" => CheckerKind::Misc {
                path: Vec::new(),
                timeout: None,
                dynamic: false,
            },
            "FILE_CHECK" => CheckerKind::File {
                track_file: String::new(),
                path: Default::default(),
                weight: 0,
            },
            _ => CheckerKind::Tcp,
        },
    };
    let mut file_weight_given = None;
    // An empty checker (`TCP_CHECK { }` or a bare `PING_CHECK`) is valid.
    let nodes = node.block.as_deref().unwrap_or(&[]);
    for n in nodes {
        if timing(n, &mut c.timing)? {
            continue;
        }
        match n.keyword() {
            "connect_ip" => c.connect_ip = Some(ip(n, arg(n)?)?),
            "connect_port" => c.connect_port = Some(port(n, arg(n)?)?),
            "bindto" | "bind_to" => c.bind_to = Some(ip(n, arg(n)?)?),
            "bind_port" => c.bind_port = Some(port(n, arg(n)?)?),
            "user" if matches!(c.kind, CheckerKind::Misc { .. }) => {
                c.user = Some(super::script_user(n, n.args())?)
            }
            kw if NO_EFFECT.contains(&kw) => ctx.warn(n, "has no effect in this daemon"),
            _ => {
                if !own_option(ctx, n, &mut c.kind, &mut file_weight_given)? {
                    ctx.unknown(n, &section);
                }
            }
        }
    }
    finish(node, &mut c.kind, file_weight_given, track_files)?;
    Ok(c)
}

/// Reads an option of the checker's own kind; `false` if `n` is not one.
fn own_option(
    ctx: &mut Ctx,
    n: &Node,
    kind: &mut CheckerKind,
    file_weight_given: &mut Option<i64>,
) -> Result<bool, ConfError> {
    match (kind, n.keyword()) {
        (CheckerKind::Http { urls, .. }, "url") => urls.push(url(ctx, n)?),
        (CheckerKind::Http { virtualhost, .. }, "virtualhost") => {
            *virtualhost = Some(arg(n)?.to_owned())
        }
        (CheckerKind::Http { protocol, .. }, "http_protocol") => {
            *protocol = match arg(n)? {
                "1.0" => HttpProtocol::Http10,
                "1.0C" | "1.0c" => HttpProtocol::Http10Close,
                "1.1" => HttpProtocol::Http11,
                v => {
                    return Err(ConfError::invalid(
                        &n.loc,
                        "http_protocol",
                        format!("{v:?} is not 1.0, 1.0C or 1.1"),
                    ));
                }
            }
        }
        (CheckerKind::Http { enable_sni, .. }, "enable_sni") => *enable_sni = flag(n)?,
        (CheckerKind::Http { .. }, "fast_recovery") => {
            ctx.warn(n, "not supported by this daemon, ignored")
        }
        (CheckerKind::Smtp { helo_name }, "helo_name") => *helo_name = arg(n)?.to_owned(),
        (CheckerKind::Smtp { .. }, "host") => ctx.warn(
            n,
            "SMTP_CHECK host blocks are not supported (use one SMTP_CHECK per host), ignored",
        ),
        (CheckerKind::Dns { qtype, .. }, "type") => *qtype = arg(n)?.to_ascii_uppercase(),
        (CheckerKind::Dns { name, .. }, "name") => *name = arg(n)?.to_owned(),
        (CheckerKind::Udp { payload, .. }, "payload") => *payload = hex(n)?,
        (CheckerKind::Udp { require_reply, .. }, "require_reply") => {
            *require_reply = Some(n.args().join(" "))
        }
        (
            CheckerKind::Udp {
                min_reply_length, ..
            },
            "min_reply_length",
        ) => *min_reply_length = number(n, arg(n)?, "a length")?,
        (
            CheckerKind::Udp {
                max_reply_length, ..
            },
            "max_reply_length",
        ) => *max_reply_length = number(n, arg(n)?, "a length")?,
        (CheckerKind::Misc { path, .. }, "misc_path") => *path = command(n)?,
        (CheckerKind::Misc { timeout, .. }, "misc_timeout") => {
            *timeout = Some(seconds(n, arg(n)?)?)
        }
        (CheckerKind::Misc { dynamic, .. }, "misc_dynamic") => *dynamic = flag(n)?,
        (CheckerKind::File { track_file, .. }, "track_file" | "file") => {
            *track_file = arg(n)?.to_owned()
        }
        (CheckerKind::File { .. }, "weight") => *file_weight_given = Some(file_weight(n)?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Checks what each kind requires once its block is read.
fn finish(
    node: &Node,
    kind: &mut CheckerKind,
    file_weight_given: Option<i64>,
    track_files: &[TrackFile],
) -> Result<(), ConfError> {
    let missing = |what: &str| ConfError::invalid(&node.loc, node.keyword(), what.to_owned());
    match kind {
        CheckerKind::Http { urls, .. } if urls.is_empty() => Err(missing("no url block")),
        CheckerKind::Misc { path, .. } if path.is_empty() => Err(missing("no misc_path")),
        &mut CheckerKind::Udp {
            min_reply_length,
            max_reply_length,
            ..
        } if min_reply_length > max_reply_length => Err(missing(&format!(
            "min_reply_length {min_reply_length} is above max_reply_length {max_reply_length}"
        ))),
        CheckerKind::File {
            track_file,
            path,
            weight,
        } => {
            if track_file.is_empty() {
                return Err(missing("no track_file"));
            }
            let Some(t) = track_files.iter().find(|t| &t.name == track_file) else {
                return Err(missing(&format!(
                    "no track_file block named {track_file:?}"
                )));
            };
            *path = t.path.clone();
            *weight = file_weight_given.unwrap_or(t.weight);
            Ok(())
        }
        _ => Ok(()),
    }
}

fn url(ctx: &mut Ctx, node: &Node) -> Result<UrlSpec, ConfError> {
    let mut u = UrlSpec {
        loc: node.loc.clone(),
        path: String::new(),
        digest: None,
        status: Vec::new(),
        regex: None,
    };
    for n in block(node)? {
        match n.keyword() {
            "path" => {
                let p = arg(n)?;
                if !p.starts_with('/') {
                    return Err(ConfError::invalid(
                        &n.loc,
                        "path",
                        format!("{p:?} does not start with /"),
                    ));
                }
                u.path = p.to_owned();
            }
            "digest" => {
                let d = arg(n)?;
                if d.len() != 32 || !d.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(ConfError::invalid(
                        &n.loc,
                        "digest",
                        format!("{d:?} is not 32 hexadecimal digits"),
                    ));
                }
                u.digest = Some(d.to_ascii_lowercase());
            }
            "status_code" => {
                if n.args().is_empty() {
                    return Err(ConfError::invalid(&n.loc, "status_code", "missing value"));
                }
                for code in n.args() {
                    u.status.push(status_range(n, code)?);
                }
            }
            "regex" => u.regex = Some(arg(n)?.to_owned()),
            "regex_no_match" | "regex_options" | "regex_stack" | "regex_min_offset"
            | "regex_max_offset" => ctx.warn(n, "not supported by this daemon, ignored"),
            _ => ctx.unknown(n, "url"),
        }
    }
    if u.path.is_empty() {
        return Err(ConfError::invalid(&node.loc, "url", "no path"));
    }
    Ok(u)
}

fn status_range(n: &Node, text: &str) -> Result<(u16, u16), ConfError> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let (a, b): (u16, u16) = (
        number(n, a, "a status code")?,
        number(n, b, "a status code")?,
    );
    if a < 100 || b > 599 || a > b {
        return Err(ConfError::invalid(
            &n.loc,
            "status_code",
            format!("{text} is not a status code or range within 100-599"),
        ));
    }
    Ok((a, b))
}

/// Hexadecimal bytes, possibly split into groups by white space (`payload 0a 0b`).
fn hex(n: &Node) -> Result<Vec<u8>, ConfError> {
    let text: String = n.args().concat();
    let bad = || {
        ConfError::invalid(
            &n.loc,
            n.keyword(),
            format!("{text:?} is not an even number of hexadecimal digits"),
        )
    };
    if !text.len().is_multiple_of(2) {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}
