//! Sync: bundles, the sync folder, conflicts, the digest.

use super::*;

impl Masar {
    /// Writes a bundle of what readers may lack (see `sync`); `progress` is told as the
    /// changes are written.
    pub fn export_bundle(
        &mut self,
        out: &Path,
        full: bool,
        scope: &[Scope],
        progress: impl FnMut(SyncProgress),
    ) -> Result<Exported> {
        self.db.export_bundle(out, full, scope, progress)
    }

    /// Imports bundles in one transaction, checking each change as it streams in; a
    /// refusal anywhere applies nothing. `progress` is told as changes are read and settled.
    pub fn import_bundles(
        &mut self,
        files: &[&Path],
        progress: impl FnMut(SyncProgress),
    ) -> Result<Imported> {
        self.db.import_bundles(files, progress)
    }

    /// The bundle files among `paths`: a folder stands for every `.masar` file in it.
    pub fn bundle_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
        crate::sync::bundle_files(paths)
    }

    /// The open conflicts, in a stable order.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        self.db.conflicts()
    }

    /// Resolves a conflict with a change that overwrites every value of the field.
    pub fn resolve_conflict(&mut self, id: &str, how: Resolution) -> Result<()> {
        self.db.resolve_conflict(id, how)
    }

    /// A hash of everything a user can see; equal on databases holding the same changes.
    pub fn digest(&self) -> Result<String> {
        self.db.digest()
    }

    /// Records whose changes wait for their creation or for a record they link to.
    pub fn pending_count(&self) -> Result<i64> {
        self.db.pending_count()
    }

    /// Checks the database file's integrity (SQLite's own check).
    pub fn integrity_check(&self) -> Result<bool> {
        self.db.integrity_check()
    }

    /// Syncs through the sync folder (`folder`, saved as this laptop's, or the one saved
    /// before): exports this laptop's new changes into its own subfolder, then imports
    /// every other laptop's bundles, each on its own, passing over damaged ones and files
    /// still being written (`sync::folder`); with `merged` (a supervisor's laptop), keeps
    /// the merged export that lets bundles be removed and latecomers catch up, rewriting
    /// it when something is new and it is at least that old.
    pub fn sync_folder(
        &mut self,
        folder: Option<&Path>,
        merged: Option<std::time::Duration>,
        progress: impl FnMut(SyncProgress),
    ) -> Result<crate::sync::FolderSync> {
        let folder = match folder {
            Some(f) => {
                let shown = f.display().to_string();
                set_meta(self.conn(), "sync_folder", &shown)?;
                f.to_path_buf()
            }
            None => self
                .saved_sync_folder()?
                .ok_or_else(|| InputError::Missing {
                    field: "folder".into(),
                    hint:
                        "choose the sync folder (a network share, a USB stick, a Syncthing folder)"
                            .into(),
                })?,
        };
        let done = self.db.sync_folder(&folder, merged, progress);
        // What went wrong stays to be shown until a sync goes well.
        let problem = match &done {
            Err(e) => Some(e.to_string()),
            Ok(d) => d.refused.first().map(|r| {
                format!(
                    "{} bundle(s) refused; {}: {}",
                    d.refused.len(),
                    r.file,
                    r.reason
                )
            }),
        };
        match problem {
            Some(p) => set_meta(self.conn(), "last_sync_error", &p)?,
            None => {
                self.conn()
                    .execute("DELETE FROM meta WHERE key = 'last_sync_error'", [])?;
            }
        }
        done
    }

    /// The sync folder saved on this laptop, if any (one setting read, for loops that ask
    /// often).
    pub fn saved_sync_folder(&self) -> Result<Option<PathBuf>> {
        Ok(meta(self.conn(), "sync_folder")?
            .filter(|f| !f.trim().is_empty())
            .map(PathBuf::from))
    }

    /// Saves the sync folder of this laptop.
    pub fn set_sync_folder(&mut self, folder: &str) -> Result<()> {
        Ok(set_meta(self.conn(), "sync_folder", folder)?)
    }

    /// The state of the last exchanges: last export, last import, bundles read, pending.
    pub fn sync_state(&self) -> Result<SyncState> {
        self.db.sync_state()
    }
}
