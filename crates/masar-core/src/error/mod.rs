//! The core's errors, one enum per concern, and the crate-wide [`Error`] that carries them.
//!
//! They sit at the bottom of the layers (see ARCHITECTURE.md) so that every layer can
//! return them without pointing up at the module that happens to produce one kind.

mod auth;
mod backup;
mod input;
mod store;
mod sync;

pub use auth::{AuthError, Secret};
pub use backup::BackupError;
pub(crate) use input::required_text;
pub use input::{parse_amount, parse_date, split_pair, InputError, Problem};
pub use store::StoreError;
pub use sync::SyncError;

use std::collections::BTreeMap;

use serde::Serialize;
use ts_rs::TS;

/// Any failure of a core operation, shaped by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database could not be opened, created, migrated, read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Log-in, key or permission problem.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The user's input was refused; nothing was changed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A bundle or an enrolment was refused; nothing of it was applied.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// A backup could not be written, or a backup file was not restored.
    #[error(transparent)]
    Backup(#[from] BackupError),
}

/// What kind of failure an error is, for exit statuses and for how a window reacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Refused input or a broken rule: fix the input (exit status 1).
    Refused,
    /// Wrong credentials, a disabled account, or a role without the permission (3).
    Auth,
    /// A damaged, foreign or newer file: a bundle, a key file, a database (4).
    Damaged,
    /// A fault of this machine or of Masar: disk, lock, database engine (5).
    Internal,
}

impl ErrorClass {
    /// The `masar` command's exit status for this class (2 is the usage error of the
    /// argument parser, 0 success).
    pub fn exit_status(self) -> u8 {
        match self {
            ErrorClass::Refused => 1,
            ErrorClass::Auth => 3,
            ErrorClass::Damaged => 4,
            ErrorClass::Internal => 5,
        }
    }
}

impl Error {
    /// A stable machine-readable code, so UIs never match on message text.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Store(e) => e.code(),
            Error::Auth(e) => e.code(),
            Error::Input(e) => e.code(),
            Error::Sync(e) => e.code(),
            Error::Backup(e) => e.code(),
        }
    }

    /// What kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Input(_) => ErrorClass::Refused,
            Error::Auth(AuthError::KeyFile { .. }) => ErrorClass::Damaged,
            Error::Auth(_) => ErrorClass::Auth,
            Error::Store(e) => match e {
                StoreError::NotFound(_) | StoreError::AlreadyExists(_) => ErrorClass::Refused,
                StoreError::NotADatabase(_)
                | StoreError::NewerSchema { .. }
                | StoreError::Corrupt { .. }
                | StoreError::MigrationFailed { .. } => ErrorClass::Damaged,
                StoreError::DiskFull
                | StoreError::Busy
                | StoreError::Io { .. }
                | StoreError::Sqlite(_) => ErrorClass::Internal,
            },
            Error::Sync(e) => sync_class(e),
            Error::Backup(e) => match e {
                BackupError::NotABackup(_)
                | BackupError::Damaged(_)
                | BackupError::NewerFormat { .. } => ErrorClass::Damaged,
                BackupError::NeedsAdministrator => ErrorClass::Auth,
                BackupError::TargetExists(_) | BackupError::OutExists(_) => ErrorClass::Refused,
                BackupError::File { .. } => ErrorClass::Internal,
            },
        }
    }

    /// The error as the window receives it.
    pub fn report(&self) -> ErrorReport {
        let path = |p: &str| Some(("", vec![("path", p.to_string())]));
        let (field, reason) = match self {
            Error::Input(i) => (i.field().map(str::to_owned), i.reason()),
            Error::Sync(
                SyncError::File { path: p, .. }
                | SyncError::Refused { path: p, .. }
                | SyncError::InFile { path: p, .. },
            ) => (None, path(p)),
            Error::Store(
                StoreError::NotFound(p)
                | StoreError::AlreadyExists(p)
                | StoreError::NotADatabase(p),
            ) => (None, path(p)),
            Error::Backup(
                BackupError::File { path: p, .. }
                | BackupError::OutExists(p)
                | BackupError::TargetExists(p),
            ) => (None, path(p)),
            // The window names the passphrase, not a password, in the user's language.
            Error::Auth(
                AuthError::WeakPassword {
                    what: Secret::EnrolmentPassphrase,
                    ..
                }
                | AuthError::GuessablePassword {
                    what: Secret::EnrolmentPassphrase,
                    ..
                },
            ) => (None, Some(("weak_passphrase", vec![]))),
            _ => (None, None),
        };
        let (reason, params) = match reason {
            Some((r, p)) => (
                (!r.is_empty()).then(|| r.to_string()),
                p.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            ),
            None => (None, BTreeMap::new()),
        };
        ErrorReport {
            code: self.code().to_string(),
            message: self.to_string(),
            field,
            reason,
            params,
        }
    }
}

fn sync_class(e: &SyncError) -> ErrorClass {
    match e {
        SyncError::InFile { error, .. } => sync_class(error),
        SyncError::Enrolment(_) | SyncError::Refused { .. } => ErrorClass::Refused,
        SyncError::File { .. } | SyncError::Seal(_) | SyncError::Keys(_) => ErrorClass::Internal,
        _ => ErrorClass::Damaged,
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store(StoreError::from(e))
    }
}

/// An error as a window shows it: a stable code to translate, the core's sentence, and
/// the field it concerns so a form can show it beside that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ErrorReport {
    /// Stable machine-readable code, such as `input.invalid`.
    pub code: String,
    /// The core's message, naming what is wrong and what to do.
    pub message: String,
    /// The field concerned, when there is one.
    pub field: Option<String>,
    /// The specific reason (`not_a_date`, `plan_frozen`, …), so a window can say it in
    /// the user's language.
    pub reason: Option<String>,
    /// What that sentence needs: the value typed, stages, dates, amounts.
    pub params: BTreeMap<String, String>,
}

impl ErrorReport {
    /// An error of a face itself (a lock, a worker, a file it reads), with no reason code.
    pub fn app(code: &str, message: impl Into<String>, field: Option<&str>) -> ErrorReport {
        ErrorReport {
            code: code.into(),
            message: message.into(),
            field: field.map(str::to_owned),
            reason: None,
            params: BTreeMap::new(),
        }
    }
}

/// Result of a core operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
