//! A programme shaped like the closing report in DOMAIN.md, typed through the CLI, must
//! give back exactly its counts, with every breakdown adding up to its total.
//!
//! Period: 2018-09-01 to 2020-12-31. Persons P0..P429 have an intake in the period (P0..P9
//! twice); Q0..Q19 came before it and R0..R9 after it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::Db;

const FROM: &str = "2018-09-01";
const TO: &str = "2020-12-31";
const P: usize = 430;

fn sex(i: usize) -> &'static str {
    if i == P - 1 {
        "other"
    } else if i.is_multiple_of(2) {
        "female"
    } else {
        "male"
    }
}

fn born(i: usize) -> &'static str {
    match i {
        0..=9 => "2005-06-01",   // 15 on 2020-12-31
        10..=14 => "1955-01-01", // 65
        _ => "1985-05-01",
    }
}

fn nationality(i: usize) -> &'static str {
    ["SYR", "COD", "YEM"][i % 3]
}

fn city(i: usize) -> &'static str {
    ["Rabat", "Oujda", "Rabat", "Casablanca", ""][i % 5]
}

/// Money as cents, to add amounts in the test without floats.
fn cents(s: &str) -> i64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    let frac = format!("{frac:0<2}");
    int.parse::<i64>().expect("integer part") * 100 + frac[..2].parse::<i64>().expect("fraction")
}

