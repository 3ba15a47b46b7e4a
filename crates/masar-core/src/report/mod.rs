//! The programme's indicators, exactly as DOMAIN.md defines them, with breakdowns whose
//! parts always add up to the total.
//!
//! A report counts events by their own date within `[from, to]`, both days included.
//! Every split puts each counted person or project in exactly one part ("unknown" when the
//! attribute is unset); a project funded by several donors is counted under the donor of
//! its first tranche in the period, while money is split by the donor of each tranche.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use ts_rs::TS;

use crate::changes::Db;
use crate::error::{parse_date, InputError, Problem};
use crate::Result;

#[cfg(test)]
mod by_records;
mod dashboard;
mod donor;
mod export;
mod indicators;
mod survival;

pub use dashboard::{CounsellorOverdue, Dashboard, JourneyStep};
pub(crate) use donor::Words;
pub use donor::{DonorFormat, DonorReportDone, Language};
pub use export::{ExportDone, ExportFormat, ExportRecord, ExportTable};
pub use survival::{Survival, SurvivalAt, SurvivalBy, SurvivalCurve, SurvivalStep};

#[cfg(test)]
use indicators::{
    count_into, fill_indicators, first_tranches, or_unknown, period_cooperatives, period_tranches,
    project_cells, total_amount, Projects,
};
use indicators::{indicators, overdue_projects};

/// A way to split the indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    /// The person's sex.
    Sex,
    /// UNHCR age bracket on the period's last day.
    Age,
    /// The person's nationality.
    Nationality,
    /// The person's city.
    City,
    /// The donor of the money.
    Donor,
    /// The project's sector.
    Sector,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Dimension; 6] = [
        Dimension::Sex,
        Dimension::Age,
        Dimension::Nationality,
        Dimension::City,
        Dimension::Donor,
        Dimension::Sector,
    ];

    /// The dimension's name as typed and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Sex => "sex",
            Dimension::Age => "age",
            Dimension::Nationality => "nationality",
            Dimension::City => "city",
            Dimension::Donor => "donor",
            Dimension::Sector => "sector",
        }
    }

    /// Reads a dimension's name.
    pub fn parse(s: &str) -> Result<Dimension, InputError> {
        Dimension::ALL
            .into_iter()
            .find(|d| d.as_str() == s.trim())
            .ok_or_else(|| InputError::Invalid {
                field: "by".into(),
                value: s.into(),
                problem: Problem::NotOneOf(
                    Dimension::ALL
                        .iter()
                        .map(|d| d.as_str().to_string())
                        .collect(),
                ),
            })
    }

    /// The indicators this dimension splits: persons by their attributes, projects and
    /// money by donor and sector.
    pub fn indicators(self) -> &'static [&'static str] {
        match self {
            Dimension::Sex | Dimension::Age | Dimension::Nationality | Dimension::City => {
                &["welcomed", "sensitised", "trained", "funded_beneficiaries"]
            }
            Dimension::Donor => &[
                "projects_funded",
                "enterprises_reinforced",
                "amount_disbursed",
            ],
            Dimension::Sector => &[
                "projects_funded",
                "enterprises_reinforced",
                "cooperatives_created",
                "amount_disbursed",
                "followups_overdue",
            ],
        }
    }
}

/// One indicator's value: a count (a number), or sums of money per currency (an object
/// of exact decimal strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(untagged)]
pub enum Measure {
    /// A number of persons or projects.
    Count(u64),
    /// Amounts per currency code.
    Money(#[ts(as = "BTreeMap<String, String>")] BTreeMap<String, Decimal>),
}

/// Every indicator, in the order of the programme's closing table.
pub const INDICATORS: [&str; 9] = [
    "welcomed",
    "sensitised",
    "trained",
    "projects_funded",
    "funded_beneficiaries",
    "enterprises_reinforced",
    "cooperatives_created",
    "amount_disbursed",
    "followups_overdue",
];

/// Indicator name → value.
pub type Cell = BTreeMap<&'static str, Measure>;

/// Whose part of the programme a report counts: one donor's (its projects, their
/// beneficiaries, its money), one counsellor's caseload (the persons and projects they
/// follow), or, with neither, the whole programme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Filter<'a> {
    /// The donor, as written in the donors' list.
    pub donor: Option<&'a str>,
    /// The counsellor's user id.
    pub counsellor: Option<&'a str>,
}

