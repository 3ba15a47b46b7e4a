//! The attack suite, money and authority: an enrolled counsellor (Karim) who knows only
//! his own password signs changes with his own certified key on his own laptop's
//! database. Money counts only as a supervisor's decision allows it (crate `money`): each
//! forgery is refused, or held — not counted, listed with the author of the change that
//! made it so — and afterwards the honest laptops exchange everything and agree.

use std::path::{Path, PathBuf};

use masar_core::forge::{stamp, Author, Forged, Forger};
use serde_json::Value;

use crate::attacks::{add_karim, forge, KARIM_PASSWORD};
use crate::common::{run, Db};
use crate::sync::Org;

/// Three laptops holding one approved project (1,000 MAD) with a supervisor's tranche of
/// 600 MAD; on laptop 1, Karim, a counsellor.
struct Field {
    org: Org,
    project: String,
    tranche: String,
}

fn field() -> Field {
    let org = Org::new(3);
    add_karim(&org);
    let admin = &org.laptops[0];
    let p = admin.person("Amina", "Haddad");
    let project = committee_project(admin, &p, "Bakery");
    admin.ok(&[
        "project",
        "decide",
        &project,
        "approved",
        "--date",
        "2024-02-01",
        "--amount",
        "1000",
        "--currency",
        "MAD",
    ]);
    let tranche = admin.id(&[
        "disbursement",
        "add",
        &project,
        "--date",
        "2024-03-01",
        "--amount",
        "600",
        "--currency",
        "MAD",
        "--donor",
        "EU",
    ]);
    let b = org.export(0, &[]);
    org.import(1, &[&b]);
    org.import(2, &[&b]);
    Field {
        org,
        project,
        tranche,
    }
}

/// A project of `person` taken to the committee.
fn committee_project(db: &Db, person: &str, title: &str) -> String {
    let project = db.id(&[
        "project",
        "add",
        "--title",
        title,
        "--kind",
        "creation",
        "--sector",
        "tailoring",
        "--member",
        person,
        "--date",
        "2024-01-05",
    ]);
    db.ok(&[
        "project",
        "budget-add",
        &project,
        "--item",
        "Oven",
        "--quantity",
        "1",
        "--unit-cost",
        "1000",
    ]);
    db.ok(&[
        "project",
        "stage",
        &project,
        "plan_ready",
        "--date",
        "2024-01-10",
    ]);
    db.ok(&[
        "project",
        "stage",
        &project,
        "in_committee",
        "--date",
        "2024-01-20",
    ]);
    project
}

fn karim(org: &Org, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    run(&org.laptops[1].path, "karim", KARIM_PASSWORD, &all, &[])
}

/// The changes that create a tranche, with consecutive stamps.
fn tranche_changes(
    f: &Forger<'_>,
    id: &str,
    project: &str,
    amount: &str,
    currency: &str,
) -> Vec<Forged> {
    let fields = [
        ("project_id", format!("\"{project}\"")),
        ("date", "\"2024-03-05\"".into()),
        ("amount", format!("\"{amount}\"")),
        ("currency", format!("\"{currency}\"")),
        ("donor", "\"EU\"".into()),
    ];
    let base = f.change("disbursement", id, "project_id", "null").hlc;
    fields
        .iter()
        .enumerate()
        .map(|(i, (field, json))| {
            let mut c = f.change("disbursement", id, field, json);
            c.hlc = base + i as i64;
            c.creates = i == 0;
            c
        })
        .collect()
}

/// The stamp and device of the newest change to `field` of `record` in `db`'s history.
fn head_of(db: &Db, record: &str, field: &str) -> (i64, String) {
    let history = db.ok(&["history", record]);
    let c = history
        .as_array()
        .expect("history")
        .iter()
        .rev()
        .find(|c| c["field"] == field)
        .expect("a change")
        .clone();
    (
        c["hlc"].as_str().expect("hlc").parse().expect("a number"),
        c["device"].as_str().expect("device").to_string(),
    )
}

