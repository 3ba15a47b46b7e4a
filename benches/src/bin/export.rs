//! Export benchmark (W5): a laptop's new changes as a bundle — 1,000 persons registered
//! one by one, about 10,000 changes in 1,000 signed commits — and then the whole log of a
//! laptop of 100,000 persons, with its peak memory. The floor is writing the same number
//! of bytes to a new file and syncing it, which any export must at least do. Prints a
//! table of figures and ratios.
//!
//! Run: `cargo run --release -p masar-benches --bin export [PERSONS_BY_HAND] [PERSONS_IN_LOG]`

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use masar_benches::{peak_rss_mib, person_fields};
use masar_core::{Masar, SystemClock};

fn write_floor(path: &std::path::Path, bytes: u64) -> Duration {
    let data = vec![0x5au8; bytes as usize];
    let t = Instant::now();
    let mut f = std::fs::File::create(path).expect("file");
    f.write_all(&data).expect("write");
    f.sync_all().expect("sync");
    t.elapsed()
}

fn main() {
    let by_hand: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000);
    let in_log: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut m, _) = Masar::init(
        &dir.path().join("laptop.db"),
        "Bench",
        "laptop",
        "admin",
        "benchmark-password",
        Arc::new(SystemClock),
    )
    .expect("init");
    for p in 0..by_hand {
        let fields = person_fields(
            format!("Given{p}"),
            format!("Family{p}"),
            format!("06{p:08}"),
            format!("250-00C{p:05}"),
        );
        m.add_person(masar_core::NewPerson {
            fields: masar_core::Fields(fields.to_vec()),
            intake_date: None,
        })
        .expect("person");
    }
    let t = Instant::now();
    let small = m
        .export_bundle(&dir.path().join("small.masar"), false, &[], |_| {})
        .expect("export");
    let small_time = t.elapsed();
    let small_floor = write_floor(&dir.path().join("small.floor"), small.bytes);

    eprintln!("registering {in_log} persons for the whole log…");
    for chunk in (0..in_log).collect::<Vec<_>>().chunks(10_000) {
        let mut csv = String::from("given,family,sex,born,nationality,city,phone,unhcr_id\n");
        for &i in chunk {
            csv.push_str(&format!(
                "G{i},F{i},female,1990-01-01,SYR,Oujda,07{i:08},250-01C{i:05}\n"
            ));
        }
        m.import_persons_csv(csv.as_bytes()).expect("persons");
    }
    let before = peak_rss_mib();
    let t = Instant::now();
    let whole = m
        .export_bundle(&dir.path().join("whole.masar"), true, &[], |_| {})
        .expect("export");
    let whole_time = t.elapsed();
    let after = peak_rss_mib();
    let whole_floor = write_floor(&dir.path().join("whole.floor"), whole.bytes);

    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| new changes of {by_hand} persons registered by hand | {} changes |",
        small.changes
    );
    println!(
        "| their export | {:.1} ms (goal < 200 ms) |",
        small_time.as_secs_f64() * 1000.0
    );
    println!(
        "| bytes per change | {:.1} (goal ≤ 30) |",
        small.bytes as f64 / small.changes.max(1) as f64
    );
    println!(
        "| floor: the same bytes written and synced | {:.1} ms |",
        small_floor.as_secs_f64() * 1000.0
    );
    println!(
        "| export / floor | {:.0}× |",
        small_time.as_secs_f64() / small_floor.as_secs_f64()
    );
    println!(
        "| whole log ({} persons) | {} changes, {} bytes ({:.1} per change) |",
        by_hand + in_log,
        whole.changes,
        whole.bytes,
        whole.bytes as f64 / whole.changes.max(1) as f64
    );
    println!("| its export | {:.2} s |", whole_time.as_secs_f64());
    println!(
        "| floor: the same bytes written and synced | {:.3} s |",
        whole_floor.as_secs_f64()
    );
    println!("| peak memory before / after the whole export | {before:.0} / {after:.0} MiB (goal < 200 MB) |");
}
