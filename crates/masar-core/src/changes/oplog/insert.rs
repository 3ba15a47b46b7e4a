//! How a change enters the log: its device's, author's and record's numbers, its row
//! and parents, and a change that arrives again under an identity held.

use rusqlite::{params, OptionalExtension, Transaction};

use super::erase::is_personal;
use super::{load_ops, purge, settle_arrived, Conflicted, Filed, Op};
use crate::Result;

/// The time a stamp carries, written as a change's `at` is (RFC 3339, milliseconds, `Z`),
/// as an SQL expression on `hlc`. A change whose `at` is this stores none: the view
/// `changes` (schema 7) gives it back with the same expression, so both must stay equal.
fn stamp_time_sql(hlc: &str) -> String {
    format!("strftime('%Y-%m-%dT%H:%M:%S', ({hlc} >> 16) / 1000, 'unixepoch') || printf('.%03dZ', ({hlc} >> 16) % 1000)")
}

/// This laptop's numbers for the devices and records its log names (the log stores these
/// small integers instead of 36-character ids), remembered over a run of changes.
#[derive(Debug, Default)]
pub(crate) struct Numbers {
    devices: std::collections::HashMap<String, i64>,
    authors: std::collections::HashMap<String, i64>,
    /// Changes come a record at a time: the last one is the one asked again.
    last_record: Option<LastRecord>,
}

#[derive(Debug)]
struct LastRecord {
    id: String,
    n: i64,
    /// Numbered in this run, and none of its changes since named a parent: no change in
    /// the log can have overwritten the next one of it.
    childless: bool,
}

impl Numbers {
    /// A device's number, given it now if it has none.
    pub fn device(&mut self, tx: &rusqlite::Connection, id: &str) -> Result<i64> {
        if let Some(n) = self.devices.get(id) {
            return Ok(*n);
        }
        let (n, _) = number(tx, "device_numbers", id)?;
        self.devices.insert(id.to_string(), n);
        Ok(n)
    }

    /// An author's number, given it now if it has none; 0 for a change naming no author.
    pub fn author(&mut self, tx: &rusqlite::Connection, id: Option<&str>) -> Result<i64> {
        let Some(id) = id else { return Ok(0) };
        if let Some(n) = self.authors.get(id) {
            return Ok(*n);
        }
        let (n, _) = number(tx, "author_numbers", id)?;
        self.authors.insert(id.to_string(), n);
        Ok(n)
    }

    /// The number of the record `op` writes (given it now if it has none), and whether no
    /// change in the log can name `op` as parent (so that nothing need be looked up to
    /// know it is a head).
    pub fn record(&mut self, tx: &rusqlite::Connection, op: &Op) -> Result<(i64, bool)> {
        let last = match &mut self.last_record {
            Some(last) if last.id == op.record => last,
            slot => {
                let (n, new) = number(tx, "record_numbers", &op.record)?;
                slot.insert(LastRecord {
                    id: op.record.clone(),
                    n,
                    childless: new,
                })
            }
        };
        let childless = last.childless;
        last.childless &= op.parents.is_empty();
        Ok((last.n, childless))
    }
}

/// The number `table` gives `id`, added if it has none (then `true`). Numbers are never
/// reused or changed (each table's `n` is its INTEGER PRIMARY KEY, which VACUUM keeps).
fn number(tx: &rusqlite::Connection, table: &str, id: &str) -> Result<(i64, bool)> {
    if let Some(n) = tx
        .prepare_cached(&format!("SELECT n FROM {table} WHERE id = ?1"))?
        .query_row([id], |r| r.get(0))
        .optional()?
    {
        return Ok((n, false));
    }
    tx.prepare_cached(&format!("INSERT INTO {table}(id) VALUES (?1)"))?
        .execute([id])?;
    Ok((tx.last_insert_rowid(), true))
}

