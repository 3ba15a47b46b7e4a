//! Settling: the entity rows brought in line with the log, record by record or in bulk
//! as an import streams by.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{params, Transaction};

use super::erase::{erase_linked_if_erased, person_erased};
use super::{apply_erasure, Filed, Head, Op};
use crate::clock::Hlc;
use crate::schema::{Entity, FieldKind, Value};
use crate::Result;

/// What settling a record reads of its log, in one query: each field's heads (winner
/// first), whether a change created it, and whether it is a person who was erased.
pub(super) struct RecordState {
    heads: BTreeMap<String, Vec<Head>>,
    created: bool,
    erased: bool,
}

pub(super) fn record_state(
    tx: &Transaction<'_>,
    entity: &str,
    record: &str,
) -> Result<RecordState> {
    let mut stmt = tx.prepare_cached(
        "SELECT l.field, l.hlc, d.id, l.frontier, l.value, l.head, l.creates, coalesce(a.id, '') FROM change_log l JOIN device_numbers d ON d.n = l.device
         LEFT JOIN author_numbers a ON a.n = l.author
         WHERE l.record = (SELECT n FROM record_numbers WHERE id = ?2) AND l.entity = ?1",
    )?;
    let mut state = RecordState {
        heads: BTreeMap::new(),
        created: false,
        erased: false,
    };
    let mut rows = stmt.query(params![entity, record])?;
    while let Some(r) = rows.next()? {
        let field: String = r.get(0)?;
        let head = Head {
            hlc: Hlc(r.get(1)?),
            device: r.get(2)?,
            frontier: r.get(3)?,
            value: r.get(4)?,
            author: r.get(7)?,
        };
        state.created |= r.get::<_, bool>(6)?;
        if field == "erased" {
            state.erased |= entity == "person" && head.value.as_deref() == Some("true");
        }
        if r.get::<_, bool>(5)? {
            state.heads.entry(field).or_default().push(head);
        }
    }
    for heads in state.heads.values_mut() {
        heads.sort_by_key(|h| std::cmp::Reverse(h.rank()));
    }
    Ok(state)
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

/// The fields in conflict, with how many values disagree with the one shown.
pub(crate) type Conflicted = BTreeMap<(String, String, String), u64>;

/// Brings the entity rows of the touched records in line with the log: updates the touched
/// fields of shown records, shows records that can now be shown, and retries pending ones.
/// Records in `conflicted` each touched field's disagreeing values (removing a field that
/// no longer has any).
pub(crate) fn settle(
    tx: &Transaction<'_>,
    records: &Touched,
    conflicted: &mut Conflicted,
) -> Result<()> {
    let mut shown_any = false;
    // Most logs have no forked field: then none needs looking up to be unlisted.
    let mut any_forked = tx
        .prepare_cached("SELECT 1 FROM forked_fields LIMIT 1")?
        .exists([])?;
    for ((entity, record), fields) in records {
        let state = record_state(tx, entity, record)?;
        let heads = &state.heads;
        for field in fields {
            let forked = heads.get(field).is_some_and(|h| h.len() > 1);
            if forked {
                tx.prepare_cached("INSERT OR IGNORE INTO forked_fields(entity, record, field) VALUES (?1, ?2, ?3)")?
                    .execute(params![entity, record, field])?;
                any_forked = true;
            } else if any_forked {
                unfork(tx, entity, record, field)?;
            }
            let losers = match heads.get(field).and_then(|h| h.split_first()) {
                Some((winner, losers)) => {
                    losers.iter().filter(|l| l.value != winner.value).count() as u64
                }
                None => 0,
            };
            let key = (entity.clone(), record.clone(), field.clone());
            if losers > 0 {
                conflicted.insert(key, losers);
            } else {
                conflicted.remove(&key);
            }
        }
        let Some(e) = Entity::from_name(entity) else {
            continue;
        };
        shown_any |= settle_record(tx, e, record, Some(fields), state)?;
    }
    if shown_any {
        retry_pending(tx)?;
    }
    Ok(())
}

/// Shows the pending records that can now be shown (a record they link to was shown),
/// until none more can.
fn retry_pending(tx: &Transaction<'_>) -> Result<()> {
    let mut shown_any = true;
    while shown_any {
        shown_any = false;
        let pending: Vec<(String, String)> = tx
            .prepare_cached("SELECT entity, record FROM pending")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (entity, record) in pending {
            if let Some(e) = Entity::from_name(&entity) {
                let state = record_state(tx, &entity, &record)?;
                shown_any |= settle_record(tx, e, &record, None, state)?;
            }
        }
    }
    Ok(())
}

/// The bulk path of an import. A record first seen in this import whose changes arrive
/// together, each creating one field that no change overwrote, is shown from those
/// changes as they pass, its row written once, instead of being read back from the log
/// when the import settles. What it shows is what settling would: the same
/// [`settle_record`] on the same heads. Anything else about a record (a parent, a second
/// change of a field, an erasure, a change that comes back to it later, a link not yet
/// shown) leaves it to the ordinary path.
#[derive(Debug, Default)]
pub(crate) struct Bulk {
    run: Option<Run>,
    /// The records shown this way (by number), which settling passes over.
    shown: std::collections::HashSet<i64>,
}

#[derive(Debug)]
struct Run {
    entity: Option<Entity>,
    record: String,
    n: i64,
    heads: BTreeMap<String, Vec<Head>>,
    plain: bool,
}

impl Bulk {
    /// Takes a change just added to the log, filed as `filed`. `erasures` says whether the
    /// log may hold an erasure, which a linked record must be settled against.
    pub fn take(
        &mut self,
        tx: &Transaction<'_>,
        op: &Op,
        filed: Filed,
        erasures: bool,
    ) -> Result<()> {
        // A record's first change creates it; the others write its other fields. A person
        // is created "not erased": an erasure flag is no field's head, as in `insert`.
        let flag = op.field == "erased";
        let plain = filed.childless
            && op.parents.is_empty()
            && !(flag && op.value.as_deref() != Some("false"));
        match &mut self.run {
            Some(run) if run.n == filed.record => {
                run.plain &= plain && !run.heads.contains_key(&op.field);
                if !flag {
                    run.heads.insert(
                        op.field.clone(),
                        vec![Head {
                            hlc: op.hlc,
                            device: op.device.clone(),
                            frontier: op.frontier,
                            value: op.value.clone(),
                            author: op.user_id.clone().unwrap_or_default(),
                        }],
                    );
                }
                return Ok(());
            }
            _ => self.flush(tx, erasures)?,
        }
        // A record shown in bulk that another change comes back to is settled as usual.
        self.shown.remove(&filed.record);
        if plain && op.creates && !flag {
            let heads = BTreeMap::from([(
                op.field.clone(),
                vec![Head {
                    hlc: op.hlc,
                    device: op.device.clone(),
                    frontier: op.frontier,
                    value: op.value.clone(),
                    author: op.user_id.clone().unwrap_or_default(),
                }],
            )]);
            self.run = Some(Run {
                entity: Entity::from_name(&op.entity),
                record: op.record.clone(),
                n: filed.record,
                heads,
                plain,
            });
        }
        Ok(())
    }

    /// Shows the record whose changes were passing, if it qualifies.
    fn flush(&mut self, tx: &Transaction<'_>, erasures: bool) -> Result<()> {
        let Some(run) = self.run.take() else {
            return Ok(());
        };
        let Some(entity) = run.entity.filter(|e| run.plain && *e != Entity::User) else {
            return Ok(());
        };
        // An intake's or referral's notes are blanked if its person was erased: settled as usual.
        if erasures && matches!(entity, Entity::Intake | Entity::Referral) {
            return Ok(());
        }
        if settle_record(
            tx,
            entity,
            &run.record,
            None,
            RecordState {
                heads: run.heads,
                created: true,
                erased: false,
            },
        )? {
            self.shown.insert(run.n);
        }
        Ok(())
    }

    /// Ends the import's stream: shows the last record, and retries pending records that
    /// a record shown in bulk may unblock. Returns the records shown in bulk.
    pub fn finish(
        mut self,
        tx: &Transaction<'_>,
        erasures: bool,
    ) -> Result<std::collections::HashSet<i64>> {
        self.flush(tx, erasures)?;
        if !self.shown.is_empty() {
            retry_pending(tx)?;
        }
        Ok(self.shown)
    }
}

/// Takes a field off the list of those with several heads.
pub(super) fn unfork(tx: &Transaction<'_>, entity: &str, record: &str, field: &str) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM forked_fields WHERE entity = ?1 AND record = ?2 AND field = ?3",
    )?
    .execute(params![entity, record, field])?;
    Ok(())
}