/// The indicators of a period, with the breakdowns asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Report {
    /// First day counted.
    pub from: NaiveDate,
    /// Last day counted.
    pub to: NaiveDate,
    /// The totals.
    #[ts(as = "BTreeMap<String, Measure>")]
    pub indicators: Cell,
    /// Dimension → part → the dimension's indicators.
    #[ts(as = "BTreeMap<String, BTreeMap<String, BTreeMap<String, Measure>>>")]
    pub breakdown: BTreeMap<&'static str, BTreeMap<String, Cell>>,
}

/// The period `[from, to]` as typed: two dates, the first not after the last.
fn period(from: &str, to: &str) -> Result<(NaiveDate, NaiveDate)> {
    let (from_d, to_d) = (parse_date("from", from)?, parse_date("to", to)?);
    if from_d > to_d {
        return Err(InputError::rule(
            "period_reversed",
            format!("the period starts ({from}) after it ends ({to}): swap --from and --to"),
            &[("from", from), ("to", to)],
        )
        .into());
    }
    Ok((from_d, to_d))
}

impl Db {
    /// The indicators of the period `[from, to]` with the breakdowns in `by`.
    pub(crate) fn report(&self, from: &str, to: &str, by: &[Dimension]) -> Result<Report> {
        let (from_d, to_d) = period(from, to)?;
        let mut dims = by.to_vec();
        dims.sort();
        dims.dedup();
        indicators(self.conn(), from_d, to_d, &dims, Filter::default())
    }

    /// The dashboard of `[from, to]`: the programme's for supervisors and administrators, the
    /// user's own caseload for a counsellor.
    pub(crate) fn dashboard(&self, from: &str, to: &str) -> Result<Dashboard> {
        let (from_d, to_d) = period(from, to)?;
        let sight = crate::access::Sight::of(self.user());
        dashboard::dashboard(self.conn(), from_d, to_d, sight.counsellor())
    }

    /// Survival of the funded enterprises as of `as_of` (today by default), split `by`.
    pub(crate) fn survival(&self, as_of: Option<&str>, by: Option<SurvivalBy>) -> Result<Survival> {
        let day = match as_of {
            Some(text) => parse_date("at", text)?,
            None => self.clock().today(),
        };
        // Held tranches fund no enterprise (crate::money).
        crate::money::mark_held(self.conn())?;
        survival::survival(self.conn(), day, by, Filter::default())
    }

    /// Writes a table of `[from, to]` (every date by default) to `out` (CSV, HXL or XLSX), and records who
    /// exported what: person-level tables are for supervisors and administrators.
    pub(crate) fn export_table(
        &self,
        table: ExportTable,
        format: ExportFormat,
        period: (Option<&str>, Option<&str>),
        pseudonymise: bool,
        out: &std::path::Path,
    ) -> Result<ExportDone> {
        if table.person_level() {
            self.require(crate::auth::Permission::ExportPersonData)?;
        }
        if table == ExportTable::Indicators && (period.0.is_none() || period.1.is_none()) {
            let field = if period.0.is_none() { "from" } else { "to" };
            return Err(InputError::Missing {
                field: field.into(),
                hint: "give the report's period with both --from and --to".into(),
            }
            .into());
        }
        let dates = match period {
            (None, None) => None,
            (from, to) => {
                // A missing bound is the first or last day a date may be written with.
                let (first, last) = (
                    NaiveDate::from_ymd_opt(1, 1, 1),
                    NaiveDate::from_ymd_opt(9999, 12, 31),
                );
                let from = from
                    .map(|d| parse_date("from", d))
                    .transpose()?
                    .or(first)
                    .unwrap_or_default();
                let to = to
                    .map(|d| parse_date("to", d))
                    .transpose()?
                    .or(last)
                    .unwrap_or_default();
                if from > to {
                    return Err(InputError::rule(
                        "period_reversed",
                        "the period starts after it ends: swap --from and --to".to_string(),
                        &[],
                    )
                    .into());
                }
                Some((from, to))
            }
        };
        let done = export::export_table(self.conn(), table, format, dates, pseudonymise, out)?;
        self.record_export(
            table.as_str(),
            format.as_str(),
            (period.0.unwrap_or(""), period.1.unwrap_or("")),
            pseudonymise,
            done.rows,
            out,
        )?;
        Ok(done)
    }

