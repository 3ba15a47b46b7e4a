//! Log-in benchmark (issue 21, item 7): the key file's argon2id at the former cost
//! (19 MiB, 2 passes) and at the current one (64 MiB, 3 passes), side by side in one run.
//! For each: one derivation on one core, which is what one guess costs a thief holding the
//! key file (guesses per second per core = 1 / derivation time), the time to try 10^8
//! guesses (the least the password policy accepts) on 1 and on 64 cores, and the log-in
//! (`Masar::open`: the key file opened, then the database) a user waits for. The former
//! cost's log-in is timed as it was before the cost was raised (no re-wrapping); the first
//! log-in after the update, which wraps the entry again, is timed too.
//!
//! Run: `cargo run --release -p masar-benches --bin login [ROUNDS]` (default 20).

use std::sync::Arc;
use std::time::{Duration, Instant};

use masar_benches::ms;
use masar_core::bench::{cost_of, open_at, rewrap_at};
use masar_core::{KdfCost, Masar, SystemClock};

const PASSWORD: &str = "benchmark-password";

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// A duration of `seconds` in the largest unit that keeps it readable.
fn span(seconds: f64) -> String {
    let (minute, hour, day) = (60.0, 3600.0, 86_400.0);
    if seconds >= 2.0 * day {
        format!("{:.0} days", seconds / day)
    } else if seconds >= 2.0 * hour {
        format!("{:.0} hours", seconds / hour)
    } else {
        format!("{:.0} minutes", seconds / minute)
    }
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20)
        .max(1);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = dir.path().join("login.db");
    drop(
        Masar::init(
            &db,
            "Bench",
            "laptop",
            "admin",
            PASSWORD,
            Arc::new(SystemClock),
        )
        .expect("init"),
    );
    let salt = [7u8; 16];
    println!("| argon2id cost | derivation, 1 core (ms) | guesses/s/core | 10^8 guesses, 1 core | 10^8 guesses, 64 cores | log-in (ms) |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut first_after_update = Vec::new();
    for (name, cost) in [
        ("19 MiB × 2 (former)", KdfCost::FORMER),
        ("64 MiB × 3 (current)", KdfCost::CURRENT),
    ] {
        let mut derivations = Vec::new();
        for _ in 0..rounds {
            let t = Instant::now();
            cost.derive(PASSWORD.as_bytes(), &salt)
                .expect("an accepted cost");
            derivations.push(t.elapsed());
        }
        rewrap_at(&db, "admin", PASSWORD, cost).expect("wrap the entry at this cost");
        let mut logins = Vec::new();
        for _ in 0..rounds {
            let t = Instant::now();
            drop(open_at(&db, "admin", PASSWORD, cost).expect("log in"));
            logins.push(t.elapsed());
        }
        assert_eq!(
            cost_of(&db, "admin").expect("key file"),
            Some(cost),
            "the log-in kept the entry's cost"
        );
        let derivation = median(derivations).as_secs_f64();
        let rate = 1.0 / derivation;
        println!(
            "| {name} | {:.1} | {rate:.1} | {} | {} | {:.0} |",
            derivation * 1000.0,
            span(1e8 / rate),
            span(1e8 / rate / 64.0),
            ms(median(logins))
        );
    }
    // The first log-in after the update: the former entry opened, then wrapped again.
    for _ in 0..rounds.min(5) {
        rewrap_at(&db, "admin", PASSWORD, KdfCost::FORMER).expect("wrap at the former cost");
        let t = Instant::now();
        drop(Masar::open(&db, "admin", PASSWORD, Arc::new(SystemClock)).expect("log in"));
        first_after_update.push(t.elapsed());
        assert_eq!(
            cost_of(&db, "admin").expect("key file"),
            Some(KdfCost::CURRENT),
            "wrapped again"
        );
    }
    println!();
    println!("First log-in after the update (former entry opened, wrapped again at the current cost): {:.0} ms", ms(median(first_after_update)));
}
