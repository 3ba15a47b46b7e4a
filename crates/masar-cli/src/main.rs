//! `masar`: the command-line face of the core, for supervisors, IT and scripts.
//! Argument parsing and printing only; every rule lives in masar-core.

mod args;
mod output;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use masar_core::domain::split_pair;
use masar_core::report::Dimension;
use masar_core::{Clock, FixedClock, Masar, Role, SystemClock};
use serde_json::{json, Value as Json};

use masar_core::sync::{Resolution, Scope};

use args::{BundleCmd, Cli, Command, ConflictsCmd, DisbursementCmd, FollowUpCmd, IntakeCmd, PersonCmd, ProjectCmd, RefCmd, ReferralCmd, ReportCmd, SessionCmd, UserCmd};

/// A failure to report: the message, already phrased for the user.
struct Failure(String);

impl From<masar_core::Error> for Failure {
    fn from(e: masar_core::Error) -> Self {
        Failure(e.to_string())
    }
}

impl From<masar_core::auth::AuthError> for Failure {
    fn from(e: masar_core::auth::AuthError) -> Self {
        Failure(e.to_string())
    }
}

impl From<masar_core::domain::InputError> for Failure {
    fn from(e: masar_core::domain::InputError) -> Self {
        Failure(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let is_report = matches!(cli.command, Command::Report(_));
    match run(cli) {
        Ok(value) if is_report && !json => {
            print!("{}", output::report_table(&value));
            ExitCode::SUCCESS
        }
        Ok(value) => {
            output::print(&value, json);
            ExitCode::SUCCESS
        }
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn db_path(cli_db: Option<PathBuf>) -> Result<PathBuf, Failure> {
    if let Some(p) = cli_db {
        return Ok(p);
    }
    dirs::data_dir()
        .map(|d| d.join("masar").join("masar.db"))
        .ok_or_else(|| Failure("no data directory is known for this user: give the database with --db or MASAR_DB".into()))
}

/// The wall clock; MASAR_CLOCK pins it (RFC 3339 or a date) for tests and diagnostics.
fn clock() -> Result<Arc<dyn Clock>, Failure> {
    match std::env::var("MASAR_CLOCK") {
        Ok(s) if !s.trim().is_empty() => {
            let t = s.trim();
            let at = chrono::DateTime::parse_from_rfc3339(t)
                .map(|d| d.with_timezone(&chrono::Utc))
                .or_else(|_| {
                    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc())
                })
                .map_err(|_| Failure(format!("MASAR_CLOCK '{t}' is not a date or an RFC 3339 time")))?;
            Ok(Arc::new(FixedClock(at)))
        }
        _ => Ok(Arc::new(SystemClock)),
    }
}

fn ask(prompt: &str, secret: bool) -> Result<String, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure(format!("{prompt} is needed and there is no terminal to ask it: set the environment variable")));
    }
    if secret {
        rpassword::prompt_password(format!("{prompt}: ")).map_err(|e| Failure(format!("cannot read the {prompt}: {e}")))
    } else {
        eprint!("{prompt}: ");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| Failure(format!("cannot read the {prompt}: {e}")))?;
        Ok(line.trim().to_string())
    }
}

fn env_or_ask(var: &str, prompt: &str, secret: bool) -> Result<String, Failure> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => ask(&format!("{prompt} (or set {var})"), secret),
    }
}

fn credentials() -> Result<(String, String), Failure> {
    Ok((env_or_ask("MASAR_USER", "user name", false)?, env_or_ask("MASAR_PASSWORD", "password", true)?))
}

fn open(path: &std::path::Path) -> Result<Masar, Failure> {
    let (user, password) = credentials()?;
    Ok(Masar::open(path, &user, &password, clock()?)?)
}

fn pairs(items: &[String]) -> Result<Vec<(String, String)>, Failure> {
    Ok(items.iter().map(|s| split_pair(s)).collect::<Result<_, _>>()?)
}

fn flag_pairs(flags: &[(&str, &Option<String>)]) -> Vec<(String, String)> {
    flags.iter().filter_map(|(k, v)| v.as_ref().map(|v| ((*k).to_string(), v.clone()))).collect()
}

