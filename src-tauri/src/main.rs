//! The Masar window: setup, state, and the handler of the commands generated from the
//! core's list (`commands.rs`). Every command is a short adapter over the same core method
//! the `masar` CLI calls; errors cross as the core's `ErrorReport` (code, message, field,
//! reason, params) so the UI never parses text. No business rule lives here.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;

use std::path::PathBuf;
use std::sync::Mutex;

/// What the window holds: where the database is, and the open database once logged in.
pub struct AppState {
    /// The database file, and whether it is the demo's (whose accounts the login screen
    /// may show): the first-run screen may switch to the demo, kept beside the real one.
    pub db: Mutex<(PathBuf, bool)>,
    /// The open database with its logged-in user.
    pub masar: Mutex<Option<masar_core::Masar>>,
    /// Set to make the sync thread look at the folder setting again at once.
    pub sync_wake: std::sync::atomic::AtomicBool,
}

/// The database: `--db PATH`, else `$MASAR_DB`, else the OS data directory.
fn database_path() -> PathBuf {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--db") {
        if let Some(p) = args.get(i + 1) {
            return PathBuf::from(p);
        }
    }
    if let Some(p) = std::env::var_os("MASAR_DB").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("masar")
        .join("masar.db")
}

/// The log for support: in the OS log folder (on Linux `~/.local/share/org.masar.desktop/logs/`),
/// at most five files of 1 MB, and never a person's data: commands by name, errors by code,
/// counts. The window's About says where it is.
fn support_log() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    use tauri_plugin_log::{RotationStrategy, Target, TargetKind};
    tauri_plugin_log::Builder::new()
        .clear_targets()
        .target(Target::new(TargetKind::LogDir {
            file_name: Some("masar".into()),
        }))
        .max_file_size(1_000_000)
        .rotation_strategy(RotationStrategy::KeepSome(5))
        .level(log::LevelFilter::Warn)
        .level_for("masar_desktop", log::LevelFilter::Info)
        .build()
}

fn main() {
    masar_core::harden_process();
    let state = AppState {
        db: Mutex::new((
            database_path(),
            std::env::args().any(|a| a == "--demo")
                || std::env::var("MASAR_DEMO").is_ok_and(|v| v == "1"),
        )),
        masar: Mutex::new(None),
        sync_wake: std::sync::atomic::AtomicBool::new(false),
    };
    let commands = commands::handler();
    tauri::Builder::default()
        .manage(state)
        .plugin(support_log())
        // Each command by its name only: what was typed never reaches the log.
        .invoke_handler(move |invoke: tauri::ipc::Invoke<tauri::Wry>| {
            log::info!("command {}", invoke.message.command());
            commands(invoke)
        })
        .setup(|app| {
            log::info!("Masar {} started", masar_core::Versions::current().line());
            commands::back_up_when_due(app.handle().clone());
            commands::sync_by_itself(app.handle().clone());
            Ok(())
        })
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("Masar could not start its window: {e}");
            std::process::exit(1);
        });
}
