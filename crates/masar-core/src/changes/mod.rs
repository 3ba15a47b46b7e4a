//! The one write path. Every insert, update and erasure goes through a [`Writer`], which
//! writes the entity row and appends one row per field to the change log (`changes`),
//! stamped with the hybrid logical clock, the device and the user. The audit trail
//! (`masar history`) reads that log, and sync will ship it.

pub mod entity;
mod value;

pub use entity::{Entity, FieldDef, FieldKind};
pub use value::Value;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use crate::clock::Hlc;
use crate::domain::InputError;
use crate::Result;

/// Writes records and logs each field change, inside one transaction.
pub struct Writer<'t> {
    tx: &'t Transaction<'t>,
    user_id: Option<String>,
    device: String,
    now: DateTime<Utc>,
    hlc: Hlc,
}

/// One entry of a record's history.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Hybrid logical clock stamp.
    pub hlc: i64,
    /// The device that made the change.
    pub device: String,
    /// The entity written.
    pub entity: String,
    /// The record's id.
    pub record: String,
    /// The field written.
    pub field: String,
    /// The previous value on the writing device (JSON), null when blanked by erasure.
    pub old: Option<String>,
    /// The new value (JSON), null when blanked by erasure.
    pub value: Option<String>,
    /// Who made it (user id).
    pub user_id: Option<String>,
    /// The user's name, where known.
    pub user_name: Option<String>,
    /// The writing device's wall-clock time (RFC 3339).
    pub at: String,
}

pub(crate) const HLC_META_KEY: &str = "hlc";

impl<'t> Writer<'t> {
    pub(crate) fn new(
        tx: &'t Transaction<'t>,
        user_id: Option<String>,
        device: String,
        now: DateTime<Utc>,
    ) -> Result<Writer<'t>> {
        let hlc: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [HLC_META_KEY], |r| r.get(0))
            .optional()?;
        let hlc = Hlc(hlc.and_then(|s| s.parse().ok()).unwrap_or(0));
        Ok(Writer { tx, user_id, device, now, hlc })
    }

    /// The transaction, for reads that must see this write's own changes.
    pub fn tx(&self) -> &Transaction<'t> {
        self.tx
    }

    /// The wall-clock time of this write.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub(crate) fn set_user(&mut self, user_id: String) {
        self.user_id = Some(user_id);
    }

    /// Saves the clock so the next write continues after it; called before commit.
    pub(crate) fn finish(self) -> Result<()> {
        self.tx.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![HLC_META_KEY, self.hlc.0.to_string()],
        )?;
        Ok(())
    }

    fn next_stamp(&mut self) -> Hlc {
        self.hlc = self.hlc.tick(self.now.timestamp_millis());
        self.hlc
    }

    fn log(&mut self, entity: Entity, record: &str, field: &str, old: Option<&Value>, new: &Value) -> Result<()> {
        let stamp = self.next_stamp();
        self.tx.execute(
            "INSERT INTO changes(hlc, device, entity, record, field, value, old, user_id, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                stamp.0,
                self.device,
                entity.name(),
                record,
                field,
                new.to_json(),
                old.map(Value::to_json),
                self.user_id,
                self.now.to_rfc3339_opts(SecondsFormat::Millis, true),
            ],
        )?;
        Ok(())
    }

    /// Creates a record with a new stable id and the given fields; returns the id.
    pub fn create(&mut self, entity: Entity, fields: &[(&str, Value)]) -> Result<String> {
        let id = uuid::Uuid::now_v7().to_string();
        self.create_with_id(entity, &id, fields)?;
        Ok(id)
    }

    /// Creates a record whose id the caller chose (a name-based id, so that two laptops
    /// recording the same fact, such as one person's attendance, make the same record).
    pub fn create_with_id(&mut self, entity: Entity, id: &str, fields: &[(&str, Value)]) -> Result<()> {
        let table = entity.table();
        for (name, _) in fields {
            entity.field(name)?;
        }
        let columns: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
        let placeholders: Vec<String> = (2..=fields.len() + 1).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {table}(id{}{}) VALUES (?1{}{})",
            if columns.is_empty() { "" } else { ", " },
            columns.join(", "),
            if columns.is_empty() { "" } else { ", " },
            placeholders.join(", ")
        );
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&id];
        values.extend(fields.iter().map(|(_, v)| v as &dyn rusqlite::ToSql));
        self.tx.execute(&sql, values.as_slice())?;
        for (name, value) in fields {
            self.log(entity, id, name, None, value)?;
        }
        self.after_write(entity, id)
    }

    /// Sets fields of an existing record; logs only the fields whose value changes.
    /// Returns how many fields changed.
    pub fn update(&mut self, entity: Entity, id: &str, fields: &[(&str, Value)]) -> Result<usize> {
        let table = entity.table();
        let mut changed = 0;
        for (name, value) in fields {
            entity.field(name)?;
            let old: Option<Value> = self
                .tx
                .query_row(&format!("SELECT {name} FROM {table} WHERE id = ?1"), [id], |r| {
                    Value::from_sql_ref(r.get_ref(0)?)
                })
                .optional()?;
            let Some(old) = old else {
                return Err(InputError::NotFound { what: entity.label(), id: id.to_string() }.into());
            };
            if old.same_as(value) {
                continue;
            }
            self.tx.execute(&format!("UPDATE {table} SET {name} = ?1 WHERE id = ?2"), params![value, id])?;
            let old_logged = if entity.field(name)?.personal { None } else { Some(&old) };
            // A personal field's old value is not copied into the log: the log would keep
            // what the person asked to correct. The history still shows the field changed.
            self.log(entity, id, name, old_logged, value)?;
            changed += 1;
        }
        if changed > 0 {
            self.after_write(entity, id)?;
        }
        Ok(changed)
    }

    /// Blanks a person's personal fields in the record and in its whole history, and marks
    /// the record erased. The anonymous fields (sex, nationality, city, birth year) stay so
    /// that counts remain true.
    pub fn erase_person(&mut self, id: &str) -> Result<()> {
        let entity = Entity::Person;
        let born: Option<String> = self
            .tx
            .query_row("SELECT born FROM persons WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| InputError::NotFound { what: entity.label(), id: id.to_string() })?;
        let birth_year = born.as_deref().and_then(|b| b.get(0..4)).and_then(|y| y.parse::<i64>().ok());
        let mut fields: Vec<(&str, Value)> = entity
            .fields()
            .iter()
            .filter(|f| f.personal)
            .map(|f| (f.name, Value::Null))
            .collect();
        if let Some(year) = birth_year {
            fields.push(("birth_year", Value::Int(year)));
        }
        fields.push(("erased", Value::Bool(true)));
        self.update(entity, id, &fields)?;
        let personal: Vec<&str> = entity.fields().iter().filter(|f| f.personal).map(|f| f.name).collect();
        for name in personal {
            self.tx.execute(
                "UPDATE changes SET value = NULL, old = NULL WHERE record = ?1 AND entity = ?2 AND field = ?3",
                params![id, entity.name(), name],
            )?;
        }
        Ok(())
    }

    fn after_write(&mut self, entity: Entity, id: &str) -> Result<()> {
        if entity == Entity::Person {
            crate::search::reindex_person(self.tx, id)?;
        }
        Ok(())
    }
}

