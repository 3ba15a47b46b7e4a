//! Keys in custody (issue 21, item 7), attacked from outside the organisation: a finder of
//! an enrolment file, and a thief of a key file written by an earlier version. Each test
//! says what the attacker can still do, and asserts what holds.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{run, Db};

/// The environment variable that lowers the key file's cost in debug builds; empty here,
/// so that these tests see the cost a release build uses.
const FULL_COST: (&str, &str) = (masar_core::DEBUG_KDF_COST_VAR, "");

fn enrol(db: &Db, out: &Path, passphrase: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut all = env.to_vec();
    all.push(("MASAR_ENROL_PASSPHRASE", passphrase));
    run(
        &db.path,
        &db.user,
        &db.password,
        &["--json", "enrol", "--out", out.to_str().expect("utf-8")],
        &all,
    )
}

#[test]
fn a_weak_enrolment_passphrase_is_refused_with_the_passwords_reason_and_no_file_is_written() {
    let db = Db::new();
    let out = db.dir().join("laptop.enrol");
    // Common words, a short one, digits, the organisation's own name: each would fall
    // quickly to a finder guessing offline.
    for weak in ["password", "12345678", "Test programme", "short"] {
        let done = enrol(&db, &out, weak, &[]);
        let err = String::from_utf8_lossy(&done.stderr);
        assert_eq!(
            done.status.code(),
            Some(3),
            "{weak}: the exit status of a weak password: {err}"
        );
        assert!(
            err.contains("the enrolment passphrase is too"),
            "{weak}: {err}"
        );
        assert!(!out.exists(), "{weak}: a refused enrolment wrote a file");
    }
    // The device it would have enrolled is not known either.
    let devices = db.ok(&["device", "list"]);
    assert_eq!(devices.as_array().map(Vec::len), Some(1), "{devices}");
    let done = enrol(&db, &out, crate::sync::PASSPHRASE, &[]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
}

/// The argon2id cost in an enrolment file's header: version, memory (KiB), passes.
fn header(bytes: &[u8]) -> (u16, u32, u32) {
    assert_eq!(&bytes[..8], b"MASARENR");
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (u16::from_le_bytes([bytes[8], bytes[9]]), word(10), word(14))
}

#[test]
fn a_found_expired_enrolment_file_joins_nothing_and_costs_each_guess_64_mib_and_3_passes() {
    let db = Db::new();
    let file = db.dir().join("found-on-a-stick.enrol");
    let made = enrol(
        &db,
        &file,
        crate::sync::PASSPHRASE,
        &[("MASAR_CLOCK", "2024-06-01")],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let bytes = std::fs::read(&file).expect("the enrolment file");
    // What the finder holds: a file whose header names the cost of every guess, bound to
    // the ciphertext (lowering it in the header only breaks the file: `sync/keys.rs` tests).
    assert_eq!(header(&bytes), (3, 64 * 1024, 3));
    for secret in [
        b"Test programme".as_slice(),
        crate::sync::PASSPHRASE.as_bytes(),
    ] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "the file names its organisation or passphrase in clear"
        );
    }
    let join = |passphrase: &str, clock: &str| {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("finder.db");
        let out = run(
            &path,
            "finder",
            "the finder's own long password",
            &[
                "--json",
                "init",
                "--join",
                file.to_str().expect("utf-8"),
                "--device",
                "finder",
            ],
            &[
                ("MASAR_ENROL_PASSPHRASE", passphrase),
                ("MASAR_CLOCK", clock),
            ],
        );
        assert!(
            !out.status.success(),
            "the finder joined with passphrase '{passphrase}' on {clock}"
        );
        assert!(!path.exists(), "a refused join left a database");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // Found a month later: even with the passphrase, Masar refuses to join with it.
    let e = join(crate::sync::PASSPHRASE, "2024-07-01");
    assert!(e.contains("expired on 2024-06-08"), "{e}");
    // Without it, every guess is refused alike, expired or not.
    let e = join("a guessed passphrase", "2024-06-02");
    assert!(e.contains("wrong passphrase"), "{e}");
    // What the finder can still do, said plainly: the expiry is checked by the joining
    // code, not by the cryptography. Guessing the passphrase offline with their own
    // program, at the cost above, would give them the organisation's root key the file
    // carries (`sync/keys.rs::an_expired_file_still_opens_with_its_passphrase_outside_masar`).
    // What makes that guessing long is the passphrase policy (the test above) and the
    // cost per guess; removing the root key from enrolment files is the cure (not yet done).
}

fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    let dir = tempfile::tempdir().expect("a temporary folder");
    for file in ["masar.db", "masar.db.keys"] {
        std::fs::copy(src.join(file), dir.path().join(file)).expect("copy the fixture");
    }
    let db = dir.path().join("masar.db");
    (dir, db)
}

