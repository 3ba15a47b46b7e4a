//! The sync folder: one folder several laptops share (a network share, a USB stick, a
//! Syncthing or Nextcloud folder), laid out so that none overwrites another's files
//! (`docs/sync-folder.md`):
//!
//! ```text
//! FOLDER/masar/<device id>/<bundle id>.masar
//! ```
//!
//! A laptop writes only into its own subfolder and reads every other one. One sync
//! exports this laptop's new changes, then imports every bundle of the others, each in its
//! own transaction, so that a damaged file is reported and passed over while the others
//! still sync. A file still being written by the sync tool, or a conflict copy it made, is
//! left for a later sync, not reported as damaged.
//!
//! Housekeeping keeps the folder from growing for ever. Each laptop writes, in its own
//! subfolder, an acknowledgement (`acknowledged.json`, signed by its device key, which
//! the root certified) listing the bundles there it has imported. A laptop that keeps the
//! **merged export** (`masar sync --merged`: a supervisor's) writes one full bundle,
//! `merged-<id>.masar`, replacing its previous one, and lists in its acknowledgement the
//! bundles it covers. A laptop removes one of its own bundles once every *active* laptop
//! (an acknowledgement less than [`AWAY_DAYS`] old) has acknowledged it and a merged
//! export covers it: a laptop that joins, or comes back after longer, finds everything
//! in the merged export and the bundles still there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer as _, Verifier as _};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Exported, Imported, SyncProgress};
use crate::changes::Db;
use crate::error::SyncError;
use crate::files::real_dir;
use crate::identity::org::{self as keys, DeviceCert};
use crate::store::set_meta;
use crate::Result;
use rusqlite::OptionalExtension as _;

/// The subfolder of the sync folder that holds Masar's bundles, one folder per device.
pub const SYNC_SUBFOLDER: &str = "masar";
/// A laptop whose acknowledgement is older than this is away: its bundles' removal no
/// longer waits for it, and when it comes back it catches up from the merged export.
pub const AWAY_DAYS: i64 = 30;
/// Each laptop's acknowledgement, in its own subfolder.
const ACK_FILE: &str = "acknowledged.json";
/// The merged export's name starts with this.
const MERGED_PREFIX: &str = "merged-";

/// A laptop's signed statement of the bundles of the folder it has imported.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Acknowledgement {
    org: String,
    device: String,
    cert: DeviceCert,
    issued: String,
    /// File stems (bundle ids) of other laptops' bundles it has imported.
    imported: BTreeSet<String>,
    /// Its merged export, if it keeps one: the file's stem, and the stems it covers.
    merged: Option<(String, BTreeSet<String>)>,
    signature: String,
}

impl Acknowledgement {
    fn message(&self) -> Vec<u8> {
        let fields = (
            "masar-acknowledgement/1",
            &self.org,
            &self.device,
            &self.issued,
            &self.imported,
            &self.merged,
        );
        serde_json::to_vec(&fields).unwrap_or_default()
    }

    /// Whether the device's certified key signed it, for this organisation.
    fn holds(&self, trust: &crate::trust::Trust, device: &str) -> bool {
        let org = trust.org();
        let Some(key) = self.cert.verify(trust) else {
            return false;
        };
        let Some(sig) = hex::decode(&self.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
        else {
            return false;
        };
        self.org == org
            && self.device == device
            && self.cert.device == device
            && key
                .verify(&self.message(), &Signature::from_bytes(&sig))
                .is_ok()
    }
}

/// A file of the sync folder left for later or refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct FolderFile {
    /// The file.
    pub file: String,
    /// Why it was not imported.
    pub reason: String,
}

/// What one sync through the folder did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct FolderSync {
    /// This laptop's new changes, written into its own subfolder; none when it had none.
    pub exported: Option<Exported>,
    /// What the other laptops' bundles brought.
    pub imported: Imported,
    /// Files left for a later sync: still being written by the sync tool, or a conflict
    /// copy it made.
    pub waiting: Vec<FolderFile>,
    /// Bundles refused, each with its reason; the others were imported.
    pub refused: Vec<FolderFile>,
    /// The merged export written, when this laptop keeps it and it had something new.
    pub merged: Option<Exported>,
    /// This laptop's bundles removed: every active laptop had imported them and a merged
    /// export covers them.
    pub removed: Vec<String>,
    /// This laptop's bundles replaced by one full bundle because a person was erased
    /// since they were written (they may carry that person's data; the log no longer does).
    pub replaced: Vec<String>,
}

