//! Helpers for the core's own tests.

use std::sync::Arc;

use crate::clock::{Clock, FixedClock};
use crate::masar::Masar;

/// A new database in a temporary folder, its admin logged in, its clock fixed at noon on
/// 2024-06-01, with small reference lists.
pub(crate) fn temp_db() -> (tempfile::TempDir, Masar) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let clock: Arc<dyn Clock> = Arc::new(FixedClock(
        chrono::NaiveDate::from_ymd_opt(2024, 6, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a date")
            .and_utc(),
    ));
    let (mut m, _) = Masar::init(
        &dir.path().join("t.db"),
        "Org",
        "laptop",
        "admin",
        "a long enough passphrase",
        clock,
    )
    .expect("init");
    for (list, name) in [
        ("donor", "EU"),
        ("donor", "Japan"),
        ("sector", "food"),
        ("sector", "crafts"),
        ("currency", "MAD"),
        ("currency", "EUR"),
    ] {
        m.add_reference(list, name).expect("reference");
    }
    (dir, m)
}

/// Key-value pairs from string literals.
pub(crate) fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A person with the required fields.
pub(crate) fn person(m: &mut Masar, given: &str, sex: &str, born: &str) -> String {
    m.add_person(crate::domain::NewPerson {
        fields: crate::domain::Fields(
            kv(&[
                ("given", given),
                ("family", "Test"),
                ("sex", sex),
                ("born", born),
                ("nationality", "SYR"),
            ])
            .to_vec(),
        ),
        intake_date: None,
    })
    .expect("a person")
}

/// A project with one line, approved for `amount` MAD on 2024-01-04.
pub(crate) fn approved(m: &mut Masar, amount: &str) -> String {
    let a = person(m, "Amina", "female", "1990-01-01");
    let p = m
        .add_project(crate::domain::NewProject {
            title: "Bakery".into(),
            kind: "creation".into(),
            sector: "food".into(),
            members: vec![a],
            date: Some("2024-01-01".into()),
        })
        .unwrap();
    m.add_budget_line(crate::domain::NewBudgetLine {
        project: p.to_string(),
        item: "Oven".into(),
        quantity: "1".into(),
        unit_cost: amount.to_string(),
    })
    .unwrap();
    m.set_project(&p, &kv(&[("currency", "MAD")])).unwrap();
    m.set_stage(crate::domain::StageChange {
        project: p.to_string(),
        stage: crate::domain::Stage::PlanReady,
        date: "2024-01-02".into(),
    })
    .unwrap();
    m.set_stage(crate::domain::StageChange {
        project: p.to_string(),
        stage: crate::domain::Stage::InCommittee,
        date: "2024-01-03".into(),
    })
    .unwrap();
    m.decide(crate::domain::CommitteeDecision {
        project: p.to_string(),
        decision: crate::domain::Decision::Approved,
        date: "2024-01-04".into(),
        amount: Some(amount.to_string()),
        currency: None,
        remarks: Some("good plan".into()),
    })
    .unwrap();
    p
}

/// Takes project `p` through a plan of one oven costing `cost` to the committee's approval
/// of `amount` (in `currency`, else the programme's or the plan's), on 2–4 January 2024.
pub(crate) fn approve(m: &mut Masar, p: &str, cost: &str, amount: &str, currency: Option<&str>) {
    m.add_budget_line(crate::domain::NewBudgetLine {
        project: p.to_string(),
        item: "Oven".into(),
        quantity: "1".into(),
        unit_cost: cost.into(),
    })
    .expect("a budget line");
    for (stage, date) in [
        (crate::domain::Stage::PlanReady, "2024-01-02"),
        (crate::domain::Stage::InCommittee, "2024-01-03"),
    ] {
        m.set_stage(crate::domain::StageChange {
            project: p.to_string(),
            stage,
            date: date.into(),
        })
        .expect("a stage");
    }
    m.decide(crate::domain::CommitteeDecision {
        project: p.to_string(),
        decision: crate::domain::Decision::Approved,
        date: "2024-01-04".into(),
        amount: Some(amount.into()),
        currency: currency.map(Into::into),
        remarks: None,
    })
    .expect("an approval");
}
