//! Instances' `track_file`: an integer in a file, times the tracking weight, added to the
//! instance's priority, as keepalived 2.2.7 computes it (`process_track_file`,
//! `update_track_file_status`):
//!
//! - the file is read with `strtol(.., 0)` (leading blanks, a sign, `0x` hex and `0`
//!   octal, anything after the number ignored, no number is 0); a missing or empty file is
//!   0; a number out of range is ignored (the last value stays);
//! - weight 0: a non-zero value is a FAULT (with `reverse`: a zero value is);
//! - otherwise value × weight (× -1 with `reverse`) is added to the priority, at most 253;
//!   -254 or less is a FAULT.
//!
//! The FAULT is a weight-0 tracked object per instance and file ([`object_name`]); the sum
//! goes to the instance's base priority (`Handle::set_priority`), so keepalived's single
//! clamp of the total becomes two when it leaves 1..254 (README: compatibility notes).
//! Changes are seen with healthcheck's `FileWatch` (inotify on the directory).

use std::collections::HashMap;
use std::path::Path;

use futures::StreamExt;
use futures::stream::{self, BoxStream};
use healthcheck::FileWatch;
use keepalived_conf::{KeepalivedConf, TrackFile, VrrpInstance};
use tokio::task::JoinHandle;
use vrrp_core::{Priority, TrackState};
use vrrp_net::driver::Handle;

/// Bytes read from a tracked file (keepalived reads 127).
const READ_MAX: usize = 127;

/// The tracked object that puts `instance` in FAULT for `file`.
pub(crate) fn object_name(file: &str, instance: &str) -> String {
    format!("file {file} {instance}")
}

/// C's `strtol(text, NULL, 0)` for the values keepalived accepts: `None` when out of
/// `i32::MIN..=i32::MAX + 1` (keepalived ignores such a value).
pub(crate) fn parse_value(text: &[u8]) -> Option<i64> {
    let mut rest = text;
    while let [b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c', tail @ ..] = rest {
        rest = tail;
    }
    let negative = match rest {
        [b'-', tail @ ..] => {
            rest = tail;
            true
        }
        [b'+', tail @ ..] => {
            rest = tail;
            false
        }
        _ => false,
    };
    let radix = match rest {
        [b'0', b'x' | b'X', d, ..] if d.is_ascii_hexdigit() => {
            rest = &rest[2..];
            16
        }
        [b'0', ..] => 8,
        _ => 10,
    };
    let mut value: i64 = 0;
    for b in rest {
        let Some(d) = char::from(*b).to_digit(radix) else {
            break;
        };
        // Past the accepted range: strtol would give ERANGE or a value keepalived refuses.
        value = value
            .checked_mul(i64::from(radix))?
            .checked_add(i64::from(d))?;
        if value > i64::from(i32::MAX) + 1 {
            return None;
        }
    }
    let value = if negative { -value } else { value };
    (value >= i64::from(i32::MIN)).then_some(value)
}

/// The file's value now (`None`: a value keepalived ignores).
pub(crate) fn read_value(path: &Path) -> Option<i64> {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return Some(0);
    };
    let mut text = Vec::with_capacity(READ_MAX);
    if file.take(READ_MAX as u64).read_to_end(&mut text).is_err() {
        return Some(0);
    }
    parse_value(&text)
}

/// What a file's value does to one tracking instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// FAULT.
    Fault,
    /// Added to the priority.
    Offset(i32),
}

/// keepalived's arithmetic for `value` tracked with `weight` (and `reverse`).
pub(crate) fn effect(value: i64, weight: i32, reverse: bool) -> Effect {
    if weight == 0 {
        return if (value != 0) != reverse {
            Effect::Fault
        } else {
            Effect::Offset(0)
        };
    }
    let sign = if reverse { -1 } else { 1 };
    let status = value.saturating_mul(i64::from(weight) * sign);
    if status <= -254 {
        Effect::Fault
    } else {
        // In -253..=253 here.
        Effect::Offset(i32::try_from(status.min(253)).unwrap_or(253))
    }
}

/// The weight and reverse flag with which `instance` tracks `file`.
fn tracking(instance: &VrrpInstance, file: &TrackFile) -> Option<(i32, bool)> {
    let t = instance.track_files.iter().find(|t| t.name == file.name)?;
    // The block's weight is stored negated for `reverse`.
    let own = if file.reverse {
        -file.weight
    } else {
        file.weight
    };
    let weight = t
        .weight
        .unwrap_or_else(|| i32::try_from(own).unwrap_or_default());
    Some((weight, t.reverse.unwrap_or(file.reverse)))
}