    /// Writes the report to donors of `[from, to]`, for `donor` or the whole programme, in
    /// `language`, as a PDF or a workbook by `out`'s extension (supervisors and
    /// administrators); recorded with the exports.
    pub(crate) fn donor_report(
        &self,
        period: (&str, &str),
        donor: Option<&str>,
        language: Language,
        out: &std::path::Path,
    ) -> Result<DonorReportDone> {
        self.require(crate::auth::Permission::ReportToDonors)?;
        let format = DonorFormat::of(out)?;
        let (from, to) = self::period(period.0, period.1)?;
        let donor = donor.map(str::trim).filter(|d| !d.is_empty());
        let user = self.user();
        let report = donor::gather(
            self.conn(),
            from,
            to,
            donor,
            (self.clock().today(), &user.name),
        )?;
        let parts = donor::write(&report, language, format, out)?;
        let what = match donor {
            Some(d) => format!("donor report ({d})"),
            None => "donor report".to_string(),
        };
        self.record_export(
            &what,
            format.as_str(),
            (&from.to_string(), &to.to_string()),
            false,
            u64::from(parts),
            out,
        )?;
        Ok(DonorReportDone {
            path: out.display().to_string(),
            format,
            parts,
        })
    }

    /// Records who took which data out of Masar, when, and where to.
    fn record_export(
        &self,
        what: &str,
        format: &str,
        period: (&str, &str),
        pseudonymised: bool,
        rows: u64,
        out: &std::path::Path,
    ) -> Result<()> {
        let user = self.user();
        self.conn()
            .prepare_cached(
                "INSERT INTO exports(at, user_id, user_name, what, format, period_from, period_to, pseudonymised, rows, path)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(rusqlite::params![
                self.clock().now().to_rfc3339(),
                user.id,
                user.name,
                what,
                format,
                period.0,
                period.1,
                pseudonymised,
                i64::try_from(rows).unwrap_or(i64::MAX),
                out.display().to_string()
            ])?;
        Ok(())
    }

    /// The exports made on this laptop, newest first.
    pub(crate) fn exports(&self) -> Result<Vec<ExportRecord>> {
        export::records(self.conn())
    }

    /// What is held: tranches that do not count and projects past the committee without
    /// a decision, each with who made it so (supervisors).
    pub(crate) fn unexplained_tranches(&self) -> Result<Vec<crate::money::Held>> {
        self.require(crate::auth::Permission::DecideInCommittee)?;
        crate::money::held(self.conn())
    }

    /// Funded or active projects whose next visit was due before `day` with no visit
    /// since, most overdue first: what a counsellor must see first.
    pub(crate) fn overdue_followups(&self, day: NaiveDate) -> Result<Vec<(String, String)>> {
        overdue_projects(self.conn(), day, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_money_that_is_not_a_decimal_is_an_error_not_a_zero() {
        let (_d, mut m) = crate::testing::temp_db();
        let a = crate::testing::person(&mut m, "Amina", "female", "1990-01-01");
        let p = m
            .add_project(crate::domain::NewProject {
                title: "Bakery".into(),
                kind: "creation".into(),
                sector: "food".into(),
                members: vec![a],
                date: Some("2024-01-01".into()),
            })
            .unwrap();
        crate::testing::approve(&mut m, &p, "900", "1000", Some("MAD"));
        m.add_disbursement(crate::domain::NewTranche {
            project: p.to_string(),
            date: "2024-01-05".into(),
            amount: "1000".into(),
            currency: "MAD".into(),
            donor: "EU".into(),
            mode: None,
            receipt: None,
            above_approved_because: None,
        })
        .unwrap();
        m.conn()
            .execute("UPDATE disbursements SET amount = '1O00'", [])
            .unwrap();
        let e = m.report("2024-01-01", "2024-12-31", &[]).unwrap_err();
        assert_eq!(e.code(), "store.corrupt", "{e}");
        assert!(e.to_string().contains("1O00"), "{e}");
        let e = m.project_view(&p).unwrap_err();
        assert_eq!(e.code(), "store.corrupt", "{e}");
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn age_is_taken_on_the_last_day_of_the_period() {
        use super::by_records::age_bracket;
        assert_eq!(
            age_bracket(Some(d("2000-06-15")), None, d("2018-06-14")),
            "12-17"
        );
        assert_eq!(
            age_bracket(Some(d("2000-06-15")), None, d("2018-06-15")),
            "18-59"
        );
        assert_eq!(
            age_bracket(Some(d("1960-01-01")), None, d("2020-01-01")),
            "60+"
        );
        assert_eq!(
            age_bracket(Some(d("2016-01-01")), None, d("2020-12-31")),
            "0-4"
        );
        assert_eq!(age_bracket(None, None, d("2020-12-31")), "unknown");
        assert_eq!(age_bracket(None, Some(1990), d("2020-12-31")), "18-59");
    }
}

#[cfg(test)]
mod properties {
    use std::collections::{BTreeMap, BTreeSet};

    use chrono::{Duration, NaiveDate};
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::{Dimension, Measure};
    use crate::testing::{kv, temp_db};

    /// Kind, sector, members, and tranches (day, cents, in euros, from Japan).
    type ProjectPlan = (u8, u8, Vec<usize>, Vec<(i64, u32, bool, bool)>);

    #[derive(Debug, Clone)]
    struct Programme {
        /// Sex, age in years on the period's last day and a day either side (so that
        /// birthdays fall on it), nationality, city, erased.
        persons: Vec<(u8, u32, i64, u8, Option<u8>, bool)>,
        intakes: Vec<(usize, i64)>,
        sessions: Vec<(bool, i64, Vec<usize>)>,
        projects: Vec<ProjectPlan>,
        from: i64,
        len: i64,
    }

    fn programme() -> impl Strategy<Value = Programme> {
        (1usize..10).prop_flat_map(|n| {
            (
                prop::collection::vec(
                    (
                        0u8..3,
                        0u32..70,
                        -1i64..=1,
                        0u8..3,
                        prop::option::of(0u8..3),
                        prop::bool::weighted(0.2),
                    ),
                    n,
                ),
                prop::collection::vec((0..n, 0i64..730), 0..15),
                prop::collection::vec(
                    (
                        any::<bool>(),
                        0i64..730,
                        prop::collection::btree_set(0..n, 0..n)
                            .prop_map(|s| s.into_iter().collect()),
                    ),
                    0..4,
                ),
                prop::collection::vec(
                    (
                        0u8..3,
                        0u8..2,
                        prop::collection::btree_set(0..n, 1..=n)
                            .prop_map(|s| s.into_iter().collect()),
                        prop::collection::vec(
                            (0i64..730, 1u32..100_000, any::<bool>(), any::<bool>()),
                            0..3,
                        ),
                    ),
                    0..5,
                ),
                0i64..365,
                0i64..500,
            )
                .prop_map(|(persons, intakes, sessions, projects, from, len)| {
                    Programme {
                        persons,
                        intakes,
                        sessions,
                        projects,
                        from,
                        len,
                    }
                })
        })
    }

    fn day(d: NaiveDate) -> String {
        d.format("%Y-%m-%d").to_string()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Whatever the programme, every split adds up to its total, the totals agree with
        /// a direct count of what was typed, and the report aggregated in SQL is the one
        /// computed record by record.
        #[test]
        fn breakdowns_add_up_and_totals_match_a_direct_count(p in programme()) {
            let (_d, mut m) = temp_db();
            let base = NaiveDate::from_ymd_opt(2020, 1, 1).expect("date");
            let from = base + Duration::days(p.from);
            let to = from + Duration::days(p.len);
            let ids: Vec<String> = p.persons.iter().enumerate().map(|(i, (sex, years, days, nat, city, _))| {
                let born = to.checked_sub_months(chrono::Months::new(12 * years)).expect("a date") + Duration::days(*days);
                let mut fields = kv(&[
                    ("given", &format!("P{i}")), ("family", "F"), ("sex", ["female", "male", "other"][*sex as usize]),
                    ("born", &day(born)), ("nationality", ["SYR", "COD", "YEM"][*nat as usize]),
                ]);
                if let Some(c) = city { fields.push(("city".into(), ["Rabat", "Oujda", "Fès"][*c as usize].into())); }
                m.add_person(crate::domain::NewPerson { fields: crate::domain::Fields(fields.to_vec()), intake_date: None }).expect("person")
            }).collect();
            let inside = |d: NaiveDate| d >= from && d <= to;
            let mut welcomed = BTreeSet::new();
            for (who, off) in &p.intakes {
                let d = base + Duration::days(*off);
                m.add_intake(crate::domain::NewIntake { person: ids[*who].to_string(), date: day(d), referral: None }).expect("intake");
                if inside(d) { welcomed.insert(*who); }
            }
            for (awareness, off, who) in &p.sessions {
                let attendees: Vec<String> = who.iter().map(|i| ids[*i].clone()).collect();
                m.add_session(crate::domain::NewSession { kind: if *awareness { "awareness" } else { "training" }.to_string(), date: day(base + Duration::days(*off)), topic: "T".into(), place: None, attendees: attendees.to_vec() }).expect("session");
            }
            let mut amount: BTreeMap<String, Decimal> = BTreeMap::new();
            let mut funded = 0u64;
            for (kind, sector, members, tranches) in &p.projects {
                let members: Vec<String> = members.iter().map(|i| ids[*i].clone()).collect();
                let kind = ["creation", "reinforcement", "cooperative"][*kind as usize];
                let id = m.add_project(crate::domain::NewProject { title: "P".into(), kind: kind.to_string(), sector: ["food", "crafts"][*sector as usize].to_string(), members: members.to_vec(), date: Some("2019-01-01".into()) }).expect("project");
                m.add_budget_line(crate::domain::NewBudgetLine { project: id.to_string(), item: "Oven".into(), quantity: "1".into(), unit_cost: "900".into() }).expect("line");
                m.set_stage(crate::domain::StageChange { project: id.to_string(), stage: crate::domain::Stage::PlanReady, date: "2019-01-02".into() }).expect("stage");
                m.set_stage(crate::domain::StageChange { project: id.to_string(), stage: crate::domain::Stage::InCommittee, date: "2019-01-03".into() }).expect("stage");
                // Each project is approved in one currency, that of its first tranche, for
                // more than its tranches can reach: every tranche counts.
                let currency = if tranches.first().is_some_and(|t| t.2) { "EUR" } else { "MAD" };
                m.decide(crate::domain::CommitteeDecision { project: id.to_string(), decision: crate::domain::Decision::Approved, date: "2019-01-04".into(), amount: Some("100000000".into()), currency: Some(currency.to_string()), remarks: None }).expect("approve");
                let mut counted = false;
                for (off, cents, _, japan) in tranches {
                    let d = base + Duration::days(*off);
                    let a = Decimal::new(i64::from(*cents), 2);
                    m.add_disbursement(crate::domain::NewTranche { project: id.to_string(), date: day(d), amount: a.to_string().to_string(), currency: currency.to_string(), donor: if *japan { "Japan" } else { "EU" }.to_string(), mode: None, receipt: None, above_approved_because: None }).expect("tranche");
                    if inside(d) {
                        *amount.entry(currency.to_string()).or_default() += a;
                        counted = true;
                    }
                }
                if counted && kind == "creation" { funded += 1; }
            }
            // An erased person keeps only their year of birth, which the age bracket uses.
            for (id, (.., erased)) in ids.iter().zip(&p.persons) {
                if *erased { m.erase_person(id).expect("erase"); }
            }
            let r = m.report(&day(from), &day(to), &Dimension::ALL).expect("report");
            // Counted and split in SQL, the report is the one a count record by record gives.
            prop_assert_eq!(&r, &super::by_records::indicators(m.conn(), from, to, &Dimension::ALL).expect("by records"));
            prop_assert_eq!(&r.indicators["welcomed"], &Measure::Count(welcomed.len() as u64));
            prop_assert_eq!(&r.indicators["projects_funded"], &Measure::Count(funded));
            prop_assert_eq!(&r.indicators["amount_disbursed"], &Measure::Money(amount));
            for (dim, parts) in &r.breakdown {
                let names: BTreeSet<&str> = parts.values().flat_map(|c| c.keys().copied()).collect();
                for name in names {
                    match &r.indicators[name] {
                        Measure::Count(total) => {
                            let sum: u64 = parts.values().map(|c| match c.get(name) { Some(Measure::Count(n)) => *n, _ => 0 }).sum();
                            prop_assert_eq!(sum, *total, "{}/{}", dim, name);
                        }
                        Measure::Money(total) => {
                            let mut sum: BTreeMap<String, Decimal> = BTreeMap::new();
                            for c in parts.values() {
                                if let Some(Measure::Money(mm)) = c.get(name) {
                                    for (cur, a) in mm { *sum.entry(cur.clone()).or_default() += *a; }
                                }
                            }
                            prop_assert_eq!(&sum, total, "{}/{}", dim, name);
                        }
                    }
                }
            }
            // A donor's report counts its projects and money as the split by donor does, and
            // the programme's activities whole.
            for (donor, cell) in &r.breakdown["donor"] {
                let mine = super::indicators(m.conn(), from, to, &[Dimension::Sector], super::Filter { donor: Some(donor), counsellor: None }).expect("donor's report");
                for name in ["projects_funded", "enterprises_reinforced", "amount_disbursed"] {
                    prop_assert_eq!(&mine.indicators[name], &cell[name], "{}/{}", donor, name);
                }
                for name in ["welcomed", "sensitised", "trained", "cooperatives_created", "followups_overdue"] {
                    prop_assert_eq!(&mine.indicators[name], &r.indicators[name], "{}/{}", donor, name);
                }
                let beneficiaries = |rep: &super::Report| match rep.indicators["funded_beneficiaries"] { Measure::Count(n) => n, Measure::Money(_) => 0 };
                prop_assert!(beneficiaries(&mine) <= beneficiaries(&r));
                if mine.indicators["projects_funded"] == Measure::Count(0) {
                    prop_assert_eq!(beneficiaries(&mine), 0);
                }
            }
        }
    }
}
