//! Sync's invariants, for all inputs: replicas that make random edits and exchange
//! bundles at random (duplicated, reordered, lost) converge once they exchange everything,
//! and no written value is silently lost.

use std::path::PathBuf;
use std::sync::Arc;

use proptest::prelude::*;

use crate::clock::{Clock, FixedClock};
use crate::testing::kv;
use crate::Masar;

#[derive(Debug, Clone)]
enum Action {
    Edit {
        replica: usize,
        person: usize,
        field: usize,
        value: usize,
    },
    Erase {
        replica: usize,
        person: usize,
    },
    Attend {
        replica: usize,
        person: usize,
    },
    Unattend {
        replica: usize,
        person: usize,
    },
    Export {
        replica: usize,
    },
    Import {
        replica: usize,
        bundle: usize,
        twice: bool,
    },
    Resolve {
        replica: usize,
        which: usize,
        other: bool,
    },
    /// An insider's forgery, imported alone or after an honest bundle: always refused whole.
    Forge {
        replica: usize,
        person: usize,
        kind: usize,
        with_honest: usize,
    },
    /// The insider signs two versions of one change (one stamp of their laptop: the same
    /// record, or another when `other_record`), each reaching a replica of its own; both
    /// bundles may travel on later.
    Equivocate {
        first: usize,
        second: usize,
        person: usize,
        other_record: bool,
        value: usize,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (0..5usize, 0..3usize, 0..4usize, 0..3usize).prop_map(|(replica, person, field, value)| Action::Edit { replica, person, field, value }),
        1 => (0..5usize, 0..3usize).prop_map(|(replica, person)| Action::Erase { replica, person }),
        2 => (0..5usize, 0..3usize).prop_map(|(replica, person)| Action::Attend { replica, person }),
        2 => (0..5usize, 0..3usize).prop_map(|(replica, person)| Action::Unattend { replica, person }),
        4 => (0..5usize).prop_map(|replica| Action::Export { replica }),
        5 => (0..5usize, 0..64usize, any::<bool>()).prop_map(|(replica, bundle, twice)| Action::Import { replica, bundle, twice }),
        1 => (0..5usize, 0..4usize, any::<bool>()).prop_map(|(replica, which, other)| Action::Resolve { replica, which, other }),
        2 => (0..5usize, 0..3usize, 0..4usize, 0..64usize).prop_map(|(replica, person, kind, with_honest)| Action::Forge { replica, person, kind, with_honest }),
        2 => (0..5usize, 0..5usize, 0..3usize, any::<bool>(), 0..3usize).prop_map(|(first, second, person, other_record, value)| Action::Equivocate { first, second, person, other_record, value }),
    ]
}

const FIELDS: [&str; 4] = ["city", "phone", "household_size", "given"];
const VALUES: [[&str; 3]; 4] = [
    ["Rabat", "Oujda", "Fès"],
    ["0601", "0602", "0603"],
    ["1", "2", "3"],
    ["Amina", "Aminah", "Amena"],
];

struct World {
    _dir: tempfile::TempDir,
    replicas: Vec<Masar>,
    persons: Vec<String>,
    session: String,
    bundles: Vec<PathBuf>,
    /// Karim, a counsellor on replica 0, who forges.
    insider: Masar,
}

fn clock(offset_days: i64) -> Arc<dyn Clock> {
    let base = chrono::NaiveDate::from_ymd_opt(2024, 6, 1)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("date")
        .and_utc();
    Arc::new(FixedClock(base + chrono::Duration::days(offset_days)))
}