fn money(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

struct Expected {
    amount: BTreeMap<&'static str, i64>,
    by_donor_projects: BTreeMap<&'static str, u64>,
}

fn import(db: &Db, name: &str, rows: impl Iterator<Item = String>) -> Vec<String> {
    let mut text = String::from("given,family,sex,born,nationality,city,intake_date,referral\n");
    for r in rows {
        text.push_str(&r);
        text.push('\n');
    }
    let path = db.dir().join(name);
    std::fs::write(&path, text).expect("write csv");
    let v = db.ok(&["import", "persons", path.to_str().expect("utf-8")]);
    v["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|i| i.as_str().expect("id").to_string())
        .collect()
}

/// A project approved for 20,000 in `currency`: its tranches count in that currency only.
fn project_in(
    db: &Db,
    kind: &str,
    sector: &str,
    members: &[&str],
    approved_on: &str,
    currency: &str,
) -> String {
    let mut args = vec![
        "project",
        "add",
        "--title",
        "Activity",
        "--kind",
        kind,
        "--sector",
        sector,
        "--date",
        "2018-01-02",
    ];
    for m in members {
        args.extend(["--member", m]);
    }
    let p = db.id(&args);
    db.ok(&[
        "project",
        "budget-add",
        &p,
        "--item",
        "Sewing machine",
        "--quantity",
        "1",
        "--unit-cost",
        "900",
    ]);
    db.ok(&["project", "stage", &p, "plan_ready", "--date", "2018-01-03"]);
    db.ok(&[
        "project",
        "stage",
        &p,
        "in_committee",
        "--date",
        "2018-01-04",
    ]);
    db.ok(&[
        "project",
        "decide",
        &p,
        "approved",
        "--date",
        approved_on,
        "--amount",
        "20000",
        "--currency",
        currency,
    ]);
    p
}

fn project(db: &Db, kind: &str, sector: &str, members: &[&str], approved_on: &str) -> String {
    project_in(db, kind, sector, members, approved_on, "MAD")
}

/// The currency of the `i`-th creation project: one in four is paid in euros.
fn currency_of(i: usize) -> &'static str {
    if i % 4 == 1 {
        "EUR"
    } else {
        "MAD"
    }
}

fn tranche(db: &Db, project: &str, date: &str, amount: &str, currency: &str, donor: &str) {
    db.ok(&[
        "disbursement",
        "add",
        project,
        "--date",
        date,
        "--amount",
        amount,
        "--currency",
        currency,
        "--donor",
        donor,
    ]);
}

#[test]
fn the_indicators_of_a_typed_programme_are_exactly_its_counts() {
    let db = Db::new();
    for (list, name) in [
        ("donor", "EU"),
        ("donor", "Monaco"),
        ("donor", "Japan"),
        ("sector", "tailoring"),
        ("sector", "food"),
        ("sector", "commerce"),
        ("currency", "MAD"),
        ("currency", "EUR"),
    ] {
        db.ok(&["ref", "add", list, name]);
    }

    // Persons and intakes.
    let p = import(
        &db,
        "p.csv",
        (0..P).map(|i| {
            let day = format!("2019-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
            format!(
                "P{i},Fam,{},{},{},{},{day},UNHCR",
                sex(i),
                born(i),
                nationality(i),
                city(i)
            )
        }),
    );
    let q = import(
        &db,
        "q.csv",
        (0..20).map(|i| format!("Q{i},Fam,male,1980-01-01,SYR,Rabat,2018-03-01,")),
    );
    let r = import(
        &db,
        "r.csv",
        (0..10).map(|i| format!("R{i},Fam,female,1980-01-01,SYR,Rabat,2021-02-01,")),
    );
    assert_eq!(r.len(), 10);
    for id in &p[0..10] {
        db.ok(&[
            "intake",
            "add",
            id,
            "--date",
            "2020-05-05",
            "--referral",
            "returned",
        ]);
    }

    // Awareness: P0..P309 in ten sessions, P0..P19 and P300..P309 again, Q0..Q4 once;
    // R0..R9 after the period.
    let session = |kind: &str, date: &str, who: Vec<&String>| {
        let mut args = vec![
            "session",
            "add",
            "--kind",
            kind,
            "--date",
            date,
            "--topic",
            "Self-employment",
        ];
        for w in &who {
            args.extend(["--attendee", w.as_str()]);
        }
        db.id(&args)
    };
    for k in 0..10 {
        session(
            "awareness",
            &format!("2019-{:02}-15", k + 1),
            p[k * 31..k * 31 + 31].iter().collect(),
        );
    }
    session("awareness", "2020-01-15", p[0..20].iter().collect());
    session(
        "awareness",
        "2020-02-15",
        p[300..310].iter().chain(q[0..5].iter()).collect(),
    );
    session(
        "awareness",
        "2021-03-01",
        r.iter().chain(p[310..320].iter()).collect(),
    );
    // Training: P0..P149, with overlaps; P150 is removed from the list afterwards.
    session("training", "2019-06-01", p[0..50].iter().collect());
    session("training", "2019-07-01", p[40..100].iter().collect());
    let t3 = session("training", "2020-03-01", p[100..151].iter().collect());
    db.ok(&["session", "unattend", &t3, &p[150]]);

    let mut exp = Expected {
        amount: BTreeMap::new(),
        by_donor_projects: BTreeMap::new(),
    };
    let donors = ["EU", "Monaco", "Japan"];
    let sectors = ["tailoring", "food", "commerce"];
    let mut pay = |db: &Db,
                   proj: &str,
                   date: &str,
                   amount: &str,
                   currency: &'static str,
                   donor: &str,
                   counted: bool| {
        tranche(db, proj, date, amount, currency, donor);
        if counted {
            *exp.amount.entry(currency).or_default() += cents(amount);
        }
    };

    // 173 creation projects funded in the period for 218 persons.
    let mut creation = Vec::new();
    for i in 0..128 {
        creation.push(project_in(
            &db,
            "creation",
            sectors[i % 3],
            &[&p[i]],
            "2018-06-01",
            currency_of(i),
        ));
    }
    for j in 0..44 {
        creation.push(project_in(
            &db,
            "creation",
            sectors[j % 3],
            &[&p[128 + 2 * j], &p[129 + 2 * j]],
            "2018-06-01",
            currency_of(128 + j),
        ));
    }
    // The 173rd shares P0 with the first project and had its first tranche before the period.
    let last = project(
        &db,
        "creation",
        "food",
        &[&p[216], &p[217], &p[0]],
        "2018-05-01",
    );
    pay(&db, &last, "2018-06-15", "5000.00", "MAD", "Japan", false);
    creation.push(last);
    let mut first_donor: BTreeMap<String, &str> = BTreeMap::new();
    for (i, proj) in creation.iter().enumerate() {
        let donor = donors[i % 3];
        let currency = currency_of(i);
        pay(&db, proj, "2019-03-10", "1500.25", currency, donor, true);
        first_donor.insert(proj.clone(), donor);
        if i % 5 == 0 {
            // A second tranche in the period from another donor, and one after it.
            pay(
                &db,
                proj,
                "2019-09-10",
                "700.50",
                currency,
                donors[(i + 1) % 3],
                true,
            );
            pay(&db, proj, "2021-02-10", "300", currency, donor, false);
        }
    }
    for d in first_donor.values() {
        *exp.by_donor_projects.entry(d).or_default() += 1;
    }

    // 57 reinforced enterprises funded in the period.
    for i in 0..57 {
        let proj = project(
            &db,
            "reinforcement",
            sectors[i % 3],
            &[&p[218 + i]],
            "2018-06-01",
        );
        pay(
            &db,
            &proj,
            "2020-02-02",
            "999.99",
            "MAD",
            donors[i % 3],
            true,
        );
    }

    // Cooperatives: two registered in the period, one after; approved, never registered.
    for (i, reg) in ["2019-04-04", "2020-10-10", "2021-01-05"]
        .iter()
        .enumerate()
    {
        let members: Vec<&str> = p[280 + 3 * i..283 + 3 * i]
            .iter()
            .map(String::as_str)
            .collect();
        let proj = project(&db, "cooperative", "food", &members, "2018-06-01");
        db.ok(&["project", "set", &proj, &format!("registered_on={reg}")]);
    }

    // Not counted: approved but never funded; funded only after the period; a draft.
    for i in 0..5 {
        project(&db, "creation", "commerce", &[&p[300 + i]], "2018-06-01");
    }
    let late = project(&db, "creation", "commerce", &[&p[305]], "2018-06-01");
    pay(&db, &late, "2021-03-03", "4000", "MAD", "EU", false);
    db.id(&[
        "project", "add", "--title", "Idea", "--kind", "creation", "--sector", "food", "--member",
        &p[306],
    ]);

    // Follow-ups: ten projects overdue at the end of the period, five visited again in
    // time, two overdue but closed, one visited only after the period.
    let visit = |proj: &str, date: &str, due: &str| {
        db.ok(&[
            "followup",
            "add",
            proj,
            "--date",
            date,
            "--status",
            "active",
            "--next-due",
            due,
        ]);
    };
    for proj in &creation[0..10] {
        visit(proj, "2020-06-01", "2020-09-01");
    }
    db.ok(&[
        "project",
        "stage",
        &creation[0],
        "active",
        "--date",
        "2020-06-02",
    ]);
    for proj in &creation[10..15] {
        visit(proj, "2020-06-01", "2020-09-01");
        visit(proj, "2020-10-01", "2021-01-15");
    }
    for proj in &creation[15..17] {
        visit(proj, "2020-06-01", "2020-09-01");
        db.ok(&["project", "stage", proj, "closed", "--date", "2020-11-01"]);
    }
    visit(&creation[17], "2021-02-01", "2021-04-01");

    // The report.
    let rep = db.ok(&[
        "report",
        "indicators",
        "--from",
        FROM,
        "--to",
        TO,
        "--by",
        "sex",
        "--by",
        "age",
        "--by",
        "nationality",
        "--by",
        "city",
        "--by",
        "donor",
        "--by",
        "sector",
    ]);
    let ind = &rep["indicators"];
    assert_eq!(rep["from"], FROM);
    assert_eq!(rep["to"], TO);
    assert_eq!(ind["welcomed"], 430, "{ind}");
    assert_eq!(ind["sensitised"], 315, "{ind}");
    assert_eq!(ind["trained"], 150, "{ind}");
    assert_eq!(ind["projects_funded"], 173, "{ind}");
    assert_eq!(ind["funded_beneficiaries"], 218, "{ind}");
    assert_eq!(ind["enterprises_reinforced"], 57, "{ind}");
    assert_eq!(ind["cooperatives_created"], 2, "{ind}");
    assert_eq!(ind["followups_overdue"], 10, "{ind}");
    let amount: BTreeMap<&str, String> = exp.amount.iter().map(|(c, v)| (*c, money(*v))).collect();
    assert_eq!(
        ind["amount_disbursed"],
        serde_json::to_value(&amount).expect("json"),
        "{ind}"
    );

    // Breakdowns: known parts, and every split adds up to its total.
    let b = &rep["breakdown"];
    assert_eq!(b["sex"]["female"]["welcomed"], 215);
    assert_eq!(b["sex"]["male"]["welcomed"], 214);
    assert_eq!(b["sex"]["other"]["welcomed"], 1);
    assert_eq!(b["age"]["12-17"]["welcomed"], 10);
    assert_eq!(b["age"]["60+"]["welcomed"], 5);
    assert_eq!(b["city"]["unknown"]["welcomed"], 86);
    assert_eq!(b["nationality"]["SYR"]["welcomed"], 144);
    for (donor, n) in &exp.by_donor_projects {
        assert_eq!(b["donor"][donor]["projects_funded"], *n, "donor {donor}");
    }
    assert_eq!(b["sector"]["food"]["cooperatives_created"], 2);
    for (dim, parts) in b.as_object().expect("breakdown") {
        let parts = parts.as_object().expect("parts");
        let names: Vec<&String> = parts
            .values()
            .next()
            .expect("a part")
            .as_object()
            .expect("cell")
            .keys()
            .collect();
        for name in names {
            if name == "amount_disbursed" {
                let mut sum: BTreeMap<String, i64> = BTreeMap::new();
                for cell in parts.values() {
                    for (c, a) in cell[name].as_object().expect("money") {
                        *sum.entry(c.clone()).or_default() +=
                            cents(a.as_str().expect("decimal string"));
                    }
                }
                let total: BTreeMap<String, i64> = ind[name]
                    .as_object()
                    .expect("money")
                    .iter()
                    .map(|(c, a)| (c.clone(), cents(a.as_str().expect("decimal string"))))
                    .collect();
                assert_eq!(sum, total, "{dim}/{name} does not add up");
            } else {
                let sum: u64 = parts
                    .values()
                    .map(|cell| cell[name].as_u64().expect("a count"))
                    .sum();
                assert_eq!(Value::from(sum), ind[name], "{dim}/{name} does not add up");
            }
        }
    }
}

#[test]
fn the_survival_report_follows_each_funded_enterprise_from_its_first_tranche() {
    let db = Db::new().with_reference_lists();
    let amina = db.person("Amina", "Haddad");
    let projects: Vec<String> = (0..3)
        .map(|_| db.approved_project("creation", &[&amina]))
        .collect();
    for p in &projects {
        db.ok(&[
            "disbursement",
            "add",
            p,
            "--date",
            "2019-03-01",
            "--amount",
            "900",
            "--currency",
            "MAD",
            "--donor",
            "EU",
        ]);
    }
    // One closes on day 92, one is last seen running on day 184, one is never visited.
    db.ok(&[
        "followup",
        "add",
        &projects[0],
        "--date",
        "2019-06-01",
        "--status",
        "closed",
    ]);
    db.ok(&[
        "followup",
        "add",
        &projects[1],
        "--date",
        "2019-09-01",
        "--status",
        "struggling",
    ]);
    let s = db.ok(&["report", "survival", "--at", "2020-12-31", "--by", "sector"]);
    assert_eq!(s["as_of"], "2020-12-31");
    let all = &s["curves"][0];
    assert_eq!(
        (
            all["group"].as_str(),
            all["enterprises"].as_u64(),
            all["closed"].as_u64()
        ),
        (Some("all"), Some(3), Some(1)),
        "{all}"
    );
    let six = &all["at"][0];
    assert_eq!(six["months"], 6);
    // 1 − 1/2 after day 92 (the never-visited one left the risk set on day 0).
    assert_eq!(six["survival"].as_f64(), Some(0.5), "{six}");
    assert_eq!(
        all["at"][2]["survival"],
        Value::Null,
        "no one followed 24 months: unknown, not 1"
    );
    assert_eq!(s["curves"][1]["group"], "tailoring");
    // Without --json, a table a person reads: the share at 6 months with its interval.
    let table =
        String::from_utf8_lossy(&db.run(&["report", "survival", "--at", "2020-12-31"]).stdout)
            .to_string();
    let row = table
        .lines()
        .find(|l| l.trim_start().starts_with("all"))
        .unwrap_or_default()
        .to_string();
    assert!(
        row.contains(" 3 ") && row.contains("50% (") && row.contains('—'),
        "{table}"
    );
    let refused = db.fail(&["report", "survival", "--by", "donor"]);
    assert!(
        refused.contains("cohort") && refused.contains("sector") && refused.contains("sex"),
        "{refused}"
    );
}
