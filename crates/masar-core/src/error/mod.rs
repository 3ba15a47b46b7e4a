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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The core's sources, read as text: the codes are string literals in them.
    fn sources() -> Vec<(String, String)> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut out = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(root)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("the sources") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("a source");
                    out.push((path.display().to_string(), text));
                }
            }
        }
        out
    }

    /// The string literals right after each occurrence of `marker` (skipping blanks).
    fn literals_after(text: &str, marker: &str) -> Vec<String> {
        text.match_indices(marker)
            .filter_map(|(at, _)| {
                let rest = text[at + marker.len()..].trim_start();
                let rest = rest.strip_prefix('"')?;
                let end = rest.find('"')?;
                Some(rest[..end].to_string())
            })
            .collect()
    }

    /// Every code a refusal can carry (`error.<code>`) and every reason
    /// (`error.reason.<reason>`), found in the sources: the `code` methods of the error
    /// enums, `Problem`'s codes, every rule a module raises, and the reasons `report` and
    /// `reason` name.
    fn codes_and_reasons() -> (BTreeSet<String>, BTreeSet<String>) {
        let (mut codes, mut reasons) = (BTreeSet::new(), BTreeSet::new());
        let families = ["auth.", "backup.", "input.", "store.", "sync."];
        for (path, text) in sources() {
            if path.contains("/error/") {
                for code in literals_after(&text, "=>") {
                    if families.iter().any(|f| code.starts_with(f)) {
                        codes.insert(code);
                    } else if !code.is_empty()
                        && code.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    {
                        reasons.insert(code);
                    }
                }
                for marker in ["Some((", "Some(( "] {
                    for reason in literals_after(&text, marker) {
                        if !reason.is_empty() {
                            reasons.insert(reason);
                        }
                    }
                }
            }
            reasons.extend(literals_after(&text, "InputError::rule("));
        }
        reasons.retain(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        // The name of a secret the policy quotes in English only is not a reason.
        reasons.remove("password");
        (codes, reasons)
    }

    #[test]
    fn every_code_the_core_gives_has_words_in_every_catalogue() {
        let (codes, reasons) = codes_and_reasons();
        assert!(
            codes.len() >= 45,
            "found only {} codes: is the scan broken?",
            codes.len()
        );
        assert!(
            reasons.len() > 40,
            "found only {} reasons: is the scan broken?",
            reasons.len()
        );
        let mut missing = Vec::new();
        for lang in ["en", "fr", "ar"] {
            let path = format!("{}/../../i18n/{lang}.json", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("a catalogue");
            let catalogue: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&text).expect("json");
            let keys = codes
                .iter()
                .map(|c| format!("error.{c}"))
                .chain(reasons.iter().map(|r| format!("error.reason.{r}")));
            missing.extend(
                keys.filter(|k| !catalogue.contains_key(k))
                    .map(|k| format!("{lang}: {k}")),
            );
        }
        assert!(
            missing.is_empty(),
            "{} entries missing:\n{}",
            missing.len(),
            missing.join("\n")
        );
    }
}
