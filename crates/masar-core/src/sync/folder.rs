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

use super::keys::{self, DeviceCert};
use super::{Exported, Imported, SyncProgress};
use crate::changes::Db;
use crate::error::SyncError;
use crate::store::set_meta;
use crate::Result;

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
    fn holds(&self, root: &ed25519_dalek::VerifyingKey, org: &str, device: &str) -> bool {
        let Some(key) = self.cert.verify(root, org) else {
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
        std::fs::create_dir_all(&own).map_err(|e| SyncError::File {
            path: own.display().to_string(),
            reason: format!("cannot be made ({e}): check the folder is writable (a stick may be read-only or full)"),
            source: e,
        })?;
        let mut done = FolderSync::default();
        if super::unexported_changes(self.conn())? > 0 {
            done.exported = Some(self.export_bundle(&own, false, &[], &mut progress)?);
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
        for path in &candidates {
            match self.import_bundles(&[path.as_path()], &mut progress) {
                Ok(one) => {
                    add(&mut done.imported, &one);
                    imported.insert(stem(path));
                }
                Err(e) => done.refused.push(FolderFile {
                    file: path.display().to_string(),
                    reason: e.to_string(),
                }),
            }
        }
        self.keep_house(&root, &own, imported, merged, &mut done, &mut progress)?;
        set_meta(
            self.conn(),
            "last_sync_at",
            &self.clock().now().to_rfc3339(),
        )?;
        Ok(done)
    }

    /// Writes the merged export if asked and needed, this laptop's acknowledgement, and
    /// removes its own bundles that every active laptop imported and a merged export covers.
    fn keep_house(
        &mut self,
        root: &Path,
        own: &Path,
        imported: BTreeSet<String>,
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
        if erased_since {
            let old: Vec<PathBuf> = bundles_in(own)
                .into_iter()
                .filter(|p| !stem(p).starts_with(MERGED_PREFIX))
                .collect();
            if !old.is_empty() {
                let out = own.join(format!("{}.masar", uuid::Uuid::now_v7()));
                self.export_bundle(&out, true, &[], &mut *progress)?;
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
        let previous = read_ack(own);
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
                if let Some(a) =
                    read_ack(&e.path()).filter(|a| a.holds(&org.root_public, &org.org_id, &device))
                {
                    others.insert(device, a);
                }
            }
        }
        let away = now - chrono::Duration::days(AWAY_DAYS);
        let active: Vec<&Acknowledgement> = others
            .values()
            .filter(|a| chrono::DateTime::parse_from_rfc3339(&a.issued).is_ok_and(|t| t >= away))
            .collect();
        let covered: BTreeSet<String> = others
            .iter()
            .filter_map(|(device, a)| {
                a.merged
                    .as_ref()
                    .filter(|(file, _)| root.join(device).join(format!("{file}.masar")).is_file())
                    .map(|(_, c)| c)
            })
            .chain(ack.merged.as_ref().map(|(_, c)| c))
            .flatten()
            .cloned()
            .collect();
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
        Ok(())
    }
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
