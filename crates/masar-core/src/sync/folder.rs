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

use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

use super::{Exported, Imported, SyncProgress};
use crate::changes::Db;
use crate::error::SyncError;
use crate::store::set_meta;
use crate::Result;

/// The subfolder of the sync folder that holds Masar's bundles, one folder per device.
pub const SYNC_SUBFOLDER: &str = "masar";

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
}

/// Why a name in the sync folder is not a bundle to read now, if it is not.
fn not_yet(name: &str) -> Option<&'static str> {
    if name.contains(".sync-conflict-") || name.contains(" (conflicted copy") {
        Some("a conflict copy made by the sync tool, from a bundle written twice: the original is imported instead")
    } else if name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".part") || name.ends_with(".partial") || name.ends_with('~') {
        Some("still being written (by Masar or the sync tool): it is read at a later sync once whole")
    } else {
        None
    }
}

impl Db {
    /// Syncs through `folder`: exports this laptop's new changes into its own subfolder,
    /// then imports every other laptop's bundles, one transaction each.
    pub(crate) fn sync_folder(&mut self, folder: &Path, mut progress: impl FnMut(SyncProgress)) -> Result<FolderSync> {
        let unreachable = |e: std::io::Error| SyncError::File {
            path: folder.display().to_string(),
            reason: format!("is not reachable ({e}): plug in the stick or connect to the share, then sync again (nothing was changed)"),
            source: e,
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
            let Ok(files) = std::fs::read_dir(device.path()) else { continue };
            for file in files.filter_map(|e| e.ok()) {
                let name = file.file_name().to_string_lossy().into_owned();
                let path = file.path();
                if let Some(reason) = not_yet(&name) {
                    done.waiting.push(FolderFile { file: path.display().to_string(), reason: reason.into() });
                } else if name.ends_with(".masar") && file.file_type().is_ok_and(|t| t.is_file()) {
                    candidates.push(path);
                }
            }
        }
        // Bundle ids are UUID v7: sorted by name, each device's bundles come in the order written.
        candidates.sort();
        for path in &candidates {
            match self.import_bundles(&[path.as_path()], &mut progress) {
                Ok(imported) => add(&mut done.imported, &imported),
                Err(e) => done.refused.push(FolderFile { file: path.display().to_string(), reason: e.to_string() }),
            }
        }
        set_meta(self.conn(), "last_sync_at", &self.clock().now().to_rfc3339())?;
        Ok(done)
    }
}

fn add(total: &mut Imported, one: &Imported) {
    total.applied += one.applied;
    total.skipped += one.skipped;
    total.conflicts += one.conflicts;
    total.bundles_already_seen += one.bundles_already_seen;
    total.bundles += one.bundles;
    total.revoked += one.revoked;
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
