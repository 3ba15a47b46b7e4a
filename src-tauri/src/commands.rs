//! The commands the window may call, one adapter each over a core method. Every answer
//! is the core's typed answer, unchanged; every error is the core's `ErrorReport`. Every
//! command runs off the window's main thread (`async`), so a slow search, a report or the
//! log-in's key derivation never freezes the window; the open database's lock makes a
//! second command wait its turn.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use masar_core::{
    AppInfo, BackupDone, BackupSettings, Conflict, Dashboard, DeviceRow, DonorReportDone, Enrolled,
    Equivocation, ErrorReport, ExportDone, ExportFormat, ExportTable, Exported, FolderSync, Held,
    Home, Id, Imported, Language, Masar, OrgKeyExported, OrgKeyImported, Person, PersonQuery,
    PersonsPage, ProjectQuery, ProjectTile, ProjectView, ProjectsPage, Resolution, RevocationDone,
    Role, Scope, SessionInfo, SessionTile, SessionView, StageUndone, SyncState, SystemClock,
    Timeline, UserSummary,
};
use serde::Serialize;
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

fn pairs(fields: BTreeMap<String, String>) -> Vec<(String, String)> {
    fields.into_iter().collect()
}

/// A command that changes something and has nothing to say back.
#[derive(Serialize)]
pub struct Done;

#[tauri::command(async, rename_all = "snake_case")]
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

/// The database file this window opens, and whether it is the demo's.
fn database(state: &State<'_, AppState>) -> Result<(PathBuf, bool), ErrorReport> {
    Ok(state.db.lock().map_err(|_| lock_poisoned())?.clone())
}

