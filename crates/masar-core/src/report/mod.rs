//! The programme's indicators, exactly as DOMAIN.md defines them, with breakdowns whose
//! parts always add up to the total.
//!
//! A report counts events by their own date within `[from, to]`, both days included.
//! Every split puts each counted person or project in exactly one part ("unknown" when the
//! attribute is unset); a project funded by several donors is counted under the donor of
//! its first tranche in the period, while money is split by the donor of each tranche.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use rusqlite::Connection;
use serde::Serialize;
use ts_rs::TS;

use crate::changes::Db;
use crate::error::{parse_date, InputError, Problem};
use crate::schema::stored_amount;
use crate::Result;

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
    pub const ALL: [Dimension; 6] =
        [Dimension::Sex, Dimension::Age, Dimension::Nationality, Dimension::City, Dimension::Donor, Dimension::Sector];

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
        Dimension::ALL.into_iter().find(|d| d.as_str() == s.trim()).ok_or_else(|| InputError::Invalid {
            field: "by".into(),
            value: s.into(),
            problem: Problem::NotOneOf(Dimension::ALL.iter().map(|d| d.as_str().to_string()).collect()),
        })
    }

    /// The indicators this dimension splits: persons by their attributes, projects and
    /// money by donor and sector.
    pub fn indicators(self) -> &'static [&'static str] {
        match self {
            Dimension::Sex | Dimension::Age | Dimension::Nationality | Dimension::City => {
                &["welcomed", "sensitised", "trained", "funded_beneficiaries"]
            }
            Dimension::Donor => &["projects_funded", "enterprises_reinforced", "amount_disbursed"],
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

/// Indicator name → value.
pub type Cell = BTreeMap<&'static str, Measure>;

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

/// The UNHCR age bracket of someone born on `born`, on `day`.
pub fn age_bracket(born: Option<NaiveDate>, birth_year: Option<i32>, day: NaiveDate) -> &'static str {
    let age = match (born, birth_year) {
        (Some(b), _) => {
            let before_birthday = (day.month(), day.day()) < (b.month(), b.day());
            day.year() - b.year() - i32::from(before_birthday)
        }
        // An erased person keeps only the year: count them as born mid-year.
        (None, Some(y)) => day.year() - y - i32::from(day.ordinal() < 183),
        (None, None) => return "unknown",
    };
    match age {
        i32::MIN..=4 => "0-4",
        5..=11 => "5-11",
        12..=17 => "12-17",
        18..=59 => "18-59",
        _ => "60+",
    }
}

struct PersonFacts {
    sex: String,
    age: &'static str,
    nationality: String,
    city: String,
}

struct Tranche {
    project: String,
    date: String,
    id: String,
    amount: Decimal,
    currency: String,
    donor: String,
    kind: String,
    sector: String,
}

fn or_unknown(v: Option<String>) -> String {
    v.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| "unknown".into())
}

fn person_set(conn: &Connection, sql: &str, from: &str, to: &str) -> Result<BTreeSet<String>> {
    let mut stmt = conn.prepare(sql)?;
    let ids = stmt.query_map([from, to], |r| r.get(0))?.collect::<rusqlite::Result<BTreeSet<String>>>()?;
    Ok(ids)
}

