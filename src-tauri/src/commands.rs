//! The commands the window may call: generated from the core's one list
//! (`masar_core::for_each_command!`), so the window's typed calls (`ui/src/lib/commands.ts`)
//! and these handlers cannot drift apart. A `db` command is one core call on the open
//! database; an `app` command needs the window itself and is written in [`window`] under
//! the same name and arguments. Every answer is the core's typed answer, unchanged; every
//! error is the core's `ErrorReport`. Every command runs off the window's main thread
//! (`async`), so a slow search, a report or the log-in's key derivation never freezes the
//! window; the open database's lock makes a second command wait its turn.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use masar_core::{ErrorReport, Masar, SessionInfo};
use tauri::{Emitter, State};

use crate::AppState;

type Api<T> = Result<T, ErrorReport>;

fn report(e: impl Into<masar_core::Error>) -> ErrorReport {
    let report = e.into().report();
    // The code says what went wrong; the message may quote what was typed, so it stays out.
    log::warn!("refused or failed: {}", report.code);
    report
}

fn not_logged_in() -> ErrorReport {
    ErrorReport::app("auth.logged_out", "log in first", None)
}

fn lock_poisoned() -> ErrorReport {
    ErrorReport::app(
        "app.lock_poisoned",
        "an earlier operation stopped in the middle, and Masar no longer uses the open database to keep it safe: \
         close Masar and start it again (what that operation had not finished was not saved)",
        None,
    )
}

/// Runs `f` on the open database.
fn with<T>(
    state: &State<'_, AppState>,
    f: impl FnOnce(&mut Masar) -> masar_core::Result<T>,
) -> Api<T> {
    let mut guard = state.masar.lock().map_err(|_| lock_poisoned())?;
    let m = guard.as_mut().ok_or_else(not_logged_in)?;
    f(m).map_err(report)
}

/// Keeps a newly opened database and answers with the session.
fn start(state: &State<'_, AppState>, m: Masar) -> Api<SessionInfo> {
    let info = m.session_info(database(state)?.1).map_err(report)?;
    log::info!("logged in with the role {}", info.role);
    *state.masar.lock().map_err(|_| lock_poisoned())? = Some(m);
    Ok(info)
}

/// The database file this window opens, and whether it is the demo's.
fn database(state: &State<'_, AppState>) -> Result<(PathBuf, bool), ErrorReport> {
    Ok(state.db.lock().map_err(|_| lock_poisoned())?.clone())
}