/// Whether a change held names `op` as parent and writes the same field of the same
/// record (a parent elsewhere overwrites nothing, in whichever order the two arrive).
fn overwritten(tx: &Transaction<'_>, op: &Op, record: i64) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM change_parents p JOIN change_log c ON c.hlc = p.hlc AND c.device = (SELECT n FROM device_numbers WHERE id = p.device) AND c.author = p.author AND c.record = p.record
             WHERE p.parent_hlc = ?1 AND p.parent_device = ?2 AND c.record = ?3 AND c.entity = ?4 AND c.field = ?5 || '' LIMIT 1",
        )?
        .exists(params![op.hlc.0, op.device, record, op.entity, op.field])?)
}

/// Adds a change to the log and updates its field's heads. Returns false, changing
/// nothing, when the change is already there, or when it is the version set aside of a
/// change its author signed twice ([`held_again`]); true when it is added, replacing the
/// version set aside if need be. A personal field of an erased person is blanked
/// afterwards by [`apply_erasure`], which every import runs on the persons it touched.
pub(crate) fn insert(
    tx: &Transaction<'_>,
    op: &Op,
    old: Option<&str>,
    filed: Filed,
) -> Result<bool> {
    let personal = op.entity == "person" && is_personal(&op.entity, &op.field);
    let old = if personal { None } else { old };
    let pos = op.commit.as_ref().map(|(_, pos)| *pos);
    // A change is a head unless a change of its field already here overwrote it (it may
    // have come first); an erasure is no field's value.
    let head = op.field != "erased" && (filed.childless || !overwritten(tx, op, filed.record)?);
    let (user_id, user_name) = if filed.by_cert {
        (None, None)
    } else {
        (op.user_id.as_deref(), op.user_name.as_deref())
    };
    // The (device, stamp, author, record) uniqueness makes a change already present a no-op.
    let added = tx
        .prepare_cached(&format!(
            "INSERT OR IGNORE INTO change_log(hlc, device, entity, record, field, creates, resolves, head, by_cert, frontier,
                                              commit_n, commit_pos, value, salt, old, value_commit, user_id, user_name, at, author)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                     CASE WHEN ?19 = {} THEN NULL ELSE ?19 END, ?20)",
            stamp_time_sql("?1")
        ))?
        .execute(params![
            op.hlc.0,
            filed.device,
            op.entity,
            filed.record,
            op.field,
            op.creates,
            op.resolves,
            head,
            filed.by_cert,
            op.frontier,
            filed.commit,
            pos,
            op.value,
            op.salt,
            old,
            op.value_commit.map(|c| c.to_vec()),
            user_id,
            user_name,
            op.at,
            filed.author,
        ])?;
    if added == 0 {
        return match held_again(tx, op, filed)? {
            Again::Same => Ok(false),
            Again::Replaced => insert(
                tx,
                op,
                old,
                Filed {
                    childless: false,
                    ..filed
                },
            ),
        };
    }
    for (ph, pd) in &op.parents {
        tx.prepare_cached("INSERT OR IGNORE INTO change_parents(hlc, device, author, record, parent_hlc, parent_device) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
            .execute(params![op.hlc.0, op.device, filed.author, filed.record, ph.0, pd])?;
    }
    if op.field == "erased" {
        return Ok(true);
    }
    for (ph, pd) in &op.parents {
        tx.prepare_cached(
            "UPDATE change_log SET head = 0
             WHERE device = (SELECT n FROM device_numbers WHERE id = ?1) AND hlc = ?2
               AND entity = ?3 AND record = ?4 AND field = ?5 || '' AND head = 1",
        )?
        .execute(params![pd, ph.0, op.entity, filed.record, op.field])?;
    }
    Ok(true)
}

/// What a change under an identity already held turned out to be.
enum Again {
    /// The same change (perhaps now signed): nothing to add.
    Same,
    /// Another version, which replaces the one held: add it.
    Replaced,
}

