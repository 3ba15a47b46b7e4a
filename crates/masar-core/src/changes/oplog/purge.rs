//! Purging: changes removed from the log as if they had never arrived.

use std::collections::BTreeMap;

use rusqlite::{params, Transaction};

use super::Touched;
use crate::schema::Entity;
use crate::Result;

/// Removes the changes `filter` selects (an SQL condition on `changes c`) from the log, as
/// if they had never arrived: a revocation's changes made after it took effect. Their
/// fields' heads are computed again from what remains, and a record whose creation is gone
/// leaves its table. Returns the records touched, for the caller to settle.
pub(crate) fn purge(
    tx: &Transaction<'_>,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Touched> {
    type Victim = (i64, i64, String, String, String, String, (i64, i64));
    let victims: Vec<Victim> = tx
        .prepare(&format!("SELECT c.seq, c.hlc, c.device, c.entity, c.record, c.field, c.author_n, c.record_n FROM changes c WHERE {filter}"))?
        .query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, (r.get(6)?, r.get(7)?))))?
        .collect::<rusqlite::Result<_>>()?;
    let mut touched: Touched = BTreeMap::new();
    for (seq, hlc, device, entity, record, field, (author, record_n)) in victims {
        tx.prepare_cached(
            "DELETE FROM change_parents WHERE hlc = ?1 AND device = ?2 AND author = ?3 AND record = ?4",
        )?
        .execute(params![hlc, device, author, record_n])?;
        tx.prepare_cached("DELETE FROM change_log WHERE seq = ?1")?
            .execute([seq])?;
        touched.entry((entity, record)).or_default().insert(field);
    }
    for ((entity, record), fields) in &touched {
        for field in fields.iter().filter(|f| *f != "erased") {
            // A field's heads: its changes that no remaining change names as parent.
            tx.prepare_cached(
                "UPDATE change_log SET head = 1
                 WHERE record = (SELECT n FROM record_numbers WHERE id = ?2) AND entity = ?1 AND field = ?3 AND head = 0
                   AND NOT EXISTS (SELECT 1 FROM change_parents p
                                   JOIN device_numbers d ON d.id = p.parent_device
                                   JOIN device_numbers cd ON cd.id = p.device
                                   JOIN change_log c ON c.hlc = p.hlc AND c.device = cd.n AND c.author = p.author AND c.record = p.record
                                   WHERE p.parent_hlc = change_log.hlc AND d.n = change_log.device
                                     AND c.record = change_log.record AND c.entity = change_log.entity AND c.field = change_log.field)",
            )?
            .execute(params![entity, record, field])?;
        }
        let created = tx
            .prepare_cached("SELECT 1 FROM change_log WHERE record = (SELECT n FROM record_numbers WHERE id = ?2) AND entity = ?1 AND creates = 1 LIMIT 1")?
            .exists(params![entity, record])?;
        if let (false, Some(e)) = (created, Entity::from_name(entity)) {
            if e == Entity::Person {
                crate::search::forget_person(tx, record)?;
            }
            tx.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", e.table()))?
                .execute([record])?;
        }
    }
    Ok(touched)
}
