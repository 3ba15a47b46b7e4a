//! Laptops exchanging changes: `bundle`, `sync` (once or watching), `conflicts`, `digest`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use masar_core::{Digest, Masar, Resolution, Scope};
use serde_json::Value as Json;

use crate::common::{id, open, Failure};
use crate::output::{self, json};
use crate::progress;

/// `masar bundle`: bundles written and read by hand.
#[derive(Subcommand)]
pub(crate) enum BundleCmd {
    /// Write a bundle of what others may lack.
    Export {
        /// The bundle file to write, in the sync folder.
        #[arg(long)]
        out: PathBuf,
        /// Everything, not only what changed since the last export (supervisor).
        #[arg(long)]
        full: bool,
        /// Only what a laptop may see: city=NAME or counsellor=USER (repeatable; supervisor).
        #[arg(long)]
        scope: Vec<String>,
    },
    /// Read bundles: all are checked before any is applied.
    Import {
        /// Bundle files, or folders whose .masar files are read (links, pipes and devices
        /// in a folder are passed over).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

impl BundleCmd {
    /// Runs the `bundle` command given; a progress bar on a terminal unless `json_out`.
    pub(crate) fn run(self, path: &Path, json_out: bool) -> Result<Json, Failure> {
        match self {
            BundleCmd::Export { out, full, scope } => {
                let mut m = open(path)?;
                let scope = scope
                    .iter()
                    .map(|s| Scope::parse(s))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut bar = progress::Bar::new(json_out);
                Ok(json(&m.export_bundle(&out, full, &scope, |p| bar.tell(p))?))
            }
            BundleCmd::Import { files } => {
                let mut m = open(path)?;
                // A folder stands for the bundle files in it, as in the window.
                let files = Masar::bundle_files(&files)?;
                let paths: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
                let mut bar = progress::Bar::new(json_out);
                let done = m.import_bundles(&paths, |p| bar.tell(p))?;
                drop(bar);
                Ok(json(&done))
            }
        }
    }
}

/// `masar sync`: through the sync folder, once or watching it.
#[derive(Args)]
pub(crate) struct SyncArgs {
    /// The sync folder (saved for the next syncs and the window); the saved one by default.
    #[arg(long)]
    folder: Option<PathBuf>,
    /// Keep syncing until stopped (SIGTERM or Ctrl-C): whenever another laptop's bundle
    /// lands in the folder, when the folder appears, and every --every seconds; one line
    /// per sync (one JSON value per line with --json).
    #[arg(long)]
    watch: bool,
    /// Keep the merged export (a supervisor's laptop, one per organisation): one full
    /// bundle that lets the others' bundles be removed once everyone has them, and lets
    /// a laptop that joins late, or was away, catch up. Rewritten when something is new
    /// (with --watch, at most hourly).
    #[arg(long)]
    merged: bool,
    /// With --watch: seconds between syncs when nothing happens (default 300).
    #[arg(long, requires = "watch", value_parser = clap::value_parser!(u64).range(5..=86_400))]
    every: Option<u64>,
}

impl SyncArgs {
    /// Syncs once, or with `--watch` until stopped; a progress bar on a terminal unless
    /// `json_out`.
    pub(crate) fn run(self, path: &Path, json_out: bool) -> Result<Json, Failure> {
        match self {
            SyncArgs {
                folder,
                watch: true,
                every,
                merged,
            } => {
                let mut m = open(path)?;
                // Watching, the merged export (a full bundle) is rewritten at most hourly.
                let merged = merged.then_some(std::time::Duration::from_secs(3600));
                watch_folder(
                    &mut m,
                    folder.as_deref(),
                    merged,
                    std::time::Duration::from_secs(every.unwrap_or(300)),
                    json_out,
                )?;
                Ok(json(&serde_json::json!({ "stopped": true })))
            }
            SyncArgs { folder, merged, .. } => {
                let mut m = open(path)?;
                let mut bar = progress::Bar::new(json_out);
                // Saved for the window too, whose working folder is not this shell's.
                let folder = folder.map(|f| std::path::absolute(&f).unwrap_or(f));
                let done = m.sync_folder(
                    folder.as_deref(),
                    merged.then_some(std::time::Duration::ZERO),
                    |p| bar.tell(p),
                )?;
                drop(bar);
                Ok(json(&done))
            }
        }
    }
}

/// `masar sync --watch`: syncs now, then whenever another laptop's bundle lands in the
/// folder or `every` passes, until SIGTERM or SIGINT; a sync in progress finishes first
/// (each import is one transaction anyway). One line per sync on stdout.
fn watch_folder(
    m: &mut Masar,
    folder: Option<&Path>,
    merged: Option<std::time::Duration>,
    every: std::time::Duration,
    json_out: bool,
) -> Result<(), Failure> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| Failure::refused(format!("cannot listen for stop signals ({e})")))?;
    }
    // The first sync saves the folder given, or says that none is set.
    let folder = match folder {
        Some(f) => std::path::absolute(f).unwrap_or_else(|_| f.to_path_buf()),
        None => m
            .saved_sync_folder()?
            .ok_or_else(|| Failure::refused("no sync folder is set: give one with --folder"))?,
    };
    m.set_sync_folder(&folder.display().to_string())?;
    let mut watcher = masar_core::FolderWatch::new(&folder, m.device_id());
    let mut unreachable_said = false;
    while !stop.load(Ordering::SeqCst) {
        let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        match m.sync_folder(None, merged, |_| {}) {
            Ok(done) => {
                unreachable_said = false;
                let line = if json_out {
                    serde_json::to_string(&done).unwrap_or_default()
                } else {
                    output::folder_sync_line(&done)
                };
                output::write_stdout(&format!("{at} {line}\n")).map_err(|e| {
                    Failure::refused(format!("the log line could not be written ({e})"))
                })?;
            }
            Err(e) => {
                // A stick pulled or a share gone is said once, then waited for.
                let unreachable = matches!(
                    &e,
                    masar_core::Error::Sync(masar_core::SyncError::File { .. })
                );
                if !(unreachable && unreachable_said) {
                    eprintln!("{at} error: {e}");
                }
                unreachable_said = unreachable;
            }
        }
        watcher.wait(every, &stop);
    }
    Ok(())
}

/// `masar conflicts`: conflicts between laptops' changes.
#[derive(Subcommand)]
pub(crate) enum ConflictsCmd {
    /// The open conflicts.
    List,
    /// Resolve one: keep the value shown, take the other, or write a new one.
    Resolve {
        /// The conflict's id (`masar conflicts list`).
        id: String,
        /// kept or other.
        #[arg(long, conflicts_with = "value", required_unless_present = "value")]
        keep: Option<String>,
        /// A new value replacing both.
        #[arg(long)]
        value: Option<String>,
    },
}

impl ConflictsCmd {
    /// Runs the `conflicts` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        match self {
            ConflictsCmd::List => {
                let m = open(path)?;
                Ok(json(&m.conflicts()?))
            }
            ConflictsCmd::Resolve {
                id: cid,
                keep,
                value,
            } => {
                let mut m = open(path)?;
                m.resolve_conflict(&cid, Resolution::parse(keep.as_deref(), value)?)?;
                Ok(id(cid))
            }
        }
    }
}

/// `masar digest`: a hash of everything visible, equal where the same changes are held.
pub(crate) fn digest(path: &Path) -> Result<Json, Failure> {
    Ok(json(&Digest {
        digest: open(path)?.digest()?,
    }))
}
