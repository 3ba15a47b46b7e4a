//! The command line's shape: the contract scripts and tests rely on.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What `masar --help` says of exit statuses; `ErrorClass` in the core decides them.
const EXIT_STATUSES: &str = "Exit status:
  0  success
  1  refused input or a rule of the journey (nothing was changed)
  2  usage: a command or an option that does not exist, or is missing
  3  authentication or permission: wrong user or password, disabled account, role too low
  4  a damaged, foreign or newer file: bundle, enrolment, key file or database
  5  internal or environment: disk full, database busy, file system, database engine";

/// Masar: accompany refugees into self-employment, offline first.
#[derive(Parser)]
#[command(name = "masar", version, about, after_help = EXIT_STATUSES)]
pub struct Cli {
    /// The database file (default: the OS data directory's masar/masar.db).
    #[arg(long, global = true, env = "MASAR_DB")]
    pub db: Option<PathBuf>,
    /// Print exactly one JSON value on stdout; messages go to stderr.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create a new encrypted database, for a new organisation (--org) or joining one
    /// (--join FILE from `masar enrol`); MASAR_USER becomes its administrator.
    Init {
        /// The new organisation's name.
        #[arg(long, required_unless_present = "join", conflicts_with = "join")]
        org: Option<String>,
        /// An enrolment file; its passphrase from MASAR_ENROL_PASSPHRASE or asked.
        #[arg(long)]
        join: Option<PathBuf>,
        /// This laptop's name.
        #[arg(long)]
        device: String,
    },
    /// Write an enrolment file for a new laptop (admin; passphrase from
    /// MASAR_ENROL_PASSPHRASE or asked).
    Enrol {
        #[arg(long)]
        out: PathBuf,
        /// Days the file is accepted (1 to 90; default 7).
        #[arg(long = "valid-days")]
        valid_days: Option<i64>,
    },
    /// Laptops of the organisation: list them, revoke a lost one (admin).
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Sync bundles.
    #[command(subcommand)]
    Bundle(BundleCmd),
    /// Conflicts between laptops' changes.
    #[command(subcommand)]
    Conflicts(ConflictsCmd),
    /// A hash of everything visible: equal on databases that hold the same changes.
    Digest,
    /// Check the database file's integrity.
    Check,
    /// Fill the database (created if missing) with a fictional programme.
    Demo,
    /// Where this database stands: organisation, device, user, schema, counts.
    Status,
    /// The change history of a record.
    History {
        /// The record's id.
        id: String,
    },
    /// Change your password (new one from MASAR_NEW_PASSWORD or asked).
    Password,
    /// Users and roles.
    #[command(subcommand)]
    User(UserCmd),
    /// Persons: register, correct, find, erase.
    #[command(subcommand)]
    Person(PersonCmd),
    /// Import a file.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Reception interviews.
    #[command(subcommand)]
    Intake(IntakeCmd),
    /// Awareness and training sessions.
    #[command(subcommand)]
    Session(SessionCmd),
    /// Projects: plan, stages, committee.
    #[command(subcommand)]
    Project(ProjectCmd),
    /// Tranches paid to projects.
    #[command(subcommand)]
    Disbursement(DisbursementCmd),
    /// Follow-up visits.
    #[command(subcommand)]
    Followup(FollowUpCmd),
    /// Referrals to partners.
    #[command(subcommand)]
    Referral(ReferralCmd),
    /// Reference lists: donor, sector, city, partner, currency.
    #[command(subcommand)]
    Ref(RefCmd),
    /// Reports.
    #[command(subcommand)]
    Report(ReportCmd),
    /// Write a table to a CSV (UTF-8, for spreadsheets), HXL or XLSX file; persons and attendance
    /// are for supervisors and administrators, and every export is recorded (`masar exports`).
    Export {
        /// csv, hxl or xlsx.
        #[arg(long)]
        format: String,
        /// persons, sessions, attendance, projects, disbursements, followups or indicators
        /// (the report of --from to --to, every breakdown).
        #[arg(long)]
        what: String,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// The period's first day (YYYY-MM-DD); every date by default.
        #[arg(long)]
        from: Option<String>,
        /// The period's last day (YYYY-MM-DD).
        #[arg(long)]
        to: Option<String>,
        /// Leave out names, phones, registration numbers and dates of birth, and give each
        /// person a stable pseudonym instead of their id.
        #[arg(long)]
        pseudonymise: bool,
    },
    /// The exports made on this laptop: who took which data out, and when.
    Exports,
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Add a user (password from MASAR_NEW_PASSWORD or asked).
    Add {
        /// Log-in name.
        name: String,
        /// admin, supervisor or counsellor.
        #[arg(long)]
        role: String,
    },
    /// List users.
    List,
    /// Give a user made on another laptop an account here (password from
    /// MASAR_NEW_PASSWORD or asked); the id is the one `user list` shows there.
    Admit {
        /// The user's id.
        id: String,
    },
    /// Change a user's role, on every laptop (by name here or by id).
    Role {
        /// Log-in name on this laptop, or the user's id.
        name: String,
        /// admin, supervisor or counsellor.
        role: String,
    },
    /// Revoke a user (by name or id): nothing they sign from now on is accepted anywhere.
    Revoke {
        /// Log-in name on this laptop, or the user's id.
        name: String,
    },
}

