//! Sync: enrolment, bundle export and import, conflicts, erasure through sync, the digest.
//!
//! A bundle carries changes of the op log (see `changes::oplog`). Importing one inserts
//! the changes it lacks, in one transaction with everything else of that import, and
//! settles the records they touch; a change already present is skipped by its identity
//! `(hlc, device)`, and a bundle already imported is recognised by its id before it is
//! even decrypted.

pub(crate) mod bundle;
mod digest;
pub(crate) mod folder;
mod scope;
mod verify;
mod watch;

pub use folder::{FolderFile, FolderSync, SYNC_SUBFOLDER};
pub use watch::FolderWatch;

pub use scope::Scope;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rusqlite::params;
use serde::Serialize;
use ts_rs::TS;

use crate::auth::Permission;
use crate::changes::{each_op, heads, load_ops, Applier, CommitRow, Db, Head, Op};
use crate::error::{InputError, Problem, SyncError};
use crate::files::ReadRefusal;
use crate::identity::org as keys;
use crate::identity::revoke;
use crate::schema::{Entity, Value};
use crate::store::{meta_i64, set_meta};
use crate::Result;
use bundle::Header;
use sha2::Digest as _;

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

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct Imported {
    /// Changes added to this database.
    pub applied: u64,
    /// Changes it already had (whole bundles already imported included).
    pub skipped: u64,
    /// Open conflicts on the fields this import touched.
    pub conflicts: u64,
    /// Bundles recognised as already imported.
    #[serde(rename = "already_imported")]
    pub bundles_already_seen: u64,
    /// Bundle files read.
    pub bundles: u64,
    /// Changes of a revoked laptop or author made after their revocation took effect: set
    /// aside on arrival, or removed from this laptop's log when the revocation arrived.
    pub revoked: u64,
    /// Changes stamped more than a day ahead of this laptop's clock: this laptop's clock
    /// is behind, or the laptop that made them has a clock running fast. They are kept;
    /// this laptop's own clock does not follow them.
    pub ahead_of_clock: u64,
}

/// A field on which concurrent changes disagree: the value kept and one other.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Conflict {
    /// The same id on every database.
    pub id: String,
    /// Entity name.
    pub entity: String,
    /// Record id.
    pub record: String,
    /// Field name.
    pub field: String,
    /// The value shown.
    #[ts(type = "string | number | boolean | null")]
    pub kept: Value,
    /// The value that lost.
    #[ts(type = "string | number | boolean | null")]
    pub other: Value,
    /// Who wrote the kept value.
    pub kept_by: Option<String>,
    /// On which device.
    pub kept_device: String,
    /// When, by the writer's clock.
    pub kept_at: String,
    /// Who wrote the other value.
    pub other_by: Option<String>,
    /// On which device.
    pub other_device: String,
    /// When, by the writer's clock.
    pub other_at: String,
}

/// How a supervisor resolves a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Keep the value shown.
    Kept,
    /// Take the other value.
    Other,
    /// Write a new value (typed as for `set`).
    Value(String),
}

impl Resolution {
    /// Reads a choice as both faces take it: a new value, or which side to keep
    /// (`kept` or `other`); anything else is refused, never taken as a default.
    pub fn parse(keep: Option<&str>, value: Option<String>) -> Result<Resolution, InputError> {
        match (keep.map(str::trim).filter(|k| !k.is_empty()), value) {
            (_, Some(v)) => Ok(Resolution::Value(v)),
            (Some("kept"), None) => Ok(Resolution::Kept),
            (Some("other"), None) => Ok(Resolution::Other),
            (Some(k), None) => Err(InputError::Invalid {
                field: "keep".into(),
                value: k.into(),
                problem: Problem::NotOneOf(vec!["kept".into(), "other".into()]),
            }),
            (None, None) => Err(InputError::Missing {
                field: "keep".into(),
                hint: "say what to keep: --keep kept, --keep other or --value V".into(),
            }),
        }
    }
}

/// Writes a bundle whole, readable by its owner only.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SyncError> {
    crate::files::write_private_atomically(path, bytes).map_err(|e| SyncError::not_written(path, e))
}

