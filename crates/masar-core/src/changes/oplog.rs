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

/// How far ahead of the newest stamp its device had seen from others a change's stamp is
/// believed: past this, it ranks as that newest stamp (the last time its laptop was in
/// touch), so a laptop whose clock runs fast wins no concurrent edit by its clock.
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
    /// Whether it resolves a conflict (it overwrites every head of its field).
    pub resolves: bool,
    /// The random salt of a personal value's commitment; gone with the value on erasure.
    pub salt: Option<Vec<u8>>,
    /// The commitment to a value erased since (the value itself is gone).
    pub value_commit: Option<[u8; 32]>,
    /// The signed commit it belongs to, and its place in it.
    pub commit: Option<(String, u32)>,
}

impl Op {
    /// The commitment to its value: from the value and salt, or the one kept after erasure.
    pub fn commitment(&self) -> Option<[u8; 32]> {
        match &self.value {
            Some(v) => Some(crate::trust::value_commitment(
                self.salt.as_deref(),
                &self.field,
                v,
            )),
            None => self.value_commit,
        }
    }

    /// The hash of everything its author signed about it: its identity, what it writes,
    /// what it overwrites, who and when. `None` for a blanked change without its
    /// commitment (made before changes were signed).
    pub fn digest(&self) -> Option<[u8; 32]> {
        let value = self.commitment()?;
        // Parents are a set: the order a laptop happens to list them in is not signed.
        let mut sorted: Vec<&(Hlc, String)> = self.parents.iter().collect();
        sorted.sort();
        let mut parents = Vec::with_capacity(self.parents.len() * 24);
        for (h, d) in sorted {
            parents.extend_from_slice(&h.0.to_le_bytes());
            parents.extend_from_slice(&(d.len() as u32).to_le_bytes());
            parents.extend_from_slice(d.as_bytes());
        }
        let opt = |o: &Option<String>| -> Vec<u8> {
            match o {
                Some(s) => [b"1", s.as_bytes()].concat(),
                None => b"0".to_vec(),
            }
        };
        let (uid, uname) = (opt(&self.user_id), opt(&self.user_name));
        Some(crate::trust::change_digest(&[
            b"masar-change/2",
            &self.hlc.0.to_le_bytes(),
            self.device.as_bytes(),
            self.entity.as_bytes(),
            self.record.as_bytes(),
            self.field.as_bytes(),
            &[u8::from(self.creates), u8::from(self.resolves)],
            &parents,
            &uid,
            &uname,
            self.at.as_bytes(),
            &self.frontier.to_le_bytes(),
            &value,
        ]))
    }

    /// How a refusal names it.
    pub fn describe(&self) -> String {
        format!(
            "the change of {} {} field {} stamped {} on device {}",
            self.entity, self.record, self.field, self.hlc.0, self.device
        )
    }
}

/// The rank of a head among concurrent heads: its stamp, or its frontier when the stamp
/// is more than [`RANK_BOUND_MILLIS`] past it (a time its laptop's own contacts cannot
/// vouch for); then the device id, then the full stamp, then the author's id (two
/// authors under one stamp of one device: only a forgery). Only data the change carries
/// decides, so every laptop ranks alike.
pub fn rank(hlc: Hlc, device: &str, frontier: i64, author: &str) -> Rank {
    let ms = if frontier > 0 && hlc.millis() > frontier.saturating_add(RANK_BOUND_MILLIS) {
        frontier
    } else {
        hlc.millis()
    };
    (ms, device.to_string(), hlc.0, author.to_string())
}

/// How heads are ordered: see [`rank`].
pub type Rank = (i64, String, i64, String);

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
        .prepare_cached("SELECT 1 FROM change_log WHERE record = (SELECT n FROM record_numbers WHERE id = ?1) AND entity = 'person' AND field = 'erased' AND value = 'true' LIMIT 1")?
        .exists([record])?)
}

/// Where a change is filed in this laptop's log: its device's, record's and commit's local
/// numbers, and whether its author is the one its commit's certificate names (then the
/// author is not stored again with the change).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filed {
    pub device: i64,
    pub record: i64,
    /// No change in the log can name this one as parent ([`Numbers::record`]).
    pub childless: bool,
    pub commit: Option<i64>,
    pub by_cert: bool,
    /// The author's number (`author_numbers`; 0 for a change naming none): with the device
    /// and the stamp, the change's identity.
    pub author: i64,
}

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

