//! Report benchmark (W4): the indicator report with four breakdowns over a national
//! programme (100,000 persons registered with their intakes, about 900,000 attendances of
//! awareness and training sessions, 1,000 funded projects, over five years), against the
//! floor of counting the period's events with the same indexes. Prints a table.
//!
//! Run: `cargo run --release -p masar-benches --bin report [PERSONS]` (default 100,000).
//! Building the programme takes about five minutes; with `REPORT_DB=PATH` it is built once
//! there and reused (opened, so migrated) by later runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use masar_benches::ms;
use masar_core::{Dimension, Masar, SystemClock};

/// The median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// A day of the five years 2021–2025, spread by `i`.
fn day(i: usize) -> String {
    let d = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).expect("a date")
        + chrono::Duration::days((i * 7919 % 1826) as i64);
    d.format("%Y-%m-%d").to_string()
}

fn main() {
    let persons: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let kept = std::env::var_os("REPORT_DB").map(std::path::PathBuf::from);
    let path = kept.clone().unwrap_or_else(|| dir.path().join("report.db"));
    let (sessions, per_session, projects) = (persons * 9 / 400, 400, persons / 100);
    let (m, ids) = if path.exists() {
        let m =
            Masar::open(&path, "admin", "benchmark-password", Arc::new(SystemClock)).expect("open");
        // The persons' ids, kept beside it, for the floor's copy of the events.
        let ids = std::fs::read_to_string(path.with_extension("ids"))
            .expect("the kept ids")
            .lines()
            .map(str::to_string)
            .collect();
        (m, ids)
    } else {
        let (m, ids) = build(&path, persons, sessions, per_session, projects);
        if kept.is_some() {
            std::fs::write(path.with_extension("ids"), ids.join("\n")).expect("ids");
        }
        (m, ids)
    };
    let by = [
        Dimension::Sex,
        Dimension::Age,
        Dimension::City,
        Dimension::Donor,
    ];
    let (from, to) = ("2024-01-01", "2024-12-31");
    let report = m.report(from, to, &by).expect("report");
    let runs = 21;
    let report_time = median(runs, || {
        m.report(from, to, &by).expect("report");
    });
    let all_time = median(runs, || {
        m.report(from, to, &Dimension::ALL).expect("report");
    });
    // The floor: the same intakes and attendances in a bare encrypted database with the
    // same indexes (a person id, a date, a kind), counting the period's persons by event.
    let (floor, in_period) = floor(
        &dir.path().join("floor.db"),
        &ids,
        sessions,
        per_session,
        from,
        to,
        runs,
    );
    let events = persons + sessions * per_session + projects * 2;
    println!("| measure | value |");
    println!("| --- | --- |");
    println!("| persons | {persons} |");
    println!("| events (intakes, attendances, tranches) | {events} |");
    println!("| events in the period ({from} to {to}) | {in_period} |");
    println!(
        "| welcomed / sensitised / trained in the period | {:?} / {:?} / {:?} |",
        report.indicators["welcomed"],
        report.indicators["sensitised"],
        report.indicators["trained"]
    );
    println!("| report, four breakdowns (sex, age, city, donor), median of {runs} | {:.1} ms (goal < 150 ms) |", ms(report_time));
    println!("| report, all six breakdowns | {:.1} ms |", ms(all_time));
    println!(
        "| floor: counting the period's persons by event | {:.1} ms |",
        ms(floor)
    );
    println!("| report / floor | {:.2}× |", ms(report_time) / ms(floor));
}

/// The floor database, filled as the programme above; returns the median time of counting
/// the period's distinct persons by intake and by attendance, and the events it counted.
fn floor(
    path: &std::path::Path,
    ids: &[String],
    sessions: usize,
    per_session: usize,
    from: &str,
    to: &str,
    runs: usize,
) -> (Duration, i64) {
    let mut bare = rusqlite::Connection::open(path).expect("bare");
    bare.pragma_update(
        None,
        "key",
        "x'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'",
    )
    .expect("key");
    bare.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE intakes (id INTEGER PRIMARY KEY, person_id TEXT, date TEXT);
         CREATE TABLE sessions (id INTEGER PRIMARY KEY, kind TEXT, date TEXT);
         CREATE TABLE attendance (session_id INTEGER, person_id TEXT, present INTEGER);
         CREATE INDEX intakes_date ON intakes(date); CREATE INDEX sessions_date ON sessions(date);
         CREATE INDEX attendance_session ON attendance(session_id);",
    )
    .expect("schema");
    let tx = bare.transaction().expect("tx");
    for (i, id) in ids.iter().enumerate() {
        tx.execute(
            "INSERT INTO intakes(person_id, date) VALUES (?1, ?2)",
            rusqlite::params![id, day(i)],
        )
        .expect("intake");
    }
    for s in 0..sessions {
        let kind = if s % 3 == 0 { "training" } else { "awareness" };
        tx.execute(
            "INSERT INTO sessions(id, kind, date) VALUES (?1, ?2, ?3)",
            rusqlite::params![s as i64, kind, day(s * 13)],
        )
        .expect("session");
        for k in 0..per_session {
            tx.execute(
                "INSERT INTO attendance VALUES (?1, ?2, 1)",
                rusqlite::params![s as i64, ids[(s * 7 + k * 251) % ids.len()]],
            )
            .expect("attendance");
        }
    }
    tx.commit().expect("commit");
    let count = |sql: &str| {
        bare.query_row(sql, [from, to], |r| r.get::<_, i64>(0))
            .expect("count")
    };
    let time = median(runs, || {
        count(
            "SELECT (SELECT count(DISTINCT person_id) FROM intakes WHERE date BETWEEN ?1 AND ?2)
                  + (SELECT count(DISTINCT a.person_id) FROM sessions s JOIN attendance a ON a.session_id = s.id
                      WHERE s.date BETWEEN ?1 AND ?2 AND a.present = 1)",
        );
    });
    let events = count(
        "SELECT (SELECT count(*) FROM intakes WHERE date BETWEEN ?1 AND ?2)
              + (SELECT count(*) FROM sessions s JOIN attendance a ON a.session_id = s.id WHERE s.date BETWEEN ?1 AND ?2)",
    );
    (time, events)
}