fn id(id: String) -> Json {
    json!({ "id": id })
}

fn confirm(question: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    let answer = ask(&format!("{question} [y/N]"), false)?;
    Ok(matches!(answer.to_lowercase().as_str(), "y" | "yes" | "o" | "oui"))
}

fn run(cli: Cli) -> Result<Json, Failure> {
    let path = db_path(cli.db)?;
    match cli.command {
        Command::Init { org, join, device } => {
            let made = match join {
                Some(file) => {
                    let bytes = std::fs::read(&file).map_err(|e| Failure(format!("{}: cannot be read ({e})", file.display())))?;
                    let passphrase = env_or_ask("MASAR_ENROL_PASSPHRASE", "enrolment passphrase", true)?;
                    let (user, password) = credentials()?;
                    Masar::join(&path, &bytes, &passphrase, &device, &user, &password, clock()?)?.1
                }
                None => {
                    let (user, password) = credentials()?;
                    Masar::init(&path, org.as_deref().unwrap_or_default(), &device, &user, &password, clock()?)?.1
                }
            };
            Ok(json!({ "org_id": made.org_id, "device_id": made.device_id }))
        }
        Command::Enrol { out } => {
            let mut m = open(&path)?;
            m.require(masar_core::auth::Permission::ManageUsers)?;
            let passphrase = env_or_ask("MASAR_ENROL_PASSPHRASE", "passphrase for the enrolment file", true)?;
            let device = m.enrol(&out, &passphrase)?;
            Ok(json!({ "device_id": device, "file": out.display().to_string() }))
        }
        Command::Bundle(BundleCmd::Export { out, full, scope }) => {
            let mut m = open(&path)?;
            let scope = scope.iter().map(|s| Scope::parse(s)).collect::<Result<Vec<_>, _>>()?;
            let done = m.export_bundle(&out, full, &scope)?;
            Ok(json!({ "changes": done.changes, "bytes": done.bytes, "file": done.path.display().to_string() }))
        }
        Command::Bundle(BundleCmd::Import { files }) => {
            let mut m = open(&path)?;
            let paths: Vec<&std::path::Path> = files.iter().map(|f| f.as_path()).collect();
            let show = std::io::stderr().is_terminal() && paths.len() > 1;
            let done = m.import_bundles(&paths, |i, n| {
                if show {
                    eprint!("\rbundles checked and applied: {i}/{n}");
                }
            })?;
            if show {
                eprintln!();
            }
            Ok(json!({
                "applied": done.applied, "skipped": done.skipped, "conflicts": done.conflicts,
                "already_imported": done.bundles_already_seen,
            }))
        }
        Command::Conflicts(ConflictsCmd::List) => {
            let m = open(&path)?;
            Ok(Json::Array(m.conflicts()?.iter().map(output::conflict).collect()))
        }
        Command::Conflicts(ConflictsCmd::Resolve { id: cid, keep, value }) => {
            let mut m = open(&path)?;
            let how = match (keep.as_deref(), value) {
                (_, Some(v)) => Resolution::Value(v),
                (Some("kept"), None) => Resolution::Kept,
                (Some("other"), None) => Resolution::Other,
                (Some(k), None) => return Err(Failure(format!("keep: '{k}' is not one of: kept, other"))),
                (None, None) => return Err(Failure("say what to keep: --keep kept, --keep other or --value V".into())),
            };
            m.resolve_conflict(&cid, how)?;
            Ok(id(cid))
        }
        Command::Digest => Ok(json!({ "digest": open(&path)?.digest()? })),
        Command::Check => {
            let m = open(&path)?;
            let ok = m.integrity_check()?;
            if !ok {
                return Err(Failure("the database file is damaged: restore it from a backup or from the supervisor's bundles".into()));
            }
            Ok(json!({ "ok": true, "pending": m.pending_count()? }))
        }
        Command::Demo => {
            let mut m = if path.exists() {
                open(&path)?
            } else {
                let (user, password) = credentials()?;
                Masar::init(&path, "Masar demo programme", "demo-laptop", &user, &password, clock()?)?.0
            };
            let summary = masar_core::demo::fill(&mut m, 7)?;
            Ok(output::demo_summary(&summary))
        }
        Command::Status => {
            let s = open(&path)?.status()?;
            Ok(json!({
                "org_id": s.org_id, "org_name": s.org_name, "device_id": s.device_id, "device_name": s.device_name,
                "user": s.user, "role": s.role, "schema_version": s.schema_version,
                "changes": s.changes, "persons": s.persons, "projects": s.projects,
            }))
        }
        Command::History { id } => {
            let m = open(&path)?;
            Ok(Json::Array(m.history(&id)?.iter().map(output::change).collect()))
        }
        Command::Password => {
            let mut m = open(&path)?;
            let old = std::env::var("MASAR_PASSWORD").unwrap_or_default();
            let new = env_or_ask("MASAR_NEW_PASSWORD", "new password", true)?;
            m.change_password(&old, &new)?;
            Ok(json!({ "user": m.user().name }))
        }
        Command::User(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                UserCmd::Add { name, role } => {
                    // Checked before asking for a password nobody may use.
                    m.require(masar_core::auth::Permission::ManageUsers)?;
                    let role = Role::parse(&role).ok_or_else(|| {
                        Failure(format!("role: '{role}' is not one of: counsellor, supervisor, admin"))
                    })?;
                    let password = env_or_ask("MASAR_NEW_PASSWORD", &format!("password for {name}"), true)?;
                    Ok(id(m.add_user(&name, role, &password)?))
                }
                UserCmd::List => Ok(Json::Array(
                    m.list_users()?
                        .into_iter()
                        .map(|u| json!({ "id": u.id, "name": u.name, "role": u.role, "active": u.active }))
                        .collect(),
                )),
            }
        }
        Command::Person(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                PersonCmd::Add(p) => {
                    let fields = flag_pairs(&[
                        ("given", &p.given),
                        ("family", &p.family),
                        ("given_ar", &p.given_ar),
                        ("family_ar", &p.family_ar),
                        ("sex", &p.sex),
                        ("born", &p.born),
                        ("nationality", &p.nationality),
                        ("unhcr_id", &p.unhcr_id),
                        ("city", &p.city),
                        ("phone", &p.phone),
                        ("consent", &p.consent),
                    ]);
                    let mut fields = fields;
                    fields.extend(pairs(&p.set)?);
                    Ok(id(m.add_person(&fields)?))
                }
                PersonCmd::Set { id: pid, pairs: kv } => {
                    m.set_person(&pid, &pairs(&kv)?)?;
                    Ok(id(pid))
                }
                PersonCmd::Get { id } => Ok(m.person(&id)?.to_json()),
                PersonCmd::List { search } => {
                    Ok(Json::Array(m.list_persons(search.as_deref())?.iter().map(|r| r.to_json()).collect()))
                }
                PersonCmd::Erase { id: pid, yes } => {
                    let who = m.person(&pid)?;
                    let name = format!("{} {}", who.text("given").unwrap_or(""), who.text("family").unwrap_or(""));
                    if !yes && !confirm(&format!("Erase the personal data of {} ({pid}) on this laptop and, through sync, everywhere? This cannot be undone.", name.trim()))? {
                        return Err(Failure("erasure cancelled: nothing was changed".into()));
                    }
                    m.erase_person(&pid)?;
                    Ok(id(pid))
                }
            }
        }
        Command::Import { what: args::ImportWhat::Persons { file } } => {
            let data = std::fs::read(&file).map_err(|e| Failure(format!("{}: cannot be read ({e})", file.display())))?;
            let mut m = open(&path)?;
            let done = m.import_persons_csv(&data)?;
            Ok(json!({ "imported": done.ids.len(), "ids": done.ids }))
        }
        Command::Intake(IntakeCmd::Add { person, date, referral }) => {
            let mut m = open(&path)?;
            Ok(id(m.add_intake(&person, &date, referral.as_deref())?))
        }
        Command::Session(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                SessionCmd::Add { kind, date, topic, place, attendee } => {
                    Ok(id(m.add_session(&kind, &date, &topic, place.as_deref(), &attendee)?))
                }
                SessionCmd::Attend { session, person } => {
                    m.attend(&session, &person)?;
                    Ok(id(session))
                }
                SessionCmd::Unattend { session, person } => {
                    m.unattend(&session, &person)?;
                    Ok(id(session))
                }
                SessionCmd::Attendees { session } => Ok(json!(m.attendees(&session)?)),
            }
        }
        Command::Project(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                ProjectCmd::Add { title, kind, sector, member, date } => {
                    Ok(id(m.add_project(&title, &kind, &sector, &member, date.as_deref())?))
                }
                ProjectCmd::Stage { id: pid, stage, date } => {
                    m.set_stage(&pid, &stage, &date)?;
                    Ok(id(pid))
                }
                ProjectCmd::Decide { id: pid, decision, date, amount, remarks } => {
                    m.decide(&pid, &decision, &date, amount.as_deref(), remarks.as_deref())?;
                    Ok(id(pid))
                }
                ProjectCmd::Set { id: pid, pairs: kv } => {
                    m.set_project(&pid, &pairs(&kv)?)?;
                    Ok(id(pid))
                }
                ProjectCmd::Get { id } => Ok(m.project(&id)?.to_json()),
                ProjectCmd::BudgetAdd { id: pid, item, quantity, unit_cost } => {
                    Ok(id(m.add_budget_line(&pid, &item, &quantity, &unit_cost)?))
                }
                ProjectCmd::Budget { id } => {
                    let b = m.budget(&id)?;
                    Ok(json!({
                        "lines": b.lines.iter().map(|l| l.to_json()).collect::<Vec<_>>(),
                        "total": b.total.to_string(),
                        "own_contribution": b.own_contribution.to_string(),
                        "to_finance": b.to_finance.to_string(),
                    }))
                }
            }
        }
        Command::Disbursement(DisbursementCmd::Add { project, date, amount, currency, donor, mode, receipt }) => {
            let mut m = open(&path)?;
            Ok(id(m.add_disbursement(&project, &date, &amount, &currency, &donor, mode.as_deref(), receipt.as_deref())?))
        }
        Command::Followup(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                FollowUpCmd::Add { project, date, status, revenue, profit, jobs, next_due, notes } => {
                    let fields = flag_pairs(&[
                        ("date", &Some(date)),
                        ("status", &Some(status)),
                        ("revenue", &revenue),
                        ("profit", &profit),
                        ("jobs", &jobs),
                        ("next_due", &next_due),
                        ("notes", &notes),
                    ]);
                    Ok(id(m.add_followup(&project, &fields)?))
                }
                FollowUpCmd::Overdue { on } => {
                    let day = match on {
                        Some(d) => masar_core::changes::entity::parse_date("on", &d)?,
                        None => m.clock().today(),
                    };
                    Ok(Json::Array(
                        m.overdue_followups(day)?.into_iter().map(|(p, due)| json!({ "project": p, "due": due })).collect(),
                    ))
                }
            }
        }
        Command::Referral(ReferralCmd::Add { person, partner, date, status }) => {
            let mut m = open(&path)?;
            Ok(id(m.add_referral(&person, &partner, &date, status.as_deref())?))
        }
        Command::Ref(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                RefCmd::Add { list, name } => Ok(id(m.add_reference(&list, &name)?)),
                RefCmd::Remove { list, name } => {
                    m.remove_reference(&list, &name)?;
                    Ok(json!({ "list": list, "name": name }))
                }
                RefCmd::List { list } => Ok(json!(m.references(&list)?)),
            }
        }
        Command::Report(ReportCmd::Indicators { from, to, by }) => {
            let m = open(&path)?;
            let dims = by.iter().map(|b| Dimension::parse(b)).collect::<Result<Vec<_>, _>>()?;
            Ok(m.report(&from, &to, &dims)?.to_json())
        }
    }
}
