// Generated from the Rust core's answers by ts-rs (crates/masar-core/src/typescript.rs).
// Do not edit: change the Rust struct, then run
// `MASAR_WRITE_TYPES=1 cargo test -p masar-core --lib typescript`.

export type ErrorReport = { 
/**
 * Stable machine-readable code, such as `input.invalid`.
 */
code: string, 
/**
 * The core's message, naming what is wrong and what to do.
 */
message: string, 
/**
 * The field concerned, when there is one.
 */
field: string | null, 
/**
 * The specific reason (`not_a_date`, `plan_frozen`, …), so a window can say it in
 * the user's language.
 */
reason: string | null, 
/**
 * What that sentence needs: the value typed, stages, dates, amounts.
 */
params: { [key in string]: string }, };

export type Versions = { 
/**
 * The application's version.
 */
app: string, 
/**
 * The database schema it opens and upgrades to.
 */
schema: number, 
/**
 * The bundle format it writes (and the oldest it reads).
 */
bundle_format: number, 
/**
 * The oldest bundle format it reads.
 */
oldest_bundle_format: number, };

export type AppInfo = { 
/**
 * The database file.
 */
db: string, 
/**
 * Whether it exists yet (else the first-run screen is shown).
 */
exists: boolean, 
/**
 * Whether it is the demo database, whose accounts the login screen may show.
 */
demo: boolean, 
/**
 * Masar's version, its database schema's and its bundle format's.
 */
versions: Versions, 
/**
 * The system's language as the operating system names it ("fr-FR", "ar-MA"), which
 * the window speaks until the user chooses.
 */
system_language: string | null, 
/**
 * Where the window writes its log for support, when it keeps one.
 */
log_folder: string | null, };

export type SessionInfo = { 
/**
 * Log-in name.
 */
user: string, 
/**
 * Role.
 */
role: string, 
/**
 * The organisation's name.
 */
org_name: string, 
/**
 * This laptop's name.
 */
device_name: string, 
/**
 * The user's language on this laptop, when chosen.
 */
language: string | null, 
/**
 * The Arabic month names the user reads: maghreb, levant or standard.
 */
months: string | null, 
/**
 * The digits the user reads in Arabic: latn (0123) or arab (٠١٢٣).
 */
digits: string | null, 
/**
 * Whether this is the demo database.
 */
demo: boolean, 
/**
 * What the user may do.
 */
permissions: Permissions, 
/**
 * The choice lists.
 */
choices: Choices, 
/**
 * Today, by the core's clock: the default date of every form.
 */
today: string, };

export type Permissions = { 
/**
 * Add users, change roles, enrol laptops.
 */
manage_users: boolean, 
/**
 * Edit the organisation's reference lists.
 */
edit_reference_lists: boolean, 
/**
 * Record committee decisions, resolve conflicts, export for another laptop's scope.
 */
decide_in_committee: boolean, 
/**
 * Erase a person's personal data.
 */
erase_person: boolean, 
/**
 * Record the daily work.
 */
record_work: boolean, 
/**
 * Export person-level tables (persons, attendance).
 */
export_person_data: boolean, 
/**
 * Write the report to donors; without it the dashboard shows one's own caseload.
 */
report_to_donors: boolean, };

export type Choices = { 
/**
 * Sexes.
 */
sexes: Array<string>, 
/**
 * Legal statuses.
 */
legal_statuses: Array<string>, 
/**
 * Kinds of session.
 */
session_kinds: Array<string>, 
/**
 * Kinds of project.
 */
project_kinds: Array<string>, 
/**
 * Project stages, in journey order.
 */
stages: Array<Stage>, 
/**
 * Ways a tranche is paid.
 */
modes: Array<string>, 
/**
 * What a follow-up visit may find.
 */
followup_statuses: Array<string>, 
/**
 * Where a referral may stand.
 */
referral_statuses: Array<string>, 
/**
 * The organisation's reference lists.
 */
reference_lists: Array<string>, 
/**
 * Roles, lowest first.
 */
roles: Array<Role>, 
/**
 * What a committee may decide.
 */
decisions: Array<Decision>, 
/**
 * Ways the indicators may be split.
 */
dimensions: Array<string>, 
/**
 * The indicators, in the order of the programme's closing table.
 */
indicators: Array<string>, 
/**
 * Nationalities offered first: ISO alpha-3 and alpha-2 codes.
 */
countries: Array<[string, string]>, 
/**
 * Tables that can be exported.
 */
export_tables: Array<string>, 
/**
 * Of those, the ones that hold persons (for supervisors and administrators).
 */
person_level_tables: Array<string>, 
/**
 * File formats of an export.
 */
export_formats: Array<string>, 
/**
 * A person's required fields (`born` may be given as `birth_year`).
 */
person_required: Array<string>, };

export type Id = { 
/**
 * The record's id.
 */
id: string, };

export type Created = { 
/**
 * The organisation's id.
 */
org_id: string, 
/**
 * This laptop's id.
 */
device_id: string, };

