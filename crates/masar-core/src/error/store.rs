//! Failures of the database file itself: opening, creating, migrating, writing.

use rusqlite::ErrorCode;

/// Failures to open, create, migrate, read or write a database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No database at the path.
    #[error("no Masar database at {0}: create one with `masar init`, or give the right path with --db or MASAR_DB")]
    NotFound(String),
    /// `init` would overwrite a database.
    #[error("a database already exists at {0}: choose another path with --db, or move the old one away first")]
    AlreadyExists(String),
    /// The file is not a database this key opens.
    #[error("{0} is not a Masar database, or its key file belongs to another database: check the path and restore both files from the same backup")]
    NotADatabase(String),
    /// Written by a newer Masar.
    #[error("this database was written by a newer version of Masar (schema {found}; this version reads up to {supported}): install the newer version to open it")]
    NewerSchema {
        /// The file's schema version.
        found: i64,
        /// This build's newest.
        supported: i64,
    },
    /// A migration step failed; its transaction rolled back, so the file is as it was.
    #[error("this database could not be upgraded from schema {from} to {to} (step {step} failed: {reason}); nothing was changed, so the version of Masar that wrote it still opens it: keep the file, and send this message to support")]
    MigrationFailed {
        /// The file's schema version, which it keeps.
        from: i64,
        /// This build's newest.
        to: i64,
        /// The step that failed.
        step: i64,
        /// What SQLite said.
        reason: String,
    },
    /// The disk is full.
    #[error("the disk is full: free some space and try again (nothing was changed)")]
    DiskFull,
    /// Another program holds the database.
    #[error("the database is busy in another Masar window or command: close it and try again")]
    Busy,
    /// A value stored in the database cannot be read back as what it should be.
    #[error("the stored {what} '{value}' cannot be read, so the database may be damaged: run `masar check`, and restore from a backup if it fails")]
    Corrupt {
        /// What was being read (a setting's name, a field).
        what: String,
        /// The stored text.
        value: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// Anything else SQLite reports.
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
}

impl StoreError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound(_) => "store.not_found",
            StoreError::AlreadyExists(_) => "store.already_exists",
            StoreError::NotADatabase(_) => "store.not_a_database",
            StoreError::NewerSchema { .. } => "store.newer_schema",
            StoreError::MigrationFailed { .. } => "store.migration_failed",
            StoreError::DiskFull => "store.disk_full",
            StoreError::Busy => "store.busy",
            StoreError::Corrupt { .. } => "store.corrupt",
            StoreError::Io { .. } => "store.io",
            StoreError::Sqlite(_) => "store.sqlite",
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Sqlite(e),
        }
    }
}
