//! Databases made by earlier schemas (the first, and the sixth: the last before the change
//! log was stored compactly) open with this version, upgraded in place, with their data
//! and their log intact and the same schema as a new database.

use std::path::PathBuf;
use std::sync::Arc;

use masar_core::{Masar, SystemClock};

use crate::common::{run, Db};

const FIXTURE_PASSWORD: &str = "fixture-password";

fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    copy_of("schema-v1")
}

fn copy_of(fixture: &str) -> (tempfile::TempDir, PathBuf) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(fixture);
    let dir = tempfile::tempdir().expect("a temporary folder");
    for name in ["masar.db", "masar.db.keys"] {
        std::fs::copy(src.join(name), dir.path().join(name)).expect("copy the fixture");
    }
    let db = dir.path().join("masar.db");
    (dir, db)
}

/// The fixture's admin runs `masar --json ARGS` on `db`; the answer, which must succeed.
fn fixture_json(db: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = run(db, "admin", FIXTURE_PASSWORD, &all, &[]);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn a_database_made_by_schema_1_opens_with_its_data_and_accepts_new_work() {
    let (_dir, db) = fixture_copy();
    let json = |args: &[&str]| fixture_json(&db, args);
    let status = json(&["status"]);
    assert_eq!(status["org_name"], "Fixture programme");
    assert_eq!(status["schema_version"], masar_core::SCHEMA_VERSION);
    let found = json(&["person", "list", "--search", "فكسجر"]);
    let person = &found[0];
    assert_eq!(person["given"], "Fixture");
    assert_eq!(person["born"], "1990-02-03");
    assert_eq!(person["phone"], "0600000001");
    let report = json(&[
        "report",
        "indicators",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
    ]);
    let ind = &report["indicators"];
    assert_eq!(ind["welcomed"], 1);
    assert_eq!(ind["sensitised"], 1);
    assert_eq!(ind["projects_funded"], 1);
    assert_eq!(ind["amount_disbursed"]["MAD"], "600.50");
    assert_eq!(ind["followups_overdue"], 1);
    let id = person["id"].as_str().expect("id");
    json(&["person", "set", id, "city=Oujda"]);
    assert_eq!(json(&["person", "get", id])["city"], "Oujda");
}

#[test]
fn an_upgraded_database_has_the_same_schema_as_a_new_one() {
    let (_dir, old) = fixture_copy();
    let upgraded = Masar::open(&old, "admin", FIXTURE_PASSWORD, Arc::new(SystemClock))
        .expect("the fixture opens");
    let fresh = Db::new();
    let new = Masar::open(
        &fresh.path,
        &fresh.user,
        &fresh.password,
        Arc::new(SystemClock),
    )
    .expect("a new database opens");
    assert_eq!(
        upgraded.schema_sql().expect("schema"),
        new.schema_sql().expect("schema")
    );
}

#[test]
fn the_history_of_an_upgraded_database_is_signed_on_upgrade_and_travels() {
    let (dir, db) = fixture_copy();
    let fixture = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = run(&db, "admin", FIXTURE_PASSWORD, &all, env);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    // Changes made before changes were signed are signed at the upgrade, under the root's
    // archive certificate, so another laptop can check them.
    let enrol = dir.path().join("new.enrol");
    fixture(
        &["enrol", "--out", enrol.to_str().expect("utf-8")],
        &[("MASAR_ENROL_PASSPHRASE", crate::sync::PASSPHRASE)],
    );
    let bundle = dir.path().join("all.masar");
    fixture(
        &[
            "bundle",
            "export",
            "--full",
            "--out",
            bundle.to_str().expect("utf-8"),
        ],
        &[],
    );
    let laptop = Db::joined(&enrol, "new-laptop");
    let r = laptop.ok(&["bundle", "import", bundle.to_str().expect("utf-8")]);
    assert!(r["applied"].as_u64().is_some_and(|n| n > 10), "{r}");
    let found = laptop.ok(&["person", "list", "--search", "Fixture"]);
    assert_eq!(found[0]["phone"], "0600000001");
    let history = laptop.ok(&["history", found[0]["id"].as_str().expect("id")]);
    assert!(
        history
            .as_array()
            .is_some_and(|h| h.iter().all(|c| c["user"] == "admin")),
        "the authors' names are kept: {history}"
    );
}

#[test]
fn a_database_made_by_schema_6_gives_back_the_same_log_and_its_changes_still_check_elsewhere() {
    gives_back_the_same_log_and_its_changes_still_check_elsewhere("schema-v6");
}

/// Schema 9 is the one the first release (0.1.0) writes: every later version opens its file.
#[test]
fn a_database_made_by_schema_9_the_first_release_gives_back_the_same_log_and_travels() {
    gives_back_the_same_log_and_its_changes_still_check_elsewhere("schema-v9");
}

/// A fixture made by `tests/fixtures/make-schema.sh` at an earlier schema answers as the
/// build that made it did, and its history travels to a laptop of this build.
fn gives_back_the_same_log_and_its_changes_still_check_elsewhere(name: &str) {
    let (_dir, db) = copy_of(name);
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    let json = |args: &[&str]| fixture_json(&db, args);
    let expected = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(fixture.join(name)).expect("an expected answer"))
            .expect("json")
    };
    // What the earlier build answered from this file, the upgraded file answers alike:
    // authors, wall times (one of them not the time of its stamp), devices, blanked values.
    assert_eq!(
        json(&["status"])["schema_version"],
        masar_core::SCHEMA_VERSION
    );
    let conflicts = json(&["conflicts", "list"]);
    assert_eq!(conflicts, expected("conflicts.json"));
    assert_eq!(json(&["digest"]), expected("digest.json"));
    let history = |name: &str| {
        expected(name).as_array().expect("a history")[0]["record"]
            .as_str()
            .expect("an id")
            .to_string()
    };
    for name in [
        "history-person.json",
        "history-erased.json",
        "history-project.json",
    ] {
        assert_eq!(json(&["history", &history(name)]), expected(name), "{name}");
    }
    // Every change still carries its author's signature: a new laptop checks them all.
    let (laptop, _) = crate::sync::joined_from_fixture(name);
    let bundle = laptop.dir().join("all.masar");
    json(&[
        "bundle",
        "export",
        "--full",
        "--out",
        bundle.to_str().expect("utf-8"),
    ]);
    let r = laptop.ok(&["bundle", "import", bundle.to_str().expect("utf-8")]);
    assert!(r["applied"].as_u64().is_some_and(|n| n > 30), "{r}");
    assert_eq!(laptop.ok(&["digest"]), expected("digest.json"));
    assert_eq!(laptop.ok(&["conflicts", "list"]), conflicts);
    // And the upgraded file takes new work, which travels too.
    let person = history("history-person.json");
    json(&["person", "set", &person, "city=Tanger"]);
    let more = laptop.dir().join("more.masar");
    json(&["bundle", "export", "--out", more.to_str().expect("utf-8")]);
    laptop.ok(&["bundle", "import", more.to_str().expect("utf-8")]);
    assert_eq!(laptop.ok(&["person", "get", &person])["city"], "Tanger");
    assert_eq!(laptop.ok(&["digest"]), json(&["digest"]));
}