export type Status = { 
/**
 * The organisation's id.
 */
org_id: string, 
/**
 * The organisation's name.
 */
org_name: string, 
/**
 * This laptop's id.
 */
device_id: string, 
/**
 * This laptop's name.
 */
device_name: string, 
/**
 * The logged-in user's name.
 */
user: string, 
/**
 * Their role.
 */
role: string, 
/**
 * The schema version of the file.
 */
schema_version: number, 
/**
 * Changes in the log.
 */
changes: number, 
/**
 * Persons registered.
 */
persons: number, 
/**
 * Projects opened.
 */
projects: number, };

export type Enrolled = { 
/**
 * The new laptop's device id.
 */
device_id: string, 
/**
 * The enrolment file.
 */
file: string, };

export type UserSummary = { 
/**
 * Stable id.
 */
id: string, 
/**
 * Log-in name.
 */
name: string, 
/**
 * Role name.
 */
role: string, 
/**
 * Whether the account may log in.
 */
active: boolean, };

export type Person = { 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * Given name, Latin script.
 */
given: string | null, 
/**
 * Family name, Latin script.
 */
family: string | null, 
/**
 * Given name, Arabic script.
 */
given_ar: string | null, 
/**
 * Family name, Arabic script.
 */
family_ar: string | null, 
/**
 * female, male or other.
 */
sex: string | null, 
/**
 * Date of birth.
 */
born: string | null, 
/**
 * Year of birth, kept after erasure so that age brackets stay true.
 */
birth_year: number | null, 
/**
 * ISO 3166-1 alpha-3 code.
 */
nationality: string | null, 
/**
 * refugee, asylum_seeker or other.
 */
legal_status: string | null, 
/**
 * UNHCR registration number.
 */
unhcr_id: string | null, 
/**
 * Date of arrival in the country.
 */
arrival: string | null, 
/**
 * City of residence.
 */
city: string | null, 
/**
 * Persons in the household.
 */
household_size: number | null, 
/**
 * Languages spoken.
 */
languages: string | null, 
/**
 * Education.
 */
education: string | null, 
/**
 * Occupation before exile.
 */
occupation: string | null, 
/**
 * Skills.
 */
skills: string | null, 
/**
 * Needs expressed.
 */
needs: string | null, 
/**
 * Phone number.
 */
phone: string | null, 
/**
 * Date consent was given.
 */
consent: string | null, 
/**
 * What the consent covers.
 */
consent_scope: string | null, 
/**
 * The user who registered the person.
 */
counsellor: string | null, 
/**
 * Whether the person's personal data was erased.
 */
erased: boolean, };

export type Intake = { 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * The person received.
 */
person_id: string | null, 
/**
 * When.
 */
date: string | null, 
/**
 * Who referred them.
 */
referral: string | null, 
/**
 * Notes.
 */
notes: string | null, 
/**
 * The user who received them.
 */
counsellor: string | null, };

export type Session = { 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * awareness or training.
 */
kind: string | null, 
/**
 * When it took place.
 */
date: string | null, 
/**
 * Its topic.
 */
topic: string | null, 
/**
 * Where.
 */
place: string | null, 
/**
 * Who led it.
 */
facilitator: string | null, };

export type Project = { 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * Short title.
 */
title: string | null, 
/**
 * creation, reinforcement or cooperative.
 */
kind: string | null, 
/**
 * Sector, from the organisation's list.
 */
sector: string | null, 
/**
 * Where it operates.
 */
place: string | null, 
/**
 * Description.
 */
description: string | null, 
/**
 * The currency of its plan (ISO 4217).
 */
currency: string | null, 
/**
 * The members' own contribution.
 */
own_contribution: string | null, 
/**
 * The amount asked of the committee.
 */
amount_requested: string | null, 
/**
 * Current stage.
 */
stage: string | null, 
/**
 * When it reached that stage.
 */
stage_date: string | null, 
/**
 * When the committee decided.
 */
committee_date: string | null, 
/**
 * The amount the committee approved.
 */
approved_amount: string | null, 
/**
 * The currency of the approved amount (ISO 4217).
 */
approved_currency: string | null, 
/**
 * The committee's remarks.
 */
committee_remarks: string | null, 
/**
 * Legal registration date of a cooperative.
 */
registered_on: string | null, 
/**
 * The user who opened it.
 */
counsellor: string | null, };

export type BudgetLine = { 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * The project.
 */
project_id: string | null, 
/**
 * What is bought.
 */
item: string | null, 
/**
 * How many.
 */
quantity: string | null, 
/**
 * At what unit cost.
 */
unit_cost: string | null, 
/**
 * Whether the line is still in the plan.
 */
active: boolean, };

export type BudgetLineView = { 
/**
 * Quantity × unit cost.
 */
total: string, 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * The project.
 */
project_id: string | null, 
/**
 * What is bought.
 */
item: string | null, 
/**
 * How many.
 */
quantity: string | null, 
/**
 * At what unit cost.
 */
unit_cost: string | null, 
/**
 * Whether the line is still in the plan.
 */
active: boolean, };

export type BudgetSummary = { 
/**
 * The active budget lines.
 */
lines: Array<BudgetLineView>, 
/**
 * Sum of quantity × unit cost over the lines.
 */
total: string, 
/**
 * The members' own contribution.
 */
own_contribution: string, 
/**
 * Total minus own contribution, never below zero.
 */
to_finance: string, 
/**
 * The currency of the plan, when set.
 */
currency: string | null, };

