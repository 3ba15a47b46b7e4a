//! What a scoped export may carry: the records a laptop of one city, or one counsellor's
//! laptop, may see.
//!
//! A person is in scope by their current city, or by being in the counsellor's caseload
//! (`access::Sight`: the persons they follow). Their intakes, referrals and attendance come with them, and so do the
//! sessions they attended and the projects they are members of, with everything of those
//! projects (members, budget, stages, tranches, visits) and the persons who are members of
//! them, so that nothing arrives without the records it links to. Reference lists always
//! travel. Other attendees of a session do not.

use std::collections::BTreeSet;
use std::fmt;

use rusqlite::Connection;

use crate::access::Sight;
use crate::error::{InputError, Problem};
use crate::schema::{Entity, FieldKind};
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
            Scope::City(c) => ids(
                conn,
                "SELECT id FROM persons WHERE city = ?1 COLLATE NOCASE",
                c,
            )?,
            Scope::Counsellor(u) => {
                // The caseload of every user of that name the organisation knows (a name
                // is an account's on one laptop; the id is the organisation's).
                let mut found = Vec::new();
                for id in ids(
                    conn,
                    "SELECT id FROM users WHERE name = ?1 UNION SELECT user FROM certs WHERE name = ?1",
                    u,
                )? {
                    let (condition, arg) = Sight::caseload_of(&id).condition_1("p");
                    let sql = format!("SELECT id FROM persons p WHERE {condition}");
                    found.extend(ids(conn, &sql, &arg)?);
                }
                found
            }
        };
        persons.extend(found);
    }
    // Every link is read from the schema's registry: a new entity that points to a person
    // or a project travels with them without an edit here.
    let person_links = Entity::Person.linked_from();
    let project_links = Entity::Project.linked_from();
    // The projects a person is in, through every record that links both.
    let mut projects = BTreeSet::new();
    for link in &person_links {
        let Some(to_project) = link.entity.link_to(Entity::Project) else {
            continue;
        };
        let sql = format!(
            "SELECT {to_project} FROM {} WHERE {} = ?1 AND {to_project} IS NOT NULL",
            link.entity.table(),
            link.field
        );
        for p in &persons {
            projects.extend(ids(conn, &sql, p)?);
        }
    }
    let mut out = BTreeSet::new();
    let mut add = |entity: Entity, id: String| {
        out.insert((entity.name().to_string(), id));
    };
    // A project comes whole: every record that points to it, and the persons those
    // records point to (its members).
    for pr in &projects {
        for link in &project_links {
            let table = link.entity.table();
            for id in ids(
                conn,
                &format!("SELECT id FROM {table} WHERE {} = ?1", link.field),
                pr,
            )? {
                add(link.entity, id);
            }
            if let Some(to_person) = link.entity.link_to(Entity::Person) {
                persons.extend(ids(
                    conn,
                    &format!(
                        "SELECT {to_person} FROM {table} WHERE {} = ?1 AND {to_person} IS NOT NULL",
                        link.field
                    ),
                    pr,
                )?);
            }
        }
        add(Entity::Project, pr.clone());
    }
    // A person comes with every record that points to them, and what those records point
    // to besides (the sessions attended), without that record's other dependents (other
    // attendees of a session do not come).
    for p in &persons {
        for link in &person_links {
            let table = link.entity.table();
            for id in ids(
                conn,
                &format!("SELECT id FROM {table} WHERE {} = ?1", link.field),
                p,
            )? {
                add(link.entity, id);
            }
            for other in link.entity.fields() {
                let FieldKind::Link(target) = other.kind else {
                    continue;
                };
                if matches!(target, Entity::Person | Entity::Project | Entity::User) {
                    continue;
                }
                let sql = format!(
                    "SELECT {0} FROM {table} WHERE {1} = ?1 AND {0} IS NOT NULL",
                    other.name, link.field
                );
                for id in ids(conn, &sql, p)? {
                    add(target, id);
                }
            }
        }
        add(Entity::Person, p.clone());
    }
    Ok(out)
}
