//! What a scoped export may carry: the records a laptop of one city, or one counsellor's
//! laptop, may see.
//!
//! A person is in scope by their current city, or by having been registered by the
//! counsellor. Their intakes, referrals and attendance come with them, and so do the
//! sessions they attended and the projects they are members of, with everything of those
//! projects (members, budget, stages, tranches, visits) and the persons who are members of
//! them, so that nothing arrives without the records it links to. Reference lists always
//! travel. Other attendees of a session do not.

use std::collections::BTreeSet;
use std::fmt;

use rusqlite::Connection;

use crate::error::{InputError, Problem};
use crate::Result;

/// A limit on what an export carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Persons whose city is this one.
    City(String),
    /// Persons registered by this user (by name).
    Counsellor(String),
}

impl Scope {
    /// Reads `city=NAME` or `counsellor=USER`.
    pub fn parse(text: &str) -> Result<Scope, InputError> {
        match text.split_once('=') {
            Some(("city", v)) if !v.trim().is_empty() => Ok(Scope::City(v.trim().to_string())),
            Some(("counsellor", v)) if !v.trim().is_empty() => {
                Ok(Scope::Counsellor(v.trim().to_string()))
            }
            _ => Err(InputError::Invalid {
                field: "scope".into(),
                value: text.into(),
                problem: Problem::NotAScope,
            }),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::City(c) => write!(f, "city={c}"),
            Scope::Counsellor(u) => write!(f, "counsellor={u}"),
        }
    }
}

fn ids(conn: &Connection, sql: &str, arg: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let out = stmt
        .query_map([arg], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(out)
}

/// The (entity, record) pairs within any of the scopes.
pub(super) fn records(conn: &Connection, scopes: &[Scope]) -> Result<BTreeSet<(String, String)>> {
    let mut persons = BTreeSet::new();
    for s in scopes {
        let found = match s {
            Scope::City(c) => ids(conn, "SELECT id FROM persons WHERE city = ?1 COLLATE NOCASE", c)?,
            Scope::Counsellor(u) => ids(
                conn,
                "SELECT DISTINCT record FROM changes WHERE entity = 'person' AND creates = 1 AND user_name = ?1",
                u,
            )?,
        };
        persons.extend(found);
    }
    let mut projects = BTreeSet::new();
    for p in &persons {
        projects.extend(ids(
            conn,
            "SELECT project_id FROM members WHERE person_id = ?1",
            p,
        )?);
    }
    let mut out = BTreeSet::new();
    let mut add = |entity: &str, id: String| {
        out.insert((entity.to_string(), id));
    };
    for pr in &projects {
        for m in ids(
            conn,
            "SELECT person_id FROM members WHERE project_id = ?1",
            pr,
        )? {
            persons.insert(m);
        }
        for (entity, table) in [
            ("member", "members"),
            ("budget_line", "budget_lines"),
            ("stage_event", "stage_events"),
            ("disbursement", "disbursements"),
            ("followup", "followups"),
        ] {
            for id in ids(
                conn,
                &format!("SELECT id FROM {table} WHERE project_id = ?1"),
                pr,
            )? {
                add(entity, id);
            }
        }
        add("project", pr.clone());
    }
    for p in &persons {
        for (entity, table) in [
            ("intake", "intakes"),
            ("referral", "referrals"),
            ("attendance", "attendance"),
        ] {
            for id in ids(
                conn,
                &format!("SELECT id FROM {table} WHERE person_id = ?1"),
                p,
            )? {
                add(entity, id);
            }
        }
        for s in ids(
            conn,
            "SELECT session_id FROM attendance WHERE person_id = ?1",
            p,
        )? {
            add("session", s);
        }
        add("person", p.clone());
    }
    Ok(out)
}
