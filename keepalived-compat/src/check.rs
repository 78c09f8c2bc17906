//! `-t`: everything a start would refuse, found without starting.
//!
//! Parsing (`keepalived_conf`) has already passed when this runs. On top, for the parts the
//! options run: each `vrrp_instance` is built through the daemon's own mapping into a
//! validated core configuration (which needs the interface's address: a missing interface
//! is reported as keepalived 2.2.7's `-t` does, and that instance's core checks are
//! skipped), the LVS plan of the `virtual_server`s is built as a start builds it, every
//! script the daemon would run must exist and be executable, and every `regex` of an
//! `HTTP_GET` / `SSL_GET` must compile. Each problem names file, line and
//! keyword, like a parse error.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use keepalived_conf::{KeepalivedConf, Location, Notify};

use crate::cli::Options;

/// One problem `-t` found, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{loc}: {keyword}: {message}")]
pub(crate) struct Problem {
    /// Where.
    pub(crate) loc: Location,
    /// The keyword at fault.
    pub(crate) keyword: String,
    /// What is wrong.
    pub(crate) message: String,
}

impl Problem {
    fn new(loc: &Location, keyword: &str, message: impl Into<String>) -> Self {
        Self {
            loc: loc.clone(),
            keyword: keyword.to_owned(),
            message: message.into(),
        }
    }
}

/// Checks `conf` as a start with `options` would; what a start would log but accept
/// (`vrrp_strict`'s adjustments) is printed on stderr. Must be called inside a tokio
/// runtime (interfaces are looked up over netlink).
pub(crate) async fn run(options: &Options, conf: &KeepalivedConf) -> Vec<Problem> {
    let mut problems = Vec::new();
    if !options.check_only {
        #[cfg(feature = "vrrp")]
        vrrp(conf, &mut problems).await;
        for s in &conf.scripts {
            let used = conf
                .instances
                .iter()
                .any(|i| i.track_scripts.iter().any(|t| t.name == s.name));
            if used {
                program(&s.script, &s.loc, "script", &mut problems);
            }
        }
        for i in &conf.instances {
            notify(&i.notify, &i.loc, &mut problems);
        }
        for g in &conf.sync_groups {
            notify(&g.notify, &g.loc, &mut problems);
        }
    }
    if !options.vrrp_only {
        #[cfg(feature = "health")]
        virtual_servers(conf, &mut problems);
    }
    problems
}

/// Builds every instance's core configuration as `daemon::run_vrrp` does.
#[cfg(feature = "vrrp")]
async fn vrrp(conf: &KeepalivedConf, problems: &mut Vec<Problem>) {
    use crate::mapping;

    for i in &conf.instances {
        let mut interfaces = vec![&i.interface];
        interfaces.extend(
            i.vips
                .iter()
                .chain(&i.vips_excluded)
                .filter_map(|v| v.dev.as_ref()),
        );
        let mut missing = false;
        for name in interfaces {
            if nix::net::if_::if_nametoindex(name.as_str()).is_err() {
                // keepalived 2.2.7: `WARNING - interface eth9 for vrrp_instance VI_1 doesn't
                // exist`, then `Non-existent interface specified in configuration`.
                problems.push(Problem::new(
                    &i.loc,
                    "interface",
                    format!(
                        "interface {name} for vrrp_instance {} doesn't exist",
                        i.name
                    ),
                ));
                missing = true;
            }
        }
        let primary = match mapping::configured_source(i) {
            Some(a) => a,
            // The core checks need the address an instance advertises from.
            None if missing => continue,
            None => {
                match vrrp_net::driver::primary_address(&i.interface, mapping::family(i)).await {
                    Ok(a) => a,
                    Err(e) => {
                        problems.push(Problem::new(
                            &i.loc,
                            "interface",
                            format!("vrrp_instance {}: interface {}: {e}", i.name, i.interface),
                        ));
                        continue;
                    }
                }
            }
        };
        match mapping::instance(conf, i, primary) {
            Ok((_, adjusted)) => {
                for a in adjusted {
                    eprintln!(
                        "keepalived-compat: {}: vrrp_instance {}: {a}",
                        i.loc, i.name
                    );
                }
            }
            Err(e) => problems.push(Problem::new(
                &e.loc,
                "vrrp_instance",
                format!("{}: {}", e.instance, e.source),
            )),
        }
    }
}

