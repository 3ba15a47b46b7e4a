//! Files on disk: every file Masar writes is readable by its owner only, and what a
//! shared sync folder holds is read only when it is a regular file.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::Db;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn every_file_masar_writes_is_its_owners_only() {
    let db = Db::new().with_reference_lists();
    db.person("Amina", "Haddad");
    let keys = db.dir().join("masar.db.keys");
    let enrol = db.dir().join("laptop.enrol");
    let out = db.dir().join("out.masar");
    crate::common::run(
        &db.path,
        &db.user,
        &db.password,
        &["enrol", "--out", enrol.to_str().expect("a path")],
        &[("MASAR_ENROL_PASSPHRASE", "a long passphrase")],
    );
    db.ok(&["bundle", "export", "--out", out.to_str().expect("a path")]);
    for f in [
        db.path.as_path(),
        keys.as_path(),
        enrol.as_path(),
        out.as_path(),
    ] {
        assert_eq!(mode(f), 0o600, "{} is readable by others", f.display());
    }
}

#[test]
fn a_pipe_or_a_link_to_a_device_is_refused_and_passed_over_in_a_folder() {
    let db = Db::new();
    let folder = db.dir().join("sync");
    std::fs::create_dir(&folder).expect("a folder");
    let fifo = folder.join("pipe.masar");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let zero = folder.join("zero.masar");
    std::os::unix::fs::symlink("/dev/zero", &zero).expect("a symlink");
    for planted in [&fifo, &zero] {
        // Run with a deadline: reading a FIFO would wait for ever.
        let mut child = crate::common::masar_command()
            .env("MASAR_DB", &db.path)
            .env("MASAR_USER", &db.user)
            .env("MASAR_PASSWORD", &db.password)
            .args([
                "--json",
                "bundle",
                "import",
                planted.to_str().expect("a path"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("masar runs");
        let end = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if Instant::now() > end {
                let _ = child.kill();
                panic!("importing {} hangs", planted.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let out = child.wait_with_output().expect("output");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status.code(), Some(1), "{err}");
        assert!(err.contains("not a regular file"), "{err}");
    }
    // Given the folder, the real bundle beside them is read; the others are passed over.
    db.ok(&[
        "bundle",
        "export",
        "--out",
        folder.join("real.masar").to_str().expect("a path"),
    ]);
    let done = db.ok(&["bundle", "import", folder.to_str().expect("a path")]);
    assert_eq!(done["bundles"], 1, "{done}");
}

#[test]
fn a_weak_password_is_refused_with_its_reason_and_nothing_is_made() {
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("weak.db");
    let out = crate::common::run(
        &path,
        "amina",
        "password1",
        &["init", "--org", "Org", "--device", "d"],
        &[],
    );
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("too easy to guess"), "{err}");
    assert!(
        !path.exists() && !dir.path().join("weak.db.keys").exists(),
        "a refused init leaves no file"
    );
    let db = Db::new();
    let out = crate::common::run(
        &db.path,
        &db.user,
        &db.password,
        &["user", "add", "eve", "--role", "counsellor"],
        &[("MASAR_NEW_PASSWORD", "12345678")],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!db.ok(&["user", "list"]).to_string().contains("eve"));
}