/// Funded or active projects whose latest visit on or before `day` set a next visit due
/// before `day`, with that due date, most overdue first.
pub(crate) fn overdue_projects(conn: &Connection, day: NaiveDate) -> Result<Vec<(String, String)>> {
    let day = day.format("%Y-%m-%d").to_string();
    let mut stmt = conn.prepare(
        "SELECT p.id, f.next_due FROM projects p JOIN followups f ON f.project_id = p.id
         WHERE p.stage IN ('funded', 'active')
           AND f.id = (SELECT g.id FROM followups g WHERE g.project_id = p.id AND g.date <= ?1
                       ORDER BY g.date DESC, g.id DESC LIMIT 1)
           AND f.next_due IS NOT NULL AND f.next_due < ?1
         ORDER BY f.next_due, p.id",
    )?;
    let rows = stmt.query_map([day], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn add_money(map: &mut BTreeMap<String, Decimal>, currency: &str, amount: Decimal) {
    *map.entry(currency.to_string()).or_insert(Decimal::ZERO) += amount;
}

fn count_into(cells: &mut BTreeMap<String, Cell>, part: &str, indicator: &'static str) {
    let cell = cells.entry(part.to_string()).or_default();
    match cell.entry(indicator).or_insert(Measure::Count(0)) {
        Measure::Count(n) => *n += 1,
        Measure::Money(_) => {}
    }
}

fn money_into(cells: &mut BTreeMap<String, Cell>, part: &str, currency: &str, amount: Decimal) {
    let cell = cells.entry(part.to_string()).or_default();
    if let Measure::Money(m) = cell.entry("amount_disbursed").or_insert_with(|| Measure::Money(BTreeMap::new())) {
        add_money(m, currency, amount);
    }
}

/// Computes the indicators of `[from, to]` and the breakdowns in `by`.
pub(crate) fn indicators(conn: &Connection, from: NaiveDate, to: NaiveDate, by: &[Dimension]) -> Result<Report> {
    let (f, t) = (from.format("%Y-%m-%d").to_string(), to.format("%Y-%m-%d").to_string());

    let welcomed = person_set(conn, "SELECT DISTINCT person_id FROM intakes WHERE date BETWEEN ?1 AND ?2", &f, &t)?;
    let attended = |kind: &str| {
        person_set(
            conn,
            &format!(
                "SELECT DISTINCT a.person_id FROM attendance a JOIN sessions s ON s.id = a.session_id
                 WHERE s.kind = '{kind}' AND a.present = 1 AND s.date BETWEEN ?1 AND ?2"
            ),
            &f,
            &t,
        )
    };
    let sensitised = attended("awareness")?;
    let trained = attended("training")?;

    let mut stmt = conn.prepare(
        "SELECT d.project_id, d.date, d.id, d.amount, d.currency, d.donor, p.kind, p.sector
         FROM disbursements d JOIN projects p ON p.id = d.project_id
         WHERE d.date BETWEEN ?1 AND ?2 ORDER BY d.project_id, d.date, d.id",
    )?;
    let rows = stmt
        .query_map([&f, &t], |r| {
            Ok((
                r.get::<_, Option<String>>(3)?,
                Tranche {
                    project: r.get(0)?,
                    date: r.get(1)?,
                    id: r.get(2)?,
                    amount: Decimal::ZERO,
                    currency: or_unknown(r.get(4)?),
                    donor: or_unknown(r.get(5)?),
                    kind: or_unknown(r.get(6)?),
                    sector: or_unknown(r.get(7)?),
                },
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Stored money that does not read as a decimal is an error, never counted as zero.
    let mut tranches = Vec::with_capacity(rows.len());
    for (text, mut tr) in rows {
        tr.amount = stored_amount("amount", text)?.unwrap_or_default();
        tranches.push(tr);
    }

    // The first tranche of each project in the period decides its donor for counting.
    let mut first: BTreeMap<&str, &Tranche> = BTreeMap::new();
    for tr in &tranches {
        let e = first.entry(&tr.project).or_insert(tr);
        if (tr.date.as_str(), tr.id.as_str()) < (e.date.as_str(), e.id.as_str()) {
            *e = tr;
        }
    }
    let funded: Vec<&Tranche> = first.values().copied().filter(|tr| tr.kind == "creation").collect();
    let reinforced: Vec<&Tranche> = first.values().copied().filter(|tr| tr.kind == "reinforcement").collect();

    let mut beneficiaries = BTreeSet::new();
    {
        let mut stmt = conn.prepare("SELECT person_id FROM members WHERE project_id = ?1 AND active = 1")?;
        for tr in &funded {
            for id in stmt.query_map([&tr.project], |r| r.get::<_, String>(0))? {
                beneficiaries.insert(id?);
            }
        }
    }

    let mut stmt = conn.prepare(
        "SELECT id, sector FROM projects WHERE kind = 'cooperative' AND registered_on BETWEEN ?1 AND ?2",
    )?;
    let cooperatives = stmt
        .query_map([&f, &t], |r| Ok((r.get::<_, String>(0)?, or_unknown(r.get(1)?))))?
        .collect::<rusqlite::Result<Vec<_>>>()?;

    let overdue = overdue_projects(conn, to)?;

    let mut amount = BTreeMap::new();
    for tr in &tranches {
        add_money(&mut amount, &tr.currency, tr.amount);
    }

    let mut totals = Cell::new();
    totals.insert("welcomed", Measure::Count(welcomed.len() as u64));
    totals.insert("sensitised", Measure::Count(sensitised.len() as u64));
    totals.insert("trained", Measure::Count(trained.len() as u64));
    totals.insert("projects_funded", Measure::Count(funded.len() as u64));
    totals.insert("funded_beneficiaries", Measure::Count(beneficiaries.len() as u64));
    totals.insert("enterprises_reinforced", Measure::Count(reinforced.len() as u64));
    totals.insert("cooperatives_created", Measure::Count(cooperatives.len() as u64));
    totals.insert("amount_disbursed", Measure::Money(amount));
    totals.insert("followups_overdue", Measure::Count(overdue.len() as u64));

    let mut breakdown = BTreeMap::new();
    let person_dims: Vec<Dimension> =
        by.iter().copied().filter(|d| matches!(d, Dimension::Sex | Dimension::Age | Dimension::Nationality | Dimension::City)).collect();
    let facts = if person_dims.is_empty() { HashMap::new() } else { person_facts(conn, to)? };
    for dim in by {
        let mut cells: BTreeMap<String, Cell> = BTreeMap::new();
        match dim {
            Dimension::Sex | Dimension::Age | Dimension::Nationality | Dimension::City => {
                let part = |id: &String| -> String {
                    match facts.get(id) {
                        None => "unknown".into(),
                        Some(p) => match dim {
                            Dimension::Sex => p.sex.clone(),
                            Dimension::Age => p.age.to_string(),
                            Dimension::Nationality => p.nationality.clone(),
                            _ => p.city.clone(),
                        },
                    }
                };
                for (name, set) in [
                    ("welcomed", &welcomed),
                    ("sensitised", &sensitised),
                    ("trained", &trained),
                    ("funded_beneficiaries", &beneficiaries),
                ] {
                    for id in set {
                        count_into(&mut cells, &part(id), name);
                    }
                }
            }
            Dimension::Donor | Dimension::Sector => {
                let part = |tr: &Tranche| if *dim == Dimension::Donor { tr.donor.clone() } else { tr.sector.clone() };
                for tr in &funded {
                    count_into(&mut cells, &part(tr), "projects_funded");
                }
                for tr in &reinforced {
                    count_into(&mut cells, &part(tr), "enterprises_reinforced");
                }
                for tr in &tranches {
                    money_into(&mut cells, &part(tr), &tr.currency, tr.amount);
                }
                if *dim == Dimension::Sector {
                    for (_, sector) in &cooperatives {
                        count_into(&mut cells, sector, "cooperatives_created");
                    }
                    let mut stmt = conn.prepare("SELECT sector FROM projects WHERE id = ?1")?;
                    for (id, _) in &overdue {
                        let sector: Option<String> = stmt.query_row([id], |r| r.get(0))?;
                        count_into(&mut cells, &or_unknown(sector), "followups_overdue");
                    }
                }
            }
        }
        // Every part shows every indicator of its dimension, zero where nothing counted.
        for cell in cells.values_mut() {
            for name in dim.indicators() {
                cell.entry(name).or_insert_with(|| {
                    if *name == "amount_disbursed" { Measure::Money(BTreeMap::new()) } else { Measure::Count(0) }
                });
            }
        }
        breakdown.insert(dim.as_str(), cells);
    }
    Ok(Report { from, to, indicators: totals, breakdown })
}

fn person_facts(conn: &Connection, day: NaiveDate) -> Result<HashMap<String, PersonFacts>> {
    let mut stmt = conn.prepare("SELECT id, sex, born, birth_year, nationality, city FROM persons")?;
    let rows = stmt.query_map([], |r| {
        let born: Option<String> = r.get(2)?;
        let born = born.and_then(|b| NaiveDate::parse_from_str(&b, "%Y-%m-%d").ok());
        let year: Option<i32> = r.get(3)?;
        Ok((
            r.get::<_, String>(0)?,
            PersonFacts {
                sex: or_unknown(r.get(1)?),
                age: age_bracket(born, year, day),
                nationality: or_unknown(r.get(4)?),
                city: or_unknown(r.get(5)?),
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
}

/// A tranche that took its project's payments above the amount the committee approved,
/// in the project's currency, with no supervisor's reason: what the laptop that recorded
/// it should have refused. An insider can sign one under their own name by editing their
/// own database; it is shown, with who recorded it, rather than left unnoticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct UnexplainedTranche {
    /// The project.
    pub project: String,
    /// Its title.
    pub title: Option<String>,
    /// The tranche.
    pub tranche: String,
    /// When it was paid.
    pub date: Option<String>,
    /// How much, as a decimal.
    pub amount: String,
    /// The currency.
    pub currency: String,
    /// Paid in that currency up to and with this tranche.
    pub paid: String,
    /// The amount the committee approved.
    pub approved: String,
    /// Who recorded it, by the name their certificate carries.
    pub recorded_by: Option<String>,
    /// On which laptop.
    pub device: Option<String>,
}

/// Every tranche above its project's approved amount without a reason, by project and date.
pub(crate) fn unexplained_tranches(conn: &Connection) -> Result<Vec<UnexplainedTranche>> {
    type ProjectRow = (String, Option<String>, Option<String>, Option<String>);
    let projects: Vec<ProjectRow> = conn
        .prepare("SELECT id, title, approved_amount, currency FROM projects WHERE approved_amount IS NOT NULL ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    type TrancheRow = (String, Option<String>, Option<String>, Option<String>, Option<String>);
    let mut tranches = conn.prepare(
        "SELECT id, date, amount, currency, override_reason FROM disbursements WHERE project_id = ?1 ORDER BY date, id",
    )?;
    let mut author = conn.prepare(
        "SELECT user_name, device FROM changes WHERE entity = 'disbursement' AND record = ?1 AND creates = 1 LIMIT 1",
    )?;
    let mut out = Vec::new();
    for (project, title, approved, currency) in projects {
        let Some(approved) = stored_amount("approved_amount", approved)? else { continue };
        let rows: Vec<TrancheRow> =
            tranches.query_map([&project], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect::<rusqlite::Result<_>>()?;
        // The approved amount is in the project's currency, else in that of its first tranche.
        let Some(currency) = currency.or_else(|| rows.first().and_then(|t| t.3.clone())) else { continue };
        let mut paid = Decimal::ZERO;
        for (tranche, date, amount, tranche_currency, reason) in rows {
            if tranche_currency.as_deref() != Some(currency.as_str()) {
                continue;
            }
            let amount = stored_amount("amount", amount)?.unwrap_or_default();
            paid += amount;
            if paid > approved && reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                let (recorded_by, device) = author
                    .query_row([&tranche], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map(|(n, d): (Option<String>, String)| (n, Some(d)))
                    .unwrap_or((None, None));
                out.push(UnexplainedTranche {
                    project: project.clone(),
                    title: title.clone(),
                    tranche,
                    date,
                    amount: amount.to_string(),
                    currency: currency.clone(),
                    paid: paid.to_string(),
                    approved: approved.to_string(),
                    recorded_by,
                    device,
                });
            }
        }
    }
    Ok(out)
}

impl Db {
    /// The indicators of the period `[from, to]` with the breakdowns in `by`.
    pub(crate) fn report(&self, from: &str, to: &str, by: &[Dimension]) -> Result<Report> {
        let from_d = parse_date("from", from)?;
        let to_d = parse_date("to", to)?;
        if from_d > to_d {
            return Err(InputError::rule("period_reversed", format!("the period starts ({from}) after it ends ({to}): swap --from and --to"), &[("from", from), ("to", to)]).into());
        }
        let mut dims = by.to_vec();
        dims.sort();
        dims.dedup();
        indicators(self.conn(), from_d, to_d, &dims)
    }

    /// Tranches above their project's approved amount without a reason (supervisors).
    pub(crate) fn unexplained_tranches(&self) -> Result<Vec<UnexplainedTranche>> {
        self.require(crate::auth::Permission::DecideInCommittee)?;
        unexplained_tranches(self.conn())
    }

    /// Funded or active projects whose next visit was due before `day` with no visit
    /// since, most overdue first: what a counsellor must see first.
    pub(crate) fn overdue_followups(&self, day: NaiveDate) -> Result<Vec<(String, String)>> {
        overdue_projects(self.conn(), day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_money_that_is_not_a_decimal_is_an_error_not_a_zero() {
        let (_d, mut m) = crate::testing::temp_db();
        let a = crate::testing::person(&mut m, "Amina", "female", "1990-01-01");
        let p = m.add_project("Bakery", "creation", "food", &[a], Some("2024-01-01")).unwrap();
        m.add_budget_line(&p, "Oven", "1", "900").unwrap();
        m.set_stage(&p, "plan_ready", "2024-01-02").unwrap();
        m.set_stage(&p, "in_committee", "2024-01-03").unwrap();
        m.decide(&p, "approved", "2024-01-04", Some("1000"), None).unwrap();
        m.add_disbursement(&p, "2024-01-05", "1000", "MAD", "EU", None, None).unwrap();
        m.conn().execute("UPDATE disbursements SET amount = '1O00'", []).unwrap();
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
        assert_eq!(age_bracket(Some(d("2000-06-15")), None, d("2018-06-14")), "12-17");
        assert_eq!(age_bracket(Some(d("2000-06-15")), None, d("2018-06-15")), "18-59");
        assert_eq!(age_bracket(Some(d("1960-01-01")), None, d("2020-01-01")), "60+");
        assert_eq!(age_bracket(Some(d("2016-01-01")), None, d("2020-12-31")), "0-4");
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

    #[derive(Debug, Clone)]
    struct Programme {
        persons: Vec<(u8, i32, u8, Option<u8>)>,
        intakes: Vec<(usize, i64)>,
        sessions: Vec<(bool, i64, Vec<usize>)>,
        projects: Vec<(u8, u8, Vec<usize>, Vec<(i64, u32, bool, bool)>)>,
        from: i64,
        len: i64,
    }

    fn programme() -> impl Strategy<Value = Programme> {
        (1usize..10).prop_flat_map(|n| {
            (
                prop::collection::vec((0u8..3, 1950i32..2015, 0u8..3, prop::option::of(0u8..3)), n),
                prop::collection::vec((0..n, 0i64..730), 0..15),
                prop::collection::vec((any::<bool>(), 0i64..730, prop::collection::btree_set(0..n, 0..n).prop_map(|s| s.into_iter().collect())), 0..4),
                prop::collection::vec(
                    (0u8..3, 0u8..2, prop::collection::btree_set(0..n, 1..=n).prop_map(|s| s.into_iter().collect()), prop::collection::vec((0i64..730, 1u32..100_000, any::<bool>(), any::<bool>()), 0..3)),
                    0..5,
                ),
                0i64..365,
                0i64..500,
            )
                .prop_map(|(persons, intakes, sessions, projects, from, len)| Programme { persons, intakes, sessions, projects, from, len })
        })
    }

    fn day(d: NaiveDate) -> String {
        d.format("%Y-%m-%d").to_string()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Whatever the programme, every split adds up to its total, and the totals agree
        /// with a direct count of what was typed.
        #[test]
        fn breakdowns_add_up_and_totals_match_a_direct_count(p in programme()) {
            let (_d, mut m) = temp_db();
            let base = NaiveDate::from_ymd_opt(2020, 1, 1).expect("date");
            let ids: Vec<String> = p.persons.iter().enumerate().map(|(i, (sex, year, nat, city))| {
                let mut fields = kv(&[
                    ("given", &format!("P{i}")), ("family", "F"), ("sex", ["female", "male", "other"][*sex as usize]),
                    ("born", &format!("{year}-03-04")), ("nationality", ["SYR", "COD", "YEM"][*nat as usize]),
                ]);
                if let Some(c) = city { fields.push(("city".into(), ["Rabat", "Oujda", "Fès"][*c as usize].into())); }
                m.add_person(&fields).expect("person")
            }).collect();
            let from = base + Duration::days(p.from);
            let to = from + Duration::days(p.len);
            let inside = |d: NaiveDate| d >= from && d <= to;
            let mut welcomed = BTreeSet::new();
            for (who, off) in &p.intakes {
                let d = base + Duration::days(*off);
                m.add_intake(&ids[*who], &day(d), None).expect("intake");
                if inside(d) { welcomed.insert(*who); }
            }
            for (awareness, off, who) in &p.sessions {
                let attendees: Vec<String> = who.iter().map(|i| ids[*i].clone()).collect();
                m.add_session(if *awareness { "awareness" } else { "training" }, &day(base + Duration::days(*off)), "T", None, &attendees).expect("session");
            }
            let mut amount: BTreeMap<String, Decimal> = BTreeMap::new();
            let mut funded = 0u64;
            for (kind, sector, members, tranches) in &p.projects {
                let members: Vec<String> = members.iter().map(|i| ids[*i].clone()).collect();
                let kind = ["creation", "reinforcement", "cooperative"][*kind as usize];
                let id = m.add_project("P", kind, ["food", "crafts"][*sector as usize], &members, Some("2019-01-01")).expect("project");
                m.add_budget_line(&id, "Oven", "1", "900").expect("line");
                m.set_stage(&id, "plan_ready", "2019-01-02").expect("stage");
                m.set_stage(&id, "in_committee", "2019-01-03").expect("stage");
                m.decide(&id, "approved", "2019-01-04", None, None).expect("approve");
                let mut counted = false;
                for (off, cents, eur, japan) in tranches {
                    let d = base + Duration::days(*off);
                    let a = Decimal::new(i64::from(*cents), 2);
                    let currency = if *eur { "EUR" } else { "MAD" };
                    m.add_disbursement(&id, &day(d), &a.to_string(), currency, if *japan { "Japan" } else { "EU" }, None, None).expect("tranche");
                    if inside(d) {
                        *amount.entry(currency.to_string()).or_default() += a;
                        counted = true;
                    }
                }
                if counted && kind == "creation" { funded += 1; }
            }
            let r = m.report(&day(from), &day(to), &Dimension::ALL).expect("report");
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
        }
    }
}
