//! The health-checking part: `virtual_server`, `virtual_server_group`, `real_server`,
//! checkers and `track_file`, good and bad.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::*;

const LVS: &str = r#"
global_defs {
    lvs_notify_fifo /run/lvs.fifo
}
track_file maint {
    file /run/maint
    weight 2
}
virtual_server_group WEB {
    192.0.2.15-16 80
    fwmark 7
}
virtual_server 192.0.2.15 80 {
    delay_loop 3
    lb_algo rr
    lb_kind DR
    protocol TCP
    persistence_timeout 50
    quorum 2
    hysteresis 1
    quorum_up "/bin/echo up"
    quorum_down /bin/echo down
    sorry_server 192.0.2.99 80
    alpha
    omega
    inhibit_on_failure
    retry 2
    delay_before_retry 0.5
    warmup 1
    real_server 192.0.2.21 80 {
        weight 3
        notify_up "/usr/bin/logger rs up"
        notify_down /usr/bin/logger down
        TCP_CHECK {
            connect_ip 192.0.2.31
            connect_port 8080
            bind_to 192.0.2.1
            connect_timeout 2
        }
        HTTP_GET {
            url {
                path /health
                digest 9B3A0C85A887A256D6939DA88AABD8CD
                status_code 200 300-302
                regex "ok$"
            }
            virtualhost www.example.org
            http_protocol 1.0C
        }
    }
    real_server 192.0.2.22 80 {
        SSL_GET {
            url {
                path /
            }
            virtualhost www.example.org
            enable_sni
        }
        SMTP_CHECK {
            helo_name mx.example.org
        }
        DNS_CHECK {
            type a
            name www.example.org
        }
        UDP_CHECK {
            payload 0a0B 0c
            require_reply 0a xx
            min_reply_length 2
            max_reply_length 64
        }
        PING_CHECK
        MISC_CHECK {
            misc_path "/usr/local/bin/check 'a b'"
            misc_timeout 4
            misc_dynamic
        }
        FILE_CHECK {
            track_file maint
            weight 5 reverse
        }
    }
}
virtual_server fwmark 7 {
    lb_kind NAT
    real_server 192.0.2.23 0 {
        FILE_CHECK {
            track_file maint
        }
    }
}
virtual_server group WEB {
    real_server 192.0.2.24 80 {
    }
}
"#;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn virtual_servers_read_into_the_model() {
    let c = parse_str("k.conf", LVS).unwrap();
    assert_eq!(
        c.global.lvs_notify_fifo.map(|f| f.path),
        Some(PathBuf::from("/run/lvs.fifo"))
    );
    assert_eq!(c.virtual_servers.len(), 3);
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.addr, VsAddress::Inet(sa("192.0.2.15:80")));
    assert_eq!(vs.loc.line, 13);
    assert_eq!(
        (vs.lb_algo.as_str(), vs.lb_kind, vs.protocol),
        ("rr", LbKind::Dr, Protocol::Tcp)
    );
    assert_eq!(vs.persistence_timeout, Some(50));
    assert_eq!((vs.quorum, vs.hysteresis), (2, 1));
    assert_eq!(vs.quorum_up.as_ref().unwrap().command, ["/bin/echo", "up"]);
    // As keepalived's notify_script_init: the words after the command name the user.
    let down = vs.quorum_down.as_ref().unwrap();
    assert_eq!(down.command, ["/bin/echo"]);
    assert_eq!(down.user.as_ref().unwrap().user, "down");
    assert_eq!(vs.sorry_server, Some(sa("192.0.2.99:80")));
    assert!(vs.alpha && vs.omega && vs.inhibit_on_failure);
    assert_eq!(
        vs.timing,
        CheckTiming {
            delay_loop: Some(Duration::from_secs(3)),
            retry: Some(2),
            delay_before_retry: Some(Duration::from_millis(500)),
            warmup: Some(Duration::from_secs(1)),
            connect_timeout: None,
        }
    );
    let rs = &vs.real_servers[0];
    assert_eq!((rs.addr, rs.weight), (sa("192.0.2.21:80"), 3));
    assert_eq!(
        rs.notify_up.as_ref().unwrap().command,
        ["/usr/bin/logger", "rs", "up"]
    );
    let tcp = &rs.checkers[0];
    assert_eq!(tcp.kind, CheckerKind::Tcp);
    assert_eq!(tcp.connect_ip, Some("192.0.2.31".parse().unwrap()));
    assert_eq!(tcp.connect_port, Some(8080));
    assert_eq!(tcp.bind_to, Some("192.0.2.1".parse().unwrap()));
    assert_eq!(tcp.timing.connect_timeout, Some(Duration::from_secs(2)));
    let CheckerKind::Http {
        tls,
        urls,
        virtualhost,
        protocol,
        enable_sni,
    } = &rs.checkers[1].kind
    else {
        panic!("{:?}", rs.checkers[1].kind)
    };
    assert!(!tls && !enable_sni);
    assert_eq!(virtualhost.as_deref(), Some("www.example.org"));
    assert_eq!(*protocol, HttpProtocol::Http10Close);
    assert_eq!(urls[0].path, "/health");
    assert_eq!(
        urls[0].digest.as_deref(),
        Some("9b3a0c85a887a256d6939da88aabd8cd")
    );
    assert_eq!(urls[0].status, [(200, 200), (300, 302)]);
    assert_eq!(urls[0].regex.as_deref(), Some("ok$"));

    let kinds = &vs.real_servers[1].checkers;
    assert!(matches!(
        &kinds[0].kind,
        CheckerKind::Http {
            tls: true,
            enable_sni: true,
            ..
        }
    ));
    assert_eq!(
        kinds[1].kind,
        CheckerKind::Smtp {
            helo_name: "mx.example.org".into()
        }
    );
    assert_eq!(
        kinds[2].kind,
        CheckerKind::Dns {
            qtype: "A".into(),
            name: "www.example.org".into()
        }
    );
    assert_eq!(
        kinds[3].kind,
        CheckerKind::Udp {
            payload: vec![0x0a, 0x0b, 0x0c],
            require_reply: Some("0a xx".into()),
            min_reply_length: 2,
            max_reply_length: 64,
        }
    );
    assert_eq!(kinds[4].kind, CheckerKind::Ping);
    assert_eq!(
        kinds[5].kind,
        CheckerKind::Misc {
            path: vec!["/usr/local/bin/check".into(), "a b".into()],
            timeout: Some(Duration::from_secs(4)),
            dynamic: true,
        }
    );
    assert_eq!(
        kinds[6].kind,
        CheckerKind::File {
            track_file: "maint".into(),
            path: "/run/maint".into(),
            weight: -5,
        }
    );
    let fw = &c.virtual_servers[1];
    assert_eq!(fw.addr, VsAddress::Fwmark(7));
    assert!(matches!(
        &fw.real_servers[0].checkers[0].kind,
        CheckerKind::File { weight: 2, .. }
    ));
    assert_eq!(c.virtual_servers[2].addr, VsAddress::Group("WEB".into()));
    assert!(c.virtual_servers[2].real_servers[0].checkers.is_empty());
    let g = &c.vs_groups[0];
    assert_eq!(g.addrs, [sa("192.0.2.15:80"), sa("192.0.2.16:80")]);
    assert_eq!(g.fwmarks, [7]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn unsupported_options_are_located_warnings() {
    let c = parse_str(
        "k.conf",
        "virtual_server 192.0.2.15 80 {\n  hashed\n  frob 1\n  real_server 192.0.2.21 80 {\n    \
         HTTP_GET {\n      url {\n        path /\n        regex_no_match\n      }\n      \
         fast_recovery\n      zap\n    }\n  }\n}\n",
    )
    .unwrap();
    let w: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        w,
        [
            "k.conf:2: hashed: has no effect in this daemon",
            "k.conf:3: frob: unknown keyword in virtual_server, ignored",
            "k.conf:8: regex_no_match: not supported by this daemon, ignored",
            "k.conf:10: fast_recovery: not supported by this daemon, ignored",
            "k.conf:11: zap: unknown keyword in HTTP_GET, ignored",
        ]
    );
}