/// What the files' `values` do to `instance`: the sum added to its priority and, per
/// tracked object, whether it is a FAULT.
pub(crate) fn effects(
    conf: &KeepalivedConf,
    instance: &VrrpInstance,
    values: &HashMap<String, i64>,
) -> (i32, Vec<(String, bool)>) {
    let mut sum = 0;
    let mut faults = Vec::new();
    for file in &conf.track_files {
        let Some((weight, reverse)) = tracking(instance, file) else {
            continue;
        };
        let value = values.get(&file.name).copied().unwrap_or(0);
        let e = effect(value, weight, reverse);
        if let Effect::Offset(o) = e {
            sum += o;
        }
        faults.push((object_name(&file.name, &instance.name), e == Effect::Fault));
    }
    (sum, faults)
}

/// The base priority to give `instance` with `offset` from its files: unchanged for an
/// address owner (keepalived never changes 255).
pub(crate) fn priority(instance: &VrrpInstance, offset: i32) -> Priority {
    if instance.priority == 255 {
        return Priority(255);
    }
    let p = (i32::from(instance.priority) + offset).clamp(1, 254);
    Priority(u8::try_from(p).unwrap_or(1))
}

/// Writes `init_file` values, as keepalived does when it reads the configuration: a
/// missing file is created; an existing one is overwritten with `overwrite`, and only at
/// start (not on a reload) and only if it is a regular file.
pub(crate) fn initialise(conf: &KeepalivedConf, reload: bool) {
    for file in &conf.track_files {
        let Some(init) = file.init else { continue };
        match std::fs::metadata(&file.path) {
            Ok(_) if !init.overwrite || reload => continue,
            Ok(m) if !m.is_file() => {
                tracing::warn!(
                    "Cannot initialise track file {} - it is not a regular file",
                    file.name
                );
                continue;
            }
            _ => {}
        }
        if let Err(e) = std::fs::write(&file.path, format!("{}\n", init.value)) {
            tracing::warn!("Unable to initialise track file {}: {e}", file.name);
        }
    }
}

/// The tracked files' values, read now.
pub(crate) fn values(conf: &KeepalivedConf) -> HashMap<String, i64> {
    used(conf)
        .map(|f| (f.name.clone(), read_value(&f.path).unwrap_or(0)))
        .collect()
}

fn used(conf: &KeepalivedConf) -> impl Iterator<Item = &TrackFile> {
    conf.track_files.iter().filter(|f| {
        conf.instances
            .iter()
            .any(|i| i.track_files.iter().any(|t| t.name == f.name))
    })
}

/// Tells `handle` what `values` do to every instance tracking a file.
async fn apply(conf: &KeepalivedConf, handle: &Handle, values: &HashMap<String, i64>) {
    for instance in conf.instances.iter().filter(|i| !i.track_files.is_empty()) {
        let (offset, faults) = effects(conf, instance, values);
        for (object, fault) in faults {
            let state = if fault {
                TrackState::Down
            } else {
                TrackState::Up
            };
            let _ = handle.set_track_state(&object, state);
        }
        // An instance waiting for its interface is not running: nothing to set.
        let _ = handle
            .set_priority(&instance.name, priority(instance, offset))
            .await;
    }
}

/// The watchers of the tracked files (one task for all).
#[derive(Default)]
pub(crate) struct Files {
    task: Option<JoinHandle<()>>,
}

