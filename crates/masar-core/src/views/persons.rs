//! The persons: the table (filters in SQL, a search's matches ranked), the cities, a
//! person's journey, and who may be the one being registered.

use super::*;

/// A search matching more persons than this, all equally well, gives its page by walking
/// persons in name order: below it, sorting the matches is as fast.
const WALK_FROM: u64 = 1_000;

/// The orders of the persons table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PersonSort {
    /// The best matches of a search first, else by name.
    #[default]
    #[serde(rename = "")]
    Best,
    /// Family then given name.
    Name,
    /// Date (or year) of birth.
    Born,
    /// City.
    City,
    /// UNHCR number.
    UnhcrId,
    /// Order of registration.
    Registered,
}

/// How the persons table is asked for: filters, order, page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct PersonQuery {
    /// A fragment of a name (either script), a UNHCR number or a phone.
    pub search: Option<String>,
    /// Only the persons this user registered.
    pub mine: bool,
    /// Only the persons of this city.
    pub city: Option<String>,
    /// The column the table is ordered by.
    pub sort: PersonSort,
    /// Largest first.
    pub descending: bool,
    /// Rows skipped.
    pub offset: u32,
    /// Rows wanted (at most 200).
    pub limit: u32,
}

/// A page of the persons table.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct PersonsPage {
    /// Persons matching the filters, in all.
    pub total: u64,
    /// Rows skipped.
    pub offset: u32,
    /// This page's persons.
    pub rows: Vec<Person>,
    /// The cities persons live in, for the filter.
    pub cities: Vec<String>,
}

/// One dated event of a person's journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct TimelineEvent {
    /// When.
    pub date: Option<NaiveDate>,
    /// intake, awareness, training, stage:STAGE, disbursement, followup or referral.
    pub kind: String,
    /// The event's own record.
    pub id: String,
    /// The project it belongs to, for stages, tranches and visits.
    pub project: Option<String>,
    /// A short description.
    pub label: String,
}

/// A person's whole journey.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Timeline {
    /// The person.
    pub person: Person,
    /// Their events, oldest first.
    pub events: Vec<TimelineEvent>,
}

