//! Awareness and training sessions and their attendance.

use std::collections::HashSet;

use rusqlite::OptionalExtension;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::fact_id;
use super::records::{Person, Record, Session};
use crate::auth::Permission;
use crate::changes::Db;
use crate::error::{required_text, InputError};
use crate::schema::{Entity, FieldKind, Value};
use crate::Result;

/// A group session with the persons present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewSession {
    /// `awareness` or `training`.
    pub kind: String,
    /// The day it was held.
    pub date: String,
    /// What it was about.
    pub topic: String,
    /// Where, if said.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub place: Option<String>,
    /// The ids of the persons present.
    #[serde(default)]
    pub attendees: Vec<String>,
}

/// Marks at once for a session: who was present, who was not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Roster {
    /// The session's id.
    pub session: String,
    /// The ids of the persons to mark present.
    #[serde(default)]
    pub present: Vec<String>,
    /// The ids of the persons to mark absent.
    #[serde(default)]
    pub absent: Vec<String>,
}

/// Whether the person is marked present on the attendance record `aid`; `None` when there
/// is no such record.
fn present_mark(db: &Db, aid: &str) -> Result<Option<bool>> {
    Ok(db
        .conn()
        .query_row("SELECT present FROM attendance WHERE id = ?1", [aid], |r| {
            r.get::<_, Option<bool>>(0)
        })
        .optional()?
        .map(|p| p.unwrap_or(false)))
}

impl Db {
    /// Creates a session with its attendance list; an attendee given twice, or who does
    /// not exist, refuses the whole session.
    pub(crate) fn add_session(
        &mut self,
        kind: &str,
        date: &str,
        topic: &str,
        place: Option<&str>,
        attendees: &[String],
    ) -> Result<String> {
        self.require(Permission::RecordWork)?;
        let kind = Entity::Session.field("kind")?.kind.parse("kind", kind)?;
        if kind == Value::Null {
            return Err(InputError::Missing {
                field: "kind".into(),
                hint: "give awareness or training".into(),
            }
            .into());
        }
        let date = FieldKind::Date.parse("date", date)?;
        if date == Value::Null {
            return Err(InputError::Missing {
                field: "date".into(),
                hint: "give the session date as YYYY-MM-DD".into(),
            }
            .into());
        }
        let topic = required_text("topic", topic, "give the session's topic")?;
        let mut seen = HashSet::new();
        for person in attendees {
            if !seen.insert(person.as_str()) {
                return Err(InputError::Duplicate {
                    what: "attendee",
                    value: person.clone(),
                }
                .into());
            }
            Person::existing(self.conn(), person)?;
        }
        let place = FieldKind::Text.parse("place", place.unwrap_or(""))?;
        self.write(|w| {
            let id = w.create(
                Entity::Session,
                &[
                    ("kind", kind),
                    ("date", date),
                    ("topic", Value::text(topic)),
                    ("place", place),
                ],
            )?;
            for person in attendees {
                let aid = fact_id("attendance", &[&id, person]);
                w.create_with_id(
                    Entity::Attendance,
                    &aid,
                    &[
                        ("session_id", Value::text(&id)),
                        ("person_id", Value::text(person)),
                        ("present", Value::Bool(true)),
                    ],
                )?;
            }
            Ok(id)
        })
    }

    /// Marks a person present at a session.
    pub(crate) fn attend(&mut self, session: &str, person: &str) -> Result<()> {
        self.require(Permission::RecordWork)?;
        Session::existing(self.conn(), session)?;
        Person::existing(self.conn(), person)?;
        let aid = fact_id("attendance", &[session, person]);
        match present_mark(self, &aid)? {
            Some(true) => Err(InputError::Duplicate {
                what: "attendee",
                value: person.to_string(),
            }
            .into()),
            Some(false) => self.write(|w| {
                w.update_kept(Entity::Attendance, &aid, &[("present", Value::Bool(true))])
                    .map(|_| ())
            }),
            None => self.write(|w| {
                w.create_with_id(
                    Entity::Attendance,
                    &aid,
                    &[
                        ("session_id", Value::text(session)),
                        ("person_id", Value::text(person)),
                        ("present", Value::Bool(true)),
                    ],
                )
            }),
        }
    }