/// The history of one record, oldest first.
pub(crate) fn history(conn: &rusqlite::Connection, record: &str) -> Result<Vec<Change>> {
    let mut stmt = conn.prepare(
        "SELECT c.hlc, c.device, c.entity, c.record, c.field, c.old, c.value, c.user_id, u.name, c.at
         FROM changes c LEFT JOIN users u ON u.id = c.user_id
         WHERE c.record = ?1 ORDER BY c.hlc, c.device",
    )?;
    let rows = stmt.query_map([record], |r| {
        Ok(Change {
            hlc: r.get(0)?,
            device: r.get(1)?,
            entity: r.get(2)?,
            record: r.get(3)?,
            field: r.get(4)?,
            old: r.get(5)?,
            value: r.get(6)?,
            user_id: r.get(7)?,
            user_name: r.get(8)?,
            at: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use crate::testing::{kv, person, temp_db};

    #[test]
    fn an_update_logs_only_the_fields_that_change_with_increasing_stamps() {
        let (_d, mut m) = temp_db();
        let id = person(&mut m, "Amina", "female", "1990-01-01");
        let before = m.history(&id).unwrap().len();
        m.set_person(&id, &kv(&[("given", "Amina"), ("city", "Rabat")])).unwrap();
        let h = m.history(&id).unwrap();
        assert_eq!(h.len(), before + 1, "only city changed");
        assert_eq!(h.last().unwrap().field, "city");
        let stamps: Vec<i64> = h.iter().map(|c| c.hlc).collect();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
    }

    #[test]
    fn a_stamp_stays_ahead_even_when_the_wall_clock_goes_back() {
        let (_d, mut m) = temp_db();
        let a = person(&mut m, "A", "female", "1990-01-01");
        let first = m.history(&a).unwrap().last().unwrap().hlc;
        // Same fixed clock: later writes must still order after earlier ones.
        let b = person(&mut m, "B", "male", "1990-01-01");
        let second = m.history(&b).unwrap()[0].hlc;
        assert!(second > first);
    }

    #[test]
    fn erasure_blanks_personal_fields_in_the_record_and_the_log() {
        let (_d, mut m) = temp_db();
        let id = m
            .add_person(&kv(&[("given", "Secret"), ("family", "Name"), ("sex", "female"), ("born", "1990-05-05"), ("nationality", "SYR"), ("phone", "0600")]))
            .unwrap();
        m.set_person(&id, &kv(&[("phone", "0700")])).unwrap();
        m.erase_person(&id).unwrap();
        let p = m.person(&id).unwrap();
        assert_eq!(p.get("given"), &crate::changes::Value::Null);
        assert_eq!(p.get("birth_year"), &crate::changes::Value::Int(1990));
        for c in m.history(&id).unwrap() {
            let text = format!("{:?} {:?}", c.value, c.old);
            assert!(!text.contains("Secret") && !text.contains("0600") && !text.contains("0700") && !text.contains("1990-05-05"), "{c:?}");
        }
    }
}
