//! Import: bundle files read, checked and applied change by change in one transaction,
//! and the sync folder's bundles that an imported one covers.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use rusqlite::params;
use serde::Serialize;
use sha2::Digest as _;
use ts_rs::TS;

use super::bundle;
use super::progress::Throttle;
use super::{verify, SyncProgress, SyncStage};
use crate::auth::Permission;
use crate::changes::{Applier, CommitRow, Db, Op};
use crate::error::SyncError;
use crate::files::ReadRefusal;
use crate::identity::org as keys;
use crate::identity::revoke;
use crate::schema::{Entity, Value};
use crate::Result;

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

impl Db {
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
}
