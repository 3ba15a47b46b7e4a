//! Conflicts: the fields whose heads disagree, listed with a stable id, and resolved.

use rusqlite::params;
use serde::Serialize;
use ts_rs::TS;

use crate::auth::Permission;
use crate::changes::{heads, Db, Head};
use crate::error::{InputError, Problem};
use crate::schema::{Entity, Value};
use crate::Result;

/// A field on which concurrent changes disagree: the value kept and one other.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Conflict {
    /// The same id on every database.
    pub id: String,
    /// Entity name.
    pub entity: String,
    /// Record id.
    pub record: String,
    /// Field name.
    pub field: String,
    /// The value shown.
    #[ts(type = "string | number | boolean | null")]
    pub kept: Value,
    /// The value that lost.
    #[ts(type = "string | number | boolean | null")]
    pub other: Value,
    /// Who wrote the kept value.
    pub kept_by: Option<String>,
    /// On which device.
    pub kept_device: String,
    /// When, by the writer's clock.
    pub kept_at: String,
    /// Who wrote the other value.
    pub other_by: Option<String>,
    /// On which device.
    pub other_device: String,
    /// When, by the writer's clock.
    pub other_at: String,
}

/// How a supervisor resolves a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Keep the value shown.
    Kept,
    /// Take the other value.
    Other,
    /// Write a new value (typed as for `set`).
    Value(String),
}

impl Resolution {
    /// Reads a choice as both faces take it: a new value, or which side to keep
    /// (`kept` or `other`); anything else is refused, never taken as a default.
    pub fn parse(keep: Option<&str>, value: Option<String>) -> Result<Resolution, InputError> {
        match (keep.map(str::trim).filter(|k| !k.is_empty()), value) {
            (_, Some(v)) => Ok(Resolution::Value(v)),
            (Some("kept"), None) => Ok(Resolution::Kept),
            (Some("other"), None) => Ok(Resolution::Other),
            (Some(k), None) => Err(InputError::Invalid {
                field: "keep".into(),
                value: k.into(),
                problem: Problem::NotOneOf(vec!["kept".into(), "other".into()]),
            }),
            (None, None) => Err(InputError::Missing {
                field: "keep".into(),
                hint: "say what to keep: --keep kept, --keep other or --value V".into(),
            }),
        }
    }
}

fn conflict_id(entity: &str, record: &str, field: &str, loser: &Head, heads: &[Head]) -> String {
    let mut name = format!(
        "conflict/{entity}/{record}/{field}/{}/{}",
        loser.hlc.0, loser.device
    );
    // Two authors under one stamp of one device (a forgery) are told apart by the author;
    // every other conflict keeps the id it always had.
    if heads
        .iter()
        .any(|h| h.hlc == loser.hlc && h.device == loser.device && h.author != loser.author)
    {
        name.push('/');
        name.push_str(&loser.author);
    }
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
}

impl Db {
    /// The open conflicts, in a stable order.
    pub(crate) fn conflicts(&self) -> Result<Vec<Conflict>> {
        let conn = self.conn();
        let fields: Vec<(String, String, String)> = conn
            .prepare(
                "SELECT entity, record, field FROM forked_fields ORDER BY entity, record, field",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        let who = |h: &Head, record: &str| -> Result<(Option<String>, String, String)> {
            Ok(conn.query_row(
                "SELECT user_name, device, at FROM changes WHERE hlc = ?1 AND device = ?2 AND coalesce(user_id, '') = ?3 AND record = ?4",
                params![h.hlc.0, h.device, h.author, record],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        };
        for (entity, record, field) in fields {
            let heads = heads(conn, &entity, &record, &field)?;
            let Some((winner, losers)) = heads.split_first() else {
                continue;
            };
            let (wn, wd, wat) = who(winner, &record)?;
            // Two laptops that recorded the same value do not disagree.
            for loser in losers.iter().filter(|l| l.value != winner.value) {
                let (ln, ld, lat) = who(loser, &record)?;
                out.push(Conflict {
                    id: conflict_id(&entity, &record, &field, loser, &heads),
                    entity: entity.clone(),
                    record: record.clone(),
                    field: field.clone(),
                    kept: Value::from_json(winner.value.as_deref()),
                    other: Value::from_json(loser.value.as_deref()),
                    kept_by: wn.clone(),
                    kept_device: wd.clone(),
                    kept_at: wat.clone(),
                    other_by: ln,
                    other_device: ld,
                    other_at: lat,
                });
            }
        }
        out.sort_by(|a, b| {
            (&a.entity, &a.record, &a.field, &a.id).cmp(&(&b.entity, &b.record, &b.field, &b.id))
        });
        Ok(out)
    }

    /// Resolves a conflict with a change that overwrites every value of the field; it
    /// travels like any change and closes the conflict wherever it arrives.
    pub(crate) fn resolve_conflict(&mut self, id: &str, how: Resolution) -> Result<()> {
        self.require(Permission::DecideInCommittee)?;
        let conflict = self
            .conflicts()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| InputError::NotFound {
                what: "open conflict",
                id: id.to_string(),
            })?;
        let entity = Entity::from_name(&conflict.entity)
            .ok_or_else(|| InputError::rule("unknown_entity", format!("this version of Masar does not know '{}' records: update it to resolve this conflict", conflict.entity), &[]))?;
        let def = entity.field(&conflict.field)?;
        let value = match how {
            Resolution::Kept => conflict.kept.clone(),
            Resolution::Other => conflict.other.clone(),
            Resolution::Value(text) => def.kind.parse(def.name, &text)?,
        };
        let (record, field) = (conflict.record.clone(), conflict.field.clone());
        self.require(Permission::for_change(entity.name(), &field, &value, true))?;
        self.write(|w| w.resolve(entity, &record, &field, &value))
    }
}