fn conflict_id(entity: &str, record: &str, field: &str, loser: &Head, heads: &[Head]) -> String {
    let mut name = format!(
        "conflict/{entity}/{record}/{field}/{}/{}",
        loser.hlc.0, loser.device
    );
    // Two authors under one stamp of one device (a forgery) are told apart by the author;
    // every other conflict keeps the id it always had.
    if heads
        .iter()
        .any(|h| h.hlc == loser.hlc && h.device == loser.device && h.author != loser.author)
    {
        name.push('/');
        name.push_str(&loser.author);
    }
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
}

/// Reads a change's value into its field's type, refusing a value local entry could not
/// have written (a sex that is not one of the choices, a date that is not a date, a
/// negative household size, a choice spelt with escapes or spaces): another laptop must
/// not accept what this one would refuse, and every check after this one decides on the
/// typed value. Entities and fields of newer versions are kept as they are.
fn check_value(op: &Op) -> Result<Value, SyncError> {
    let Some(entity) = Entity::from_name(&op.entity) else {
        return Ok(Value::from_json(op.value.as_deref()));
    };
    let Ok(def) = entity.field(&op.field) else {
        return Ok(Value::from_json(op.value.as_deref()));
    };
    def.kind
        .typed_json(def.name, op.value.as_deref())
        .map_err(|problem| {
            SyncError::Damaged(format!(
            "its change to {} {} sets {} to {} which {problem}; a laptop could not have written it",
            entity.label(),
            op.record,
            def.name,
            op.value.as_deref().unwrap_or("null"),
        ))
        })
}

/// Above this size, a file whose last bytes are not a bundle's end is refused as cut
/// short without reading it to tell a copy cut short from one with bytes added.
const SCANNED_WHEN_UNFINISHED: u64 = 16 << 20;

/// Reads a bundle file whole (its compressed bytes: the changes are read from them as
/// they stream), refusing what is not a regular file or is far larger than any bundle by
/// its metadata, then what is no bundle of a format this version reads by its first bytes
/// and a file cut short by its last ones, before the rest is read. The whole is asked of
/// the allocator at once, so a bundle too large for this process's memory is refused with
/// a message rather than aborting it.
fn read_bundle_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let shown = path.display().to_string();
    let refused = |reason: &str| SyncError::Refused {
        path: shown.clone(),
        reason: reason.into(),
    };
    let io = |e: std::io::Error| SyncError::File {
        path: shown.clone(),
        reason: format!(
            "cannot be read ({e}): check the path and that the sync folder is reachable"
        ),
        source: e,
    };
    let in_file = |e: SyncError| SyncError::InFile {
        path: shown.clone(),
        error: Box::new(e),
    };
    let too_large = "is far larger than any bundle: it is not a Masar bundle";
    let no_memory = "is larger than this laptop can hold in memory now: close other programs and sync again, or ask its writer to export by scope";
    let mut file =
        match crate::files::open_regular(path, bundle::MAX_BYTES) {
            Ok(f) => f,
            Err(ReadRefusal::NotRegular) => return Err(refused(
                "is not a regular file (a link, a pipe or a device): only bundle files are read",
            )
            .into()),
            Err(ReadRefusal::TooLarge) => return Err(refused(too_large).into()),
            Err(ReadRefusal::NoMemory) => return Err(refused(no_memory).into()),
            Err(ReadRefusal::Io(e)) => return Err(io(e).into()),
        };
    let len = file.metadata().map_err(io)?.len();
    let mut start = Vec::with_capacity(bundle::START);
    Read::by_ref(&mut file)
        .take(bundle::START as u64)
        .read_to_end(&mut start)
        .map_err(io)?;
    bundle::check_start(&start).map_err(in_file)?;
    if len >= (bundle::START + bundle::TRAILER_BYTES) as u64 {
        let mut tail = [0u8; bundle::TRAILER_BYTES];
        file.seek(SeekFrom::Start(len - bundle::TRAILER_BYTES as u64))
            .map_err(io)?;
        file.read_exact(&mut tail).map_err(io)?;
        if !bundle::trailer_holds(&tail, len) && len > SCANNED_WHEN_UNFINISHED {
            return Err(in_file(SyncError::Truncated).into());
        }
    }
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut bytes = Vec::new();
    let whole = usize::try_from(len).map_err(|_| refused(too_large))?;
    bytes
        .try_reserve_exact(whole)
        .map_err(|_| refused(no_memory))?;
    file.take(bundle::MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::OutOfMemory {
                refused(no_memory)
            } else {
                io(e)
            }
        })?;
    if bytes.len() as u64 > bundle::MAX_BYTES {
        return Err(refused(too_large).into());
    }
    Ok(bytes)
}

