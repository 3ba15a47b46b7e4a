//! Where this laptop's exchanges stand.

use super::*;

/// Where this laptop's exchanges stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SyncState {
    /// When this laptop last exported.
    pub last_export: Option<String>,
    /// When it last imported.
    pub last_import: Option<String>,
    /// Bundles imported so far.
    pub bundles_imported: i64,
    /// Records waiting for what they link to.
    pub pending: i64,
    /// Open conflicts.
    pub conflicts: u64,
    /// The sync folder, when set.
    pub sync_folder: Option<String>,
    /// When the last sync through the folder ended (RFC 3339).
    pub last_sync: Option<String>,
    /// What went wrong at the last sync through the folder, if anything did: the folder
    /// unreachable, or bundles refused.
    pub last_sync_error: Option<String>,
}

impl Db {
    /// The state of the last exchanges: last export, last import, bundles read, pending.
    pub(crate) fn sync_state(&self) -> Result<SyncState> {
        let last_import: Option<String> =
            self.conn()
                .query_row("SELECT max(imported_at) FROM imported_bundles", [], |r| {
                    r.get(0)
                })?;
        let bundles: i64 =
            self.conn()
                .query_row("SELECT count(*) FROM imported_bundles", [], |r| r.get(0))?;
        Ok(SyncState {
            last_export: crate::store::meta(self.conn(), "last_export_at")?,
            last_import,
            bundles_imported: bundles,
            pending: self.pending_count()?,
            conflicts: self.conflicts()?.len() as u64,
            sync_folder: crate::store::meta(self.conn(), "sync_folder")?,
            last_sync: crate::store::meta(self.conn(), "last_sync_at")?,
            last_sync_error: crate::store::meta(self.conn(), "last_sync_error")?,
        })
    }
}