fn err(text: &str) -> String {
    parse_str("k.conf", text).unwrap_err().to_string()
}

fn in_vs(body: &str) -> String {
    err(&format!("virtual_server 192.0.2.15 80 {{\n{body}\n}}\n"))
}

fn in_rs(body: &str) -> String {
    in_vs(&format!("real_server 192.0.2.21 80 {{\n{body}\n}}"))
}

#[test]
fn bad_virtual_server_values_are_located_errors() {
    assert_eq!(
        err("virtual_server 192.0.2.300 80 {\n}\n"),
        "k.conf:1: virtual_server: \"192.0.2.300\" is not an ip address"
    );
    assert_eq!(
        err("virtual_server 192.0.2.1 {\n}\n"),
        "k.conf:1: virtual_server: expects IP PORT, fwmark N or group NAME, got \"192.0.2.1\""
    );
    assert_eq!(
        err("virtual_server group NOPE {\n}\n"),
        "k.conf:1: virtual_server: no virtual_server_group named \"NOPE\""
    );
    assert_eq!(
        in_vs("lb_kind FOO"),
        "k.conf:2: lb_kind: \"FOO\" is not NAT, DR or TUN"
    );
    assert!(
        in_vs("lb_algo fastest")
            .starts_with("k.conf:2: lb_algo: \"fastest\" is not an ipvs scheduler")
    );
    assert_eq!(
        in_vs("protocol ICMP"),
        "k.conf:2: protocol: \"ICMP\" is not TCP, UDP or SCTP"
    );
    assert_eq!(
        in_vs("delay_loop 0"),
        "k.conf:2: delay_loop: must be positive"
    );
    assert_eq!(
        in_vs("delay_loop soon"),
        "k.conf:2: delay_loop: \"soon\" is not a number of seconds"
    );
    assert_eq!(
        in_vs("quorum -1"),
        "k.conf:2: quorum: \"-1\" is not a weight sum"
    );
    assert_eq!(
        in_vs("sorry_server 192.0.2.99 80 443"),
        "k.conf:2: sorry_server: expects IP [PORT], got \"192.0.2.99 80 443\""
    );
    assert_eq!(
        in_vs("sorry_server 192.0.2.21 80\nreal_server 192.0.2.21 80 {\n}"),
        "k.conf:1: sorry_server: 192.0.2.21:80 is also a real server"
    );
    assert_eq!(
        in_vs("real_server 192.0.2.21 80 {\n}\nreal_server 192.0.2.21 80 {\n}"),
        "k.conf:4: real_server: 192.0.2.21:80 is listed twice"
    );
    assert_eq!(
        err("virtual_server 192.0.2.15 80 {\n}\nvirtual_server 192.0.2.15 80 {\n}\n"),
        "k.conf:3: virtual_server: 192.0.2.15 80 is defined twice"
    );
    assert_eq!(
        err("virtual_server_group G {\n  192.0.2.20-10 80\n}\n"),
        "k.conf:2: 192.0.2.20-10: range 192.0.2.20-10 runs backwards"
    );
}

