//! The database itself: `ref`, `backup`, `restore`, `demo`, `status`, `history`, `check`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use masar_core::{Checked, Language, Masar, ReferenceEntry};
use serde_json::Value as Json;

use crate::common::{clock, credentials, id, open, Failure};
use crate::output::json;

/// `masar ref`: the organisation's reference lists.
#[derive(Subcommand)]
pub(crate) enum RefCmd {
    /// Add an entry (admin).
    Add {
        /// donor, sector, city, partner or currency.
        list: String,
        /// The entry, as it will be chosen in forms.
        name: String,
    },
    /// Retire an entry (admin).
    Remove {
        /// donor, sector, city, partner or currency.
        list: String,
        /// The entry to retire (records that name it keep it).
        name: String,
    },
    /// The active entries of a list.
    List {
        /// donor, sector, city, partner or currency.
        list: String,
    },
    /// The programme's currency, in which committees approve unless told otherwise:
    /// shown, or set to an entry of the currency list (admin).
    Currency {
        /// The currency to make the programme's (ISO 4217, e.g. MAD).
        code: Option<String>,
    },
}

impl RefCmd {
    /// Runs the `ref` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let mut m = open(path)?;
        match self {
            RefCmd::Add { list, name } => Ok(id(m.add_reference(&list, &name)?)),
            RefCmd::Remove { list, name } => {
                m.remove_reference(&list, &name)?;
                Ok(json(&ReferenceEntry { list, name }))
            }
            RefCmd::List { list } => Ok(json(&m.references(&list)?)),
            RefCmd::Currency { code: Some(code) } => {
                Ok(json(&Some(m.set_programme_currency(&code)?)))
            }
            RefCmd::Currency { code: None } => Ok(json(&m.programme_currency()?)),
        }
    }
}

/// `masar backup`: an encrypted copy of the database.
#[derive(Args)]
pub(crate) struct BackupArgs {
    /// The backup file to write (a new file; it ends in .masarbackup by custom).
    #[arg(long, conflicts_with_all = ["folder", "keep"])]
    out: Option<PathBuf>,
    /// Choose the backup folder (saved for the next backups and the window's): a USB
    /// stick or another disk is safest.
    #[arg(long)]
    folder: Option<PathBuf>,
    /// How many of this laptop's backups the folder keeps (1 to 365; saved; default 7).
    #[arg(long)]
    keep: Option<u32>,
}

impl BackupArgs {
    /// Writes the backup to `--out`, or into the backup folder.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let BackupArgs { out, folder, keep } = self;
        let mut m = open(path)?;
        if let Some(out) = out {
            return Ok(json(&m.backup(&out)?));
        }
        if folder.is_some() || keep.is_some() {
            let settings = m.backup_settings()?;
            // Saved for the window too, whose working folder is not this shell's.
            let folder = folder
                .map(|f| std::path::absolute(&f).unwrap_or(f).display().to_string())
                .unwrap_or(settings.folder);
            m.set_backup_settings(&folder, keep.unwrap_or(settings.keep), settings.automatic)?;
        }
        Ok(json(&m.backup_now()?))
    }
}

/// `masar restore`: a backup made a database again.
#[derive(Args)]
pub(crate) struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// Set aside the database already at --db (renamed, never deleted) and restore in its place.
    #[arg(long)]
    replace: bool,
}

impl RestoreArgs {
    /// Restores the backup to the database path.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let RestoreArgs { file, replace } = self;
        let (user, password) = credentials()?;
        let (_, restored) = Masar::restore(&file, path, &user, &password, replace, clock()?)?;
        Ok(json(&restored))
    }
}

/// `masar demo`: a fictional programme to try things on.
#[derive(Args)]
pub(crate) struct DemoArgs {
    /// The language of its organisation's and projects' names: fr, ar or en.
    #[arg(long, default_value = "fr")]
    lang: String,
}

impl DemoArgs {
    /// Fills the database, creating it if missing.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let language = Language::parse(&self.lang)?;
        let mut m = if path.exists() {
            open(path)?
        } else {
            let (user, password) = credentials()?;
            Masar::init(
                path,
                &masar_core::demo::organisation(language),
                "demo-laptop",
                &user,
                &password,
                clock()?,
            )?
            .0
        };
        let summary = masar_core::demo::fill(&mut m, 7, language)?;
        Ok(json(&summary))
    }
}

/// `masar status`: where this database stands.
pub(crate) fn status(path: &Path) -> Result<Json, Failure> {
    Ok(json(&open(path)?.status()?))
}

/// `masar history`: the change history of a record.
#[derive(Args)]
pub(crate) struct HistoryArgs {
    /// The record's id.
    id: String,
}

impl HistoryArgs {
    /// Answers the record's changes.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let m = open(path)?;
        Ok(json(&m.history(&self.id)?))
    }
}

/// `masar check`: the database file's integrity, failing when it is damaged.
pub(crate) fn check(path: &Path) -> Result<Json, Failure> {
    let m = open(path)?;
    let ok = m.integrity_check()?;
    if !ok {
        return Err(Failure {
            message: "the database file is damaged: restore it from a backup or from the supervisor's bundles".into(),
            status: masar_core::ErrorClass::Damaged.exit_status(),
        });
    }
    Ok(json(&Checked {
        ok,
        pending: m.pending_count()?,
    }))
}
