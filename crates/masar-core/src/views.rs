//! Read models: what each screen of the window, and each listing of the command line,
//! shows, assembled once as typed answers that both faces send on unchanged. The views
//! carry what a screen needs to decide what to offer (allowed stages, permissions, choice
//! lists, today's date by the core's clock), so no face keeps a copy of a rule.

use std::path::Path;

use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::access::Sight;
use crate::auth::Permission;
use crate::domain::{
    BudgetSummary, Disbursement, FollowUp, Person, Project, ProjectRules, Record, Session,
    StageEvent, DECISIONS,
};
use crate::error::StoreError;
use crate::fold::fold;
use crate::masar::Masar;
use crate::report::{Dimension, ExportFormat, ExportTable};
use crate::schema;
use crate::Result;

/// A search matching more persons than this, all equally well, gives its page by walking
/// persons in name order: below it, sorting the matches is as fast.
const WALK_FROM: u64 = 1_000;

/// The answer of a command that made or changed one record: its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Id {
    /// The record's id.
    pub id: String,
}

impl From<String> for Id {
    fn from(id: String) -> Id {
        Id { id }
    }
}

/// What the window knows before anyone logs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AppInfo {
    /// The database file.
    pub db: String,
    /// Whether it exists yet (else the first-run screen is shown).
    pub exists: bool,
    /// Whether it is the demo database, whose accounts the login screen may show.
    pub demo: bool,
    /// Masar's version, its database schema's and its bundle format's.
    pub versions: Versions,
    /// The system's language as the operating system names it ("fr-FR", "ar-MA"), which
    /// the window speaks until the user chooses.
    pub system_language: Option<String>,
    /// Where the window writes its log for support, when it keeps one.
    pub log_folder: Option<String>,
}

impl AppInfo {
    /// The facts about the database at `db`, on a system speaking `system_language`.
    pub fn new(db: &Path, demo: bool, system_language: Option<String>) -> AppInfo {
        AppInfo {
            db: db.display().to_string(),
            exists: db.exists(),
            demo,
            versions: Versions::current(),
            system_language,
            log_folder: None,
        }
    }
}

/// What a support call asks first: which Masar, which database schema it writes, which
/// bundle format it reads and writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Versions {
    /// The application's version.
    pub app: String,
    /// The database schema it opens and upgrades to.
    pub schema: i64,
    /// The bundle format it writes (and the oldest it reads).
    pub bundle_format: u16,
    /// The oldest bundle format it reads.
    pub oldest_bundle_format: u16,
}

impl Versions {
    /// This build's versions.
    pub fn current() -> Versions {
        Versions {
            app: env!("CARGO_PKG_VERSION").to_string(),
            schema: crate::store::SCHEMA_VERSION,
            bundle_format: crate::masar::BUNDLE_FORMATS.0,
            oldest_bundle_format: crate::masar::BUNDLE_FORMATS.1,
        }
    }

    /// One line: "0.1.0 (database schema 9, bundle format 3; reads bundles from format 3)".
    pub fn line(&self) -> String {
        format!(
            "{} (database schema {}, bundle format {}; reads bundles from format {})",
            self.app, self.schema, self.bundle_format, self.oldest_bundle_format
        )
    }
}

/// What the logged-in user may do, as screens decide what to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Permissions {
    /// Add users, change roles, enrol laptops.
    pub manage_users: bool,
    /// Edit the organisation's reference lists.
    pub edit_reference_lists: bool,
    /// Record committee decisions, resolve conflicts, export for another laptop's scope.
    pub decide_in_committee: bool,
    /// Erase a person's personal data.
    pub erase_person: bool,
    /// Record the daily work.
    pub record_work: bool,
    /// Export person-level tables (persons, attendance).
    pub export_person_data: bool,
    /// Write the report to donors; without it the dashboard shows one's own caseload.
    pub report_to_donors: bool,
}

/// The choice lists every form offers, as the core accepts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Choices {
    /// Sexes.
    pub sexes: Vec<String>,
    /// Legal statuses.
    pub legal_statuses: Vec<String>,
    /// Kinds of session.
    pub session_kinds: Vec<String>,
    /// Kinds of project.
    pub project_kinds: Vec<String>,
    /// Project stages, in journey order.
    pub stages: Vec<String>,
    /// Ways a tranche is paid.
    pub modes: Vec<String>,
    /// What a follow-up visit may find.
    pub followup_statuses: Vec<String>,
    /// Where a referral may stand.
    pub referral_statuses: Vec<String>,
    /// The organisation's reference lists.
    pub reference_lists: Vec<String>,
    /// Roles, lowest first.
    pub roles: Vec<String>,
    /// What a committee may decide.
    pub decisions: Vec<String>,
    /// Ways the indicators may be split.
    pub dimensions: Vec<String>,
    /// The indicators, in the order of the programme's closing table.
    pub indicators: Vec<String>,
    /// Nationalities offered first: ISO alpha-3 and alpha-2 codes.
    pub countries: Vec<(String, String)>,
    /// Tables that can be exported.
    pub export_tables: Vec<String>,
    /// Of those, the ones that hold persons (for supervisors and administrators).
    pub person_level_tables: Vec<String>,
    /// File formats of an export.
    pub export_formats: Vec<String>,
    /// A person's required fields (`born` may be given as `birth_year`).
    pub person_required: Vec<String>,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}

impl Choices {
    /// The lists as this version of the core accepts them.
    pub fn current() -> Choices {
        Choices {
            sexes: strings(schema::SEXES),
            legal_statuses: strings(schema::LEGAL_STATUSES),
            session_kinds: strings(schema::SESSION_KINDS),
            project_kinds: strings(schema::PROJECT_KINDS),
            stages: strings(schema::STAGES),
            modes: strings(schema::MODES),
            followup_statuses: strings(schema::FOLLOWUP_STATUSES),
            referral_statuses: strings(schema::REFERRAL_STATUSES),
            reference_lists: strings(schema::REFERENCE_LISTS),
            roles: strings(schema::ROLES),
            decisions: strings(DECISIONS),
            dimensions: Dimension::ALL
                .iter()
                .map(|d| d.as_str().to_string())
                .collect(),
            indicators: strings(&crate::report::INDICATORS),
            countries: schema::COUNTRIES
                .iter()
                .map(|(a3, a2)| ((*a3).to_string(), (*a2).to_string()))
                .collect(),
            person_required: strings(crate::domain::PERSON_REQUIRED),
            export_tables: ExportTable::ALL
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            person_level_tables: ExportTable::ALL
                .iter()
                .filter(|t| t.person_level())
                .map(|t| t.as_str().to_string())
                .collect(),
            export_formats: ExportFormat::ALL
                .iter()
                .map(|f| f.as_str().to_string())
                .collect(),
        }
    }
}

