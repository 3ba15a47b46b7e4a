//! The commands the window may call, one adapter each over a core method.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use masar_core::report::Dimension;
use masar_core::sync::{Resolution, Scope};
use masar_core::{Masar, Role, SystemClock};
use serde::Serialize;
use serde_json::{json, Value as Json};
use tauri::{Emitter, State};

use crate::AppState;

/// An error as the UI receives it: a stable code, a message for the user, and the field
/// it concerns when there is one.
#[derive(Debug, Serialize)]
pub struct ApiError {
    code: String,
    message: String,
    field: Option<String>,
}

impl From<masar_core::Error> for ApiError {
    fn from(e: masar_core::Error) -> Self {
        let field = match &e {
            masar_core::Error::Input(i) => i.field().map(str::to_owned),
            _ => None,
        };
        ApiError { code: e.code().to_string(), message: e.to_string(), field }
    }
}

impl From<masar_core::domain::InputError> for ApiError {
    fn from(e: masar_core::domain::InputError) -> Self {
        masar_core::Error::from(e).into()
    }
}

type Api<T = Json> = Result<T, ApiError>;

fn not_logged_in() -> ApiError {
    ApiError { code: "auth.logged_out".into(), message: "log in first".into(), field: None }
}

/// Runs `f` on the open database.
fn with<T>(state: &State<'_, AppState>, f: impl FnOnce(&mut Masar) -> masar_core::Result<T>) -> Api<T> {
    let mut guard = state.masar.lock().map_err(|_| not_logged_in())?;
    let m = guard.as_mut().ok_or_else(not_logged_in)?;
    Ok(f(m)?)
}

fn id(id: String) -> Json {
    json!({ "id": id })
}

fn pairs(fields: Json) -> Vec<(String, String)> {
    fields
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), match v {
                    Json::String(s) => s.clone(),
                    Json::Null => String::new(),
                    other => other.to_string(),
                }))
                .collect()
        })
        .unwrap_or_default()
}

fn session_info(m: &Masar, demo: bool) -> masar_core::Result<Json> {
    let s = m.status()?;
    Ok(json!({
        "user": s.user, "role": s.role, "org_name": s.org_name, "device_name": s.device_name,
        "language": m.preference("language")?, "demo": demo,
    }))
}

