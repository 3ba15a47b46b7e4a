//! A national programme's log through one bundle, under a memory cap: export and import
//! stream their changes, so neither holds them whole.

use std::os::unix::process::CommandExt;
use std::process::Stdio;

use crate::common::Db;
use crate::sync::Org;

/// The address space the `masar` process may reserve: code, libraries, SQLite's cache and
/// what the command holds. Holding two million changes whole took about 1.6 KiB each
/// (format 2, before streaming): three gigabytes.
const CAP_BYTES: u64 = 256 << 20;
/// The resident memory the issue asks of export and import, whatever the bundle's size.
const GOAL_BYTES: u64 = 200 << 20;

/// Runs `masar --json ARGS` on `db` with its address space capped; returns its JSON
/// answer and its peak resident memory in bytes.
fn capped(db: &Db, args: &[&str]) -> (serde_json::Value, u64) {
    let (text, peak) = capped_text(db, args);
    let answer =
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("no JSON ({e}): {text}"));
    (answer, peak)
}

/// Runs `masar --json ARGS` on `db` with its address space capped; returns what it wrote
/// on stdout and its peak resident memory in bytes.
///
/// The peak is measured by GNU time, which forks masar from its own small process: a
/// process's peak includes what it held before it ran masar, and a child forked or
/// spawned from this test's process (hundreds of megabytes in a whole run) would count
/// the test's memory as masar's.
fn capped_text(db: &Db, args: &[&str]) -> (String, u64) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (out, err, peak) = (
        dir.path().join("out"),
        dir.path().join("err"),
        dir.path().join("peak"),
    );
    let template = crate::common::masar_command();
    let mut cmd = std::process::Command::new("/usr/bin/time");
    cmd.arg("--format=%M")
        .arg("--output")
        .arg(&peak)
        .arg(template.get_program());
    for (key, value) in template.get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    cmd.env_remove("MASAR_CLOCK")
        .env("MASAR_DB", &db.path)
        .env("MASAR_USER", &db.user)
        .env("MASAR_PASSWORD", &db.password)
        .args(template.get_args())
        .arg("--json")
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("out"))
        .stderr(std::fs::File::create(&err).expect("err"));
    let cap = libc::rlimit {
        rlim_cur: CAP_BYTES as libc::rlim_t,
        rlim_max: CAP_BYTES as libc::rlim_t,
    };
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else. The cap
    // passes from time to masar.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_AS, &cap) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let status = cmd.status().expect("GNU time runs masar");
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    assert!(
        status.success(),
        "masar {args:?} failed under a {} MiB cap: {stderr}",
        CAP_BYTES >> 20
    );
    let peak_kib: u64 = std::fs::read_to_string(&peak)
        .expect("GNU time's figure")
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("a peak in KiB");
    (
        std::fs::read_to_string(&out).expect("stdout"),
        peak_kib * 1024,
    )
}

/// Two million changes (222,223 persons of nine fields each, registered from a CSV file
/// in the debug build CI runs) go from one laptop to another through one bundle; each
/// side runs with its address space capped at 256 MiB and stays under 200 MB resident,
/// and so do listing every person and exporting them all to CSV (issue 11).
#[test]
fn two_million_changes_are_exported_and_imported_under_a_memory_cap_with_equal_digests() {
    let org = Org::new(2);
    let (founder, laptop) = (&org.laptops[0], &org.laptops[1]);
    let csv = founder.dir().join("national.csv");
    let mut text = String::from("given,family,sex,born,nationality,phone,unhcr_id\n");
    for i in 0..222_223 {
        text.push_str(&format!(
            "Given{i},Fam{},female,1990-01-01,SYR,06{i:08},250-{i:06}C\n",
            i % 100
        ));
    }
    std::fs::write(&csv, text).expect("csv");
    founder.ok(&["import", "persons", csv.to_str().expect("utf-8")]);
    let bundle = org.bundle_path();
    let (exported, export_peak) = capped(
        founder,
        &[
            "bundle",
            "export",
            "--full",
            "--out",
            bundle.to_str().expect("utf-8"),
        ],
    );
    let changes = exported["changes"].as_u64().expect("changes");
    assert!(changes >= 2_000_000, "{exported}");
    let (imported, import_peak) = capped(
        laptop,
        &["bundle", "import", bundle.to_str().expect("utf-8")],
    );
    assert_eq!(imported["applied"].as_u64(), Some(changes), "{imported}");
    eprintln!(
        "{changes} changes: export peak {} MiB, import peak {} MiB",
        export_peak >> 20,
        import_peak >> 20
    );
    assert!(
        export_peak < GOAL_BYTES,
        "export peak {} MiB",
        export_peak >> 20
    );
    assert!(
        import_peak < GOAL_BYTES,
        "import peak {} MiB",
        import_peak >> 20
    );
    assert_eq!(
        founder.ok(&["digest"]),
        laptop.ok(&["digest"]),
        "both laptops show the same"
    );
    assert_eq!(laptop.ok(&["status"])["persons"], 222_223);
    // The whole register listed (about 110 MB of JSON) is written as it is read.
    let (list, list_peak) = capped_text(laptop, &["person", "list"]);
    eprintln!(
        "person list: {} MB written, peak {} MiB",
        list.len() >> 20,
        list_peak >> 20
    );
    assert!(
        list.starts_with("[{") && list.ends_with("}]\n"),
        "one JSON array"
    );
    assert_eq!(list.matches("\"unhcr_id\":").count(), 222_223);
    assert!(
        list_peak < GOAL_BYTES,
        "person list peak {} MiB",
        list_peak >> 20
    );
    // The whole register exported to CSV, pseudonymised: written as it is read.
    let csv_out = org.bundle_path().with_extension("csv");
    let (done, export_csv_peak) = capped(
        laptop,
        &[
            "export",
            "--format",
            "csv",
            "--what",
            "persons",
            "--pseudonymise",
            "--out",
            csv_out.to_str().expect("utf-8"),
        ],
    );
    eprintln!(
        "persons exported to CSV: {} rows, peak {} MiB",
        done["rows"],
        export_csv_peak >> 20
    );
    assert_eq!(done["rows"], 222_223, "{done}");
    assert!(
        export_csv_peak < GOAL_BYTES,
        "CSV export peak {} MiB",
        export_csv_peak >> 20
    );
}
