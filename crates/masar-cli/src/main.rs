//! `masar`: the command-line face of the core, for supervisors, IT and scripts.
//! Argument parsing and printing only; every rule lives in masar-core.

mod args;
mod output;
mod progress;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches};
use masar_core::{
    split_pair, Checked, Clock, Digest, Dimension, ExportFormat, ExportTable, FixedClock, Id,
    Language, Masar, PasswordChanged, Permission, ReferenceEntry, Resolution, Role, Scope,
    SurvivalBy, SystemClock,
};
use serde_json::Value as Json;

use args::{
    BundleCmd, Cli, Command, ConflictsCmd, DeviceCmd, DisbursementCmd, FollowUpCmd, IntakeCmd,
    OrgCmd, OrgKeyCmd, PersonCmd, ProjectCmd, RefCmd, ReferralCmd, ReportCmd, SessionCmd, UserCmd,
};
use output::json;

/// A failure to report: the message, already phrased for the user, and the exit status
/// documented in `masar --help`.
struct Failure {
    message: String,
    status: u8,
}

impl Failure {
    /// Refused input that the command line itself reads (a file, a choice).
    fn refused(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: 1,
        }
    }

    /// A usage error the argument parser cannot see (an environment variable).
    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: 2,
        }
    }

    /// Credentials that cannot be had.
    fn auth(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: 3,
        }
    }
}

impl<E: Into<masar_core::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let e: masar_core::Error = e.into();
        Failure {
            message: e.to_string(),
            status: e.class().exit_status(),
        }
    }
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
        return match list_all_persons(cli.db, search.as_deref(), json) {
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

fn db_path(cli_db: Option<PathBuf>) -> Result<PathBuf, Failure> {
    if let Some(p) = cli_db {
        return Ok(p);
    }
    dirs::data_dir()
        .map(|d| d.join("masar").join("masar.db"))
        .ok_or_else(|| {
            Failure::usage(
                "no data directory is known for this user: give the database with --db or MASAR_DB",
            )
        })
}

/// The wall clock; MASAR_CLOCK pins it (RFC 3339 or a date) for tests and diagnostics.
fn clock() -> Result<Arc<dyn Clock>, Failure> {
    match std::env::var("MASAR_CLOCK") {
        Ok(s) if !s.trim().is_empty() => {
            let t = s.trim();
            let at = chrono::DateTime::parse_from_rfc3339(t)
                .map(|d| d.with_timezone(&chrono::Utc))
                .or_else(|_| {
                    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                        .map(|d| d.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc())
                })
                .map_err(|_| {
                    Failure::usage(format!(
                        "MASAR_CLOCK '{t}' is not a date or an RFC 3339 time"
                    ))
                })?;
            Ok(Arc::new(FixedClock(at)))
        }
        _ => Ok(Arc::new(SystemClock)),
    }
}

fn ask(prompt: &str, secret: bool) -> Result<String, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::auth(format!(
            "{prompt} is needed and there is no terminal to ask it: set the environment variable"
        )));
    }
    if secret {
        rpassword::prompt_password(format!("{prompt}: "))
            .map_err(|e| Failure::auth(format!("cannot read the {prompt}: {e}")))
    } else {
        eprint!("{prompt}: ");
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Failure::auth(format!("cannot read the {prompt}: {e}")))?;
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
    Ok((
        env_or_ask("MASAR_USER", "user name", false)?,
        env_or_ask("MASAR_PASSWORD", "password", true)?,
    ))
}

