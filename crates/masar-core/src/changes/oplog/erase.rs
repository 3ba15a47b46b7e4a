//! Erasure: a person's personal data blanked in the log, the heads and the rows, with
//! what the records linked to them say.

use rusqlite::{params, OptionalExtension, Transaction};

use super::settle::{record_state, settle_record, unfork};
use crate::schema::{Entity, Value};
use crate::Result;

/// Whether a field holds personal data. A person's field this version does not know (added
/// by a newer version) is taken as personal, so erasure blanks it too.
pub(super) fn is_personal(entity: &str, field: &str) -> bool {
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
        .prepare_cached("SELECT 1 FROM change_log WHERE record = (SELECT n FROM record_numbers WHERE id = ?1) AND entity = 'person' AND field = 'erased' AND value = 'true' LIMIT 1")?
        .exists([record])?)
}

/// Blanks the values (and local old values) of the changes `filter` selects, keeping each
/// value's commitment so that its author's signature stays checkable.
fn blank(tx: &Transaction<'_>, filter: &str, args: &[&dyn rusqlite::ToSql]) -> Result<()> {
    type Row = (
        i64,
        String,
        Option<String>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
    );
    let rows: Vec<Row> = tx
        .prepare_cached(&format!(
            "SELECT seq, field, value, salt, value_commit FROM change_log WHERE {filter}"
        ))?
        .query_map(args, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (seq, field, value, salt, kept) in rows {
        let commit = match value {
            Some(v) => Some(crate::trust::value_commitment(salt.as_deref(), &field, &v).to_vec()),
            None => kept,
        };
        tx.prepare_cached("UPDATE change_log SET value = NULL, old = NULL, salt = NULL, value_commit = ?2 WHERE seq = ?1")?
            .execute(params![seq, commit])?;
    }
    Ok(())
}

/// Blanks an erased person's personal fields everywhere: the row, the log, the heads. Every
/// field not known to be anonymous is blanked, including fields of newer versions.
pub(crate) fn apply_erasure(tx: &Transaction<'_>, record: &str) -> Result<()> {
    let kept = kept_by_erasure();
    blank(
        tx,
        &format!("record = (SELECT n FROM record_numbers WHERE id = ?1) AND entity = 'person' AND field NOT IN ({kept}) AND (value IS NOT NULL OR old IS NOT NULL)"),
        &[&record],
    )?;
    tx.prepare_cached(&format!("UPDATE change_log SET head = 0 WHERE record = (SELECT n FROM record_numbers WHERE id = ?1) AND entity = 'person' AND field NOT IN ({kept}) AND head = 1"))?
        .execute([record])?;
    tx.prepare_cached(&format!("DELETE FROM forked_fields WHERE entity = 'person' AND record = ?1 AND field NOT IN ({kept})"))?
        .execute([record])?;
    // What the records linked to the person say (an intake's notes, a referral's) is
    // about them too: every entity the registry links to a person, with personal fields.
    for link in Entity::Person
        .linked_from()
        .into_iter()
        .filter(|l| l.personal)
    {
        let linked: Vec<String> = tx
            .prepare_cached(
                "SELECT DISTINCT r.id FROM change_log l JOIN record_numbers r ON r.n = l.record WHERE l.entity = ?1 AND l.field = ?2 || '' AND l.value = ?3",
            )?
            .query_map(params![link.entity.name(), link.field, serde_json::Value::String(record.to_string()).to_string()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for r in linked {
            erase_linked(tx, link.entity, &r)?;
        }
    }
    Ok(())
}

/// Blanks the personal fields of a record linked to an erased person, in the log, the
/// heads and the row.
fn erase_linked(tx: &Transaction<'_>, entity: Entity, record: &str) -> Result<()> {
    for def in entity.fields().iter().filter(|f| f.personal) {
        blank(
            tx,
            "record = (SELECT n FROM record_numbers WHERE id = ?2) AND entity = ?1 AND field = ?3 AND (value IS NOT NULL OR old IS NOT NULL)",
            &[&entity.name(), &record, &def.name],
        )?;
        tx.prepare_cached("UPDATE change_log SET head = 0 WHERE record = (SELECT n FROM record_numbers WHERE id = ?2) AND entity = ?1 AND field = ?3 AND head = 1")?
            .execute(params![entity.name(), record, def.name])?;
        unfork(tx, entity.name(), record, def.name)?;
    }
    let state = record_state(tx, entity.name(), record)?;
    settle_record(tx, entity, record, None, state).map(|_| ())
}

/// The person a linked record (an intake, a referral) is about, by its log.
pub(crate) fn linked_person(
    tx: &Transaction<'_>,
    entity: &str,
    record: &str,
) -> Result<Option<String>> {
    let Some(field) = Entity::from_name(entity).and_then(|e| e.link_to(Entity::Person)) else {
        return Ok(None);
    };
    let json: Option<String> = tx
        .prepare_cached("SELECT value FROM change_log WHERE record = (SELECT n FROM record_numbers WHERE id = ?2) AND entity = ?1 AND field = ?3 || '' AND value IS NOT NULL LIMIT 1")?
        .query_row(params![entity, record, field], |r| r.get(0))
        .optional()?;
    Ok(json.and_then(|j| Value::from_json(Some(&j)).as_str().map(str::to_string)))
}

/// Blanks a linked record's personal fields when the person it is about was erased
/// (its changes may arrive after the erasure).
pub(crate) fn erase_linked_if_erased(
    tx: &Transaction<'_>,
    entity: &str,
    record: &str,
) -> Result<()> {
    let Some(e) = Entity::from_name(entity)
        .filter(|e| e.fields().iter().any(|f| f.personal) && e.link_to(Entity::Person).is_some())
    else {
        return Ok(());
    };
    match linked_person(tx, entity, record)? {
        Some(person) if person_erased(tx, &person)? => erase_linked(tx, e, record),
        _ => Ok(()),
    }
}
