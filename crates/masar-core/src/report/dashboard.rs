//! What the window's dashboard shows for a period: the indicators with every breakdown,
//! the journey as a funnel, overdue visits per counsellor and the survival of enterprises.
//! Supervisors and administrators see the whole programme; a counsellor sees the persons
//! and projects they follow, and nothing of anyone else's.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::Connection;
use serde::Serialize;
use ts_rs::TS;

use super::{
    indicators, overdue_projects, survival, Dimension, Filter, Measure, Report, Survival,
    SurvivalBy,
};
use crate::Result;

/// One step of the journey, from welcome to an enterprise still running a year on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct JourneyStep {
    /// welcomed, sensitised, trained (persons); plan, approved, funded, running_12_months
    /// (projects).
    pub step: String,
    /// How many reached it in the period.
    pub count: u64,
    /// Whether it counts persons (else projects).
    pub persons: bool,
}

/// How many visits a counsellor owes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CounsellorOverdue {
    /// The counsellor's log-in name ("unknown" for a project without one).
    pub counsellor: String,
    /// Projects whose next visit was due before the period's last day.
    pub overdue: u64,
}

/// The dashboard of a period.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Dashboard {
    /// The figures are the user's caseload only (a counsellor's), not the programme's.
    pub caseload: bool,
    /// The indicators, with every breakdown.
    pub report: Report,
    /// The journey, step by step (`docs/indicators.md`).
    pub journey: Vec<JourneyStep>,
    /// Overdue visits on the period's last day per counsellor, most first.
    pub overdue: Vec<CounsellorOverdue>,
    /// Survival of the enterprises on the period's last day, all then per cohort.
    pub survival: Survival,
}

/// The dashboard of `[from, to]`, for `counsellor`'s caseload or the whole programme.
pub(crate) fn dashboard(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    counsellor: Option<&str>,
) -> Result<Dashboard> {
    let filter = Filter {
        donor: None,
        counsellor,
    };
    let report = indicators(conn, from, to, &Dimension::ALL, filter)?;
    let journey = journey(conn, from, to, &report, counsellor)?;
    let mut per: BTreeMap<String, u64> = BTreeMap::new();
    let mut who = conn.prepare_cached(
        "SELECT coalesce(nullif(u.name, ''), 'unknown') FROM projects p LEFT JOIN users u ON u.id = p.counsellor WHERE p.id = ?1",
    )?;
    for (project, _) in overdue_projects(conn, to, counsellor)? {
        let name: String = who.query_row([&project], |r| r.get(0))?;
        *per.entry(name).or_default() += 1;
    }
    let mut overdue: Vec<CounsellorOverdue> = per
        .into_iter()
        .map(|(counsellor, overdue)| CounsellorOverdue {
            counsellor,
            overdue,
        })
        .collect();
    overdue.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then_with(|| a.counsellor.cmp(&b.counsellor))
    });
    let survival = survival::survival(conn, to, Some(SurvivalBy::Cohort), filter)?;
    Ok(Dashboard {
        caseload: counsellor.is_some(),
        report,
        journey,
        overdue,
        survival,
    })
}