/// Turns the core's list into Tauri commands and the handler that knows them all.
macro_rules! tauri_commands {
    (
        db { $( $(#[doc = $doc:literal])* $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty = $body:expr ; )* }
        app { $( $(#[doc = $adoc:literal])* $aname:ident ( $($aarg:ident : $aty:ty),* ) -> $aret:ty ; )* }
    ) => {
        $(
            $(#[doc = $doc])*
            #[tauri::command(async, rename_all = "snake_case")]
            pub fn $name(state: State<'_, AppState>, $($arg: $ty),*) -> Api<$ret> {
                with(&state, $body)
            }
        )*
        $(
            $(#[doc = $adoc])*
            #[tauri::command(async, rename_all = "snake_case")]
            // The window's export forms send their six choices as they are.
            #[allow(clippy::too_many_arguments)]
            pub fn $aname(app: tauri::AppHandle, state: State<'_, AppState>, $($aarg: $aty),*) -> Api<$aret> {
                window::$aname(app, state, $($aarg),*)
            }
        )*
        /// The handler of every command of the list.
        pub fn handler() -> Box<dyn Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync> {
            Box::new(tauri::generate_handler![$($name,)* $($aname,)*])
        }
    };
}

masar_core::for_each_command!(tauri_commands);

/// The commands that need the window itself: its handle and events, the database file
/// before a log-in, the folders of this computer.
mod window {
    use masar_core::{
        AppInfo, BackupDone, Done, DonorFormat, DonorReportDone, ExportDone, ExportFormat,
        ExportTable, Exported, FolderSync, Imported, Language, Scope, SystemClock,
    };

    use super::*;

    pub fn app_info(app: tauri::AppHandle, state: State<'_, AppState>) -> Api<AppInfo> {
        use tauri::Manager;
        // The operating system's own setting (environment variables on Linux, the user's
        // settings on Windows and macOS): the web view's navigator.language may not know it.
        let (db, demo) = database(&state)?;
        let mut info = AppInfo::new(&db, demo, sys_locale::get_locale());
        info.log_folder = app
            .path()
            .app_log_dir()
            .ok()
            .map(|d| d.display().to_string());
        Ok(info)
    }

    pub fn try_demo(
        app: tauri::AppHandle,
        state: State<'_, AppState>,
        language: Language,
    ) -> Api<AppInfo> {
        let (real, _) = database(&state)?;
        let demo = real.with_file_name("demo.db");
        if !demo.exists() {
            let organisation = masar_core::demo::organisation(language);
            let (mut m, _) = Masar::init(
                &demo,
                &organisation,
                "demo-laptop",
                "demo",
                masar_core::demo::DEMO_PASSWORD,
                Arc::new(SystemClock),
            )
            .map_err(report)?;
            masar_core::demo::fill(&mut m, 7, language).map_err(report)?;
        }
        *state.db.lock().map_err(|_| lock_poisoned())? = (demo, true);
        log::info!("switched to the demo programme");
        app_info(app, state)
    }

    pub fn create_org(
        _app: tauri::AppHandle,
        state: State<'_, AppState>,
        org: String,
        device: String,
        user: String,
        password: String,
    ) -> Api<SessionInfo> {
        let (m, _) = Masar::init(
            &database(&state)?.0,
            &org,
            &device,
            &user,
            &password,
            Arc::new(SystemClock),
        )
        .map_err(report)?;
        start(&state, m)
    }

    pub fn join_org(
        _app: tauri::AppHandle,
        state: State<'_, AppState>,
        file: String,
        passphrase: String,
        device: String,
        user: String,
        password: String,
    ) -> Api<SessionInfo> {
        let bytes = std::fs::read(&file).map_err(|e| {
            ErrorReport::app(
                "sync.file",
                format!("{file}: cannot be read ({e}): check the path"),
                Some("file"),
            )
        })?;
        let (m, _) = Masar::join(
            &database(&state)?.0,
            &bytes,
            &passphrase,
            &device,
            &user,
            &password,
            Arc::new(SystemClock),
        )
        .map_err(report)?;
        start(&state, m)
    }

    pub fn login(
        _app: tauri::AppHandle,
        state: State<'_, AppState>,
        user: String,
        password: String,
    ) -> Api<SessionInfo> {
        let m = Masar::open(
            &database(&state)?.0,
            &user,
            &password,
            Arc::new(SystemClock),
        )
        .map_err(report)?;
        start(&state, m)
    }

    pub fn logout(_app: tauri::AppHandle, state: State<'_, AppState>) -> Api<Done> {
        *state.masar.lock().map_err(|_| lock_poisoned())? = None;
        Ok(Done)
    }

    pub fn set_sync_folder(
        _app: tauri::AppHandle,
        state: State<'_, AppState>,
        folder: String,
    ) -> Api<Done> {
        let done = with(&state, |m| m.set_sync_folder(&folder).map(|_| Done))?;
        state
            .sync_wake
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(done)
    }

    pub fn sync_now(app: tauri::AppHandle, state: State<'_, AppState>) -> Api<FolderSync> {
        let done = with(&state, |m| {
            m.sync_folder(None, None, |p| {
                let _ = app.emit("sync-progress", p);
            })
        });
        if let Ok(s) = with(&state, |m| m.sync_state()) {
            let _ = app.emit("sync-done", &s);
        }
        done
    }

    pub fn bundle_export(
        app: tauri::AppHandle,
        state: State<'_, AppState>,
        out: String,
        full: bool,
        scope: Option<String>,
    ) -> Api<Exported> {
        let scope: Vec<Scope> = match scope.filter(|s| !s.is_empty()) {
            Some(s) => vec![Scope::parse(&s).map_err(report)?],
            None => Vec::new(),
        };
        with(&state, |m| {
            m.export_bundle(Path::new(&out), full, &scope, |p| {
                let _ = app.emit("sync-progress", p);
            })
        })
    }

    /// Imports bundles, telling the window how far it got, so a long merge shows its
    /// progress. `files` may name folders: every `.masar` in them.
    pub fn bundle_import(
        app: tauri::AppHandle,
        state: State<'_, AppState>,
        files: Vec<String>,
    ) -> Api<Imported> {
        let paths = Masar::bundle_files(&files.iter().map(PathBuf::from).collect::<Vec<_>>())
            .map_err(report)?;
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        with(&state, |m| {
            m.import_bundles(&refs, |p| {
                let _ = app.emit("sync-progress", p);
            })
        })
    }

    /// Where reports and exports are saved unless the user names another folder: their
    /// documents folder.
    pub fn export_folder(_app: tauri::AppHandle, _state: State<'_, AppState>) -> Api<String> {
        Ok(dirs::document_dir()
            .filter(|d| d.is_dir())
            .or_else(dirs::home_dir)
            .map(|d| d.display().to_string())
            .unwrap_or_default())
    }

    /// A file in `folder` named from its parts, each kept to letters, digits and dashes.
    fn file_in(folder: &str, parts: &[&str], extension: &str) -> Result<PathBuf, ErrorReport> {
        if folder.trim().is_empty() {
            return Err(report(masar_core::InputError::Missing {
                field: "folder".into(),
                hint: "choose the folder to save the file in".into(),
            }));
        }
        let name: Vec<String> = parts
            .iter()
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                p.chars()
                    .map(|c| {
                        if c.is_alphanumeric() || c == '-' {
                            c
                        } else {
                            '-'
                        }
                    })
                    .collect()
            })
            .collect();
        Ok(Path::new(folder.trim()).join(format!("{}.{extension}", name.join("-"))))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn donor_report(
        _app: tauri::AppHandle,
        state: State<'_, AppState>,
        from: String,
        to: String,
        donor: Option<String>,
        language: Language,
        format: DonorFormat,
        folder: String,
    ) -> Api<DonorReportDone> {
        let extension = if format == DonorFormat::Xlsx {
            "xlsx"
        } else {
            "pdf"
        };
        let donor = donor.filter(|d| !d.trim().is_empty());
        let out = file_in(
            &folder,
            &[
                "masar-donor-report",
                donor.as_deref().unwrap_or(""),
                &from,
                &to,
                language.as_str(),
            ],
            extension,
        )?;
        with(&state, |m| {
            m.donor_report(&from, &to, donor.as_deref(), language, &out)
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub fn export_table(
        _app: tauri::AppHandle,
        state: State<'_, AppState>,
        table: ExportTable,
        format: ExportFormat,
        from: Option<String>,
        to: Option<String>,
        pseudonymise: bool,
        folder: String,
    ) -> Api<ExportDone> {
        let (from, to) = (
            from.filter(|d| !d.trim().is_empty()),
            to.filter(|d| !d.trim().is_empty()),
        );
        let extension = if format == ExportFormat::Xlsx {
            "xlsx"
        } else {
            "csv"
        };
        let kind = if format == ExportFormat::Hxl {
            "hxl"
        } else {
            ""
        };
        let pseudonymised = if pseudonymise { "pseudonymised" } else { "" };
        let out = file_in(
            &folder,
            &[
                "masar",
                table.as_str(),
                kind,
                pseudonymised,
                from.as_deref().unwrap_or(""),
                to.as_deref().unwrap_or(""),
            ],
            extension,
        )?;
        with(&state, |m| {
            m.export_table(
                table,
                format,
                (from.as_deref(), to.as_deref()),
                pseudonymise,
                &out,
            )
        })
    }

    pub fn backup_now(_app: tauri::AppHandle, state: State<'_, AppState>) -> Api<BackupDone> {
        let job = with(&state, |m| m.backup_job(None))?;
        let made = job.run();
        with(&state, |m| m.record_backup(&made))?;
        made.map_err(report)
    }
}

pub fn back_up_when_due(app: tauri::AppHandle) {
    use tauri::Manager;
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(5));
        loop {
            let state = app.state::<AppState>();
            let demo = state.db.lock().map(|d| d.1).unwrap_or(true);
            // The database is held only to read the settings and to record the outcome.
            let job = match state.masar.try_lock() {
                Ok(guard) if !demo => guard.as_ref().and_then(|m| m.due_backup().ok().flatten()),
                _ => None,
            };
            if let Some(job) = job {
                let made = job.run();
                match &made {
                    Ok(done) => {
                        log::info!(
                            "automatic backup written ({} bytes, {} older removed)",
                            done.bytes,
                            done.removed.len()
                        );
                        let _ = app.emit("backup-made", done);
                    }
                    Err(e) => log::warn!("automatic backup failed: {}", e.code()),
                }
                if let Ok(mut guard) = state.masar.lock() {
                    if let Some(m) = guard.as_mut() {
                        let _ = m.record_backup(&made);
                    }
                }
            }
            std::thread::sleep(std::time::Duration::from_secs(30));
        }
    });
}

/// Syncs through the sync folder by itself: as soon as someone is logged in and a folder
/// is set, then whenever another laptop's bundle lands there, when the folder appears
/// (a stick plugged in), every five minutes, and when the folder setting changes. Each
/// sync emits `sync-done` with the new `SyncState`, so the window shows it without a
/// click. The open database is held only while a sync runs, as a click on Import would.
pub fn sync_by_itself(app: tauri::AppHandle) {
    use std::sync::atomic::Ordering;
    use tauri::Manager;
    std::thread::spawn(move || {
        let mut watch: Option<(PathBuf, String, masar_core::FolderWatch)> = None;
        loop {
            let state = app.state::<AppState>();
            let here = state.masar.lock().ok().and_then(|guard| {
                let m = guard.as_ref()?;
                // Asked every second while no folder is set: one setting, not the whole state.
                let folder = m.saved_sync_folder().ok()??;
                Some((folder, m.device_id().to_string()))
            });
            let Some((folder, device)) = here else {
                watch = None;
                std::thread::sleep(std::time::Duration::from_secs(1));
                continue;
            };
            if watch
                .as_ref()
                .is_none_or(|(f, d, _)| *f != folder || *d != device)
            {
                let w = masar_core::FolderWatch::new(&folder, &device);
                watch = Some((folder.clone(), device.clone(), w));
            }
            state.sync_wake.store(false, Ordering::SeqCst);
            let synced = state.masar.lock().ok().and_then(|mut guard| {
                let m = guard.as_mut()?;
                let outcome = m.sync_folder(None, None, |p| {
                    let _ = app.emit("sync-progress", p);
                });
                match &outcome {
                    Ok(done) => log::info!(
                        "synced by itself: {} changes exported, {} bundles read, {} changes imported, {} refused, {} waiting",
                        done.exported.as_ref().map_or(0, |e| e.changes),
                        done.imported.bundles,
                        done.imported.applied,
                        done.refused.len(),
                        done.waiting.len()
                    ),
                    Err(e) => log::warn!("sync by itself failed: {}", e.code()),
                }
                m.sync_state().ok()
            });
            if let Some(state) = synced {
                let _ = app.emit("sync-done", &state);
            }
            if let Some((_, _, w)) = watch.as_mut() {
                w.wait(std::time::Duration::from_secs(300), &state.sync_wake);
            }
        }
    });
}