fn world(n: usize) -> World {
    let dir = tempfile::tempdir().expect("dir");
    // The last replica's clock is three years fast.
    let (mut founder, _) = Masar::init(
        &dir.path().join("r0.db"),
        "Org",
        "r0",
        "admin",
        "a long enough passphrase",
        clock(0),
    )
    .expect("init");
    let persons: Vec<String> = (0..3)
        .map(|i| {
            founder
                .add_person(crate::domain::NewPerson {
                    fields: crate::domain::Fields(
                        kv(&[
                            ("given", &format!("P{i}")),
                            ("family", "F"),
                            ("sex", "female"),
                            ("born", "1990-01-01"),
                            ("nationality", "SYR"),
                            ("phone", "0600"),
                        ])
                        .to_vec(),
                    ),
                    intake_date: None,
                })
                .expect("person")
        })
        .collect();
    let session = founder
        .add_session(crate::domain::NewSession {
            kind: "awareness".into(),
            date: "2024-05-01".into(),
            topic: "T".into(),
            place: None,
            attendees: persons[..1].to_vec(),
        })
        .expect("session");
    founder
        .add_user(crate::domain::NewUser {
            name: "karim".into(),
            role: crate::auth::Role::Counsellor,
            password: "karim tailors in Oujda".into(),
        })
        .expect("karim");
    let seed = dir.path().join("seed.masar");
    founder
        .export_bundle(&seed, true, &[], |_| {})
        .expect("export");
    let mut replicas = vec![founder];
    for i in 1..n {
        let enrol = dir.path().join(format!("r{i}.enrol"));
        replicas[0]
            .enrol(&enrol, "a passphrase for Oujda", None)
            .expect("enrol");
        let bytes = std::fs::read(&enrol).expect("read");
        let skew = if i == n - 1 { 3 * 365 } else { 0 };
        let path = dir.path().join(format!("r{i}.db"));
        // It joins on time (enrolment files expire), then runs with its own clock.
        let (m, _) = Masar::join(
            &path,
            &bytes,
            "a passphrase for Oujda",
            &format!("r{i}"),
            "admin",
            "a long enough passphrase",
            clock(0),
        )
        .expect("join");
        drop(m);
        let mut m =
            Masar::open(&path, "admin", "a long enough passphrase", clock(skew)).expect("reopen");
        m.import_bundles(&[seed.as_path()], |_| {}).expect("seed");
        replicas.push(m);
    }
    let insider = Masar::open(
        &dir.path().join("r0.db"),
        "karim",
        "karim tailors in Oujda",
        clock(0),
    )
    .expect("karim");
    World {
        _dir: dir,
        replicas,
        persons,
        session,
        bundles: Vec::new(),
        insider,
    }
}