export type StageEvent = { 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * The project.
 */
project_id: string | null, 
/**
 * The stage reached.
 */
stage: string | null, 
/**
 * When.
 */
date: string | null, 
/**
 * Whether the change was taken back.
 */
undone: boolean, };

export type Disbursement = { 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * The project.
 */
project_id: string | null, 
/**
 * When it was paid.
 */
date: string | null, 
/**
 * How much.
 */
amount: string | null, 
/**
 * In which currency (ISO 4217).
 */
currency: string | null, 
/**
 * Paid from which donor's funds.
 */
donor: string | null, 
/**
 * cash, in_kind or transfer.
 */
mode: string | null, 
/**
 * Receipt reference.
 */
receipt: string | null, 
/**
 * Why a supervisor paid above the approved amount.
 */
override_reason: string | null, };

export type FollowUp = { 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * The project.
 */
project_id: string | null, 
/**
 * When.
 */
date: string | null, 
/**
 * active, struggling, suspended or closed.
 */
status: string | null, 
/**
 * Revenue since the last visit.
 */
revenue: string | null, 
/**
 * Profit (or loss) since the last visit.
 */
profit: string | null, 
/**
 * Jobs the activity provides.
 */
jobs: number | null, 
/**
 * Notes.
 */
notes: string | null, 
/**
 * When the next visit is due.
 */
next_due: string | null, };

export type Referral = { 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * The person referred.
 */
person_id: string | null, 
/**
 * The partner, from the organisation's list.
 */
partner: string | null, 
/**
 * When.
 */
date: string | null, 
/**
 * pending, accepted, completed or declined.
 */
status: string | null, 
/**
 * Notes.
 */
notes: string | null, };

export type PersonImport = { 
/**
 * How many persons were registered.
 */
imported: number, 
/**
 * The new persons' ids, in file order.
 */
ids: Array<string>, };

export type ProjectRules = { 
/**
 * The stages this user may move the project to by hand, in journey order (`funded`
 * comes with the first disbursement, and committee decisions with a decision).
 */
next_stages: Array<Stage>, 
/**
 * Whether this user may record the committee's decision now.
 */
can_decide: boolean, 
/**
 * Whether this user may record a new decision on the approved project (an extension
 * or a corrected amount or currency): the only way its approval changes.
 */
can_amend: boolean, 
/**
 * Whether a tranche may be paid now.
 */
can_disburse: boolean, 
/**
 * Whether follow-up visits may be recorded now.
 */
can_visit: boolean, 
/**
 * Whether the project is a cooperative, whose legal registration date may be set.
 */
can_register: boolean, 
/**
 * Whether the business plan may still change (it is frozen from committee on).
 */
can_edit_budget: boolean, 
/**
 * Whether this user may pay above the approved amount, giving a reason.
 */
can_override_approved: boolean, 
/**
 * The stage an undo would return the project to, when the last change of stage may
 * be taken back (nothing depends on it yet).
 */
undo_to: Stage | null, };

export type SessionTile = { 
/**
 * Persons present.
 */
attendees: number, 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * awareness or training.
 */
kind: string | null, 
/**
 * When it took place.
 */
date: string | null, 
/**
 * Its topic.
 */
topic: string | null, 
/**
 * Where.
 */
place: string | null, 
/**
 * Who led it.
 */
facilitator: string | null, };

export type SessionView = { 
/**
 * The session.
 */
session: Session, 
/**
 * The persons present.
 */
attendees: Array<Person>, };

export type ProjectTile = { 
/**
 * Its members' names.
 */
member_names: Array<string>, 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * Short title.
 */
title: string | null, 
/**
 * creation, reinforcement or cooperative.
 */
kind: string | null, 
/**
 * Sector, from the organisation's list.
 */
sector: string | null, 
/**
 * Where it operates.
 */
place: string | null, 
/**
 * Description.
 */
description: string | null, 
/**
 * The currency of its plan (ISO 4217).
 */
currency: string | null, 
/**
 * The members' own contribution.
 */
own_contribution: string | null, 
/**
 * The amount asked of the committee.
 */
amount_requested: string | null, 
/**
 * Current stage.
 */
stage: string | null, 
/**
 * When it reached that stage.
 */
stage_date: string | null, 
/**
 * When the committee decided.
 */
committee_date: string | null, 
/**
 * The amount the committee approved.
 */
approved_amount: string | null, 
/**
 * The currency of the approved amount (ISO 4217).
 */
approved_currency: string | null, 
/**
 * The committee's remarks.
 */
committee_remarks: string | null, 
/**
 * Legal registration date of a cooperative.
 */
registered_on: string | null, 
/**
 * The user who opened it.
 */
counsellor: string | null, };

export type Money = { 
/**
 * ISO 4217 code.
 */
currency: string, 
/**
 * Exact amount.
 */
amount: string, };

