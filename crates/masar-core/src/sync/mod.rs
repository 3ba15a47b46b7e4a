//! Sync: enrolment, bundle export and import, conflicts, erasure through sync, the digest.
//!
//! A bundle carries changes of the op log (see `changes::oplog`). Importing one inserts
//! the changes it lacks, in one transaction with everything else of that import, and
//! settles the records they touch; a change already present is skipped by its identity
//! `(hlc, device)`, and a bundle already imported is recognised by its id before it is
//! even decrypted.

pub(crate) mod bundle;
mod conflicts;
mod digest;
mod export;
pub(crate) mod folder;
mod import;
mod progress;
mod scope;
mod verify;
mod watch;

pub use folder::{FolderFile, FolderSync, SYNC_SUBFOLDER};
pub use watch::FolderWatch;

pub use scope::Scope;

pub use conflicts::{Conflict, Resolution};
pub(crate) use export::file_folder_bundle;
pub use export::Exported;
pub use import::Imported;
pub use progress::{SyncProgress, SyncStage};

use std::path::{Path, PathBuf};

use crate::changes::Db;
use crate::error::SyncError;
use crate::Result;

/// Writes a bundle whole, readable by its owner only.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SyncError> {
    crate::files::write_private_atomically(path, bytes).map_err(|e| SyncError::not_written(path, e))
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

impl Db {
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
