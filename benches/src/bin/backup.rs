//! Backup benchmark: a laptop of 100,000 persons (registered from CSV files with their
//! intakes) backed up while in use, then restored. The floor is copying the database file
//! and its key file with the file system and syncing the copy, which any backup must at
//! least do; a restore must at least read and write the same bytes. Prints a table of
//! figures and ratios measured side by side in one run.
//!
//! Run: `cargo run --release -p masar-benches --bin backup [PERSONS]`

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use masar_benches::peak_rss_mib;
use masar_core::{Masar, SystemClock};

const PASSWORD: &str = "benchmark-password";

fn copy_floor(from: &Path, to: &Path) -> Duration {
    let t = Instant::now();
    std::fs::copy(from, to).expect("copy");
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .expect("sync");
    t.elapsed()
}

fn main() {
    let persons: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = dir.path().join("laptop.db");
    let (mut m, _) = Masar::init(
        &db,
        "Bench",
        "laptop",
        "admin",
        PASSWORD,
        Arc::new(SystemClock),
    )
    .expect("init");
    eprintln!("registering {persons} persons…");
    for chunk in (0..persons).collect::<Vec<_>>().chunks(10_000) {
        let mut csv =
            String::from("given,family,sex,born,nationality,city,phone,unhcr_id,intake_date\n");
        for &i in chunk {
            csv.push_str(&format!(
                "G{i},F{i},female,1990-01-01,SYR,Oujda,07{i:08},250-01C{i:05},2024-05-0{}\n",
                1 + i % 9
            ));
        }
        m.import_persons_csv(csv.as_bytes()).expect("persons");
    }
    m.integrity_check().expect("check");
    let db_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);

    let floor = copy_floor(&db, &dir.path().join("copy.db"));
    let before = peak_rss_mib();
    let t = Instant::now();
    let done = m
        .backup(&dir.path().join("laptop.masarbackup"))
        .expect("backup");
    let backup_time = t.elapsed();
    let after_backup = peak_rss_mib();
    drop(m);

    let t = Instant::now();
    let (restored, answer) = Masar::restore(
        &dir.path().join("laptop.masarbackup"),
        &dir.path().join("restored").join("laptop.db"),
        "admin",
        PASSWORD,
        false,
        Arc::new(SystemClock),
    )
    .expect("restore");
    let restore_time = t.elapsed();
    let after_restore = peak_rss_mib();
    assert_eq!(answer.persons as usize, persons);
    drop(restored);

    let mib = |b: u64| b as f64 / 1024.0 / 1024.0;
    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| database of {persons} persons with their intakes | {:.0} MiB |",
        mib(db_bytes)
    );
    println!("| backup file | {:.0} MiB |", mib(done.bytes));
    println!(
        "| floor: the file copied and synced | {:.2} s |",
        floor.as_secs_f64()
    );
    println!(
        "| backup (online copy, checksum, written and synced) | {:.2} s |",
        backup_time.as_secs_f64()
    );
    println!(
        "| backup / floor | {:.1}× |",
        backup_time.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "| restore (checked, unpacked, opened, integrity check, new identity, digest) | {:.2} s |",
        restore_time.as_secs_f64()
    );
    println!(
        "| restore / floor | {:.1}× |",
        restore_time.as_secs_f64() / floor.as_secs_f64()
    );
    println!("| peak memory before backup / after backup / after restore | {before:.0} / {after_backup:.0} / {after_restore:.0} MiB |");
}