/// Builds the programme at `path`: persons with their intakes, sessions, funded projects.
fn build(
    path: &std::path::Path,
    persons: usize,
    sessions: usize,
    per_session: usize,
    projects: usize,
) -> (Masar, Vec<String>) {
    let (mut m, _) = Masar::init(
        path,
        "Bench",
        "laptop",
        "admin",
        "benchmark-password",
        Arc::new(SystemClock),
    )
    .expect("init");
    for (list, name) in [
        ("donor", "EU"),
        ("donor", "Japan"),
        ("sector", "food"),
        ("sector", "crafts"),
        ("currency", "MAD"),
    ] {
        m.add_reference(list, name).expect("reference");
    }
    let t = Instant::now();
    let cities = ["Rabat", "Oujda", "Fès", "Tanger", "Agadir", "Casablanca"];
    let nationalities = ["SYR", "COD", "YEM", "SDN", "CMR"];
    let mut ids = Vec::with_capacity(persons);
    for chunk in (0..persons).collect::<Vec<_>>().chunks(10_000) {
        let mut csv = String::from("given,family,sex,born,nationality,city,intake_date\n");
        for &i in chunk {
            let born = format!("{}-{:02}-{:02}", 1950 + i % 70, 1 + i % 12, 1 + i % 28);
            let sex = ["female", "male"][i % 2];
            csv.push_str(&format!(
                "Given{i},Family{},{sex},{born},{},{},{}\n",
                i % 997,
                nationalities[i % 5],
                cities[i % 6],
                day(i)
            ));
        }
        ids.extend(m.import_persons_csv(csv.as_bytes()).expect("persons").ids);
    }
    eprintln!(
        "{persons} persons with their intakes in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    for s in 0..sessions {
        let attendees: Vec<String> = (0..per_session)
            .map(|k| ids[(s * 7 + k * 251) % ids.len()].clone())
            .collect();
        let kind = if s % 3 == 0 { "training" } else { "awareness" };
        m.add_session(masar_core::NewSession {
            kind: kind.to_string(),
            date: day(s * 13),
            topic: "Session".into(),
            place: None,
            attendees: attendees.to_vec(),
        })
        .expect("session");
    }
    eprintln!(
        "{sessions} sessions of {per_session} in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    for p in 0..projects {
        let members = vec![
            ids[p * 37 % ids.len()].clone(),
            ids[(p * 37 + 1) % ids.len()].clone(),
        ];
        let kind = ["creation", "reinforcement"][p % 2];
        let id = m
            .add_project(masar_core::NewProject {
                title: "Project".into(),
                kind: kind.to_string(),
                sector: ["food", "crafts"][p % 2].to_string(),
                members,
                date: Some("2020-12-01".into()),
            })
            .expect("project");
        m.add_budget_line(masar_core::NewBudgetLine {
            project: id.to_string(),
            item: "Oven".into(),
            quantity: "1".into(),
            unit_cost: "9000".into(),
        })
        .expect("line");
        m.set_stage(masar_core::StageChange {
            project: id.to_string(),
            stage: masar_core::Stage::PlanReady,
            date: "2020-12-02".into(),
        })
        .expect("stage");
        m.set_stage(masar_core::StageChange {
            project: id.to_string(),
            stage: masar_core::Stage::InCommittee,
            date: "2020-12-03".into(),
        })
        .expect("stage");
        m.decide(masar_core::CommitteeDecision {
            project: id.to_string(),
            decision: masar_core::Decision::Approved,
            date: "2020-12-04".into(),
            amount: Some("10000".into()),
            currency: Some("MAD".into()),
            remarks: None,
        })
        .expect("approve");
        for k in 0..2 {
            m.add_disbursement(masar_core::NewTranche {
                project: id.to_string(),
                date: day(p * 3 + k),
                amount: "4500.50".into(),
                currency: "MAD".into(),
                donor: ["EU", "Japan"][p % 2].to_string(),
                mode: None,
                receipt: None,
                above_approved_because: None,
            })
            .expect("tranche");
        }
    }
    eprintln!("{projects} projects in {:.0} s", t.elapsed().as_secs_f64());
    (m, ids)
}
