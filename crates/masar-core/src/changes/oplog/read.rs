//! Reading the log: the changes a filter selects, with their parents, in log order.

use super::Op;
use crate::clock::Hlc;
use crate::Result;

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

/// A change as the home page tells it: what was written, by whom, when.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    /// The kind of record.
    pub entity: String,
    /// The record's id.
    pub record: String,
    /// The field written.
    pub field: String,
    /// The value as the log holds it (JSON), if any.
    pub value: Option<String>,
    /// Whether this change created the record.
    pub creates: bool,
    /// Who wrote it, by name.
    pub user_name: Option<String>,
    /// When (RFC 3339).
    pub at: String,
    /// Its place in this laptop's log.
    pub seq: i64,
}

/// The latest `limit` changes on this laptop to anything but user accounts, newest first.
pub(crate) fn latest(conn: &rusqlite::Connection, limit: usize) -> Result<Vec<Written>> {
    let mut stmt = conn.prepare_cached(
        "SELECT entity, record, field, value, creates, user_name, at, seq FROM changes
         WHERE entity <> 'user' ORDER BY seq DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(Written {
                entity: r.get(0)?,
                record: r.get(1)?,
                field: r.get(2)?,
                value: r.get(3)?,
                creates: r.get(4)?,
                user_name: r.get(5)?,
                at: r.get(6)?,
                seq: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