/// The logged-in user's session: who they are, what they may do, what forms offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SessionInfo {
    /// Log-in name.
    pub user: String,
    /// Role.
    pub role: String,
    /// The organisation's name.
    pub org_name: String,
    /// This laptop's name.
    pub device_name: String,
    /// The user's language on this laptop, when chosen.
    pub language: Option<String>,
    /// The Arabic month names the user reads: maghreb, levant or standard.
    pub months: Option<String>,
    /// The digits the user reads in Arabic: latn (0123) or arab (٠١٢٣).
    pub digits: Option<String>,
    /// Whether this is the demo database.
    pub demo: bool,
    /// What the user may do.
    pub permissions: Permissions,
    /// The choice lists.
    pub choices: Choices,
    /// Today, by the core's clock: the default date of every form.
    pub today: NaiveDate,
}

/// A session in the list, with how many attended.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SessionTile {
    /// The session.
    #[serde(flatten)]
    pub session: Session,
    /// Persons present.
    pub attendees: i64,
}

/// One session with the persons present.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SessionView {
    /// The session.
    pub session: Session,
    /// The persons present.
    pub attendees: Vec<Person>,
}

/// A project on the board, with its members' names.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ProjectTile {
    /// The project.
    #[serde(flatten)]
    pub project: Project,
    /// Its members' names.
    pub member_names: Vec<String>,
}

/// An amount in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Money {
    /// ISO 4217 code.
    pub currency: String,
    /// Exact amount.
    #[ts(type = "string")]
    pub amount: Decimal,
}

/// How the persons table is asked for: filters, order, page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct PersonQuery {
    /// A fragment of a name (either script), a UNHCR number or a phone.
    pub search: Option<String>,
    /// Only the persons this user registered.
    pub mine: bool,
    /// Only the persons of this city.
    pub city: Option<String>,
    /// name, born, city, unhcr_id or registered; empty: the best matches of a search first,
    /// else by name.
    pub sort: String,
    /// Largest first.
    pub descending: bool,
    /// Rows skipped.
    pub offset: u32,
    /// Rows wanted (at most 200).
    pub limit: u32,
}

/// A page of the persons table.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct PersonsPage {
    /// Persons matching the filters, in all.
    pub total: u64,
    /// Rows skipped.
    pub offset: u32,
    /// This page's persons.
    pub rows: Vec<Person>,
    /// The cities persons live in, for the filter.
    pub cities: Vec<String>,
}

/// How the projects table is asked for: filters, order, page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ProjectQuery {
    /// A fragment of the title.
    pub search: Option<String>,
    /// Only the projects this user opened.
    pub mine: bool,
    /// Only the projects at this stage.
    pub stage: Option<String>,
    /// Only the projects whose follow-up visit is overdue today.
    pub overdue: bool,
    /// title, stage, paid, next_due or opened.
    pub sort: String,
    /// Largest first.
    pub descending: bool,
    /// Rows skipped.
    pub offset: u32,
    /// Rows wanted (at most 200).
    pub limit: u32,
}

/// A project as a row of the table.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ProjectRow {
    /// The project.
    #[serde(flatten)]
    pub project: Project,
    /// Its members' names.
    pub member_names: Vec<String>,
    /// What was paid, per currency.
    pub paid: Vec<Money>,
    /// When the next visit is due, by the latest visit.
    pub next_due: Option<NaiveDate>,
    /// Whether that visit is overdue today.
    pub overdue: bool,
}

/// A page of the projects table.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ProjectsPage {
    /// Projects matching the filters, in all.
    pub total: u64,
    /// Rows skipped.
    pub offset: u32,
    /// This page's projects.
    pub rows: Vec<ProjectRow>,
}

fn refused_sort(value: &str, options: &[&str]) -> crate::Error {
    crate::error::InputError::invalid(
        "sort",
        value,
        crate::error::Problem::NotOneOf(options.iter().map(|o| (*o).to_string()).collect()),
    )
    .into()
}

/// One project with members, plan, stages, tranches, visits, and what may be done next.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ProjectView {
    /// The project.
    pub project: Project,
    /// Its members.
    pub members: Vec<Person>,
    /// Its business plan.
    pub budget: BudgetSummary,
    /// Its stages, oldest first.
    pub stages: Vec<StageEvent>,
    /// Tranches paid, oldest first.
    pub disbursements: Vec<Disbursement>,
    /// What was paid in all, per currency.
    pub paid: Vec<Money>,
    /// What may still be paid of the approved amount, in its currency (none before
    /// approval, or when approved without an amount).
    pub remaining: Option<Money>,
    /// Follow-up visits, oldest first.
    pub followups: Vec<FollowUp>,
    /// What the rules allow now, for this user.
    pub rules: ProjectRules,
    /// Its tranches that do not count (`crate::money`), with why: shown beside them, so
    /// that what was paid and what remains of the approval add up.
    pub held: Vec<crate::money::Held>,
    /// The currency the committee's approval is in unless another is chosen: the
    /// programme's, else the plan's.
    pub decision_currency: Option<String>,
}

/// One dated event of a person's journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct TimelineEvent {
    /// When.
    pub date: Option<NaiveDate>,
    /// intake, awareness, training, stage:STAGE, disbursement, followup or referral.
    pub kind: String,
    /// The event's own record.
    pub id: String,
    /// The project it belongs to, for stages, tranches and visits.
    pub project: Option<String>,
    /// A short description.
    pub label: String,
}

/// A person's whole journey.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Timeline {
    /// The person.
    pub person: Person,
    /// Their events, oldest first.
    pub events: Vec<TimelineEvent>,
}

/// Where this laptop's exchanges stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SyncState {
    /// When this laptop last exported.
    pub last_export: Option<String>,
    /// When it last imported.
    pub last_import: Option<String>,
    /// Bundles imported so far.
    pub bundles_imported: i64,
    /// Records waiting for what they link to.
    pub pending: i64,
    /// Open conflicts.
    pub conflicts: u64,
    /// The sync folder, when set.
    pub sync_folder: Option<String>,
    /// When the last sync through the folder ended (RFC 3339).
    pub last_sync: Option<String>,
    /// What went wrong at the last sync through the folder, if anything did: the folder
    /// unreachable, or bundles refused.
    pub last_sync_error: Option<String>,
}

