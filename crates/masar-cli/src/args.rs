//! The command line's shape: the contract scripts and tests rely on.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What `masar --help` says after the commands: the environment, how values are written,
/// and the exit statuses (`ErrorClass` in the core decides them).
const AFTER_HELP: &str = "Environment:
  MASAR_DB                the database file, as --db
  MASAR_USER              who you are (your log-in name); asked when unset on a terminal
  MASAR_PASSWORD          your password; asked when unset on a terminal
  MASAR_NEW_PASSWORD      a new user's or a changed password (user add, password)
  MASAR_ENROL_PASSPHRASE  an enrolment file's passphrase (enrol, init --join)
  MASAR_KEY_PASSPHRASE    the organisation key file's passphrase (org key export, import)

Dates are written YYYY-MM-DD (2024-03-15); amounts with a dot for decimals (1500.25).

Exit status:
  0  success
  1  refused input or a rule of the journey (nothing was changed)
  2  usage: a command or an option that does not exist, or is missing
  3  authentication or permission: wrong user or password, disabled account, role too low
  4  a damaged, foreign or newer file: bundle, enrolment, key file or database
  5  internal or environment: disk full, database busy, file system, database engine";

/// Masar: accompany refugees into self-employment, offline first. Every command works on
/// one laptop's encrypted database; `masar COMMAND --help` says more of each.
#[derive(Parser)]
#[command(name = "masar", version, after_help = AFTER_HELP)]
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
        /// The enrolment file to write (carry it to the new laptop).
        #[arg(long)]
        out: PathBuf,
        /// Days the file is accepted (1 to 90; default 7).
        #[arg(long = "valid-days")]
        valid_days: Option<i64>,
    },
    /// The organisation's root key, kept offline (admin).
    #[command(subcommand)]
    Org(OrgCmd),
    /// Laptops of the organisation: list them, revoke a lost one (admin).
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Sync bundles.
    #[command(subcommand)]
    Bundle(BundleCmd),
    /// Sync through the sync folder: write this laptop's new changes into its own
    /// subfolder (FOLDER/masar/DEVICE/), then import every other laptop's bundles there;
    /// damaged ones and files still being copied are listed and passed over.
    Sync {
        /// The sync folder (saved for the next syncs and the window); the saved one by default.
        #[arg(long)]
        folder: Option<PathBuf>,
        /// Keep syncing until stopped (SIGTERM or Ctrl-C): whenever another laptop's bundle
        /// lands in the folder, when the folder appears, and every --every seconds; one line
        /// per sync (one JSON value per line with --json).
        #[arg(long)]
        watch: bool,
        /// Keep the merged export (a supervisor's laptop, one per organisation): one full
        /// bundle that lets the others' bundles be removed once everyone has them, and lets
        /// a laptop that joins late, or was away, catch up. Rewritten when something is new
        /// (with --watch, at most hourly).
        #[arg(long)]
        merged: bool,
        /// With --watch: seconds between syncs when nothing happens (default 300).
        #[arg(long, requires = "watch", value_parser = clap::value_parser!(u64).range(5..=86_400))]
        every: Option<u64>,
    },
    /// Conflicts between laptops' changes.
    #[command(subcommand)]
    Conflicts(ConflictsCmd),
    /// A hash of everything visible: equal on databases that hold the same changes.
    Digest,
    /// Check the database file's integrity.
    Check,
    /// Fill the database (created if missing) with a fictional programme.
    Demo {
        /// The language of its organisation's and projects' names: fr, ar or en.
        #[arg(long, default_value = "fr")]
        lang: String,
    },
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
    /// Write an encrypted backup of this laptop's database, safe to take while the window
    /// is open; without --out, into the backup folder (beside the database unless chosen),
    /// removing this laptop's oldest backups there beyond the number to keep.
    Backup {
        /// The backup file to write (a new file; it ends in .masarbackup by custom).
        #[arg(long, conflicts_with_all = ["folder", "keep"])]
        out: Option<PathBuf>,
        /// Choose the backup folder (saved for the next backups and the window's): a USB
        /// stick or another disk is safest.
        #[arg(long)]
        folder: Option<PathBuf>,
        /// How many of this laptop's backups the folder keeps (1 to 365; saved; default 7).
        #[arg(long)]
        keep: Option<u32>,
    },
    /// Restore a backup to --db (an administrator of the backed-up laptop). The restored
    /// database is a new device of the organisation; its next bundle sends what the backup
    /// had not yet synced.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Set aside the database already at --db (renamed, never deleted) and restore in its place.
        #[arg(long)]
        replace: bool,
    },
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
    /// Given name, in Latin letters.
    #[arg(long)]
    pub given: Option<String>,
    /// Family name, in Latin letters.
    #[arg(long)]
    pub family: Option<String>,
    /// female, male or other.
    #[arg(long)]
    pub sex: Option<String>,
    /// Date of birth (YYYY-MM-DD); or --birth-year.
    #[arg(long)]
    pub born: Option<String>,
    /// The year of birth, when only an approximate age is known ("born about 1988").
    #[arg(long = "birth-year")]
    pub birth_year: Option<String>,
    /// Nationality: ISO three-letter code (SYR, COD, YEM…).
    #[arg(long)]
    pub nationality: Option<String>,
    /// Given name in Arabic letters.
    #[arg(long = "given-ar")]
    pub given_ar: Option<String>,
    /// Family name in Arabic letters.
    #[arg(long = "family-ar")]
    pub family_ar: Option<String>,
    /// UNHCR registration number.
    #[arg(long = "unhcr-id")]
    pub unhcr_id: Option<String>,
    /// City, from the organisation's list.
    #[arg(long)]
    pub city: Option<String>,
    /// Phone number.
    #[arg(long)]
    pub phone: Option<String>,
    /// The day the person consented to their data being kept (YYYY-MM-DD).
    #[arg(long)]
    pub consent: Option<String>,
    /// Any other field, as KEY=VALUE (repeatable).
    #[arg(long = "set")]
    pub set: Vec<String>,
}

