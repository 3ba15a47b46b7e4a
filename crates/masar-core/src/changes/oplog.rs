//! The op log: how a change, local or imported, enters the log and settles the record.
//!
//! A change names its parents, the changes it overwrote. A field's *heads* are its
//! changes that no other change names as parent: one head is the field's value; several
//! heads are a conflict, whose winner is the head of highest [`rank`] and whose losers stay
//! reviewable. Because heads depend only on the set of changes, every database holding the
//! same changes shows the same values and the same conflicts, whatever the order they came
//! in. A record is shown once a change that creates it has arrived and the records it
//! links to are shown; until then it is *pending*, kept and retried.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{params, OptionalExtension, Transaction};

use crate::clock::Hlc;
use crate::schema::{Entity, FieldKind, Value};
use crate::Result;

/// How far ahead of the newest stamp its device had seen from others a change may rank:
/// past this, a laptop whose clock runs fast no longer wins concurrent edits by its clock.
pub const RANK_BOUND_MILLIS: i64 = 30 * 24 * 3600 * 1000;

/// One field change as the log holds it and bundles carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// Hybrid logical clock stamp; with `device`, the change's identity everywhere.
    pub hlc: Hlc,
    /// The device that made the change.
    pub device: String,
    /// Entity name (`person`, `project`, …).
    pub entity: String,
    /// The record's id.
    pub record: String,
    /// The field written.
    pub field: String,
    /// The new value as JSON; `None` when blanked by erasure.
    pub value: Option<String>,
    /// Whether this change created its record.
    pub creates: bool,
    /// The changes this one overwrote.
    pub parents: Vec<(Hlc, String)>,
    /// Who made it, by id on their laptop.
    pub user_id: Option<String>,
    /// Who made it, by name.
    pub user_name: Option<String>,
    /// The writing device's wall-clock time (RFC 3339).
    pub at: String,
    /// The newest stamp (milliseconds) its device had seen from other devices; 0 if none.
    pub frontier: i64,
}

/// The rank of a head among concurrent heads: its stamp, but no more than
/// [`RANK_BOUND_MILLIS`] past its frontier; then the device id, then the full stamp.
pub fn rank(hlc: Hlc, device: &str, frontier: i64) -> (i64, String, i64) {
    let ms = if frontier > 0 { hlc.millis().min(frontier + RANK_BOUND_MILLIS) } else { hlc.millis() };
    (ms, device.to_string(), hlc.0)
}

/// Whether a field holds personal data. A person's field this version does not know (added
/// by a newer version) is taken as personal, so erasure blanks it too.
fn is_personal(entity: &str, field: &str) -> bool {
    match Entity::from_name(entity) {
        Some(Entity::Person) => Entity::Person.field(field).map_or(true, |f| f.personal),
        Some(e) => e.field(field).is_ok_and(|f| f.personal),
        None => false,
    }
}