/// The `virtual_server`s: the LVS plan a start builds, their scripts and `regex`es.
#[cfg(feature = "health")]
fn virtual_servers(conf: &KeepalivedConf, problems: &mut Vec<Problem>) {
    use keepalived_conf::CheckerKind;

    // The plan `lvs::run` would start from: what the checkers and pools refuse.
    match crate::lvs::services(conf) {
        Ok((_, warnings)) => {
            for w in &warnings {
                eprintln!("keepalived-compat: warning: {w}");
            }
        }
        Err(e) => problems.push(Problem::new(&e.loc, &e.keyword, e.message)),
    }

    for vs in &conf.virtual_servers {
        for (argv, keyword) in [
            (&vs.quorum_up, "quorum_up"),
            (&vs.quorum_down, "quorum_down"),
        ] {
            if let Some(script) = argv {
                program(&script.command, &vs.loc, keyword, problems);
            }
        }
        for rs in &vs.real_servers {
            for (argv, keyword) in [
                (&rs.notify_up, "notify_up"),
                (&rs.notify_down, "notify_down"),
            ] {
                if let Some(script) = argv {
                    program(&script.command, &rs.loc, keyword, problems);
                }
            }
            for c in &rs.checkers {
                match &c.kind {
                    CheckerKind::Misc { path, .. } => program(path, &c.loc, "misc_path", problems),
                    CheckerKind::Http { urls, .. } => {
                        for u in urls {
                            if let Some(r) = &u.regex
                                && let Err(e) = regex::bytes::Regex::new(r)
                            {
                                problems.push(Problem::new(&u.loc, "regex", format!("{r:?}: {e}")));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The notify scripts of an instance or a sync group defined at `loc`.
fn notify(n: &Notify, loc: &Location, problems: &mut Vec<Problem>) {
    for (argv, keyword) in [
        (&n.master, "notify_master"),
        (&n.backup, "notify_backup"),
        (&n.fault, "notify_fault"),
        (&n.stop, "notify_stop"),
        (&n.any, "notify"),
    ] {
        if let Some(argv) = argv {
            program(argv, loc, keyword, problems);
        }
    }
}

/// Checks that the program of `argv` exists and is executable (found on `PATH` when its
/// name has no `/`, as `execvp` finds it).
fn program(argv: &[String], loc: &Location, keyword: &str, problems: &mut Vec<Problem>) {
    let Some(name) = argv.first() else {
        problems.push(Problem::new(loc, keyword, "no command given"));
        return;
    };
    let candidates: Vec<PathBuf> = if name.contains('/') {
        vec![PathBuf::from(name)]
    } else {
        std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).map(|d| d.join(name)).collect())
            .unwrap_or_default()
    };
    if !candidates.iter().any(|p| executable(p)) {
        // keepalived 2.2.7: `Disabling track script chk since not found/accessible`.
        problems.push(Problem::new(
            loc,
            keyword,
            format!("{name} not found or not executable"),
        ));
    }
}

fn executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn loc() -> Location {
        Location {
            file: std::sync::Arc::new(PathBuf::from("k.conf")),
            line: 3,
        }
    }

    #[test]
    fn missing_and_non_executable_programs_are_located() {
        let plain = std::env::temp_dir().join(format!("kc-check-{}", std::process::id()));
        std::fs::write(&plain, "not a program").unwrap();
        let mode = <std::fs::Permissions as PermissionsExt>::from_mode(0o644);
        std::fs::set_permissions(&plain, mode).unwrap();
        let plain_name = plain.display().to_string();
        let mut problems = Vec::new();
        program(
            &["/nonexistent/x".to_owned()],
            &loc(),
            "script",
            &mut problems,
        );
        program(
            std::slice::from_ref(&plain_name),
            &loc(),
            "notify",
            &mut problems,
        );
        program(
            &["sh".to_owned(), "-c".to_owned()],
            &loc(),
            "notify",
            &mut problems,
        );
        program(&["/bin/sh".to_owned()], &loc(), "notify", &mut problems);
        std::fs::remove_file(&plain).unwrap();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "k.conf:3: script: /nonexistent/x not found or not executable".to_owned(),
                format!("k.conf:3: notify: {plain_name} not found or not executable"),
            ]
        );
    }
}
