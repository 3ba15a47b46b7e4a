//! Export: the log's slice past the watermark (or a scope's whole history) streamed
//! into a bundle, and the commits a bundle carries, filed for the sync folder.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rusqlite::params;
use serde::Serialize;
use ts_rs::TS;

use super::bundle::{self, Header};
use super::progress::Throttle;
use super::{scope, write_atomically, Scope, SyncProgress, SyncStage};
use crate::auth::Permission;
use crate::changes::{each_op, load_ops, Db};
use crate::error::SyncError;
use crate::identity::org as keys;
use crate::store::{meta_i64, set_meta};
use crate::Result;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Exported {
    /// Changes carried.
    pub changes: u64,
    /// Size of the file.
    pub bytes: u64,
    /// Where it was written.
    #[serde(rename = "file")]
    #[ts(as = "String")]
    pub path: PathBuf,
}

/// The commits of a bundle being written: each one's index in the body and the positions
/// of its changes the bundle carries, to give the digests of those it leaves out.
#[derive(Default)]
struct Commits {
    index: HashMap<String, usize>,
    list: Vec<(bundle::Commit, Vec<u32>)>,
}

impl Commits {
    /// Counts a change, the `pos`-th of commit `id`, as carried.
    fn place(
        &mut self,
        conn: &rusqlite::Connection,
        id: Option<String>,
        pos: Option<u32>,
    ) -> Result<()> {
        let unsigned = || {
            SyncError::Keys("this laptop holds changes made before changes were signed and cannot sign them: an administrator should log in once on this laptop (or enrol it again)".into())
        };
        let (id, pos) = id.zip(pos).ok_or_else(unsigned)?;
        let i = match self.index.get(&id) {
            Some(i) => *i,
            None => {
                let (cert, size, signature): (String, u32, Vec<u8>) = conn
                    .prepare_cached("SELECT cert, size, signature FROM commits WHERE id = ?1")?
                    .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(|_| unsigned())?;
                let signature: [u8; 64] = signature.try_into().map_err(|_| unsigned())?;
                self.list.push((
                    bundle::Commit {
                        id: id.clone(),
                        cert,
                        signature,
                        size,
                        absent: Vec::new(),
                    },
                    Vec::new(),
                ));
                self.index.insert(id, self.list.len() - 1);
                self.list.len() - 1
            }
        };
        self.list[i].1.push(pos);
        Ok(())
    }

    /// The commits, each with the digests of its changes the bundle leaves out (from the
    /// changes this laptop holds, else from the digests it received with the commit), and
    /// each commit's index in the list by id.
    fn finish(
        self,
        conn: &rusqlite::Connection,
    ) -> Result<(Vec<bundle::Commit>, HashMap<String, usize>)> {
        let mut out = Vec::with_capacity(self.list.len());
        for (mut commit, present) in self.list {
            if present.len() as u32 != commit.size {
                let present: BTreeSet<u32> = present.into_iter().collect();
                let mut known: BTreeMap<u32, [u8; 32]> = BTreeMap::new();
                let stored: Option<String> = conn.query_row(
                    "SELECT absent FROM commits WHERE id = ?1",
                    [&commit.id],
                    |r| r.get(0),
                )?;
                for (p, d) in stored
                    .and_then(|j| serde_json::from_str::<Vec<(u32, String)>>(&j).ok())
                    .unwrap_or_default()
                {
                    if let Some(d) = hex::decode(d)
                        .ok()
                        .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    {
                        known.insert(p, d);
                    }
                }
                for (_, held) in load_ops(conn, "c.commit_id = ?1", &[&commit.id])? {
                    if let (Some((_, p)), Some(d)) = (&held.commit, held.digest()) {
                        known.insert(*p, d);
                    }
                }
                commit.absent = (0..commit.size)
                    .filter(|p| !present.contains(p))
                    .filter_map(|p| known.get(&p).map(|d| (p, *d)))
                    .collect();
            }
            out.push(commit);
        }
        Ok((out, self.index))
    }
}

/// A commit a bundle carries, with the places of it the bundle left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Carried {
    /// The commit's id.
    pub commit: String,
    /// Its places the bundle left out (their digests only).
    pub absent: Vec<u32>,
}

/// Files this laptop's bundle `stem` in the sync folder with the commits it carries.
pub(crate) fn file_folder_bundle(
    conn: &rusqlite::Connection,
    stem: &str,
    carried: &[Carried],
) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO folder_bundles(bundle) VALUES (?1)")?
        .execute([stem])?;
    for c in carried {
        let absent =
            (!c.absent.is_empty()).then(|| serde_json::to_string(&c.absent).unwrap_or_default());
        conn.prepare_cached("INSERT OR REPLACE INTO folder_bundle_commits(bundle, commit_id, absent) VALUES (?1, ?2, ?3)")?.execute(params![stem, c.commit, absent])?;
    }
    Ok(())
}

impl Db {
    /// Writes a bundle of what readers may lack: the changes since this laptop's last
    /// export, or everything this laptop holds with `full` (to resend a lost bundle);
    /// limited to `scope` when given (supervisors). `out` is a new file, or a folder in
    /// which the bundle is named by its id; an existing file is never overwritten, since
    /// it may be a bundle nobody has imported yet. The changes are streamed from the log
    /// into the compressor, so memory holds the compressed bundle, not the changes;
    /// `progress` is told as they are written. Returns what was written and where.
    pub(crate) fn export_bundle(
        &mut self,
        out: &Path,
        full: bool,
        scope: &[Scope],
        progress: impl FnMut(SyncProgress),
    ) -> Result<Exported> {
        Ok(self.export_carrying(out, full, scope, progress)?.0)
    }