/// Whether the log holds any erasure, read from a partial index of them.
pub(crate) fn holds_erasure(tx: &rusqlite::Connection) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM change_log WHERE field = 'erased' LIMIT 1")?
        .exists([])?)
}

/// Settles records touched by changes that arrived from elsewhere: an erased person's
/// personal data is blanked first, whether the erasure came now or earlier and whichever
/// order its changes came in, so that nothing of it is ever shown.
pub(crate) fn settle_arrived(
    tx: &Transaction<'_>,
    records: &Touched,
    conflicted: &mut Conflicted,
) -> Result<()> {
    // A log without any erasure (the common case) has nothing to blank.
    let any_erasure = holds_erasure(tx)?;
    for (entity, record) in records.keys().filter(|_| any_erasure) {
        if entity == "person" && person_erased(tx, record)? {
            apply_erasure(tx, record)?;
        }
        erase_linked_if_erased(tx, entity, record)?;
    }
    settle(tx, records, conflicted)
}

/// Settles, as [`settle_arrived`], every record touched by the changes logged after `seq`
/// but those `shown` by the bulk path, a slice of the log at a time, so that a large
/// import never lists its records whole.
/// Returns the fields left in conflict; `progress` is told how many changes were settled.
pub(crate) fn settle_since(
    tx: &Transaction<'_>,
    seq: i64,
    shown: &std::collections::HashSet<i64>,
    progress: &mut dyn FnMut(u64),
) -> Result<Conflicted> {
    const SLICE: i64 = 20_000;
    let mut conflicted = Conflicted::new();
    let mut from = seq;
    let mut done = 0;
    loop {
        let mut touched: Touched = BTreeMap::new();
        let mut last = from;
        let mut stmt = tx.prepare_cached(
            "SELECT l.seq, l.entity, r.id, l.field, l.record FROM change_log l JOIN record_numbers r ON r.n = l.record WHERE l.seq > ?1 ORDER BY l.seq LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![from, SLICE])?;
        let mut any = false;
        while let Some(r) = rows.next()? {
            last = r.get(0)?;
            done += 1;
            any = true;
            if !shown.contains(&r.get(4)?) {
                touched
                    .entry((r.get(1)?, r.get(2)?))
                    .or_default()
                    .insert(r.get(3)?);
            }
        }
        drop(rows);
        drop(stmt);
        if !any {
            return Ok(conflicted);
        }
        settle_arrived(tx, &touched, &mut conflicted)?;
        progress(done);
        from = last;
    }
}

/// Returns true when the record was shown by this call. `fields` limits the update of a
/// shown record to the fields touched.
pub(super) fn settle_record(
    tx: &Transaction<'_>,
    entity: Entity,
    record: &str,
    fields: Option<&BTreeSet<String>>,
    state: RecordState,
) -> Result<bool> {
    let table = entity.table();
    let exists = tx
        .prepare_cached(&format!("SELECT 1 FROM {table} WHERE id = ?1"))?
        .exists([record])?;
    let RecordState {
        heads,
        created,
        erased,
    } = state;
    let winner = |name: &str, kind: FieldKind| -> Option<Value> {
        heads
            .get(name)
            .and_then(|h| h.first())
            .map(|h| json_to_value(kind, h.value.as_deref()))
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
            tx.prepare_cached(&format!(
                "UPDATE {table} SET {name} = ?1 WHERE id = ?2 AND {name} IS NOT ?1"
            ))?
            .execute(params![v, record])?;
        }
        if entity == Entity::Person {
            crate::search::reindex_person(tx, record, false)?;
        }
        return Ok(false);
    }
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
    let sql = format!(
        "INSERT INTO {table}(id, {}) VALUES (?1, {})",
        cols.join(", "),
        marks.join(", ")
    );
    let mut args: Vec<&dyn rusqlite::ToSql> = vec![&record];
    args.extend(values.iter().map(|(_, v)| v as &dyn rusqlite::ToSql));
    tx.prepare_cached(&sql)?.execute(args.as_slice())?;
    tx.prepare_cached("DELETE FROM pending WHERE entity = ?1 AND record = ?2")?
        .execute(params![entity.name(), record])?;
    if entity == Entity::Person {
        crate::search::reindex_person(tx, record, true)?;
    }
    Ok(true)
}