fn run(w: &mut World, a: &Action) {
    let n = w.replicas.len();
    match a.clone() {
        Action::Edit {
            replica,
            person,
            field,
            value,
        } => {
            let _ = w.replicas[replica % n].set_person(
                &w.persons[person],
                &kv(&[(FIELDS[field], VALUES[field][value])]),
            );
        }
        Action::Erase { replica, person } => {
            let _ = w.replicas[replica % n].erase_person(&w.persons[person]);
        }
        Action::Attend { replica, person } => {
            let _ = w.replicas[replica % n].attend(&w.session, &w.persons[person]);
        }
        Action::Unattend { replica, person } => {
            let _ = w.replicas[replica % n].unattend(&w.session, &w.persons[person]);
        }
        Action::Export { replica } => {
            let path = w._dir.path().join(format!("b{}.masar", w.bundles.len()));
            w.replicas[replica % n]
                .export_bundle(&path, false, &[], |_| {})
                .expect("export");
            w.bundles.push(path);
        }
        Action::Import {
            replica,
            bundle,
            twice,
        } => {
            if w.bundles.is_empty() {
                return;
            }
            let b = w.bundles[bundle % w.bundles.len()].clone();
            let files: Vec<&std::path::Path> = if twice { vec![&b, &b] } else { vec![&b] };
            w.replicas[replica % n]
                .import_bundles(&files, |_| {})
                .expect("import");
        }
        Action::Forge {
            replica,
            person,
            kind,
            with_honest,
        } => {
            use crate::forge::{Author, Forger};
            let forger = Forger::new(&w.insider);
            let target = &w.persons[person];
            // Every forged value is marked, to be looked for in every log at the end.
            let mut c = forger.change("person", target, "city", "\"Forged\"");
            let author = match kind {
                // Another device's identity: the newest change the founder holds from another laptop.
                0 => {
                    let other: Option<(i64, String)> = w.replicas[0]
                        .conn()
                        .query_row("SELECT hlc, device FROM changes WHERE device <> ?1 ORDER BY hlc DESC LIMIT 1", [w.replicas[0].device_id()], |r| Ok((r.get(0)?, r.get(1)?)))
                        .ok();
                    if let Some((hlc, device)) = other {
                        (c.hlc, c.device) = (hlc, device);
                    } else {
                        c.device = "another-laptop".into();
                    }
                    Author::Own
                }
                1 => {
                    c.field = "erased".into();
                    c.value = "true".into();
                    c.user_name = "Forged".into();
                    Author::Own
                }
                2 => {
                    c.user_name = "admin".into();
                    c.user_id = w.replicas[0].user().id.clone();
                    Author::Own
                }
                _ => Author::Minted(crate::auth::Role::Admin),
            };
            let path = w
                ._dir
                .path()
                .join(format!("forged{}.masar", w.bundles.len()));
            std::fs::write(&path, forger.bundle(&[c], author, "forged")).expect("write");
            let m = &mut w.replicas[replica % n];
            let before = m.digest().expect("digest");
            let mut files: Vec<&std::path::Path> = Vec::new();
            if !w.bundles.is_empty() {
                files.push(&w.bundles[with_honest % w.bundles.len()]);
            }
            files.push(&path);
            assert!(
                m.import_bundles(&files, |_| {}).is_err(),
                "a forgery was accepted"
            );
            assert_eq!(
                m.digest().expect("digest"),
                before,
                "a refused import changed something"
            );
        }
        Action::Equivocate {
            first,
            second,
            person,
            other_record,
            value,
        } => {
            use crate::forge::{Author, Forger};
            let forger = Forger::new(&w.insider);
            let one = forger.change(
                "person",
                &w.persons[person],
                "city",
                &format!("\"Twin {value} one\""),
            );
            let mut two = one.clone();
            two.value = format!("\"Twin {value} two\"");
            if other_record {
                two.record = w.persons[(person + 1) % w.persons.len()].clone();
            }
            for (c, at) in [(one, first), (two, second)] {
                let name = format!("twin{}", w.bundles.len());
                let path = w._dir.path().join(format!("{name}.masar"));
                std::fs::write(&path, forger.bundle(&[c], Author::Own, &name)).expect("write");
                w.replicas[at % n]
                    .import_bundles(&[path.as_path()], |_| {})
                    .expect("a second version is settled, not refused");
                w.bundles.push(path);
            }
        }
        Action::Resolve {
            replica,
            which,
            other,
        } => {
            let m = &mut w.replicas[replica % n];
            let conflicts = m.conflicts().expect("conflicts");
            if let Some(c) = conflicts.get(which % conflicts.len().max(1)) {
                let how = if other {
                    super::Resolution::Other
                } else {
                    super::Resolution::Kept
                };
                m.resolve_conflict(&c.id.clone(), how).expect("resolve");
            }
        }
    }
}