/// Why a name in the sync folder is not a bundle to read now, if it is not.
pub(super) fn not_yet(name: &str) -> Option<&'static str> {
    if name.contains(".sync-conflict-") || name.contains(" (conflicted copy") {
        Some("a conflict copy made by the sync tool, from a bundle written twice: the original is imported instead")
    } else if name.starts_with('.')
        || name.ends_with(".tmp")
        || name.ends_with(".part")
        || name.ends_with(".partial")
        || name.ends_with('~')
    {
        Some("still being written (by Masar or the sync tool): it is read at a later sync once whole")
    } else {
        None
    }
}

impl Db {
    /// Syncs through `folder`: exports this laptop's new changes into its own subfolder,
    /// then imports every other laptop's bundles, one transaction each; with `merged`,
    /// keeps the merged export, rewritten when some bundle is not covered by it yet and it
    /// is older than the duration given (a full bundle of a national programme is large);
    /// then acknowledges what it imported and removes its own bundles nobody needs any more.
    pub(crate) fn sync_folder(
        &mut self,
        folder: &Path,
        merged: Option<std::time::Duration>,
        mut progress: impl FnMut(SyncProgress),
    ) -> Result<FolderSync> {
        let unreachable = |e: std::io::Error| {
            SyncError::File {
            path: folder.display().to_string(),
            reason: format!("is not reachable ({e}): plug in the stick or connect to the share (or make the folder), then sync again (nothing was changed)"),
            source: e,
        }
        };
        if !folder.is_dir() {
            return Err(unreachable(std::io::Error::from(std::io::ErrorKind::NotFound)).into());
        }
        let root = folder.join(SYNC_SUBFOLDER);
        let own = root.join(self.device_id());
        // Both are in the shared folder, which others can edit: either planted as a link
        // would have this laptop write, and remove, wherever it points.
        real_folder(&root, true)?;
        real_folder(&own, true)?;
        let mut done = FolderSync::default();
        if crate::changes::unexported_changes(self.conn())? > 0 {
            let (written, carried) = self.export_carrying(&own, false, &[], &mut progress)?;
            super::file_folder_bundle(self.conn(), &stem(&written.path), &carried)?;
            done.exported = Some(written);
        }
        let mut candidates: Vec<PathBuf> = Vec::new();
        let devices = std::fs::read_dir(&root).map_err(unreachable)?;
        for device in devices.filter_map(|e| e.ok()) {
            if device.path() == own || !device.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let Ok(files) = std::fs::read_dir(device.path()) else {
                continue;
            };
            for file in files.filter_map(|e| e.ok()) {
                let name = file.file_name().to_string_lossy().into_owned();
                let path = file.path();
                if let Some(reason) = not_yet(&name) {
                    done.waiting.push(FolderFile {
                        file: path.display().to_string(),
                        reason: reason.into(),
                    });
                } else if name.ends_with(".masar") && file.file_type().is_ok_and(|t| t.is_file()) {
                    candidates.push(path);
                }
            }
        }
        // Bundle ids are UUID v7: sorted by name, each device's bundles come in the order
        // written; a merged export first, so what it covers is known before the rest.
        candidates.sort_by_key(|p| (!stem(p).starts_with(MERGED_PREFIX), p.clone()));
        let mut imported = BTreeSet::new();
        // The merged exports of others this laptop has just read and verified (or had read
        // before: the same bytes): by device folder, file stem and SHA-256. Only what they
        // carry covers its bundles.
        let mut merged_read = Vec::new();
        let mut refusals = Refusals::load(self.conn())?;
        for path in &candidates {
            let file = path.display().to_string();
            let name = path
                .strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string();
            let seen = Seen::of(path);
            if let Some(reason) = refusals.remembered(self.conn(), &name, &seen, path)? {
                done.refused.push(FolderFile {
                    file,
                    reason: format!(
                        "{reason} (refused at an earlier sync and unchanged since: not read again)"
                    ),
                });
                continue;
            }
            match self.import_files(&[path.as_path()], &mut progress) {
                Ok((one, shas)) => {
                    add(&mut done.imported, &one);
                    imported.insert(stem(path));
                    if stem(path).starts_with(MERGED_PREFIX) {
                        let device = path
                            .parent()
                            .and_then(Path::file_name)
                            .map(|d| d.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        merged_read.extend(
                            shas.into_iter()
                                .map(|sha| (device.clone(), stem(path), sha)),
                        );
                    }
                }
                Err(e) => {
                    let reason = e.to_string();
                    if lasting(&e) {
                        refusals.remember(
                            self.conn(),
                            &name,
                            &seen,
                            path,
                            &reason,
                            &self.clock().now().to_rfc3339(),
                        )?;
                    }
                    done.refused.push(FolderFile { file, reason });
                }
            }
        }
        refusals.forget_others(self.conn())?;
        self.keep_house(
            &root,
            &own,
            imported,
            &merged_read,
            merged,
            &mut done,
            &mut progress,
        )?;
        set_meta(
            self.conn(),
            "last_sync_at",
            &self.clock().now().to_rfc3339(),
        )?;
        Ok(done)
    }

    /// Writes the merged export if asked and needed, this laptop's acknowledgement, and
    /// removes its own bundles that every active laptop imported and a merged export covers.
    #[allow(clippy::too_many_arguments)]
    fn keep_house(
        &mut self,
        root: &Path,
        own: &Path,
        imported: BTreeSet<String>,
        merged_read: &[(String, String, String)],
        merged: Option<std::time::Duration>,
        done: &mut FolderSync,
        progress: &mut impl FnMut(SyncProgress),
    ) -> Result<()> {
        let org = keys::load(self.conn())?;
        let me = self.device_id().to_string();
        // A person erased since this laptop's bundles were written: they may carry the
        // person's data, which the log has blanked, so one full bundle written from the log
        // replaces them (a superset: no reader loses anything), and the merged export is
        // written again.
        let erasures: i64 =
            self.conn()
                .query_row("SELECT count(*) FROM persons WHERE erased = 1", [], |r| {
                    r.get(0)
                })?;
        let erased_since =
            erasures > crate::store::meta_i64(self.conn(), "folder_erasures")?.unwrap_or(0);
        // Until every old bundle is gone (a file held open elsewhere), the next sync tries again.
        let mut replaced_all = true;
        // Checked again before each step that writes or removes: the folder is shared.
        let still_real = || -> Result<()> {
            real_folder(root, false)?;
            real_folder(own, false)?;
            Ok(())
        };
        if erased_since {
            still_real()?;
            let old: Vec<PathBuf> = bundles_in(own)
                .into_iter()
                .filter(|p| !stem(p).starts_with(MERGED_PREFIX))
                .collect();
            if !old.is_empty() {
                let out = own.join(format!("{}.masar", uuid::Uuid::now_v7()));
                let (_, carried) = self.export_carrying(&out, true, &[], &mut *progress)?;
                super::file_folder_bundle(self.conn(), &stem(&out), &carried)?;
                for b in old {
                    if std::fs::remove_file(&b).is_ok() {
                        done.replaced.push(b.display().to_string());
                    } else {
                        replaced_all = false;
                    }
                }
            }
        }
        let own_bundles: Vec<PathBuf> = bundles_in(own);
        // Its own acknowledgement too is in the shared folder: trusted only if its own key signed it.
        let previous = read_ack(own).filter(|a| a.holds(&org.trust, &me));
        let mut merged_entry = previous
            .as_ref()
            .and_then(|a| a.merged.clone())
            .filter(|(file, _)| own.join(format!("{file}.masar")).is_file());
        if let Some(at_most_every) = merged {
            // Everything in the folder now, but the merged export itself.
            let present: BTreeSet<String> = imported
                .iter()
                .cloned()
                .chain(own_bundles.iter().map(|p| stem(p)))
                .filter(|s| !s.starts_with(MERGED_PREFIX))
                .collect();
            let covered = merged_entry
                .as_ref()
                .map(|(_, c)| c.clone())
                .unwrap_or_default();
            // The previous one's age, by its file: a pace for this machine, not a rule of the data.
            let old_enough = merged_entry.as_ref().is_none_or(|(file, _)| {
                std::fs::metadata(own.join(format!("{file}.masar")))
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_none_or(|age| age >= at_most_every)
            });
            if (!present.is_subset(&covered) && old_enough)
                || merged_entry.is_none()
                || erased_since
            {
                still_real()?;
                let id = uuid::Uuid::now_v7();
                let out = own.join(format!("{MERGED_PREFIX}{id}.masar"));
                let written = self.export_bundle(&out, true, &[], &mut *progress)?;
                if let Some((old, _)) = &merged_entry {
                    let _ = std::fs::remove_file(own.join(format!("{old}.masar")));
                }
                merged_entry = Some((stem(&out), present));
                done.merged = Some(written);
            }
        }
        let now = self.clock().now();
        let mut ack = Acknowledgement {
            org: org.org_id.clone(),
            device: me.clone(),
            cert: org.device_cert.clone(),
            issued: now.to_rfc3339(),
            imported,
            merged: merged_entry,
            signature: String::new(),
        };
        // Rewritten only when what it says changes, or once a day to stay active: another
        // laptop's watcher must not be woken by an acknowledgement that says nothing new.
        let same = previous.as_ref().is_some_and(|p| {
            p.imported == ack.imported
                && p.merged == ack.merged
                && p.cert == ack.cert
                && chrono::DateTime::parse_from_rfc3339(&p.issued)
                    .is_ok_and(|t| now.signed_duration_since(t) < chrono::Duration::days(1))
        });
        if same {
            if let Some(p) = &previous {
                ack = p.clone();
            }
        } else {
            ack.signature = hex::encode(org.device_secret.sign(&ack.message()).to_bytes());
            still_real()?;
            let text =
                serde_json::to_vec_pretty(&ack).map_err(|e| SyncError::Seal(e.to_string()))?;
            super::write_atomically(&own.join(ACK_FILE), &text)?;
        }
        if replaced_all {
            set_meta(self.conn(), "folder_erasures", &erasures.to_string())?;
        }

        // The other laptops' acknowledgements that hold: signed by a device the root
        // certified, not revoked, each in its own subfolder.
        let revoked: BTreeSet<String> = self
            .conn()
            .prepare("SELECT subject FROM revocations WHERE kind = 'device'")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut others: BTreeMap<String, Acknowledgement> = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir(root) {
            for e in entries.filter_map(|e| e.ok()) {
                let device = e.file_name().to_string_lossy().into_owned();
                if device == me || revoked.contains(&device) {
                    continue;
                }
                if let Some(a) = read_ack(&e.path()).filter(|a| a.holds(&org.trust, &device)) {
                    others.insert(device, a);
                }
            }
        }
        let away = now - chrono::Duration::days(AWAY_DAYS);
        let active: Vec<&Acknowledgement> = others
            .values()
            .filter(|a| chrono::DateTime::parse_from_rfc3339(&a.issued).is_ok_and(|t| t >= away))
            .collect();
        // Covered: carried, commit by commit, by a merged export now in the folder that this
        // laptop read and verified itself, the one a certified laptop's signed
        // acknowledgement names as its own (the list beside it there is its writer's word,
        // so it is not used); or by this laptop's own, written from its whole log after
        // those bundles.
        let mut covered: BTreeSet<String> = ack
            .merged
            .as_ref()
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        for (device, file, sha) in merged_read {
            let named = others
                .get(device)
                .and_then(|a| a.merged.as_ref())
                .is_some_and(|(m, _)| m == file);
            if !named {
                continue;
            }
            let bundles = self
                .conn()
                .prepare_cached("SELECT bundle FROM merged_coverage WHERE sha256 = ?1")?
                .query_map([sha], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            covered.extend(bundles);
        }
        still_real()?;
        for bundle in own_bundles {
            let s = stem(&bundle);
            if s.starts_with(MERGED_PREFIX) || !covered.contains(&s) {
                continue;
            }
            if active.iter().all(|a| a.imported.contains(&s))
                && std::fs::remove_file(&bundle).is_ok()
            {
                done.removed.push(bundle.display().to_string());
            }
        }
        // What it knows of its bundles no longer in the folder is of no more use.
        let here: BTreeSet<String> = bundles_in(own).iter().map(|p| stem(p)).collect();
        let known: Vec<String> = self
            .conn()
            .prepare("SELECT bundle FROM folder_bundles")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for gone in known.iter().filter(|b| !here.contains(*b)) {
            for table in ["folder_bundles", "folder_bundle_commits", "merged_coverage"] {
                self.conn()
                    .execute(&format!("DELETE FROM {table} WHERE bundle = ?1"), [gone])?;
            }
        }
        Ok(())
    }
}

/// What identifies a file without reading it: its size, modification time and inode (a
/// copy renamed into place is a new inode, even with the writer's time kept).
struct Seen {
    size: i64,
    mtime: i64,
    inode: i64,
}

impl Seen {
    fn of(path: &Path) -> Seen {
        let meta = std::fs::symlink_metadata(path).ok();
        let size = meta
            .as_ref()
            .map_or(-1, |m| i64::try_from(m.len()).unwrap_or(i64::MAX));
        let mtime = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(-1, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        #[cfg(unix)]
        let inode = {
            use std::os::unix::fs::MetadataExt;
            meta.as_ref().map_or(-1, |m| m.ino() as i64)
        };
        #[cfg(not(unix))]
        let inode = 0;
        Seen { size, mtime, inode }
    }
}

/// The bundles of the folder refused before for a reason their bytes alone decide, so
/// that an insider's file costs this laptop one reading, not one at every sync.
struct Refusals {
    /// The names seen at this sync: the others are forgotten at its end.
    present: BTreeSet<String>,
}

impl Refusals {
    fn load(conn: &rusqlite::Connection) -> Result<Refusals> {
        // Another version of Masar may judge a file otherwise: it reads each one again.
        let version = env!("CARGO_PKG_VERSION");
        if crate::store::meta(conn, "refused_bundles_version")?.as_deref() != Some(version) {
            conn.execute("DELETE FROM refused_bundles", [])?;
            set_meta(conn, "refused_bundles_version", version)?;
        }
        Ok(Refusals {
            present: BTreeSet::new(),
        })
    }

    /// The reason `path` was refused, if it was and has not changed since: by its name,
    /// size, time and inode, else (a file of a size refused before) by its SHA-256.
    fn remembered(
        &mut self,
        conn: &rusqlite::Connection,
        name: &str,
        seen: &Seen,
        path: &Path,
    ) -> Result<Option<String>> {
        self.present.insert(name.to_string());
        let same: Option<String> = conn
            .prepare_cached("SELECT reason FROM refused_bundles WHERE name = ?1 AND size = ?2 AND mtime = ?3 AND inode = ?4")?
            .query_row(rusqlite::params![name, seen.size, seen.mtime, seen.inode], |r| r.get(0))
            .optional()?;
        if same.is_some() {
            return Ok(same);
        }
        if !conn
            .prepare_cached("SELECT 1 FROM refused_bundles WHERE size = ?1")?
            .exists([seen.size])?
        {
            return Ok(None);
        }
        let Some(sha) = sha256_of(path) else {
            return Ok(None);
        };
        let reason: Option<String> = conn
            .prepare_cached("SELECT reason FROM refused_bundles WHERE sha256 = ?1 AND size = ?2")?
            .query_row(rusqlite::params![sha, seen.size], |r| r.get(0))
            .optional()?;
        if let Some(reason) = &reason {
            conn.prepare_cached("INSERT OR REPLACE INTO refused_bundles(name, size, mtime, inode, sha256, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, datetime('now'))")?
                .execute(rusqlite::params![name, seen.size, seen.mtime, seen.inode, sha, reason])?;
        }
        Ok(reason)
    }

    /// Remembers that `path` was refused for `reason`.
    fn remember(
        &mut self,
        conn: &rusqlite::Connection,
        name: &str,
        seen: &Seen,
        path: &Path,
        reason: &str,
        now: &str,
    ) -> Result<()> {
        let Some(sha) = sha256_of(path) else {
            return Ok(());
        };
        conn.prepare_cached("INSERT OR REPLACE INTO refused_bundles(name, size, mtime, inode, sha256, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
            .execute(rusqlite::params![name, seen.size, seen.mtime, seen.inode, sha, reason, now])?;
        Ok(())
    }

    /// Forgets the files no longer in the folder.
    fn forget_others(&self, conn: &rusqlite::Connection) -> Result<()> {
        let names: Vec<String> = conn
            .prepare("SELECT name FROM refused_bundles")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for name in names.iter().filter(|n| !self.present.contains(*n)) {
            conn.execute("DELETE FROM refused_bundles WHERE name = ?1", [name])?;
        }
        Ok(())
    }
}

/// A file's SHA-256, read in blocks (never held whole); `None` if it cannot be read.
fn sha256_of(path: &Path) -> Option<String> {
    use sha2::Digest as _;
    use std::io::Read as _;
    let mut file = crate::files::open_regular(path, super::bundle::MAX_BYTES).ok()?;
    let mut hasher = sha2::Sha256::new();
    let mut block = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut block).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    Some(hex::encode(hasher.finalize()))
}

/// Whether a refusal depends on the file's bytes alone (so reading them again would
/// refuse them again), not on this laptop's keys, memory or the folder's state.
fn lasting(e: &crate::Error) -> bool {
    let crate::Error::Sync(e) = e else {
        return false;
    };
    let e = match e {
        SyncError::InFile { error, .. } => error.as_ref(),
        other => other,
    };
    matches!(
        e,
        SyncError::Changed
            | SyncError::Damaged(_)
            | SyncError::OtherOrganisation { .. }
            | SyncError::UnknownDevice { .. }
            | SyncError::Untrusted { .. }
    )
}

/// Checks that a folder this laptop writes into (the `masar` folder, its own subfolder)
/// is a real folder, not a link planted in the shared folder; makes it when `make` is set.
fn real_folder(path: &Path, make: bool) -> Result<(), SyncError> {
    use crate::files::DirRefusal;
    real_dir(path, make).map_err(|refusal| match refusal {
        DirRefusal::Link => SyncError::Refused {
            path: path.display().to_string(),
            reason: "is a link, not a folder: Masar writes only into a real folder; remove the link and sync again (nothing was written or removed through it)".into(),
        },
        DirRefusal::NotDir => SyncError::Refused {
            path: path.display().to_string(),
            reason: "cannot be made: a file of that name is there, not a folder; move it away and sync again (nothing was written)".into(),
        },
        DirRefusal::Io(e) => SyncError::File {
            path: path.display().to_string(),
            reason: format!("cannot be made or opened ({e}): check the folder is writable (a stick may be read-only or full)"),
            source: e,
        },
    })
}

/// An acknowledgement signed with `keys`, as the laptop holding them could write it (the
/// attack suite's forgeries: an insider signs what they like with their own laptop's key).
#[cfg(any(test, feature = "forging"))]
pub(crate) fn signed_acknowledgement(
    keys: &keys::OrgKeys,
    issued: &str,
    imported: &[String],
    merged: Option<(&str, &[String])>,
) -> Vec<u8> {
    let mut ack = Acknowledgement {
        org: keys.org_id.clone(),
        device: keys.device_cert.device.clone(),
        cert: keys.device_cert.clone(),
        issued: issued.to_string(),
        imported: imported.iter().cloned().collect(),
        merged: merged.map(|(file, covers)| (file.to_string(), covers.iter().cloned().collect())),
        signature: String::new(),
    };
    ack.signature = hex::encode(keys.device_secret.sign(&ack.message()).to_bytes());
    serde_json::to_vec_pretty(&ack).unwrap_or_default()
}

/// A file's name without `.masar`.
fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The bundles in one laptop's subfolder.
fn bundles_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "masar") && not_yet(&stem(p)).is_none())
        .collect();
    out.sort();
    out
}

