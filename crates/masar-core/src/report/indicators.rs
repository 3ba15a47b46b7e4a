//! The indicators computed: persons counted and split in SQL in one pass over the
//! period's events, the period's tranches read to add money exactly.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rusqlite::Connection;
use rust_decimal::Decimal;

use super::{Cell, Dimension, Filter, Measure, Report};
use crate::schema::stored_amount;
use crate::Result;

#[derive(Clone)]
pub(super) struct Tranche {
    pub(super) project: String,
    date: String,
    id: String,
    amount: Decimal,
    currency: String,
    donor: String,
    kind: String,
    sector: String,
}

pub(super) fn or_unknown(v: Option<String>) -> String {
    v.filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Funded or active projects whose latest visit on or before `day` set a next visit due
/// before `day`, with that due date, most overdue first.
/// With `counsellor`, only the projects they follow.
pub(crate) fn overdue_projects(
    conn: &Connection,
    day: NaiveDate,
    counsellor: Option<&str>,
) -> Result<Vec<(String, String)>> {
    let day = day.format("%Y-%m-%d").to_string();
    let mut stmt = conn.prepare(
        "SELECT p.id, f.next_due FROM projects p JOIN followups f ON f.project_id = p.id
         WHERE p.stage IN ('funded', 'active')
           AND f.id = (SELECT g.id FROM followups g WHERE g.project_id = p.id AND g.date <= ?1
                       ORDER BY g.date DESC, g.id DESC LIMIT 1)
           AND f.next_due IS NOT NULL AND f.next_due < ?1
           AND (?2 IS NULL OR p.counsellor = ?2)
         ORDER BY f.next_due, p.id",
    )?;
    let rows = stmt
        .query_map(rusqlite::params![day, counsellor], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn add_money(map: &mut BTreeMap<String, Decimal>, currency: &str, amount: Decimal) {
    *map.entry(currency.to_string()).or_insert(Decimal::ZERO) += amount;
}

pub(super) fn count_into(cells: &mut BTreeMap<String, Cell>, part: &str, indicator: &'static str) {
    let cell = cells.entry(part.to_string()).or_default();
    match cell.entry(indicator).or_insert(Measure::Count(0)) {
        Measure::Count(n) => *n += 1,
        Measure::Money(_) => {}
    }
}

fn money_into(cells: &mut BTreeMap<String, Cell>, part: &str, currency: &str, amount: Decimal) {
    let cell = cells.entry(part.to_string()).or_default();
    if let Measure::Money(m) = cell
        .entry("amount_disbursed")
        .or_insert_with(|| Measure::Money(BTreeMap::new()))
    {
        add_money(m, currency, amount);
    }
}

/// The tranches paid in `[f, t]` (to the projects `counsellor` follows, if given), by
/// project, date and id, their money read exactly.
pub(super) fn period_tranches(
    conn: &Connection,
    f: &str,
    t: &str,
    counsellor: Option<&str>,
) -> Result<Vec<Tranche>> {
    let mut stmt = conn.prepare(
        "SELECT d.project_id, d.date, d.id, d.amount, d.currency, d.donor, p.kind, p.sector
         FROM disbursements d JOIN projects p ON p.id = d.project_id
         WHERE d.date BETWEEN ?1 AND ?2 AND d.id NOT IN temp.held_tranches AND (?3 IS NULL OR p.counsellor = ?3)
         ORDER BY d.project_id, d.date, d.id",
    )?;
    let rows = stmt
        .query_map(rusqlite::params![f, t, counsellor], |r| {
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
    Ok(tranches)
}

/// The cooperatives registered in `[f, t]` (that `counsellor` follows, if given), with their sector.
pub(super) fn period_cooperatives(
    conn: &Connection,
    f: &str,
    t: &str,
    counsellor: Option<&str>,
) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT id, sector FROM projects WHERE kind = 'cooperative' AND registered_on BETWEEN ?1 AND ?2 AND (?3 IS NULL OR counsellor = ?3)",
    )?;
    let rows = stmt.query_map(rusqlite::params![f, t, counsellor], |r| {
        Ok((r.get::<_, String>(0)?, or_unknown(r.get(1)?)))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The money of `tranches`, per currency.
pub(super) fn total_amount(tranches: &[Tranche]) -> BTreeMap<String, Decimal> {
    let mut amount = BTreeMap::new();
    for tr in tranches {
        add_money(&mut amount, &tr.currency, tr.amount);
    }
    amount
}

/// The first tranche in the period of each project funded (`creation`) and reinforced:
/// it decides the project's donor for counting.
pub(super) fn first_tranches(tranches: &[Tranche]) -> (Vec<&Tranche>, Vec<&Tranche>) {
    let mut first: BTreeMap<&str, &Tranche> = BTreeMap::new();
    for tr in tranches {
        let e = first.entry(&tr.project).or_insert(tr);
        if (tr.date.as_str(), tr.id.as_str()) < (e.date.as_str(), e.id.as_str()) {
            *e = tr;
        }
    }
    let funded = first
        .values()
        .copied()
        .filter(|tr| tr.kind == "creation")
        .collect();
    let reinforced = first
        .values()
        .copied()
        .filter(|tr| tr.kind == "reinforcement")
        .collect();
    (funded, reinforced)
}

/// What the project indicators of a period count.
pub(super) struct Projects<'a> {
    pub(super) funded: &'a [&'a Tranche],
    pub(super) reinforced: &'a [&'a Tranche],
    pub(super) tranches: &'a [Tranche],
    pub(super) cooperatives: &'a [(String, String)],
    pub(super) overdue: &'a [(String, String)],
}

/// Splits the project indicators by donor or sector into `cells`.
pub(super) fn project_cells(
    conn: &Connection,
    dim: Dimension,
    p: &Projects<'_>,
    cells: &mut BTreeMap<String, Cell>,
) -> Result<()> {
    let part = |tr: &Tranche| {
        if dim == Dimension::Donor {
            tr.donor.clone()
        } else {
            tr.sector.clone()
        }
    };
    for tr in p.funded {
        count_into(cells, &part(tr), "projects_funded");
    }
    for tr in p.reinforced {
        count_into(cells, &part(tr), "enterprises_reinforced");
    }
    for tr in p.tranches {
        money_into(cells, &part(tr), &tr.currency, tr.amount);
    }
    if dim == Dimension::Sector {
        for (_, sector) in p.cooperatives {
            count_into(cells, sector, "cooperatives_created");
        }
        let mut stmt = conn.prepare("SELECT sector FROM projects WHERE id = ?1")?;
        for (id, _) in p.overdue {
            let sector: Option<String> = stmt.query_row([id], |r| r.get(0))?;
            count_into(cells, &or_unknown(sector), "followups_overdue");
        }
    }
    Ok(())
}

/// Every part shows every indicator of its dimension, zero where nothing counted.
pub(super) fn fill_indicators(dim: Dimension, cells: &mut BTreeMap<String, Cell>) {
    for cell in cells.values_mut() {
        for name in dim.indicators() {
            cell.entry(name).or_insert_with(|| {
                if *name == "amount_disbursed" {
                    Measure::Money(BTreeMap::new())
                } else {
                    Measure::Count(0)
                }
            });
        }
    }
}

/// A person's part in a person dimension, as SQL over `persons p` (all NULL when the
/// person is unknown: "unknown"), on the period's last day `to` for the age.
fn person_part(dim: Dimension, to: NaiveDate) -> String {
    let text = |column: &str| format!("coalesce(nullif(trim(p.{column}), ''), 'unknown')");
    let bracket = |age: &str| {
        format!("CASE WHEN {age} <= 4 THEN '0-4' WHEN {age} <= 11 THEN '5-11' WHEN {age} <= 17 THEN '12-17' WHEN {age} <= 59 THEN '18-59' ELSE '60+' END")
    };
    match dim {
        Dimension::Sex => text("sex"),
        Dimension::Nationality => text("nationality"),
        Dimension::City => text("city"),
        // As `by_records::age_bracket`: from the birth date (a day not yet reached this year counts one
        // year less), else from the year an erasure kept, as if born mid-year.
        _ => {
            let (year, month_day, ordinal) = (to.year(), to.format("%m-%d"), to.ordinal());
            let from_born = bracket(&format!("({year} - CAST(substr(p.born, 1, 4) AS INTEGER) - ('{month_day}' < substr(p.born, 6, 5)))"));
            let from_year = bracket(&format!(
                "({year} - p.birth_year - {})",
                i32::from(ordinal < 183)
            ));
            format!(
                "CASE WHEN p.born GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN {from_born}
                      WHEN p.birth_year IS NOT NULL THEN {from_year} ELSE 'unknown' END"
            )
        }
    }
}

/// The person indicators, counted in SQL in one pass over the period's events: for each
/// combination of sex, age bracket, nationality and city, how many persons were welcomed,
/// sensitised, trained and members of a project funded (first funded) in the period.
/// Each person counts once per indicator, in exactly one combination.
/// With a donor, the beneficiaries are those of the projects whose first tranche in the
/// period is that donor's; the other person indicators are the whole programme's. With a
/// counsellor, only the persons they follow count.
fn person_counts(
    conn: &Connection,
    f: &str,
    t: &str,
    to: NaiveDate,
    filter: Filter<'_>,
) -> Result<Vec<([String; 4], [u64; 4])>> {
    let parts = [
        Dimension::Sex,
        Dimension::Age,
        Dimension::Nationality,
        Dimension::City,
    ]
    .map(|d| person_part(d, to));
    let sql = format!(
        "WITH events(id, w, s, t, b) AS (
             SELECT person_id, 1, 0, 0, 0 FROM intakes WHERE date BETWEEN ?1 AND ?2
             UNION ALL
             SELECT a.person_id, 0, s.kind = 'awareness', s.kind = 'training', 0
               FROM sessions s JOIN attendance a ON a.session_id = s.id
              WHERE s.date BETWEEN ?1 AND ?2 AND s.kind IN ('awareness', 'training') AND a.present = 1
             UNION ALL
             SELECT m.person_id, 0, 0, 0, 1 FROM members m
              WHERE m.active = 1 AND m.project_id IN (
                    SELECT d.project_id FROM disbursements d JOIN projects pr ON pr.id = d.project_id
                     WHERE d.date BETWEEN ?1 AND ?2 AND pr.kind = 'creation' AND d.id NOT IN temp.held_tranches
                       AND (?3 IS NULL OR ?3 = (
                            SELECT coalesce(nullif(trim(e.donor), ''), 'unknown') FROM disbursements e
                             WHERE e.project_id = d.project_id AND e.date BETWEEN ?1 AND ?2 AND e.id NOT IN temp.held_tranches
                             ORDER BY e.date, e.id LIMIT 1)))),
         counted AS (SELECT id, max(w) AS w, max(s) AS s, max(t) AS t, max(b) AS b FROM events WHERE id IS NOT NULL GROUP BY id)
         SELECT {}, {}, {}, {}, sum(c.w), sum(c.s), sum(c.t), sum(c.b)
         FROM counted c LEFT JOIN persons p ON p.id = c.id WHERE (?4 IS NULL OR p.counsellor = ?4) GROUP BY 1, 2, 3, 4",
        parts[0], parts[1], parts[2], parts[3]
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(
        rusqlite::params![f, t, filter.donor, filter.counsellor],
        |r| {
            Ok((
                [r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?],
                [r.get::<_, i64>(4)?, r.get(5)?, r.get(6)?, r.get(7)?].map(|n| n.max(0) as u64),
            ))
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The person indicators, in the order `person_counts` gives them.
const PERSON_INDICATORS: [&str; 4] = ["welcomed", "sensitised", "trained", "funded_beneficiaries"];

/// Computes the indicators of `[from, to]` and the breakdowns in `by`. Persons are counted
/// and split in SQL; tranches of the period are read to add their money exactly (SQLite
/// would add decimals as floating point) and to find each project's first donor.
///
/// For a donor, projects, their beneficiaries and money are that donor's part, exactly
/// as the split by donor counts it (a project under the donor of its first tranche in the
/// period, each tranche's money under its own donor); persons welcomed, sensitised and
/// trained, cooperatives and overdue follow-ups stay the whole programme's. For a
/// counsellor, every indicator counts the persons and projects they follow.
pub(crate) fn indicators(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    by: &[Dimension],
    filter: Filter<'_>,
) -> Result<Report> {
    let (f, t) = (
        from.format("%Y-%m-%d").to_string(),
        to.format("%Y-%m-%d").to_string(),
    );
    // Held tranches count nowhere (crate::money).
    crate::money::mark_held(conn)?;
    let persons = person_counts(conn, &f, &t, to, filter)?;
    let donor = filter.donor;

    let tranches = period_tranches(conn, &f, &t, filter.counsellor)?;
    let (mut funded, mut reinforced) = first_tranches(&tranches);
    if let Some(donor) = donor {
        funded.retain(|tr| tr.donor == donor);
        reinforced.retain(|tr| tr.donor == donor);
    }
    // The firsts borrow the tranches: the donor's money is taken from a copy.
    let tranches_of_donor: Vec<Tranche>;
    let tranches: &[Tranche] = match donor {
        Some(donor) => {
            tranches_of_donor = tranches
                .iter()
                .filter(|tr| tr.donor == donor)
                .cloned()
                .collect();
            &tranches_of_donor
        }
        None => &tranches,
    };

    let cooperatives = period_cooperatives(conn, &f, &t, filter.counsellor)?;
    let overdue = overdue_projects(conn, to, filter.counsellor)?;
    let amount = total_amount(tranches);

    let mut totals = Cell::new();
    for (i, name) in PERSON_INDICATORS.iter().enumerate() {
        totals.insert(
            name,
            Measure::Count(persons.iter().map(|(_, n)| n[i]).sum()),
        );
    }
    totals.insert("projects_funded", Measure::Count(funded.len() as u64));
    totals.insert(
        "enterprises_reinforced",
        Measure::Count(reinforced.len() as u64),
    );
    totals.insert(
        "cooperatives_created",
        Measure::Count(cooperatives.len() as u64),
    );
    totals.insert("amount_disbursed", Measure::Money(amount));
    totals.insert("followups_overdue", Measure::Count(overdue.len() as u64));

    let mut breakdown = BTreeMap::new();
    for dim in by {
        let mut cells: BTreeMap<String, Cell> = BTreeMap::new();
        match dim {
            Dimension::Sex | Dimension::Age | Dimension::Nationality | Dimension::City => {
                let column = [
                    Dimension::Sex,
                    Dimension::Age,
                    Dimension::Nationality,
                    Dimension::City,
                ]
                .iter()
                .position(|d| d == dim)
                .unwrap_or(0);
                for (parts, counts) in &persons {
                    let cell = cells.entry(parts[column].clone()).or_default();
                    for (name, n) in PERSON_INDICATORS.iter().zip(counts) {
                        if let Measure::Count(c) = cell.entry(name).or_insert(Measure::Count(0)) {
                            *c += n;
                        }
                    }
                }
            }
            Dimension::Donor | Dimension::Sector => {
                let projects = Projects {
                    funded: &funded,
                    reinforced: &reinforced,
                    tranches,
                    cooperatives: &cooperatives,
                    overdue: &overdue,
                };
                project_cells(conn, *dim, &projects, &mut cells)?;
            }
        }
        fill_indicators(*dim, &mut cells);
        breakdown.insert(dim.as_str(), cells);
    }
    Ok(Report {
        from,
        to,
        indicators: totals,
        breakdown,
    })
}
