//! keepalived 2.2.7's script security (`lib/notify.c`), applied to a configuration before
//! anything runs.
//!
//! - **Who runs a script:** its own `user USER [GROUP]` (vrrp_script, MISC_CHECK, the words
//!   after a notify command), else `script_user` of `global_defs`, else `keepalived_script`
//!   if that user exists, else the daemon's own user (`get_default_script_user`). With
//!   `enable_script_security` and neither `script_user` nor `keepalived_script`, scripts
//!   without a user of their own are removed, as keepalived does. A user or group that does
//!   not exist is an error naming file and line (keepalived only logs and drops the script).
//! - **Which scripts run** (`check_script_secure`): the path is resolved (a bare name on
//!   `PATH`, then `realpath`, keeping the written file name when it names the same file); a
//!   script that is missing or not executable for its user is disabled; one run as root
//!   (uid or gid 0, or set-uid/gid root) has every component of its path checked
//!   (`check_security`, `lstat`, so symlinks are not followed): a component owned by a
//!   non-root user, or a regular file / directory without the sticky bit writable by a
//!   non-root group or by others, is unsafe. Unsafe scripts are disabled with
//!   `enable_script_security`, and only logged without it.
//! - **What disabling means:** a `vrrp_script` is removed from every instance tracking it
//!   (as if not tracked: it affects no priority), a notify script is not run, a MISC_CHECK
//!   checker is removed from its real server.
//! - Without `enable_script_security`, keepalived's `SECURITY VIOLATION` line is logged
//!   whenever a script is configured.
//! - **Executed or given to the shell:** a script is executed directly (no shell) when it is a
//!   binary or starts with `#!`. keepalived gives two kinds to `/bin/sh` (`system()`): the
//!   file test `</path` (a redirection alone: status 0 when the file can be opened; no path
//!   check), and a script file without a `#!` line (with its log line `Please add a #!
//!   shebang to script ...`). Those become `/bin/sh -c 'CMD' 'ARG'... "$@"` here, with
//!   keepalived's quoting, so the arguments a notify script is given still follow.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{PoisonError, RwLock};

use healthcheck::process::RunAs;
use keepalived_conf::{CheckerKind, KeepalivedConf, ScriptCommand, ScriptUser};
use nix::unistd::{Group, User};

/// `SC_ISSCRIPT`: the script was found.
const IS_SCRIPT: u32 = 1;
/// `SC_INHIBIT`: must not run.
const INHIBIT: u32 = 2;
/// `SC_NOTFOUND`.
const NOT_FOUND: u32 = 4;
/// `SC_EXECUTABLE`: executable for its user.
const EXECUTABLE: u32 = 8;
/// `SC_INSECURE`: a non-root user can change it.
const INSECURE: u32 = 16;
/// `SC_SYSTEM`: a `</path` file test, run by the shell without any path check.
const SYSTEM: u32 = 32;

/// The shell keepalived's `system()` runs.
const SHELL: &str = "/bin/sh";

/// The default script user of the configuration in force, for scripts that carry no user
/// (the LVS notify scripts); `None` when none could be set (they are not run).
static DEFAULT_USER: RwLock<Option<RunAs>> = RwLock::new(None);

/// The default script user of the configuration last applied (see [`apply`]).
pub(crate) fn default_user() -> Option<RunAs> {
    *DEFAULT_USER.read().unwrap_or_else(PoisonError::into_inner)
}

/// Resolves `USER [GROUP]` as keepalived's `set_uid_gid`: the user's uid and primary group,
/// or the named group.
pub(crate) fn resolve(u: &ScriptUser) -> Result<RunAs, String> {
    let user = User::from_name(&u.user)
        .map_err(|e| format!("{}: cannot look up script user {:?}: {e}", u.loc, u.user))?
        .ok_or_else(|| format!("{}: script user {:?} does not exist", u.loc, u.user))?;
    let gid = match &u.group {
        None => user.gid,
        Some(name) => {
            Group::from_name(name)
                .map_err(|e| format!("{}: cannot look up script group {name:?}: {e}", u.loc))?
                .ok_or_else(|| format!("{}: script group {name:?} does not exist", u.loc))?
                .gid
        }
    };
    Ok(RunAs {
        uid: user.uid.as_raw(),
        gid: gid.as_raw(),
    })
}

