//! Survival of enterprises: the share of funded enterprises still running some months after
//! their first disbursement, as a Kaplan–Meier curve with a confidence interval. The
//! definition (who counts, the event, censoring, ties) is in `docs/indicators.md`; this is
//! its one implementation.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::Connection;
use serde::Serialize;
use ts_rs::TS;

use crate::error::{InputError, Problem, StoreError};
use crate::Result;

/// The months at which the share still running is read off the curve, with the days each
/// stands for (a month is 365.25 / 12 days, rounded to whole days).
pub const HORIZONS: [(u32, i64); 3] = [(6, 183), (12, 365), (24, 730)];

/// The normal quantile of a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// How survival is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum SurvivalBy {
    /// The year of the first disbursement.
    Cohort,
    /// The project's sector.
    Sector,
    /// The sex of the project's members: `female`, `male`, or `mixed`.
    Sex,
}

impl SurvivalBy {
    /// Every split.
    pub const ALL: [SurvivalBy; 3] = [SurvivalBy::Cohort, SurvivalBy::Sector, SurvivalBy::Sex];

    /// The split's name as typed and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            SurvivalBy::Cohort => "cohort",
            SurvivalBy::Sector => "sector",
            SurvivalBy::Sex => "sex",
        }
    }

    /// Reads a split's name.
    pub fn parse(s: &str) -> Result<SurvivalBy, InputError> {
        SurvivalBy::ALL
            .into_iter()
            .find(|b| b.as_str() == s.trim())
            .ok_or_else(|| InputError::Invalid {
                field: "by".into(),
                value: s.into(),
                problem: Problem::NotOneOf(
                    SurvivalBy::ALL
                        .iter()
                        .map(|b| b.as_str().to_string())
                        .collect(),
                ),
            })
    }
}

/// One step of a curve: what happened `day` days after the first disbursement.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SurvivalStep {
    /// Days since the first disbursement.
    pub day: i64,
    /// Enterprises still followed on that day (closed or seen running that late).
    pub at_risk: u64,
    /// Enterprises found closed on that day.
    pub closed: u64,
    /// Enterprises last seen running on that day, and not followed since.
    pub censored: u64,
    /// The share still running after that day.
    pub survival: f64,
    /// The 95% interval's lower bound.
    pub lower: f64,
    /// The 95% interval's upper bound.
    pub upper: f64,
}

/// The share still running at one horizon.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SurvivalAt {
    /// Months after the first disbursement.
    pub months: u32,
    /// The days those months stand for.
    pub day: i64,
    /// The share still running; `None` when no enterprise was followed that long.
    pub survival: Option<f64>,
    /// The 95% interval's lower bound.
    pub lower: Option<f64>,
    /// The 95% interval's upper bound.
    pub upper: Option<f64>,
    /// Enterprises followed at least that long.
    pub at_risk: u64,
}

/// The curve of one group of enterprises.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SurvivalCurve {
    /// The group: `all`, a year, a sector, or a sex.
    pub group: String,
    /// Funded enterprises in the group.
    pub enterprises: u64,
    /// Of them, found closed.
    pub closed: u64,
    /// Of them, still followed or lost to follow-up (censored).
    pub censored: u64,
    /// The curve, one step per day something happened.
    pub steps: Vec<SurvivalStep>,
    /// The share still running at 6, 12 and 24 months.
    pub at: Vec<SurvivalAt>,
}

/// Survival of enterprises on a day, for all of them and, when asked, by group.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Survival {
    /// The day of the analysis: nothing later is counted.
    pub as_of: NaiveDate,
    /// How the groups are split, if they are.
    pub by: Option<SurvivalBy>,
    /// The curve of all enterprises first, then one per group.
    pub curves: Vec<SurvivalCurve>,
}

/// One enterprise as the curve sees it.
#[derive(Debug, Clone, PartialEq)]
struct Followed {
    group: String,
    /// Days from the first disbursement to the first visit that found it closed, else to
    /// the last visit.
    days: i64,
    closed: bool,
}

