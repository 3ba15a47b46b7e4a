//! A field's heads: read, ranked, and the authors of the winners.

use std::collections::BTreeMap;

use rusqlite::{params, Transaction};

use super::{rank, Rank};
use crate::clock::Hlc;
use crate::Result;

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