/// Each entry of the key file beside `db`: user, memory (KiB), passes.
fn entries(db: &Path) -> Vec<(String, u64, u64)> {
    let text = std::fs::read_to_string(db.with_extension("db.keys")).expect("the key file");
    let file: Value = serde_json::from_str(&text).expect("json");
    file["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["user"].as_str().unwrap_or_default().to_string(),
                e["memory_kib"].as_u64().unwrap_or(0),
                e["passes"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn a_key_file_of_the_former_cost_opens_and_its_entry_is_wrapped_at_64_mib_at_the_first_log_in() {
    const FIXTURE_PASSWORD: &str = "fixture-password";
    // A key file written by an earlier version (the schema-9 fixture), at 19 MiB, 2 passes:
    // a thief holding it guesses about five times faster than against a new one.
    let (dir, db) = fixture_copy("schema-v9");
    assert_eq!(entries(&db), vec![("admin".to_string(), 19 * 1024, 2)]);
    let status = |password: &str| run(&db, "admin", password, &["--json", "status"], &[FULL_COST]);
    let wrong_before = status("wrong password");
    assert_eq!(wrong_before.status.code(), Some(3));
    assert_eq!(
        entries(&db),
        vec![("admin".to_string(), 19 * 1024, 2)],
        "a wrong password changes nothing"
    );
    let first = status(FIXTURE_PASSWORD);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // After one log-in, the entry is wrapped at the current cost, and still opens.
    assert_eq!(entries(&db), vec![("admin".to_string(), 64 * 1024, 3)]);
    let again = status(FIXTURE_PASSWORD);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let first: Value = serde_json::from_slice(&first.stdout).expect("json");
    let again: Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(first["org_id"], again["org_id"]);
    // A wrong password fails as it did, with the same words and status.
    let wrong_after = status("wrong password");
    assert_eq!(wrong_after.status.code(), wrong_before.status.code());
    assert_eq!(
        String::from_utf8_lossy(&wrong_after.stderr),
        String::from_utf8_lossy(&wrong_before.stderr)
    );
    assert!(String::from_utf8_lossy(&wrong_after.stderr).contains("wrong user name or password"));
    // The key file was replaced whole: nothing half-written or temporary is left beside it.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("masar.db.keys"))
        .collect();
    names.sort();
    assert_eq!(names, vec!["masar.db.keys".to_string()]);
}

#[test]
fn a_new_database_and_a_new_user_get_the_current_cost_in_every_build() {
    // Made with the full cost, as a release build makes them.
    let dir = tempfile::tempdir().expect("a folder");
    let db = dir.path().join("masar.db");
    let out = run(
        &db,
        "admin",
        crate::common::PASSWORD,
        &["--json", "init", "--org", "Org", "--device", "d"],
        &[FULL_COST],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &db,
        "admin",
        crate::common::PASSWORD,
        &["--json", "user", "add", "karim", "--role", "counsellor"],
        &[FULL_COST, ("MASAR_NEW_PASSWORD", "karim tailors in Oujda")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut found = entries(&db);
    found.sort();
    assert_eq!(
        found,
        vec![
            ("admin".to_string(), 64 * 1024, 3),
            ("karim".to_string(), 64 * 1024, 3)
        ]
    );
}