#[tauri::command(rename_all = "snake_case")]
pub fn app_info(state: State<'_, AppState>) -> Api {
    Ok(json!({
        "db": state.db.display().to_string(),
        "exists": state.db.exists(),
        "demo": state.demo,
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

#[tauri::command(rename_all = "snake_case")]
pub fn create_org(state: State<'_, AppState>, org: String, device: String, user: String, password: String) -> Api {
    let (m, _) = Masar::init(&state.db, &org, &device, &user, &password, Arc::new(SystemClock))?;
    let info = session_info(&m, state.demo)?;
    *state.masar.lock().map_err(|_| not_logged_in())? = Some(m);
    Ok(info)
}

#[tauri::command(rename_all = "snake_case")]
pub fn join_org(state: State<'_, AppState>, file: String, passphrase: String, device: String, user: String, password: String) -> Api {
    let bytes = std::fs::read(&file).map_err(|e| ApiError { code: "sync.file".into(), message: format!("{file}: cannot be read ({e})"), field: Some("file".into()) })?;
    let (m, _) = Masar::join(&state.db, &bytes, &passphrase, &device, &user, &password, Arc::new(SystemClock))?;
    let info = session_info(&m, state.demo)?;
    *state.masar.lock().map_err(|_| not_logged_in())? = Some(m);
    Ok(info)
}

#[tauri::command(rename_all = "snake_case")]
pub fn login(state: State<'_, AppState>, user: String, password: String) -> Api {
    let m = Masar::open(&state.db, &user, &password, Arc::new(SystemClock))?;
    let info = session_info(&m, state.demo)?;
    *state.masar.lock().map_err(|_| not_logged_in())? = Some(m);
    Ok(info)
}

#[tauri::command(rename_all = "snake_case")]
pub fn logout(state: State<'_, AppState>) -> Api {
    *state.masar.lock().map_err(|_| not_logged_in())? = None;
    Ok(Json::Null)
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_language(state: State<'_, AppState>, language: String) -> Api {
    with(&state, |m| m.set_preference("language", &language).map(|_| Json::Null))
}

#[tauri::command(rename_all = "snake_case")]
pub fn home(state: State<'_, AppState>) -> Api {
    with(&state, |m| m.home())
}

#[tauri::command(rename_all = "snake_case")]
pub fn persons_search(state: State<'_, AppState>, text: String) -> Api {
    with(&state, |m| Ok(Json::Array(m.list_persons(Some(&text))?.iter().take(200).map(|r| r.to_json()).collect())))
}

#[tauri::command(rename_all = "snake_case")]
pub fn person_timeline(state: State<'_, AppState>, id: String) -> Api {
    with(&state, |m| m.timeline(&id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn person_similar(state: State<'_, AppState>, given: String, family: String) -> Api {
    with(&state, |m| Ok(Json::Array(m.similar_persons(&given, &family)?.iter().map(|r| r.to_json()).collect())))
}

#[tauri::command(rename_all = "snake_case")]
pub fn person_add(state: State<'_, AppState>, fields: Json, intake_date: Option<String>) -> Api {
    with(&state, |m| m.register_person(&pairs(fields), intake_date.as_deref()).map(id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn person_set(state: State<'_, AppState>, id: String, fields: Json) -> Api {
    with(&state, |m| m.set_person(&id, &pairs(fields)).map(|_| Json::Null))
}

#[tauri::command(rename_all = "snake_case")]
pub fn person_erase(state: State<'_, AppState>, id: String) -> Api {
    with(&state, |m| m.erase_person(&id).map(|_| Json::Null))
}

#[tauri::command(rename_all = "snake_case")]
pub fn intake_add(state: State<'_, AppState>, person: String, date: String, referral: Option<String>) -> Api {
    with(&state, |m| m.add_intake(&person, &date, referral.as_deref()).map(id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn referral_add(state: State<'_, AppState>, person: String, partner: String, date: String) -> Api {
    with(&state, |m| m.add_referral(&person, &partner, &date, None).map(id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn sessions(state: State<'_, AppState>) -> Api {
    with(&state, |m| m.sessions_view())
}

#[tauri::command(rename_all = "snake_case")]
pub fn session(state: State<'_, AppState>, id: String) -> Api {
    with(&state, |m| m.session_view(&id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn session_add(state: State<'_, AppState>, kind: String, date: String, topic: String, place: Option<String>, attendees: Vec<String>) -> Api {
    with(&state, |m| m.add_session(&kind, &date, &topic, place.as_deref(), &attendees).map(id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn session_attend(state: State<'_, AppState>, session: String, person: String) -> Api {
    with(&state, |m| m.attend(&session, &person).map(|_| Json::Null))
}

#[tauri::command(rename_all = "snake_case")]
pub fn session_unattend(state: State<'_, AppState>, session: String, person: String) -> Api {
    with(&state, |m| m.unattend(&session, &person).map(|_| Json::Null))
}

#[tauri::command(rename_all = "snake_case")]
pub fn projects(state: State<'_, AppState>) -> Api {
    with(&state, |m| m.projects_view())
}

#[tauri::command(rename_all = "snake_case")]
pub fn project(state: State<'_, AppState>, id: String) -> Api {
    with(&state, |m| m.project_view(&id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn project_add(state: State<'_, AppState>, title: String, kind: String, sector: String, members: Vec<String>) -> Api {
    with(&state, |m| m.add_project(&title, &kind, &sector, &members, None).map(id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn project_stage(state: State<'_, AppState>, id: String, stage: String, date: String) -> Api {
    with(&state, |m| m.set_stage(&id, &stage, &date).map(|_| Json::Null))
}

#[tauri::command(rename_all = "snake_case")]
pub fn project_decide(state: State<'_, AppState>, id: String, decision: String, date: String, amount: Option<String>, remarks: Option<String>) -> Api {
    with(&state, |m| {
        m.decide(&id, &decision, &date, amount.as_deref().filter(|a| !a.is_empty()), remarks.as_deref()).map(|_| Json::Null)
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn project_set(state: State<'_, AppState>, id: String, fields: Json) -> Api {
    with(&state, |m| m.set_project(&id, &pairs(fields)).map(|_| Json::Null))
}

#[tauri::command(rename_all = "snake_case")]
pub fn budget_add(state: State<'_, AppState>, project: String, item: String, quantity: String, unit_cost: String) -> Api {
    with(&state, |m| m.add_budget_line(&project, &item, &quantity, &unit_cost).map(id))
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
) -> Api {
    with(&state, |m| m.add_disbursement(&project, &date, &amount, &currency, &donor, mode.as_deref(), receipt.as_deref()).map(id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn followup_add(state: State<'_, AppState>, project: String, fields: Json) -> Api {
    with(&state, |m| m.add_followup(&project, &pairs(fields)).map(id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn refs(state: State<'_, AppState>, list: String) -> Api {
    with(&state, |m| m.references(&list).map(|r| json!(r)))
}

#[tauri::command(rename_all = "snake_case")]
pub fn ref_add(state: State<'_, AppState>, list: String, name: String) -> Api {
    with(&state, |m| m.add_reference(&list, &name).map(id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn ref_remove(state: State<'_, AppState>, list: String, name: String) -> Api {
    with(&state, |m| m.remove_reference(&list, &name).map(|_| Json::Null))
}

#[tauri::command(rename_all = "snake_case")]
pub fn users(state: State<'_, AppState>) -> Api {
    with(&state, |m| {
        Ok(Json::Array(m.list_users()?.into_iter().map(|u| json!({ "id": u.id, "name": u.name, "role": u.role, "active": u.active })).collect()))
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn user_add(state: State<'_, AppState>, name: String, role: String, password: String) -> Api {
    let role = Role::parse(&role).ok_or_else(|| ApiError { code: "input.invalid".into(), message: format!("role: '{role}' is not one of: counsellor, supervisor, admin"), field: Some("role".into()) })?;
    with(&state, |m| m.add_user(&name, role, &password).map(id))
}

#[tauri::command(rename_all = "snake_case")]
pub fn enrol(state: State<'_, AppState>, out: String, passphrase: String) -> Api {
    with(&state, |m| m.enrol(Path::new(&out), &passphrase).map(|d| json!({ "device_id": d, "file": out })))
}

#[tauri::command(rename_all = "snake_case")]
pub fn sync_state(state: State<'_, AppState>) -> Api {
    with(&state, |m| m.sync_state())
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_sync_folder(state: State<'_, AppState>, folder: String) -> Api {
    with(&state, |m| m.set_sync_folder(&folder).map(|_| Json::Null))
}

#[tauri::command(rename_all = "snake_case")]
pub fn bundle_export(state: State<'_, AppState>, out: String, full: bool, scope: Option<String>) -> Api {
    let scope: Vec<Scope> = match scope.filter(|s| !s.is_empty()) {
        Some(s) => vec![Scope::parse(&s)?],
        None => Vec::new(),
    };
    with(&state, |m| {
        let done = m.export_bundle(Path::new(&out), full, &scope)?;
        Ok(json!({ "changes": done.changes, "bytes": done.bytes, "file": done.path.display().to_string() }))
    })
}

/// Imports bundles on a worker thread, telling the window how far it got, so the window
/// never freezes during a long merge. `files` may name folders: every `.masar` in them.
#[tauri::command(rename_all = "snake_case")]
pub async fn bundle_import(app: tauri::AppHandle, files: Vec<String>) -> Api {
    let mut paths: Vec<PathBuf> = Vec::new();
    for f in files {
        let p = PathBuf::from(&f);
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&p)
                .map_err(|e| ApiError { code: "sync.file".into(), message: format!("{f}: cannot be read ({e})"), field: None })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "masar"))
                .collect();
            found.sort();
            paths.extend(found);
        } else {
            paths.push(p);
        }
    }
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        use tauri::Manager;
        let state = handle.state::<AppState>();
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        with(&state, |m| {
            let done = m.import_bundles(&refs, |i, n| {
                let _ = handle.emit("import-progress", json!({ "done": i, "total": n }));
            })?;
            Ok(json!({
                "applied": done.applied, "skipped": done.skipped, "conflicts": done.conflicts,
                "already_imported": done.bundles_already_seen, "bundles": refs.len(),
            }))
        })
    })
    .await
    .map_err(|e| ApiError { code: "app.worker".into(), message: e.to_string(), field: None })?
}

#[tauri::command(rename_all = "snake_case")]
pub fn conflicts(state: State<'_, AppState>) -> Api {
    with(&state, |m| {
        Ok(Json::Array(
            m.conflicts()?
                .iter()
                .map(|c| json!({
                    "id": c.id, "entity": c.entity, "record": c.record, "field": c.field,
                    "kept": c.kept, "other": c.other, "kept_by": c.kept_by.0, "other_by": c.other_by.0,
                    "kept_at": c.kept_at, "other_at": c.other_at,
                }))
                .collect(),
        ))
    })
}

#[tauri::command(rename_all = "snake_case")]
pub fn conflict_resolve(state: State<'_, AppState>, id: String, keep: Option<String>, value: Option<String>) -> Api {
    let how = match (keep.as_deref(), value) {
        (_, Some(v)) => Resolution::Value(v),
        (Some("other"), None) => Resolution::Other,
        _ => Resolution::Kept,
    };
    with(&state, |m| m.resolve_conflict(&id, how).map(|_| Json::Null))
}

#[tauri::command(rename_all = "snake_case")]
pub fn report(state: State<'_, AppState>, from: String, to: String, by: Vec<String>) -> Api {
    let dims = by.iter().map(|b| Dimension::parse(b)).collect::<Result<Vec<_>, _>>()?;
    with(&state, |m| Ok(m.report(&from, &to, &dims)?.to_json()))
}
