//! Why a backup could not be written, or a backup file was not restored.

/// Why a backup or a restore failed. A failed backup leaves no file; a failed restore
/// leaves the target as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// The file does not start as a backup does.
    #[error("{0} is not a Masar backup: choose a file written by `masar backup` or by the window's backups (its name ends in .masarbackup)")]
    NotABackup(String),
    /// The checksum does not match, or the file ends early.
    #[error("the backup {0} is damaged or incomplete (its checksum does not match): nothing was restored; use another backup, or copy this one again from where it was kept")]
    Damaged(String),
    /// Written by a newer Masar.
    #[error("this backup was written by a newer version of Masar (backup format {found}; this version reads up to {supported}): install the newer version to restore it")]
    NewerFormat {
        /// The file's format.
        found: u16,
        /// This build's newest.
        supported: u16,
    },
    /// Restoring gives the laptop a new identity, which only the organisation's key can certify.
    #[error("only an administrator of the backed-up laptop can restore it (their account certifies the restored laptop's new identity): log in as one")]
    NeedsAdministrator,
    /// A database is already at the restore's target.
    #[error("a database already exists at {0}: restore to another path with --db, or add --replace to set the present one aside (it is renamed, never deleted)")]
    TargetExists(String),
    /// The backup's file name is taken.
    #[error("{0} already exists: a backup never overwrites a file (it may be the only good copy); choose another name")]
    OutExists(String),
    /// A file or folder could not be read or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What went wrong and what to do.
        reason: String,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
}

impl BackupError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::NotABackup(_) => "backup.not_a_backup",
            BackupError::Damaged(_) => "backup.damaged",
            BackupError::NewerFormat { .. } => "backup.newer_format",
            BackupError::NeedsAdministrator => "backup.needs_administrator",
            BackupError::TargetExists(_) => "backup.target_exists",
            BackupError::OutExists(_) => "backup.out_exists",
            BackupError::File { .. } => "backup.file",
        }
    }

    /// A file error, with what to check.
    pub(crate) fn file(path: &std::path::Path, doing: &str, e: std::io::Error) -> BackupError {
        let reason = if e.kind() == std::io::ErrorKind::StorageFull {
            format!("cannot be {doing}: the disk is full; free some space or choose another folder (nothing was changed)")
        } else {
            format!("cannot be {doing} ({e}): check the folder exists, is writable and has space")
        };
        BackupError::File {
            path: path.display().to_string(),
            reason,
            source: e,
        }
    }
}