/// Which step of a sync is under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncStage {
    /// Changes read from bundles, checked and added to the log.
    Reading,
    /// Records brought in line with the changes that arrived.
    Settling,
    /// Changes written into a bundle.
    Writing,
}

/// How far a long sync step has gone: `done` of `total` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct SyncProgress {
    /// The step.
    pub stage: SyncStage,
    /// Changes done.
    pub done: u64,
    /// Changes in all (as announced: a bundle may hold fewer).
    pub total: u64,
}

/// Tells a step's progress at most once per slice of changes, and at its end.
struct Throttle {
    stage: SyncStage,
    total: u64,
    next: u64,
}

impl Throttle {
    const STEP: u64 = 5_000;

    fn new(stage: SyncStage, total: u64) -> Throttle {
        Throttle {
            stage,
            total,
            next: 0,
        }
    }

    fn at(&mut self, done: u64, progress: &mut impl FnMut(SyncProgress)) {
        if done >= self.next || done >= self.total {
            // A header may announce fewer changes than its bundle holds: never past 100%.
            progress(SyncProgress {
                stage: self.stage,
                done,
                total: self.total.max(done),
            });
            self.next = done + Self::STEP;
        }
    }
}

/// The bundle files among `paths`: a folder stands for every `.masar` file in it, sorted.
pub(crate) fn bundle_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|e| SyncError::File {
                path: p.display().to_string(),
                reason: format!("cannot be read ({e}): check that the sync folder is reachable"),
                source: e,
            })?;
            // Only regular files: a link, a pipe or a device planted in a shared folder
            // is passed over rather than read.
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "masar"))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
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

/// Which of this laptop's bundles in the sync folder a bundle being imported carries
/// whole: each of their commits with at least the places they carried.
struct Covering {
    /// For each commit of this laptop's bundles: which bundles carried it, and the places
    /// each left out.
    wanted: HashMap<String, Vec<(String, BTreeSet<u32>)>>,
    /// How many commits each of those bundles carried.
    sizes: HashMap<String, usize>,
    /// The commits of each bundle the one being imported carries, as many places or more.
    found: HashMap<String, BTreeSet<String>>,
}