/// `person list` without `--limit`: the whole register (or every match), written person by
/// person as it is read, so that neither the list nor its JSON is ever held whole.
fn list_all_persons(
    db: Option<PathBuf>,
    search: Option<&str>,
    as_json: bool,
) -> Result<(), Failure> {
    use std::io::Write;
    let m = open(&db_path(db)?)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut written = 0u64;
    // The first write that fails stops the writing; a reader that stopped reading
    // (`| head -1`) is not a failure.
    let mut failed: Option<std::io::Error> = None;
    let write = |out: &mut std::io::BufWriter<std::io::StdoutLock<'_>>,
                 failed: &mut Option<std::io::Error>,
                 text: &str| {
        if failed.is_none() {
            *failed = out.write_all(text.as_bytes()).err();
        }
    };
    let listed = m.each_person(search, |person| {
        let text = if as_json {
            let item = json(&person).to_string();
            format!("{}{item}", if written == 0 { "[" } else { "," })
        } else {
            format!(
                "{}{}",
                if written == 0 { "" } else { "\n" },
                output::render(&json(&person), false)
            )
        };
        written += 1;
        write(&mut out, &mut failed, &text);
        // Nobody reads any more: stop reading the register too (the error is not shown).
        match failed {
            Some(_) => Err(masar_core::Error::Store(masar_core::StoreError::Busy)),
            None => Ok(()),
        }
    });
    if failed.is_none() {
        listed?;
    }
    let end = match (as_json, written) {
        (true, 0) => "[]\n",
        (true, _) => "]\n",
        (false, 0) => "(none)\n",
        (false, _) => "",
    };
    write(&mut out, &mut failed, end);
    let failed = failed.or_else(|| out.flush().err());
    match failed {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure { message: format!("the answer could not be written ({e}): check where the output goes (disk space, a closed terminal)"), status: 5 })
        }
        _ => Ok(()),
    }
}

fn open(path: &std::path::Path) -> Result<Masar, Failure> {
    Ok(open_with_password(path)?.0)
}

/// Opens the database and keeps the password that opened it (a password change needs it).
fn open_with_password(path: &std::path::Path) -> Result<(Masar, String), Failure> {
    let (user, password) = credentials()?;
    let m = Masar::open(path, &user, &password, clock()?)?;
    Ok((m, password))
}

fn pairs(items: &[String]) -> Result<Vec<(String, String)>, Failure> {
    Ok(items
        .iter()
        .map(|s| split_pair(s))
        .collect::<Result<_, _>>()?)
}

fn flag_pairs(flags: &[(&str, &Option<String>)]) -> Vec<(String, String)> {
    flags
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| ((*k).to_string(), v.clone())))
        .collect()
}

fn id(id: String) -> Json {
    json(&Id::from(id))
}

fn read_file(file: &std::path::Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(file).map_err(|e| {
        Failure::refused(format!(
            "{}: cannot be read ({e}): check the path",
            file.display()
        ))
    })
}

fn confirm(question: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    let answer = ask(&format!("{question} [y/N]"), false)?;
    Ok(matches!(
        answer.to_lowercase().as_str(),
        "y" | "yes" | "o" | "oui"
    ))
}