export type ProjectView = { 
/**
 * The project.
 */
project: Project, 
/**
 * Its members.
 */
members: Array<Person>, 
/**
 * Its business plan.
 */
budget: BudgetSummary, 
/**
 * Its stages, oldest first.
 */
stages: Array<StageEvent>, 
/**
 * Tranches paid, oldest first.
 */
disbursements: Array<Disbursement>, 
/**
 * What was paid in all, per currency.
 */
paid: Array<Money>, 
/**
 * What may still be paid of the approved amount, in its currency (none before
 * approval, or when approved without an amount).
 */
remaining: Money | null, 
/**
 * Follow-up visits, oldest first.
 */
followups: Array<FollowUp>, 
/**
 * What the rules allow now, for this user.
 */
rules: ProjectRules, 
/**
 * Its tranches that do not count (`crate::money`), with why: shown beside them, so
 * that what was paid and what remains of the approval add up.
 */
held: Array<Held>, 
/**
 * The currency the committee's approval is in unless another is chosen: the
 * programme's, else the plan's.
 */
decision_currency: string | null, };

export type PersonSort = "" | "name" | "born" | "city" | "unhcr_id" | "registered";

export type PersonQuery = { 
/**
 * A fragment of a name (either script), a UNHCR number or a phone.
 */
search: string | null, 
/**
 * Only the persons this user registered.
 */
mine: boolean, 
/**
 * Only the persons of this city.
 */
city: string | null, 
/**
 * The column the table is ordered by.
 */
sort: PersonSort, 
/**
 * Largest first.
 */
descending: boolean, 
/**
 * Rows skipped.
 */
offset: number, 
/**
 * Rows wanted (at most 200).
 */
limit: number, };

export type PersonsPage = { 
/**
 * Persons matching the filters, in all.
 */
total: number, 
/**
 * Rows skipped.
 */
offset: number, 
/**
 * This page's persons.
 */
rows: Array<Person>, 
/**
 * The cities persons live in, for the filter.
 */
cities: Array<string>, };

export type ProjectSort = "title" | "stage" | "paid" | "next_due" | "opened";

export type ProjectQuery = { 
/**
 * A fragment of the title.
 */
search: string | null, 
/**
 * Only the projects this user opened.
 */
mine: boolean, 
/**
 * Only the projects at this stage.
 */
stage: string | null, 
/**
 * Only the projects whose follow-up visit is overdue today.
 */
overdue: boolean, 
/**
 * The column the table is ordered by.
 */
sort: ProjectSort, 
/**
 * Largest first.
 */
descending: boolean, 
/**
 * Rows skipped.
 */
offset: number, 
/**
 * Rows wanted (at most 200).
 */
limit: number, };

export type ProjectRow = { 
/**
 * Its members' names.
 */
member_names: Array<string>, 
/**
 * What was paid, per currency.
 */
paid: Array<Money>, 
/**
 * When the next visit is due, by the latest visit.
 */
next_due: string | null, 
/**
 * Whether that visit is overdue today.
 */
overdue: boolean, 
/**
 * Stable id, the same on every laptop.
 */
id: string, 
/**
 * Short title.
 */
title: string | null, 
/**
 * creation, reinforcement or cooperative.
 */
kind: string | null, 
/**
 * Sector, from the organisation's list.
 */
sector: string | null, 
/**
 * Where it operates.
 */
place: string | null, 
/**
 * Description.
 */
description: string | null, 
/**
 * The currency of its plan (ISO 4217).
 */
currency: string | null, 
/**
 * The members' own contribution.
 */
own_contribution: string | null, 
/**
 * The amount asked of the committee.
 */
amount_requested: string | null, 
/**
 * Current stage.
 */
stage: string | null, 
/**
 * When it reached that stage.
 */
stage_date: string | null, 
/**
 * When the committee decided.
 */
committee_date: string | null, 
/**
 * The amount the committee approved.
 */
approved_amount: string | null, 
/**
 * The currency of the approved amount (ISO 4217).
 */
approved_currency: string | null, 
/**
 * The committee's remarks.
 */
committee_remarks: string | null, 
/**
 * Legal registration date of a cooperative.
 */
registered_on: string | null, 
/**
 * The user who opened it.
 */
counsellor: string | null, };

export type ProjectsPage = { 
/**
 * Projects matching the filters, in all.
 */
total: number, 
/**
 * Rows skipped.
 */
offset: number, 
/**
 * This page's projects.
 */
rows: Array<ProjectRow>, };

export type TimelineEvent = { 
/**
 * When.
 */
date: string | null, 
/**
 * intake, awareness, training, stage:STAGE, disbursement, followup or referral.
 */
kind: string, 
/**
 * The event's own record.
 */
id: string, 
/**
 * The project it belongs to, for stages, tranches and visits.
 */
project: string | null, 
/**
 * A short description.
 */
label: string, };

export type Timeline = { 
/**
 * The person.
 */
person: Person, 
/**
 * Their events, oldest first.
 */
events: Array<TimelineEvent>, };

export type RecentEvent = { 
/**
 * person_registered, project_opened, project_stage, tranche_paid, visit_recorded,
 * session_created, person_referred or record_updated.
 */
kind: string, 
/**
 * The entity of the record concerned (`person`, `project`, `session`).
 */
entity: string, 
/**
 * Its id.
 */
record: string, 
/**
 * How it is named: a person's name, a project's title, a session's topic.
 */
title: string, 
/**
 * The stage reached, the amount paid, or the field changed.
 */
detail: string | null, 
/**
 * Who.
 */
user: string | null, 
/**
 * When, by the writer's clock.
 */
at: string, };