/// Survival of the funded `creation` and `reinforcement` projects as of `as_of`.
/// For a donor, only the enterprises whose first tranche was that donor's; for a
/// counsellor, those they follow. Reads `temp.held_tranches`: the caller marks them
/// (`crate::money::mark_held`) once per report, as `indicators` does for the dashboard
/// and the donor report.
pub(crate) fn survival(
    conn: &Connection,
    as_of: NaiveDate,
    by: Option<SurvivalBy>,
    filter: super::Filter<'_>,
) -> Result<Survival> {
    let followed = followed(conn, as_of, by, filter)?;
    let mut curves = vec![curve("all", followed.iter())];
    if by.is_some() {
        let mut groups: BTreeMap<&str, Vec<&Followed>> = BTreeMap::new();
        for f in &followed {
            groups.entry(f.group.as_str()).or_default().push(f);
        }
        curves.extend(
            groups
                .into_iter()
                .map(|(group, members)| curve(group, members.into_iter())),
        );
    }
    Ok(Survival { as_of, by, curves })
}

/// Each funded enterprise with its first disbursement, its first closing visit and its
/// last visit (visits before the first disbursement or after `as_of` do not count).
fn followed(
    conn: &Connection,
    as_of: NaiveDate,
    by: Option<SurvivalBy>,
    filter: super::Filter<'_>,
) -> Result<Vec<Followed>> {
    let day = as_of.format("%Y-%m-%d").to_string();
    let group = match by {
        None => "''",
        Some(SurvivalBy::Cohort) => "substr(f.start, 1, 4)",
        Some(SurvivalBy::Sector) => "coalesce(p.sector, '')",
        Some(SurvivalBy::Sex) => {
            "(SELECT CASE WHEN count(DISTINCT s.sex) > 1 THEN 'mixed' ELSE coalesce(max(s.sex), '') END
                FROM members m JOIN persons s ON s.id = m.person_id WHERE m.project_id = p.id AND m.active = 1)"
        }
    };
    let group = if by.is_some() {
        format!("coalesce(nullif({group}, ''), 'unknown')")
    } else {
        group.to_string()
    };
    let sql = format!(
        "WITH funded(project, start) AS (
             SELECT d.project_id, min(d.date) FROM disbursements d WHERE d.date <= ?1 AND d.id NOT IN temp.held_tranches GROUP BY d.project_id)
         SELECT {group}, f.start,
                (SELECT min(v.date) FROM followups v WHERE v.project_id = p.id AND v.status = 'closed' AND v.date >= f.start AND v.date <= ?1),
                (SELECT max(v.date) FROM followups v WHERE v.project_id = p.id AND v.date >= f.start AND v.date <= ?1)
         FROM funded f JOIN projects p ON p.id = f.project
         WHERE p.kind IN ('creation', 'reinforcement')
           AND (?2 IS NULL OR ?2 = (SELECT coalesce(nullif(trim(e.donor), ''), 'unknown') FROM disbursements e
                                     WHERE e.project_id = p.id AND e.date = f.start AND e.id NOT IN temp.held_tranches ORDER BY e.id LIMIT 1))
           AND (?3 IS NULL OR p.counsellor = ?3)
         ORDER BY p.id"
    );
    let rows: Vec<(String, String, Option<String>, Option<String>)> = conn
        .prepare(&sql)?
        .query_map(
            rusqlite::params![day, filter.donor, filter.counsellor],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let stored = |text: &str| -> Result<NaiveDate> {
        Ok(
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| StoreError::Corrupt {
                what: "a date in the follow-up of a project".into(),
                value: text.into(),
            })?,
        )
    };
    let mut out = Vec::with_capacity(rows.len());
    for (group, start, closed_on, last_visit) in rows {
        let start = stored(&start)?;
        let (end, closed) = match (closed_on, last_visit) {
            (Some(c), _) => (stored(&c)?, true),
            (None, Some(v)) => (stored(&v)?, false),
            // Never visited: known to be running on the day it was funded, no later.
            (None, None) => (start, false),
        };
        out.push(Followed {
            group,
            days: (end - start).num_days(),
            closed,
        });
    }
    Ok(out)
}

