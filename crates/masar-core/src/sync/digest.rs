//! The digest of the user-visible state: records, field values and open conflicts, in a
//! canonical order, hashed with SHA-256.

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::Conflict;
use crate::schema::{Entity, Value, LATER_FIELDS};
use crate::Result;

pub(super) fn digest(conn: &Connection, conflicts: &[Conflict]) -> Result<String> {
    let mut hash = Sha256::new();
    let mut entities: Vec<Entity> = Entity::ALL
        .into_iter()
        .filter(|e| *e != Entity::User)
        .collect();
    entities.sort_by_key(|e| e.name());
    for entity in entities {
        let cols: Vec<&str> = entity.fields().iter().map(|f| f.name).collect();
        let later: Vec<bool> = cols
            .iter()
            .map(|c| LATER_FIELDS.contains(&(entity.name(), *c)))
            .collect();
        let sql = format!(
            "SELECT id, {} FROM {} ORDER BY id",
            cols.join(", "),
            entity.table()
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        hash.update(entity.name().as_bytes());
        hash.update(b"\n");
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            hash.update(id.as_bytes());
            for (i, later) in later.iter().enumerate() {
                let value = Value::from_sql_ref(row.get_ref(i + 1)?)?;
                if *later && value == Value::Null {
                    continue;
                }
                hash.update(b"\x1f");
                hash.update(value.to_json().as_bytes());
            }
            hash.update(b"\n");
        }
    }
    hash.update(b"conflicts\n");
    let mut sorted: Vec<&Conflict> = conflicts.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    for c in sorted {
        hash.update(
            format!(
                "{}\x1f{}\x1f{}\n",
                c.id,
                c.kept.to_json(),
                c.other.to_json()
            )
            .as_bytes(),
        );
    }
    Ok(hex::encode(hash.finalize()))
}