/// keepalived's `is_executable`.
fn is_executable(meta: &std::fs::Metadata, user: RunAs) -> bool {
    let mode = meta.mode();
    (user.uid == 0 && mode & 0o111 != 0)
        || (user.uid == meta.uid() && mode & 0o100 != 0)
        || (user.uid != meta.uid()
            && ((user.gid == meta.gid() && mode & 0o010 != 0)
                || (user.gid != meta.gid() && mode & 0o001 != 0)))
}

/// keepalived's `check_security`: every component of `filename`, from `/` down, with
/// `lstat`.
pub(crate) fn check_security(filename: &str, security: bool, log: &mut Vec<String>) -> u32 {
    let mut prefixes: Vec<&str> = filename
        .match_indices('/')
        .map(|(k, _)| if k == 0 { "/" } else { &filename[..k] })
        .collect();
    prefixes.push(filename);
    let last = prefixes.len() - 1;
    for (k, path) in prefixes.into_iter().enumerate() {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => {
                log.push(match e.raw_os_error() {
                    Some(
                        nix::libc::EACCES
                        | nix::libc::ELOOP
                        | nix::libc::ENOENT
                        | nix::libc::ENOTDIR,
                    ) => {
                        format!(
                            "check_script_secure could not find script '{filename}' - disabling"
                        )
                    }
                    _ => format!("check_script_secure('{filename}') returned {e} - disabling"),
                });
                return NOT_FOUND;
            }
        };
        let kind = meta.file_type();
        let dir = kind.is_dir();
        if (k < last && !dir) || (k == last && !kind.is_file() && !kind.is_symlink()) {
            log.push(format!(
                "Wrong file type found in script path '{filename}'."
            ));
            return INHIBIT;
        }
        let mode = meta.mode();
        let sticky = mode & 0o1000 != 0;
        if meta.uid() != 0
            || (((dir && !sticky) || kind.is_file())
                && ((meta.gid() != 0 && mode & 0o020 != 0) || mode & 0o002 != 0))
        {
            log.push(format!(
                "Unsafe permissions found for script '{filename}'{}.",
                if security { " - disabling" } else { "" }
            ));
            return INSECURE | if security { INHIBIT } else { 0 };
        }
    }
    0
}

/// A bare name on `PATH` (keepalived's `find_path`, `/bin:/usr/bin` without `PATH`).
fn find_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
}

/// keepalived's `check_script_secure` for a script run as `user`: its flags, and the
/// path to execute (resolved) when it was found.
pub(crate) fn check_script(
    argv0: &str,
    user: RunAs,
    security: bool,
    log: &mut Vec<String>,
) -> (u32, Option<String>) {
    // `<` (white space allowed) then `/`: a file test for the shell, never executed.
    if argv0
        .strip_prefix('<')
        .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with('/'))
    {
        return (SYSTEM, None);
    }
    let written = if argv0.contains('/') {
        PathBuf::from(argv0)
    } else {
        match find_path(argv0) {
            Some(p) => p,
            None => {
                log.push(format!("Cannot find script {argv0} in path - disabling"));
                return (NOT_FOUND, None);
            }
        }
    };
    let real = match std::fs::canonicalize(&written) {
        Ok(p) => p,
        Err(e) => {
            log.push(format!("Script {argv0} cannot be accessed - {e}"));
            return (NOT_FOUND, None);
        }
    };
    // Keep the written file name when it names the same file in the resolved directory
    // (some programs act on the name they are called by).
    let mut real_file: Option<PathBuf> = None;
    let mut path = real.clone();
    if written != real && written.file_name() != real.file_name() {
        let renamed = real.with_file_name(written.file_name().unwrap_or_default());
        let same = match (std::fs::metadata(&real), std::fs::metadata(&renamed)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            (Err(_), _) => true,
            _ => false,
        };
        if same {
            real_file = Some(real.clone());
            path = renamed;
        }
    }
    let path_text = path.display().to_string();
    let meta = match std::fs::metadata(real_file.as_deref().unwrap_or(&path)) {
        Ok(m) => m,
        Err(_) => {
            log.push(format!("Unable to access script `{path_text}` - disabling"));
            return (NOT_FOUND, None);
        }
    };
    let mut flags = IS_SCRIPT;
    let mut protect = false;
    if is_executable(&meta, user) {
        flags |= EXECUTABLE;
        let mode = meta.mode();
        protect = user.uid == 0
            || user.gid == 0
            || (meta.uid() == 0 && mode & 0o100 != 0 && mode & 0o4000 != 0)
            || (meta.gid() == 0 && mode & 0o010 != 0 && mode & 0o2000 != 0);
    } else {
        log.push(format!(
            "WARNING - script '{path_text}' is not executable for uid:gid {}:{} - disabling.",
            user.uid, user.gid
        ));
    }
    if protect {
        flags |= check_security(&path_text, security, log);
        if let Some(real_file) = &real_file {
            flags |= check_security(&real_file.display().to_string(), security, log);
        }
    }
    (flags, Some(path_text))
}

