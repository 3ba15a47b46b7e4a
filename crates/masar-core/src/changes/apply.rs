//! The door for changes from elsewhere. Local edits go through [`super::Writer`]; an
//! import goes through an [`Applier`], in named steps: each change, once read and verified
//! by its caller, is *staged* (its commit, device, author and record filed with their local
//! numbers), *applied* (inserted into the log, its record shown at once when it is a plain
//! new one), and at the end what was taken is *shown*, what revocations withdraw is
//! *purged* ([`purge`]), and every touched field is *settled*; the clock follows the
//! stamps seen within its bound. No module outside `changes` writes the log's tables.

use rusqlite::{params, Transaction};

use super::oplog::{self, Bulk, Filed, Numbers};
use super::{ClockState, Op};
use crate::clock::Hlc;
use crate::Result;

/// A commit as an import files it, with the digests of the places its bundle left out.
pub(crate) struct CommitRow<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its author's certificate id.
    pub cert: &'a str,
    /// How many changes it holds.
    pub size: u32,
    /// Its author's signature.
    pub signature: &'a [u8; 64],
    /// The digests of the places its bundle did not carry.
    pub absent: &'a [(u32, [u8; 32])],
}

/// Changes from elsewhere, applied inside one transaction (see the module's steps).
pub(crate) struct Applier<'t> {
    tx: &'t Transaction<'t>,
    clock: ClockState,
    /// The log's last sequence number before the import: what is settled comes after.
    before: i64,
    numbers: Numbers,
    bulk: Bulk,
    erased_before: bool,
    erasures: bool,
    /// Each commit of the bundle being read: its local number once filed.
    commits: Vec<Option<i64>>,
    shown: Option<std::collections::HashSet<i64>>,
}

impl<'t> Applier<'t> {
    /// Begins: reads the clock and where the log stands.
    pub(crate) fn begin(tx: &'t Transaction<'t>) -> Result<Applier<'t>> {
        Ok(Applier {
            clock: ClockState::load(tx)?,
            before: tx.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                r.get(0)
            })?,
            erased_before: oplog::holds_erasure(tx)?,
            tx,
            numbers: Numbers::default(),
            bulk: Bulk::default(),
            erasures: false,
            commits: Vec::new(),
            shown: None,
        })
    }

    /// A new bundle: its commits are counted from the first again.
    pub(crate) fn next_bundle(&mut self) {
        self.commits.clear();
    }

    /// Makes room for `n` more commits of the bundle being read.
    pub(crate) fn commits_arrive(&mut self, n: usize) {
        self.commits.resize(self.commits.len() + n, None);
    }

    /// Stage: files a verified change, the commit at `index` of its bundle (added with its
    /// first change here), its device, author and record numbers. `by_cert` says whether
    /// the author it names is its certificate's (then not stored again with it).
    pub(crate) fn stage(
        &mut self,
        op: &Op,
        index: usize,
        commit: &CommitRow<'_>,
        by_cert: bool,
    ) -> Result<Filed> {
        let n = match self.commits.get(index).copied().flatten() {
            Some(n) => n,
            None => {
                let n = file_commit(self.tx, commit)?;
                if let Some(slot) = self.commits.get_mut(index) {
                    *slot = Some(n);
                }
                n
            }
        };
        let device = self.numbers.device(self.tx, &op.device)?;
        let (record, childless) = self.numbers.record(self.tx, op)?;
        Ok(Filed {
            device,
            record,
            childless,
            commit: Some(n),
            by_cert,
            author: self.numbers.author(self.tx, op.user_id.as_deref())?,
        })
    }

    /// Apply: inserts a staged change; false when this laptop held it already.
    pub(crate) fn apply(&mut self, op: &Op, filed: Filed) -> Result<bool> {
        if !oplog::insert(self.tx, op, None, filed)? {
            return Ok(false);
        }
        self.erasures |= op.field == "erased";
        self.bulk
            .take(self.tx, op, filed, self.erased_before || self.erasures)?;
        Ok(true)
    }

    /// Lets the clock see a stamp applied; true when it was ahead of this laptop's clock
    /// (the clock follows within its bound: `ClockState::observe`).
    pub(crate) fn observe(&mut self, hlc: Hlc, other_device: bool, now_millis: i64) -> bool {
        self.clock.observe(hlc, other_device, now_millis)
    }

    /// Whether a change applied erases a person (a checkpoint then clears the old pages).
    pub(crate) fn erased_any(&self) -> bool {
        self.erasures
    }

    /// Show: the records taken whole are shown; call before purging and settling.
    pub(crate) fn show(&mut self) -> Result<()> {
        let shown =
            std::mem::take(&mut self.bulk).finish(self.tx, self.erased_before || self.erasures)?;
        self.shown = Some(shown);
        Ok(())
    }

    /// Settle: every field touched since the import began, but the records shown whole,
    /// is settled (`progress` told how many changes); the clock keeps its lead and is saved.
    /// Returns the fields left in conflict.
    pub(crate) fn settle(
        mut self,
        now_millis: i64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<oplog::Conflicted> {
        if self.shown.is_none() {
            self.show()?;
        }
        let shown = self.shown.take().unwrap_or_default();
        let conflicted = oplog::settle_since(self.tx, self.before, &shown, progress)?;
        // Stamps seen ahead of this laptop's clock: keep later local stamps moving with
        // real time from there (see ClockState).
        self.clock.keep_lead(now_millis);
        self.clock.save(self.tx)?;
        Ok(conflicted)
    }
}

/// Files a commit (once), returning its local number.
fn file_commit(tx: &rusqlite::Connection, commit: &CommitRow<'_>) -> Result<i64> {
    let absent = (!commit.absent.is_empty()).then(|| {
        serde_json::to_string(
            &commit
                .absent
                .iter()
                .map(|(p, d)| (*p, hex::encode(d)))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default()
    });
    tx.prepare_cached("INSERT OR IGNORE INTO commits(id, cert, size, signature, absent) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![commit.id, commit.cert, commit.size, commit.signature.to_vec(), absent])?;
    Ok(tx
        .prepare_cached("SELECT n FROM commits WHERE id = ?1")?
        .query_row([commit.id], |r| r.get(0))?)
}

/// Purge: removes from the log the changes `filter` selects (an SQL condition on
/// `changes c`, with `args`), as if they had never arrived — what a revocation withdraws —
/// and settles what that touched. Returns how many changes left.
pub(crate) fn purge(
    tx: &Transaction<'_>,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<u64> {
    let before: i64 = tx.query_row("SELECT count(*) FROM changes", [], |row| row.get(0))?;
    let touched = oplog::purge(tx, filter, args)?;
    oplog::settle_arrived(tx, &touched, &mut oplog::Conflicted::new())?;
    let after: i64 = tx.query_row("SELECT count(*) FROM changes", [], |row| row.get(0))?;
    Ok((before - after).max(0) as u64)
}