/// Changes that are neither a head (current or in conflict) nor overwritten by a change
/// that names them as parent: values lost without trace. Erased personal data is exempt.
fn unaccounted(m: &Masar) -> Vec<(i64, String, String)> {
    let mut stmt = m
        .conn()
        .prepare(
            "SELECT c.hlc, c.device, c.field FROM changes c
             WHERE c.entity <> 'user' AND c.field <> 'erased'
               AND c.head = 0
               AND NOT EXISTS (SELECT 1 FROM change_parents p WHERE p.parent_hlc = c.hlc AND p.parent_device = c.device)
               AND NOT (c.entity = 'person' AND c.value IS NULL
                        AND EXISTS (SELECT 1 FROM persons p WHERE p.id = c.record AND p.erased = 1))",
        )
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("rows")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_and_lose_nothing(n in 3usize..=5, script in prop::collection::vec(action(), 5..45)) {
        let mut w = world(n);
        for a in &script {
            run(&mut w, a);
        }
        // Exchange everything.
        let finals: Vec<PathBuf> = (0..n).map(|i| {
            let path = w._dir.path().join(format!("final{i}.masar"));
            w.replicas[i].export_bundle(&path, true, &[], |_| {}).expect("export");
            path
        }).collect();
        for m in w.replicas.iter_mut() {
            let files: Vec<&std::path::Path> = finals.iter().map(PathBuf::as_path).collect();
            m.import_bundles(&files, |_| {}).expect("import");
        }
        let digests: Vec<String> = w.replicas.iter().map(|m| m.digest().expect("digest")).collect();
        for (i, d) in digests.iter().enumerate() {
            prop_assert_eq!(d, &digests[0], "replica {} differs after {:?}", i, script);
        }
        let conflicts0 = w.replicas[0].conflicts().expect("conflicts");
        for m in &w.replicas[1..] {
            prop_assert_eq!(&m.conflicts().expect("conflicts"), &conflicts0);
        }
        for m in &w.replicas {
            prop_assert_eq!(unaccounted(m), Vec::new());
            prop_assert_eq!(m.pending_count().expect("pending"), 0);
            // No forged change entered any log, so none can be a head.
            let forged: i64 = m.conn().query_row(
                "SELECT count(*) FROM changes WHERE value LIKE '%Forged%' OR user_name = 'Forged'", [], |r| r.get(0)).expect("count");
            prop_assert_eq!(forged, 0);
        }
    }
}

#[test]
fn changes_to_accounts_from_outside_are_ignored() {
    let (d, mut m) = crate::testing::temp_db();
    let admin = m.user().id.clone();
    let forger = crate::forge::Forger::new(&m);
    let mut change = forger.change("user", &admin, "active", "false");
    change.hlc = crate::clock::Hlc::new(4_000_000_000_000, 0).0;
    let path = d.path().join("forged.masar");
    std::fs::write(
        &path,
        forger.bundle(&[change], crate::forge::Author::Own, "forged"),
    )
    .expect("write");
    let r = m.import_bundles(&[path.as_path()], |_| {}).expect("import");
    assert_eq!((r.applied, r.skipped), (0, 1));
    assert!(m.list_users().expect("users").iter().all(|u| u.active));
}

/// A bundle of one change to `person`'s city, stamped at `millis`, sealed with `m`'s own
/// keys as a forger holding an enrolled laptop would.
fn forged_city(
    m: &Masar,
    dir: &std::path::Path,
    person: &str,
    millis: i64,
    counter: i64,
    name: &str,
) -> PathBuf {
    forged_change(
        m,
        dir,
        person,
        "city",
        "\"Nowhere\"",
        crate::clock::Hlc::new(millis, counter),
        name,
    )
}

/// A bundle of one change to a field of `person`, signed by `m`'s user and sealed with
/// `m`'s keys.
fn forged_change(
    m: &Masar,
    dir: &std::path::Path,
    person: &str,
    field: &str,
    json: &str,
    hlc: crate::clock::Hlc,
    name: &str,
) -> PathBuf {
    let forger = crate::forge::Forger::new(m);
    let mut change = forger.change("person", person, field, json);
    change.hlc = hlc.0;
    let path = dir.join(format!("{name}.masar"));
    std::fs::write(
        &path,
        forger.bundle(&[change], crate::forge::Author::Own, name),
    )
    .expect("write");
    path
}