#[derive(Subcommand)]
// Parsed once per run: the size of the largest variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum PersonCmd {
    /// Register a person.
    Add(PersonAdd),
    /// Change fields: KEY=VALUE … (keys as `person get` prints them).
    Set {
        /// The person's id.
        id: String,
        /// Fields to change, KEY=VALUE (an empty VALUE clears it).
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Show a person.
    Get {
        /// The record's id.
        id: String,
    },
    /// List persons, or those matching a fragment of name, UNHCR id or phone, best matches
    /// first (a whole UNHCR number or phone, a whole word, a word's beginning, a fragment).
    List {
        /// A fragment of a name (either script), a UNHCR number or a phone.
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
        /// The person's id.
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum ImportWhat {
    /// Persons from a CSV file, all rows or none.
    Persons {
        /// The CSV file: a header row of field names (given, family, sex, born, nationality, …).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum IntakeCmd {
    /// Record a reception interview.
    Add {
        /// The person's id.
        person: String,
        /// The day of the interview (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// Who referred the person (free text).
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
        /// The day of the session (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// What the session was about.
        #[arg(long)]
        topic: String,
        /// Where it took place.
        #[arg(long)]
        place: Option<String>,
        /// A person present (repeatable).
        #[arg(long)]
        attendee: Vec<String>,
    },
    /// Mark a person present.
    Attend {
        /// The session's id.
        session: String,
        /// The person's id.
        person: String,
    },
    /// Remove a person from the attendance.
    Unattend {
        /// The session's id.
        session: String,
        /// The person's id.
        person: String,
    },
    /// The persons present.
    /// Mark many persons present (and others absent) at once.
    Roster {
        /// The session's id.
        session: String,
        /// A person present (repeatable).
        #[arg(long)]
        present: Vec<String>,
        /// A person absent (repeatable).
        #[arg(long)]
        absent: Vec<String>,
    },
    /// Who attended a session.
    Attendees {
        /// The session's id.
        session: String,
    },
}

#[derive(Subcommand)]
pub enum ProjectCmd {
    /// Create a project (stage draft).
    Add {
        /// A short title ("Tailoring workshop").
        #[arg(long)]
        title: String,
        /// creation, reinforcement or cooperative.
        #[arg(long)]
        kind: String,
        /// The sector, from the organisation's list.
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
        /// The project's id.
        id: String,
        /// plan_ready, in_committee, funded, active or closed (the committee decides approved or rejected).
        stage: String,
        /// The day it reached that stage (YYYY-MM-DD).
        #[arg(long)]
        date: String,
    },
    /// Record the committee's decision: approved, rejected or deferred.
    Decide {
        /// The project's id.
        id: String,
        /// approved, rejected or deferred.
        decision: String,
        /// The day the committee met (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// The approved amount (required to approve).
        #[arg(long, allow_negative_numbers = true)]
        amount: Option<String>,
        /// The currency of the approved amount (ISO 4217; the plan's by default):
        /// tranches count only in this currency.
        #[arg(long)]
        currency: Option<String>,
        /// The committee's remarks (a reason is required to reject).
        #[arg(long)]
        remarks: Option<String>,
    },
    /// Change fields: KEY=VALUE … (e.g. registered_on=2024-05-01).
    Set {
        /// The project's id.
        id: String,
        /// Fields to change, KEY=VALUE (an empty VALUE clears it).
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Show a project.
    Get {
        /// The record's id.
        id: String,
    },
    /// Add a business-plan budget line.
    BudgetAdd {
        /// The project's id.
        id: String,
        /// What is bought ("Sewing machine").
        #[arg(long)]
        item: String,
        /// How many (a whole number).
        #[arg(long, allow_negative_numbers = true)]
        quantity: String,
        /// The cost of one, in the project's currency ("900" or "900.50").
        #[arg(long = "unit-cost", allow_negative_numbers = true)]
        unit_cost: String,
    },
    /// The business-plan budget with exact totals.
    Budget {
        /// The project's id.
        id: String,
    },
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
    UndoStage {
        /// The project's id.
        id: String,
    },
}

#[derive(Subcommand)]
pub enum DisbursementCmd {
    /// Record a tranche paid to an approved project.
    Add {
        /// The project's id.
        project: String,
        /// The day it was paid (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// The amount paid ("1500" or "1500.25"; never above what the committee approved without a supervisor's reason).
        #[arg(long, allow_negative_numbers = true)]
        amount: String,
        /// The currency's code, from the organisation's list (MAD, EUR…).
        #[arg(long)]
        currency: String,
        /// Whose funds paid it, from the donors' list.
        #[arg(long)]
        donor: String,
        /// cash, in_kind or transfer (default cash).
        #[arg(long)]
        mode: Option<String>,
        /// The receipt's number.
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
        /// The project's id.
        project: String,
        /// The day of the visit (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// active, struggling, suspended or closed.
        #[arg(long)]
        status: String,
        /// Monthly revenue found, in the project's currency.
        #[arg(long, allow_negative_numbers = true)]
        revenue: Option<String>,
        /// Monthly profit found (may be negative).
        #[arg(long, allow_negative_numbers = true)]
        profit: Option<String>,
        /// People working in the enterprise.
        #[arg(long, allow_negative_numbers = true)]
        jobs: Option<String>,
        /// When the next visit is due (YYYY-MM-DD).
        #[arg(long = "next-due")]
        next_due: Option<String>,
        /// What the visit found (free text).
        #[arg(long)]
        notes: Option<String>,
    },
    /// Projects whose next visit is overdue (on a day, default today).
    Overdue {
        /// The day to count from (YYYY-MM-DD); today by default.
        #[arg(long)]
        on: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ReferralCmd {
    /// Refer a person to a partner.
    Add {
        /// The person's id.
        person: String,
        /// The partner, from the organisation's list.
        #[arg(long)]
        partner: String,
        /// The day of the referral (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// pending, accepted, completed or declined.
        #[arg(long)]
        status: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum OrgCmd {
    /// The organisation's root key, which certifies laptops and administrators.
    #[command(subcommand)]
    Key(OrgKeyCmd),
}

#[derive(Subcommand)]
pub enum OrgKeyCmd {
    /// Write the root key to a file under its own passphrase (MASAR_KEY_PASSPHRASE or
    /// asked), or with --sheet as a recovery sheet to print and then delete: keep it
    /// offline, so that losing the founders' laptops never loses it.
    Export {
        /// The file to write (a new file, readable by you only).
        #[arg(long)]
        out: PathBuf,
        /// A recovery sheet in plain text, to print (no passphrase: guard the paper).
        #[arg(long)]
        sheet: bool,
    },
    /// Take the root key from a key file or a typed recovery sheet into your custody
    /// on this laptop, under your password.
    Import {
        /// The key file, or the recovery sheet typed into a file.
        file: PathBuf,
    },
    /// Replace the root key with a new one, which you then hold (a founder who holds the
    /// root): what the old root signed here stays valid, anything it signs from now on is
    /// void. Export the new key at once.
    Rotate,
}

#[derive(Subcommand)]
pub enum RefCmd {
    /// Add an entry (admin).
    Add {
        /// donor, sector, city, partner or currency.
        list: String,
        /// The entry, as it will be chosen in forms.
        name: String,
    },
    /// Retire an entry (admin).
    Remove {
        /// donor, sector, city, partner or currency.
        list: String,
        /// The entry to retire (records that name it keep it).
        name: String,
    },
    /// The active entries of a list.
    List {
        /// donor, sector, city, partner or currency.
        list: String,
    },
    /// The programme's currency, in which committees approve unless told otherwise:
    /// shown, or set to an entry of the currency list (admin).
    Currency {
        /// The currency to make the programme's (ISO 4217, e.g. MAD).
        code: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ReportCmd {
    /// The programme's indicators for a period.
    Indicators {
        /// The period's first day (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// The period's last day (YYYY-MM-DD), counted whole.
        #[arg(long)]
        to: String,
        /// sex, age, nationality, city, donor or sector (repeatable).
        #[arg(long)]
        by: Vec<String>,
    },
    /// Tranches that took a project above its approved amount without a supervisor's
    /// reason, with who recorded them (supervisor).
    Unexplained,
    /// Devices and authors that signed two versions of one change: every laptop keeps
    /// the same one; revoke the device (supervisor).
    Equivocations,
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
        /// The bundle file to write, in the sync folder.
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
        /// The conflict's id (`masar conflicts list`).
        id: String,
        /// kept or other.
        #[arg(long, conflicts_with = "value", required_unless_present = "value")]
        keep: Option<String>,
        /// A new value replacing both.
        #[arg(long)]
        value: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command and every option says in `--help` what it is and how to write it.
    #[test]
    fn every_command_and_option_says_what_it_is() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            if cmd.get_about().is_none() {
                missing.push(path.to_string());
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.get_help().is_none() && !["help", "version"].contains(&id) {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "masar", &mut missing);
        assert!(
            missing.is_empty(),
            "{} without a description:\n{}",
            missing.len(),
            missing.join("\n")
        );
    }
}