export type VisitDue = { 
/**
 * The project.
 */
project: string, 
/**
 * Its title.
 */
title: string | null, 
/**
 * Its members' names.
 */
beneficiaries: Array<string>, 
/**
 * The first member's phone, when recorded.
 */
phone: string | null, 
/**
 * When the visit was due.
 */
due: string, 
/**
 * Days since then.
 */
days_overdue: number, };

export type SyncState = { 
/**
 * When this laptop last exported.
 */
last_export: string | null, 
/**
 * When it last imported.
 */
last_import: string | null, 
/**
 * Bundles imported so far.
 */
bundles_imported: number, 
/**
 * Records waiting for what they link to.
 */
pending: number, 
/**
 * Open conflicts.
 */
conflicts: number, 
/**
 * The sync folder, when set.
 */
sync_folder: string | null, 
/**
 * When the last sync through the folder ended (RFC 3339).
 */
last_sync: string | null, 
/**
 * What went wrong at the last sync through the folder, if anything did: the folder
 * unreachable, or bundles refused.
 */
last_sync_error: string | null, };

export type OverdueVisit = { 
/**
 * The project.
 */
project: string, 
/**
 * Its title.
 */
title: string | null, 
/**
 * Its stage.
 */
stage: string | null, 
/**
 * When the visit was due.
 */
due: string, };

export type Home = { 
/**
 * Today, by the core's clock.
 */
today: string, 
/**
 * The visits this user owes, most overdue first.
 */
overdue: Array<VisitDue>, 
/**
 * Today's and coming sessions.
 */
sessions: Array<Session>, 
/**
 * The persons this user registered, most recent first (at most 20 are listed).
 */
caseload: Array<Person>, 
/**
 * How many persons this user registered in all.
 */
caseload_count: number, 
/**
 * The latest events, in words.
 */
recent: Array<RecentEvent>, 
/**
 * The last exchanges.
 */
sync: SyncState, };

export type Change = { 
/**
 * The writing device's wall-clock time (RFC 3339).
 */
at: string, 
/**
 * Who made it: their name where known, else their id on their laptop.
 */
user: string | null, 
/**
 * The device that made the change.
 */
device: string, 
/**
 * The entity written.
 */
entity: string, 
/**
 * The record's id.
 */
record: string, 
/**
 * The field written.
 */
field: string, 
/**
 * The previous value on the writing device; null when blanked by erasure.
 */
old: string | number | boolean | null, 
/**
 * The new value; null when blanked by erasure.
 */
new: string | number | boolean | null, 
/**
 * Hybrid logical clock stamp, as text (it exceeds what a script's number holds exactly).
 */
hlc: string, };

export type Conflict = { 
/**
 * The same id on every database.
 */
id: string, 
/**
 * Entity name.
 */
entity: string, 
/**
 * Record id.
 */
record: string, 
/**
 * Field name.
 */
field: string, 
/**
 * The value shown.
 */
kept: string | number | boolean | null, 
/**
 * The value that lost.
 */
other: string | number | boolean | null, 
/**
 * Who wrote the kept value.
 */
kept_by: string | null, 
/**
 * On which device.
 */
kept_device: string, 
/**
 * When, by the writer's clock.
 */
kept_at: string, 
/**
 * Who wrote the other value.
 */
other_by: string | null, 
/**
 * On which device.
 */
other_device: string, 
/**
 * When, by the writer's clock.
 */
other_at: string, };

export type Exported = { 
/**
 * Changes carried.
 */
changes: number, 
/**
 * Size of the file.
 */
bytes: number, 
/**
 * Where it was written.
 */
file: string, };

export type Imported = { 
/**
 * Changes added to this database.
 */
applied: number, 
/**
 * Changes it already had (whole bundles already imported included).
 */
skipped: number, 
/**
 * Open conflicts on the fields this import touched.
 */
conflicts: number, 
/**
 * Bundles recognised as already imported.
 */
already_imported: number, 
/**
 * Bundle files read.
 */
bundles: number, 
/**
 * Changes of a revoked laptop or author made after their revocation took effect: set
 * aside on arrival, or removed from this laptop's log when the revocation arrived.
 */
revoked: number, 
/**
 * Changes stamped more than a day ahead of this laptop's clock: this laptop's clock
 * is behind, or the laptop that made them has a clock running fast. They are kept;
 * this laptop's own clock does not follow them.
 */
ahead_of_clock: number, };

export type SyncStage = "reading" | "settling" | "writing";

export type SyncProgress = { 
/**
 * The step.
 */
stage: SyncStage, 
/**
 * Changes done.
 */
done: number, 
/**
 * Changes in all (as announced: a bundle may hold fewer).
 */
total: number, };

export type DeviceRow = { 
/**
 * The device's id.
 */
id: string, 
/**
 * The name its laptop gave itself, once one of its bundles was read here.
 */
name: string | null, 
/**
 * When this laptop last read a bundle of it.
 */
last_seen: string | null, 
/**
 * Whether it was revoked.
 */
revoked: boolean, 
/**
 * Whether it is this laptop.
 */
this_laptop: boolean, };