impl Covering {
    fn load(conn: &rusqlite::Connection) -> Result<Covering> {
        let mut sizes = HashMap::new();
        for bundle in conn
            .prepare_cached("SELECT bundle FROM folder_bundles")?
            .query_map([], |r| r.get::<_, String>(0))?
        {
            sizes.insert(bundle?, 0usize);
        }
        let mut wanted: HashMap<String, Vec<(String, BTreeSet<u32>)>> = HashMap::new();
        let mut rows =
            conn.prepare_cached("SELECT bundle, commit_id, absent FROM folder_bundle_commits")?;
        for row in rows.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })? {
            let (bundle, commit, absent) = row?;
            // Unreadable places would claim too little: such a bundle is never covered.
            let Some(absent) = absent.map_or(Some(BTreeSet::new()), |j| {
                serde_json::from_str::<BTreeSet<u32>>(&j).ok()
            }) else {
                continue;
            };
            *sizes.entry(bundle.clone()).or_default() += 1;
            wanted.entry(commit).or_default().push((bundle, absent));
        }
        Ok(Covering {
            wanted,
            sizes,
            found: HashMap::new(),
        })
    }

    /// The commits of the bundle being read (claimed: `record` is called only once they
    /// are checked). A commit carries a place unless it lists its digest as left out.
    fn see(&mut self, commits: &[bundle::Commit]) {
        if self.wanted.is_empty() {
            return;
        }
        for c in commits {
            let Some(bundles) = self.wanted.get(&c.id) else {
                continue;
            };
            let left_out: BTreeSet<u32> = c.absent.iter().map(|(p, _)| *p).collect();
            for (bundle, theirs) in bundles {
                if left_out.is_subset(theirs) {
                    self.found
                        .entry(bundle.clone())
                        .or_default()
                        .insert(c.id.clone());
                }
            }
        }
    }

    /// Records the bundles the one read (`sha`) covers, once it was verified whole.
    fn record(&mut self, tx: &rusqlite::Connection, sha: &str) -> Result<()> {
        for (bundle, size) in &self.sizes {
            if self.found.get(bundle).map_or(0, BTreeSet::len) == *size {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO merged_coverage(sha256, bundle) VALUES (?1, ?2)",
                )?
                .execute(params![sha, bundle])?;
            }
        }
        self.found.clear();
        Ok(())
    }
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

    /// Imports bundles in one transaction: each file is read, checked and applied change
    /// by change as it streams (never held whole but for its compressed bytes), and a
    /// refusal anywhere rolls back everything this call applied. `progress` is told as
    /// changes are read and as the records they touch are settled.
    pub(crate) fn import_bundles(
        &mut self,
        files: &[&Path],
        progress: impl FnMut(SyncProgress),
    ) -> Result<Imported> {
        Ok(self.import_files(files, progress)?.0)
    }

    /// As [`Db::import_bundles`]; also returns each file's SHA-256, in order. A bundle read
    /// and verified whole that carries every commit of one of this laptop's bundles in the
    /// sync folder (all the places that bundle carried) is recorded as covering it.
    pub(crate) fn import_files(
        &mut self,
        files: &[&Path],
        mut progress: impl FnMut(SyncProgress),
    ) -> Result<(Imported, Vec<String>)> {
        self.require(Permission::RecordWork)?;
        let mut shas = Vec::with_capacity(files.len());
        let mut keys = keys::load(self.conn())?;
        // What the headers announce, for the progress only (nothing is trusted from it).
        let announced: u64 = files.iter().map(|p| bundle::announced_changes(p)).sum();
        let me = self.device_id().to_string();
        let now = self.clock().now().to_rfc3339();
        let now_millis = self.clock().now().timestamp_millis();
        let mut erasures = false;
        let stats = self.transaction(|tx| {
            let mut stats = Imported { bundles: files.len() as u64, ..Imported::default() };
            // The log's door for changes from elsewhere (changes::Applier): read and verify
            // here, then stage, apply, show, purge and settle there.
            let mut applier = Applier::begin(tx)?;
            let mut fresh_revocations = Vec::new();
            let mut fresh_rotations = false;
            let mut read = 0u64;
            let mut tell = Throttle::new(SyncStage::Reading, announced);
            for path in files {
                let at = |e: crate::Error| -> crate::Error {
                    match e {
                        crate::Error::Sync(e) => SyncError::InFile { path: path.display().to_string(), error: Box::new(e) }.into(),
                        other => other,
                    }
                };
                let bytes = read_bundle_file(path)?;
                let (header, _) = bundle::read_header(&bytes).map_err(|e| at(e.into()))?;
                // What the header's certificates and rotations rest on is checked wherever
                // it is used: knowing them trusts nothing by itself.
                if header.org == keys.org_id && header.rotations.len() <= bundle::MAX_ROTATIONS {
                    let fresh = keys.trust.add_rotations(&header.rotations);
                    fresh_rotations |= !fresh.is_empty();
                    keys::store_rotations(tx, &fresh)?;
                }
                for c in header.chain.iter().take(bundle::MAX_CHAIN) {
                    keys.trust.add_issuer(c);
                }
                if let Some(ring) = header.keyring.as_ref().filter(|r| r.epoch == header.epoch && header.org == keys.org_id) {
                    if let Some((epoch, key, ring)) = keys.learn(ring) {
                        keys::store_bundle_key(tx, epoch, &key, &ring)?;
                    }
                }
                // Only the same bytes are skipped: an id read from a header proves nothing.
                let sha = hex::encode(sha2::Sha256::digest(&bytes));
                shas.push(sha.clone());
                if tx.prepare_cached("SELECT 1 FROM imported_bundles WHERE sha256 = ?1")?.exists([&sha])? {
                    stats.skipped += header.changes;
                    stats.bundles_already_seen += 1;
                    read += header.changes;
                    tell.at(read, &mut progress);
                    continue;
                }
                let (header, body) = bundle::open(bytes, &keys).map_err(|e| at(e.into()))?;
                let mut verifier = verify::Verifier::new(tx, &keys)?;
                verifier.device(&header.cert);
                let mut device_name = None;
                applier.next_bundle();
                let mut covering = Covering::load(tx)?;
                bundle::read_body(&body, header.changes, &mut |part| {
                    match part {
                        bundle::Part::Name(name) => device_name = name,
                        bundle::Part::Certs(certs) => verifier.certs(tx, certs)?,
                        bundle::Part::Revocations(r) => verifier.revocations(r)?,
                        bundle::Part::Commits(commits) => {
                            covering.see(&commits);
                            applier.commits_arrive(commits.len());
                            verifier.commits(commits)?
                        }
                        bundle::Part::Op(op, commit, pos) => {
                            read += 1;
                            tell.at(read, &mut progress);
                            let typed = check_value(&op)?;
                            let Some(op) = verifier.op(tx, op, &typed, commit, pos)? else { return Ok(()) };
                            // Accounts are local to each laptop: a change to one never comes from outside.
                            if op.entity == "user" {
                                stats.skipped += 1;
                            } else {
                                let c = verifier.commit(commit);
                                let row = CommitRow { id: &c.id, cert: &c.cert, size: c.size, signature: &c.signature, absent: &c.absent };
                                let by_cert = verifier.author(commit).is_some_and(|(user, name)| {
                                    op.user_id.as_deref() == Some(user) && op.user_name.as_deref() == Some(name)
                                });
                                let filed = applier.stage(&op, commit, &row, by_cert)?;
                                if !applier.apply(&op, filed)? {
                                    stats.skipped += 1;
                                    return Ok(());
                                }
                                stats.applied += 1;
                                if applier.observe(op.hlc, op.device != me, now_millis) {
                                    stats.ahead_of_clock += 1;
                                }
                            }
                        }
                    }
                    Ok(())
                })
                .map_err(at)?;
                let verified = verifier.finish().map_err(at)?;
                // Only now, every commit checked whole and signed: what it carries is real.
                covering.record(tx, &sha)?;
                stats.revoked += verified.revoked;
                for cert in &verified.certs {
                    crate::changes::keep_cert(tx, cert)?;
                }
                for r in &verified.revocations {
                    if keys::store_revocation(tx, r)? {
                        fresh_revocations.push(r.clone());
                    }
                }
                tx.prepare_cached("INSERT OR IGNORE INTO imported_bundles(bundle_id, device, imported_at, changes, sha256) VALUES (?1, ?2, ?3, ?4, ?5)")?
                    .execute(params![header.bundle, header.device, now, header.changes as i64, sha])?;
                // A relay's bundle names its own writer, whose name it carries.
                tx.prepare_cached(
                    "INSERT INTO devices(id, public_key, last_seen, cert, name) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen, cert = excluded.cert,
                                                   name = coalesce(excluded.name, devices.name)",
                )?
                .execute(params![header.device, header.cert.public_key, now, serde_json::to_string(&header.cert).unwrap_or_default(), device_name])?;
            }
            tell.at(announced.max(read), &mut progress);
            erasures = applier.erased_any();
            applier.show()?;
            // Changes already taken from a laptop or user revoked since leave the log, and
            // so do those of what a retired issuer signed and did not keep.
            if !fresh_revocations.is_empty() || fresh_rotations {
                fresh_revocations.extend(keys::voided(tx, &keys::trust(tx)?)?);
            }
            for r in &fresh_revocations {
                stats.revoked += revoke::apply(tx, r)?;
            }
            let mut tell = Throttle::new(SyncStage::Settling, stats.applied);
            let conflicted = applier.settle(now_millis, &mut |done| tell.at(done, &mut progress))?;
            stats.conflicts = conflicted.values().sum();
            Ok(stats)
        })?;
        if erasures {
            crate::store::checkpoint(self.conn())?;
        }
        Ok((stats, shas))
    }

    /// The open conflicts, in a stable order.
    pub(crate) fn conflicts(&self) -> Result<Vec<Conflict>> {
        let conn = self.conn();
        let fields: Vec<(String, String, String)> = conn
            .prepare(
                "SELECT entity, record, field FROM forked_fields ORDER BY entity, record, field",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        let who = |h: &Head, record: &str| -> Result<(Option<String>, String, String)> {
            Ok(conn.query_row(
                "SELECT user_name, device, at FROM changes WHERE hlc = ?1 AND device = ?2 AND coalesce(user_id, '') = ?3 AND record = ?4",
                params![h.hlc.0, h.device, h.author, record],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        };
        for (entity, record, field) in fields {
            let heads = heads(conn, &entity, &record, &field)?;
            let Some((winner, losers)) = heads.split_first() else {
                continue;
            };
            let (wn, wd, wat) = who(winner, &record)?;
            // Two laptops that recorded the same value do not disagree.
            for loser in losers.iter().filter(|l| l.value != winner.value) {
                let (ln, ld, lat) = who(loser, &record)?;
                out.push(Conflict {
                    id: conflict_id(&entity, &record, &field, loser, &heads),
                    entity: entity.clone(),
                    record: record.clone(),
                    field: field.clone(),
                    kept: Value::from_json(winner.value.as_deref()),
                    other: Value::from_json(loser.value.as_deref()),
                    kept_by: wn.clone(),
                    kept_device: wd.clone(),
                    kept_at: wat.clone(),
                    other_by: ln,
                    other_device: ld,
                    other_at: lat,
                });
            }
        }
        out.sort_by(|a, b| {
            (&a.entity, &a.record, &a.field, &a.id).cmp(&(&b.entity, &b.record, &b.field, &b.id))
        });
        Ok(out)
    }

    /// Resolves a conflict with a change that overwrites every value of the field; it
    /// travels like any change and closes the conflict wherever it arrives.
    pub(crate) fn resolve_conflict(&mut self, id: &str, how: Resolution) -> Result<()> {
        self.require(Permission::DecideInCommittee)?;
        let conflict = self
            .conflicts()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| InputError::NotFound {
                what: "open conflict",
                id: id.to_string(),
            })?;
        let entity = Entity::from_name(&conflict.entity)
            .ok_or_else(|| InputError::rule("unknown_entity", format!("this version of Masar does not know '{}' records: update it to resolve this conflict", conflict.entity), &[]))?;
        let def = entity.field(&conflict.field)?;
        let value = match how {
            Resolution::Kept => conflict.kept.clone(),
            Resolution::Other => conflict.other.clone(),
            Resolution::Value(text) => def.kind.parse(def.name, &text)?,
        };
        let (record, field) = (conflict.record.clone(), conflict.field.clone());
        self.require(Permission::for_change(entity.name(), &field, &value, true))?;
        self.write(|w| w.resolve(entity, &record, &field, &value))
    }

    /// A hash of everything a user can see: every record's fields and the open conflicts.
    /// Equal on every database holding the same changes, whatever their order.
    pub(crate) fn digest(&self) -> Result<String> {
        let conflicts = self.conflicts()?;
        digest::digest(self.conn(), &conflicts)
    }

    /// Records whose changes wait for their creation or for a record they link to.
    pub(crate) fn pending_count(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM pending", [], |r| r.get(0))?)
    }

    /// Checks the database file's integrity (SQLite's own check).
    pub(crate) fn integrity_check(&self) -> Result<bool> {
        let r: String = self
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(r == "ok")
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod resolution {
    use super::Resolution;

    #[test]
    fn a_choice_that_is_neither_side_nor_a_value_is_refused_not_taken_as_kept() {
        assert_eq!(
            Resolution::parse(Some("kept"), None).unwrap(),
            Resolution::Kept
        );
        assert_eq!(
            Resolution::parse(Some("other"), None).unwrap(),
            Resolution::Other
        );
        assert_eq!(
            Resolution::parse(Some("kept"), Some("Rabat".into())).unwrap(),
            Resolution::Value("Rabat".into())
        );
        assert_eq!(
            Resolution::parse(Some("mine"), None).unwrap_err().code(),
            "input.invalid"
        );
        assert_eq!(
            Resolution::parse(None, None).unwrap_err().code(),
            "input.missing"
        );
    }
}