/// Switches this window to a fictional programme, `demo.db` beside the real database
/// (never in it), made on first use with its names in `language`; the next start opens
/// the real database again.
#[tauri::command(async, rename_all = "snake_case")]
pub fn try_demo(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    language: String,
) -> Api<AppInfo> {
    let language = Language::parse(&language).map_err(report)?;
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

#[tauri::command(async, rename_all = "snake_case")]
pub fn create_org(
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

#[tauri::command(async, rename_all = "snake_case")]
pub fn join_org(
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

#[tauri::command(async, rename_all = "snake_case")]
pub fn login(state: State<'_, AppState>, user: String, password: String) -> Api<SessionInfo> {
    let m = Masar::open(
        &database(&state)?.0,
        &user,
        &password,
        Arc::new(SystemClock),
    )
    .map_err(report)?;
    start(&state, m)
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn logout(state: State<'_, AppState>) -> Api<Done> {
    *state.masar.lock().map_err(|_| lock_poisoned())? = None;
    Ok(Done)
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn set_language(state: State<'_, AppState>, language: String) -> Api<Done> {
    with(&state, |m| {
        m.set_preference("language", &language).map(|_| Done)
    })
}

/// The Arabic month names this user reads.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_months(state: State<'_, AppState>, months: String) -> Api<Done> {
    if !["maghreb", "levant", "standard"].contains(&months.as_str()) {
        return Err(report(masar_core::InputError::invalid(
            "months",
            &months,
            masar_core::Problem::NotOneOf(vec![
                "maghreb".into(),
                "levant".into(),
                "standard".into(),
            ]),
        )));
    }
    with(&state, |m| {
        m.set_preference("months", &months).map(|_| Done)
    })
}

/// The digits this user reads in Arabic.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_digits(state: State<'_, AppState>, digits: String) -> Api<Done> {
    if !["latn", "arab"].contains(&digits.as_str()) {
        return Err(report(masar_core::InputError::invalid(
            "digits",
            &digits,
            masar_core::Problem::NotOneOf(vec!["latn".into(), "arab".into()]),
        )));
    }
    with(&state, |m| {
        m.set_preference("digits", &digits).map(|_| Done)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn home(state: State<'_, AppState>) -> Api<Home> {
    with(&state, |m| m.home())
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn persons_search(state: State<'_, AppState>, text: String) -> Api<Vec<Person>> {
    with(&state, |m| {
        Ok(m.list_persons(Some(&text))?.into_iter().take(200).collect())
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn persons_page(state: State<'_, AppState>, query: PersonQuery) -> Api<PersonsPage> {
    with(&state, |m| m.persons_page(&query))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn projects_page(state: State<'_, AppState>, query: ProjectQuery) -> Api<ProjectsPage> {
    with(&state, |m| m.projects_page(&query))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn person_timeline(state: State<'_, AppState>, id: String) -> Api<Timeline> {
    with(&state, |m| m.timeline(&id))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn person_similar(
    state: State<'_, AppState>,
    given: String,
    family: String,
) -> Api<Vec<Person>> {
    with(&state, |m| m.similar_persons(&given, &family))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn person_add(
    state: State<'_, AppState>,
    fields: BTreeMap<String, String>,
    intake_date: Option<String>,
) -> Api<Id> {
    with(&state, |m| {
        m.register_person(&pairs(fields), intake_date.as_deref())
            .map(Id::from)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn person_set(
    state: State<'_, AppState>,
    id: String,
    fields: BTreeMap<String, String>,
) -> Api<Done> {
    with(&state, |m| m.set_person(&id, &pairs(fields)).map(|_| Done))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn person_erase(state: State<'_, AppState>, id: String) -> Api<Done> {
    with(&state, |m| m.erase_person(&id).map(|_| Done))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn intake_add(
    state: State<'_, AppState>,
    person: String,
    date: String,
    referral: Option<String>,
) -> Api<Id> {
    with(&state, |m| {
        m.add_intake(&person, &date, referral.as_deref())
            .map(Id::from)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn referral_add(
    state: State<'_, AppState>,
    person: String,
    partner: String,
    date: String,
) -> Api<Id> {
    with(&state, |m| {
        m.add_referral(&person, &partner, &date, None).map(Id::from)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn sessions(state: State<'_, AppState>) -> Api<Vec<SessionTile>> {
    with(&state, |m| m.sessions_view())
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn session(state: State<'_, AppState>, id: String) -> Api<SessionView> {
    with(&state, |m| m.session_view(&id))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn session_add(
    state: State<'_, AppState>,
    kind: String,
    date: String,
    topic: String,
    place: Option<String>,
    attendees: Vec<String>,
) -> Api<Id> {
    with(&state, |m| {
        m.add_session(&kind, &date, &topic, place.as_deref(), &attendees)
            .map(Id::from)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn session_roster(
    state: State<'_, AppState>,
    session: String,
    present: Vec<String>,
    absent: Vec<String>,
) -> Api<usize> {
    with(&state, |m| m.set_roster(&session, &present, &absent))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn projects(state: State<'_, AppState>) -> Api<Vec<ProjectTile>> {
    with(&state, |m| m.projects_view())
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn project(state: State<'_, AppState>, id: String) -> Api<ProjectView> {
    with(&state, |m| m.project_view(&id))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn project_add(
    state: State<'_, AppState>,
    title: String,
    kind: String,
    sector: String,
    members: Vec<String>,
) -> Api<Id> {
    with(&state, |m| {
        m.add_project(&title, &kind, &sector, &members, None)
            .map(Id::from)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn project_stage(
    state: State<'_, AppState>,
    id: String,
    stage: String,
    date: String,
) -> Api<Done> {
    with(&state, |m| m.set_stage(&id, &stage, &date).map(|_| Done))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn project_decide(
    state: State<'_, AppState>,
    id: String,
    decision: String,
    date: String,
    amount: Option<String>,
    currency: Option<String>,
    remarks: Option<String>,
) -> Api<Done> {
    with(&state, |m| {
        m.decide(
            &id,
            &decision,
            &date,
            amount.as_deref().filter(|a| !a.is_empty()),
            currency.as_deref(),
            remarks.as_deref(),
        )
        .map(|_| Done)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn project_set(
    state: State<'_, AppState>,
    id: String,
    fields: BTreeMap<String, String>,
) -> Api<Done> {
    with(&state, |m| m.set_project(&id, &pairs(fields)).map(|_| Done))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn budget_add(
    state: State<'_, AppState>,
    project: String,
    item: String,
    quantity: String,
    unit_cost: String,
) -> Api<Id> {
    with(&state, |m| {
        m.add_budget_line(&project, &item, &quantity, &unit_cost)
            .map(Id::from)
    })
}

#[tauri::command(rename_all = "snake_case")]
#[allow(clippy::too_many_arguments)]
pub fn disbursement_add(
    state: State<'_, AppState>,
    project: String,
    date: String,
    amount: String,
    currency: String,
    donor: String,
    mode: Option<String>,
    receipt: Option<String>,
    above_approved_because: Option<String>,
) -> Api<Id> {
    let (mode, receipt) = (mode.as_deref(), receipt.as_deref());
    with(&state, |m| {
        match above_approved_because
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            Some(reason) => m.add_disbursement_above_approved(
                &project, &date, &amount, &currency, &donor, mode, receipt, reason,
            ),
            None => m.add_disbursement(&project, &date, &amount, &currency, &donor, mode, receipt),
        }
        .map(Id::from)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn budget_set(
    state: State<'_, AppState>,
    line: String,
    fields: BTreeMap<String, String>,
) -> Api<Done> {
    with(&state, |m| {
        m.set_budget_line(&line, &pairs(fields)).map(|_| Done)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn budget_remove(state: State<'_, AppState>, line: String) -> Api<Done> {
    with(&state, |m| m.remove_budget_line(&line).map(|_| Done))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn project_undo_stage(state: State<'_, AppState>, id: String) -> Api<StageUndone> {
    with(&state, |m| {
        m.undo_stage(&id).map(|stage| StageUndone {
            id: id.clone(),
            stage,
        })
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn followup_add(
    state: State<'_, AppState>,
    project: String,
    fields: BTreeMap<String, String>,
) -> Api<Id> {
    with(&state, |m| {
        m.add_followup(&project, &pairs(fields)).map(Id::from)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn refs(state: State<'_, AppState>, list: String) -> Api<Vec<String>> {
    with(&state, |m| m.references(&list))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn ref_add(state: State<'_, AppState>, list: String, name: String) -> Api<Id> {
    with(&state, |m| m.add_reference(&list, &name).map(Id::from))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn ref_remove(state: State<'_, AppState>, list: String, name: String) -> Api<Done> {
    with(&state, |m| m.remove_reference(&list, &name).map(|_| Done))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn programme_currency(state: State<'_, AppState>) -> Api<Option<String>> {
    with(&state, |m| m.programme_currency())
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn set_programme_currency(state: State<'_, AppState>, currency: String) -> Api<Option<String>> {
    with(&state, |m| m.set_programme_currency(&currency).map(Some))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn users(state: State<'_, AppState>) -> Api<Vec<UserSummary>> {
    with(&state, |m| m.list_users())
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn user_add(
    state: State<'_, AppState>,
    name: String,
    role: String,
    password: String,
) -> Api<Id> {
    with(&state, |m| {
        m.add_user(&name, Role::from_input(&role)?, &password)
            .map(Id::from)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn devices(state: State<'_, AppState>) -> Api<Vec<DeviceRow>> {
    with(&state, |m| m.devices())
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn device_revoke(state: State<'_, AppState>, id: String) -> Api<RevocationDone> {
    with(&state, |m| m.revoke_device(&id))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn user_revoke(state: State<'_, AppState>, id: String) -> Api<RevocationDone> {
    with(&state, |m| m.revoke_user(&id))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn org_key_export(
    state: State<'_, AppState>,
    out: String,
    passphrase: String,
    sheet: bool,
) -> Api<OrgKeyExported> {
    with(&state, |m| {
        if sheet {
            m.export_org_key_sheet(Path::new(&out))
        } else {
            m.export_org_key(Path::new(&out), &passphrase)
        }
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn org_key_import(
    state: State<'_, AppState>,
    file: String,
    passphrase: String,
    password: String,
) -> Api<OrgKeyImported> {
    with(&state, |m| {
        let passphrase = (!passphrase.is_empty()).then_some(passphrase.as_str());
        m.import_org_key(Path::new(&file), passphrase, &password)
    })
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn enrol(state: State<'_, AppState>, out: String, passphrase: String) -> Api<Enrolled> {
    with(&state, |m| m.enrol(Path::new(&out), &passphrase, None))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn sync_state(state: State<'_, AppState>) -> Api<SyncState> {
    with(&state, |m| m.sync_state())
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn set_sync_folder(state: State<'_, AppState>, folder: String) -> Api<Done> {
    let done = with(&state, |m| m.set_sync_folder(&folder).map(|_| Done))?;
    state
        .sync_wake
        .store(true, std::sync::atomic::Ordering::SeqCst);
    Ok(done)
}

/// Syncs through the saved sync folder now (the window also does it by itself).
#[tauri::command(async, rename_all = "snake_case")]
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

#[tauri::command(async, rename_all = "snake_case")]
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

/// Imports bundles on a worker thread, telling the window how far it got, so the window
/// never freezes during a long merge. `files` may name folders: every `.masar` in them.
#[tauri::command(rename_all = "snake_case")]
pub async fn bundle_import(app: tauri::AppHandle, files: Vec<String>) -> Api<Imported> {
    let paths = Masar::bundle_files(&files.iter().map(PathBuf::from).collect::<Vec<_>>())
        .map_err(report)?;
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        use tauri::Manager;
        let state = handle.state::<AppState>();
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        with(&state, |m| {
            m.import_bundles(&refs, |p| {
                let _ = handle.emit("sync-progress", p);
            })
        })
    })
    .await
    .map_err(|e| ErrorReport::app("app.worker", e.to_string(), None))?
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn equivocations(state: State<'_, AppState>) -> Api<Vec<Equivocation>> {
    with(&state, |m| m.equivocations())
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn unexplained_tranches(state: State<'_, AppState>) -> Api<Vec<Held>> {
    with(&state, |m| m.unexplained_tranches())
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn conflicts(state: State<'_, AppState>) -> Api<Vec<Conflict>> {
    with(&state, |m| m.conflicts())
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn conflict_resolve(
    state: State<'_, AppState>,
    id: String,
    keep: Option<String>,
    value: Option<String>,
) -> Api<Done> {
    // The same reading of the choice as the command line's: anything unknown is refused.
    let how = Resolution::parse(keep.as_deref(), value).map_err(report)?;
    with(&state, |m| m.resolve_conflict(&id, how).map(|_| Done))
}

#[tauri::command(async, rename_all = "snake_case")]
pub fn dashboard(state: State<'_, AppState>, from: String, to: String) -> Api<Dashboard> {
    with(&state, |m| m.dashboard(&from, &to))
}

/// Where reports and exports are saved unless the user names another folder: their
/// documents folder.
#[tauri::command(async)]
pub fn export_folder() -> String {
    dirs::document_dir()
        .filter(|d| d.is_dir())
        .or_else(dirs::home_dir)
        .map(|d| d.display().to_string())
        .unwrap_or_default()
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

/// Writes the report to donors of a period into `folder`, as a PDF or a workbook.
#[tauri::command(async, rename_all = "snake_case")]
pub fn donor_report(
    state: State<'_, AppState>,
    from: String,
    to: String,
    donor: Option<String>,
    language: String,
    format: String,
    folder: String,
) -> Api<DonorReportDone> {
    let language = Language::parse(&language).map_err(report)?;
    let extension = if format == "xlsx" { "xlsx" } else { "pdf" };
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

/// Writes a table of a period (every date without one) into `folder`.
#[tauri::command(async, rename_all = "snake_case")]
pub fn export_table(
    state: State<'_, AppState>,
    what: String,
    format: String,
    from: Option<String>,
    to: Option<String>,
    pseudonymise: bool,
    folder: String,
) -> Api<ExportDone> {
    let table = ExportTable::parse(&what).map_err(report)?;
    let format = ExportFormat::parse(&format).map_err(report)?;
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

/// This laptop's backup folder, how many are kept, whether they are automatic, and the
/// backups there.
#[tauri::command(async, rename_all = "snake_case")]
pub fn backup_settings(state: State<'_, AppState>) -> Api<BackupSettings> {
    with(&state, |m| m.backup_settings())
}

/// Saves the backup folder, how many to keep and whether to back up daily by itself.
#[tauri::command(async, rename_all = "snake_case")]
pub fn set_backup_settings(
    state: State<'_, AppState>,
    folder: String,
    keep: u32,
    automatic: bool,
) -> Api<BackupSettings> {
    with(&state, |m| m.set_backup_settings(&folder, keep, automatic))
}

/// Writes a backup into the backup folder now; the copy is made without holding the open
/// database, so other commands go on meanwhile.
#[tauri::command(async, rename_all = "snake_case")]
pub fn backup_now(state: State<'_, AppState>) -> Api<BackupDone> {
    let job = with(&state, |m| m.backup_job(None))?;
    let made = job.run();
    with(&state, |m| m.record_backup(&made))?;
    made.map_err(report)
}

/// Makes the daily backup by itself when it is due: a few seconds after start (or a
/// log-in), then checked every half minute, never on the demo. It waits for no command:
/// when the database is in use it tries again at the next check.
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