/// A person's fields known to hold no personal data: what erasure keeps.
fn kept_by_erasure() -> String {
    Entity::Person
        .fields()
        .iter()
        .filter(|f| !f.personal)
        .map(|f| format!("'{}'", f.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an erasure of this person is in the log.
pub(crate) fn person_erased(tx: &Transaction<'_>, record: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM changes WHERE record = ?1 AND entity = 'person' AND field = 'erased' AND value = 'true' LIMIT 1")?
        .exists([record])?)
}

/// Adds a change to the log and updates its field's heads. Returns false, changing
/// nothing, when the change is already there. A personal field of an erased person is
/// blanked afterwards by [`apply_erasure`], which every import runs on the persons it
/// touched.
pub(crate) fn insert(tx: &Transaction<'_>, op: &Op, old: Option<&str>) -> Result<bool> {
    let personal = op.entity == "person" && is_personal(&op.entity, &op.field);
    let old = if personal { None } else { old };
    // The (device, hlc) uniqueness makes a change already present a no-op.
    let added = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO changes(hlc, device, entity, record, field, value, old, user_id, at, creates, user_name, frontier)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            op.hlc.0, op.device, op.entity, op.record, op.field, op.value, old, op.user_id, op.at, op.creates, op.user_name, op.frontier
        ])?;
    if added == 0 {
        return Ok(false);
    }
    for (ph, pd) in &op.parents {
        tx.prepare_cached("INSERT OR IGNORE INTO change_parents(hlc, device, parent_hlc, parent_device) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![op.hlc.0, op.device, ph.0, pd])?;
    }
    if op.field == "erased" {
        return Ok(true);
    }
    let has_child = tx
        .prepare_cached("SELECT 1 FROM change_parents WHERE parent_hlc = ?1 AND parent_device = ?2 LIMIT 1")?
        .exists(params![op.hlc.0, op.device])?;
    if !has_child {
        tx.prepare_cached("INSERT OR IGNORE INTO field_heads(entity, record, field, hlc, device) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![op.entity, op.record, op.field, op.hlc.0, op.device])?;
    }
    for (ph, pd) in &op.parents {
        tx.prepare_cached("DELETE FROM field_heads WHERE entity = ?1 AND record = ?2 AND field = ?3 AND hlc = ?4 AND device = ?5")?
            .execute(params![op.entity, op.record, op.field, ph.0, pd])?;
    }
    Ok(true)
}

/// A head of a field: its stamp, device, rank and value (JSON).
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub hlc: Hlc,
    pub device: String,
    pub frontier: i64,
    pub value: Option<String>,
}

impl Head {
    pub fn rank(&self) -> (i64, String, i64) {
        rank(self.hlc, &self.device, self.frontier)
    }
}

/// A field's heads, winner first.
pub(crate) fn heads(tx: &rusqlite::Connection, entity: &str, record: &str, field: &str) -> Result<Vec<Head>> {
    let mut stmt = tx.prepare_cached(
        "SELECT h.hlc, h.device, c.frontier, c.value FROM field_heads h
         JOIN changes c ON c.hlc = h.hlc AND c.device = h.device
         WHERE h.entity = ?1 AND h.record = ?2 AND h.field = ?3",
    )?;
    let mut heads = stmt
        .query_map(params![entity, record, field], |r| {
            Ok(Head { hlc: Hlc(r.get(0)?), device: r.get(1)?, frontier: r.get(2)?, value: r.get(3)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    heads.sort_by_key(|h| std::cmp::Reverse(h.rank()));
    Ok(heads)
}

/// Every head of every field of one record, each field's winner first.
fn record_heads(tx: &Transaction<'_>, entity: &str, record: &str) -> Result<BTreeMap<String, Vec<Head>>> {
    let mut stmt = tx.prepare_cached(
        "SELECT h.field, h.hlc, h.device, c.frontier, c.value FROM field_heads h
         JOIN changes c ON c.hlc = h.hlc AND c.device = h.device
         WHERE h.entity = ?1 AND h.record = ?2",
    )?;
    let mut out: BTreeMap<String, Vec<Head>> = BTreeMap::new();
    let rows = stmt.query_map(params![entity, record], |r| {
        Ok((r.get::<_, String>(0)?, Head { hlc: Hlc(r.get(1)?), device: r.get(2)?, frontier: r.get(3)?, value: r.get(4)? }))
    })?;
    for row in rows {
        let (field, head) = row?;
        out.entry(field).or_default().push(head);
    }
    for heads in out.values_mut() {
        heads.sort_by_key(|h| std::cmp::Reverse(h.rank()));
    }
    Ok(out)
}

/// The stamps of a field's heads, to name as parents of a change that overwrites them.
pub(crate) fn head_stamps(tx: &Transaction<'_>, entity: &str, record: &str, field: &str) -> Result<Vec<(Hlc, String)>> {
    Ok(heads(tx, entity, record, field)?.into_iter().map(|h| (h.hlc, h.device)).collect())
}

/// The stamps of the heads that show the field's current value: the winner and any head
/// that recorded the same value (two laptops recording the same fact).
pub(crate) fn current_stamps(tx: &Transaction<'_>, entity: &str, record: &str, field: &str) -> Result<Vec<(Hlc, String)>> {
    let heads = heads(tx, entity, record, field)?;
    let Some(winner) = heads.first().map(|h| h.value.clone()) else { return Ok(Vec::new()) };
    Ok(heads.into_iter().filter(|h| h.value == winner).map(|h| (h.hlc, h.device)).collect())
}

fn json_to_value(def_kind: FieldKind, json: Option<&str>) -> Value {
    let parsed = json.and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok());
    match parsed {
        Some(serde_json::Value::String(s)) => Value::Text(s),
        Some(serde_json::Value::Bool(b)) => Value::Bool(b),
        Some(serde_json::Value::Number(n)) => match (def_kind, n.as_i64()) {
            (FieldKind::Flag, Some(i)) => Value::Bool(i != 0),
            (_, Some(i)) => Value::Int(i),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

/// Records touched by a batch of changes, with the fields touched in each.
pub(crate) type Touched = BTreeMap<(String, String), BTreeSet<String>>;

/// Brings the entity rows of the touched records in line with the log: updates the touched
/// fields of shown records, shows records that can now be shown, and retries pending ones.
/// Returns how many conflicts the touched fields are in.
pub(crate) fn settle(tx: &Transaction<'_>, records: &Touched) -> Result<u64> {
    let mut shown_any = false;
    let mut conflicts = 0;
    for ((entity, record), fields) in records {
        let heads = record_heads(tx, entity, record)?;
        for field in fields {
            if let Some((winner, losers)) = heads.get(field).and_then(|h| h.split_first()) {
                conflicts += losers.iter().filter(|l| l.value != winner.value).count() as u64;
            }
        }
        let Some(e) = Entity::from_name(entity) else { continue };
        shown_any |= settle_record(tx, e, record, Some(fields), heads)?;
    }
    // A record shown now may unblock pending records that link to it.
    while shown_any {
        shown_any = false;
        let pending: Vec<(String, String)> = tx
            .prepare_cached("SELECT entity, record FROM pending")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (entity, record) in pending {
            if let Some(e) = Entity::from_name(&entity) {
                let heads = record_heads(tx, &entity, &record)?;
                shown_any |= settle_record(tx, e, &record, None, heads)?;
            }
        }
    }
    Ok(conflicts)
}

/// Returns true when the record was shown by this call. `fields` limits the update of a
/// shown record to the fields touched.
fn settle_record(
    tx: &Transaction<'_>,
    entity: Entity,
    record: &str,
    fields: Option<&BTreeSet<String>>,
    heads: BTreeMap<String, Vec<Head>>,
) -> Result<bool> {
    let table = entity.table();
    let exists = tx
        .prepare_cached(&format!("SELECT 1 FROM {table} WHERE id = ?1"))?
        .exists([record])?;
    let erased = entity == Entity::Person && person_erased(tx, record)?;
    let winner = |name: &str, kind: FieldKind| -> Option<Value> {
        heads.get(name).and_then(|h| h.first()).map(|h| json_to_value(kind, h.value.as_deref()))
    };
    let wanted = |name: &str| -> bool {
        !exists || fields.is_none_or(|f| f.contains(name) || (erased && f.contains("erased")))
    };
    let mut values: Vec<(&'static str, Value)> = Vec::new();
    for def in entity.fields() {
        if !wanted(def.name) {
            continue;
        }
        let v = if def.name == "erased" && entity == Entity::Person {
            Value::Bool(erased)
        } else if erased && def.personal {
            Value::Null
        } else {
            winner(def.name, def.kind).unwrap_or(Value::Null)
        };
        values.push((def.name, v));
    }
    if exists {
        for (name, v) in &values {
            tx.prepare_cached(&format!("UPDATE {table} SET {name} = ?1 WHERE id = ?2 AND {name} IS NOT ?1"))?
                .execute(params![v, record])?;
        }
        if entity == Entity::Person {
            crate::search::reindex_person(tx, record)?;
        }
        return Ok(false);
    }
    let created = tx
        .prepare_cached("SELECT 1 FROM changes WHERE entity = ?1 AND record = ?2 AND creates = 1 LIMIT 1")?
        .exists(params![entity.name(), record])?;
    let mut ready = created;
    for (def, (_, v)) in entity.fields().iter().zip(&values) {
        if let (FieldKind::Link(target), Value::Text(id)) = (def.kind, v) {
            if target != Entity::User && ready {
                ready = tx
                    .prepare_cached(&format!("SELECT 1 FROM {} WHERE id = ?1", target.table()))?
                    .exists([id])?;
            }
        }
    }
    if !ready {
        if !created && erased {
            // An erasure of a person this laptop never received: there is nothing to show.
            return Ok(false);
        }
        tx.prepare_cached("INSERT OR IGNORE INTO pending(entity, record) VALUES (?1, ?2)")?
            .execute(params![entity.name(), record])?;
        return Ok(false);
    }
    let cols: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
    let marks: Vec<String> = (2..=values.len() + 1).map(|i| format!("?{i}")).collect();
    let sql = format!("INSERT INTO {table}(id, {}) VALUES (?1, {})", cols.join(", "), marks.join(", "));
    let mut args: Vec<&dyn rusqlite::ToSql> = vec![&record];
    args.extend(values.iter().map(|(_, v)| v as &dyn rusqlite::ToSql));
    tx.prepare_cached(&sql)?.execute(args.as_slice())?;
    tx.prepare_cached("DELETE FROM pending WHERE entity = ?1 AND record = ?2")?
        .execute(params![entity.name(), record])?;
    if entity == Entity::Person {
        crate::search::reindex_person(tx, record)?;
    }
    Ok(true)
}

/// Blanks an erased person's personal fields everywhere: the row, the log, the heads. Every
/// field not known to be anonymous is blanked, including fields of newer versions.
pub(crate) fn apply_erasure(tx: &Transaction<'_>, record: &str) -> Result<()> {
    let kept = kept_by_erasure();
    tx.prepare_cached(&format!(
        "UPDATE changes SET value = NULL, old = NULL
         WHERE record = ?1 AND entity = 'person' AND field NOT IN ({kept}) AND (value IS NOT NULL OR old IS NOT NULL)"
    ))?
    .execute([record])?;
    tx.prepare_cached(&format!("DELETE FROM field_heads WHERE entity = 'person' AND record = ?1 AND field NOT IN ({kept})"))?
        .execute([record])?;
    // The notes of the person's intakes and referrals are about them too.
    for entity in [Entity::Intake, Entity::Referral] {
        let linked: Vec<String> = tx
            .prepare_cached(
                "SELECT DISTINCT record FROM changes WHERE entity = ?1 AND field = 'person_id' AND value = ?2",
            )?
            .query_map(params![entity.name(), serde_json::Value::String(record.to_string()).to_string()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for r in linked {
            erase_linked(tx, entity, &r)?;
        }
    }
    Ok(())
}

/// Blanks the personal fields of a record linked to an erased person, in the log, the
/// heads and the row.
fn erase_linked(tx: &Transaction<'_>, entity: Entity, record: &str) -> Result<()> {
    for def in entity.fields().iter().filter(|f| f.personal) {
        tx.prepare_cached(
            "UPDATE changes SET value = NULL, old = NULL
             WHERE entity = ?1 AND record = ?2 AND field = ?3 AND (value IS NOT NULL OR old IS NOT NULL)",
        )?
        .execute(params![entity.name(), record, def.name])?;
        tx.prepare_cached("DELETE FROM field_heads WHERE entity = ?1 AND record = ?2 AND field = ?3")?
            .execute(params![entity.name(), record, def.name])?;
    }
    let heads = record_heads(tx, entity.name(), record)?;
    settle_record(tx, entity, record, None, heads).map(|_| ())
}

/// The person a linked record (an intake, a referral) is about, by its log.
pub(crate) fn linked_person(tx: &Transaction<'_>, entity: &str, record: &str) -> Result<Option<String>> {
    let json: Option<String> = tx
        .prepare_cached("SELECT value FROM changes WHERE entity = ?1 AND record = ?2 AND field = 'person_id' AND value IS NOT NULL LIMIT 1")?
        .query_row(params![entity, record], |r| r.get(0))
        .optional()?;
    Ok(json.and_then(|j| Value::from_json(Some(&j)).as_str().map(str::to_string)))
}

/// Blanks a linked record's personal fields when the person it is about was erased
/// (its changes may arrive after the erasure).
pub(crate) fn erase_linked_if_erased(tx: &Transaction<'_>, entity: &str, record: &str) -> Result<()> {
    let Some(e @ (Entity::Intake | Entity::Referral)) = Entity::from_name(entity) else { return Ok(()) };
    match linked_person(tx, entity, record)? {
        Some(person) if person_erased(tx, &person)? => erase_linked(tx, e, record),
        _ => Ok(()),
    }
}