/// A funded project whose follow-up visit is overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct OverdueVisit {
    /// The project.
    pub project: String,
    /// Its title.
    pub title: Option<String>,
    /// Its stage.
    pub stage: Option<String>,
    /// When the visit was due.
    pub due: String,
}

/// A visit this user owes: the project, who to see and how to reach them, how late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct VisitDue {
    /// The project.
    pub project: String,
    /// Its title.
    pub title: Option<String>,
    /// Its members' names.
    pub beneficiaries: Vec<String>,
    /// The first member's phone, when recorded.
    pub phone: Option<String>,
    /// When the visit was due.
    pub due: NaiveDate,
    /// Days since then.
    pub days_overdue: i64,
}

/// Something that happened, for a list of recent events in words: the window phrases it
/// in the user's language from `kind`, `title` and `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RecentEvent {
    /// person_registered, project_opened, project_stage, tranche_paid, visit_recorded,
    /// session_created, person_referred or record_updated.
    pub kind: String,
    /// The entity of the record concerned (`person`, `project`, `session`).
    pub entity: String,
    /// Its id.
    pub record: String,
    /// How it is named: a person's name, a project's title, a session's topic.
    pub title: String,
    /// The stage reached, the amount paid, or the field changed.
    pub detail: Option<String>,
    /// Who.
    pub user: Option<String>,
    /// When, by the writer's clock.
    pub at: String,
}

/// What a counsellor sees first: their day.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Home {
    /// Today, by the core's clock.
    pub today: NaiveDate,
    /// The visits this user owes, most overdue first.
    pub overdue: Vec<VisitDue>,
    /// Today's and coming sessions.
    pub sessions: Vec<Session>,
    /// The persons this user registered, most recent first (at most 20 are listed).
    pub caseload: Vec<Person>,
    /// How many persons this user registered in all.
    pub caseload_count: i64,
    /// The latest events, in words.
    pub recent: Vec<RecentEvent>,
    /// The last exchanges.
    pub sync: SyncState,
}

/// What `masar check` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Checked {
    /// Whether SQLite's integrity check passed.
    pub ok: bool,
    /// Records waiting for what they link to.
    pub pending: i64,
}

/// The digest of what a database shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Digest {
    /// SHA-256, hex.
    pub digest: String,
}

/// An entry of a reference list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReferenceEntry {
    /// The list.
    pub list: String,
    /// The entry.
    pub name: String,
}

/// Where a project is back after an undo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct StageUndone {
    /// The project.
    pub id: String,
    /// The stage it is back at.
    pub stage: String,
}

/// Whose password was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PasswordChanged {
    /// The user.
    pub user: String,
}

fn date(text: Option<String>) -> Result<Option<NaiveDate>> {
    match text {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                StoreError::Corrupt {
                    what: "date".into(),
                    value: t,
                }
                .into()
            }),
    }
}

impl Masar {
    /// The logged-in user's session, for the window.
    pub fn session_info(&self, demo: bool) -> Result<SessionInfo> {
        let s = self.status()?;
        let role = self.user().role;
        Ok(SessionInfo {
            user: s.user,
            role: s.role,
            org_name: s.org_name,
            device_name: s.device_name,
            language: self.preference("language")?,
            months: self.preference("months")?,
            digits: self.preference("digits")?,
            demo,
            permissions: Permissions {
                manage_users: Permission::ManageUsers.allows(role),
                edit_reference_lists: Permission::EditReferenceLists.allows(role),
                decide_in_committee: Permission::DecideInCommittee.allows(role),
                erase_person: Permission::ErasePerson.allows(role),
                record_work: Permission::RecordWork.allows(role),
                export_person_data: Permission::ExportPersonData.allows(role),
                report_to_donors: Permission::ReportToDonors.allows(role),
            },
            choices: Choices::current(),
            today: self.clock().today(),
        })
    }

    /// The persons this user follows (their own caseload), most recent first.
    pub fn caseload(&self, limit: usize) -> Result<Vec<Person>> {
        let (condition, arg) = Sight::own(self.user()).condition_1("t");
        Person::select(
            self.conn(),
            &format!("WHERE {condition} ORDER BY t.id DESC LIMIT ?2"),
            params![arg, limit as i64],
        )
    }

    /// Sessions, latest first, with how many attended.
    pub fn sessions_view(&self) -> Result<Vec<SessionTile>> {
        let sessions = Session::select(self.conn(), "ORDER BY t.date DESC, t.id", [])?;
        let mut stmt = self.conn().prepare_cached(
            "SELECT count(*) FROM attendance WHERE session_id = ?1 AND present = 1",
        )?;
        let mut out = Vec::with_capacity(sessions.len());
        for session in sessions {
            let attendees: i64 = stmt.query_row([&session.id], |r| r.get(0))?;
            out.push(SessionTile { session, attendees });
        }
        Ok(out)
    }

    /// One session with the persons present.
    pub fn session_view(&self, id: &str) -> Result<SessionView> {
        let session = Session::existing(self.conn(), id)?;
        let attendees = Person::select(
            self.conn(),
            "JOIN attendance a ON a.person_id = t.id WHERE a.session_id = ?1 AND a.present = 1 ORDER BY t.id",
            [id],
        )?;
        Ok(SessionView { session, attendees })
    }

    fn members(&self, project: &str) -> Result<Vec<Person>> {
        Person::select(
            self.conn(),
            "JOIN members m ON m.person_id = t.id WHERE m.project_id = ?1 AND m.active = 1 ORDER BY t.id",
            [project],
        )
    }

    /// Projects with their members' names, for the board.
    pub fn projects_view(&self) -> Result<Vec<ProjectTile>> {
        let projects = Project::select(self.conn(), "ORDER BY t.stage_date DESC, t.id", [])?;
        let mut out = Vec::with_capacity(projects.len());
        for project in projects {
            let member_names = self
                .members(&project.id)?
                .iter()
                .map(Person::display_name)
                .collect();
            out.push(ProjectTile {
                project,
                member_names,
            });
        }
        Ok(out)
    }