#[test]
fn bad_real_server_and_checker_values_are_located_errors() {
    assert_eq!(
        in_vs("real_server 192.0.2.21 http {\n}"),
        "k.conf:2: real_server: \"http\" is not a port"
    );
    assert_eq!(
        in_rs("weight 70000"),
        "k.conf:2: weight: 70000 is outside 0..65535"
    );
    assert_eq!(
        in_rs("TCP_CHECK {\nconnect_port 99999\n}"),
        "k.conf:4: connect_port: \"99999\" is not a port"
    );
    assert_eq!(in_rs("HTTP_GET {\n}"), "k.conf:3: HTTP_GET: no url block");
    assert_eq!(
        in_rs("HTTP_GET {\nurl {\npath health\n}\n}"),
        "k.conf:5: path: \"health\" does not start with /"
    );
    assert_eq!(
        in_rs("HTTP_GET {\nurl {\npath /\ndigest abc\n}\n}"),
        "k.conf:6: digest: \"abc\" is not 32 hexadecimal digits"
    );
    assert_eq!(
        in_rs("HTTP_GET {\nurl {\npath /\nstatus_code 700\n}\n}"),
        "k.conf:6: status_code: 700 is not a status code or range within 100-599"
    );
    assert_eq!(in_rs("HTTP_GET {\nurl {\n}\n}"), "k.conf:4: url: no path");
    assert_eq!(
        in_rs("HTTP_GET {\nhttp_protocol 2\nurl {\npath /\n}\n}"),
        "k.conf:4: http_protocol: \"2\" is not 1.0, 1.0C or 1.1"
    );
    assert_eq!(
        in_rs("UDP_CHECK {\npayload abc\n}"),
        "k.conf:4: payload: \"abc\" is not an even number of hexadecimal digits"
    );
    assert_eq!(
        in_rs("UDP_CHECK {\nmin_reply_length 9\nmax_reply_length 3\n}"),
        "k.conf:3: UDP_CHECK: min_reply_length 9 is above max_reply_length 3"
    );
    assert_eq!(
        in_rs("MISC_CHECK {\nmisc_timeout 3\n}"),
        "k.conf:3: MISC_CHECK: no misc_path"
    );
    assert_eq!(
        in_rs("FILE_CHECK {\ntrack_file nope\n}"),
        "k.conf:3: FILE_CHECK: no track_file block named \"nope\""
    );
    assert_eq!(
        err("track_file t {\nweight 300\n}\n"),
        "k.conf:2: weight: 300 is outside -254..254"
    );
    assert_eq!(
        err("track_file t {\n}\n"),
        "k.conf:1: track_file: t: no file"
    );
}