/// The journey's steps: persons from the report; projects whose plan was ready, which the
/// committee approved, whose first tranche was paid in the period, and of those, the
/// enterprises a visit found running a year or more after that tranche, none closing
/// before it (the event of the survival curve).
fn journey(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    report: &Report,
    counsellor: Option<&str>,
) -> Result<Vec<JourneyStep>> {
    let (f, t) = (
        from.format("%Y-%m-%d").to_string(),
        to.format("%Y-%m-%d").to_string(),
    );
    let persons = |name: &str| match report.indicators.get(name) {
        Some(Measure::Count(n)) => *n,
        _ => 0,
    };
    let stage = |stage: &str| -> Result<u64> {
        let n: i64 = conn.query_row(
            "SELECT count(DISTINCT e.project_id) FROM stage_events e JOIN projects p ON p.id = e.project_id
             WHERE e.stage = ?1 AND coalesce(e.undone, 0) = 0 AND e.date BETWEEN ?2 AND ?3 AND (?4 IS NULL OR p.counsellor = ?4)",
            rusqlite::params![stage, f, t, counsellor],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    };
    let (funded, running): (i64, i64) = conn.query_row(
        "WITH first(project, start) AS (SELECT project_id, min(date) FROM disbursements WHERE id NOT IN temp.held_tranches GROUP BY project_id)
         SELECT count(*), coalesce(sum(EXISTS (
                    SELECT 1 FROM followups v WHERE v.project_id = p.id AND v.status <> 'closed' AND v.date >= date(s.start, '+365 days')
                       AND NOT EXISTS (SELECT 1 FROM followups c WHERE c.project_id = p.id AND c.status = 'closed' AND c.date >= s.start AND c.date <= v.date))), 0)
         FROM first s JOIN projects p ON p.id = s.project
         WHERE s.start BETWEEN ?1 AND ?2 AND (?3 IS NULL OR p.counsellor = ?3)",
        rusqlite::params![f, t, counsellor],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let step = |step: &str, count: u64, persons: bool| JourneyStep {
        step: step.to_string(),
        count,
        persons,
    };
    Ok(vec![
        step("welcomed", persons("welcomed"), true),
        step("sensitised", persons("sensitised"), true),
        step("trained", persons("trained"), true),
        step("plan", stage("plan_ready")?, false),
        step("approved", stage("approved")?, false),
        step("funded", funded.max(0) as u64, false),
        step("running_12_months", running.max(0) as u64, false),
    ])
}

#[cfg(test)]
mod tests {
    use crate::testing::{kv, person, temp_db};

    #[test]
    fn the_journey_counts_each_step_and_a_counsellor_sees_only_their_caseload() {
        let (_dir, mut m) = temp_db();
        let amina = person(&mut m, "Amina", "female", "1990-01-01");
        m.add_intake(crate::domain::NewIntake {
            person: amina.to_string(),
            date: "2023-01-10".into(),
            referral: None,
        })
        .unwrap();
        let p = m
            .add_project(crate::domain::NewProject {
                title: "Bakery".into(),
                kind: "creation".into(),
                sector: "food".into(),
                members: std::slice::from_ref(&amina).to_vec(),
                date: Some("2023-01-20".into()),
            })
            .unwrap();
        m.add_budget_line(crate::domain::NewBudgetLine {
            project: p.to_string(),
            item: "Oven".into(),
            quantity: "1".into(),
            unit_cost: "900".into(),
        })
        .unwrap();
        m.set_stage(crate::domain::StageChange {
            project: p.to_string(),
            stage: crate::domain::Stage::PlanReady,
            date: "2023-02-01".into(),
        })
        .unwrap();
        m.set_stage(crate::domain::StageChange {
            project: p.to_string(),
            stage: crate::domain::Stage::InCommittee,
            date: "2023-02-05".into(),
        })
        .unwrap();
        m.decide(crate::domain::CommitteeDecision {
            project: p.to_string(),
            decision: crate::domain::Decision::Approved,
            date: "2023-02-10".into(),
            amount: Some("900".into()),
            currency: Some("MAD".into()),
            remarks: None,
        })
        .unwrap();
        m.add_disbursement(crate::domain::NewTranche {
            project: p.to_string(),
            date: "2023-03-01".into(),
            amount: "900".into(),
            currency: "MAD".into(),
            donor: "EU".into(),
            mode: None,
            receipt: None,
            above_approved_because: None,
        })
        .unwrap();
        m.add_followup(crate::domain::NewFollowUp {
            project: p.to_string(),
            fields: crate::domain::Fields(
                kv(&[
                    ("date", "2024-03-05"),
                    ("status", "active"),
                    ("next_due", "2024-06-01"),
                ])
                .to_vec(),
            ),
        })
        .unwrap();
        let d = m.dashboard("2023-01-01", "2024-12-31").unwrap();
        let steps: Vec<(&str, u64)> = d
            .journey
            .iter()
            .map(|s| (s.step.as_str(), s.count))
            .collect();
        assert_eq!(
            steps,
            vec![
                ("welcomed", 1),
                ("sensitised", 0),
                ("trained", 0),
                ("plan", 1),
                ("approved", 1),
                ("funded", 1),
                ("running_12_months", 1)
            ]
        );
        assert!(!d.caseload, "an administrator sees the programme");
        assert_eq!(
            d.overdue.len(),
            1,
            "the visit due on 2024-06-01 is owed by the project's counsellor: {:?}",
            d.overdue
        );
        assert_eq!(d.survival.curves[0].enterprises, 1);
        let early = m.dashboard("2023-01-01", "2023-12-31").unwrap();
        assert_eq!(
            early.journey[6].count, 1,
            "the visit found it running after a year, whatever the period's end"
        );

        m.add_user(crate::domain::NewUser {
            name: "karim".into(),
            role: crate::Role::Counsellor,
            password: "karim-password-1".into(),
        })
        .unwrap();
        let path = m.path().to_path_buf();
        drop(m);
        let karim = crate::Masar::open(
            &path,
            "karim",
            "karim-password-1",
            std::sync::Arc::new(crate::clock::SystemClock),
        )
        .unwrap();
        let theirs = karim.dashboard("2023-01-01", "2024-12-31").unwrap();
        assert!(theirs.caseload);
        assert!(
            theirs.journey.iter().all(|s| s.count == 0),
            "none of it is karim's: {:?}",
            theirs.journey
        );
        assert_eq!(
            theirs.report.indicators["welcomed"],
            crate::Measure::Count(0)
        );
        assert!(theirs.overdue.is_empty() && theirs.survival.curves[0].enterprises == 0);
    }
}
