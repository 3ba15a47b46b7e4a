//! Merge benchmark: 50 bundles of about 10,000 field changes each, imported into one
//! database, against the floor of inserting the same number of rows into a bare SQLite
//! table; then the re-import of all 50. Prints a table of figures and ratios.
//!
//! Every change carries its author's signature: a laptop signs each write (a commit), and
//! the merge checks every commit's signature in one batch. By default each laptop imports
//! its persons from one CSV file (one commit per laptop); with `per-person` each person is
//! registered by hand (one commit per person, as counsellors work), so the merge checks
//! as many signatures as there are persons.
//!
//! Run: `cargo run --release -p masar-benches --bin sync-merge [BUNDLES] [PERSONS_PER_BUNDLE] [per-person]`

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use masar_benches::{peak_rss_mib, person_fields};
use masar_core::{Masar, SystemClock};

const PASSWORD: &str = "benchmark-password";
const PASSPHRASE: &str = "benchmark-passphrase";

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bundles: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let persons: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let per_person = args.get(3).is_some_and(|a| a == "per-person");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let clock = Arc::new(SystemClock);
    let (mut founder, _) = Masar::init(
        &dir.path().join("founder.db"),
        "Bench",
        "founder",
        "admin",
        PASSWORD,
        clock.clone(),
    )
    .expect("init");

    eprintln!("preparing {bundles} laptops with {persons} persons each…");
    let t = Instant::now();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut changes = 0u64;
    for i in 0..bundles {
        let enrol = dir.path().join(format!("l{i}.enrol"));
        founder.enrol(&enrol, PASSPHRASE, None).expect("enrol");
        let bytes = std::fs::read(&enrol).expect("read enrolment");
        let (mut laptop, _) = Masar::join(
            &dir.path().join(format!("l{i}.db")),
            &bytes,
            PASSPHRASE,
            &format!("l{i}"),
            "admin",
            PASSWORD,
            clock.clone(),
        )
        .expect("join");
        if per_person {
            for p in 0..persons {
                let fields = person_fields(
                    format!("Given{i}x{p}"),
                    format!("Family{p}"),
                    format!("06{i:02}{p:06}"),
                    format!("250-{i:02}C{p:05}"),
                );
                laptop
                    .add_person(masar_core::NewPerson {
                        fields: masar_core::Fields(fields.to_vec()),
                        intake_date: None,
                    })
                    .expect("person");
            }
        } else {
            let mut csv = String::from("given,family,sex,born,nationality,city,phone,unhcr_id\n");
            for p in 0..persons {
                csv.push_str(&format!("Given{i}x{p},Family{p},female,1990-01-01,SYR,Rabat,06{i:02}{p:06},250-{i:02}C{p:05}\n"));
            }
            laptop.import_persons_csv(csv.as_bytes()).expect("persons");
        }
        let out = dir.path().join(format!("l{i}.masar"));
        changes += laptop
            .export_bundle(&out, false, &[], |_| {})
            .expect("export")
            .changes;
        files.push(out);
    }
    eprintln!("prepared in {:.1} s", secs(t.elapsed()));
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();

    // The merge.
    let enrol = dir.path().join("supervisor.enrol");
    founder.enrol(&enrol, PASSPHRASE, None).expect("enrol");
    let enrol = std::fs::read(&enrol).expect("read");
    let (mut supervisor, _) = Masar::join(
        &dir.path().join("supervisor.db"),
        &enrol,
        PASSPHRASE,
        "supervisor",
        "admin",
        PASSWORD,
        clock.clone(),
    )
    .expect("join");
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    // The peak from here on is the merge's, not the preparation's (Linux: "5" resets it).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let t = Instant::now();
    let merged = supervisor.import_bundles(&paths, |_| {}).expect("merge");
    let merge = t.elapsed();
    let rss_after_merge = peak_rss_mib();

    let t = Instant::now();
    let again = supervisor
        .import_bundles(&paths, |_| {})
        .expect("re-import");
    let reimport = t.elapsed();
    assert_eq!(again.applied, 0);

    let commits = if per_person {
        bundles * persons
    } else {
        bundles
    };
    let signatures = batch_verify(commits, (merged.applied as usize / commits.max(1)).max(1));
    let floor = bare_insert(&dir.path().join("bare.db"), None, merged.applied);
    let floor_encrypted = bare_insert(
        &dir.path().join("bare-encrypted.db"),
        Some(KEY),
        merged.applied,
    );
    let log_floor = log_insert(&dir.path().join("log-encrypted.db"), merged.applied);

    println!("| measure | value |");
    println!("| --- | --- |");
    println!("| bundles | {bundles} |");
    println!("| field changes carried | {changes} |");
    println!("| signed commits checked | {commits} |");
    println!("| changes applied by the merge | {} |", merged.applied);
    println!(
        "| bundle bytes in all | {bytes} ({:.1} bytes per change) |",
        bytes as f64 / changes.max(1) as f64
    );
    println!(
        "| merge of all bundles | {:.3} s ({:.0} changes/s) |",
        secs(merge),
        merged.applied as f64 / secs(merge)
    );
    println!(
        "| floor: same rows into a bare SQLite table | {:.3} s |",
        secs(floor)
    );
    println!(
        "| floor: same rows into a bare table of an encrypted (SQLCipher) file | {:.3} s |",
        secs(floor_encrypted)
    );
    println!(
        "| merge / bare floor | {:.2}× (goal ≤ 3×) |",
        secs(merge) / secs(floor)
    );
    println!(
        "| merge / encrypted floor | {:.2}× |",
        secs(merge) / secs(floor_encrypted)
    );
    println!("| the same rows into the log's own layout (its row and three indexes), encrypted | {:.3} s |", secs(log_floor));
    println!(
        "| merge / log layout | {:.2}× |",
        secs(merge) / secs(log_floor)
    );
    println!("| signature checks alone: the same number of commits, one batch | {:.3} s ({:.1}% of the merge) |", secs(signatures), 100.0 * secs(signatures) / secs(merge));
    println!("| re-import of all bundles | {:.3} s |", secs(reimport));
    println!(
        "| re-import / merge | {:.2}% (goal ≤ 1%) |",
        100.0 * secs(reimport) / secs(merge)
    );
    println!("| peak memory during the merge | {rss_after_merge:.0} MiB (goal < 200 MB) |");
}