fn run(cli: Cli) -> Result<Json, Failure> {
    let path = db_path(cli.db)?;
    let json_out = cli.json;
    match cli.command {
        Command::Init { org, join, device } => {
            let made = match join {
                Some(file) => {
                    let bytes = read_file(&file)?;
                    let passphrase =
                        env_or_ask("MASAR_ENROL_PASSPHRASE", "enrolment passphrase", true)?;
                    let (user, password) = credentials()?;
                    Masar::join(
                        &path,
                        &bytes,
                        &passphrase,
                        &device,
                        &user,
                        &password,
                        clock()?,
                    )?
                    .1
                }
                None => {
                    let (user, password) = credentials()?;
                    Masar::init(
                        &path,
                        org.as_deref().unwrap_or_default(),
                        &device,
                        &user,
                        &password,
                        clock()?,
                    )?
                    .1
                }
            };
            Ok(json(&made))
        }
        Command::Enrol { out, valid_days } => {
            let mut m = open(&path)?;
            m.require(Permission::ManageUsers)?;
            let passphrase = env_or_ask(
                "MASAR_ENROL_PASSPHRASE",
                "passphrase for the enrolment file",
                true,
            )?;
            Ok(json(&m.enrol(&out, &passphrase, valid_days)?))
        }
        Command::Bundle(BundleCmd::Export { out, full, scope }) => {
            let mut m = open(&path)?;
            let scope = scope
                .iter()
                .map(|s| Scope::parse(s))
                .collect::<Result<Vec<_>, _>>()?;
            let mut bar = progress::Bar::new(json_out);
            Ok(json(&m.export_bundle(&out, full, &scope, |p| bar.tell(p))?))
        }
        Command::Bundle(BundleCmd::Import { files }) => {
            let mut m = open(&path)?;
            // A folder stands for the bundle files in it, as in the window.
            let files = Masar::bundle_files(&files)?;
            let paths: Vec<&std::path::Path> = files.iter().map(|f| f.as_path()).collect();
            let mut bar = progress::Bar::new(json_out);
            let done = m.import_bundles(&paths, |p| bar.tell(p))?;
            drop(bar);
            Ok(json(&done))
        }
        Command::Sync {
            folder,
            watch: true,
            every,
            merged,
        } => {
            let mut m = open(&path)?;
            // Watching, the merged export (a full bundle) is rewritten at most hourly.
            let merged = merged.then_some(std::time::Duration::from_secs(3600));
            watch_folder(
                &mut m,
                folder.as_deref(),
                merged,
                std::time::Duration::from_secs(every.unwrap_or(300)),
                json_out,
            )?;
            Ok(json(&serde_json::json!({ "stopped": true })))
        }
        Command::Sync { folder, merged, .. } => {
            let mut m = open(&path)?;
            let mut bar = progress::Bar::new(json_out);
            // Saved for the window too, whose working folder is not this shell's.
            let folder = folder.map(|f| std::path::absolute(&f).unwrap_or(f));
            let done = m.sync_folder(
                folder.as_deref(),
                merged.then_some(std::time::Duration::ZERO),
                |p| bar.tell(p),
            )?;
            drop(bar);
            Ok(json(&done))
        }
        Command::Conflicts(ConflictsCmd::List) => {
            let m = open(&path)?;
            Ok(json(&m.conflicts()?))
        }
        Command::Conflicts(ConflictsCmd::Resolve {
            id: cid,
            keep,
            value,
        }) => {
            let mut m = open(&path)?;
            m.resolve_conflict(&cid, Resolution::parse(keep.as_deref(), value)?)?;
            Ok(id(cid))
        }
        Command::Digest => Ok(json(&Digest {
            digest: open(&path)?.digest()?,
        })),
        Command::Check => {
            let m = open(&path)?;
            let ok = m.integrity_check()?;
            if !ok {
                return Err(Failure {
                    message: "the database file is damaged: restore it from a backup or from the supervisor's bundles".into(),
                    status: masar_core::ErrorClass::Damaged.exit_status(),
                });
            }
            Ok(json(&Checked {
                ok,
                pending: m.pending_count()?,
            }))
        }
        Command::Demo { lang } => {
            let language = Language::parse(&lang)?;
            let mut m = if path.exists() {
                open(&path)?
            } else {
                let (user, password) = credentials()?;
                Masar::init(
                    &path,
                    &masar_core::demo::organisation(language),
                    "demo-laptop",
                    &user,
                    &password,
                    clock()?,
                )?
                .0
            };
            let summary = masar_core::demo::fill(&mut m, 7, language)?;
            Ok(json(&summary))
        }
        Command::Status => Ok(json(&open(&path)?.status()?)),
        Command::History { id } => {
            let m = open(&path)?;
            Ok(json(&m.history(&id)?))
        }
        Command::Password => {
            // The password that opened the database, typed or from MASAR_PASSWORD, is the
            // old one: asking for it twice would fail whenever it was typed.
            let (mut m, old) = open_with_password(&path)?;
            let new = env_or_ask("MASAR_NEW_PASSWORD", "new password", true)?;
            m.change_password(&old, &new)?;
            Ok(json(&PasswordChanged {
                user: m.user().name.clone(),
            }))
        }
        Command::User(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                UserCmd::Add { name, role } => {
                    // Checked before asking for a password nobody may use.
                    m.require(Permission::ManageUsers)?;
                    let role = Role::from_input(&role)?;
                    let password =
                        env_or_ask("MASAR_NEW_PASSWORD", &format!("password for {name}"), true)?;
                    Ok(id(m.add_user(masar_core::NewUser {
                        name,
                        role,
                        password,
                    })?))
                }
                UserCmd::List => Ok(json(&m.list_users()?)),
                UserCmd::Revoke { name } => Ok(json(&m.revoke_user(&name)?)),
                UserCmd::Admit { id: user } => {
                    m.require(Permission::ManageUsers)?;
                    let password = env_or_ask("MASAR_NEW_PASSWORD", "password for the user", true)?;
                    Ok(id(m.admit_user(&user, &password)?))
                }
                UserCmd::Role { name, role } => {
                    Ok(id(m.change_role(&name, Role::from_input(&role)?)?))
                }
            }
        }
        Command::Device(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                DeviceCmd::List => Ok(json(&m.devices()?)),
                DeviceCmd::Revoke { id } => Ok(json(&m.revoke_device(&id)?)),
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
                        ("birth_year", &p.birth_year),
                        ("nationality", &p.nationality),
                        ("unhcr_id", &p.unhcr_id),
                        ("city", &p.city),
                        ("phone", &p.phone),
                        ("consent", &p.consent),
                    ]);
                    let mut fields = fields;
                    fields.extend(pairs(&p.set)?);
                    Ok(id(m.add_person(masar_core::NewPerson {
                        fields: masar_core::Fields(fields),
                        intake_date: None,
                    })?))
                }
                PersonCmd::Set { id: pid, pairs: kv } => {
                    m.set_person(&pid, &pairs(&kv)?)?;
                    Ok(id(pid))
                }
                PersonCmd::Get { id } => Ok(json(&m.person(&id)?)),
                // Written person by person by `list_all_persons`, before `run`.
                PersonCmd::List { limit: None, .. } => Err(Failure::usage(
                    "person list without --limit is written as it is read",
                )),
                PersonCmd::List {
                    search,
                    limit: Some(limit),
                    offset,
                } => {
                    let query = masar_core::PersonQuery {
                        search,
                        limit,
                        offset,
                        ..Default::default()
                    };
                    let mut page = m.persons_page(&query)?;
                    // The window's list of cities is not this answer's business.
                    page.cities.clear();
                    Ok(json(&page))
                }
                PersonCmd::Erase { id: pid, yes } => {
                    let name = m.person(&pid)?.display_name();
                    if !yes && !confirm(&format!("Erase the personal data of {name} ({pid}) on this laptop and, through sync, everywhere? This cannot be undone."))? {
                        return Err(Failure::refused("erasure cancelled: nothing was changed"));
                    }
                    m.erase_person(&pid)?;
                    Ok(id(pid))
                }
            }
        }
        Command::Import {
            what: args::ImportWhat::Persons { file },
        } => {
            let data = read_file(&file)?;
            let mut m = open(&path)?;
            Ok(json(&m.import_persons_csv(&data)?))
        }
        Command::Intake(IntakeCmd::Add {
            person,
            date,
            referral,
        }) => {
            let mut m = open(&path)?;
            Ok(id(m.add_intake(masar_core::NewIntake {
                person,
                date,
                referral,
            })?))
        }
        Command::Session(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                SessionCmd::Add {
                    kind,
                    date,
                    topic,
                    place,
                    attendee,
                } => Ok(id(m.add_session(masar_core::NewSession {
                    kind,
                    date,
                    topic,
                    place,
                    attendees: attendee,
                })?)),
                SessionCmd::Attend { session, person } => {
                    m.attend(&session, &person)?;
                    Ok(id(session))
                }
                SessionCmd::Unattend { session, person } => {
                    m.unattend(&session, &person)?;
                    Ok(id(session))
                }
                SessionCmd::Roster {
                    session,
                    present,
                    absent,
                } => {
                    m.set_roster(masar_core::Roster {
                        session: session.clone(),
                        present,
                        absent,
                    })?;
                    Ok(id(session))
                }
                SessionCmd::Attendees { session } => Ok(json(&m.attendees(&session)?)),
            }
        }
        Command::Project(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                ProjectCmd::Add {
                    title,
                    kind,
                    sector,
                    member,
                    date,
                } => Ok(id(m.add_project(masar_core::NewProject {
                    title,
                    kind,
                    sector,
                    members: member,
                    date,
                })?)),
                ProjectCmd::Stage {
                    id: pid,
                    stage,
                    date,
                } => {
                    m.set_stage(masar_core::StageChange {
                        project: pid.clone(),
                        stage: masar_core::Stage::parse("stage", &stage)?,
                        date,
                    })?;
                    Ok(id(pid))
                }
                ProjectCmd::Decide {
                    id: pid,
                    decision,
                    date,
                    amount,
                    currency,
                    remarks,
                } => {
                    m.decide(masar_core::CommitteeDecision {
                        project: pid.clone(),
                        decision: masar_core::Decision::parse(&decision)?,
                        date,
                        amount,
                        currency,
                        remarks,
                    })?;
                    Ok(id(pid))
                }
                ProjectCmd::Set { id: pid, pairs: kv } => {
                    m.set_project(&pid, &pairs(&kv)?)?;
                    Ok(id(pid))
                }
                ProjectCmd::Get { id } => Ok(json(&m.project(&id)?)),
                ProjectCmd::BudgetAdd {
                    id: pid,
                    item,
                    quantity,
                    unit_cost,
                } => Ok(id(m.add_budget_line(masar_core::NewBudgetLine {
                    project: pid,
                    item,
                    quantity,
                    unit_cost,
                })?)),
                ProjectCmd::Budget { id } => Ok(json(&m.budget(&id)?)),
                ProjectCmd::BudgetSet { line, pairs: kv } => {
                    m.set_budget_line(&line, &pairs(&kv)?)?;
                    Ok(id(line))
                }
                ProjectCmd::BudgetRemove { line } => {
                    m.remove_budget_line(&line)?;
                    Ok(id(line))
                }
                ProjectCmd::UndoStage { id: pid } => {
                    let stage = m.undo_stage(&pid)?;
                    Ok(json(&masar_core::StageUndone { id: pid, stage }))
                }
            }
        }
        Command::Disbursement(DisbursementCmd::Add {
            project,
            date,
            amount,
            currency,
            donor,
            mode,
            receipt,
            above_approved_because,
        }) => {
            let mut m = open(&path)?;
            Ok(id(m.add_disbursement(masar_core::NewTranche {
                project,
                date,
                amount,
                currency,
                donor,
                mode,
                receipt,
                above_approved_because,
            })?))
        }
        Command::Followup(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                FollowUpCmd::Add {
                    project,
                    date,
                    status,
                    revenue,
                    profit,
                    jobs,
                    next_due,
                    notes,
                } => {
                    let fields = flag_pairs(&[
                        ("date", &Some(date)),
                        ("status", &Some(status)),
                        ("revenue", &revenue),
                        ("profit", &profit),
                        ("jobs", &jobs),
                        ("next_due", &next_due),
                        ("notes", &notes),
                    ]);
                    Ok(id(m.add_followup(masar_core::NewFollowUp {
                        project,
                        fields: masar_core::Fields(fields),
                    })?))
                }
                FollowUpCmd::Overdue { on } => {
                    let day = match on {
                        Some(d) => masar_core::parse_date("on", &d)?,
                        None => m.clock().today(),
                    };
                    Ok(json(&m.overdue_visits(day)?))
                }
            }
        }
        Command::Referral(ReferralCmd::Add {
            person,
            partner,
            date,
            status,
        }) => {
            let mut m = open(&path)?;
            Ok(id(m.add_referral(masar_core::NewReferral {
                person,
                partner,
                date,
                status,
            })?))
        }
        Command::Org(OrgCmd::Key(OrgKeyCmd::Export { out, sheet })) => {
            let m = open(&path)?;
            if sheet {
                Ok(json(&m.export_org_key_sheet(&out)?))
            } else {
                let passphrase =
                    env_or_ask("MASAR_KEY_PASSPHRASE", "organisation key passphrase", true)?;
                Ok(json(&m.export_org_key(&out, &passphrase)?))
            }
        }
        Command::Org(OrgCmd::Key(OrgKeyCmd::Import { file })) => {
            let (mut m, password) = open_with_password(&path)?;
            let passphrase = if masar_core::is_encrypted_org_key(&file) {
                Some(env_or_ask(
                    "MASAR_KEY_PASSPHRASE",
                    "organisation key passphrase",
                    true,
                )?)
            } else {
                None
            };
            Ok(json(&m.import_org_key(
                &file,
                passphrase.as_deref(),
                &password,
            )?))
        }
        Command::Org(OrgCmd::Key(OrgKeyCmd::Rotate)) => {
            let (mut m, password) = open_with_password(&path)?;
            Ok(json(&m.rotate_org_key(&password)?))
        }
        Command::Ref(cmd) => {
            let mut m = open(&path)?;
            match cmd {
                RefCmd::Add { list, name } => Ok(id(m.add_reference(&list, &name)?)),
                RefCmd::Remove { list, name } => {
                    m.remove_reference(&list, &name)?;
                    Ok(json(&ReferenceEntry { list, name }))
                }
                RefCmd::List { list } => Ok(json(&m.references(&list)?)),
                RefCmd::Currency { code: Some(code) } => {
                    Ok(json(&Some(m.set_programme_currency(&code)?)))
                }
                RefCmd::Currency { code: None } => Ok(json(&m.programme_currency()?)),
            }
        }
        Command::Report(ReportCmd::Unexplained) => Ok(json(&open(&path)?.unexplained_tranches()?)),
        Command::Report(ReportCmd::Equivocations) => Ok(json(&open(&path)?.equivocations()?)),
        Command::Export {
            format,
            what,
            out,
            from,
            to,
            pseudonymise,
        } => {
            let (table, format) = (ExportTable::parse(&what)?, ExportFormat::parse(&format)?);
            Ok(json(&open(&path)?.export_table(
                table,
                format,
                (from.as_deref(), to.as_deref()),
                pseudonymise,
                &out,
            )?))
        }
        Command::Exports => Ok(json(&open(&path)?.exports()?)),
        Command::Backup { out, folder, keep } => {
            let mut m = open(&path)?;
            if let Some(out) = out {
                return Ok(json(&m.backup(&out)?));
            }
            if folder.is_some() || keep.is_some() {
                let settings = m.backup_settings()?;
                // Saved for the window too, whose working folder is not this shell's.
                let folder = folder
                    .map(|f| std::path::absolute(&f).unwrap_or(f).display().to_string())
                    .unwrap_or(settings.folder);
                m.set_backup_settings(&folder, keep.unwrap_or(settings.keep), settings.automatic)?;
            }
            Ok(json(&m.backup_now()?))
        }
        Command::Restore { file, replace } => {
            let (user, password) = credentials()?;
            let (_, restored) = Masar::restore(&file, &path, &user, &password, replace, clock()?)?;
            Ok(json(&restored))
        }
        Command::Report(ReportCmd::Survival { by, at }) => {
            let by = by.as_deref().map(SurvivalBy::parse).transpose()?;
            Ok(json(&open(&path)?.survival(at.as_deref(), by)?))
        }
        Command::Report(ReportCmd::Donor {
            from,
            to,
            donor,
            lang,
            out,
        }) => {
            let m = open(&path)?;
            let chosen = match lang {
                Some(l) => Some(l),
                None => m.preference("language")?,
            };
            let language = Language::parse(chosen.as_deref().unwrap_or("fr"))?;
            Ok(json(&m.donor_report(
                &from,
                &to,
                donor.as_deref(),
                language,
                &out,
            )?))
        }
        Command::Report(ReportCmd::Indicators { from, to, by }) => {
            let m = open(&path)?;
            let dims = by
                .iter()
                .map(|b| Dimension::parse(b))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(json(&m.report(&from, &to, &dims)?))
        }
    }
}