/// The Kaplan–Meier curve of some enterprises, with Greenwood's variance and a log–log
/// 95% interval. A closing and a censoring on the same day: the closing comes first, so
/// the censored enterprise is still at risk that day.
fn curve<'a>(group: &str, enterprises: impl Iterator<Item = &'a Followed>) -> SurvivalCurve {
    let mut by_day: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    let mut total = 0u64;
    for f in enterprises {
        total += 1;
        let slot = by_day.entry(f.days).or_default();
        if f.closed {
            slot.0 += 1;
        } else {
            slot.1 += 1;
        }
    }
    let (mut at_risk, mut survival, mut greenwood) = (total, 1.0f64, 0.0f64);
    let mut steps = Vec::with_capacity(by_day.len());
    for (&day, &(closed, censored)) in &by_day {
        if closed > 0 {
            let (n, d) = (at_risk as f64, closed as f64);
            survival *= 1.0 - d / n;
            greenwood += if closed < at_risk {
                d / (n * (n - d))
            } else {
                f64::INFINITY
            };
        }
        let (lower, upper) = interval(survival, greenwood);
        steps.push(SurvivalStep {
            day,
            at_risk,
            closed,
            censored,
            survival,
            lower,
            upper,
        });
        at_risk -= closed + censored;
    }
    let last_day = by_day.keys().next_back().copied();
    let at = HORIZONS
        .iter()
        .map(|&(months, day)| {
            let step = steps.iter().take_while(|s| s.day <= day).last();
            let (survival, lower, upper) =
                step.map_or((1.0, 1.0, 1.0), |s| (s.survival, s.lower, s.upper));
            let followed = by_day.range(day..).map(|(_, (c, k))| c + k).sum::<u64>();
            // Past the last day anyone was followed, the share is unknown unless none is left running.
            let known = last_day.is_some_and(|l| l >= day) || survival == 0.0;
            SurvivalAt {
                months,
                day,
                survival: known.then_some(survival),
                lower: known.then_some(lower),
                upper: known.then_some(upper),
                at_risk: followed,
            }
        })
        .collect();
    let closed = by_day.values().map(|(c, _)| c).sum::<u64>();
    SurvivalCurve {
        group: group.to_string(),
        enterprises: total,
        closed,
        censored: total - closed,
        steps,
        at,
    }
}

