//! The headless core of Masar: the encrypted store, the journey's domain, the one write
//! path that records every change, sync between laptops, and the indicators.
//!
//! Everything a user can do goes through [`Masar`], an open database with a logged-in
//! user. The `masar` CLI and the desktop window are thin adapters over its methods and
//! show its typed answers unchanged; no business rule lives outside this crate. The write
//! path, the op log, the keys and the bundle internals are private to the crate.
//!
//! The modules form layers that only point down (ARCHITECTURE.md draws them; `LAYERS` in
//! `layers.rs` is the source of truth and its test fails on an arrow going sideways or
//! up): leaves (`error`, `clock`, `fold`, `files`), the schema registry and the stages
//! (`schema`, `stage`), roles (`auth`), who sees whom, keys, search and trust, storage
//! (`store`), the change log (`changes`), money and identity, the domain, sync and
//! reports as siblings, the read models and backups (`views`, `backup`, on `Db`), the
//! `Masar` handle (`masar`), the demo, and the list of the window's commands (`faces`).
#![deny(missing_docs)]

// Leaves.
mod clock;
mod error;
mod files;
mod fold;
// The schema registry and the stages; roles; who sees whom.
mod access;
mod auth;
mod schema;
mod stage;
// Storage and keys.
mod keys;
mod search;
mod store;
mod trust;
// The change log.
mod changes;
// Which tranches count, judged on the log; who is who in the organisation.
mod identity;
mod money;
// Domain, sync, reports: siblings that never import one another.
mod domain;
mod report;
mod sync;
// The read models and backups, the handle, the demo, the window's list of commands.
mod backup;
pub mod demo;
pub mod faces;
mod masar;
mod views;

/// Log-in at a chosen argon2id cost, for the benchmark binaries (`benches/`); never in a
/// release package (`scripts/package.sh` builds `masar-cli` alone, without the feature).
#[cfg(feature = "benches")]
#[doc(hidden)]
pub mod bench;
/// Forgeries for the attack suite (`tests/system/attacks.rs`); never in a release build.
#[cfg(any(test, feature = "forging"))]
#[doc(hidden)]
pub mod forge;
#[cfg(test)]
mod layers;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod typescript;

pub use auth::{Permission, Role, User, MIN_PASSWORD_LEN};
pub use backup::{
    BackupDone, BackupFile, BackupJob, BackupSettings, Restored, BACKUP_EXTENSION, BACKUP_FORMAT,
};
pub use changes::Change;
pub use clock::{Clock, FixedClock, SystemClock};
pub use domain::{
    BudgetLine, BudgetLineView, BudgetSummary, CommitteeDecision, Decision, Disbursement, Fields,
    FollowUp, Intake, NewBudgetLine, NewFollowUp, NewIntake, NewPerson, NewProject, NewReferral,
    NewSession, NewTranche, NewUser, Person, PersonImport, Project, ProjectRules, Referral, Roster,
    Session, Stage, StageChange, StageEvent, UserSummary,
};
pub use error::{
    parse_date, split_pair, AuthError, BackupError, Error, ErrorClass, ErrorReport, InputError,
    Problem, Result, Secret, StoreError, SyncError,
};
pub use faces::Done;
pub use files::harden_process;
pub use identity::{
    is_encrypted_org_key, DeviceRow, Equivocation, OrgKeyExported, OrgKeyImported, RevocationDone,
    RootRotated,
};
pub use keys::{KdfCost, DEBUG_KDF_COST_VAR};
pub use masar::{Created, Enrolled, Masar, Status};
pub use money::{Held, HeldReason};
pub use report::{
    CounsellorOverdue, Dashboard, Dimension, DonorFormat, DonorReportDone, ExportDone,
    ExportFormat, ExportRecord, ExportTable, JourneyStep, Language, Measure, Report, Survival,
    SurvivalAt, SurvivalBy, SurvivalCurve, SurvivalStep,
};
pub use store::SCHEMA_VERSION;
pub use sync::{
    Conflict, Exported, FolderFile, FolderSync, FolderWatch, Imported, Resolution, Scope,
    SyncProgress, SyncStage, SYNC_SUBFOLDER,
};
pub use views::{
    AppInfo, Checked, Choices, Digest, Home, Id, Money, OverdueVisit, PasswordChanged, Permissions,
    PersonQuery, PersonSort, PersonsPage, ProjectQuery, ProjectRow, ProjectSort, ProjectTile,
    ProjectView, ProjectsPage, RecentEvent, ReferenceEntry, SessionInfo, SessionTile, SessionView,
    StageUndone, SyncState, Timeline, TimelineEvent, Versions, VisitDue,
};

/// The newest bundle format this version writes and reads.
pub const BUNDLE_FORMAT: u16 = sync::bundle::FORMAT;

/// What the fuzz target needs of the bundle reader, and nothing else.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    /// Runs the framing and signature checks on arbitrary bytes; true when they pass.
    pub fn read_header(data: &[u8]) -> bool {
        crate::sync::bundle::read_header(data).is_ok()
    }

    /// Runs the body decoder on arbitrary bytes; true when it reads `expected` changes.
    pub fn decode_body(body: &[u8], expected: u64) -> bool {
        crate::sync::bundle::decode_body(body, expected).is_ok()
    }
}
