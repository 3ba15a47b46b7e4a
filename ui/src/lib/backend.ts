// The only module that talks to the Masar core. Screens call these functions and never
// import Tauri themselves; an error arrives as {code, message, field}.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export interface ApiError {
  code: string;
  message: string;
  field: string | null;
}

export type Json = any;

export function isApiError(e: unknown): e is ApiError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

function call<T = Json>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
  return invoke<T>(cmd, args).catch((e: unknown) => {
    throw isApiError(e) ? e : { code: "app.unexpected", message: String(e), field: null };
  });
}

export const api = {
  appInfo: () => call("app_info"),
  createOrg: (a: { org: string; device: string; user: string; password: string }) => call("create_org", a),
  joinOrg: (a: { file: string; passphrase: string; device: string; user: string; password: string }) => call("join_org", a),
  login: (user: string, password: string) => call("login", { user, password }),
  logout: () => call("logout"),
  setLanguage: (language: string) => call("set_language", { language }),
  home: () => call("home"),
  personsSearch: (text: string) => call<Json[]>("persons_search", { text }),
  personTimeline: (id: string) => call("person_timeline", { id }),
  personSimilar: (given: string, family: string) => call<Json[]>("person_similar", { given, family }),
  personAdd: (fields: Record<string, string>, intake_date: string | null) => call("person_add", { fields, intake_date }),
  personSet: (id: string, fields: Record<string, string>) => call("person_set", { id, fields }),
  personErase: (id: string) => call("person_erase", { id }),
  intakeAdd: (person: string, date: string, referral: string | null) => call("intake_add", { person, date, referral }),
  referralAdd: (person: string, partner: string, date: string) => call("referral_add", { person, partner, date }),
  sessions: () => call<Json[]>("sessions"),
  session: (id: string) => call("session", { id }),
  sessionAdd: (a: { kind: string; date: string; topic: string; place: string | null; attendees: string[] }) => call("session_add", a),
  sessionAttend: (session: string, person: string) => call("session_attend", { session, person }),
  sessionUnattend: (session: string, person: string) => call("session_unattend", { session, person }),
  projects: () => call<Json[]>("projects"),
  project: (id: string) => call("project", { id }),
  projectAdd: (a: { title: string; kind: string; sector: string; members: string[] }) => call("project_add", a),
  projectStage: (id: string, stage: string, date: string) => call("project_stage", { id, stage, date }),
  projectDecide: (a: { id: string; decision: string; date: string; amount: string | null; remarks: string | null }) => call("project_decide", a),
  projectSet: (id: string, fields: Record<string, string>) => call("project_set", { id, fields }),
  budgetAdd: (a: { project: string; item: string; quantity: string; unit_cost: string }) => call("budget_add", a),
  disbursementAdd: (a: { project: string; date: string; amount: string; currency: string; donor: string; mode: string | null; receipt: string | null }) =>
    call("disbursement_add", a),
  followupAdd: (project: string, fields: Record<string, string>) => call("followup_add", { project, fields }),
  refs: (list: string) => call<string[]>("refs", { list }),
  refAdd: (list: string, name: string) => call("ref_add", { list, name }),
  refRemove: (list: string, name: string) => call("ref_remove", { list, name }),
  users: () => call<Json[]>("users"),
  userAdd: (name: string, role: string, password: string) => call("user_add", { name, role, password }),
  enrol: (out: string, passphrase: string) => call("enrol", { out, passphrase }),
  syncState: () => call("sync_state"),
  setSyncFolder: (folder: string) => call("set_sync_folder", { folder }),
  bundleExport: (out: string, full: boolean, scope: string | null) => call("bundle_export", { out, full, scope }),
  bundleImport: (files: string[]) => call("bundle_import", { files }),
  conflicts: () => call<Json[]>("conflicts"),
  conflictResolve: (id: string, keep: string | null, value: string | null) => call("conflict_resolve", { id, keep, value }),
  report: (from: string, to: string, by: string[]) => call("report", { from, to, by }),
};

export function onImportProgress(f: (p: { done: number; total: number }) => void): Promise<UnlistenFn> {
  return listen<{ done: number; total: number }>("import-progress", (e) => f(e.payload));
}