/// The acknowledgement in a laptop's subfolder, if one is there and reads (a small,
/// regular file: one planted by someone else is judged by its signature).
fn read_ack(dir: &Path) -> Option<Acknowledgement> {
    let bytes = crate::files::read_regular(&dir.join(ACK_FILE), 16 << 20).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn add(total: &mut Imported, one: &Imported) {
    total.applied += one.applied;
    total.skipped += one.skipped;
    total.conflicts += one.conflicts;
    total.bundles_already_seen += one.bundles_already_seen;
    total.bundles += one.bundles;
    total.revoked += one.revoked;
    total.ahead_of_clock += one.ahead_of_clock;
}

#[cfg(test)]
mod tests {
    use super::not_yet;

    #[test]
    fn files_the_sync_tool_is_still_writing_and_its_conflict_copies_wait() {
        for name in [
            ".syncthing.0190a.masar.tmp",
            "0190a.masar.part",
            "0190a.masar.3f2a.partial",
            "0190a.sync-conflict-20240101-101010-ABCDEFG.masar",
            "0190a (conflicted copy 2024-01-01).masar",
            ".~lock.masar",
        ] {
            assert!(not_yet(name).is_some(), "{name}");
        }
        assert!(not_yet("0190a3f2-7b1c-7d2e-9f00-123456789abc.masar").is_none());
    }
}