    /// One project with members, plan, stages, tranches, visits and what may be done next.
    pub fn project_view(&self, id: &str) -> Result<ProjectView> {
        let project = Project::existing(self.conn(), id)?;
        let rules = self.db().project_rules(&project)?;
        let decision_currency = self.db().decision_currency(&project)?;
        let (remaining, held) = self.db().remaining(&project)?;
        Ok(ProjectView {
            held,
            decision_currency,
            members: self.members(id)?,
            budget: self.budget(id)?,
            stages: StageEvent::select(
                self.conn(),
                "WHERE t.project_id = ?1 AND coalesce(t.undone, 0) = 0 ORDER BY t.date, t.id",
                [id],
            )?,
            disbursements: Disbursement::select(
                self.conn(),
                "WHERE t.project_id = ?1 ORDER BY t.date, t.id",
                [id],
            )?,
            paid: self
                .db()
                .paid(id)?
                .into_iter()
                .map(|(currency, amount)| Money { currency, amount })
                .collect(),
            remaining: remaining.map(|(currency, amount)| Money { currency, amount }),
            followups: FollowUp::select(
                self.conn(),
                "WHERE t.project_id = ?1 ORDER BY t.date, t.id",
                [id],
            )?,
            rules,
            project,
        })
    }

    /// A person's whole journey as dated events, oldest first.
    pub fn timeline(&self, person: &str) -> Result<Timeline> {
        let p = Person::existing(self.conn(), person)?;
        let conn = self.conn();
        let mut events = Vec::new();
        // Each query gives: record id, date, kind, project, label.
        let queries: [&str; 6] = [
            "SELECT id, date, 'intake', NULL, coalesce(referral, '') FROM intakes WHERE person_id = ?1",
            "SELECT s.id, s.date, s.kind, NULL, coalesce(s.topic, '') FROM attendance a JOIN sessions s ON s.id = a.session_id
             WHERE a.person_id = ?1 AND a.present = 1",
            "SELECT e.id, e.date, 'stage:' || e.stage, p.id, coalesce(p.title, '') FROM members m JOIN projects p ON p.id = m.project_id
             JOIN stage_events e ON e.project_id = p.id WHERE m.person_id = ?1 AND coalesce(e.undone, 0) = 0",
            "SELECT d.id, d.date, 'disbursement', d.project_id, coalesce(d.amount || ' ' || d.currency, '') FROM members m
             JOIN disbursements d ON d.project_id = m.project_id WHERE m.person_id = ?1",
            "SELECT f.id, f.date, 'followup', f.project_id, coalesce(f.status, '') FROM members m
             JOIN followups f ON f.project_id = m.project_id WHERE m.person_id = ?1",
            "SELECT id, date, 'referral', NULL, coalesce(partner, '') || ' (' || coalesce(status, '') || ')' FROM referrals WHERE person_id = ?1",
        ];
        for sql in queries {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt
                .query_map([person], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (id, day, kind, project, label) in rows {
                events.push(TimelineEvent {
                    date: date(day)?,
                    kind,
                    id,
                    project,
                    label,
                });
            }
        }
        events.sort_by_key(|e| e.date);
        Ok(Timeline { person: p, events })
    }

    /// Persons who may be the one being registered: the same family name (folded) and a
    /// given name that contains, or is contained in, the one typed.
    pub fn similar_persons(&self, given: &str, family: &str) -> Result<Vec<Person>> {
        let (g, f) = (fold(given.trim()), fold(family.trim()));
        if f.chars().count() < 2 {
            return Ok(Vec::new());
        }
        Ok(self
            .list_persons(Some(family))?
            .into_iter()
            .filter(|p| {
                let pg = fold(p.given.as_deref().unwrap_or(""));
                let pf = fold(p.family.as_deref().unwrap_or(""));
                pf == f && (g.is_empty() || pg.contains(&g) || g.contains(&pg))
            })
            .collect())
    }

    /// The state of the last exchanges: last export, last import, bundles read, pending.
    pub fn sync_state(&self) -> Result<SyncState> {
        let last_import: Option<String> =
            self.conn()
                .query_row("SELECT max(imported_at) FROM imported_bundles", [], |r| {
                    r.get(0)
                })?;
        let bundles: i64 =
            self.conn()
                .query_row("SELECT count(*) FROM imported_bundles", [], |r| r.get(0))?;
        Ok(SyncState {
            last_export: crate::store::meta(self.conn(), "last_export_at")?,
            last_import,
            bundles_imported: bundles,
            pending: self.pending_count()?,
            conflicts: self.conflicts()?.len() as u64,
            sync_folder: crate::store::meta(self.conn(), "sync_folder")?,
            last_sync: crate::store::meta(self.conn(), "last_sync_at")?,
            last_sync_error: crate::store::meta(self.conn(), "last_sync_error")?,
        })
    }

    /// Overdue visits on `day`, with each project's title and stage.
    pub fn overdue_visits(&self, day: NaiveDate) -> Result<Vec<OverdueVisit>> {
        let mut out = Vec::new();
        for (project, due) in self.overdue_followups(day)? {
            let p = Project::existing(self.conn(), &project)?;
            out.push(OverdueVisit {
                project,
                title: p.title,
                stage: p.stage,
                due,
            });
        }
        Ok(out)
    }

    /// A page of the persons table: the filters in SQL, so a large register is never
    /// read whole.
    pub fn persons_page(&self, q: &PersonQuery) -> Result<PersonsPage> {
        self.persons_page_walking_from(q, WALK_FROM)
    }

    /// [`Masar::persons_page`], walking persons in name order once a search matches more
    /// than `walk_from` persons, all equally well (tests compare both ways).
    fn persons_page_walking_from(&self, q: &PersonQuery, walk_from: u64) -> Result<PersonsPage> {
        // Searching, the best matches come first unless the user sorted by a column.
        let searching = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let by_relevance = searching.is_some() && q.sort.is_empty();
        let dir = if q.descending { "DESC" } else { "ASC" };
        let order = match q.sort.as_str() {
            "" | "name" => format!("t.family COLLATE NOCASE {dir}, t.given COLLATE NOCASE {dir}"),
            "born" => format!("coalesce(t.born, t.birth_year) {dir}"),
            "city" => format!("t.city COLLATE NOCASE {dir}"),
            "unhcr_id" => format!("t.unhcr_id {dir}"),
            "registered" => format!("t.id {dir}"),
            other => {
                return Err(refused_sort(
                    other,
                    &["name", "born", "city", "unhcr_id", "registered"],
                ))
            }
        };
        let mut conditions: Vec<String> = Vec::new();
        let mut args: Vec<String> = Vec::new();
        if let Some((condition, arg)) = Sight::own(self.user()).condition("t").filter(|_| q.mine) {
            conditions.push(condition);
            args.push(arg);
        }
        if let Some((condition, arg)) = Sight::in_lists(self.user()).condition("t") {
            conditions.push(condition);
            args.push(arg);
        }
        if let Some(c) = q.city.as_deref().filter(|c| !c.is_empty()) {
            conditions.push("t.city = ? COLLATE NOCASE".into());
            args.push(c.to_string());
        }
        let needle = match searching {
            Some(s) => match crate::search::Needle::parse(self.conn(), s)? {
                Some(n) => Some(n),
                // Nothing that could be a name or a number: no one matches.
                None => {
                    return Ok(PersonsPage {
                        total: 0,
                        offset: q.offset,
                        rows: Vec::new(),
                        cities: self.cities()?,
                    })
                }
            },
            None => None,
        };
        let filter = |extra: Option<&str>| -> String {
            let all: Vec<&str> = extra
                .into_iter()
                .chain(conditions.iter().map(String::as_str))
                .collect();
            if all.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", all.join(" AND "))
            }
        };
        let limit = q.limit.clamp(1, 200);
        let page = format!("LIMIT {limit} OFFSET {}", q.offset);
        let read_ids = |sql: &str, args: &[String]| -> Result<Vec<String>> {
            Ok(self
                .conn()
                .prepare_cached(sql)?
                .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?)
        };
        let (total, ids) = match needle {
            None => {
                let total: i64 = self
                    .conn()
                    .prepare_cached(&format!("SELECT count(*) FROM persons t {}", filter(None)))?
                    .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
                (
                    total as u64,
                    read_ids(
                        &format!(
                            "SELECT t.id FROM persons t {} ORDER BY {order}, t.id {dir} {page}",
                            filter(None)
                        ),
                        &args,
                    )?,
                )
            }
            Some(needle) => {
                let (sub, mut sub_args) = needle.candidates();
                sub_args.extend(args.iter().cloned());
                // How many match at each rank; persons are read only for the filters.
                let tiers_sql = if conditions.is_empty() {
                    format!("SELECT r, count(*) FROM ({sub}) GROUP BY r")
                } else {
                    format!("SELECT k.r, count(*) FROM ({sub}) k JOIN persons t ON t.rowid = k.person {} GROUP BY k.r", filter(None))
                };
                let tiers: Vec<(i64, i64)> = self
                    .conn()
                    .prepare_cached(&tiers_sql)?
                    .query_map(rusqlite::params_from_iter(sub_args.iter()), |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                let total = tiers.iter().map(|(_, n)| *n as u64).sum::<u64>();
                let by_name = by_relevance || q.sort == "name";
                let walked = if by_name && tiers.len() == 1 && total > walk_from {
                    self.walk_in_name_order(
                        &needle,
                        &order,
                        dir,
                        &filter(None),
                        &args,
                        total,
                        q.offset,
                        limit,
                    )?
                } else {
                    None
                };
                let ids = match walked {
                    Some(ids) => ids,
                    None => {
                        let rank = if by_relevance { "k.r, " } else { "" };
                        read_ids(&format!("SELECT t.id FROM persons t JOIN ({sub}) k ON k.person = t.rowid {} ORDER BY {rank}{order}, t.id {dir} {page}", filter(None)), &sub_args)?
                    }
                };
                (total, ids)
            }
        };
        let mut rows = Vec::with_capacity(ids.len());
        for id in &ids {
            rows.extend(Person::read(self.conn(), id)?);
        }
        Ok(PersonsPage {
            total,
            offset: q.offset,
            rows,
            cities: self.cities()?,
        })
    }

    /// A page of a search's matches, all equally good, in name order: found by walking the
    /// name index and asking each person whether they match, which is faster than sorting
    /// thousands of matches when they are spread through the register. `None` (sort them)
    /// when they are few among many persons, or a deep page is asked, or the walk finds
    /// them bunched further on (one family name) than a budget of persons asked.
    #[allow(clippy::too_many_arguments)]
    fn walk_in_name_order(
        &self,
        needle: &crate::search::Needle,
        order: &str,
        dir: &str,
        filter: &str,
        args: &[String],
        total: u64,
        offset: u32,
        limit: u32,
    ) -> Result<Option<Vec<String>>> {
        let wanted = u64::from(offset) + u64::from(limit);
        // Rowids are dense enough to say roughly how many persons there are, in one seek.
        let persons: i64 =
            self.conn()
                .query_row("SELECT coalesce(max(rowid), 0) FROM persons", [], |r| {
                    r.get(0)
                })?;
        let spread = persons as f64 / total.max(1) as f64;
        if spread > 10.0 || wanted > 400 {
            return Ok(None);
        }
        let budget = (4.0 * wanted as f64 * spread) as u64 + 50;
        let (pred, mut walk_args) = needle.predicate("t.rowid");
        walk_args.extend(args.iter().cloned());
        // The limit also makes SQLite read the name index rather than sort every person.
        let mut stmt = self.conn().prepare_cached(&format!("SELECT t.id, {pred} FROM persons t {filter} ORDER BY {order}, t.id {dir} LIMIT {budget}"))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(walk_args.iter()))?;
        let (mut asked, mut found, mut ids) = (0u64, 0u64, Vec::new());
        while let Some(r) = rows.next()? {
            asked += 1;
            if r.get::<_, bool>(1)? {
                found += 1;
                if found > u64::from(offset) {
                    ids.push(r.get(0)?);
                }
                if found == wanted {
                    return Ok(Some(ids));
                }
            }
        }
        // Every person asked, or the budget spent first.
        Ok((asked < budget).then_some(ids))
    }

