//! Why a bundle or an enrolment was refused, or could not be written.

/// Why a bundle or an enrolment was refused. Nothing of a refused file is applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// Not a bundle at all.
    #[error("this is not a Masar bundle: check that you chose a file ending in .masar made by `bundle export`")]
    NotABundle,
    /// The file ends early.
    #[error("the bundle is truncated (the file ends early, perhaps an unfinished copy): copy it again from the sync folder")]
    Truncated,
    /// A byte differs from what its writer signed.
    #[error("the bundle's bytes were changed after it was written (its signature does not match): nothing was applied; ask for a fresh copy")]
    Changed,
    /// Readable but inconsistent inside.
    #[error("the bundle is damaged: {0}; nothing was applied")]
    Damaged(String),
    /// Written for another organisation.
    #[error("the bundle belongs to another organisation ({org}): it cannot be read here")]
    OtherOrganisation {
        /// The organisation it names.
        org: String,
    },
    /// Signed by a device this organisation never enrolled.
    #[error("the bundle was written by a device this organisation did not enrol ({device}): enrol the laptop with `masar enrol`, then export again from it")]
    UnknownDevice {
        /// The device it names.
        device: String,
    },
    /// A change whose author, role or identity does not hold.
    #[error("the bundle holds a change that cannot be trusted: {change}, claimed by {author}: {reason}. Nothing of it was applied; an administrator should check the laptop that wrote it")]
    Untrusted {
        /// Which change (entity, record, field, stamp, device).
        change: String,
        /// Who it claims made it.
        author: String,
        /// Why it is refused.
        reason: String,
    },
    /// Sealed with a bundle key this laptop never received.
    #[error("the bundle was sealed with an organisation key this laptop has not received (key {epoch}): if this laptop was not revoked, import a newer bundle from an administrator's laptop first")]
    NoKey {
        /// The key's epoch.
        epoch: u32,
    },
    /// Written by a newer Masar.
    #[error("the bundle was written by a newer version of Masar (format {found}; this version reads up to {supported}): update Masar on this laptop")]
    NewerFormat {
        /// The bundle's format.
        found: u16,
        /// This version's newest.
        supported: u16,
    },
    /// The enrolment file cannot be used.
    #[error("{0}")]
    Enrolment(String),
    /// Keys missing or unusable.
    #[error("{0}")]
    Keys(String),
    /// One of several files was refused.
    #[error("{path}: {error}")]
    InFile {
        /// The file.
        path: String,
        /// Why.
        #[source]
        error: Box<SyncError>,
    },
    /// A file could not be read or written.
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
    /// A file that is not what it should be (too large, already there).
    #[error("{path}: {reason}")]
    Refused {
        /// The file.
        path: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// This laptop could not write a bundle or an enrolment: a fault of this laptop, not of
    /// any file.
    #[error("the file could not be written on this laptop ({0}): try again, and report it if it persists")]
    Seal(String),
}

impl SyncError {
    /// A bundle or an enrolment file that could not be written at `path`.
    pub fn not_written(path: &std::path::Path, e: std::io::Error) -> SyncError {
        SyncError::File {
            path: path.display().to_string(),
            reason: format!(
                "cannot be written ({e}): check the folder exists, is writable and has space"
            ),
            source: e,
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::NotABundle => "sync.not_a_bundle",
            SyncError::Truncated => "sync.truncated",
            SyncError::Changed => "sync.changed",
            SyncError::Damaged(_) => "sync.damaged",
            SyncError::OtherOrganisation { .. } => "sync.other_organisation",
            SyncError::UnknownDevice { .. } => "sync.unknown_device",
            SyncError::NewerFormat { .. } => "sync.newer_format",
            SyncError::Untrusted { .. } => "sync.untrusted",
            SyncError::NoKey { .. } => "sync.no_key",
            SyncError::Enrolment(_) => "sync.enrolment",
            SyncError::Keys(_) => "sync.keys",
            SyncError::InFile { error, .. } => error.code(),
            SyncError::File { .. } | SyncError::Refused { .. } => "sync.file",
            SyncError::Seal(_) => "sync.seal",
        }
    }
}
