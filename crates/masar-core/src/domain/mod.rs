//! The journey's domain: persons, intakes, sessions, projects, disbursements, follow-ups,
//! referrals and reference lists. Each operation checks its input and its rules, then
//! writes through the one write path; a refused input changes nothing.

mod persons;
mod projects;
mod reflists;
mod sessions;

pub use persons::{PersonImport, PERSON_CSV_EXTRA_COLUMNS, PERSON_REQUIRED};
pub use projects::{BudgetSummary, STAGE_FLOW};

use rusqlite::{Connection, OptionalExtension};

use crate::changes::{Entity, Value};
use crate::Result;

/// Input refused, with the field, the value and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A value that cannot be read as its field requires.
    #[error("{field}: '{value}' {problem}")]
    Invalid {
        /// The field concerned.
        field: String,
        /// The value as typed.
        value: String,
        /// Why it was refused and how to write it.
        problem: String,
    },
    /// A required field is missing.
    #[error("{field} is required: {hint}")]
    Missing {
        /// The field concerned.
        field: String,
        /// How to give it.
        hint: String,
    },
    /// A field name that does not exist.
    #[error("a {what} has no field '{field}': the fields you can set are {known}")]
    UnknownField {
        /// The kind of record.
        what: &'static str,
        /// The name given.
        field: String,
        /// The names that exist.
        known: String,
    },
    /// A field kept by its own command.
    #[error("{field} of a {what} cannot be set directly: use the command made for it")]
    NotSettable {
        /// The kind of record.
        what: &'static str,
        /// The field.
        field: &'static str,
    },
    /// An id that names no record.
    #[error("no {what} with id '{id}': check the id (the list commands print them)")]
    NotFound {
        /// The kind of record.
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// The same thing given twice.
    #[error("{what} '{value}' is given twice: give it once")]
    Duplicate {
        /// What was repeated.
        what: &'static str,
        /// The repeated value.
        value: String,
    },
    /// A value outside the organisation's reference list.
    #[error("{list} '{value}' is not in the organisation's list ({known}): use one of these, or ask an administrator to add it with `masar ref add {list} \"{value}\"`")]
    UnknownReference {
        /// The list.
        list: &'static str,
        /// The value given.
        value: String,
        /// What the list holds.
        known: String,
    },
    /// A rule of the journey that the request breaks.
    #[error("{0}")]
    Rule(String),
    /// One row of an imported file is wrong; the whole file was refused.
    #[error("row {row} of the file: {error} (nothing was imported)")]
    Row {
        /// The row number, counting the header as row 1.
        row: usize,
        /// What is wrong with it.
        error: Box<InputError>,
    },
    /// The file cannot be read as the expected CSV.
    #[error("the file cannot be imported: {0} (nothing was imported)")]
    File(String),
}

impl InputError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            InputError::Invalid { .. } => "input.invalid",
            InputError::Missing { .. } => "input.missing",
            InputError::UnknownField { .. } => "input.unknown_field",
            InputError::NotSettable { .. } => "input.not_settable",
            InputError::NotFound { .. } => "input.not_found",
            InputError::Duplicate { .. } => "input.duplicate",
            InputError::UnknownReference { .. } => "input.unknown_reference",
            InputError::Rule(_) => "input.rule",
            InputError::Row { .. } => "input.row",
            InputError::File(_) => "input.file",
        }
    }

    /// The field the error concerns, so a form can show it beside that field.
    pub fn field(&self) -> Option<&str> {
        match self {
            InputError::Invalid { field, .. } | InputError::Missing { field, .. } => Some(field),
            InputError::UnknownField { field, .. } => Some(field),
            InputError::NotSettable { field, .. } => Some(field),
            InputError::Row { error, .. } => error.field(),
            _ => None,
        }
    }
}

/// A record read back: its id and its fields in the registry's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The kind of record.
    pub entity: Entity,
    /// Stable id.
    pub id: String,
    /// Field values, in the registry's order.
    pub fields: Vec<(&'static str, Value)>,
}

impl Record {
    /// One field's value (null when unset or unknown).
    pub fn get(&self, name: &str) -> &Value {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v).unwrap_or(&Value::Null)
    }

    /// One field's text, when it is text.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).as_str()
    }

    /// The record as a JSON object: `id` then every field, flags as booleans.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("id".into(), self.id.clone().into());
        for (name, value) in &self.fields {
            let is_flag = self
                .entity
                .field(name)
                .map(|d| d.kind == crate::changes::FieldKind::Flag)
                .unwrap_or(false);
            let v = match (is_flag, value) {
                (true, Value::Int(i)) => serde_json::Value::Bool(*i != 0),
                _ => value.to_json_value(),
            };
            map.insert((*name).into(), v);
        }
        serde_json::Value::Object(map)
    }
}

/// Reads one record, or `None` when the id names none.
pub(crate) fn read_record(conn: &Connection, entity: Entity, id: &str) -> Result<Option<Record>> {
    let defs = entity.fields();
    let cols: Vec<&str> = defs.iter().map(|d| d.name).collect();
    let sql = format!("SELECT {} FROM {} WHERE id = ?1", cols.join(", "), entity.table());
    let row = conn
        .query_row(&sql, [id], |r| {
            defs.iter()
                .enumerate()
                .map(|(i, d)| Ok((d.name, Value::from_sql_ref(r.get_ref(i)?)?)))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .optional()?;
    Ok(row.map(|fields| Record { entity, id: id.to_string(), fields }))
}

/// Reads one record or says that the id names none.
pub(crate) fn existing(conn: &Connection, entity: Entity, id: &str) -> Result<Record> {
    read_record(conn, entity, id)?
        .ok_or_else(|| InputError::NotFound { what: entity.label(), id: id.to_string() }.into())
}

/// Reads `KEY=VALUE` pairs typed by a user for `entity`; every key must be settable.
pub(crate) fn parse_pairs(entity: Entity, pairs: &[(String, String)]) -> Result<Vec<(&'static str, Value)>, InputError> {
    let mut out: Vec<(&'static str, Value)> = Vec::new();
    for (key, text) in pairs {
        let def = entity.field(key.trim())?;
        if out.iter().any(|(n, _)| *n == def.name) {
            return Err(InputError::Duplicate { what: "field", value: def.name.to_string() });
        }
        out.push((def.name, entity.parse_settable(def.name, text)?));
    }
    Ok(out)
}

/// Splits `KEY=VALUE` as typed on a command line.
pub fn split_pair(text: &str) -> Result<(String, String), InputError> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(InputError::Invalid {
            field: "KEY=VALUE".into(),
            value: text.into(),
            problem: "is not of the form KEY=VALUE, for example city=Rabat".into(),
        }),
    }
}

/// Reads a required text argument.
pub(crate) fn required_text(field: &str, text: &str, hint: &str) -> Result<String, InputError> {
    let t = text.trim();
    if t.is_empty() {
        Err(InputError::Missing { field: field.into(), hint: hint.into() })
    } else {
        Ok(t.to_string())
    }
}

/// A name-based id, so that two laptops recording the same fact make the same record.
pub(crate) fn fact_id(kind: &str, parts: &[&str]) -> String {
    let name = format!("{kind}/{}", parts.join("/"));
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
}