    /// The cities persons live in, for the persons table's filter.
    fn cities(&self) -> Result<Vec<String>> {
        Ok(self
            .conn()
            // One seek in the city index per city, not a walk through every person's entry.
            .prepare_cached(
                "WITH RECURSIVE c(city) AS (
                     SELECT min(city COLLATE NOCASE) FROM persons WHERE city COLLATE NOCASE > ''
                     UNION ALL
                     SELECT (SELECT min(p.city COLLATE NOCASE) FROM persons p WHERE p.city COLLATE NOCASE > c.city COLLATE NOCASE)
                     FROM c WHERE c.city IS NOT NULL
                 )
                 SELECT city FROM c WHERE city IS NOT NULL",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?)
    }

    /// A page of the projects table, with what was paid and the next visit of each.
    pub fn projects_page(&self, q: &ProjectQuery) -> Result<ProjectsPage> {
        let today = self.clock().today();
        let own = Sight::own(self.user()).condition("t");
        let mut conditions: Vec<&str> = Vec::new();
        let mut args: Vec<String> = Vec::new();
        if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            conditions.push("t.title LIKE ? ESCAPE '\\'");
            args.push(format!(
                "%{}%",
                s.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            ));
        }
        if let Some((condition, arg)) = own.as_ref().filter(|_| q.mine) {
            conditions.push(condition);
            args.push(arg.clone());
        }
        if let Some(s) = q.stage.as_deref().filter(|s| !s.is_empty()) {
            conditions.push("t.stage = ?");
            args.push(s.to_string());
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let projects = Project::select(
            self.conn(),
            &format!("{filter} ORDER BY t.id"),
            rusqlite::params_from_iter(args.iter()),
        )?;
        let overdue: std::collections::HashSet<String> = self
            .overdue_followups(today)?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let mut rows = Vec::with_capacity(projects.len());
        let mut next_stmt = self
            .conn()
            .prepare_cached("SELECT next_due FROM followups WHERE project_id = ?1 ORDER BY date DESC, id DESC LIMIT 1")?;
        for project in projects {
            let is_overdue = overdue.contains(&project.id);
            if q.overdue && !is_overdue {
                continue;
            }
            let next: Option<String> = next_stmt
                .query_row([&project.id], |r| r.get(0))
                .optional()?
                .flatten();
            rows.push(ProjectRow {
                member_names: self
                    .members(&project.id)?
                    .iter()
                    .map(Person::display_name)
                    .collect(),
                paid: self
                    .db()
                    .paid(&project.id)?
                    .into_iter()
                    .map(|(currency, amount)| Money { currency, amount })
                    .collect(),
                next_due: date(next)?,
                overdue: is_overdue,
                project,
            });
        }
        let stage_rank = |r: &ProjectRow| {
            schema::STAGES
                .iter()
                .position(|s| Some(*s) == r.project.stage.as_deref())
                .unwrap_or(usize::MAX)
        };
        let paid = |r: &ProjectRow| r.paid.iter().map(|m| m.amount).sum::<Decimal>();
        match q.sort.as_str() {
            "" | "title" => rows.sort_by_key(|r| r.project.title.clone()),
            "stage" => rows.sort_by_key(stage_rank),
            "paid" => rows.sort_by_key(paid),
            "next_due" => rows.sort_by_key(|r| r.next_due),
            "opened" => rows.sort_by(|a, b| a.project.id.cmp(&b.project.id)),
            other => {
                return Err(refused_sort(
                    other,
                    &["title", "stage", "paid", "next_due", "opened"],
                ))
            }
        }
        if q.descending {
            rows.reverse();
        }
        let total = rows.len() as u64;
        let limit = q.limit.clamp(1, 200) as usize;
        let rows = rows
            .into_iter()
            .skip(q.offset as usize)
            .take(limit)
            .collect();
        Ok(ProjectsPage {
            total,
            offset: q.offset,
            rows,
        })
    }

    /// The visits this user owes on `day`: overdue follow-ups of the projects they opened.
    pub fn my_visits_due(&self, day: NaiveDate) -> Result<Vec<VisitDue>> {
        let mut out = Vec::new();
        for (project, due) in self.overdue_followups(day)? {
            let p = Project::existing(self.conn(), &project)?;
            if !Sight::own(self.user()).follows(p.counsellor.as_deref()) {
                continue;
            }
            let members = self.members(&project)?;
            let due = date(Some(due))?.unwrap_or(day);
            out.push(VisitDue {
                beneficiaries: members.iter().map(Person::display_name).collect(),
                phone: members.iter().find_map(|m| m.phone.clone()),
                days_overdue: (day - due).num_days(),
                due,
                title: p.title,
                project,
            });
        }
        Ok(out)
    }

    /// The latest events on this laptop, newest first, as things that happened rather
    /// than fields written.
    pub fn recent_events(&self, limit: usize) -> Result<Vec<RecentEvent>> {
        let mut stmt = self.conn().prepare(
            "SELECT entity, record, field, value, creates, user_name, at, seq FROM changes
             WHERE entity <> 'user' ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map(params![(limit * 60) as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // The fields written with a record's creation follow its first change in the log,
        // one after the other: they are part of it, not later updates.
        let mut with_creation = std::collections::HashSet::new();
        let mut creating: Option<&str> = None;
        for r in rows.iter().rev() {
            if r.4 {
                creating = Some(&r.1);
            } else if creating == Some(r.1.as_str()) {
                with_creation.insert(r.7);
            } else {
                creating = None;
            }
        }
        let mut out: Vec<RecentEvent> = Vec::new();
        let title_of = |entity: &str, id: &str| -> Result<Option<(String, String, String)>> {
            Ok(match entity {
                "person" => Person::read(self.conn(), id)?
                    .map(|p| ("person".into(), id.to_string(), p.display_name())),
                "project" => Project::read(self.conn(), id)?.map(|p| {
                    (
                        "project".into(),
                        id.to_string(),
                        p.title.unwrap_or_default(),
                    )
                }),
                "session" => Session::read(self.conn(), id)?.map(|s| {
                    (
                        "session".into(),
                        id.to_string(),
                        s.topic.unwrap_or_default(),
                    )
                }),
                _ => None,
            })
        };
        for (entity, record, field, value, creates, user, at, seq) in rows {
            if with_creation.contains(&seq) {
                continue;
            }
            let text = crate::schema::Value::from_json(value.as_deref())
                .as_str()
                .map(str::to_string);
            let (kind, about, detail) = match (entity.as_str(), creates, field.as_str()) {
                ("person", true, _) => ("person_registered", title_of("person", &record)?, None),
                ("project", true, _) => ("project_opened", title_of("project", &record)?, None),
                ("project", false, "stage") => {
                    ("project_stage", title_of("project", &record)?, text)
                }
                ("session", true, _) => ("session_created", title_of("session", &record)?, None),
                ("disbursement", true, _) => match Disbursement::read(self.conn(), &record)? {
                    Some(d) => (
                        "tranche_paid",
                        title_of("project", d.project_id.as_deref().unwrap_or(""))?,
                        d.amount
                            .map(|a| format!("{a} {}", d.currency.unwrap_or_default())),
                    ),
                    None => continue,
                },
                ("followup", true, _) => match FollowUp::read(self.conn(), &record)? {
                    Some(f) => (
                        "visit_recorded",
                        title_of("project", f.project_id.as_deref().unwrap_or(""))?,
                        f.status,
                    ),
                    None => continue,
                },
                ("referral", true, _) => match crate::domain::Referral::read(self.conn(), &record)?
                {
                    Some(r) => (
                        "person_referred",
                        title_of("person", r.person_id.as_deref().unwrap_or(""))?,
                        r.partner,
                    ),
                    None => continue,
                },
                (
                    "person" | "project",
                    false,
                    "stage_date" | "counsellor" | "erased" | "birth_year",
                ) => continue,
                ("person" | "project", false, _) => (
                    "record_updated",
                    title_of(&entity, &record)?,
                    Some(field.clone()),
                ),
                _ => continue,
            };
            let Some((entity, record, title)) = about else {
                continue;
            };
            // One event for the several fields of one correction.
            if let Some(last) = out.last() {
                if last.kind == kind && last.record == record && last.at == at {
                    continue;
                }
            }
            out.push(RecentEvent {
                kind: kind.into(),
                entity,
                record,
                title,
                detail,
                user,
                at,
            });
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// What the counsellor sees first: the visits they owe, today's and coming sessions,
    /// their persons with their true count, the latest events and the last exchange.
    pub fn home(&self) -> Result<Home> {
        let today = self.clock().today();
        let day = today.format("%Y-%m-%d").to_string();
        let (condition, arg) = Sight::own(self.user()).condition_1("p");
        let caseload_count: i64 = self.conn().query_row(
            &format!("SELECT count(*) FROM persons p WHERE {condition}"),
            [&arg],
            |r| r.get(0),
        )?;
        Ok(Home {
            today,
            overdue: self.my_visits_due(today)?,
            sessions: Session::select(
                self.conn(),
                "WHERE t.date >= ?1 ORDER BY t.date, t.id LIMIT 10",
                [day],
            )?,
            caseload: self.caseload(20)?,
            caseload_count,
            recent: self.recent_events(10)?,
            sync: self.sync_state()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{kv, person, temp_db};

    #[test]
    fn a_timeline_names_the_project_of_its_tranches_and_visits() {
        let (_d, mut m) = temp_db();
        for (list, name) in [("sector", "food"), ("donor", "EU"), ("currency", "MAD")] {
            m.add_reference(list, name).unwrap();
        }
        let a = person(&mut m, "Amina", "female", "1990-01-01");
        let p = m
            .add_project(
                "Bakery",
                "creation",
                "food",
                std::slice::from_ref(&a),
                Some("2024-01-01"),
            )
            .unwrap();
        m.add_budget_line(&p, "Oven", "1", "900").unwrap();
        m.set_stage(&p, "plan_ready", "2024-01-02").unwrap();
        m.set_stage(&p, "in_committee", "2024-01-03").unwrap();
        m.decide(
            &p,
            "approved",
            "2024-01-04",
            Some("1000"),
            Some("MAD"),
            None,
        )
        .unwrap();
        m.add_disbursement(&p, "2024-01-05", "1000", "MAD", "EU", None, None)
            .unwrap();
        m.add_followup(&p, &kv(&[("date", "2024-02-01"), ("status", "active")]))
            .unwrap();
        let t = m.timeline(&a).unwrap();
        let of = |kind: &str| {
            t.events
                .iter()
                .find(|e| e.kind == kind)
                .unwrap_or_else(|| panic!("no {kind} in {:?}", t.events))
        };
        assert_eq!(of("disbursement").project.as_deref(), Some(p.as_str()));
        assert_eq!(of("followup").project.as_deref(), Some(p.as_str()));
        assert_ne!(of("disbursement").id, p, "the event keeps its own id");
        assert_eq!(of("stage:funded").project.as_deref(), Some(p.as_str()));
    }

    #[test]
    fn home_lists_recent_events_in_words_and_the_true_count_of_my_persons() {
        let (_d, mut m) = temp_db();
        for i in 0..25 {
            person(&mut m, &format!("P{i}"), "female", "1990-01-01");
        }
        let a = person(&mut m, "Amina", "female", "1990-01-01");
        let p = m
            .add_project(
                "Bakery",
                "creation",
                "food",
                std::slice::from_ref(&a),
                Some("2024-01-01"),
            )
            .unwrap();
        m.add_budget_line(&p, "Oven", "1", "900").unwrap();
        m.set_stage(&p, "plan_ready", "2024-01-02").unwrap();
        m.set_person(&a, &kv(&[("city", "Rabat"), ("phone", "0600")]))
            .unwrap();
        let home = m.home().unwrap();
        assert_eq!((home.caseload.len(), home.caseload_count), (20, 26));
        let kinds: Vec<(&str, &str, Option<&str>)> = home
            .recent
            .iter()
            .map(|e| (e.kind.as_str(), e.title.as_str(), e.detail.as_deref()))
            .collect();
        assert_eq!(
            kinds[0],
            ("record_updated", "Amina Test", Some("phone")),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&("project_stage", "Bakery", Some("plan_ready"))),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&("project_opened", "Bakery", None)),
            "{kinds:?}"
        );
        assert!(
            !kinds
                .iter()
                .any(|k| k.2 == Some("project_id") || k.2 == Some("stage_date")),
            "{kinds:?}"
        );
    }

    #[test]
    fn the_persons_table_filters_sorts_and_pages_in_the_database() {
        let (_d, mut m) = temp_db();
        for (i, city) in ["Rabat", "Oujda", "Rabat"]
            .iter()
            .cycle()
            .take(30)
            .enumerate()
        {
            m.add_person(&kv(&[
                ("given", &format!("Fatima{i:02}")),
                ("family", "Nasser"),
                ("sex", "female"),
                ("born", &format!("19{:02}-01-01", 60 + i)),
                ("nationality", "SYR"),
                ("city", city),
            ]))
            .unwrap();
        }
        let q = |search: Option<&str>,
                 city: Option<&str>,
                 sort: &str,
                 descending: bool,
                 offset: u32| crate::PersonQuery {
            search: search.map(Into::into),
            mine: true,
            city: city.map(Into::into),
            sort: sort.into(),
            descending,
            offset,
            limit: 7,
        };
        let page = m.persons_page(&q(None, None, "born", false, 0)).unwrap();
        assert_eq!((page.total, page.rows.len()), (30, 7));
        assert_eq!(page.rows[0].given.as_deref(), Some("Fatima00"));
        assert_eq!(page.cities, vec!["Oujda".to_string(), "Rabat".to_string()]);
        let last = m.persons_page(&q(None, None, "born", false, 28)).unwrap();
        assert_eq!(last.rows.len(), 2);
        let rabat = m
            .persons_page(&q(Some("nass"), Some("rabat"), "born", true, 0))
            .unwrap();
        assert_eq!(rabat.total, 20);
        assert_eq!(rabat.rows[0].given.as_deref(), Some("Fatima29"));
        assert_eq!(
            m.persons_page(&q(Some("zz"), None, "name", false, 0))
                .unwrap()
                .total,
            0
        );
        assert_eq!(
            m.persons_page(&q(None, None, "shoe size", false, 0))
                .unwrap_err()
                .code(),
            "input.invalid"
        );
    }

    #[test]
    fn a_search_walking_persons_in_name_order_gives_the_pages_that_sorting_its_matches_gives() {
        let (_d, mut m) = temp_db();
        let given = ["Amina", "Samir", "Salma", "Karim", "Sara", "Omar"];
        let family = ["Haddad", "Saleh", "Nasser", "Khatib", "Sabri"];
        let mut csv =
            String::from("given,family,given_ar,sex,born,nationality,phone,unhcr_id,city\n");
        for i in 0..240 {
            let (g, f) = (
                given[i % given.len()],
                family[(i / given.len()) % family.len()],
            );
            let ar = ["أمينة", "سمير", "سلمى"][i % 3];
            let city = ["Rabat", "Oujda", "rabat"][i % 3];
            csv.push_str(&format!(
                "{g},{f},{ar},female,1990-01-01,SYR,06{i:08},250-00C{i:05},{city}\n"
            ));
        }
        m.import_persons_csv(csv.as_bytes()).unwrap();
        for needle in [
            "amina",
            "sa",
            "sal",
            "adda",
            "karim hadd",
            "سلم",
            "0600000012",
            "250 00c",
            "zz",
        ] {
            for (sort, descending) in [
                ("", false),
                ("name", false),
                ("name", true),
                ("born", false),
            ] {
                for offset in [0, 15, 90] {
                    for city in [None, Some("RABAT")] {
                        let q = crate::PersonQuery {
                            search: Some(needle.into()),
                            mine: false,
                            city: city.map(Into::into),
                            sort: sort.into(),
                            descending,
                            offset,
                            limit: 15,
                        };
                        let walked = m.persons_page_walking_from(&q, 0).unwrap();
                        let sorted = m.persons_page_walking_from(&q, u64::MAX).unwrap();
                        assert_eq!(walked, sorted, "{q:?}");
                    }
                }
            }
        }
        let all = |needle: &str| crate::PersonQuery {
            search: Some(needle.into()),
            limit: 200,
            ..Default::default()
        };
        assert_eq!(m.persons_page(&all("amina")).unwrap().total, 40);
        assert_eq!(
            m.persons_page(&all("sa")).unwrap().total,
            120 + 48,
            "Samir, Salma and Sara, and two in five of the others (Saleh, Sabri)"
        );
    }

    #[test]
    fn the_projects_table_shows_what_was_paid_and_the_next_visit() {
        let (_d, mut m) = temp_db();
        let a = person(&mut m, "Amina", "female", "1990-01-01");
        let mut ids = Vec::new();
        for (i, amount) in ["300", "100", "200"].iter().enumerate() {
            let p = m
                .add_project(
                    &format!("Shop {i}"),
                    "creation",
                    "food",
                    std::slice::from_ref(&a),
                    Some("2024-01-01"),
                )
                .unwrap();
            m.add_budget_line(&p, "Stock", "1", amount).unwrap();
            m.set_stage(&p, "plan_ready", "2024-01-02").unwrap();
            m.set_stage(&p, "in_committee", "2024-01-03").unwrap();
            m.decide(
                &p,
                "approved",
                "2024-01-04",
                Some(amount),
                Some("MAD"),
                None,
            )
            .unwrap();
            m.add_disbursement(&p, "2024-01-05", amount, "MAD", "EU", None, None)
                .unwrap();
            ids.push(p);
        }
        m.add_followup(
            &ids[1],
            &kv(&[
                ("date", "2024-02-01"),
                ("status", "active"),
                ("next_due", "2024-03-01"),
            ]),
        )
        .unwrap();
        let q = crate::ProjectQuery {
            sort: "paid".into(),
            limit: 50,
            ..Default::default()
        };
        let page = m.projects_page(&q).unwrap();
        let titles: Vec<_> = page
            .rows
            .iter()
            .map(|r| r.project.title.clone().unwrap_or_default())
            .collect();
        assert_eq!(titles, vec!["Shop 1", "Shop 2", "Shop 0"]);
        assert_eq!(
            page.rows[0].next_due.map(|d| d.to_string()).as_deref(),
            Some("2024-03-01")
        );
        assert!(page.rows[0].overdue, "the fixed clock is at 2024-06-01");
        let overdue = m
            .projects_page(&crate::ProjectQuery {
                overdue: true,
                limit: 50,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(overdue.total, 1);
        let funded = m
            .projects_page(&crate::ProjectQuery {
                stage: Some("funded".into()),
                limit: 2,
                ..Default::default()
            })
            .unwrap();
        assert_eq!((funded.total, funded.rows.len()), (3, 2));
    }

    #[test]
    fn a_project_view_says_what_the_rules_allow_for_the_user() {
        let (_d, mut m) = temp_db();
        m.add_reference("sector", "food").unwrap();
        let a = person(&mut m, "Amina", "female", "1990-01-01");
        let p = m
            .add_project("Bakery", "creation", "food", &[a], Some("2024-01-01"))
            .unwrap();
        m.add_budget_line(&p, "Oven", "1", "900").unwrap();
        m.set_stage(&p, "plan_ready", "2024-01-02").unwrap();
        let v = m.project_view(&p).unwrap();
        assert_eq!(
            v.rules.next_stages,
            vec!["in_committee".to_string(), "draft".to_string()]
        );
        assert!(!v.rules.can_disburse && !v.rules.can_visit && !v.rules.can_decide);
        m.set_stage(&p, "in_committee", "2024-01-03").unwrap();
        let v = m.project_view(&p).unwrap();
        assert!(
            v.rules.next_stages.is_empty(),
            "a committee's outcome is a decision: {:?}",
            v.rules.next_stages
        );
        assert!(v.rules.can_decide, "the test user is an admin");
        assert!(!v.rules.can_amend, "nothing approved yet");
        assert_eq!(
            v.decision_currency, None,
            "neither programme nor plan currency"
        );
        m.add_reference("currency", "MAD").unwrap();
        m.set_programme_currency("MAD").unwrap();
        let v = m.project_view(&p).unwrap();
        assert_eq!(v.decision_currency.as_deref(), Some("MAD"));
        m.decide(&p, "approved", "2024-01-04", Some("900"), None, None)
            .unwrap();
        let v = m.project_view(&p).unwrap();
        assert!(
            !v.rules.can_decide && v.rules.can_amend,
            "a new decision amends it"
        );
        assert_eq!(v.project.approved_currency.as_deref(), Some("MAD"));
    }
}