/// A change arrived under an identity (device, stamp, author, record) this laptop holds.
/// The same change is a no-op (one made before signing takes its signature). Another
/// version is its author signing two changes as one: every laptop keeps the version that
/// erases, else the one of smaller digest, whichever it met first, so laptops never split
/// over it; the pair is noted in
/// `equivocations` for supervisors, and the dropped version's digest stays with its commit
/// so that the commit is still whole when passed on.
fn held_again(tx: &Transaction<'_>, op: &Op, filed: Filed) -> Result<Again> {
    let held = load_ops(
        tx,
        "c.seq = (SELECT seq FROM change_log WHERE device = ?1 AND hlc = ?2 AND author = ?3 AND record = ?4)",
        &[&filed.device, &op.hlc.0, &filed.author, &filed.record],
    )?;
    let Some((seq, held)) = held.into_iter().next() else {
        return Ok(Again::Same);
    };
    let (mine, theirs) = (held.digest(), op.digest());
    // A blanked change without its commitment (made before signing) has no digest: it is
    // taken as the same change, as before identities held their author.
    let Some(theirs) = theirs.filter(|t| mine != Some(*t)) else {
        if held.commit.is_none() {
            if let (Some((_, pos)), Some(n)) = (&op.commit, filed.commit) {
                tx.prepare_cached(
                    "UPDATE change_log SET commit_n = ?2, commit_pos = ?3 WHERE seq = ?1",
                )?
                .execute(params![seq, n, pos])?;
            }
        }
        return Ok(Again::Same);
    };
    let mine = mine.unwrap_or([0xff; 32]);
    // An erasure blanks its person for good wherever it was applied: of two versions, the
    // one that erases stays, so that no laptop shows what another has blanked.
    let erases = |o: &Op| o.field == "erased" && o.value.as_deref() == Some("true");
    let replace = match (erases(op), erases(&held)) {
        (true, false) => true,
        (false, true) => false,
        _ => theirs < mine,
    };
    let (kept, dropped) = if replace {
        (theirs, (mine, &held))
    } else {
        (mine, (theirs, op))
    };
    note_equivocation(tx, op, &kept, &dropped.0)?;
    if let Some((commit, pos)) = &dropped.1.commit {
        keep_digest(tx, commit, *pos, &dropped.0)?;
    }
    if !replace {
        return Ok(Again::Same);
    }
    let touched = purge(tx, "c.seq = ?1", &[&seq])?;
    let mut conflicted = Conflicted::new();
    settle_arrived(tx, &touched, &mut conflicted)?;
    Ok(Again::Replaced)
}

/// Notes that `op`'s device and author signed two versions of one change.
fn note_equivocation(
    tx: &Transaction<'_>,
    op: &Op,
    kept: &[u8; 32],
    dropped: &[u8; 32],
) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO equivocations(device, hlc, author, author_name, kept, dropped, seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
    )?
    .execute(params![
        op.device,
        op.hlc.0,
        op.user_id.as_deref().unwrap_or_default(),
        op.user_name,
        hex::encode(kept),
        hex::encode(dropped),
    ])?;
    Ok(())
}

/// Keeps the digest of a commit's change this laptop does not hold, as a commit that
/// arrived with some of its changes left out keeps theirs.
fn keep_digest(tx: &Transaction<'_>, commit: &str, pos: u32, digest: &[u8; 32]) -> Result<()> {
    let stored: Option<Option<String>> = tx
        .prepare_cached("SELECT absent FROM commits WHERE id = ?1")?
        .query_row([commit], |r| r.get(0))
        .optional()?;
    let Some(stored) = stored else {
        return Ok(());
    };
    let mut absent: Vec<(u32, String)> = stored
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    absent.retain(|(p, _)| *p != pos);
    absent.push((pos, hex::encode(digest)));
    absent.sort();
    tx.prepare_cached("UPDATE commits SET absent = ?2 WHERE id = ?1")?
        .execute(params![
            commit,
            serde_json::to_string(&absent).unwrap_or_default()
        ])?;
    Ok(())
}