/// The log–log 95% interval of a survival share with Greenwood's sum `greenwood`: it stays
/// within 0 and 1. A share of 1 (nothing closed yet) or 0 has no spread.
fn interval(survival: f64, greenwood: f64) -> (f64, f64) {
    if survival <= 0.0 || survival >= 1.0 || !greenwood.is_finite() {
        return (survival, survival);
    }
    let spread = Z95 * greenwood.sqrt() / survival.ln().abs();
    (survival.powf(spread.exp()), survival.powf((-spread).exp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(days: i64, closed: bool) -> Followed {
        Followed {
            group: String::new(),
            days,
            closed,
        }
    }

    #[test]
    fn the_curve_of_five_enterprises_is_the_one_computed_by_hand() {
        // Closed on days 60, 100 and 182; last seen running on days 100 and 365.
        let all = [
            f(60, true),
            f(182, true),
            f(100, false),
            f(365, false),
            f(100, true),
        ];
        let c = curve("all", all.iter());
        let s: Vec<(i64, u64, u64, u64)> = c
            .steps
            .iter()
            .map(|s| (s.day, s.at_risk, s.closed, s.censored))
            .collect();
        assert_eq!(
            s,
            vec![
                (60, 5, 1, 0),
                (100, 4, 1, 1),
                (182, 2, 1, 0),
                (365, 1, 0, 1)
            ],
            "the censored on day 100 is at risk that day"
        );
        let shares: Vec<f64> = c.steps.iter().map(|s| s.survival).collect();
        // 4/5, then 4/5 × 3/4, then 3/5 × 1/2.
        for (got, want) in shares.iter().zip([0.8, 0.6, 0.3, 0.3]) {
            assert!((got - want).abs() < 1e-12, "{shares:?}");
        }
        // Greenwood: 1/(5·4) + 1/(4·3) + 1/(2·1) = 0.6333…; log–log interval at 0.3.
        let at182 = &c.steps[2];
        assert!(
            (at182.lower - 0.012_30).abs() < 5e-5 && (at182.upper - 0.719_2).abs() < 5e-4,
            "{at182:?}"
        );
        let at: Vec<(u32, Option<f64>, u64)> =
            c.at.iter()
                .map(|a| (a.months, a.survival, a.at_risk))
                .collect();
        assert_eq!(at[0].0, 6);
        assert!(
            (at[0].1.unwrap_or(0.0) - 0.3).abs() < 1e-12 && at[0].2 == 1,
            "{at:?}"
        );
        assert!(
            (at[1].1.unwrap_or(0.0) - 0.3).abs() < 1e-12 && at[1].2 == 1,
            "followed to day 365 exactly: {at:?}"
        );
        assert_eq!(
            (at[2].1, at[2].2),
            (None, 0),
            "no one was followed 24 months"
        );
        assert_eq!((c.enterprises, c.closed, c.censored), (5, 3, 2));
    }

    #[test]
    fn enterprises_are_followed_from_their_first_tranche_to_their_first_closing_visit() {
        use crate::testing::{kv, person, temp_db};
        let (_d, mut m) = temp_db();
        for (list, name) in [
            ("sector", "food"),
            ("sector", "tailoring"),
            ("donor", "EU"),
            ("currency", "MAD"),
        ] {
            m.add_reference(list, name).unwrap();
        }
        let amina = person(&mut m, "Amina", "female", "1990-01-01");
        let omar = person(&mut m, "Omar", "male", "1985-01-01");
        let mut funded = |kind: &str, sector: &str, members: &[String], paid: &[&str]| -> String {
            let p = m
                .add_project(crate::domain::NewProject {
                    title: "Shop".into(),
                    kind: kind.to_string(),
                    sector: sector.to_string(),
                    members: members.to_vec(),
                    date: Some("2023-01-01".into()),
                })
                .unwrap();
            m.add_budget_line(crate::domain::NewBudgetLine {
                project: p.to_string(),
                item: "Stock".into(),
                quantity: "1".into(),
                unit_cost: "1000".into(),
            })
            .unwrap();
            m.set_stage(crate::domain::StageChange {
                project: p.to_string(),
                stage: crate::domain::Stage::PlanReady,
                date: "2023-01-02".into(),
            })
            .unwrap();
            m.set_stage(crate::domain::StageChange {
                project: p.to_string(),
                stage: crate::domain::Stage::InCommittee,
                date: "2023-01-03".into(),
            })
            .unwrap();
            m.decide(crate::domain::CommitteeDecision {
                project: p.to_string(),
                decision: crate::domain::Decision::Approved,
                date: "2023-01-04".into(),
                amount: Some("1000".into()),
                currency: Some("MAD".into()),
                remarks: None,
            })
            .unwrap();
            for day in paid {
                m.add_disbursement(crate::domain::NewTranche {
                    project: p.to_string(),
                    date: day.to_string(),
                    amount: "500".into(),
                    currency: "MAD".into(),
                    donor: "EU".into(),
                    mode: None,
                    receipt: None,
                    above_approved_because: None,
                })
                .unwrap();
            }
            p
        };
        let a = funded(
            "creation",
            "food",
            std::slice::from_ref(&amina),
            &["2024-01-01"],
        );
        let b = funded(
            "reinforcement",
            "tailoring",
            std::slice::from_ref(&omar),
            &["2024-02-01", "2024-01-01"],
        );
        let _c = funded(
            "creation",
            "food",
            &[amina.clone(), omar.clone()],
            &["2023-06-01"],
        );
        let e = funded(
            "creation",
            "food",
            std::slice::from_ref(&amina),
            &["2024-01-01"],
        );
        funded(
            "creation",
            "food",
            std::slice::from_ref(&amina),
            &["2025-03-01"],
        );
        let visit = |m: &mut crate::Masar, p: &str, day: &str, status: &str| {
            m.add_followup(crate::domain::NewFollowUp {
                project: p.to_string(),
                fields: crate::domain::Fields(kv(&[("date", day), ("status", status)]).to_vec()),
            })
            .unwrap();
        };
        visit(&mut m, &a, "2024-02-01", "active");
        visit(&mut m, &a, "2024-03-01", "closed");
        visit(&mut m, &a, "2024-05-01", "closed");
        visit(&mut m, &b, "2024-04-10", "struggling");
        visit(&mut m, &e, "2025-01-05", "closed");
        let s = m
            .survival(Some("2024-12-31"), Some(SurvivalBy::Sex))
            .unwrap();
        // A closed on day 60 (its first closing visit); B last seen on day 100 of its first
        // tranche; C and E never visited by 2024-12-31: running on day 0, no later. The
        // project funded in 2025 is not yet funded on that day.
        let all = &s.curves[0];
        let steps: Vec<(i64, u64, u64, u64, f64)> = all
            .steps
            .iter()
            .map(|s| (s.day, s.at_risk, s.closed, s.censored, s.survival))
            .collect();
        assert_eq!(
            steps,
            vec![(0, 4, 0, 2, 1.0), (60, 2, 1, 0, 0.5), (100, 1, 0, 1, 0.5)]
        );
        let groups: Vec<(&str, u64, u64)> = s.curves[1..]
            .iter()
            .map(|c| (c.group.as_str(), c.enterprises, c.closed))
            .collect();
        assert_eq!(
            groups,
            vec![("female", 2, 1), ("male", 1, 0), ("mixed", 1, 0)]
        );
        let cohorts = m
            .survival(Some("2024-12-31"), Some(SurvivalBy::Cohort))
            .unwrap();
        assert_eq!(
            cohorts.curves[1..]
                .iter()
                .map(|c| (c.group.as_str(), c.enterprises))
                .collect::<Vec<_>>(),
            vec![("2023", 1), ("2024", 3)]
        );
        let later = m.survival(Some("2025-12-31"), None).unwrap();
        assert_eq!(
            (
                later.curves.len(),
                later.curves[0].enterprises,
                later.curves[0].closed
            ),
            (1, 5, 2),
            "E's closing visit counts by then"
        );
        assert_eq!(
            m.survival(Some("2024-13-01"), None).unwrap_err().code(),
            "input.invalid"
        );
    }

    #[test]
    fn all_closed_is_zero_at_every_later_horizon_and_none_closed_has_no_spread() {
        let c = curve("all", [f(10, true), f(20, true)].iter());
        assert_eq!(
            c.steps.last().map(|s| (s.survival, s.lower, s.upper)),
            Some((0.0, 0.0, 0.0))
        );
        assert!(c.at.iter().all(|a| a.survival == Some(0.0)), "{:?}", c.at);
        let c = curve("all", [f(400, false), f(800, false)].iter());
        assert!(c
            .steps
            .iter()
            .all(|s| (s.survival, s.lower, s.upper) == (1.0, 1.0, 1.0)));
        assert_eq!(
            c.at.iter().map(|a| a.survival).collect::<Vec<_>>(),
            vec![Some(1.0), Some(1.0), Some(1.0)]
        );
        let empty = curve("all", [].iter());
        assert!(
            empty.steps.is_empty()
                && empty
                    .at
                    .iter()
                    .all(|a| a.survival.is_none() && a.at_risk == 0)
        );
    }
}