#[derive(Subcommand)]
pub enum DeviceCmd {
    /// The laptops this one knows.
    List,
    /// Revoke a lost or stolen laptop: nothing it signs from now on is accepted anywhere,
    /// and bundles written afterwards are sealed with a new key it does not hold.
    Revoke {
        /// The laptop's device id (`masar device list`, or the id `masar enrol` printed).
        id: String,
    },
}

#[derive(Args)]
pub struct PersonAdd {
    #[arg(long)]
    pub given: Option<String>,
    #[arg(long)]
    pub family: Option<String>,
    #[arg(long)]
    pub sex: Option<String>,
    #[arg(long)]
    pub born: Option<String>,
    /// The year of birth, when only an approximate age is known ("born about 1988").
    #[arg(long = "birth-year")]
    pub birth_year: Option<String>,
    #[arg(long)]
    pub nationality: Option<String>,
    #[arg(long = "given-ar")]
    pub given_ar: Option<String>,
    #[arg(long = "family-ar")]
    pub family_ar: Option<String>,
    #[arg(long = "unhcr-id")]
    pub unhcr_id: Option<String>,
    #[arg(long)]
    pub city: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub consent: Option<String>,
    /// Any other field, as KEY=VALUE (repeatable).
    #[arg(long = "set")]
    pub set: Vec<String>,
}

