// Generated from the core's one list of commands (crates/masar-core/src/faces.rs).
// Do not edit: change the list, then run
// `MASAR_WRITE_TYPES=1 cargo test -p masar-core --lib faces`.

import { call } from "./call";
import type { AppInfo, BackupDone, BackupSettings, CommitteeDecision, Conflict, Dashboard, DeviceRow, Done, DonorFormat, DonorReportDone, Enrolled, Equivocation, ExportDone, ExportFormat, ExportTable, Exported, Fields, FolderSync, Held, Home, Id, Imported, Language, NewBudgetLine, NewFollowUp, NewIntake, NewPerson, NewProject, NewReferral, NewSession, NewTranche, NewUser, OrgKeyExported, OrgKeyImported, Person, PersonQuery, PersonsPage, ProjectQuery, ProjectTile, ProjectView, ProjectsPage, RevocationDone, Roster, SessionInfo, SessionTile, SessionView, StageChange, StageUndone, SyncState, Timeline, UserSummary } from "./types";

export const commands = {
  /** Saves the language this user reads the window in. */
  setLanguage: (language: string) => call<Done>("set_language", { language }),
  /** Saves the Arabic month names this user reads. */
  setMonths: (months: string) => call<Done>("set_months", { months }),
  /** Saves the digits this user reads in Arabic. */
  setDigits: (digits: string) => call<Done>("set_digits", { digits }),
  /** The home page. */
  home: () => call<Home>("home"),
  /** The persons whose names, UNHCR id or phone contain `text` (200 at most). */
  personsSearch: (text: string) => call<Array<Person>>("persons_search", { text }),
  /** A page of the persons table. */
  personsPage: (query: PersonQuery) => call<PersonsPage>("persons_page", { query }),
  /** A page of the projects table. */
  projectsPage: (query: ProjectQuery) => call<ProjectsPage>("projects_page", { query }),
  /** A person's page: their record and their journey. */
  personTimeline: (id: string) => call<Timeline>("person_timeline", { id }),
  /** Persons whose names look like these (before registering another). */
  personSimilar: (given: string, family: string) => call<Array<Person>>("person_similar", { given, family }),
  /** Registers a person. */
  personAdd: (input: NewPerson) => call<Id>("person_add", { input }),
  /** Changes fields of a person. */
  personSet: (id: string, fields: Fields) => call<Done>("person_set", { id, fields }),
  /** Erases a person's personal data everywhere. */
  personErase: (id: string) => call<Done>("person_erase", { id }),
  /** Records a reception interview. */
  intakeAdd: (input: NewIntake) => call<Id>("intake_add", { input }),
  /** Refers a person to a partner. */
  referralAdd: (input: NewReferral) => call<Id>("referral_add", { input }),
  /** The sessions, newest first. */
  sessions: () => call<Array<SessionTile>>("sessions"),
  /** One session with who attended. */
  session: (id: string) => call<SessionView>("session", { id }),
  /** Records a session with its attendance. */
  sessionAdd: (input: NewSession) => call<Id>("session_add", { input }),
  /** Marks who was present and who was not; answers how many marks changed. */
  sessionRoster: (input: Roster) => call<number>("session_roster", { input }),
  /** The projects as tiles. */
  projects: () => call<Array<ProjectTile>>("projects"),
  /** A project's page. */
  project: (id: string) => call<ProjectView>("project", { id }),
  /** Opens a project. */
  projectAdd: (input: NewProject) => call<Id>("project_add", { input }),
  /** Moves a project to another stage by hand. */
  projectStage: (input: StageChange) => call<Done>("project_stage", { input }),
  /** Records the committee's decision. */
  projectDecide: (input: CommitteeDecision) => call<Done>("project_decide", { input }),
  /** Changes settable fields of a project. */
  projectSet: (id: string, fields: Fields) => call<Done>("project_set", { id, fields }),
  /** Takes back the last change of stage. */
  projectUndoStage: (id: string) => call<StageUndone>("project_undo_stage", { id }),
  /** Adds a line to a business plan. */
  budgetAdd: (input: NewBudgetLine) => call<Id>("budget_add", { input }),
  /** Corrects a line of a business plan. */
  budgetSet: (line: string, fields: Fields) => call<Done>("budget_set", { line, fields }),
  /** Removes a line of a business plan. */
  budgetRemove: (line: string) => call<Done>("budget_remove", { line }),
  /** Records a tranche. */
  disbursementAdd: (input: NewTranche) => call<Id>("disbursement_add", { input }),
  /** Records a follow-up visit. */
  followupAdd: (input: NewFollowUp) => call<Id>("followup_add", { input }),
  /** The active entries of a reference list. */
  refs: (list: string) => call<Array<string>>("refs", { list }),
  /** Adds an entry to a reference list. */
  refAdd: (list: string, name: string) => call<Id>("ref_add", { list, name }),
  /** Retires an entry of a reference list. */
  refRemove: (list: string, name: string) => call<Done>("ref_remove", { list, name }),
  /** The programme's currency, if set. */
  programmeCurrency: () => call<string | null>("programme_currency"),
  /** Sets the programme's currency. */
  setProgrammeCurrency: (currency: string) => call<string | null>("set_programme_currency", { currency }),
  /** The users of this database. */
  users: () => call<Array<UserSummary>>("users"),
  /** Adds a user. */
  userAdd: (input: NewUser) => call<Id>("user_add", { input }),
  /** The laptops of the organisation. */
  devices: () => call<Array<DeviceRow>>("devices"),
  /** Revokes a laptop. */
  deviceRevoke: (id: string) => call<RevocationDone>("device_revoke", { id }),
  /** Revokes a user. */
  userRevoke: (id: string) => call<RevocationDone>("user_revoke", { id }),
  /** Saves the organisation's key to a file (or a printable sheet). */
  orgKeyExport: (out: string, passphrase: string, sheet: boolean) => call<OrgKeyExported>("org_key_export", { out, passphrase, sheet }),
  /** Takes the organisation's key into this laptop's custody. */
  orgKeyImport: (file: string, passphrase: string, password: string) => call<OrgKeyImported>("org_key_import", { file, passphrase, password }),
  /** Writes an enrolment file for a new laptop. */
  enrol: (out: string, passphrase: string) => call<Enrolled>("enrol", { out, passphrase }),
  /** How sync stands. */
  syncState: () => call<SyncState>("sync_state"),
  /** Signed changes that contradict each other. */
  equivocations: () => call<Array<Equivocation>>("equivocations"),
  /** Tranches held, with why. */
  unexplainedTranches: () => call<Array<Held>>("unexplained_tranches"),
  /** The open conflicts. */
  conflicts: () => call<Array<Conflict>>("conflicts"),
  /** Resolves a conflict: keep one side, or give the value. */
  conflictResolve: (id: string, keep: string | null, value: string | null) => call<Done>("conflict_resolve", { id, keep, value }),
  /** The dashboard of a period. */
  dashboard: (from: string, to: string) => call<Dashboard>("dashboard", { from, to }),
  /** This laptop's backup settings and backups. */
  backupSettings: () => call<BackupSettings>("backup_settings"),
  /** Saves the backup folder, how many to keep, and whether daily. */
  setBackupSettings: (folder: string, keep: number, automatic: boolean) => call<BackupSettings>("set_backup_settings", { folder, keep, automatic }),
  /** What this build is and which database it opens. */
  appInfo: () => call<AppInfo>("app_info"),
  /** Switches to the demo programme. */
  tryDemo: (language: Language) => call<AppInfo>("try_demo", { language }),
  /** Creates an organisation on this laptop. */
  createOrg: (org: string, device: string, user: string, password: string) => call<SessionInfo>("create_org", { org, device, user, password }),
  /** Joins an organisation with an enrolment file. */
  joinOrg: (file: string, passphrase: string, device: string, user: string, password: string) => call<SessionInfo>("join_org", { file, passphrase, device, user, password }),
  /** Logs in. */
  login: (user: string, password: string) => call<SessionInfo>("login", { user, password }),
  /** Logs out. */
  logout: () => call<Done>("logout"),
  /** Saves the sync folder and wakes the sync. */
  setSyncFolder: (folder: string) => call<Done>("set_sync_folder", { folder }),
  /** Syncs through the saved folder now. */
  syncNow: () => call<FolderSync>("sync_now"),
  /** Writes a bundle. */
  bundleExport: (out: string, full: boolean, scope: string | null) => call<Exported>("bundle_export", { out, full, scope }),
  /** Imports bundles (files or folders) on a worker thread. */
  bundleImport: (files: Array<string>) => call<Imported>("bundle_import", { files }),
  /** Where reports and exports are saved by default. */
  exportFolder: () => call<string>("export_folder"),
  /** Writes the report to donors. */
  donorReport: (from: string, to: string, donor: string | null, language: Language, format: DonorFormat, folder: string) => call<DonorReportDone>("donor_report", { from, to, donor, language, format, folder }),
  /** Writes a table. */
  exportTable: (table: ExportTable, format: ExportFormat, from: string | null, to: string | null, pseudonymise: boolean, folder: string) => call<ExportDone>("export_table", { table, format, from, to, pseudonymise, folder }),
  /** Backs up now. */
  backupNow: () => call<BackupDone>("backup_now"),
};