#[test]
fn persistence_ops_thresholds_and_tunnels_read_into_the_model() {
    let c = parse_str(
        "k.conf",
        "virtual_server 192.0.2.15 53 {\n  protocol UDP\n  ops\n  ha_suspend\n  \
         persistence_granularity 255.255.255.0\n  lb_kind TUN type gue port 6080 csum\n  \
         real_server 192.0.2.21 53 {\n    uthreshold 100\n    lthreshold 10\n  }\n  \
         real_server 192.0.2.22 53 {\n    lvs_method TUN type gre remcsum_not\n  }\n}\n",
    );
    // `remcsum_not` is no tunnel option: keepalived refuses it by name.
    assert_eq!(
        c.unwrap_err().to_string(),
        "k.conf:12: lvs_method: invalid tunnel option \"remcsum_not\" for real server"
    );
    let c = parse_str(
        "k.conf",
        "virtual_server 192.0.2.15 53 {\n  protocol UDP\n  ops\n  ha_suspend\n  \
         persistence_granularity 255.255.255.0\n  lb_kind TUN type gue port 6080 csum\n  \
         real_server 192.0.2.21 53 {\n    uthreshold 100\n    lthreshold 10\n  }\n  \
         real_server 192.0.2.22 53 {\n    lvs_method TUN type gre csum\n  }\n  \
         real_server 192.0.2.23 53 {\n    lvs_method DR\n  }\n}\n\
         virtual_server 2001:db8::1 80 {\n  persistence_granularity 64\n  \
         real_server 2001:db8::2 80 {\n  }\n}\n",
    )
    .unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let vs = &c.virtual_servers[0];
    assert!(vs.ops && vs.ha_suspend);
    assert_eq!(
        vs.persistence_granularity,
        Some(Granularity::Netmask([255, 255, 255, 0].into()))
    );
    // Granularity alone makes the service persistent, for keepalived's 360 s.
    assert_eq!(vs.persistence_timeout, Some(360));
    assert_eq!(vs.lb_kind, LbKind::Tun);
    assert_eq!(
        (vs.tunnel.kind, vs.tunnel.port, vs.tunnel.csum),
        (TunnelType::Gue, 6080, TunnelCsum::Csum)
    );
    let [r1, r2, r3] = &vs.real_servers[..] else {
        panic!("{:?}", vs.real_servers)
    };
    assert_eq!((r1.uthreshold, r1.lthreshold), (100, 10));
    // Without its own lvs_method a real server is forwarded as the virtual server says.
    assert_eq!(vs.method_of(r1), vs.lvs_method());
    let m2 = vs.method_of(r2);
    assert_eq!(
        (m2.kind, m2.tunnel.kind, m2.tunnel.port, m2.tunnel.csum),
        (LbKind::Tun, TunnelType::Gre, 0, TunnelCsum::Csum)
    );
    let m3 = vs.method_of(r3);
    assert_eq!((m3.kind, m3.tunnel), (LbKind::Dr, Tunnel::default()));
    let v6 = &c.virtual_servers[1];
    assert_eq!(v6.persistence_granularity, Some(Granularity::Prefix(64)));
}

