//! The one list of the commands the window may call. `for_each_command!` hands the whole
//! list to a macro of the caller's: the window's shell turns it into its Tauri commands
//! and its handler, and a test here turns it into `ui/src/lib/commands.ts`, the window's
//! typed calls. A command added here exists on both sides or the build fails.
//!
//! Two kinds: `db` commands run one core call on the open database (`|m| …` is that call);
//! `app` commands need the window itself (its handle, its events, the database file
//! before a log-in) and are written in the shell under the same name, with the same
//! arguments, which the compiler checks.

use serde::Serialize;
use ts_rs::TS;

use crate::error::{InputError, Problem};

/// What a command that only changes something answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct Done;

/// Refuses `value` for `field` unless it is one of `options`.
pub fn one_of(field: &str, value: &str, options: &[&str]) -> Result<(), InputError> {
    if options.contains(&value) {
        Ok(())
    } else {
        Err(InputError::invalid(
            field,
            value,
            Problem::NotOneOf(options.iter().map(|o| (*o).to_string()).collect()),
        ))
    }
}

/// Hands the list of the window's commands to `$callback!`, in the form
/// `db { name(arg: Type, …) -> Answer = |m| call; … } app { name(arg: Type, …) -> Answer; … }`.
#[macro_export]
macro_rules! for_each_command {
    ($callback:ident) => {
        $callback! {
            db {
                /// Saves the language this user reads the window in.
                set_language(language: String) -> $crate::Done = |m| {
                    m.set_preference("language", &language).map(|_| $crate::Done)
                };
                /// Saves the Arabic month names this user reads.
                set_months(months: String) -> $crate::Done = |m| {
                    $crate::faces::one_of("months", &months, &["maghreb", "levant", "standard"])?;
                    m.set_preference("months", &months).map(|_| $crate::Done)
                };
                /// Saves the digits this user reads in Arabic.
                set_digits(digits: String) -> $crate::Done = |m| {
                    $crate::faces::one_of("digits", &digits, &["latn", "arab"])?;
                    m.set_preference("digits", &digits).map(|_| $crate::Done)
                };
                /// The home page.
                home() -> $crate::Home = |m| m.home();
                /// The persons whose names, UNHCR id or phone contain `text` (200 at most).
                persons_search(text: String) -> Vec<$crate::Person> = |m| {
                    Ok(m.list_persons(Some(&text))?.into_iter().take(200).collect())
                };
                /// A page of the persons table.
                persons_page(query: $crate::PersonQuery) -> $crate::PersonsPage = |m| m.persons_page(&query);
                /// A page of the projects table.
                projects_page(query: $crate::ProjectQuery) -> $crate::ProjectsPage = |m| m.projects_page(&query);
                /// A person's page: their record and their journey.
                person_timeline(id: String) -> $crate::Timeline = |m| m.timeline(&id);
                /// Persons whose names look like these (before registering another).
                person_similar(given: String, family: String) -> Vec<$crate::Person> = |m| m.similar_persons(&given, &family);
                /// Registers a person.
                person_add(input: $crate::NewPerson) -> $crate::Id = |m| m.add_person(input).map($crate::Id::from);
                /// Changes fields of a person.
                person_set(id: String, fields: $crate::Fields) -> $crate::Done = |m| m.set_person(&id, fields.pairs()).map(|_| $crate::Done);
                /// Erases a person's personal data everywhere.
                person_erase(id: String) -> $crate::Done = |m| m.erase_person(&id).map(|_| $crate::Done);
                /// Records a reception interview.
                intake_add(input: $crate::NewIntake) -> $crate::Id = |m| m.add_intake(input).map($crate::Id::from);
                /// Refers a person to a partner.
                referral_add(input: $crate::NewReferral) -> $crate::Id = |m| m.add_referral(input).map($crate::Id::from);
                /// The sessions, newest first.
                sessions() -> Vec<$crate::SessionTile> = |m| m.sessions_view();
                /// One session with who attended.
                session(id: String) -> $crate::SessionView = |m| m.session_view(&id);
                /// Records a session with its attendance.
                session_add(input: $crate::NewSession) -> $crate::Id = |m| m.add_session(input).map($crate::Id::from);
                /// Marks who was present and who was not; answers how many marks changed.
                session_roster(input: $crate::Roster) -> usize = |m| m.set_roster(input);
                /// The projects as tiles.
                projects() -> Vec<$crate::ProjectTile> = |m| m.projects_view();
                /// A project's page.
                project(id: String) -> $crate::ProjectView = |m| m.project_view(&id);
                /// Opens a project.
                project_add(input: $crate::NewProject) -> $crate::Id = |m| m.add_project(input).map($crate::Id::from);
                /// Moves a project to another stage by hand.
                project_stage(input: $crate::StageChange) -> $crate::Done = |m| m.set_stage(input).map(|_| $crate::Done);
                /// Records the committee's decision.
                project_decide(input: $crate::CommitteeDecision) -> $crate::Done = |m| m.decide(input).map(|_| $crate::Done);
                /// Changes settable fields of a project.
                project_set(id: String, fields: $crate::Fields) -> $crate::Done = |m| m.set_project(&id, fields.pairs()).map(|_| $crate::Done);
                /// Takes back the last change of stage.
                project_undo_stage(id: String) -> $crate::StageUndone = |m| {
                    m.undo_stage(&id).map(|stage| $crate::StageUndone { id: id.clone(), stage })
                };
                /// Adds a line to a business plan.
                budget_add(input: $crate::NewBudgetLine) -> $crate::Id = |m| m.add_budget_line(input).map($crate::Id::from);
                /// Corrects a line of a business plan.
                budget_set(line: String, fields: $crate::Fields) -> $crate::Done = |m| m.set_budget_line(&line, fields.pairs()).map(|_| $crate::Done);
                /// Removes a line of a business plan.
                budget_remove(line: String) -> $crate::Done = |m| m.remove_budget_line(&line).map(|_| $crate::Done);
                /// Records a tranche.
                disbursement_add(input: $crate::NewTranche) -> $crate::Id = |m| m.add_disbursement(input).map($crate::Id::from);
                /// Records a follow-up visit.
                followup_add(input: $crate::NewFollowUp) -> $crate::Id = |m| m.add_followup(input).map($crate::Id::from);
                /// The active entries of a reference list.
                refs(list: String) -> Vec<String> = |m| m.references(&list);
                /// Adds an entry to a reference list.
                ref_add(list: String, name: String) -> $crate::Id = |m| m.add_reference(&list, &name).map($crate::Id::from);
                /// Retires an entry of a reference list.
                ref_remove(list: String, name: String) -> $crate::Done = |m| m.remove_reference(&list, &name).map(|_| $crate::Done);
                /// The programme's currency, if set.
                programme_currency() -> Option<String> = |m| m.programme_currency();
                /// Sets the programme's currency.
                set_programme_currency(currency: String) -> Option<String> = |m| m.set_programme_currency(&currency).map(Some);
                /// The users of this database.
                users() -> Vec<$crate::UserSummary> = |m| m.list_users();
                /// Adds a user.
                user_add(input: $crate::NewUser) -> $crate::Id = |m| m.add_user(input).map($crate::Id::from);
                /// The laptops of the organisation.
                devices() -> Vec<$crate::DeviceRow> = |m| m.devices();
                /// Revokes a laptop.
                device_revoke(id: String) -> $crate::RevocationDone = |m| m.revoke_device(&id);
                /// Revokes a user.
                user_revoke(id: String) -> $crate::RevocationDone = |m| m.revoke_user(&id);
                /// Saves the organisation's key to a file (or a printable sheet).
                org_key_export(out: String, passphrase: String, sheet: bool) -> $crate::OrgKeyExported = |m| {
                    if sheet {
                        m.export_org_key_sheet(std::path::Path::new(&out))
                    } else {
                        m.export_org_key(std::path::Path::new(&out), &passphrase)
                    }
                };
                /// Takes the organisation's key into this laptop's custody.
                org_key_import(file: String, passphrase: String, password: String) -> $crate::OrgKeyImported = |m| {
                    let passphrase = (!passphrase.is_empty()).then_some(passphrase.as_str());
                    m.import_org_key(std::path::Path::new(&file), passphrase, &password)
                };
                /// Writes an enrolment file for a new laptop.
                enrol(out: String, passphrase: String) -> $crate::Enrolled = |m| m.enrol(std::path::Path::new(&out), &passphrase, None);
                /// How sync stands.
                sync_state() -> $crate::SyncState = |m| m.sync_state();
                /// Signed changes that contradict each other.
                equivocations() -> Vec<$crate::Equivocation> = |m| m.equivocations();
                /// Tranches held, with why.
                unexplained_tranches() -> Vec<$crate::Held> = |m| m.unexplained_tranches();
                /// The open conflicts.
                conflicts() -> Vec<$crate::Conflict> = |m| m.conflicts();
                /// Resolves a conflict: keep one side, or give the value.
                conflict_resolve(id: String, keep: Option<String>, value: Option<String>) -> $crate::Done = |m| {
                    // The same reading of the choice as the command line's.
                    let how = $crate::Resolution::parse(keep.as_deref(), value)?;
                    m.resolve_conflict(&id, how).map(|_| $crate::Done)
                };
                /// The dashboard of a period.
                dashboard(from: String, to: String) -> $crate::Dashboard = |m| m.dashboard(&from, &to);
                /// This laptop's backup settings and backups.
                backup_settings() -> $crate::BackupSettings = |m| m.backup_settings();
                /// Saves the backup folder, how many to keep, and whether daily.
                set_backup_settings(folder: String, keep: u32, automatic: bool) -> $crate::BackupSettings = |m| m.set_backup_settings(&folder, keep, automatic);
            }
            app {
                /// What this build is and which database it opens.
                app_info() -> $crate::AppInfo;
                /// Switches to the demo programme.
                try_demo(language: $crate::Language) -> $crate::AppInfo;
                /// Creates an organisation on this laptop.
                create_org(org: String, device: String, user: String, password: String) -> $crate::SessionInfo;
                /// Joins an organisation with an enrolment file.
                join_org(file: String, passphrase: String, device: String, user: String, password: String) -> $crate::SessionInfo;
                /// Logs in.
                login(user: String, password: String) -> $crate::SessionInfo;
                /// Logs out.
                logout() -> $crate::Done;
                /// Saves the sync folder and wakes the sync.
                set_sync_folder(folder: String) -> $crate::Done;
                /// Syncs through the saved folder now.
                sync_now() -> $crate::FolderSync;
                /// Writes a bundle.
                bundle_export(out: String, full: bool, scope: Option<String>) -> $crate::Exported;
                /// Imports bundles (files or folders) on a worker thread.
                bundle_import(files: Vec<String>) -> $crate::Imported;
                /// Where reports and exports are saved by default.
                export_folder() -> String;
                /// Writes the report to donors.
                donor_report(from: String, to: String, donor: Option<String>, language: $crate::Language, format: $crate::DonorFormat, folder: String) -> $crate::DonorReportDone;
                /// Writes a table.
                export_table(table: $crate::ExportTable, format: $crate::ExportFormat, from: Option<String>, to: Option<String>, pseudonymise: bool, folder: String) -> $crate::ExportDone;
                /// Backs up now.
                backup_now() -> $crate::BackupDone;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use ts_rs::{Config, TS};

    /// One command as the window calls it.
    struct Signature {
        name: &'static str,
        doc: String,
        args: Vec<(&'static str, String)>,
        answer: String,
    }

    macro_rules! signatures {
        (
            db { $( $(#[doc = $doc:literal])* $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty = $body:expr ; )* }
            app { $( $(#[doc = $adoc:literal])* $aname:ident ( $($aarg:ident : $aty:ty),* ) -> $aret:ty ; )* }
        ) => {
            fn signatures(cfg: &Config) -> Vec<Signature> {
                vec![
                    $(Signature {
                        name: stringify!($name),
                        doc: concat!($($doc),*).trim().to_string(),
                        args: vec![$((stringify!($arg), <$ty as TS>::name(cfg))),*],
                        answer: <$ret as TS>::name(cfg),
                    },)*
                    $(Signature {
                        name: stringify!($aname),
                        doc: concat!($($adoc),*).trim().to_string(),
                        args: vec![$((stringify!($aarg), <$aty as TS>::name(cfg))),*],
                        answer: <$aret as TS>::name(cfg),
                    },)*
                ]
            }
        };
    }
    crate::for_each_command!(signatures);

    fn camel(snake: &str) -> String {
        let mut out = String::new();
        let mut up = false;
        for c in snake.chars() {
            if c == '_' {
                up = true;
            } else if up {
                out.extend(c.to_uppercase());
                up = false;
            } else {
                out.push(c);
            }
        }
        out
    }

    /// `ui/src/lib/commands.ts`: one typed function per command, named in camel case.
    fn generate() -> String {
        let cfg = Config::new().with_large_int("number");
        let list = signatures(&cfg);
        let mut types = std::collections::BTreeSet::new();
        let mut body = String::new();
        for s in &list {
            for text in s.args.iter().map(|(_, t)| t).chain([&s.answer]) {
                for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
                    if word.starts_with(|c: char| c.is_ascii_uppercase())
                        && !matches!(word, "Array" | "Record")
                    {
                        types.insert(word.to_string());
                    }
                }
            }
            let params: Vec<String> = s.args.iter().map(|(n, t)| format!("{n}: {t}")).collect();
            let names: Vec<&str> = s.args.iter().map(|(n, _)| *n).collect();
            let args = if names.is_empty() {
                String::new()
            } else {
                format!(", {{ {} }}", names.join(", "))
            };
            body.push_str(&format!(
                "  /** {} */\n  {}: ({}) => call<{}>(\"{}\"{}),\n",
                s.doc,
                camel(s.name),
                params.join(", "),
                s.answer,
                s.name,
                args
            ));
        }
        let types: Vec<String> = types.into_iter().collect();
        format!(
            "// Generated from the core's one list of commands (crates/masar-core/src/faces.rs).\n\
             // Do not edit: change the list, then run\n\
             // `MASAR_WRITE_TYPES=1 cargo test -p masar-core --lib faces`.\n\n\
             import {{ call }} from \"./call\";\n\
             import type {{ {} }} from \"./types\";\n\n\
             export const commands = {{\n{}}};\n",
            types.join(", "),
            body
        )
    }

    #[test]
    fn the_windows_calls_match_the_list_of_commands() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/commands.ts");
        let text = generate();
        if std::env::var("MASAR_WRITE_TYPES").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &text).expect("write commands.ts");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "ui/src/lib/commands.ts differs from the list of commands: run \
             `MASAR_WRITE_TYPES=1 cargo test -p masar-core --lib faces` and commit the file"
        );
        let count = text.matches("=> call<").count();
        assert!(count >= 60, "only {count} commands generated");
    }

    #[test]
    fn a_choice_outside_its_list_is_refused_with_the_list() {
        assert!(super::one_of("digits", "latn", &["latn", "arab"]).is_ok());
        let e = super::one_of("digits", "roman", &["latn", "arab"]).unwrap_err();
        assert!(e.to_string().contains("latn, arab"), "{e}");
    }
}