    /// As [`Db::export_bundle`]; also returns the commits the bundle carries, each with the
    /// places it left out, so that the sync folder knows what a merged export must carry
    /// to cover it.
    pub(crate) fn export_carrying(
        &mut self,
        out: &Path,
        full: bool,
        scope: &[Scope],
        mut progress: impl FnMut(SyncProgress),
    ) -> Result<(Exported, Vec<Carried>)> {
        if !scope.is_empty() {
            // A refusal by role stays an authorisation error, with its own code.
            self.require(Permission::DecideInCommittee)?;
        }
        let keys = keys::load(self.conn())?;
        // A scoped export is always complete within its scope: a record that enters the
        // scope later must arrive with its whole history.
        let since: i64 = if full || !scope.is_empty() {
            0
        } else {
            meta_i64(self.conn(), "export_seq")?.unwrap_or(0)
        };
        let in_scope = if scope.is_empty() {
            None
        } else {
            Some(scope::records(self.conn(), scope)?)
        };
        let bundle_id = uuid::Uuid::now_v7().to_string();
        let out = if out.is_dir() {
            out.join(format!("{bundle_id}.masar"))
        } else {
            out.to_path_buf()
        };
        if out.exists() {
            return Err(SyncError::Refused {
                path: out.display().to_string(),
                reason: "already exists and may hold changes nobody has imported yet: give another name, or a folder".into(),
            }
            .into());
        }
        let conn = self.conn();
        // Both passes read the same slice of the log, whatever is written meanwhile.
        let last_seq: i64 =
            conn.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                r.get(0)
            })?;
        let included = |entity: &str, record: &str, field: &str| match &in_scope {
            None => true,
            // Reference lists and erasures go everywhere: an erasure carries no personal
            // data and must reach laptops that hold a person who has left their scope.
            Some(set) => {
                entity == "ref_item"
                    || (entity == "person" && field == "erased")
                    || set.contains(&(entity.to_string(), record.to_string()))
            }
        };
        let too_many = || {
            SyncError::Refused {
            path: out.display().to_string(),
            reason: format!("this export would hold more than the {} changes a bundle may: export by scope (--scope)", bundle::MAX_CHANGES),
        }
        };
        // First the commits, which the body gives before the changes (so that a reader
        // checks each change as it streams by): which of their changes go, by position.
        let mut commits = Commits::default();
        let mut total = 0u64;
        {
            let mut stmt = conn.prepare("SELECT entity, record, field, commit_id, commit_pos FROM changes WHERE seq > ?1 AND seq <= ?2 AND entity <> 'user' ORDER BY seq")?;
            let mut rows = stmt.query(params![since, last_seq])?;
            while let Some(r) = rows.next()? {
                let (entity, record, field): (String, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?);
                if !included(&entity, &record, &field) {
                    continue;
                }
                if total >= bundle::MAX_CHANGES {
                    return Err(too_many().into());
                }
                commits.place(conn, r.get(3)?, r.get(4)?)?;
                total += 1;
            }
        }
        let (commits, index) = commits.finish(conn)?;
        let certs = keys::all_certs(conn)?;
        let revocations = keys::all_revocations(conn)?;
        let device_name = crate::store::meta(conn, "device_name")?;
        let mut body =
            bundle::BodyWriter::new(device_name.as_deref(), &certs, &revocations, &commits)?;
        let carried: Vec<Carried> = commits
            .iter()
            .map(|c| Carried {
                commit: c.id.clone(),
                absent: c.absent.iter().map(|(p, _)| *p).collect(),
            })
            .collect();
        let mut tell = Throttle::new(SyncStage::Writing, total);
        each_op(
            conn,
            "c.seq > ?1 AND c.seq <= ?2 AND c.entity <> 'user'",
            &[&since, &last_seq],
            |_, op| {
                if !included(&op.entity, &op.record, &op.field) {
                    return Ok(());
                }
                let (i, pos) = op
                    .commit
                    .as_ref()
                    .and_then(|(id, pos)| Some((*index.get(id)?, *pos)))
                    .ok_or(SyncError::Changed)?;
                body.push(&op, i, pos)?;
                tell.at(body.count, &mut progress);
                Ok(())
            },
        )?;
        let changes = body.count;
        let compressed = body.finish()?;
        let header = Header {
            org: keys.org_id.clone(),
            bundle: bundle_id,
            device: self.device_id().to_string(),
            cert: keys.device_cert.clone(),
            created: self.clock().now().to_rfc3339(),
            changes,
            full: full || !scope.is_empty(),
            scope: scope.iter().map(Scope::to_string).collect(),
            schema: crate::store::SCHEMA_VERSION,
            epoch: keys.current().0,
            keyring: keys.keyring.clone(),
            chain: keys.chain.clone(),
            rotations: keys.trust.all_rotations().to_vec(),
        };
        let bytes = bundle::seal_raw(&header, &compressed, &keys)?;
        write_atomically(&out, &bytes)?;
        if scope.is_empty() && last_seq > since {
            set_meta(self.conn(), "export_seq", &last_seq.to_string())?;
        }
        set_meta(
            self.conn(),
            "last_export_at",
            &self.clock().now().to_rfc3339(),
        )?;
        Ok((
            Exported {
                changes,
                bytes: bytes.len() as u64,
                path: out,
            },
            carried,
        ))
    }
}
