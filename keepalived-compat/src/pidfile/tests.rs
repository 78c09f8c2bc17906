#![allow(clippy::unwrap_used)]
use super::*;

use std::os::unix::fs::symlink;

/// A scratch directory, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kc-pidfile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn a_new_file_holds_the_pid_mode_0644_and_goes_at_exit() {
    let dir = Dir::new("new");
    let path = dir.0.join("k.pid");
    let held = PidFile::acquire(&path, 4242).unwrap();
    assert_eq!(read(&path), "4242\n");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
    // Nothing else was left in the directory (the temporary name is gone).
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1);
    drop(held);
    assert!(!path.exists());
}

#[test]
fn a_second_daemon_is_refused_and_changes_nothing() {
    let dir = Dir::new("second");
    let path = dir.0.join("k.pid");
    let _first = PidFile::acquire(&path, 4242).unwrap();
    let before = std::fs::metadata(&path).unwrap();
    let err = PidFile::acquire(&path, 4343).unwrap_err();
    assert!(err.is_running(), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "daemon is already running: {} is locked by pid 4242",
            path.display()
        )
    );
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (read(&path).as_str(), before.ino()),
        ("4242\n", after.ino())
    );
    assert_eq!(before.mtime_nsec(), after.mtime_nsec());
    // The check before detaching sees it too, and leaves it alone as well.
    assert!(check(&path).unwrap_err().is_running());
    assert_eq!(read(&path), "4242\n");
}

#[test]
fn symbolic_links_are_not_followed() {
    let dir = Dir::new("symlink");
    let target = dir.0.join("target");
    std::fs::write(&target, "precious\n").unwrap();
    let path = dir.0.join("k.pid");
    symlink(&target, &path).unwrap();
    let err = PidFile::acquire(&path, 4242).unwrap_err();
    assert!(matches!(err, PidFileError::Symlink { .. }), "{err}");
    assert!(matches!(check(&path), Err(PidFileError::Symlink { .. })));
    assert_eq!(read(&target), "precious\n");
}

#[test]
fn a_killed_daemon_s_file_is_taken_over() {
    let dir = Dir::new("stale");
    let path = dir.0.join("k.pid");
    // No process has pid 4194304 (above the kernel's largest pid_max).
    for stale in ["4194304\n", "", "garbage"] {
        std::fs::write(&path, stale).unwrap();
        check(&path).unwrap();
        let held = PidFile::acquire(&path, 4242).unwrap();
        assert_eq!(read(&path), "4242\n");
        drop(held);
        assert!(!path.exists());
    }
}

#[test]
fn a_replaced_file_is_not_removed() {
    let dir = Dir::new("replaced");
    let path = dir.0.join("k.pid");
    let held = PidFile::acquire(&path, 4242).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, "someone else's\n").unwrap();
    drop(held);
    assert_eq!(read(&path), "someone else's\n");
}

#[test]
fn a_directory_is_refused() {
    let dir = Dir::new("dir");
    let err = PidFile::acquire(&dir.0, 4242).unwrap_err();
    assert!(matches!(err, PidFileError::NotRegular { .. }), "{err}");
    let err = PidFile::acquire(&dir.0.join("missing/k.pid"), 4242).unwrap_err();
    assert!(
        err.to_string()
            .contains("missing/.k.pid.4242.new: cannot open"),
        "{err}"
    );
}

#[test]
fn several_files_are_all_or_nothing() {
    let dir = Dir::new("several");
    let (a, b) = (dir.0.join("a.pid"), dir.0.join("b.pid"));
    let _other = PidFile::acquire(&b, 4343).unwrap();
    let err = PidFiles::acquire(&[a.clone(), b.clone()]).unwrap_err();
    assert!(err.is_running());
    assert!(!a.exists(), "a taken file was left behind");
    assert_eq!(read(&b), "4343\n");
}
