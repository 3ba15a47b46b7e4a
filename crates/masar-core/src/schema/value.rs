//! A field value as the write path stores and logs it.

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::ToSql;
use serde::{Serialize, Serializer};

/// A field's value. Dates and amounts travel as text (`YYYY-MM-DD`, exact decimals), so a
/// value is never a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Unset.
    Null,
    /// Text, a date or an exact decimal.
    Text(String),
    /// A whole number.
    Int(i64),
    /// Yes or no.
    Bool(bool),
}

impl Value {
    /// A text value.
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into())
    }

    /// A text value, or null when absent.
    pub fn opt_text(s: Option<impl Into<String>>) -> Value {
        s.map_or(Value::Null, |s| Value::Text(s.into()))
    }

    /// The value as JSON, as the change log stores it.
    pub fn to_json(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Text(s) => serde_json::Value::String(s.clone()).to_string(),
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => b.to_string(),
        }
    }

    /// Reads a value as the change log stores it (JSON); anything else reads as null.
    pub fn from_json(json: Option<&str>) -> Value {
        match json.and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()) {
            Some(serde_json::Value::String(s)) => Value::Text(s),
            Some(serde_json::Value::Bool(b)) => Value::Bool(b),
            Some(serde_json::Value::Number(n)) => n.as_i64().map_or(Value::Null, Value::Int),
            _ => Value::Null,
        }
    }

    /// Reads a column back. SQLite keeps booleans as integers; the field's kind says
    /// which they are, so a 0/1 integer is returned as `Int` here and compared as such.
    pub(crate) fn from_sql_ref(v: ValueRef<'_>) -> rusqlite::Result<Value> {
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Int(i),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Real(r) => Value::Text(r.to_string()),
            ValueRef::Blob(_) => Value::Null,
        })
    }

    /// The text, when the value is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Int(i) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*i)),
            Value::Bool(b) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*b))),
        })
    }
}

impl Value {
    /// Equality as stored: SQLite keeps a boolean as 0 or 1.
    pub fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(a), Value::Bool(b)) | (Value::Bool(b), Value::Int(a)) => {
                *a == i64::from(*b)
            }
            (a, b) => a == b,
        }
    }
}

/// A value shows as the plain JSON scalar it is: text, a number, true or false, or null.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_none(),
            Value::Text(t) => s.serialize_str(t),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Bool(b) => s.serialize_bool(*b),
        }
    }
}
