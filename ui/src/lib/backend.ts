// The only module that talks to the Masar core. Screens call these functions and never
// import Tauri themselves. Every answer and every error has the type the core's Rust
// struct generates (types.ts); nothing at this boundary is untyped.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  AppInfo, BackupDone, BackupSettings, DeviceRow, FolderSync, RevocationDone, PersonQuery, PersonsPage, ProjectQuery, ProjectsPage, Conflict, Dashboard, DonorReportDone, Enrolled, ErrorReport, ExportDone, Exported,
  Home, Id, Imported, Person, ProjectTile, ProjectView, SessionInfo, SessionTile, SessionView, StageUndone, SyncProgress, SyncState, Timeline, UserSummary, Held, Equivocation, OrgKeyExported, OrgKeyImported,
} from "./types";

export type { ErrorReport } from "./types";
/** What a command that only changes something answers. */
export type Done = null;

export function isApiError(e: unknown): e is ErrorReport {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

function call<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
  return invoke<T>(cmd, args).catch((e: unknown) => {
    throw isApiError(e) ? e : ({ code: "app.unexpected", message: String(e), field: null, reason: null, params: {} } satisfies ErrorReport);
  });
}

export const api = {
  appInfo: () => call<AppInfo>("app_info"),
  createOrg: (a: { org: string; device: string; user: string; password: string }) => call<SessionInfo>("create_org", a),
  joinOrg: (a: { file: string; passphrase: string; device: string; user: string; password: string }) => call<SessionInfo>("join_org", a),
  login: (user: string, password: string) => call<SessionInfo>("login", { user, password }),
  logout: () => call<Done>("logout"),
  setLanguage: (language: string) => call<Done>("set_language", { language }),
  setMonths: (months: string) => call<Done>("set_months", { months }),
  setDigits: (digits: string) => call<Done>("set_digits", { digits }),
  tryDemo: (language: string) => call<AppInfo>("try_demo", { language }),
  home: () => call<Home>("home"),
  personsSearch: (text: string) => call<Person[]>("persons_search", { text }),
  personTimeline: (id: string) => call<Timeline>("person_timeline", { id }),
  personsPage: (query: PersonQuery) => call<PersonsPage>("persons_page", { query }),
  projectsPage: (query: ProjectQuery) => call<ProjectsPage>("projects_page", { query }),
  personSimilar: (given: string, family: string) => call<Person[]>("person_similar", { given, family }),
  personAdd: (fields: Record<string, string>, intake_date: string | null) => call<Id>("person_add", { fields, intake_date }),
  personSet: (id: string, fields: Record<string, string>) => call<Done>("person_set", { id, fields }),
  personErase: (id: string) => call<Done>("person_erase", { id }),
  intakeAdd: (person: string, date: string, referral: string | null) => call<Id>("intake_add", { person, date, referral }),
  referralAdd: (person: string, partner: string, date: string) => call<Id>("referral_add", { person, partner, date }),
  sessions: () => call<SessionTile[]>("sessions"),
  session: (id: string) => call<SessionView>("session", { id }),
  sessionAdd: (a: { kind: string; date: string; topic: string; place: string | null; attendees: string[] }) => call<Id>("session_add", a),
  sessionRoster: (session: string, present: string[], absent: string[]) => call<number>("session_roster", { session, present, absent }),
  projects: () => call<ProjectTile[]>("projects"),
  project: (id: string) => call<ProjectView>("project", { id }),
  projectAdd: (a: { title: string; kind: string; sector: string; members: string[] }) => call<Id>("project_add", a),
  projectStage: (id: string, stage: string, date: string) => call<Done>("project_stage", { id, stage, date }),
  projectDecide: (a: { id: string; decision: string; date: string; amount: string | null; currency: string | null; remarks: string | null }) =>
    call<Done>("project_decide", a),
  projectSet: (id: string, fields: Record<string, string>) => call<Done>("project_set", { id, fields }),
  budgetAdd: (a: { project: string; item: string; quantity: string; unit_cost: string }) => call<Id>("budget_add", a),
  disbursementAdd: (a: {
    project: string; date: string; amount: string; currency: string; donor: string; mode: string | null; receipt: string | null;
    above_approved_because: string | null;
  }) => call<Id>("disbursement_add", a),
  budgetSet: (line: string, fields: Record<string, string>) => call<Done>("budget_set", { line, fields }),
  budgetRemove: (line: string) => call<Done>("budget_remove", { line }),
  projectUndoStage: (id: string) => call<StageUndone>("project_undo_stage", { id }),
  followupAdd: (project: string, fields: Record<string, string>) => call<Id>("followup_add", { project, fields }),
  refs: (list: string) => call<string[]>("refs", { list }),
  refAdd: (list: string, name: string) => call<Id>("ref_add", { list, name }),
  refRemove: (list: string, name: string) => call<Done>("ref_remove", { list, name }),
  programmeCurrency: () => call<string | null>("programme_currency"),
  setProgrammeCurrency: (currency: string) => call<string | null>("set_programme_currency", { currency }),
  orgKeyExport: (out: string, passphrase: string, sheet: boolean) => call<OrgKeyExported>("org_key_export", { out, passphrase, sheet }),
  orgKeyImport: (file: string, passphrase: string, password: string) => call<OrgKeyImported>("org_key_import", { file, passphrase, password }),
  users: () => call<UserSummary[]>("users"),
  userAdd: (name: string, role: string, password: string) => call<Id>("user_add", { name, role, password }),
  enrol: (out: string, passphrase: string) => call<Enrolled>("enrol", { out, passphrase }),
  devices: () => call<DeviceRow[]>("devices"),
  deviceRevoke: (id: string) => call<RevocationDone>("device_revoke", { id }),
  userRevoke: (id: string) => call<RevocationDone>("user_revoke", { id }),
  syncState: () => call<SyncState>("sync_state"),
  backupSettings: () => call<BackupSettings>("backup_settings"),
  setBackupSettings: (folder: string, keep: number, automatic: boolean) => call<BackupSettings>("set_backup_settings", { folder, keep, automatic }),
  backupNow: () => call<BackupDone>("backup_now"),
  setSyncFolder: (folder: string) => call<Done>("set_sync_folder", { folder }),
  syncNow: () => call<FolderSync>("sync_now"),
  bundleExport: (out: string, full: boolean, scope: string | null) => call<Exported>("bundle_export", { out, full, scope }),
  bundleImport: (files: string[]) => call<Imported>("bundle_import", { files }),
  conflicts: () => call<Conflict[]>("conflicts"),
  unexplained: () => call<Held[]>("unexplained_tranches"),
  equivocations: () => call<Equivocation[]>("equivocations"),
  conflictResolve: (id: string, keep: "kept" | "other" | null, value: string | null) => call<Done>("conflict_resolve", { id, keep, value }),
  dashboard: (from: string, to: string) => call<Dashboard>("dashboard", { from, to }),
  exportFolder: () => call<string>("export_folder"),
  donorReport: (from: string, to: string, donor: string | null, language: string, format: "pdf" | "xlsx", folder: string) =>
    call<DonorReportDone>("donor_report", { from, to, donor, language, format, folder }),
  exportTable: (what: string, format: string, from: string | null, to: string | null, pseudonymise: boolean, folder: string) =>
    call<ExportDone>("export_table", { what, format, from, to, pseudonymise, folder }),
};

/** Tells `f` when a sync through the folder (by itself) ended, with where sync stands. */
export function onSyncDone(f: (s: SyncState) => void): Promise<UnlistenFn> {
  return listen<SyncState>("sync-done", (e) => f(e.payload));
}

/** Tells `f` when the daily backup was written by itself. */
export function onBackupMade(f: (b: BackupDone) => void): Promise<UnlistenFn> {
  return listen<BackupDone>("backup-made", (e) => f(e.payload));
}

/** Tells `f` how far a bundle export or import got, as it goes. */
export function onSyncProgress(f: (p: SyncProgress) => void): Promise<UnlistenFn> {
  return listen<SyncProgress>("sync-progress", (e) => f(e.payload));
}