#[derive(Subcommand)]
pub enum PersonCmd {
    /// Register a person.
    Add(PersonAdd),
    /// Change fields: KEY=VALUE … (keys as `person get` prints them).
    Set {
        id: String,
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Show a person.
    Get { id: String },
    /// List persons, or those matching a fragment of name, UNHCR id or phone, best matches
    /// first (a whole UNHCR number or phone, a whole word, a word's beginning, a fragment).
    List {
        #[arg(long)]
        search: Option<String>,
        /// Answer one page of at most N persons (up to 200), with the total count.
        #[arg(long)]
        limit: Option<u32>,
        /// With --limit: the persons to skip (the next page starts at the previous offset + N).
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Erase a person's personal data (asks for confirmation on a terminal).
    Erase {
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum ImportWhat {
    /// Persons from a CSV file, all rows or none.
    Persons { file: PathBuf },
}

#[derive(Subcommand)]
pub enum IntakeCmd {
    /// Record a reception interview.
    Add {
        person: String,
        #[arg(long)]
        date: String,
        #[arg(long)]
        referral: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum SessionCmd {
    /// Create a session with its attendance.
    Add {
        /// awareness or training.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        date: String,
        #[arg(long)]
        topic: String,
        #[arg(long)]
        place: Option<String>,
        /// A person present (repeatable).
        #[arg(long)]
        attendee: Vec<String>,
    },
    /// Mark a person present.
    Attend { session: String, person: String },
    /// Remove a person from the attendance.
    Unattend { session: String, person: String },
    /// The persons present.
    /// Mark many persons present (and others absent) at once.
    Roster {
        session: String,
        /// A person present (repeatable).
        #[arg(long)]
        present: Vec<String>,
        /// A person absent (repeatable).
        #[arg(long)]
        absent: Vec<String>,
    },
    Attendees { session: String },
}

#[derive(Subcommand)]
pub enum ProjectCmd {
    /// Create a project (stage draft).
    Add {
        #[arg(long)]
        title: String,
        /// creation, reinforcement or cooperative.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        sector: String,
        /// A member (repeatable).
        #[arg(long)]
        member: Vec<String>,
        /// The day the project was opened (default today).
        #[arg(long)]
        date: Option<String>,
    },
    /// Move to a stage: draft, plan_ready, in_committee, approved, rejected, funded, active, closed.
    Stage {
        id: String,
        stage: String,
        #[arg(long)]
        date: String,
    },
    /// Record the committee's decision: approved, rejected or deferred.
    Decide {
        id: String,
        decision: String,
        #[arg(long)]
        date: String,
        /// The approved amount.
        #[arg(long, allow_negative_numbers = true)]
        amount: Option<String>,
        #[arg(long)]
        remarks: Option<String>,
    },
    /// Change fields: KEY=VALUE … (e.g. registered_on=2024-05-01).
    Set {
        id: String,
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Show a project.
    Get { id: String },
    /// Add a business-plan budget line.
    BudgetAdd {
        id: String,
        #[arg(long)]
        item: String,
        #[arg(long, allow_negative_numbers = true)]
        quantity: String,
        #[arg(long = "unit-cost", allow_negative_numbers = true)]
        unit_cost: String,
    },
    /// The business-plan budget with exact totals.
    Budget { id: String },
    /// Correct a budget line while the plan is open: item=, quantity=, unit_cost=.
    BudgetSet {
        /// The line's id.
        line: String,
        /// KEY=VALUE pairs.
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Remove a budget line while the plan is open (kept in the history).
    BudgetRemove {
        /// The line's id.
        line: String,
    },
    /// Take back the last change of stage, while no tranche or visit depends on it.
    UndoStage { id: String },
}

#[derive(Subcommand)]
pub enum DisbursementCmd {
    /// Record a tranche paid to an approved project.
    Add {
        project: String,
        #[arg(long)]
        date: String,
        #[arg(long, allow_negative_numbers = true)]
        amount: String,
        #[arg(long)]
        currency: String,
        #[arg(long)]
        donor: String,
        /// cash, in_kind or transfer (default cash).
        #[arg(long)]
        mode: Option<String>,
        #[arg(long)]
        receipt: Option<String>,
        /// Pay above the amount the committee approved, saying why (supervisors).
        #[arg(long = "above-approved-because")]
        above_approved_because: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum FollowUpCmd {
    /// Record a visit.
    Add {
        project: String,
        #[arg(long)]
        date: String,
        /// active, struggling, suspended or closed.
        #[arg(long)]
        status: String,
        #[arg(long, allow_negative_numbers = true)]
        revenue: Option<String>,
        #[arg(long, allow_negative_numbers = true)]
        profit: Option<String>,
        #[arg(long, allow_negative_numbers = true)]
        jobs: Option<String>,
        #[arg(long = "next-due")]
        next_due: Option<String>,
        #[arg(long)]
        notes: Option<String>,
    },
    /// Projects whose next visit is overdue (on a day, default today).
    Overdue {
        #[arg(long)]
        on: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ReferralCmd {
    /// Refer a person to a partner.
    Add {
        person: String,
        #[arg(long)]
        partner: String,
        #[arg(long)]
        date: String,
        /// pending, accepted, completed or declined.
        #[arg(long)]
        status: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum RefCmd {
    /// Add an entry (admin).
    Add { list: String, name: String },
    /// Retire an entry (admin).
    Remove { list: String, name: String },
    /// The active entries of a list.
    List { list: String },
}

#[derive(Subcommand)]
pub enum ReportCmd {
    /// The programme's indicators for a period.
    Indicators {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// sex, age, nationality, city, donor or sector (repeatable).
        #[arg(long)]
        by: Vec<String>,
    },
    /// Tranches that took a project above its approved amount without a supervisor's
    /// reason, with who recorded them (supervisor).
    Unexplained,
    /// Survival of funded enterprises: the share still running 6, 12 and 24 months after
    /// their first tranche (Kaplan–Meier; docs/indicators.md).
    Survival {
        /// cohort (year of the first tranche), sector or sex.
        #[arg(long)]
        by: Option<String>,
        /// The day of the analysis (YYYY-MM-DD); today by default.
        #[arg(long)]
        at: Option<String>,
    },
    /// The report to donors of a period, as a PDF or a workbook (supervisor): the
    /// indicators with every breakdown, money per donor, survival, and the methods.
    Donor {
        /// The period's first day (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// The period's last day (YYYY-MM-DD).
        #[arg(long)]
        to: String,
        /// Only this donor's projects, beneficiaries and money (as written in the donors'
        /// list); the whole programme by default.
        #[arg(long)]
        donor: Option<String>,
        /// fr, ar or en; the language you chose in the window, else French.
        #[arg(long)]
        lang: Option<String>,
        /// The file to write: FILE.pdf or FILE.xlsx.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum BundleCmd {
    /// Write a bundle of what others may lack.
    Export {
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

#[derive(Subcommand)]
pub enum ConflictsCmd {
    /// The open conflicts.
    List,
    /// Resolve one: keep the value shown, take the other, or write a new one.
    Resolve {
        id: String,
        /// kept or other.
        #[arg(long, conflicts_with = "value", required_unless_present = "value")]
        keep: Option<String>,
        #[arg(long)]
        value: Option<String>,
    },
}
