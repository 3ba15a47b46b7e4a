//! `masar`: the command-line face of the core, for supervisors, IT and scripts.
//! Argument parsing and printing only; every rule lives in masar-core.

mod cmd;
mod common;
mod output;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use serde_json::Value as Json;

use cmd::persons::PersonCmd;
use cmd::reports::ReportCmd;
use cmd::{admin, org, persons, projects, reports, sessions, sync};
use common::{db_path, Failure};

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
struct Cli {
    /// The database file (default: the OS data directory's masar/masar.db).
    #[arg(long, global = true, env = "MASAR_DB")]
    db: Option<PathBuf>,
    /// Print exactly one JSON value on stdout; messages go to stderr.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

// The command line's shape, the contract scripts and tests rely on: the commands in the
// order `masar --help` lists them, each holding its family's arguments (`cmd/`).
#[derive(Subcommand)]
enum Command {
    /// Create a new encrypted database, for a new organisation (--org) or joining one
    /// (--join FILE from `masar enrol`); MASAR_USER becomes its administrator.
    Init(org::InitArgs),
    /// Write an enrolment file for a new laptop (admin; passphrase from
    /// MASAR_ENROL_PASSPHRASE or asked).
    Enrol(org::EnrolArgs),
    /// The organisation's root key, kept offline (admin).
    #[command(subcommand)]
    Org(org::OrgCmd),
    /// Laptops of the organisation: list them, revoke a lost one (admin).
    #[command(subcommand)]
    Device(org::DeviceCmd),
    /// Sync bundles.
    #[command(subcommand)]
    Bundle(sync::BundleCmd),
    /// Sync through the sync folder: write this laptop's new changes into its own
    /// subfolder (FOLDER/masar/DEVICE/), then import every other laptop's bundles there;
    /// damaged ones and files still being copied are listed and passed over.
    Sync(sync::SyncArgs),
    /// Conflicts between laptops' changes.
    #[command(subcommand)]
    Conflicts(sync::ConflictsCmd),
    /// A hash of everything visible: equal on databases that hold the same changes.
    Digest,
    /// Check the database file's integrity.
    Check,
    /// Fill the database (created if missing) with a fictional programme.
    Demo(admin::DemoArgs),
    /// Where this database stands: organisation, device, user, schema, counts.
    Status,
    /// The change history of a record.
    History(admin::HistoryArgs),
    /// Change your password (new one from MASAR_NEW_PASSWORD or asked).
    Password,
    /// Users and roles.
    #[command(subcommand)]
    User(org::UserCmd),
    /// Persons: register, correct, find, erase.
    #[command(subcommand)]
    Person(persons::PersonCmd),
    /// Import a file.
    Import(persons::ImportArgs),
    /// Reception interviews.
    #[command(subcommand)]
    Intake(persons::IntakeCmd),
    /// Awareness and training sessions.
    #[command(subcommand)]
    Session(sessions::SessionCmd),
    /// Projects: plan, stages, committee.
    #[command(subcommand)]
    Project(projects::ProjectCmd),
    /// Tranches paid to projects.
    #[command(subcommand)]
    Disbursement(projects::DisbursementCmd),
    /// Follow-up visits.
    #[command(subcommand)]
    Followup(projects::FollowUpCmd),
    /// Referrals to partners.
    #[command(subcommand)]
    Referral(persons::ReferralCmd),
    /// Reference lists: donor, sector, city, partner, currency.
    #[command(subcommand)]
    Ref(admin::RefCmd),
    /// Reports.
    #[command(subcommand)]
    Report(reports::ReportCmd),
    /// Write a table to a CSV (UTF-8, for spreadsheets), HXL or XLSX file; persons and attendance
    /// are for supervisors and administrators, and every export is recorded (`masar exports`).
    Export(reports::ExportArgs),
    /// The exports made on this laptop: who took which data out, and when.
    Exports,
    /// Write an encrypted backup of this laptop's database, safe to take while the window
    /// is open; without --out, into the backup folder (beside the database unless chosen),
    /// removing this laptop's oldest backups there beyond the number to keep.
    Backup(admin::BackupArgs),
    /// Restore a backup to --db (an administrator of the backed-up laptop). The restored
    /// database is a new device of the organisation; its next bundle sends what the backup
    /// had not yet synced.
    Restore(admin::RestoreArgs),
}

fn main() -> ExitCode {
    masar_core::harden_process();
    // `--version` says which schema and bundle format this build writes, not only its number.
    let version: &'static str = Box::leak(masar_core::Versions::current().line().into_boxed_str());
    let cli = match Cli::command()
        .version(version)
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let json = cli.json;
    let is_report = matches!(cli.command, Command::Report(ReportCmd::Indicators { .. }));
    let is_survival = matches!(cli.command, Command::Report(ReportCmd::Survival { .. }));
    if let Command::Person(PersonCmd::List {
        search,
        limit: None,
        ..
    }) = &cli.command
    {
        let search = search.clone();
        return match persons::list_all_persons(cli.db, search.as_deref(), json) {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure { message, status }) => {
                eprintln!("error: {message}");
                ExitCode::from(status)
            }
        };
    }
    let text = match run(cli) {
        Ok(value) if is_report && !json => output::report_table(&value),
        Ok(value) if is_survival && !json => output::survival_table(&value),
        Ok(value) => output::render(&value, json),
        Err(Failure { message, status }) => {
            eprintln!("error: {message}");
            return ExitCode::from(status);
        }
    };
    match output::write_stdout(&text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the answer could not be written ({e}): check where the output goes (disk space, a closed terminal)");
            ExitCode::from(5)
        }
    }
}

/// Runs the command given on the database it names; each family's module does the work.
fn run(cli: Cli) -> Result<Json, Failure> {
    let path = db_path(cli.db)?;
    let json_out = cli.json;
    match cli.command {
        Command::Init(args) => args.run(&path),
        Command::Enrol(args) => args.run(&path),
        Command::Org(cmd) => cmd.run(&path),
        Command::Device(cmd) => cmd.run(&path),
        Command::Bundle(cmd) => cmd.run(&path, json_out),
        Command::Sync(args) => args.run(&path, json_out),
        Command::Conflicts(cmd) => cmd.run(&path),
        Command::Digest => sync::digest(&path),
        Command::Check => admin::check(&path),
        Command::Demo(args) => args.run(&path),
        Command::Status => admin::status(&path),
        Command::History(args) => args.run(&path),
        Command::Password => org::password(&path),
        Command::User(cmd) => cmd.run(&path),
        Command::Person(cmd) => cmd.run(&path),
        Command::Import(args) => args.run(&path),
        Command::Intake(cmd) => cmd.run(&path),
        Command::Session(cmd) => cmd.run(&path),
        Command::Project(cmd) => cmd.run(&path),
        Command::Disbursement(cmd) => cmd.run(&path),
        Command::Followup(cmd) => cmd.run(&path),
        Command::Referral(cmd) => cmd.run(&path),
        Command::Ref(cmd) => cmd.run(&path),
        Command::Report(cmd) => cmd.run(&path),
        Command::Export(args) => args.run(&path),
        Command::Exports => reports::exports(&path),
        Command::Backup(args) => args.run(&path),
        Command::Restore(args) => args.run(&path),
    }
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