#[test]
fn persistence_ops_thresholds_and_tunnels_refuse_what_keepalived_does() {
    let udp = |body: &str| {
        in_vs(&format!(
            "protocol UDP\n{body}\nreal_server 192.0.2.21 53 {{\n}}"
        ))
    };
    assert_eq!(
        in_vs("ops\nreal_server 192.0.2.21 80 {\n}"),
        "k.conf:1: ops: one packet scheduling requires UDP, 192.0.2.15 80 is TCP"
    );
    assert_eq!(
        err("virtual_server fwmark 1 {\n ha_suspend\n real_server 192.0.2.21 80 {\n }\n}\n"),
        "k.conf:1: ha_suspend: cannot be used with a firewall mark"
    );
    assert_eq!(
        udp("persistence_granularity 64"),
        "k.conf:3: persistence_granularity: invalid IPv4 persistence_granularity \"64\" (a netmask)"
    );
    assert_eq!(
        err("virtual_server 2001:db8::1 80 {\n persistence_granularity 129\n}\n"),
        "k.conf:2: persistence_granularity: invalid IPv6 persistence_granularity \"129\" (1..128)"
    );
    let tun = |args: &str| udp(&format!("lb_kind TUN {args}"));
    assert_eq!(
        tun("type gue"),
        "k.conf:3: lb_kind: gue tunnels require port, otherwise cannot have port"
    );
    assert_eq!(
        tun("port 6080"),
        "k.conf:3: lb_kind: gue tunnels require port, otherwise cannot have port"
    );
    assert_eq!(
        tun("type gue port 0"),
        "k.conf:3: lb_kind: invalid gue tunnel port \"0\""
    );
    assert_eq!(
        tun("csum"),
        "k.conf:3: lb_kind: ipip tunnels do not support checksum option"
    );
    assert_eq!(
        tun("type gre remcsum"),
        "k.conf:3: lb_kind: gre tunnels do not support remote checksum option"
    );
    assert_eq!(
        tun("type vxlan"),
        "k.conf:3: lb_kind: unknown tunnel type \"vxlan\" for virtual server (ipip, gue, gre)"
    );
    assert_eq!(
        tun("type"),
        "k.conf:3: lb_kind: missing tunnel type for virtual server"
    );
    assert_eq!(
        in_rs("uthreshold -1"),
        "k.conf:3: uthreshold: \"-1\" is not a connection count"
    );
}

/// keepalived 2.2.7's port rules (`check_data.c`): no port is the virtual server's; DR and
/// TUN keep the virtual port, so another is reset with its warning; NAT keeps its own; a
/// firewall-mark service has none.
#[test]
fn server_ports_settle_as_keepalived_settles_them() {
    let c = parse_str(
        "k.conf",
        "virtual_server 192.0.2.15 80 {\n lb_kind DR\n sorry_server 192.0.2.30\n \
         real_server 192.0.2.21 8080 {\n }\n real_server 192.0.2.22 {\n }\n \
         real_server 192.0.2.23 8080 {\n  lvs_method NAT\n }\n}\n\
         virtual_server fwmark 7 {\n lb_kind TUN\n real_server 192.0.2.24 443 {\n }\n}\n",
    )
    .unwrap();
    let ports: Vec<u16> = c.virtual_servers[0]
        .real_servers
        .iter()
        .map(|r| r.addr.port())
        .collect();
    assert_eq!(ports, [80, 80, 8080]);
    assert_eq!(c.virtual_servers[0].sorry_server.unwrap().port(), 80);
    assert_eq!(c.virtual_servers[1].real_servers[0].addr.port(), 0);
    let warned: Vec<String> = c.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(
        warned,
        [
            "WARNING - virtual server [192.0.2.15]:tcp:80 and real server [192.0.2.21]:tcp:8080 \
             ports don't match - resetting",
            "WARNING - fwmark virtual server FWM 7, real server [192.0.2.24]:tcp:443 has port \
             specified - clearing",
        ]
    );
    // Two servers that become the same once settled.
    let e = parse_str(
        "k.conf",
        "virtual_server 192.0.2.15 80 {\n lb_kind DR\n real_server 192.0.2.21 8080 {\n }\n \
         real_server 192.0.2.21 80 {\n }\n}\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("listed twice"), "{e}");
}