/// Whether `flags` let a notify script run (`check_notify_script_secure`).
fn runs(flags: u32) -> bool {
    flags & (INHIBIT | NOT_FOUND) == 0 && flags & (EXECUTABLE | SYSTEM) != 0
}

/// keepalived's quoting of a command line in its log (`cmd_str`).
fn cmd_str(argv: &[String]) -> String {
    argv.iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command line keepalived hands to `system()`: every word in single quotes but a first
/// word starting with `<` or `>` (a redirection). A quote inside a word is kept as `'\''`.
fn shell_command(argv: &[String]) -> String {
    argv.iter()
        .enumerate()
        .map(|(i, a)| {
            if i == 0 && (a.starts_with('<') || a.starts_with('>')) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the file starts like something `execve` runs: `#!` or an ELF header.
fn is_execable(path: &str) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut head));
    matches!(read, Ok(n) if (n >= 2 && head[..2] == *b"#!") || (n == 4 && head == *b"\x7fELF"))
}

/// Puts a checked script into the form it runs in: `argv[0]` replaced by the resolved `path`
/// (executed directly), or the shell form for a file test or a file without `#!` (see the
/// module). `false` when the checks disabled it.
fn settle(argv: &mut Vec<String>, flags: u32, path: Option<String>, log: &mut Vec<String>) -> bool {
    if !runs(flags) {
        return false;
    }
    if flags & SYSTEM == 0 {
        let Some(path) = path else { return false };
        if !is_execable(&path) {
            log.push(format!("Please add a #! shebang to script {path}"));
        } else {
            argv[0] = path;
            return true;
        }
        argv[0] = path;
    }
    let command = format!("{} \"$@\"", shell_command(argv));
    *argv = vec![SHELL.to_owned(), "-c".to_owned(), command, "sh".to_owned()];
    true
}

/// Applies the script rules to `conf`: resolves every script's user (an unknown user or
/// group is `Err`, located), disables what keepalived would disable (see the module) and
/// replaces each script's program by its resolved path. Returns keepalived's log lines.
/// Sets the default user used by [`default_user`].
/// Checks the notify script in `slot`, to run as `user` (`None`: no user could be set, as
/// keepalived says): keeps it, with its resolved path, when it may run, else empties the
/// slot; returns what the check found.
fn secure_notify(
    slot: &mut Option<Vec<String>>,
    user: Option<RunAs>,
    security: bool,
    log: &mut Vec<String>,
) -> u32 {
    let Some(argv) = slot else { return 0 };
    let Some(user) = user else {
        log.push(format!(
            "Failed to set default user for notify script {} - ignoring",
            argv[0]
        ));
        *slot = None;
        return 0;
    };
    let (flags, path) = check_script(&argv[0], user, security, log);
    if !settle(argv, flags, path, log) {
        *slot = None;
    }
    flags
}

/// [`secure_notify`] for a command with its own user (the FIFO readers, the LVS notify
/// scripts): `None` when keepalived would not run it.
fn secure_command(
    slot: &mut Option<ScriptCommand>,
    user_of: &mut impl FnMut(Option<&ScriptUser>, &mut Vec<String>) -> Result<Option<RunAs>, String>,
    log: &mut Vec<String>,
    security: bool,
) -> Result<u32, String> {
    let Some(mut script) = slot.take() else {
        return Ok(0);
    };
    let user = user_of(script.user.as_ref(), log)?;
    let mut argv = Some(std::mem::take(&mut script.command));
    let flags = secure_notify(&mut argv, user, security, log);
    if let Some(command) = argv {
        script.command = command;
        *slot = Some(script);
    }
    Ok(flags)
}

pub(crate) fn apply(conf: &mut KeepalivedConf) -> Result<Vec<String>, String> {
    let security = conf.global.script_security;
    let mut log = Vec::new();
    let default = match &conf.global.script_user {
        Some(u) => Some(resolve(u)?),
        None => match User::from_name("keepalived_script") {
            Ok(Some(u)) => Some(RunAs {
                uid: u.uid.as_raw(),
                gid: u.gid.as_raw(),
            }),
            _ if security => None,
            _ => Some(RunAs::current()),
        },
    };
    let mut default_missing_logged = false;
    let mut user_of = |own: Option<&ScriptUser>, log: &mut Vec<String>| -> Result<_, String> {
        match own {
            Some(u) => Ok(Some(resolve(u)?)),
            None if default.is_none() && !default_missing_logged => {
                default_missing_logged = true;
                log.push("Unable to set default user keepalived_script for script".to_owned());
                Ok(None)
            }
            None => Ok(default),
        }
    };
    let mut all = 0;

    // vrrp_script: those some instance tracks.
    let mut disabled = Vec::new();
    for s in &mut conf.scripts {
        if !conf
            .instances
            .iter()
            .any(|i| i.track_scripts.iter().any(|t| t.name == s.name))
        {
            continue;
        }
        let Some(user) = user_of(s.user.as_ref(), &mut log)? else {
            log.push(format!(
                "Unable to set default user for vrrp script {} - removing",
                s.name
            ));
            disabled.push(s.name.clone());
            continue;
        };
        let (flags, path) = check_script(&s.script[0], user, security, &mut log);
        all |= flags;
        if flags & INHIBIT != 0 {
            log.push(format!("Disabling track script {} due to insecure", s.name));
        } else if flags & NOT_FOUND != 0 {
            log.push(format!(
                "Disabling track script {} since not found/accessible",
                s.name
            ));
        }
        if !settle(&mut s.script, flags, path, &mut log) {
            disabled.push(s.name.clone());
        }
    }
    conf.scripts.retain(|s| !disabled.contains(&s.name));
    for i in &mut conf.instances {
        i.track_scripts.retain(|t| !disabled.contains(&t.name));
    }

    // Notify scripts of instances and sync groups.
    let notifies = conf
        .instances
        .iter_mut()
        .map(|i| &mut i.notify)
        .chain(conf.sync_groups.iter_mut().map(|g| &mut g.notify));
    for n in notifies {
        for (keyword, slot) in [
            ("notify_master", &mut n.master),
            ("notify_backup", &mut n.backup),
            ("notify_fault", &mut n.fault),
            ("notify_stop", &mut n.stop),
            ("notify", &mut n.any),
        ] {
            if slot.is_some() {
                let user = user_of(n.users.get(keyword), &mut log)?;
                all |= secure_notify(slot, user, security, &mut log);
            }
        }
    }

    // Notify FIFO readers run as their own user, else the default one.
    for fifo in [
        &mut conf.global.notify_fifo,
        &mut conf.global.vrrp_notify_fifo,
        &mut conf.global.lvs_notify_fifo,
    ]
    .into_iter()
    .flatten()
    {
        all |= secure_command(&mut fifo.script, &mut user_of, &mut log, security)?;
    }

    // LVS scripts: notify_up/down and quorum_up/down run as their user, else the default
    // one, MISC_CHECK as its `user`.
    for vs in &mut conf.virtual_servers {
        let mut slots: Vec<&mut Option<ScriptCommand>> =
            vec![&mut vs.quorum_up, &mut vs.quorum_down];
        for rs in &mut vs.real_servers {
            slots.push(&mut rs.notify_up);
            slots.push(&mut rs.notify_down);
        }
        for slot in slots {
            all |= secure_command(slot, &mut user_of, &mut log, security)?;
        }
        for rs in &mut vs.real_servers {
            let mut kept = Vec::new();
            for mut c in std::mem::take(&mut rs.checkers) {
                if let CheckerKind::Misc { path: argv, .. } = &mut c.kind {
                    let Some(user) = user_of(c.user.as_ref(), &mut log)? else {
                        log.push(format!(
                            "Unable to set default user for misc script {} - removing",
                            cmd_str(argv)
                        ));
                        continue;
                    };
                    let (flags, path) = check_script(&argv[0], user, security, &mut log);
                    all |= flags;
                    if flags & INHIBIT != 0 {
                        log.push(format!(
                            "Disabling misc script {} due to insecure",
                            cmd_str(argv)
                        ));
                    } else if flags & NOT_FOUND != 0 {
                        log.push(format!(
                            "Disabling misc script {} since not found/accessible",
                            cmd_str(argv)
                        ));
                    }
                    if !settle(argv, flags, path, &mut log) {
                        continue;
                    }
                }
                kept.push(c);
            }
            rs.checkers = kept;
        }
    }

    if !security && all & IS_SCRIPT != 0 {
        log.push(format!(
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled.{}",
            if all & INSECURE != 0 {
                " There are insecure scripts."
            } else {
                ""
            }
        ));
    }
    *DEFAULT_USER.write().unwrap_or_else(PoisonError::into_inner) = default;
    Ok(log)
}

/// The user a script with `own` user runs as under the configuration last applied.
pub(crate) fn run_as(own: Option<&ScriptUser>) -> Option<RunAs> {
    match own {
        Some(u) => resolve(u).ok(),
        None => default_user(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::path::Path;

    /// A fresh directory under /tmp (root-owned when the tests run as root), mode 0755.
    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kc-sec-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        chmod(&d, 0o755);
        d
    }

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn script(dir: &Path, mode: u32) -> String {
        let p = dir.join("s.sh");
        std::fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
        chmod(&p, mode);
        p.display().to_string()
    }

    fn root() -> bool {
        nix::unistd::geteuid().is_root()
    }

    const ROOT: RunAs = RunAs { uid: 0, gid: 0 };

    #[test]
    fn world_writable_directory_or_file_is_unsafe_for_root_scripts() {
        if !root() {
            eprintln!("skipped: the path rules need root-owned files (not root)");
            return;
        }
        let d = tempdir("ww");
        let s = script(&d, 0o755);
        let mut log = Vec::new();
        assert_eq!(
            check_script(&s, ROOT, true, &mut log).0,
            IS_SCRIPT | EXECUTABLE
        );
        assert!(log.is_empty(), "{log:?}");
        // World-writable directory without the sticky bit: refused.
        chmod(&d, 0o777);
        let (flags, _) = check_script(&s, ROOT, true, &mut log);
        assert_ne!(flags & INHIBIT, 0);
        assert_eq!(
            log,
            [format!(
                "Unsafe permissions found for script '{s}' - disabling."
            )]
        );
        // Without enable_script_security: logged, still runs.
        log.clear();
        let (flags, _) = check_script(&s, ROOT, false, &mut log);
        assert_eq!(flags & INHIBIT, 0);
        assert_ne!(flags & INSECURE, 0);
        assert_eq!(log, [format!("Unsafe permissions found for script '{s}'.")]);
        // The sticky bit makes a world-writable directory fine (like /tmp).
        chmod(&d, 0o1777);
        log.clear();
        assert_eq!(check_script(&s, ROOT, true, &mut log).0 & INSECURE, 0);
        // A group-writable file is fine while its group is root, unsafe otherwise.
        chmod(&d, 0o755);
        chmod(Path::new(&s), 0o775);
        assert_eq!(check_script(&s, ROOT, true, &mut log).0 & INSECURE, 0);
        std::os::unix::fs::chown(&s, None, Some(65534)).unwrap();
        assert_ne!(check_script(&s, ROOT, true, &mut log).0 & INHIBIT, 0);
        // A file owned by another user is unsafe whatever its mode.
        std::os::unix::fs::chown(&s, Some(65534), Some(0)).unwrap();
        chmod(Path::new(&s), 0o755);
        assert_ne!(check_script(&s, ROOT, true, &mut log).0 & INHIBIT, 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_script_run_as_another_user_is_not_path_checked() {
        if !root() {
            eprintln!("skipped: needs root (not root)");
            return;
        }
        let d = tempdir("user");
        let s = script(&d, 0o755);
        chmod(&d, 0o777);
        let nobody = RunAs {
            uid: 65534,
            gid: 65534,
        };
        let mut log = Vec::new();
        assert_eq!(
            check_script(&s, nobody, true, &mut log).0,
            IS_SCRIPT | EXECUTABLE
        );
        // Not executable for that user: disabled with keepalived's warning.
        chmod(Path::new(&s), 0o700);
        let (flags, _) = check_script(&s, nobody, true, &mut log);
        assert_eq!(flags & EXECUTABLE, 0);
        assert_eq!(
            log,
            [format!(
                "WARNING - script '{s}' is not executable for uid:gid 65534:65534 - disabling."
            )]
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn symlinks_are_resolved_and_both_paths_checked() {
        if !root() {
            eprintln!("skipped: needs root (not root)");
            return;
        }
        let safe = tempdir("real");
        let s = script(&safe, 0o755);
        let open = tempdir("link");
        chmod(&open, 0o777);
        let link = open.join("s.sh");
        symlink(&s, &link).unwrap();
        let mut log = Vec::new();
        // The link's own directory is world-writable, but keepalived checks the resolved
        // path (the link's name in the real directory): safe.
        let (flags, path) = check_script(&link.display().to_string(), ROOT, true, &mut log);
        assert_eq!(flags & INSECURE, 0, "{log:?}");
        assert_eq!(path.as_deref(), Some(s.as_str()));
        // A link named differently keeps its name when that names the same file.
        let other = safe.join("other");
        symlink(&s, &other).unwrap();
        let (_, path) = check_script(&other.display().to_string(), ROOT, true, &mut log);
        assert_eq!(path.as_deref(), Some(other.to_str().unwrap()));
        std::fs::remove_dir_all(&safe).unwrap();
        std::fs::remove_dir_all(&open).unwrap();
    }

    /// Runs a settled command line, as the daemon would, with `extra` arguments; its status.
    fn status(argv: &[String], extra: &[&str]) -> i32 {
        std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .args(extra)
            .status()
            .unwrap()
            .code()
            .unwrap()
    }

    #[test]
    fn file_tests_and_scripts_without_a_shebang_go_to_the_shell() {
        let d = tempdir("sh");
        let present = d.join("present").display().to_string();
        std::fs::write(&present, "x").unwrap();
        let mut log = Vec::new();
        // `</path`: no path check, run by the shell: 0 when the file opens.
        // (A failed redirection is status 1 in bash, 2 in dash: any failure counts.)
        for (test, opens) in [
            (format!("</{}", &present[1..]), true),
            (format!("< {present}x"), false),
        ] {
            let mut argv = vec![test.clone()];
            let (flags, path) = check_script(&test, ROOT, true, &mut log);
            assert_eq!(flags, SYSTEM, "{test}");
            assert!(settle(&mut argv, flags, path, &mut log));
            assert_eq!(argv[0], SHELL);
            assert_eq!(status(&argv, &[]) == 0, opens, "{test}");
        }
        assert!(log.is_empty(), "{log:?}");
        // A script file without `#!`: shell form, keepalived's line, arguments kept.
        let plain = d.join("plain");
        std::fs::write(&plain, "[ \"$1\" = \"it's\" ] && [ \"$2\" = MASTER ]\n").unwrap();
        chmod(&plain, 0o755);
        let written = plain.display().to_string();
        let mut argv = vec![written.clone(), "it's".to_owned()];
        let (flags, path) = check_script(&written, RunAs::current(), false, &mut log);
        assert!(settle(&mut argv, flags, path, &mut log));
        assert_eq!(argv[..2], [SHELL, "-c"]);
        assert_eq!(
            log,
            [format!("Please add a #! shebang to script {written}")]
        );
        assert_eq!(status(&argv, &["MASTER"]), 0);
        assert_eq!(status(&argv, &["BACKUP"]), 1);
        // With `#!` it is executed directly.
        let s = script(&d, 0o755);
        let mut argv = vec![s.clone()];
        let (flags, path) = check_script(&s, RunAs::current(), false, &mut log);
        assert!(settle(&mut argv, flags, path, &mut log));
        assert_eq!(argv, [s]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn missing_scripts_and_bare_names() {
        let mut log = Vec::new();
        assert_eq!(
            check_script("/nonexistent/x", ROOT, true, &mut log).0,
            NOT_FOUND
        );
        assert!(log[0].starts_with("Script /nonexistent/x cannot be accessed - "));
        let (flags, path) = check_script("sh", RunAs::current(), false, &mut log);
        assert_ne!(flags & EXECUTABLE, 0);
        assert!(path.unwrap().starts_with('/'));
    }

    #[test]
    fn users_and_groups_resolve_or_fail_located() {
        let loc = keepalived_conf::Location {
            file: std::sync::Arc::new(PathBuf::from("k.conf")),
            line: 4,
        };
        let u = |user: &str, group: Option<&str>| ScriptUser {
            user: user.to_owned(),
            group: group.map(str::to_owned),
            loc: loc.clone(),
        };
        assert_eq!(resolve(&u("root", None)).unwrap(), RunAs { uid: 0, gid: 0 });
        let nobody = resolve(&u("nobody", None)).unwrap();
        assert_eq!(nobody.uid, 65534);
        assert_eq!(resolve(&u("nobody", Some("root"))).unwrap().gid, 0);
        assert_eq!(
            resolve(&u("no-such-user-kc", None)).unwrap_err(),
            "k.conf:4: script user \"no-such-user-kc\" does not exist"
        );
        assert_eq!(
            resolve(&u("root", Some("no-such-group-kc"))).unwrap_err(),
            "k.conf:4: script group \"no-such-group-kc\" does not exist"
        );
    }

    #[test]
    fn insecure_track_scripts_leave_tracking_and_notify_scripts_are_dropped() {
        if !root() {
            eprintln!("skipped: needs root (not root)");
            return;
        }
        let d = tempdir("apply");
        let s = script(&d, 0o755);
        chmod(&d, 0o777);
        let text = format!(
            "global_defs {{\n script_user root\n enable_script_security\n}}\n\
             vrrp_script chk {{\n script {s}\n}}\n\
             vrrp_script ok {{\n script /bin/true\n}}\n\
             vrrp_instance V {{\ninterface eth0\nvirtual_router_id 7\n\
             virtual_ipaddress {{\n192.0.2.7\n}}\nnotify_master {s}\n\
             track_script {{\nchk\nok\n}}\n}}\n"
        );
        let mut conf = keepalived_conf::parse_str("k.conf", &text).unwrap();
        let log = apply(&mut conf).unwrap();
        assert!(
            log.contains(&"Disabling track script chk due to insecure".to_owned()),
            "{log:?}"
        );
        assert_eq!(conf.scripts.len(), 1);
        assert_eq!(conf.instances[0].track_scripts.len(), 1);
        assert_eq!(conf.instances[0].track_scripts[0].name, "ok");
        assert_eq!(conf.instances[0].notify.master, None);
        assert!(!log.iter().any(|l| l.starts_with("SECURITY VIOLATION")));
        // Without enable_script_security the scripts stay, and keepalived's line is logged.
        let mut conf =
            keepalived_conf::parse_str("k.conf", &text.replace(" enable_script_security\n", ""))
                .unwrap();
        let log = apply(&mut conf).unwrap();
        assert_eq!(conf.scripts.len(), 2);
        assert_eq!(
            log.last().unwrap(),
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled. \
             There are insecure scripts."
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn lvs_scripts_and_fifo_readers_run_as_their_own_user() {
        let text = "global_defs {\n script_user root\n vrrp_notify_fifo /run/k.fifo\n \
                    vrrp_notify_fifo_script /bin/cat nobody\n}\n\
                    virtual_server 192.0.2.15 80 {\n quorum_up \"/bin/echo up\" nobody\n \
                    real_server 192.0.2.21 80 {\n  notify_down /bin/true\n }\n}\n";
        let mut conf = keepalived_conf::parse_str("k.conf", text).unwrap();
        apply(&mut conf).unwrap();
        let vs = &conf.virtual_servers[0];
        let up = vs.quorum_up.as_ref().unwrap();
        assert_eq!(up.command[1..], ["up"]);
        assert_eq!(run_as(up.user.as_ref()).unwrap().uid, 65534);
        // No user of its own: the default one (script_user root).
        let down = vs.real_servers[0].notify_down.as_ref().unwrap();
        assert_eq!(run_as(down.user.as_ref()), Some(RunAs { uid: 0, gid: 0 }));
        let reader = conf
            .global
            .vrrp_notify_fifo
            .as_ref()
            .unwrap()
            .script
            .as_ref();
        assert_eq!(reader.unwrap().user.as_ref().unwrap().user, "nobody");
        // An unknown user is an error naming the file and line, as for every script.
        let bad = text.replace("\" nobody", "\" no-such-user-kc");
        let mut conf = keepalived_conf::parse_str("k.conf", &bad).unwrap();
        assert_eq!(
            apply(&mut conf).unwrap_err(),
            "k.conf:7: script user \"no-such-user-kc\" does not exist"
        );
    }
}
