//! The one write path. Every insert, update and erasure goes through a [`Writer`], which
//! writes the entity row and appends one row per field to the change log (`changes`),
//! stamped with the hybrid logical clock, the device and the user. The audit trail
//! (`masar history`) reads that log, and sync will ship it.

pub mod entity;
pub mod oplog;
mod value;

pub use entity::{Entity, FieldDef, FieldKind};
pub use oplog::Op;
pub use value::Value;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, Transaction};

use crate::clock::Hlc;
use crate::domain::InputError;
use crate::Result;

/// Writes records and logs each field change, inside one transaction.
pub struct Writer<'t> {
    tx: &'t Transaction<'t>,
    user_id: Option<String>,
    user_name: Option<String>,
    device: String,
    now: DateTime<Utc>,
    hlc: Hlc,
    frontier: i64,
    offset: i64,
    touched: oplog::Touched,
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
    /// Who made it (user id on their laptop).
    pub user_id: Option<String>,
    /// The user's name, where known.
    pub user_name: Option<String>,
    /// The writing device's wall-clock time (RFC 3339).
    pub at: String,
}

pub(crate) const HLC_META_KEY: &str = "hlc";

/// The clock saved in `meta`, where every write continues from.
pub(crate) fn saved_hlc(tx: &Transaction<'_>) -> Result<Hlc> {
    Ok(Hlc(crate::store::meta(tx, HLC_META_KEY)?.and_then(|s| s.parse().ok()).unwrap_or(0)))
}

/// How far ahead of this laptop's wall clock the organisation's stamps run, learnt from
/// imports (milliseconds, never negative). Adding it to the wall clock keeps this laptop's
/// stamps moving with real time after a laptop whose clock runs fast has pulled every
/// stamp ahead: otherwise its later edits would carry the same frozen millisecond and lose
/// to the fast laptop's concurrent ones.
pub(crate) fn clock_offset(tx: &Transaction<'_>) -> Result<i64> {
    Ok(crate::store::meta(tx, CLOCK_OFFSET_KEY)?.and_then(|s| s.parse().ok()).unwrap_or(0))
}

pub(crate) const CLOCK_OFFSET_KEY: &str = "clock_offset";

/// Saves the clock.
pub(crate) fn save_hlc(tx: &Transaction<'_>, hlc: Hlc) -> Result<()> {
    Ok(crate::store::set_meta(tx, HLC_META_KEY, &hlc.0.to_string())?)
}

impl<'t> Writer<'t> {
    pub(crate) fn new(
        tx: &'t Transaction<'t>,
        user_id: Option<String>,
        user_name: Option<String>,
        device: String,
        now: DateTime<Utc>,
    ) -> Result<Writer<'t>> {
        let hlc = saved_hlc(tx)?;
        let frontier = oplog::frontier(tx)?;
        let offset = clock_offset(tx)?;
        Ok(Writer { tx, user_id, user_name, device, now, hlc, frontier, offset, touched: Default::default() })
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

    /// Brings the touched records in line with the log and saves the clock; called
    /// before commit.
    pub(crate) fn finish(self) -> Result<()> {
        oplog::settle(self.tx, &self.touched)?;
        save_hlc(self.tx, self.hlc)
    }

    fn log(&mut self, entity: Entity, record: &str, field: &str, value: &Value, old: Option<&Value>, creates: bool) -> Result<()> {
        // A local edit overwrites what the user saw: the current value, however many laptops
        // recorded it. Heads with other values stay in conflict until a supervisor resolves.
        let parents = if creates { Vec::new() } else { oplog::current_stamps(self.tx, entity.name(), record, field)? };
        self.append(entity, record, field, value, old, creates, parents)
    }

    /// Writes a change that overwrites every head of a field: a conflict's resolution.
    pub(crate) fn resolve(&mut self, entity: Entity, record: &str, field: &str, value: &Value) -> Result<()> {
        let parents = oplog::head_stamps(self.tx, entity.name(), record, field)?;
        self.append(entity, record, field, value, None, false, parents)
    }

    /// Stamps a change made here and adds it to the log.
    #[allow(clippy::too_many_arguments)]
    fn append(
        &mut self,
        entity: Entity,
        record: &str,
        field: &str,
        value: &Value,
        old: Option<&Value>,
        creates: bool,
        parents: Vec<(Hlc, String)>,
    ) -> Result<()> {
        self.hlc = self.hlc.tick(self.now.timestamp_millis() + self.offset);
        let op = Op {
            hlc: self.hlc,
            device: self.device.clone(),
            entity: entity.name().to_string(),
            record: record.to_string(),
            field: field.to_string(),
            value: Some(value.to_json()),
            creates,
            parents,
            user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
            at: self.now.to_rfc3339_opts(SecondsFormat::Millis, true),
            frontier: self.frontier,
        };
        oplog::insert(self.tx, &op, old.map(Value::to_json).as_deref())?;
        self.touched.entry((op.entity, op.record)).or_default().insert(op.field);
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
        for (name, _) in fields {
            entity.field(name)?;
        }
        for (i, (name, value)) in fields.iter().enumerate() {
            self.log(entity, id, name, value, None, i == 0)?;
        }
        // Settled now, so that later steps of the same write see the row.
        oplog::settle(self.tx, &std::mem::take(&mut self.touched)).map(|_| ())
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
            let old = match (entity.field(name)?.kind, &old) {
                (FieldKind::Flag, Value::Int(i)) => Value::Bool(*i != 0),
                _ => old,
            };
            self.log(entity, id, name, value, Some(&old), false)?;
            changed += 1;
        }
        oplog::settle(self.tx, &std::mem::take(&mut self.touched))?;
        Ok(changed)
    }

    /// Erases a person: an erasure change that every laptop applies, blanking the personal
    /// fields of the record and of its whole history. The anonymous fields (sex,
    /// nationality, city, birth year) stay so that counts remain true.
    pub fn erase_person(&mut self, id: &str) -> Result<()> {
        let entity = Entity::Person;
        let born: Option<String> = self
            .tx
            .query_row("SELECT born FROM persons WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| InputError::NotFound { what: entity.label(), id: id.to_string() })?;
        let birth_year = born.as_deref().and_then(|b| b.get(0..4)).and_then(|y| y.parse::<i64>().ok());
        if let Some(year) = birth_year {
            self.update(entity, id, &[("birth_year", Value::Int(year))])?;
        }
        self.log(entity, id, "erased", &Value::Bool(true), None, false)?;
        oplog::apply_erasure(self.tx, id)?;
        oplog::settle(self.tx, &std::mem::take(&mut self.touched)).map(|_| ())
    }
}

/// The history of one record, oldest first.
pub(crate) fn history(conn: &rusqlite::Connection, record: &str) -> Result<Vec<Change>> {
    let mut stmt = conn.prepare(
        "SELECT c.hlc, c.device, c.entity, c.record, c.field, c.old, c.value, c.user_id, coalesce(c.user_name, u.name), c.at
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
