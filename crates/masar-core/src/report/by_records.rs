//! The indicators computed record by record, as the first version did: every counted
//! person's id in a set, every person's attributes in a map. Kept only as the reference
//! the SQL aggregation is compared with (`tests::the_aggregated_report_equals_a_record_by_record_count`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use rusqlite::Connection;

use super::{
    count_into, fill_indicators, first_tranches, or_unknown, overdue_projects, period_cooperatives,
    period_tranches, project_cells, total_amount, Cell, Dimension, Measure, Projects, Report,
};
use crate::Result;

/// The UNHCR age bracket of someone born on `born`, on `day`.
pub(crate) fn age_bracket(
    born: Option<NaiveDate>,
    birth_year: Option<i32>,
    day: NaiveDate,
) -> &'static str {
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

fn person_set(conn: &Connection, sql: &str, from: &str, to: &str) -> Result<BTreeSet<String>> {
    let mut stmt = conn.prepare(sql)?;
    let ids = stmt
        .query_map([from, to], |r| r.get(0))?
        .collect::<rusqlite::Result<BTreeSet<String>>>()?;
    Ok(ids)
}

/// Computes the indicators of `[from, to]` and the breakdowns in `by`, record by record.
pub(crate) fn indicators(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    by: &[Dimension],
) -> Result<Report> {
    let (f, t) = (
        from.format("%Y-%m-%d").to_string(),
        to.format("%Y-%m-%d").to_string(),
    );

    let welcomed = person_set(
        conn,
        "SELECT DISTINCT person_id FROM intakes WHERE date BETWEEN ?1 AND ?2",
        &f,
        &t,
    )?;
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

    crate::money::mark_held(conn)?;
    let tranches = period_tranches(conn, &f, &t, None)?;
    let (funded, reinforced) = first_tranches(&tranches);

    let mut beneficiaries = BTreeSet::new();
    {
        let mut stmt =
            conn.prepare("SELECT person_id FROM members WHERE project_id = ?1 AND active = 1")?;
        for tr in &funded {
            for id in stmt.query_map([&tr.project], |r| r.get::<_, String>(0))? {
                beneficiaries.insert(id?);
            }
        }
    }

    let cooperatives = period_cooperatives(conn, &f, &t, None)?;
    let overdue = overdue_projects(conn, to, None)?;
    let amount = total_amount(&tranches);

    let mut totals = Cell::new();
    totals.insert("welcomed", Measure::Count(welcomed.len() as u64));
    totals.insert("sensitised", Measure::Count(sensitised.len() as u64));
    totals.insert("trained", Measure::Count(trained.len() as u64));
    totals.insert("projects_funded", Measure::Count(funded.len() as u64));
    totals.insert(
        "funded_beneficiaries",
        Measure::Count(beneficiaries.len() as u64),
    );
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
    let person_dims: Vec<Dimension> = by
        .iter()
        .copied()
        .filter(|d| {
            matches!(
                d,
                Dimension::Sex | Dimension::Age | Dimension::Nationality | Dimension::City
            )
        })
        .collect();
    let facts = if person_dims.is_empty() {
        HashMap::new()
    } else {
        person_facts(conn, to)?
    };
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
                let projects = Projects {
                    funded: &funded,
                    reinforced: &reinforced,
                    tranches: &tranches,
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

fn person_facts(conn: &Connection, day: NaiveDate) -> Result<HashMap<String, PersonFacts>> {
    let mut stmt =
        conn.prepare("SELECT id, sex, born, birth_year, nationality, city FROM persons")?;
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
