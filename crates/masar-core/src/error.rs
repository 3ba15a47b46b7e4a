//! The crate-wide error: one variant per core module, each with a stable code for UIs.

use crate::{auth::AuthError, domain::InputError, store::StoreError};

/// Any failure of a core operation, shaped by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database could not be opened, created, migrated or written.
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
    Sync(crate::sync::SyncError),
}

impl Error {
    /// A stable machine-readable code, so UIs never match on message text.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Store(e) => e.code(),
            Error::Auth(e) => e.code(),
            Error::Input(e) => e.code(),
            Error::Sync(e) => e.code(),
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store(StoreError::from(e))
    }
}

/// Result of a core operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