impl Files {
    /// Reads every tracked file, tells `handle` the result, and watches them for the
    /// configuration `conf` (a reload calls it again: the files are simply read again).
    pub(crate) async fn sync(&mut self, conf: &KeepalivedConf, handle: &Handle) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let mut values = values(conf);
        apply(conf, handle, &values).await;
        let mut watches: Vec<BoxStream<'static, String>> = Vec::new();
        for file in used(conf) {
            match FileWatch::new(&file.path) {
                Ok(w) => {
                    let name = file.name.clone();
                    watches.push(
                        stream::unfold(w, move |mut w| {
                            let name = name.clone();
                            async move { w.changed().await.ok().map(|()| (name, w)) }
                        })
                        .boxed(),
                    );
                }
                Err(e) => tracing::error!(
                    "track_file {}: cannot watch {}: {e}",
                    file.name,
                    file.path.display()
                ),
            }
        }
        if watches.is_empty() {
            return;
        }
        let conf = conf.clone();
        let handle = handle.clone();
        self.task = Some(tokio::spawn(async move {
            let mut changes = stream::select_all(watches);
            while let Some(name) = changes.next().await {
                let Some(file) = conf.track_files.iter().find(|f| f.name == name) else {
                    continue;
                };
                let Some(value) = read_value(&file.path) else {
                    tracing::info!(
                        "Invalid number read from {} - ignoring",
                        file.path.display()
                    );
                    continue;
                };
                if values.insert(name.clone(), value) != Some(value) {
                    tracing::info!("track_file {name} is now {value}");
                    apply(&conf, &handle, &values).await;
                }
            }
        }));
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_are_read_as_strtol_base_0() {
        assert_eq!(parse_value(b"12\n"), Some(12));
        assert_eq!(parse_value(b"  -7 apples"), Some(-7));
        assert_eq!(parse_value(b"0x1f"), Some(31));
        assert_eq!(parse_value(b"010"), Some(8));
        assert_eq!(parse_value(b"09"), Some(0));
        assert_eq!(parse_value(b"abc"), Some(0));
        assert_eq!(parse_value(b""), Some(0));
        assert_eq!(parse_value(b"+5"), Some(5));
        assert_eq!(parse_value(b"2147483648"), Some(2_147_483_648));
        assert_eq!(parse_value(b"2147483649"), None);
        assert_eq!(parse_value(b"-2147483649"), None);
        assert_eq!(parse_value(b"99999999999999999999999"), None);
    }

    #[test]
    fn keepalived_arithmetic() {
        assert_eq!(effect(3, 10, false), Effect::Offset(30));
        assert_eq!(effect(3, 10, true), Effect::Offset(-30));
        assert_eq!(effect(100, 10, false), Effect::Offset(253));
        assert_eq!(effect(-25, 10, false), Effect::Offset(-250));
        assert_eq!(effect(-26, 10, false), Effect::Fault);
        assert_eq!(effect(1, -254, false), Effect::Fault);
        assert_eq!(effect(0, 0, false), Effect::Offset(0));
        assert_eq!(effect(2, 0, false), Effect::Fault);
        assert_eq!(effect(0, 0, true), Effect::Fault);
        assert_eq!(effect(2, 0, true), Effect::Offset(0));
    }

    #[test]
    fn instance_weights_override_the_block_s() {
        let conf = keepalived_conf::parse_str(
            "k.conf",
            "track_file F {\nfile /run/f\nweight 4 reverse\n}\n\
             track_file G {\nfile /run/g\n}\n\
             vrrp_instance A {\ninterface eth0\nvirtual_router_id 7\npriority 100\n\
             virtual_ipaddress {\n192.0.2.7\n}\ntrack_file {\nF\nG weight 0\n}\n}\n\
             vrrp_instance B {\ninterface eth0\nvirtual_router_id 8\npriority 255\n\
             virtual_ipaddress {\n192.0.2.8\n}\ntrack_file {\nF weight 3\n}\n}\n",
        )
        .unwrap();
        let values = HashMap::from([("F".to_owned(), 5), ("G".to_owned(), 1)]);
        let (a, b) = (&conf.instances[0], &conf.instances[1]);
        assert_eq!(
            effects(&conf, a, &values),
            (
                -20,
                vec![
                    ("file F A".to_owned(), false),
                    ("file G A".to_owned(), true)
                ]
            )
        );
        // The block's reverse stays when the instance gives only a weight.
        assert_eq!(effects(&conf, b, &values).0, -15);
        assert_eq!(priority(a, -20), Priority(80));
        assert_eq!(priority(a, -200), Priority(1));
        assert_eq!(priority(b, -15), Priority(255));
    }

    #[test]
    fn init_file_creates_or_overwrites() {
        let dir = std::env::temp_dir().join(format!("kc-init-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::write(&b, "9\n").unwrap();
        let conf = keepalived_conf::parse_str(
            "k.conf",
            &format!(
                "track_file A {{\nfile {}\ninit_file 4\n}}\n\
                 track_file B {{\nfile {}\ninit_file -2 overwrite\n}}\n",
                a.display(),
                b.display()
            ),
        )
        .unwrap();
        initialise(&conf, true);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "4\n");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "9\n");
        std::fs::write(&a, "1\n").unwrap();
        initialise(&conf, false);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "1\n");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "-2\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