#[test]
fn a_stamp_at_the_ceiling_cannot_stop_a_laptop_from_syncing_afterwards() {
    let mut w = world(2);
    let dir = w._dir.path().to_path_buf();
    let person = w.persons[0].clone();
    // Beyond the ceiling: refused with its reason, nothing applied.
    let beyond = forged_city(
        &w.replicas[0],
        &dir,
        &person,
        crate::clock::STAMP_CEILING_MILLIS + 1,
        0,
        "beyond",
    );
    let e = w.replicas[1]
        .import_bundles(&[beyond.as_path()], |_| {})
        .expect_err("refused");
    assert!(e.to_string().contains("2200"), "{e}");
    // At it, its last counter: accepted, but not followed by laptop 1's clock (following
    // it, laptop 1's next stamp would be over the ceiling).
    let under = forged_city(
        &w.replicas[0],
        &dir,
        &person,
        crate::clock::STAMP_CEILING_MILLIS,
        0xFFFF,
        "under",
    );
    w.replicas[1]
        .import_bundles(&[under.as_path()], |_| {})
        .expect("accepted");
    // Laptop 1 keeps working, and what it writes next is still accepted by laptop 0.
    w.replicas[1]
        .set_person(&person, &kv(&[("city", "Oujda")]))
        .expect("a later edit");
    let later = dir.join("later.masar");
    w.replicas[1]
        .export_bundle(&later, false, &[], |_| {})
        .expect("export");
    w.replicas[0]
        .import_bundles(&[under.as_path(), later.as_path()], |_| {})
        .expect("laptop 0 accepts it");
    assert_eq!(
        w.replicas[0].digest().expect("digest"),
        w.replicas[1].digest().expect("digest")
    );
    assert_eq!(
        w.replicas[0]
            .person(&person)
            .expect("person")
            .city
            .as_deref(),
        Some("Oujda"),
        "the later edit names the forged one as parent"
    );
}

#[test]
fn a_value_local_entry_would_refuse_is_refused_on_import_with_the_whole_bundle() {
    let mut w = world(2);
    let dir = w._dir.path().to_path_buf();
    let person = w.persons[0].clone();
    let stamp = crate::clock::Hlc::new(1_800_000_000_000, 0);
    for (i, (field, json, why)) in [
        ("sex", "\"banana\"", "is not one of"),
        ("household_size", "-1", "at least 1"),
        ("born", "\"31/12/2024\"", "is not a date"),
        ("nationality", "\"syria\"", "country code"),
        ("phone", "42", "type"),
    ]
    .into_iter()
    .enumerate()
    {
        let before = w.replicas[1].digest().expect("digest");
        let bad = forged_change(
            &w.replicas[0],
            &dir,
            &person,
            field,
            json,
            stamp,
            &format!("bad{i}"),
        );
        let e = w.replicas[1]
            .import_bundles(&[bad.as_path()], |_| {})
            .expect_err(field);
        assert!(
            e.to_string().contains(field) && e.to_string().contains(why),
            "{field}: {e}"
        );
        assert_eq!(
            w.replicas[1].digest().expect("digest"),
            before,
            "{field}: nothing applied"
        );
    }
    let good = forged_change(
        &w.replicas[0],
        &dir,
        &person,
        "city",
        "\"Oujda\"",
        stamp,
        "good",
    );
    w.replicas[1]
        .import_bundles(&[good.as_path()], |_| {})
        .expect("a well-formed change is accepted");
}

#[test]
fn an_enrolment_file_is_refused_once_it_has_expired() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut founder, _) = Masar::init(
        &dir.path().join("f.db"),
        "Org",
        "f",
        "admin",
        "a long enough passphrase",
        clock(0),
    )
    .expect("init");
    let enrol = dir.path().join("new.enrol");
    founder
        .enrol(&enrol, "a passphrase for Oujda", Some(2))
        .expect("enrol");
    let bytes = std::fs::read(&enrol).expect("read");
    let late = Masar::join(
        &dir.path().join("late.db"),
        &bytes,
        "a passphrase for Oujda",
        "late",
        "admin",
        "a long enough passphrase",
        clock(3),
    );
    let e = late.err().expect("refused");
    assert_eq!(e.code(), "sync.enrolment");
    assert!(e.to_string().contains("expired"), "{e}");
    assert!(
        !dir.path().join("late.db").exists(),
        "a refused join leaves no file"
    );
    Masar::join(
        &dir.path().join("on-time.db"),
        &bytes,
        "a passphrase for Oujda",
        "on-time",
        "admin",
        "a long enough passphrase",
        clock(1),
    )
    .expect("on time");
}