/// `masar sync --watch`: syncs now, then whenever another laptop's bundle lands in the
/// folder or `every` passes, until SIGTERM or SIGINT; a sync in progress finishes first
/// (each import is one transaction anyway). One line per sync on stdout.
fn watch_folder(
    m: &mut Masar,
    folder: Option<&std::path::Path>,
    merged: Option<std::time::Duration>,
    every: std::time::Duration,
    json_out: bool,
) -> Result<(), Failure> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| Failure::refused(format!("cannot listen for stop signals ({e})")))?;
    }
    // The first sync saves the folder given, or says that none is set.
    let folder = match folder {
        Some(f) => std::path::absolute(f).unwrap_or_else(|_| f.to_path_buf()),
        None => m
            .saved_sync_folder()?
            .ok_or_else(|| Failure::refused("no sync folder is set: give one with --folder"))?,
    };
    m.set_sync_folder(&folder.display().to_string())?;
    let mut watcher = masar_core::FolderWatch::new(&folder, m.device_id());
    let mut unreachable_said = false;
    while !stop.load(Ordering::SeqCst) {
        let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        match m.sync_folder(None, merged, |_| {}) {
            Ok(done) => {
                unreachable_said = false;
                let line = if json_out {
                    serde_json::to_string(&done).unwrap_or_default()
                } else {
                    output::folder_sync_line(&done)
                };
                output::write_stdout(&format!("{at} {line}\n")).map_err(|e| {
                    Failure::refused(format!("the log line could not be written ({e})"))
                })?;
            }
            Err(e) => {
                // A stick pulled or a share gone is said once, then waited for.
                let unreachable = matches!(
                    &e,
                    masar_core::Error::Sync(masar_core::SyncError::File { .. })
                );
                if !(unreachable && unreachable_said) {
                    eprintln!("{at} error: {e}");
                }
                unreachable_said = unreachable;
            }
        }
        watcher.wait(every, &stop);
    }
    Ok(())
}