    /// Removes a person from a session's attendance (kept in history).
    pub(crate) fn unattend(&mut self, session: &str, person: &str) -> Result<()> {
        self.require(Permission::RecordWork)?;
        Session::existing(self.conn(), session)?;
        Person::existing(self.conn(), person)?;
        let aid = fact_id("attendance", &[session, person]);
        if present_mark(self, &aid)? != Some(true) {
            return Err(InputError::rule(
                "not_on_list",
                format!("person '{person}' is not on the attendance list of session '{session}'"),
                &[],
            )
            .into());
        }
        self.write(|w| {
            w.update_kept(Entity::Attendance, &aid, &[("present", Value::Bool(false))])
                .map(|_| ())
        })
    }

    /// Marks several persons present and others absent in one go (a roster), in one
    /// transaction: an unknown person refuses the whole roster. Returns how many marks
    /// changed.
    pub(crate) fn set_roster(
        &mut self,
        session: &str,
        present: &[String],
        absent: &[String],
    ) -> Result<usize> {
        self.require(Permission::RecordWork)?;
        Session::existing(self.conn(), session)?;
        let mut seen = HashSet::new();
        for person in present.iter().chain(absent) {
            if !seen.insert(person.as_str()) {
                return Err(InputError::Duplicate {
                    what: "attendee",
                    value: person.clone(),
                }
                .into());
            }
            Person::existing(self.conn(), person)?;
        }
        let mut marks = Vec::new();
        for (person, want) in present
            .iter()
            .map(|p| (p, true))
            .chain(absent.iter().map(|p| (p, false)))
        {
            let aid = fact_id("attendance", &[session, person]);
            // A mark changes when it differs; no record and absent is already absent.
            match present_mark(self, &aid)? {
                Some(now) if now != want => marks.push((person.clone(), aid, true, want)),
                None if want => marks.push((person.clone(), aid, false, want)),
                _ => {}
            }
        }
        let changed = marks.len();
        self.write(|w| {
            for (person, aid, exists, want) in &marks {
                if *exists {
                    w.update_kept(Entity::Attendance, aid, &[("present", Value::Bool(*want))])?;
                } else {
                    w.create_with_id(
                        Entity::Attendance,
                        aid,
                        &[
                            ("session_id", Value::text(session)),
                            ("person_id", Value::text(person)),
                            ("present", Value::Bool(true)),
                        ],
                    )?;
                }
            }
            Ok(())
        })?;
        Ok(changed)
    }

    /// The ids of the persons present at a session.
    pub(crate) fn attendees(&self, session: &str) -> Result<Vec<String>> {
        Session::existing(self.conn(), session)?;
        let mut stmt = self
            .conn()
            .prepare("SELECT person_id FROM attendance WHERE session_id = ?1 AND present = 1 ORDER BY person_id")?;
        let ids = stmt
            .query_map([session], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{person, temp_db};

    #[test]
    fn a_roster_marks_many_present_and_some_absent_at_once() {
        let (_d, mut m) = temp_db();
        let people: Vec<String> = (0..25)
            .map(|i| person(&mut m, &format!("P{i}"), "female", "1990-01-01"))
            .collect();
        let s = m
            .add_session(crate::domain::NewSession {
                kind: "awareness".into(),
                date: "2024-05-05".into(),
                topic: "Why self-employment?".into(),
                place: None,
                attendees: people[..2].to_vec(),
            })
            .unwrap();
        assert_eq!(
            m.set_roster(crate::domain::Roster {
                session: s.to_string(),
                present: people.to_vec(),
                absent: vec![]
            })
            .unwrap(),
            23,
            "two were already present"
        );
        assert_eq!(m.attendees(&s).unwrap().len(), 25);
        assert_eq!(
            m.set_roster(crate::domain::Roster {
                session: s.to_string(),
                present: vec![],
                absent: people[..5].to_vec()
            })
            .unwrap(),
            5
        );
        assert_eq!(m.attendees(&s).unwrap().len(), 20);
        let before = m.status().unwrap().changes;
        let e = m
            .set_roster(crate::domain::Roster {
                session: s.to_string(),
                present: vec![
                    people[0].clone(),
                    "0190c0de-0000-7000-8000-000000000000".into(),
                ],
                absent: vec![],
            })
            .unwrap_err();
        assert_eq!(e.code(), "input.not_found");
        assert_eq!(
            m.status().unwrap().changes,
            before,
            "a refused roster changes nothing"
        );
    }
}