/// A head of a field: its stamp, device, rank and value (JSON).
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub hlc: Hlc,
    pub device: String,
    pub frontier: i64,
    pub value: Option<String>,
    /// The author's id ("" for a change naming none).
    pub author: String,
}

impl Head {
    pub fn rank(&self) -> Rank {
        rank(self.hlc, &self.device, self.frontier, &self.author)
    }
}

/// A field's heads, winner first.
///
/// The queries on a field of the log write `field = ?N || ''`, not `field = ?N`: with a
/// bare parameter compared where the partial index `change_log_erasures` (`field =
/// 'erased'`) could apply, SQLite ties the prepared statement to the parameter's value and
/// prepares it again whenever another field is asked, which was every change written.
pub(crate) fn heads(
    tx: &rusqlite::Connection,
    entity: &str,
    record: &str,
    field: &str,
) -> Result<Vec<Head>> {
    let mut stmt = tx.prepare_cached(
        "SELECT l.hlc, d.id, l.frontier, l.value, coalesce(a.id, '') FROM change_log l JOIN device_numbers d ON d.n = l.device
         LEFT JOIN author_numbers a ON a.n = l.author
         WHERE l.record = (SELECT n FROM record_numbers WHERE id = ?2) AND l.entity = ?1 AND l.field = ?3 || '' AND l.head = 1",
    )?;
    let mut heads = stmt
        .query_map(params![entity, record, field], |r| {
            Ok(Head {
                hlc: Hlc(r.get(0)?),
                device: r.get(1)?,
                frontier: r.get(2)?,
                value: r.get(3)?,
                author: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    heads.sort_by_key(|h| std::cmp::Reverse(h.rank()));
    Ok(heads)
}

/// Who wrote the value a field of a record shows: the author of its winning head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Author {
    /// The name the author's certificate (or the change) carries.
    pub name: Option<String>,
    /// The device the change was made on.
    pub device: String,
    /// The role the author's certificate gave when they signed; `None` for a change no
    /// certificate covers (never accepted from elsewhere).
    pub role: Option<crate::auth::Role>,
}

/// The author of each field's winning head of one record, by field: one query for the
/// whole record.
pub(crate) fn winner_authors(
    conn: &rusqlite::Connection,
    entity: &str,
    record: &str,
) -> Result<BTreeMap<String, Author>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.field, l.hlc, d.id, l.frontier, CASE WHEN l.by_cert THEN ce.name ELSE l.user_name END, json_extract(ce.body, '$.role'),
                coalesce(a.id, '')
         FROM change_log l JOIN device_numbers d ON d.n = l.device LEFT JOIN author_numbers a ON a.n = l.author
         LEFT JOIN commits m ON m.n = l.commit_n LEFT JOIN certs ce ON ce.id = m.cert
         WHERE l.record = (SELECT n FROM record_numbers WHERE id = ?2) AND l.entity = ?1 AND l.head = 1",
    )?;
    let mut best: BTreeMap<String, (Rank, Author)> = BTreeMap::new();
    let mut rows = stmt.query(params![entity, record])?;
    while let Some(r) = rows.next()? {
        let field: String = r.get(0)?;
        let device: String = r.get(2)?;
        let author_id: String = r.get(6)?;
        let rank = rank(Hlc(r.get(1)?), &device, r.get(3)?, &author_id);
        let role: Option<String> = r.get(5)?;
        let author = Author {
            name: r.get(4)?,
            device,
            role: role.as_deref().and_then(crate::auth::Role::parse),
        };
        if best.get(&field).is_none_or(|(b, _)| rank > *b) {
            best.insert(field, (rank, author));
        }
    }
    Ok(best.into_iter().map(|(f, (_, a))| (f, a)).collect())
}

/// What settling a record reads of its log, in one query: each field's heads (winner
/// first), whether a change created it, and whether it is a person who was erased.
struct RecordState {
    heads: BTreeMap<String, Vec<Head>>,
    created: bool,
    erased: bool,
}

fn record_state(tx: &Transaction<'_>, entity: &str, record: &str) -> Result<RecordState> {
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

/// The stamps of a field's heads, to name as parents of a change that overwrites them.
pub(crate) fn head_stamps(
    tx: &Transaction<'_>,
    entity: &str,
    record: &str,
    field: &str,
) -> Result<Vec<(Hlc, String)>> {
    Ok(heads(tx, entity, record, field)?
        .into_iter()
        .map(|h| (h.hlc, h.device))
        .collect())
}

/// The stamps of the heads that show the field's current value: the winner and any head
/// that recorded the same value (two laptops recording the same fact).
pub(crate) fn current_stamps(
    tx: &Transaction<'_>,
    entity: &str,
    record: &str,
    field: &str,
) -> Result<Vec<(Hlc, String)>> {
    let heads = heads(tx, entity, record, field)?;
    let Some(winner) = heads.first().map(|h| h.value.clone()) else {
        return Ok(Vec::new());
    };
    Ok(heads
        .into_iter()
        .filter(|h| h.value == winner)
        .map(|h| (h.hlc, h.device))
        .collect())
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
fn unfork(tx: &Transaction<'_>, entity: &str, record: &str, field: &str) -> Result<()> {
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
fn settle_record(
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

/// Calls `f` on each change `filter` selects (an SQL condition on `changes c`), with its
/// parents and local sequence number, in log order, one at a time: an export of the whole
/// log never holds it whole.
pub(crate) fn each_op(
    conn: &rusqlite::Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
    mut f: impl FnMut(i64, Op) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare(&format!(
        "SELECT c.seq, c.hlc, c.device, c.entity, c.record, c.field, c.value, c.creates, c.user_id, c.user_name, c.at, c.frontier,
                c.resolves, c.salt, c.value_commit, c.commit_id, c.commit_pos,
                (SELECT group_concat(p.parent_hlc || ' ' || p.parent_device, ',') FROM change_parents p
                  WHERE p.hlc = c.hlc AND p.device = c.device AND p.author = c.author_n AND p.record = c.record_n)
         FROM changes c WHERE {filter} ORDER BY c.seq"
    ))?;
    let mut rows = stmt.query(args)?;
    while let Some(r) = rows.next()? {
        let commit: Option<String> = r.get(15)?;
        let pos: Option<u32> = r.get(16)?;
        let value_commit: Option<Vec<u8>> = r.get(14)?;
        let parents: Option<String> = r.get(17)?;
        let mut op = Op {
            hlc: Hlc(r.get(1)?),
            device: r.get(2)?,
            entity: r.get(3)?,
            record: r.get(4)?,
            field: r.get(5)?,
            value: r.get(6)?,
            creates: r.get(7)?,
            parents: Vec::new(),
            user_id: r.get(8)?,
            user_name: r.get(9)?,
            at: r.get(10)?,
            frontier: r.get(11)?,
            resolves: r.get(12)?,
            salt: r.get(13)?,
            value_commit: value_commit.and_then(|v| v.try_into().ok()),
            commit: commit.zip(pos),
        };
        // Device ids hold no space or comma.
        for pair in parents
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|p| !p.is_empty())
        {
            let (h, d) = pair
                .split_once(' ')
                .ok_or_else(|| crate::error::StoreError::Corrupt {
                    what: "a change's parent".into(),
                    value: pair.into(),
                })?;
            let h: i64 = h.parse().map_err(|_| crate::error::StoreError::Corrupt {
                what: "a change's parent".into(),
                value: pair.into(),
            })?;
            op.parents.push((Hlc(h), d.to_string()));
        }
        f(r.get(0)?, op)?;
    }
    Ok(())
}

/// The changes `filter` selects (an SQL condition on `changes c`), with their parents and
/// local sequence numbers, in log order.
pub(crate) fn load_ops(
    conn: &rusqlite::Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<(i64, Op)>> {
    let mut out = Vec::new();
    each_op(conn, filter, args, |seq, op| {
        out.push((seq, op));
        Ok(())
    })?;
    Ok(out)
}

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