/// The stamp of the change of `record` that wrote `value`.
fn stamp_of_value(db: &Db, record: &str, value: &str) -> i64 {
    let history = db.ok(&["history", record]);
    let c = history
        .as_array()
        .expect("history")
        .iter()
        .find(|c| c["new"] == value)
        .expect("the change")
        .clone();
    c["hlc"].as_str().expect("hlc").parse().expect("a number")
}

fn amount_disbursed(db: &Db) -> Value {
    db.ok(&[
        "report",
        "indicators",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
    ])["indicators"]["amount_disbursed"]
        .clone()
}

fn held(db: &Db) -> Vec<Value> {
    db.ok(&["report", "unexplained"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Every honest laptop exchanges everything, ends with the same digest and the same
/// indicators.
fn honest_laptops_still_sync(org: &Org, laptops: &[usize]) {
    let bundles: Vec<PathBuf> = laptops
        .iter()
        .map(|i| org.export(*i, &["--full"]))
        .collect();
    let refs: Vec<&Path> = bundles.iter().map(PathBuf::as_path).collect();
    for i in laptops {
        org.import(*i, &refs);
    }
    let first = org.digest(laptops[0]);
    let money = amount_disbursed(&org.laptops[laptops[0]]);
    for i in &laptops[1..] {
        assert_eq!(org.digest(*i), first, "laptop {i} differs");
        assert_eq!(
            amount_disbursed(&org.laptops[*i]),
            money,
            "laptop {i} counts other money"
        );
    }
}

#[test]
fn a_tranche_in_another_currency_than_the_approval_is_refused_at_entry() {
    let f = field();
    // Harmless: the plain command line refuses it, in any amount, with the approval's
    // currency named; nothing is written.
    let before = f.org.digest(1);
    let out = karim(
        &f.org,
        &[
            "disbursement",
            "add",
            &f.project,
            "--date",
            "2024-03-10",
            "--amount",
            "700000",
            "--currency",
            "EUR",
            "--donor",
            "EU",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "refused input: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("approved this project in MAD") && e.contains("EUR"),
        "{e}"
    );
    // In the approval's currency, above what remains: refused too.
    let out = karim(
        &f.org,
        &[
            "disbursement",
            "add",
            &f.project,
            "--date",
            "2024-03-10",
            "--amount",
            "500",
            "--currency",
            "MAD",
            "--donor",
            "EU",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("400"),
        "what remains is said"
    );
    assert_eq!(f.org.digest(1), before, "nothing written");
    assert_eq!(amount_disbursed(&f.org.laptops[0])["MAD"], "600");
    honest_laptops_still_sync(&f.org, &[0, 1, 2]);
}

#[test]
fn a_forged_tranche_in_another_currency_is_held_and_names_its_author() {
    let f = field();
    let id = "01900000-0000-7000-8000-0000000000e1";
    let bundle = forge(&f.org, "eur", |g| {
        g.bundle(
            &tranche_changes(g, id, &f.project, "700000", "EUR"),
            Author::Own,
            "eur",
        )
    });
    f.org.import(0, &[&bundle]);
    // Held: not counted, listed with Karim as the author of its currency.
    let admin = &f.org.laptops[0];
    assert_eq!(amount_disbursed(admin), serde_json::json!({"MAD": "600"}));
    let held = held(admin);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(
        (
            held[0]["reason"].as_str(),
            held[0]["tranche"].as_str(),
            held[0]["recorded_by"].as_str()
        ),
        (Some("other_currency"), Some(id), Some("karim"))
    );
    honest_laptops_still_sync(&f.org, &[0, 1, 2]);
}

#[test]
fn a_forged_tranche_on_a_project_never_approved_is_held() {
    let f = field();
    let admin = &f.org.laptops[0];
    let other = committee_project(admin, &admin.person("Omar", "Saleh"), "Shop");
    let b = f.org.export(0, &[]);
    f.org.import(1, &[&b]);
    let id = "01900000-0000-7000-8000-0000000000e2";
    let bundle = forge(&f.org, "unapproved", |g| {
        g.bundle(
            &tranche_changes(g, id, &other, "5000000", "MAD"),
            Author::Own,
            "unapproved",
        )
    });
    f.org.import(0, &[&bundle]);
    assert_eq!(amount_disbursed(admin)["MAD"], "600", "not counted");
    let held = held(admin);
    assert!(
        held.iter().any(|h| h["reason"] == "no_approval"
            && h["tranche"] == id
            && h["recorded_by"] == "karim"),
        "{held:?}"
    );
    let report = admin.ok(&[
        "report",
        "indicators",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
    ]);
    assert_eq!(
        report["indicators"]["projects_funded"], 1,
        "only the approved project is funded: {report}"
    );
    honest_laptops_still_sync(&f.org, &[0, 1, 2]);
}

#[test]
fn a_supervisors_tranche_raised_by_a_counsellor_is_held_and_names_the_counsellor() {
    let f = field();
    let parent = head_of(&f.org.laptops[1], &f.tranche, "amount");
    let bundle = forge(&f.org, "raise", |g| {
        let mut c = g.change("disbursement", &f.tranche, "amount", "\"900000\"");
        c.parents = vec![parent.clone()];
        g.bundle(&[c], Author::Own, "raise")
    });
    f.org.import(0, &[&bundle]);
    let admin = &f.org.laptops[0];
    assert!(
        amount_disbursed(admin).get("MAD").is_none(),
        "the raised tranche no longer counts: {}",
        amount_disbursed(admin)
    );
    let held = held(admin);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(
        (
            held[0]["reason"].as_str(),
            held[0]["recorded_by"].as_str(),
            held[0]["paid"].as_str()
        ),
        (Some("above_approved"), Some("karim"), Some("900000")),
        "the author of the amount, not of the tranche"
    );
    honest_laptops_still_sync(&f.org, &[0, 1, 2]);
}

#[test]
fn an_overpayment_stays_held_when_a_counsellor_changes_the_projects_currency() {
    let f = field();
    let id = "01900000-0000-7000-8000-0000000000e3";
    let bundle = forge(&f.org, "recurrency", |g| {
        let mut changes = tranche_changes(g, id, &f.project, "5000", "MAD");
        let mut c = g.change("project", &f.project, "currency", "\"EUR\"");
        c.hlc = changes.last().map_or(c.hlc, |l| l.hlc + 1);
        changes.push(c);
        g.bundle(&changes, Author::Own, "recurrency")
    });
    f.org.import(0, &[&bundle]);
    let admin = &f.org.laptops[0];
    assert_eq!(
        admin.ok(&["project", "get", &f.project])["currency"],
        "EUR",
        "the plan's currency changed"
    );
    let held = held(admin);
    assert!(
        held.iter().any(|h| h["reason"] == "above_approved"
            && h["tranche"] == id
            && h["recorded_by"] == "karim"),
        "{held:?}"
    );
    assert_eq!(amount_disbursed(admin)["MAD"], "600");
    // The approval's own currency is a supervisor's to write.
    let bundle = forge(&f.org, "approved-currency", |g| {
        g.bundle(
            &[g.change("project", &f.project, "approved_currency", "\"EUR\"")],
            Author::Own,
            "approved-currency",
        )
    });
    let e = f.org.laptops[2].fail(&["bundle", "import", bundle.to_str().expect("utf-8")]);
    assert!(
        e.contains("a counsellor may not record committee decisions"),
        "{e}"
    );
    // And the command line refuses the plan's currency once in committee.
    let out = karim(&f.org, &["project", "set", &f.project, "currency=EUR"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    honest_laptops_still_sync(&f.org, &[0, 1, 2]);
}

#[test]
fn a_project_moved_past_the_committee_by_a_counsellor_is_listed() {
    let f = field();
    let admin = &f.org.laptops[0];
    let other = committee_project(admin, &admin.person("Omar", "Saleh"), "Shop");
    let b = f.org.export(0, &[]);
    f.org.import(1, &[&b]);
    let parent = head_of(&f.org.laptops[1], &other, "stage");
    let bundle = forge(&f.org, "funded", |g| {
        let mut c = g.change("project", &other, "stage", "\"funded\"");
        c.parents = vec![parent.clone()];
        g.bundle(&[c], Author::Own, "funded")
    });
    f.org.import(0, &[&bundle]);
    assert_eq!(admin.ok(&["project", "get", &other])["stage"], "funded");
    let held = held(admin);
    assert!(
        held.iter().any(|h| h["reason"] == "stage_without_decision"
            && h["project"] == other.as_str()
            && h["recorded_by"] == "karim"),
        "{held:?}"
    );
    honest_laptops_still_sync(&f.org, &[0, 1, 2]);
}

#[test]
fn a_supervisors_reasoned_override_counts_and_a_counsellors_reason_is_refused() {
    let f = field();
    let admin = &f.org.laptops[0];
    admin.ok(&[
        "disbursement",
        "add",
        &f.project,
        "--date",
        "2024-04-01",
        "--amount",
        "900",
        "--currency",
        "MAD",
        "--donor",
        "EU",
        "--above-approved-because",
        "the oven's price rose",
    ]);
    assert_eq!(
        amount_disbursed(admin)["MAD"],
        "1500",
        "the override counts"
    );
    assert!(held(admin).is_empty());
    let out = karim(
        &f.org,
        &[
            "disbursement",
            "add",
            &f.project,
            "--date",
            "2024-04-02",
            "--amount",
            "900",
            "--currency",
            "MAD",
            "--donor",
            "EU",
            "--above-approved-because",
            "transport",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    honest_laptops_still_sync(&f.org, &[0, 1, 2]);
}

#[test]
fn an_approval_spelt_otherwise_is_refused_as_a_value_no_laptop_writes() {
    let f = field();
    let admin = &f.org.laptops[0];
    let other = committee_project(admin, &admin.person("Omar", "Saleh"), "Shop");
    let b = f.org.export(0, &[]);
    f.org.import(1, &[&b]);
    f.org.import(2, &[&b]);
    let before = f.org.digest(2);
    for (name, json) in [
        ("escaped", "\"\\u0061pproved\""),
        ("spaced", "\"approved \""),
        ("upper", "\"Approved\""),
    ] {
        let bundle = forge(&f.org, name, |g| {
            g.bundle(
                &[g.change("project", &other, "stage", json)],
                Author::Own,
                name,
            )
        });
        let e = f.org.laptops[2].fail(&["bundle", "import", bundle.to_str().expect("utf-8")]);
        assert!(e.contains("could not have written it"), "{name}: {e}");
    }
    // The same for a choice of no consequence: the text is not Masar's.
    let bundle = forge(&f.org, "escaped-sex", |g| {
        let person = admin.ok(&["person", "list"])[0]["id"]
            .as_str()
            .expect("id")
            .to_string();
        g.bundle(
            &[g.change("person", &person, "sex", "\"\\u0066emale\"")],
            Author::Own,
            "escaped-sex",
        )
    });
    assert!(f.org.laptops[2]
        .fail(&["bundle", "import", bundle.to_str().expect("utf-8")])
        .contains("canonical"));
    assert_eq!(f.org.digest(2), before, "nothing applied");
    assert_eq!(
        f.org.laptops[2].ok(&["project", "get", &other])["stage"],
        "in_committee"
    );
    honest_laptops_still_sync(&f.org, &[0, 1, 2]);
}

#[test]
fn a_change_naming_every_competing_value_as_parent_is_a_resolution_by_its_structure() {
    let f = field();
    let p = f.org.laptops[0].ok(&["person", "list"])[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    // Two laptops disagree on the city: a conflict only a supervisor may close.
    f.org.laptops[0].ok(&["person", "set", &p, "city=Rabat"]);
    f.org.laptops[2].ok(&["person", "set", &p, "city=Fès"]);
    let heads = [
        head_of(&f.org.laptops[0], &p, "city"),
        head_of(&f.org.laptops[2], &p, "city"),
    ];
    let (a, c) = (f.org.export(0, &[]), f.org.export(2, &[]));
    f.org.import(1, &[&a, &c]);
    f.org.import(0, &[&c]);
    assert_eq!(
        f.org.laptops[0]
            .ok(&["conflicts", "list"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let before = f.org.digest(0);
    let bundle = forge(&f.org, "closing", |g| {
        let mut change = g.change("person", &p, "city", "\"Oujda\"");
        change.parents = heads.to_vec();
        g.bundle(&[change], Author::Own, "closing")
    });
    let e = f.org.laptops[0].fail(&["bundle", "import", bundle.to_str().expect("utf-8")]);
    assert!(
        e.contains("a counsellor may not record committee decisions"),
        "{e}"
    );
    assert_eq!(f.org.digest(0), before, "the conflict stays open");
    // Karim's own edit on his laptop names the winner alone: the conflict stays for a
    // supervisor, and his change travels.
    let out = karim(&f.org, &["person", "set", &p, "city=Oujda"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let his = f.org.export(1, &[]);
    f.org.import(0, &[&his]);
    assert_eq!(f.org.laptops[0].ok(&["person", "get", &p])["city"], "Oujda");
    honest_laptops_still_sync(&f.org, &[0, 1, 2]);
}

#[test]
fn stamps_at_or_near_the_ceiling_do_not_drag_an_honest_laptops_clock() {
    const CEILING_MILLIS: i64 = 7_258_118_400_000; // 2200-01-01
    for (name, millis, counter) in [
        ("at-ceiling", CEILING_MILLIS, 0xFFFF),
        ("near-ceiling", CEILING_MILLIS - 86_400_000, 0),
        ("years-ahead", 2_000_000_000_000, 0),
    ] {
        let f = field();
        let p = f.org.laptops[0].ok(&["person", "list"])[0]["id"]
            .as_str()
            .expect("id")
            .to_string();
        let bundle = forge(&f.org, name, |g| {
            let mut c = g.change("person", &p, "city", "\"Nowhere\"");
            c.hlc = stamp(millis, counter);
            g.bundle(&[c], Author::Own, name)
        });
        let r = f.org.import(2, &[&bundle]);
        assert_eq!(r["ahead_of_clock"], 1, "{name}: the laptop is told: {r}");
        // Laptop 2's next change names the far one as parent and wins, stamped within a
        // day of its clock.
        let now = chrono::Utc::now().timestamp_millis();
        f.org.laptops[2].ok(&["person", "set", &p, "city=Fès"]);
        let hlc = stamp_of_value(&f.org.laptops[2], &p, "Fès");
        assert!(
            (hlc >> 16) <= now + 86_400_000 + 60_000,
            "{name}: laptop 2 stamped {} ms ahead",
            (hlc >> 16) - now
        );
        honest_laptops_still_sync(&f.org, &[0, 1, 2]);
        assert_eq!(
            f.org.laptops[0].ok(&["person", "get", &p])["city"],
            "Fès",
            "{name}"
        );
        // The laptops it syncs with are not dragged either.
        f.org.laptops[0].ok(&["person", "set", &p, "phone=0600000001"]);
        let hlc = stamp_of_value(&f.org.laptops[0], &p, "0600000001");
        assert!(
            (hlc >> 16) <= chrono::Utc::now().timestamp_millis() + 86_400_000,
            "{name}: laptop 0 dragged"
        );
    }
}