impl Db {
    /// A person's whole journey as dated events, oldest first.
    pub(crate) fn timeline(&self, person: &str) -> Result<Timeline> {
        let p = Person::existing(self.conn(), person)?;
        let conn = self.conn();
        let mut events = Vec::new();
        // Each query gives: record id, date, kind, project, label.
        let queries: [&str; 6] = [
            "SELECT id, date, 'intake', NULL, coalesce(referral, '') FROM intakes WHERE person_id = ?1",
            "SELECT s.id, s.date, s.kind, NULL, coalesce(s.topic, '') FROM attendance a JOIN sessions s ON s.id = a.session_id
             WHERE a.person_id = ?1 AND a.present = 1",
            "SELECT e.id, e.date, 'stage:' || e.stage, p.id, coalesce(p.title, '') FROM members m JOIN projects p ON p.id = m.project_id
             JOIN stage_events e ON e.project_id = p.id WHERE m.person_id = ?1 AND coalesce(e.undone, 0) = 0",
            "SELECT d.id, d.date, 'disbursement', d.project_id, coalesce(d.amount || ' ' || d.currency, '') FROM members m
             JOIN disbursements d ON d.project_id = m.project_id WHERE m.person_id = ?1",
            "SELECT f.id, f.date, 'followup', f.project_id, coalesce(f.status, '') FROM members m
             JOIN followups f ON f.project_id = m.project_id WHERE m.person_id = ?1",
            "SELECT id, date, 'referral', NULL, coalesce(partner, '') || ' (' || coalesce(status, '') || ')' FROM referrals WHERE person_id = ?1",
        ];
        for sql in queries {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt
                .query_map([person], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (id, day, kind, project, label) in rows {
                events.push(TimelineEvent {
                    date: date(day)?,
                    kind,
                    id,
                    project,
                    label,
                });
            }
        }
        events.sort_by_key(|e| e.date);
        Ok(Timeline { person: p, events })
    }

    /// Persons who may be the one being registered: the same family name (folded) and a
    /// given name that contains, or is contained in, the one typed.
    pub(crate) fn similar_persons(&self, given: &str, family: &str) -> Result<Vec<Person>> {
        let (g, f) = (fold(given.trim()), fold(family.trim()));
        if f.chars().count() < 2 {
            return Ok(Vec::new());
        }
        Ok(self
            .list_persons(Some(family))?
            .into_iter()
            .filter(|p| {
                let pg = fold(p.given.as_deref().unwrap_or(""));
                let pf = fold(p.family.as_deref().unwrap_or(""));
                pf == f && (g.is_empty() || pg.contains(&g) || g.contains(&pg))
            })
            .collect())
    }

    /// A page of the persons table: the filters in SQL, so a large register is never
    /// read whole.
    pub(crate) fn persons_page(&self, q: &PersonQuery) -> Result<PersonsPage> {
        self.persons_page_walking_from(q, WALK_FROM)
    }

    /// [`Masar::persons_page`], walking persons in name order once a search matches more
    /// than `walk_from` persons, all equally well (tests compare both ways).
    pub(super) fn persons_page_walking_from(
        &self,
        q: &PersonQuery,
        walk_from: u64,
    ) -> Result<PersonsPage> {
        // Searching, the best matches come first unless the user sorted by a column.
        let searching = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let by_relevance = searching.is_some() && q.sort == PersonSort::Best;
        let dir = if q.descending { "DESC" } else { "ASC" };
        let order = match q.sort {
            PersonSort::Best | PersonSort::Name => {
                format!("t.family COLLATE NOCASE {dir}, t.given COLLATE NOCASE {dir}")
            }
            PersonSort::Born => format!("coalesce(t.born, t.birth_year) {dir}"),
            PersonSort::City => format!("t.city COLLATE NOCASE {dir}"),
            PersonSort::UnhcrId => format!("t.unhcr_id {dir}"),
            PersonSort::Registered => format!("t.id {dir}"),
        };
        let mut conditions: Vec<String> = Vec::new();
        let mut args: Vec<String> = Vec::new();
        if let Some((condition, arg)) = Sight::own(self.user()).condition("t").filter(|_| q.mine) {
            conditions.push(condition);
            args.push(arg);
        }
        if let Some((condition, arg)) = Sight::in_lists(self.user()).condition("t") {
            conditions.push(condition);
            args.push(arg);
        }
        if let Some(c) = q.city.as_deref().filter(|c| !c.is_empty()) {
            conditions.push("t.city = ? COLLATE NOCASE".into());
            args.push(c.to_string());
        }
        let needle = match searching {
            Some(s) => match crate::search::Needle::parse(self.conn(), s)? {
                Some(n) => Some(n),
                // Nothing that could be a name or a number: no one matches.
                None => {
                    return Ok(PersonsPage {
                        total: 0,
                        offset: q.offset,
                        rows: Vec::new(),
                        cities: self.cities()?,
                    })
                }
            },
            None => None,
        };
        let filter = |extra: Option<&str>| -> String {
            let all: Vec<&str> = extra
                .into_iter()
                .chain(conditions.iter().map(String::as_str))
                .collect();
            if all.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", all.join(" AND "))
            }
        };
        let limit = q.limit.clamp(1, 200);
        let page = format!("LIMIT {limit} OFFSET {}", q.offset);
        let read_ids = |sql: &str, args: &[String]| -> Result<Vec<String>> {
            Ok(self
                .conn()
                .prepare_cached(sql)?
                .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?)
        };
        let (total, ids) = match needle {
            None => {
                let total: i64 = self
                    .conn()
                    .prepare_cached(&format!("SELECT count(*) FROM persons t {}", filter(None)))?
                    .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
                (
                    total as u64,
                    read_ids(
                        &format!(
                            "SELECT t.id FROM persons t {} ORDER BY {order}, t.id {dir} {page}",
                            filter(None)
                        ),
                        &args,
                    )?,
                )
            }
            Some(needle) => {
                let (sub, mut sub_args) = needle.candidates();
                sub_args.extend(args.iter().cloned());
                // How many match at each rank; persons are read only for the filters.
                let tiers_sql = if conditions.is_empty() {
                    format!("SELECT r, count(*) FROM ({sub}) GROUP BY r")
                } else {
                    format!("SELECT k.r, count(*) FROM ({sub}) k JOIN persons t ON t.rowid = k.person {} GROUP BY k.r", filter(None))
                };
                let tiers: Vec<(i64, i64)> = self
                    .conn()
                    .prepare_cached(&tiers_sql)?
                    .query_map(rusqlite::params_from_iter(sub_args.iter()), |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                let total = tiers.iter().map(|(_, n)| *n as u64).sum::<u64>();
                let by_name = by_relevance || q.sort == PersonSort::Name;
                let walked = if by_name && tiers.len() == 1 && total > walk_from {
                    self.walk_in_name_order(
                        &needle,
                        &order,
                        dir,
                        &filter(None),
                        &args,
                        total,
                        q.offset,
                        limit,
                    )?
                } else {
                    None
                };
                let ids = match walked {
                    Some(ids) => ids,
                    None => {
                        let rank = if by_relevance { "k.r, " } else { "" };
                        read_ids(&format!("SELECT t.id FROM persons t JOIN ({sub}) k ON k.person = t.rowid {} ORDER BY {rank}{order}, t.id {dir} {page}", filter(None)), &sub_args)?
                    }
                };
                (total, ids)
            }
        };
        let mut rows = Vec::with_capacity(ids.len());
        for id in &ids {
            rows.extend(Person::read(self.conn(), id)?);
        }
        Ok(PersonsPage {
            total,
            offset: q.offset,
            rows,
            cities: self.cities()?,
        })
    }

    /// A page of a search's matches, all equally good, in name order: found by walking the
    /// name index and asking each person whether they match, which is faster than sorting
    /// thousands of matches when they are spread through the register. `None` (sort them)
    /// when they are few among many persons, or a deep page is asked, or the walk finds
    /// them bunched further on (one family name) than a budget of persons asked.
    #[allow(clippy::too_many_arguments)]
    fn walk_in_name_order(
        &self,
        needle: &crate::search::Needle,
        order: &str,
        dir: &str,
        filter: &str,
        args: &[String],
        total: u64,
        offset: u32,
        limit: u32,
    ) -> Result<Option<Vec<String>>> {
        let wanted = u64::from(offset) + u64::from(limit);
        // Rowids are dense enough to say roughly how many persons there are, in one seek.
        let persons: i64 =
            self.conn()
                .query_row("SELECT coalesce(max(rowid), 0) FROM persons", [], |r| {
                    r.get(0)
                })?;
        let spread = persons as f64 / total.max(1) as f64;
        if spread > 10.0 || wanted > 400 {
            return Ok(None);
        }
        let budget = (4.0 * wanted as f64 * spread) as u64 + 50;
        let (pred, mut walk_args) = needle.predicate("t.rowid");
        walk_args.extend(args.iter().cloned());
        // The limit also makes SQLite read the name index rather than sort every person.
        let mut stmt = self.conn().prepare_cached(&format!("SELECT t.id, {pred} FROM persons t {filter} ORDER BY {order}, t.id {dir} LIMIT {budget}"))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(walk_args.iter()))?;
        let (mut asked, mut found, mut ids) = (0u64, 0u64, Vec::new());
        while let Some(r) = rows.next()? {
            asked += 1;
            if r.get::<_, bool>(1)? {
                found += 1;
                if found > u64::from(offset) {
                    ids.push(r.get(0)?);
                }
                if found == wanted {
                    return Ok(Some(ids));
                }
            }
        }
        // Every person asked, or the budget spent first.
        Ok((asked < budget).then_some(ids))
    }

    /// The cities persons live in, for the persons table's filter.
    fn cities(&self) -> Result<Vec<String>> {
        Ok(self
            .conn()
            // One seek in the city index per city, not a walk through every person's entry.
            .prepare_cached(
                "WITH RECURSIVE c(city) AS (
                     SELECT min(city COLLATE NOCASE) FROM persons WHERE city COLLATE NOCASE > ''
                     UNION ALL
                     SELECT (SELECT min(p.city COLLATE NOCASE) FROM persons p WHERE p.city COLLATE NOCASE > c.city COLLATE NOCASE)
                     FROM c WHERE c.city IS NOT NULL
                 )
                 SELECT city FROM c WHERE city IS NOT NULL",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?)
    }
}