/// Verifies `commits` ed25519 signatures, each over the digests of `changes` changes, in one
/// batch as an import does; returns how long the verification took.
fn batch_verify(commits: usize, changes: usize) -> Duration {
    use ed25519_dalek::{Signer, SigningKey};
    let key = SigningKey::from_bytes(&[7; 32]);
    let messages: Vec<Vec<u8>> = (0..commits)
        .map(|i| (0..changes * 32).map(|b| (b ^ i) as u8).collect())
        .collect();
    let signatures: Vec<ed25519_dalek::Signature> = messages.iter().map(|m| key.sign(m)).collect();
    let keys = vec![key.verifying_key(); commits];
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let t = Instant::now();
    ed25519_dalek::verify_batch(&refs, &signatures, &keys).expect("valid signatures");
    t.elapsed()
}

/// The raw key of the encrypted floors.
const KEY: &str = "x'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'";

/// Inserts `rows` rows shaped like schema 7's `change_log` rows (local numbers, a salt for
/// half of them) into a table with its three indexes, in an encrypted file, in one
/// transaction: what storing the merged changes costs before checking, settling and
/// showing them.
fn log_insert(path: &Path, rows: u64) -> Duration {
    let mut db = rusqlite::Connection::open(path).expect("log");
    db.pragma_update(None, "key", KEY).expect("key");
    db.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, hlc INTEGER NOT NULL, device INTEGER NOT NULL, entity TEXT NOT NULL,
                           record INTEGER NOT NULL, field TEXT NOT NULL, creates INTEGER, head INTEGER, by_cert INTEGER, frontier INTEGER,
                           commit_n INTEGER, commit_pos INTEGER, value TEXT, salt BLOB);
         CREATE UNIQUE INDEX log_identity ON log(device, hlc);
         CREATE INDEX log_record ON log(record);
         CREATE INDEX log_commit ON log(commit_n);",
    )
    .expect("schema");
    let t = Instant::now();
    {
        let tx = db.transaction().expect("tx");
        {
            let mut stmt = tx.prepare("INSERT INTO log(hlc, device, entity, record, field, creates, head, by_cert, frontier, commit_n, commit_pos, value, salt)
                                       VALUES (?1, ?2, 'person', ?3, 'given', 1, 1, 1, 0, ?4, ?5, ?6, ?7)").expect("prepare");
            for n in 0..rows as i64 {
                let salt = (n % 2 == 0).then_some([7u8; 16]);
                stmt.execute(rusqlite::params![
                    n,
                    1 + n / 10_000,
                    n / 10,
                    1 + n / 10_000,
                    n % 10_000,
                    format!("\"Given{n}\""),
                    salt
                ])
                .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    t.elapsed()
}

/// Inserts `rows` rows shaped like change-log rows into a bare table, in one transaction,
/// with the store's own durability settings; returns how long it took.
fn bare_insert(path: &Path, key: Option<&str>, rows: u64) -> Duration {
    let mut bare = rusqlite::Connection::open(path).expect("bare");
    if let Some(k) = key {
        bare.pragma_update(None, "key", k).expect("key");
    }
    bare.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE t (hlc INTEGER, device TEXT, entity TEXT, record TEXT, field TEXT, value TEXT);")
        .expect("schema");
    let t = Instant::now();
    {
        let tx = bare.transaction().expect("tx");
        {
            let mut stmt = tx
                .prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .expect("prepare");
            for n in 0..rows {
                stmt.execute(rusqlite::params![
                    n as i64,
                    "01939d6e-0000-7000-8000-000000000000",
                    "person",
                    format!("01939d6e-{n:04x}-7000-8000-000000000000"),
                    "given",
                    format!("\"Given{n}\""),
                ])
                .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    t.elapsed()
}