export type RevocationDone = { 
/**
 * The device or user revoked.
 */
subject: string, 
/**
 * The newest stamp among their changes that stay valid.
 */
after: string, 
/**
 * How many of their commits stay valid.
 */
kept: number, 
/**
 * The new bundle key's number, when one was started (devices).
 */
bundle_key: number | null, 
/**
 * Changes of theirs, later than that stamp, removed from this laptop's log.
 */
removed: number, };

export type Equivocation = { 
/**
 * The device the two versions claim.
 */
device: string, 
/**
 * The name that laptop gave itself, when known here.
 */
device_name: string | null, 
/**
 * The author's user id.
 */
author: string, 
/**
 * The author's name, as the change carries it.
 */
author_name: string | null, 
/**
 * The stamp both versions carry.
 */
stamp: string, 
/**
 * The time that stamp says (RFC 3339).
 */
at: string, 
/**
 * The digest of the version kept everywhere.
 */
kept: string, 
/**
 * The digest of the version set aside.
 */
dropped: string, 
/**
 * When this laptop first met the pair.
 */
seen_at: string, };

export type OrgKeyExported = { 
/**
 * The file written.
 */
file: string, 
/**
 * `encrypted` (under its own passphrase) or `sheet` (to print, then delete).
 */
form: string, 
/**
 * The organisation's root public key, hex: what the key opens, to check it later.
 */
root_public: string, };

export type OrgKeyImported = { 
/**
 * The organisation.
 */
org: string, 
/**
 * The administrator who now holds it under their password.
 */
user: string, 
/**
 * The root public key it matched.
 */
root_public: string, };

export type RootRotated = { 
/**
 * The root replaced, hex: what it signs from now on is void.
 */
old_root: string, 
/**
 * The new root, hex, now in the logged-in administrator's custody.
 */
new_root: string, 
/**
 * How many certificates, revocations and keyrings of the old root stay valid (those
 * this laptop held).
 */
kept: number, };

export type Held = { 
/**
 * Why it is held.
 */
reason: HeldReason, 
/**
 * The project.
 */
project: string, 
/**
 * Its title.
 */
title: string | null, 
/**
 * The tranche; none when the project itself is held.
 */
tranche: string | null, 
/**
 * When it was paid.
 */
date: string | null, 
/**
 * How much, as a decimal.
 */
amount: string | null, 
/**
 * The tranche's currency.
 */
currency: string | null, 
/**
 * What counted before it in the approval's currency, with it.
 */
paid: string | null, 
/**
 * The amount the committee approved.
 */
approved: string | null, 
/**
 * The currency of the approval.
 */
approved_currency: string | null, 
/**
 * Who wrote the change that made it so (the tranche's amount or currency, the
 * project's stage), by the name their certificate carries.
 */
recorded_by: string | null, 
/**
 * On which laptop.
 */
device: string | null, };

export type HeldReason = "no_approval" | "other_currency" | "above_approved" | "stage_without_decision";

export type Measure = number | { [key in string]: string };

export type Report = { 
/**
 * First day counted.
 */
from: string, 
/**
 * Last day counted.
 */
to: string, 
/**
 * The totals.
 */
indicators: { [key in string]: Measure }, 
/**
 * Dimension → part → the dimension's indicators.
 */
breakdown: { [key in string]: { [key in string]: { [key in string]: Measure } } }, };

export type SurvivalStep = { 
/**
 * Days since the first disbursement.
 */
day: number, 
/**
 * Enterprises still followed on that day (closed or seen running that late).
 */
at_risk: number, 
/**
 * Enterprises found closed on that day.
 */
closed: number, 
/**
 * Enterprises last seen running on that day, and not followed since.
 */
censored: number, 
/**
 * The share still running after that day.
 */
survival: number, 
/**
 * The 95% interval's lower bound.
 */
lower: number, 
/**
 * The 95% interval's upper bound.
 */
upper: number, };

export type SurvivalAt = { 
/**
 * Months after the first disbursement.
 */
months: number, 
/**
 * The days those months stand for.
 */
day: number, 
/**
 * The share still running; `None` when no enterprise was followed that long.
 */
survival: number | null, 
/**
 * The 95% interval's lower bound.
 */
lower: number | null, 
/**
 * The 95% interval's upper bound.
 */
upper: number | null, 
/**
 * Enterprises followed at least that long.
 */
at_risk: number, };

export type SurvivalBy = "cohort" | "sector" | "sex";

export type SurvivalCurve = { 
/**
 * The group: `all`, a year, a sector, or a sex.
 */
group: string, 
/**
 * Funded enterprises in the group.
 */
enterprises: number, 
/**
 * Of them, found closed.
 */
closed: number, 
/**
 * Of them, still followed or lost to follow-up (censored).
 */
censored: number, 
/**
 * The curve, one step per day something happened.
 */
steps: Array<SurvivalStep>, 
/**
 * The share still running at 6, 12 and 24 months.
 */
at: Array<SurvivalAt>, };

