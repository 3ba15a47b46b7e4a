//! Search benchmark (W3): persons in both scripts, twenty fragments (whole names, word
//! beginnings, fragments inside words, two letters, phones, UNHCR numbers), each asked for
//! one page of 20 as the window asks, many times; against the floor of reading one person
//! by id in the same database. Prints a table of figures and ratios.
//!
//! Run: `cargo run --release -p masar-benches --bin search [PERSONS]` (default 100,000).
//! With `SEARCH_DB=PATH` the persons are registered once there and later runs (of this
//! build or another) search the same file: two builds then differ by their query code
//! alone, not by the database each one built.

use std::sync::Arc;
use std::time::{Duration, Instant};

use masar_benches::ms;
use masar_core::{Masar, PersonQuery, SystemClock};

const GIVEN: [&str; 20] = [
    "Amina", "Omar", "Layla", "Karim", "Fatima", "Youssef", "Salma", "Hassan", "Nour", "Ibrahim",
    "Rania", "Khaled", "Hiba", "Samir", "Mariam", "Tarek", "Zainab", "Walid", "Dina", "Bilal",
];
const GIVEN_AR: [&str; 20] = [
    "أمينة",
    "عمر",
    "ليلى",
    "كريم",
    "فاطمة",
    "يوسف",
    "سلمى",
    "حسن",
    "نور",
    "إبراهيم",
    "رانيا",
    "خالد",
    "هبة",
    "سمير",
    "مريم",
    "طارق",
    "زينب",
    "وليد",
    "دينا",
    "بلال",
];
const FAMILY: [&str; 25] = [
    "Haddad", "Khatib", "Nasser", "Saleh", "Mansour", "Darwish", "Hamdan", "Qasim", "Jaber",
    "Rahman", "Azizi", "Barakat", "Chami", "Daher", "Fares", "Ghanem", "Habib", "Issa", "Jamal",
    "Kanaan", "Lahham", "Masri", "Najjar", "Othman", "Sabbagh",
];
const FAMILY_AR: [&str; 25] = [
    "حداد",
    "خطيب",
    "ناصر",
    "صالح",
    "منصور",
    "درويش",
    "حمدان",
    "قاسم",
    "جابر",
    "رحمن",
    "عزيزي",
    "بركات",
    "شامي",
    "ظاهر",
    "فارس",
    "غانم",
    "حبيب",
    "عيسى",
    "جمال",
    "كنعان",
    "لحام",
    "مصري",
    "نجار",
    "عثمان",
    "صباغ",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let persons: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let kept = std::env::var_os("SEARCH_DB").map(std::path::PathBuf::from);
    let path = kept.unwrap_or_else(|| dir.path().join("search.db"));
    let m = if path.exists() {
        Masar::open(&path, "admin", "benchmark-password", Arc::new(SystemClock)).expect("open")
    } else {
        register(&path, persons)
    };
    let fragments = [
        "Amina",
        "Karim Haddad",
        "Khat",
        "youss",
        "adda",
        "arwi",
        "Om",
        "Sa",
        "امينة",
        "حداد",
        "كري",
        "ناص",
        "دين",
        "حمد",
        "0600012345",
        "06000123",
        "250-00C00042",
        "C0004",
        "mansour fatima",
        "zzz",
    ];
    let rounds = 25;
    let mut all = Vec::new();
    println!("| fragment | matches | p50 (ms) | p99 (ms) |");
    println!("| --- | --- | --- | --- |");
    for f in fragments {
        let q = PersonQuery {
            search: Some(f.to_string()),
            limit: 20,
            ..Default::default()
        };
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            let page = m.persons_page(&q).expect("page");
            times.push(t.elapsed());
            total = page.total;
            assert!(page.rows.len() <= 20);
        }
        times.sort();
        println!(
            "| {f} | {total} | {:.2} | {:.2} |",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
        all.extend(times);
    }
    all.sort();
    // The floor: one person read by id, the cheapest question the database answers.
    let id = m
        .persons_page(&PersonQuery {
            limit: 1,
            ..Default::default()
        })
        .expect("page")
        .rows[0]
        .id
        .clone();
    let mut floor = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        m.person(&id).expect("person");
        floor.push(t.elapsed());
    }
    floor.sort();
    let (p50, p99, f50) = (
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        percentile(&floor, 0.5),
    );
    println!();
    println!("| measure | value |");
    println!("| --- | --- |");
    println!("| persons | {persons} |");
    println!("| searches (20 fragments × {rounds}) | {} |", all.len());
    println!("| search p50 | {:.2} ms |", ms(p50));
    println!("| search p99 | {:.2} ms (goal < 10 ms) |", ms(p99));
    println!("| floor: one person read by id, p50 | {:.3} ms |", ms(f50));
    println!("| search p50 / floor | {:.0}× |", ms(p50) / ms(f50));
}

/// A new database at `path` with `persons` persons registered from CSV.
fn register(path: &std::path::Path, persons: usize) -> Masar {
    let (mut m, _) = Masar::init(
        path,
        "Bench",
        "laptop",
        "admin",
        "benchmark-password",
        Arc::new(SystemClock),
    )
    .expect("init");
    eprintln!("registering {persons} persons…");
    let t = Instant::now();
    for chunk in (0..persons).collect::<Vec<_>>().chunks(10_000) {
        let mut csv =
            String::from("given,family,given_ar,family_ar,sex,born,nationality,phone,unhcr_id\n");
        for &i in chunk {
            let (g, f) = (i % GIVEN.len(), (i / GIVEN.len()) % FAMILY.len());
            csv.push_str(&format!(
                "{},{},{},{},female,1990-01-01,SYR,06{i:08},250-{:02}C{:05}\n",
                GIVEN[g],
                FAMILY[f],
                GIVEN_AR[g],
                FAMILY_AR[f],
                i / 100_000,
                i % 100_000
            ));
        }
        m.import_persons_csv(csv.as_bytes()).expect("persons");
    }
    eprintln!("registered in {:.0} s", t.elapsed().as_secs_f64());
    m
}
