//! Backups taken while the database is in use, and restores that give the laptop a new
//! device identity (issue 12): through the real binary, on real files.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use masar_core::{Masar, SystemClock};
use serde_json::Value;

use crate::common::{run, Db, PASSWORD};
use crate::sync::Org;

const KARIM_PASSWORD: &str = "karim-password-77";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

/// Restores `backup` to `target` as `user`; the command's output.
fn restore(
    backup: &Path,
    target: &Path,
    user: &str,
    password: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec!["--json", "restore", s(backup)];
    args.extend_from_slice(extra);
    run(target, user, password, &args, &[])
}

fn restored_ok(backup: &Path, target: &Path) -> Value {
    let out = restore(backup, target, "admin", PASSWORD, &[]);
    assert!(
        out.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn ids(db: &Db) -> Vec<String> {
    let mut ids: Vec<String> = db
        .ok(&["person", "list"])
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids
}

/// The acceptance: a backup taken while another process writes, restored on another path,
/// passes `masar check` and holds exactly one moment of the source (its digest is the one
/// the source had after that many writes); the restored laptop is a new device whose first
/// bundle carries what the source had not synced, its counsellor can still sign, and after
/// a round of sync the source, the restored laptop and a third laptop hold the same data.
#[test]
fn a_backup_taken_while_another_process_writes_restores_that_moment_and_converges_after_sync() {
    let org = Org::new(2);
    let (a, c) = (&org.laptops[0], &org.laptops[1]);
    a.ok_env(
        &["user", "add", "karim", "--role", "counsellor"],
        &[("MASAR_NEW_PASSWORD", KARIM_PASSWORD)],
    );
    let synced = a.person("Synced", "Before");
    let bundle = org.export(0, &[]);
    org.import(1, &[&bundle]);
    let unsynced = a.person("Never", "Exported");

    // This test's process writes persons one at a time and notes the digest after each;
    // the backup is another process, started once some writes are in.
    let states: Arc<Mutex<Vec<(usize, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (path, states, stop) = (a.path.clone(), states.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut m = Masar::open(&path, "admin", PASSWORD, Arc::new(SystemClock))
                .expect("the writer opens the database");
            let count = |m: &Masar| m.list_persons(None).expect("persons").len();
            states
                .lock()
                .expect("lock")
                .push((count(&m), m.digest().expect("digest")));
            for i in 0..200 {
                if stop.load(Ordering::SeqCst) && i >= 10 {
                    break;
                }
                let pairs: Vec<(String, String)> = [
                    ("given", format!("Writer{i}")),
                    ("family", "During".into()),
                    ("sex", "male".into()),
                    ("born", "1985-05-05".into()),
                    ("nationality", "SYR".into()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
                m.add_person(masar_core::NewPerson {
                    fields: masar_core::Fields(pairs.to_vec()),
                    intake_date: None,
                })
                .expect("the writer registers a person");
                states
                    .lock()
                    .expect("lock")
                    .push((count(&m), m.digest().expect("digest")));
            }
        })
    };
    while states.lock().expect("lock").len() < 4 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let backup = org_dir(a).join("during.masarbackup");
    let taken = a.ok(&["backup", "--out", s(&backup)]);
    stop.store(true, Ordering::SeqCst);
    writer.join().expect("the writer ends");
    assert_eq!(taken["file"], s(&backup));
    assert!(
        taken["bytes"].as_u64().is_some_and(|b| b > 10_000),
        "{taken}"
    );

    // Restored on another path, by an administrator of the backup.
    let target_dir = tempfile::tempdir().expect("dir");
    let target = target_dir.path().join("restored").join("masar.db");
    let restored = restored_ok(&backup, &target);
    let b = Db::from_parts(target_dir, target.clone());
    assert_eq!(b.ok(&["check"])["ok"], true);
    let persons = b.ok(&["person", "list"]).as_array().expect("list").len();
    let digest = b.ok(&["digest"])["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let states = states.lock().expect("lock").clone();
    let moment = states
        .iter()
        .find(|(n, _)| *n == persons)
        .unwrap_or_else(|| panic!("{persons} persons: no state of the source had that many"));
    eprintln!(
        "restored at {persons} persons; the source went from {} to {}",
        states[0].0,
        states.last().expect("states").0
    );
    assert_eq!(
        moment.1, digest,
        "the restored digest is the source's after {persons} persons"
    );
    assert_eq!(restored["digest"], digest.as_str());
    assert_eq!(restored["persons"], persons);

    // A new device: not the source's, which the restored laptop says it came from.
    let a_status = a.ok(&["status"]);
    let b_status = b.ok(&["status"]);
    assert_eq!(restored["old_device"], a_status["device_id"]);
    assert_eq!(restored["new_device"], b_status["device_id"]);
    assert_ne!(a_status["device_id"], b_status["device_id"]);
    assert_eq!(a_status["org_id"], b_status["org_id"]);
    assert!(
        b_status["device_name"]
            .as_str()
            .is_some_and(|n| n.contains("(restored ")),
        "{b_status}"
    );
    assert!(
        restored["changes_to_send"].as_u64().is_some_and(|n| n > 0),
        "{restored}"
    );

    // Both users of the backup sign on the new device: the administrator and the counsellor.
    let new_by_admin = b.person("Restored", "Admin");
    let mut karim = Db::from_parts(tempfile::tempdir().expect("dir"), target.clone());
    karim.user = "karim".into();
    karim.password = KARIM_PASSWORD.into();
    let new_by_karim = karim.person("Restored", "Counsellor");

    // The source is lost for now: the restored laptop's bundle alone brings the third
    // laptop what the source never exported.
    let from_b = b.export_to(&org);
    org.import(1, &[&from_b]);
    let on_c = ids(c);
    for p in [&synced, &unsynced, &new_by_admin, &new_by_karim] {
        assert!(on_c.contains(p), "{p} reached the third laptop");
    }
    let devices = c.ok(&["device", "list"]);
    assert!(
        devices
            .as_array()
            .expect("devices")
            .iter()
            .any(|d| d["id"] == b_status["device_id"]),
        "{devices}"
    );

    // The source comes back: everyone exchanges once more and all three agree.
    let from_a = a.export_to(&org);
    org.import(1, &[&from_a]);
    b.ok(&["bundle", "import", s(&from_a)]);
    let from_c = org.export(1, &[]);
    a.ok(&["bundle", "import", s(&from_b), s(&from_c)]);
    b.ok(&["bundle", "import", s(&from_c)]);
    let digests: Vec<Value> = [a, &b, c].iter().map(|d| d.ok(&["digest"])).collect();
    assert_eq!(digests[0], digests[1]);
    assert_eq!(digests[1], digests[2]);
    assert_eq!(ids(a).len(), states.last().expect("states").0 + 2);
}

/// The folder that holds `db`.
fn org_dir(db: &Db) -> PathBuf {
    db.path.parent().expect("a folder").to_path_buf()
}

/// When the source laptop is lost for good, the restored laptop revokes its old device
/// itself: the revocation keeps every change the backup held, so the third laptop keeps
/// what the source had not exported, and refuses what the lost laptop writes afterwards.
#[test]
fn the_restored_laptop_revokes_its_lost_predecessor_and_keeps_what_the_backup_held() {
    let org = Org::new(2);
    let (a, c) = (&org.laptops[0], &org.laptops[1]);
    let unsynced = a.person("Only", "InBackup");
    let backup = org_dir(a).join("lost.masarbackup");
    a.ok(&["backup", "--out", s(&backup)]);
    let target_dir = tempfile::tempdir().expect("dir");
    let target = target_dir.path().join("masar.db");
    let restored = restored_ok(&backup, &target);
    let b = Db::from_parts(target_dir, target);
    let old = restored["old_device"].as_str().expect("old device");
    b.ok(&["device", "revoke", old]);
    let from_b = b.export_to(&org);
    org.import(1, &[&from_b]);
    assert!(ids(c).contains(&unsynced));
    // Whoever holds the lost laptop writes on: the third laptop refuses it.
    let after = a.person("Written", "AfterLoss");
    let from_a = a.export_to(&org);
    let out = run(
        &c.path,
        &c.user,
        &c.password,
        &["--json", "bundle", "import", s(&from_a)],
        &[],
    );
    let on_c = ids(c);
    assert!(
        !on_c.contains(&after),
        "a change of the revoked device was taken: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(on_c.contains(&unsynced));
    assert_eq!(c.ok(&["digest"]), b.ok(&["digest"]));
}

/// Every way a restore can go wrong says what is wrong and leaves the target as it was:
/// no database, no key file, no staging folder left behind.
#[test]
fn a_damaged_foreign_or_unauthorised_restore_changes_nothing() {
    let a = Db::new().with_reference_lists();
    a.person("Amina", "Haddad");
    a.ok_env(
        &["user", "add", "karim", "--role", "counsellor"],
        &[("MASAR_NEW_PASSWORD", KARIM_PASSWORD)],
    );
    let backup = org_dir(&a).join("good.masarbackup");
    a.ok(&["backup", "--out", s(&backup)]);
    let bytes = std::fs::read(&backup).expect("the backup");
    let work = tempfile::tempdir().expect("dir");
    let target = work.path().join("masar.db");
    let file = |name: &str, content: &[u8]| {
        let p = work.path().join(name);
        std::fs::write(&p, content).expect("write");
        p
    };
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"more");
    let cases: Vec<(&str, PathBuf, &str, &str, i32, &str)> = vec![
        (
            "truncated",
            file("truncated.masarbackup", &bytes[..bytes.len() - 100]),
            "admin",
            PASSWORD,
            4,
            "damaged or incomplete",
        ),
        (
            "one byte changed",
            file("flipped.masarbackup", &flipped),
            "admin",
            PASSWORD,
            4,
            "damaged or incomplete",
        ),
        (
            "bytes added",
            file("longer.masarbackup", &longer),
            "admin",
            PASSWORD,
            4,
            "damaged or incomplete",
        ),
        (
            "not a backup",
            file("notes.masarbackup", b"hello, this is not a backup at all"),
            "admin",
            PASSWORD,
            4,
            "is not a Masar backup",
        ),
        (
            "empty",
            file("empty.masarbackup", b""),
            "admin",
            PASSWORD,
            4,
            "is not a Masar backup",
        ),
        (
            "wrong password",
            backup.clone(),
            "admin",
            "not-the-password-1",
            3,
            "password",
        ),
        (
            "a counsellor",
            backup.clone(),
            "karim",
            KARIM_PASSWORD,
            3,
            "only an administrator",
        ),
    ];
    let newer = {
        let mut b = bytes.clone();
        b[8] = 9;
        file("newer.masarbackup", &b)
    };
    let mut cases = cases;
    cases.push((
        "a newer format",
        newer,
        "admin",
        PASSWORD,
        4,
        "newer version of Masar",
    ));
    cases.push((
        "missing",
        work.path().join("nowhere.masarbackup"),
        "admin",
        PASSWORD,
        5,
        "cannot be read",
    ));
    for (what, path, user, password, status, says) in &cases {
        let out = restore(path, &target, user, password, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*status), "{what}: {stderr}");
        assert!(stderr.contains(says), "{what}: {stderr}");
        assert!(out.stdout.is_empty(), "{what}");
        assert!(
            !target.exists() && !work.path().join("masar.db.keys").exists(),
            "{what} left a database"
        );
        let left: Vec<String> = std::fs::read_dir(work.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".masar-restore"))
            .collect();
        assert!(left.is_empty(), "{what} left {left:?}");
    }

    // A database at the target is never overwritten without --replace; with it, it is set
    // aside, still whole, and the backup takes its place.
    let other = Db::new();
    let other_digest = other.ok(&["digest"]);
    let out = restore(&backup, &other.path, "admin", PASSWORD, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replace"));
    assert_eq!(other.ok(&["digest"]), other_digest);
    let out = restore(&backup, &other.path, "admin", PASSWORD, &["--replace"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored: Value = serde_json::from_slice(&out.stdout).expect("json");
    let aside = PathBuf::from(restored["set_aside"].as_str().expect("set aside"));
    let old = Db::from_parts(tempfile::tempdir().expect("dir"), aside);
    assert_eq!(
        old.ok(&["digest"]),
        other_digest,
        "the set-aside database still opens, unchanged"
    );
    assert_eq!(
        other
            .ok(&["person", "list"])
            .as_array()
            .expect("list")
            .len(),
        1
    );

    // A backup never overwrites a file.
    let taken = a.fail(&["backup", "--out", s(&backup)]);
    assert!(taken.contains("never overwrites"), "{taken}");
}

/// A stranger holding the stick learns nothing from a backup: no name, phone or
/// organisation in clear, and without a password of the laptop it restores nothing.
#[test]
fn a_backup_holds_no_personal_data_in_clear() {
    let a = Db::new();
    a.ok(&[
        "person",
        "add",
        "--given",
        "Zeinab",
        "--family",
        "Qassem",
        "--sex",
        "female",
        "--born",
        "1990-01-01",
        "--nationality",
        "SYR",
        "--phone",
        "0677123456",
    ]);
    let backup = org_dir(&a).join("stick.masarbackup");
    a.ok(&["backup", "--out", s(&backup)]);
    let bytes = std::fs::read(&backup).expect("backup");
    for needle in [
        "Zeinab",
        "Qassem",
        "0677123456",
        "Test programme",
        "test-laptop",
        "SQLite format",
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} in clear"
        );
    }
}

/// `masar backup` into a folder keeps this laptop's newest backups up to the number
/// chosen, and never removes another laptop's.
#[test]
fn the_backup_folder_keeps_this_laptops_newest_and_leaves_anothers() {
    let a = Db::new();
    let folder = org_dir(&a).join("stick");
    std::fs::create_dir_all(&folder).expect("dir");
    let foreign = folder.join("masar-2020-01-01-000000-aaaaaaaaaaaa.masarbackup");
    std::fs::write(&foreign, b"another laptop's").expect("write");
    let mut made = Vec::new();
    for second in 0..4 {
        let at = format!("2024-06-01T10:00:0{second}Z");
        let out = run(
            &a.path,
            "admin",
            PASSWORD,
            &["--json", "backup", "--folder", s(&folder), "--keep", "2"],
            &[("MASAR_CLOCK", &at)],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let done: Value = serde_json::from_slice(&out.stdout).expect("json");
        made.push(done["file"].as_str().expect("file").to_string());
        let removed = done["removed"].as_array().expect("removed").len();
        assert_eq!(removed, usize::from(second >= 2), "backup {second}: {done}");
    }
    let mut left: Vec<String> = std::fs::read_dir(&folder)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path().display().to_string())
        .collect();
    left.sort();
    let mut expected = vec![
        made[2].clone(),
        made[3].clone(),
        foreign.display().to_string(),
    ];
    expected.sort();
    assert_eq!(left, expected);
    // Without --folder, the folder chosen last time.
    let again = run(
        &a.path,
        "admin",
        PASSWORD,
        &["--json", "backup"],
        &[("MASAR_CLOCK", "2024-06-01T10:00:09Z")],
    );
    assert!(again.status.success());
    let done: Value = serde_json::from_slice(&again.stdout).expect("json");
    assert!(
        done["file"]
            .as_str()
            .is_some_and(|f| f.starts_with(s(&folder))),
        "{done}"
    );
}