export type Survival = { 
/**
 * The day of the analysis: nothing later is counted.
 */
as_of: string, 
/**
 * How the groups are split, if they are.
 */
by: SurvivalBy | null, 
/**
 * The curve of all enterprises first, then one per group.
 */
curves: Array<SurvivalCurve>, };

export type JourneyStep = { 
/**
 * welcomed, sensitised, trained (persons); plan, approved, funded, running_12_months
 * (projects).
 */
step: string, 
/**
 * How many reached it in the period.
 */
count: number, 
/**
 * Whether it counts persons (else projects).
 */
persons: boolean, };

export type CounsellorOverdue = { 
/**
 * The counsellor's log-in name ("unknown" for a project without one).
 */
counsellor: string, 
/**
 * Projects whose next visit was due before the period's last day.
 */
overdue: number, };

export type Dashboard = { 
/**
 * The figures are the user's caseload only (a counsellor's), not the programme's.
 */
caseload: boolean, 
/**
 * The indicators, with every breakdown.
 */
report: Report, 
/**
 * The journey, step by step (`docs/indicators.md`).
 */
journey: Array<JourneyStep>, 
/**
 * Overdue visits on the period's last day per counsellor, most first.
 */
overdue: Array<CounsellorOverdue>, 
/**
 * Survival of the enterprises on the period's last day, all then per cohort.
 */
survival: Survival, };

export type ExportFormat = "csv" | "hxl" | "xlsx";

export type ExportTable = "persons" | "sessions" | "attendance" | "projects" | "disbursements" | "followups" | "indicators";

export type ExportDone = { 
/**
 * The file written.
 */
path: string, 
/**
 * Rows written, the header and hashtags aside.
 */
rows: number, 
/**
 * Whether names, phones and registration numbers were left out and ids replaced.
 */
pseudonymised: boolean, };

export type ExportRecord = { 
/**
 * When (RFC 3339).
 */
at: string, 
/**
 * Who, by name.
 */
user: string, 
/**
 * Which table.
 */
what: string, 
/**
 * csv, hxl or xlsx.
 */
format: string, 
/**
 * The period's first day, empty for every date.
 */
from: string, 
/**
 * The period's last day, empty for every date.
 */
to: string, 
/**
 * Whether names, phones and registration numbers were left out.
 */
pseudonymised: boolean, 
/**
 * Rows written.
 */
rows: number, 
/**
 * Where the file was written.
 */
path: string, };

export type Language = "fr" | "ar" | "en";

export type DonorFormat = "pdf" | "xlsx";

export type DonorReportDone = { 
/**
 * Where it was written.
 */
path: string, 
/**
 * PDF or workbook.
 */
format: DonorFormat, 
/**
 * Pages of the PDF, or sheets of the workbook.
 */
parts: number, };

export type Checked = { 
/**
 * Whether SQLite's integrity check passed.
 */
ok: boolean, 
/**
 * Records waiting for what they link to.
 */
pending: number, };

export type Digest = { 
/**
 * SHA-256, hex.
 */
digest: string, };

export type ReferenceEntry = { 
/**
 * The list.
 */
list: string, 
/**
 * The entry.
 */
name: string, };

export type PasswordChanged = { 
/**
 * The user.
 */
user: string, };

export type StageUndone = { 
/**
 * The project.
 */
id: string, 
/**
 * The stage it is back at.
 */
stage: Stage, };

export type BackupDone = { 
/**
 * The backup file.
 */
file: string, 
/**
 * Its size.
 */
bytes: number, 
/**
 * When the copy was taken (RFC 3339).
 */
taken_at: string, 
/**
 * Older automatic backups of this laptop removed to keep the chosen number.
 */
removed: Array<string>, };

export type BackupFile = { 
/**
 * Its path.
 */
file: string, 
/**
 * Its size.
 */
bytes: number, };

export type BackupSettings = { 
/**
 * The folder they go to (a USB stick or another disk is safest).
 */
folder: string, 
/**
 * How many of this laptop's automatic backups the folder keeps.
 */
keep: number, 
/**
 * Whether a backup is made by itself once a day while the window is open.
 */
automatic: boolean, 
/**
 * When the last backup was made (RFC 3339).
 */
last_at: string | null, 
/**
 * Why the last automatic backup failed, if it did.
 */
last_error: string | null, 
/**
 * This laptop's backups in the folder, newest first.
 */
files: Array<BackupFile>, };

export type Restored = { 
/**
 * The restored database.
 */
path: string, 
/**
 * Where the database that was at the target before was set aside, if one was.
 */
set_aside: string | null, 
/**
 * The device the backup was taken on; the restored laptop no longer writes as it.
 */
old_device: string, 
/**
 * The restored laptop's new device.
 */
new_device: string, 
/**
 * When the backup was taken (RFC 3339).
 */
taken_at: string | null, 
/**
 * Changes the backup held that its laptop had not exported: the next bundle sends them.
 */
changes_to_send: number, 
/**
 * Persons in the restored database.
 */
persons: number, 
/**
 * Its digest (`masar digest`).
 */
digest: string, };

export type FolderFile = { 
/**
 * The file.
 */
file: string, 
/**
 * Why it was not imported.
 */
reason: string, };

export type FolderSync = { 
/**
 * This laptop's new changes, written into its own subfolder; none when it had none.
 */
exported: Exported | null, 
/**
 * What the other laptops' bundles brought.
 */
imported: Imported, 
/**
 * Files left for a later sync: still being written by the sync tool, or a conflict
 * copy it made.
 */
waiting: Array<FolderFile>, 
/**
 * Bundles refused, each with its reason; the others were imported.
 */
refused: Array<FolderFile>, 
/**
 * The merged export written, when this laptop keeps it and it had something new.
 */
merged: Exported | null, 
/**
 * This laptop's bundles removed: every active laptop had imported them and a merged
 * export covers them.
 */
removed: Array<string>, 
/**
 * This laptop's bundles replaced by one full bundle because a person was erased
 * since they were written (they may carry that person's data; the log no longer does).
 */
replaced: Array<string>, };

export type DemoSummary = { 
/**
 * Persons registered.
 */
persons: number, 
/**
 * Intakes recorded.
 */
intakes: number, 
/**
 * Sessions held.
 */
sessions: number, 
/**
 * Projects opened.
 */
projects: number, 
/**
 * Tranches paid.
 */
disbursements: number, 
/**
 * Visits made.
 */
followups: number, 
/**
 * Projects whose visit is overdue today.
 */
overdue: number, 
/**
 * Demo accounts made besides the current user, with the demo password.
 */
users: Array<string>, };

export type Done = null;

export type Role = "counsellor" | "supervisor" | "admin";

export type Stage = "draft" | "plan_ready" | "in_committee" | "approved" | "rejected" | "funded" | "active" | "closed";

export type Decision = "approved" | "rejected" | "deferred";

export type Fields = Record<string, string>;

export type NewPerson = { 
/**
 * The person's fields (names as `person get` prints them).
 */
fields: Fields, 
/**
 * The day of the reception interview recorded with the person, if any.
 */
intake_date?: string | null, };

export type NewIntake = { 
/**
 * The person's id.
 */
person: string, 
/**
 * The day of the interview.
 */
date: string, 
/**
 * Who sent the person, if anyone.
 */
referral?: string | null, };

export type NewReferral = { 
/**
 * The person's id.
 */
person: string, 
/**
 * The partner, as the list spells it (any case).
 */
partner: string, 
/**
 * The day of the referral.
 */
date: string, 
/**
 * Where it stands (`pending` by default).
 */
status?: string | null, };

export type NewSession = { 
/**
 * `awareness` or `training`.
 */
kind: string, 
/**
 * The day it was held.
 */
date: string, 
/**
 * What it was about.
 */
topic: string, 
/**
 * Where, if said.
 */
place?: string | null, 
/**
 * The ids of the persons present.
 */
attendees: Array<string>, };

export type Roster = { 
/**
 * The session's id.
 */
session: string, 
/**
 * The ids of the persons to mark present.
 */
present: Array<string>, 
/**
 * The ids of the persons to mark absent.
 */
absent: Array<string>, };

export type NewProject = { 
/**
 * A short title.
 */
title: string, 
/**
 * `creation`, `reinforcement` or `cooperative`.
 */
kind: string, 
/**
 * A sector of the organisation's list.
 */
sector: string, 
/**
 * The ids of its members (at least one).
 */
members: Array<string>, 
/**
 * The day it opens (today when not given).
 */
date?: string | null, };

export type StageChange = { 
/**
 * The project's id.
 */
project: string, 
/**
 * The stage it moves to.
 */
stage: Stage, 
/**
 * The day of the move.
 */
date: string, };

export type CommitteeDecision = { 
/**
 * The project's id.
 */
project: string, 
/**
 * What the committee decided.
 */
decision: Decision, 
/**
 * The day of the committee.
 */
date: string, 
/**
 * The approved amount (an approval needs one).
 */
amount?: string | null, 
/**
 * The currency of the amount (the programme's, else the plan's, when not given).
 */
currency?: string | null, 
/**
 * What the committee remarked.
 */
remarks?: string | null, };

export type NewBudgetLine = { 
/**
 * The project's id.
 */
project: string, 
/**
 * What is bought.
 */
item: string, 
/**
 * How many.
 */
quantity: string, 
/**
 * At what price each.
 */
unit_cost: string, };

export type NewTranche = { 
/**
 * The project's id.
 */
project: string, 
/**
 * The day it was paid.
 */
date: string, 
/**
 * How much.
 */
amount: string, 
/**
 * In which currency of the list (the approval's, for it to count).
 */
currency: string, 
/**
 * Which donor of the list pays it.
 */
donor: string, 
/**
 * `cash` (the default), `in_kind` or `transfer`.
 */
mode?: string | null, 
/**
 * The receipt's reference.
 */
receipt?: string | null, 
/**
 * Why a supervisor pays above the approved amount; without it such a tranche is
 * refused. Kept with the tranche and its history.
 */
above_approved_because?: string | null, };

export type NewFollowUp = { 
/**
 * The project's id.
 */
project: string, 
/**
 * The visit's fields (date, status, next_due, …).
 */
fields: Fields, };

export type NewUser = { 
/**
 * The user's log-in name.
 */
name: string, 
/**
 * Their role.
 */
role: Role, 
/**
 * Their first password.
 */
password: string, };
