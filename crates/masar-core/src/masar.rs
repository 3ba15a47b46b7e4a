//! `Masar`, the one handle every face holds: a database opened or created with a
//! logged-in user, and the whole list of what a user can do with it. Each method is a
//! thin door onto the layer that owns the rule (domain, sync, reports); the read models
//! for screens are in `views`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use ts_rs::TS;

use crate::auth::{check_password, check_user_name, Permission, Role, User};
use crate::changes::{Change, ClockState, Db};
use crate::clock::{Clock, Hlc};
use crate::domain::{
    BudgetSummary, CommitteeDecision, NewBudgetLine, NewFollowUp, NewIntake, NewPerson, NewProject,
    NewReferral, NewSession, NewTranche, NewUser, Person, PersonImport, Project, Roster, Stage,
    StageChange, UserSummary,
};
use crate::error::{AuthError, InputError, StoreError};
use crate::identity::org::Login;
use crate::identity::{DeviceRow, RevocationDone};
use crate::keys::{DbKey, KdfCost, KeyFile, Secrets};
use crate::report::{Dimension, Report};
use crate::store::{self, key_file_path, meta, set_meta};
use crate::sync::{Conflict, Exported, Imported, Resolution, Scope, SyncProgress};
use crate::Result;

/// The bundle formats this version writes and reads: the newest, and the oldest it reads.
pub(crate) const BUNDLE_FORMATS: (u16, u16) = (
    crate::sync::bundle::FORMAT,
    crate::sync::bundle::OLDEST_FORMAT,
);

/// An open database with a logged-in user: the one handle every operation goes through.
pub struct Masar {
    db: Db,
}

/// What `init` or `join` made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Created {
    /// The organisation's id.
    pub org_id: String,
    /// This laptop's id.
    pub device_id: String,
}

/// Where a database stands, for `masar status` and the window's footer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Status {
    /// The organisation's id.
    pub org_id: String,
    /// The organisation's name.
    pub org_name: String,
    /// This laptop's id.
    pub device_id: String,
    /// This laptop's name.
    pub device_name: String,
    /// The logged-in user's name.
    pub user: String,
    /// Their role.
    pub role: String,
    /// The schema version of the file.
    pub schema_version: i64,
    /// Changes in the log.
    pub changes: i64,
    /// Persons registered.
    pub persons: i64,
    /// Projects opened.
    pub projects: i64,
}

/// What an enrolment wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Enrolled {
    /// The new laptop's device id.
    pub device_id: String,
    /// The enrolment file.
    pub file: String,
}

/// Who a new database belongs to: a new organisation, or one joined by enrolment.
struct Founding {
    org_id: String,
    org_name: String,
    device_id: String,
    enrolment: Option<crate::identity::org::Enrolment>,
}

/// Checks what a new database needs before anything is written: a usable admin name and
/// password, the names given, and no file to overwrite.
fn check_new_database(
    path: &Path,
    admin: &str,
    password: &str,
    names: &[(&str, &str)],
) -> Result<()> {
    check_user_name(admin)?;
    check_password(password, admin)?;
    for (field, value) in names {
        if value.trim().is_empty() {
            return Err(InputError::Missing {
                field: (*field).into(),
                hint: "give a name".into(),
            }
            .into());
        }
    }
    for p in [path.to_path_buf(), key_file_path(path)] {
        if p.exists() {
            return Err(StoreError::AlreadyExists(p.display().to_string()).into());
        }
    }
    Ok(())
}

impl Masar {
    /// Creates a new encrypted database for a new organisation; `admin` becomes its first
    /// administrator. Refuses to overwrite anything.
    pub fn init(
        path: &Path,
        org_name: &str,
        device_name: &str,
        admin: &str,
        password: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<(Masar, Created)> {
        check_new_database(
            path,
            admin,
            password,
            &[("org", org_name), ("device", device_name)],
        )?;
        let founding = Founding {
            org_id: uuid::Uuid::now_v7().to_string(),
            org_name: org_name.trim().to_string(),
            device_id: uuid::Uuid::now_v7().to_string(),
            enrolment: None,
        };
        let made = Self::create_files(path, founding, device_name.trim(), admin, password, clock);
        if made.is_err() {
            store::remove_database_files(path);
        }
        made
    }

    /// Creates a laptop's database in an existing organisation from an enrolment file
    /// (`masar enrol`); `admin` becomes the laptop's first administrator.
    pub fn join(
        path: &Path,
        enrolment: &[u8],
        passphrase: &str,
        device_name: &str,
        admin: &str,
        password: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<(Masar, Created)> {
        check_new_database(path, admin, password, &[("device", device_name)])?;
        let enrolment = crate::identity::org::open_enrolment(enrolment, passphrase)?;
        enrolment.check_not_expired(clock.now())?;
        let founding = Founding {
            org_id: enrolment.org_id.clone(),
            org_name: enrolment.org_name.clone(),
            device_id: enrolment.device_id.clone(),
            enrolment: Some(enrolment),
        };
        let made = Self::create_files(path, founding, device_name.trim(), admin, password, clock);
        if made.is_err() {
            store::remove_database_files(path);
        }
        made
    }

    fn create_files(
        path: &Path,
        founding: Founding,
        device_name: &str,
        admin: &str,
        password: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<(Masar, Created)> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
                path: dir.display().to_string(),
                reason: format!("the folder cannot be created ({e})"),
                source: e,
            })?;
        }
        let key = DbKey::generate();
        // The database is its owner's only; SQLite gives its journal files the same mode.
        crate::files::create_private(path).map_err(|e| StoreError::Io {
            path: path.display().to_string(),
            reason: format!("the database cannot be created ({e})"),
            source: e,
        })?;
        let mut conn = store::open_connection(path, &key, true)?;
        store::migrate(&mut conn)?;
        let Founding {
            org_id,
            org_name,
            device_id,
            enrolment,
        } = founding;
        for (k, v) in [
            ("org_id", &*org_id),
            ("org_name", &*org_name),
            ("device_id", &*device_id),
            ("device_name", device_name),
        ] {
            set_meta(&conn, k, v)?;
        }
        let (root, joining) = match &enrolment {
            Some(e) => {
                let joining = crate::identity::org::store_member_keys(&conn, e)?;
                // Start after everything the enrolling laptop had stamped.
                ClockState::joined_after(Hlc(e.hlc)).save(&conn)?;
                (None, Some(joining))
            }
            None => (crate::identity::org::ensure_founder_keys(&conn)?, None),
        };
        let key_file = key_file_path(path);
        let mut keys = KeyFile::new();
        keys.add_user(admin, password, &key, &Secrets::default())?;
        keys.save(&key_file)?;
        // The first administrator: an organisation-wide identity, certified here with the
        // root key they take into custody.
        let user = User {
            id: uuid::Uuid::now_v7().to_string(),
            name: admin.to_string(),
            role: Role::Admin,
        };
        let now = clock.now().to_rfc3339();
        let login = Login {
            key_file: &key_file,
            user: &user,
            password,
            db_key: &key,
            enrolment: joining.as_ref(),
        };
        let custody =
            crate::identity::org::at_login(&conn, &login, Secrets::default(), root, &now)?;
        let mut db = Db::new(conn, path, key, user.clone(), device_id.clone(), clock);
        if let Some(signer) = custody.signer {
            db.set_signer(signer);
        }
        db.set_root(custody.root);
        // The first user records their own creation.
        db.write(|w| w.add_user_row(&user.id, admin, Role::Admin))?;
        Ok((Masar { db }, Created { org_id, device_id }))
    }

    /// Opens an existing database as `user`. A wrong user or password gets one clear
    /// error and nothing on stderr.
    pub fn open(path: &Path, user: &str, password: &str, clock: Arc<dyn Clock>) -> Result<Masar> {
        Self::open_at(path, user, password, clock, KdfCost::for_key_file())
    }

    /// Opens as `open` does, wrapping the user's key-file entry again at `cost` when it
    /// was wrapped at a lower one; the benchmark of log-in times passes the former cost to
    /// time a log-in as it was before the cost was raised.
    pub(crate) fn open_at(
        path: &Path,
        user: &str,
        password: &str,
        clock: Arc<dyn Clock>,
        cost: KdfCost,
    ) -> Result<Masar> {
        if !path.exists() {
            return Err(StoreError::NotFound(path.display().to_string()).into());
        }
        let key_file = key_file_path(path);
        let unlocked = KeyFile::load(&key_file)?.unwrap_for(user, password)?;
        let mut conn = store::open_connection(path, &unlocked.db_key, false)?;
        store::migrate(&mut conn)?;
        let fresh_root = crate::identity::org::ensure_founder_keys(&conn)?;
        let row: Option<(String, Option<String>, Option<bool>)> = conn
            .query_row(
                "SELECT id, role, active FROM users WHERE name = ?1",
                [user],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (id, role, active) = row.ok_or(AuthError::WrongCredentials)?;
        if active != Some(true) {
            return Err(AuthError::Disabled(user.to_string()).into());
        }
        let role = role
            .as_deref()
            .and_then(Role::parse)
            .ok_or(AuthError::WrongCredentials)?;
        if conn
            .prepare("SELECT 1 FROM revocations WHERE kind = 'user' AND subject = ?1")?
            .exists([&id])?
        {
            return Err(AuthError::Revoked(format!("the account '{user}'")).into());
        }
        let device_id = meta(&conn, "device_id")?
            .ok_or_else(|| StoreError::NotADatabase(path.display().to_string()))?;
        // The password is right and the account may log in: an entry an earlier version
        // wrapped at a lower argon2id cost is wrapped again at the current one, once.
        crate::keys::upgrade_entry(&key_file, user, password, &unlocked, cost)?;
        let user = User {
            id,
            name: user.to_string(),
            role,
        };
        let now = clock.now().to_rfc3339();
        let login = Login {
            key_file: &key_file,
            user: &user,
            password,
            db_key: &unlocked.db_key,
            enrolment: None,
        };
        let custody =
            crate::identity::org::at_login(&conn, &login, unlocked.secrets, fresh_root, &now)?;
        // The role is the one the organisation certified last (it may have changed on
        // another laptop).
        let mut user = user;
        if let Some(role) = custody
            .signer
            .as_ref()
            .and_then(|s| Role::parse(&s.cert.role))
        {
            user.role = role;
        }
        let mut db = Db::new(conn, path, unlocked.db_key, user, device_id, clock);
        if let Some(signer) = custody.signer {
            db.set_signer(signer);
        }
        db.set_root(custody.root);
        Ok(Masar { db })
    }

    /// The open database, for the read models and the crate's tests.
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// The open database, to write through it in the crate's tests.
    #[cfg(test)]
    pub(crate) fn db_mut(&mut self) -> &mut Db {
        &mut self.db
    }

    /// The connection, for reads.
    pub(crate) fn conn(&self) -> &Connection {
        self.db.conn()
    }

    /// The logged-in user.
    pub fn user(&self) -> &User {
        self.db.user()
    }

    /// This laptop's id.
    pub fn device_id(&self) -> &str {
        self.db.device_id()
    }

    /// The organisation's id.
    pub fn org_id(&self) -> Result<String> {
        Ok(meta(self.conn(), "org_id")?.unwrap_or_default())
    }

    /// The injected wall clock.
    pub fn clock(&self) -> &dyn Clock {
        self.db.clock()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        self.db.path()
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(store::schema_version(self.conn())?)
    }

    /// Refuses the action unless the logged-in user's role allows it.
    pub fn require(&self, permission: Permission) -> Result<(), AuthError> {
        self.db.require(permission)
    }

    /// Where this database stands: who is logged in, its schema, what it holds.
    pub fn status(&self) -> Result<Status> {
        let count = |table: &str| -> Result<i64> {
            Ok(self
                .conn()
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
        };
        Ok(Status {
            org_id: meta(self.conn(), "org_id")?.unwrap_or_default(),
            org_name: meta(self.conn(), "org_name")?.unwrap_or_default(),
            device_id: self.device_id().to_string(),
            device_name: meta(self.conn(), "device_name")?.unwrap_or_default(),
            user: self.user().name.clone(),
            role: self.user().role.as_str().to_string(),
            schema_version: self.schema_version()?,
            changes: count("changes")?,
            persons: count("persons")?,
            projects: count("projects")?,
        })
    }

    /// The schema as SQLite describes it, sorted: equal for a new database and an
    /// upgraded one.
    pub fn schema_sql(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn().prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name")?;
        let rows = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }

    /// The change history of one record, oldest first.
    pub fn history(&self, record: &str) -> Result<Vec<Change>> {
        self.db.history(record)
    }

    // Accounts.

    /// Adds a user with their own password (admin only).
    pub fn add_user(&mut self, new: NewUser) -> Result<String> {
        self.db.add_user(&new.name, new.role, &new.password)
    }

    /// Changes the logged-in user's password: re-wraps their copy of the key only.
    pub fn change_password(&mut self, old: &str, new: &str) -> Result<()> {
        self.db.change_password(old, new)
    }

    /// The users of this database.
    pub fn list_users(&self) -> Result<Vec<UserSummary>> {
        self.db.list_users()
    }

    // Persons.

    /// Registers a person from their fields (names as `person get` prints them) and,
    /// when `intake_date` is given, their reception interview, in one transaction.
    pub fn add_person(&mut self, new: NewPerson) -> Result<String> {
        self.db
            .register_person(new.fields.pairs(), new.intake_date.as_deref())
    }

    /// Changes fields of a person; refuses personal fields of an erased person.
    pub fn set_person(&mut self, id: &str, pairs: &[(String, String)]) -> Result<()> {
        self.db.set_person(id, pairs)
    }

    /// One person.
    pub fn person(&self, id: &str) -> Result<Person> {
        self.db.person(id)
    }

    /// Persons whose names (either script), UNHCR id or phone contain `search`, or all
    /// persons, ordered by family then given name.
    pub fn list_persons(&self, search: Option<&str>) -> Result<Vec<Person>> {
        self.db.list_persons(search)
    }

    /// Hands every person (matching `search`, best matches first) to `f` one at a time:
    /// the whole register without holding it whole.
    pub fn each_person(
        &self,
        search: Option<&str>,
        f: impl FnMut(Person) -> Result<()>,
    ) -> Result<()> {
        self.db.each_person(search, f)
    }

    /// Erases a person's personal data everywhere in this database, history included.
    pub fn erase_person(&mut self, id: &str) -> Result<()> {
        self.db.erase_person(id)
    }

    /// Records a reception interview.
    pub fn add_intake(&mut self, new: NewIntake) -> Result<String> {
        self.db
            .add_intake(&new.person, &new.date, new.referral.as_deref())
    }

    /// Refers a person to a partner of the organisation's list.
    pub fn add_referral(&mut self, new: NewReferral) -> Result<String> {
        self.db
            .add_referral(&new.person, &new.partner, &new.date, new.status.as_deref())
    }

    /// Imports persons from CSV text: all rows or none.
    pub fn import_persons_csv(&mut self, data: &[u8]) -> Result<PersonImport> {
        self.db.import_persons_csv(data)
    }

    // Sessions.

    /// Creates a session with its attendance list.
    pub fn add_session(&mut self, new: NewSession) -> Result<String> {
        self.db.add_session(
            &new.kind,
            &new.date,
            &new.topic,
            new.place.as_deref(),
            &new.attendees,
        )
    }

    /// Marks a person present at a session.
    pub fn attend(&mut self, session: &str, person: &str) -> Result<()> {
        self.db.attend(session, person)
    }

    /// Removes a person from a session's attendance (kept in history).
    pub fn unattend(&mut self, session: &str, person: &str) -> Result<()> {
        self.db.unattend(session, person)
    }

    /// Marks several persons present and others absent at once (a roster); returns how
    /// many marks changed. An unknown person refuses the whole roster.
    pub fn set_roster(&mut self, roster: Roster) -> Result<usize> {
        self.db
            .set_roster(&roster.session, &roster.present, &roster.absent)
    }

    /// The ids of the persons present at a session.
    pub fn attendees(&self, session: &str) -> Result<Vec<String>> {
        self.db.attendees(session)
    }

    // Projects.

    /// Creates a project in stage `draft` on `date` (default today) with its members.
    pub fn add_project(&mut self, new: NewProject) -> Result<String> {
        self.db.add_project(&new)
    }

    /// One project.
    pub fn project(&self, id: &str) -> Result<Project> {
        self.db.project(id)
    }

    /// Changes settable fields of a project.
    pub fn set_project(&mut self, id: &str, pairs: &[(String, String)]) -> Result<()> {
        self.db.set_project(id, pairs)
    }

    /// Moves a project to another stage, if that stage may follow the current one.
    pub fn set_stage(&mut self, change: StageChange) -> Result<()> {
        self.db.set_stage(&change)
    }

    /// Records the committee's decision: `approved` (with the amount and its currency, the
    /// programme's else the plan's by default), `rejected`, or `deferred`.
    pub fn decide(&mut self, decision: CommitteeDecision) -> Result<()> {
        self.db.decide(&decision)
    }

    /// Adds a line to a project's business plan budget.
    pub fn add_budget_line(&mut self, new: NewBudgetLine) -> Result<String> {
        self.db.add_budget_line(&new)
    }

    /// A project's budget lines and exact totals.
    pub fn budget(&self, project: &str) -> Result<BudgetSummary> {
        self.db.budget(project)
    }

    /// Records a tranche paid to an approved project; the first one makes it `funded`. A
    /// tranche above the amount the committee approved needs a supervisor and the reason
    /// (`above_approved_because`), which the tranche and its history keep.
    pub fn add_disbursement(&mut self, tranche: NewTranche) -> Result<String> {
        self.db.add_disbursement(&tranche)
    }

    /// Takes back the last change of a project's stage while nothing depends on it;
    /// returns the stage the project is back at.
    pub fn undo_stage(&mut self, id: &str) -> Result<Stage> {
        self.db.undo_stage(id)
    }

    /// Corrects a line of a business plan that is still open.
    pub fn set_budget_line(&mut self, line: &str, pairs: &[(String, String)]) -> Result<()> {
        self.db.set_budget_line(line, pairs)
    }

    /// Removes a line from a business plan that is still open.
    pub fn remove_budget_line(&mut self, line: &str) -> Result<()> {
        self.db.remove_budget_line(line)
    }

    /// Records a follow-up visit to a funded project.
    pub fn add_followup(&mut self, visit: NewFollowUp) -> Result<String> {
        self.db.add_followup(&visit)
    }

    /// Funded or active projects whose next visit was due before `day` with no visit
    /// since, most overdue first.
    pub fn overdue_followups(&self, day: NaiveDate) -> Result<Vec<(String, String)>> {
        self.db.overdue_followups(day)
    }

    // Reference lists.

    /// Adds an entry to a reference list (admin only); adding an existing one revives it.
    pub fn add_reference(&mut self, list: &str, name: &str) -> Result<String> {
        self.db.add_reference(list, name)
    }

    /// Retires an entry of a reference list (admin only).
    pub fn remove_reference(&mut self, list: &str, name: &str) -> Result<()> {
        self.db.remove_reference(list, name)
    }

    /// Makes a currency of the list the programme's (admin): approvals are in it unless
    /// the supervisor names another. Returns it as the list spells it.
    pub fn set_programme_currency(&mut self, currency: &str) -> Result<String> {
        self.db.set_programme_currency(currency)
    }

    /// The programme's currency, if an administrator set one.
    pub fn programme_currency(&self) -> Result<Option<String>> {
        self.db.programme_currency()
    }

    /// The active entries of a reference list, sorted.
    pub fn references(&self, list: &str) -> Result<Vec<String>> {
        self.db.references(list)
    }

    // Sync.

    /// Gives a user of the organisation, made on another laptop, an account here with
    /// their own password (admin); returns their id.
    pub fn admit_user(&mut self, user_id: &str, password: &str) -> Result<String> {
        self.db.admit_user(user_id, password)
    }

    /// Changes a user's role on every laptop (admin), by name here or by id.
    pub fn change_role(&mut self, who: &str, role: Role) -> Result<String> {
        self.db.change_role(who, role)
    }

    /// What is held (`crate::money`): tranches that do not count — no approval, another
    /// currency, above the approved amount without a supervisor's reason — and projects
    /// past the committee without a decision, each with who made it so (supervisors).
    pub fn unexplained_tranches(&self) -> Result<Vec<crate::money::Held>> {
        self.db.unexplained_tranches()
    }

    /// The devices and authors that signed two versions of one change, settled alike
    /// everywhere and listed so that a supervisor can have the device revoked.
    pub fn equivocations(&self) -> Result<Vec<crate::identity::Equivocation>> {
        self.db.equivocations()
    }

    /// Writes the organisation's root key to `out` under its own `passphrase` (admin who
    /// holds it), for the founders to keep offline.
    pub fn export_org_key(
        &self,
        out: &Path,
        passphrase: &str,
    ) -> Result<crate::identity::OrgKeyExported> {
        self.db.export_org_key(out, passphrase)
    }

    /// Writes the organisation's root key to `out` as a recovery sheet to print (admin).
    pub fn export_org_key_sheet(&self, out: &Path) -> Result<crate::identity::OrgKeyExported> {
        self.db.export_org_key_sheet(out)
    }

    /// Takes the organisation's root key from a key file or a typed recovery sheet into
    /// the logged-in administrator's custody, under their `password`.
    pub fn import_org_key(
        &mut self,
        file: &Path,
        passphrase: Option<&str>,
        password: &str,
    ) -> Result<crate::identity::OrgKeyImported> {
        self.db.import_org_key(file, passphrase, password)
    }

    /// Replaces the organisation's root with a new one (an administrator who holds the
    /// root); the new root goes into their custody under `password`.
    pub fn rotate_org_key(&mut self, password: &str) -> Result<crate::identity::RootRotated> {
        self.db.rotate_root(password)
    }

    /// The laptops this one knows (admin).
    pub fn devices(&self) -> Result<Vec<DeviceRow>> {
        self.db.devices()
    }

    /// Revokes a lost or stolen laptop (admin): its later changes are refused everywhere
    /// and a new bundle key keeps it from reading later bundles.
    pub fn revoke_device(&mut self, device: &str) -> Result<RevocationDone> {
        self.db.revoke_device(device)
    }

    /// Revokes a user (admin), by name here or by id: their later changes are refused
    /// everywhere and their account here is disabled.
    pub fn revoke_user(&mut self, who: &str) -> Result<RevocationDone> {
        self.db.revoke_user(who)
    }

    /// Writes an enrolment file for a new laptop (an administrator holding the
    /// organisation's key: one who created or joined it on this laptop), accepted
    /// for `valid_days` (default 7).
    pub fn enrol(
        &mut self,
        out: &Path,
        passphrase: &str,
        valid_days: Option<i64>,
    ) -> Result<Enrolled> {
        let days = valid_days.unwrap_or(crate::identity::org::ENROLMENT_DAYS);
        let device_id = self.db.enrol(out, passphrase, days)?;
        Ok(Enrolled {
            device_id,
            file: out.display().to_string(),
        })
    }

    /// Writes a bundle of what readers may lack (see `sync`); `progress` is told as the
    /// changes are written.
    pub fn export_bundle(
        &mut self,
        out: &Path,
        full: bool,
        scope: &[Scope],
        progress: impl FnMut(SyncProgress),
    ) -> Result<Exported> {
        self.db.export_bundle(out, full, scope, progress)
    }

    /// Imports bundles in one transaction, checking each change as it streams in; a
    /// refusal anywhere applies nothing. `progress` is told as changes are read and settled.
    pub fn import_bundles(
        &mut self,
        files: &[&Path],
        progress: impl FnMut(SyncProgress),
    ) -> Result<Imported> {
        self.db.import_bundles(files, progress)
    }

    /// The bundle files among `paths`: a folder stands for every `.masar` file in it.
    pub fn bundle_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
        crate::sync::bundle_files(paths)
    }

    /// The open conflicts, in a stable order.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        self.db.conflicts()
    }

    /// Resolves a conflict with a change that overwrites every value of the field.
    pub fn resolve_conflict(&mut self, id: &str, how: Resolution) -> Result<()> {
        self.db.resolve_conflict(id, how)
    }

    /// A hash of everything a user can see; equal on databases holding the same changes.
    pub fn digest(&self) -> Result<String> {
        self.db.digest()
    }

    /// Records whose changes wait for their creation or for a record they link to.
    pub fn pending_count(&self) -> Result<i64> {
        self.db.pending_count()
    }

    /// Checks the database file's integrity (SQLite's own check).
    pub fn integrity_check(&self) -> Result<bool> {
        self.db.integrity_check()
    }

    // Reports.

    /// The indicators of the period `[from, to]` with the breakdowns in `by`.
    pub fn report(&self, from: &str, to: &str, by: &[Dimension]) -> Result<Report> {
        self.db.report(from, to, by)
    }

    /// The dashboard of `[from, to]`: indicators with every breakdown, the journey, overdue
    /// visits per counsellor, survival; a counsellor's own caseload only.
    pub fn dashboard(&self, from: &str, to: &str) -> Result<crate::report::Dashboard> {
        self.db.dashboard(from, to)
    }

    /// Survival of the funded enterprises on `as_of` (today by default), for all of them
    /// and, with `by`, per cohort, sector or sex (`docs/indicators.md`).
    pub fn survival(
        &self,
        as_of: Option<&str>,
        by: Option<crate::report::SurvivalBy>,
    ) -> Result<crate::report::Survival> {
        self.db.survival(as_of, by)
    }

    /// Writes a table (persons, sessions, attendance, projects, disbursements, follow-ups)
    /// of a period to a CSV, HXL or XLSX file, pseudonymised if asked; person-level tables are for
    /// supervisors and administrators, and every export is recorded.
    pub fn export_table(
        &self,
        table: crate::report::ExportTable,
        format: crate::report::ExportFormat,
        period: (Option<&str>, Option<&str>),
        pseudonymise: bool,
        out: &std::path::Path,
    ) -> Result<crate::report::ExportDone> {
        self.db
            .export_table(table, format, period, pseudonymise, out)
    }

    /// Writes the report to donors of `[from, to]` (for one donor, or the whole programme)
    /// in `language`, as a PDF or a workbook by `out`'s extension; supervisors and
    /// administrators, recorded with the exports.
    pub fn donor_report(
        &self,
        from: &str,
        to: &str,
        donor: Option<&str>,
        language: crate::report::Language,
        out: &std::path::Path,
    ) -> Result<crate::report::DonorReportDone> {
        self.db.donor_report((from, to), donor, language, out)
    }

    /// The exports made on this laptop, newest first: who took which data out, when.
    pub fn exports(&self) -> Result<Vec<crate::report::ExportRecord>> {
        self.db.exports()
    }

    // Settings of this laptop.

    /// A setting of this user on this laptop (language, …); never synced.
    pub fn preference(&self, key: &str) -> Result<Option<String>> {
        Ok(meta(
            self.conn(),
            &format!("pref:{}:{key}", self.user().id),
        )?)
    }

    /// Saves a setting of this user on this laptop.
    pub fn set_preference(&mut self, key: &str, value: &str) -> Result<()> {
        Ok(set_meta(
            self.conn(),
            &format!("pref:{}:{key}", self.user().id),
            value,
        )?)
    }

    /// Syncs through the sync folder (`folder`, saved as this laptop's, or the one saved
    /// before): exports this laptop's new changes into its own subfolder, then imports
    /// every other laptop's bundles, each on its own, passing over damaged ones and files
    /// still being written (`sync::folder`); with `merged` (a supervisor's laptop), keeps
    /// the merged export that lets bundles be removed and latecomers catch up, rewriting
    /// it when something is new and it is at least that old.
    pub fn sync_folder(
        &mut self,
        folder: Option<&Path>,
        merged: Option<std::time::Duration>,
        progress: impl FnMut(SyncProgress),
    ) -> Result<crate::sync::FolderSync> {
        let folder = match folder {
            Some(f) => {
                let shown = f.display().to_string();
                set_meta(self.conn(), "sync_folder", &shown)?;
                f.to_path_buf()
            }
            None => self
                .saved_sync_folder()?
                .ok_or_else(|| InputError::Missing {
                    field: "folder".into(),
                    hint:
                        "choose the sync folder (a network share, a USB stick, a Syncthing folder)"
                            .into(),
                })?,
        };
        let done = self.db.sync_folder(&folder, merged, progress);
        // What went wrong stays to be shown until a sync goes well.
        let problem = match &done {
            Err(e) => Some(e.to_string()),
            Ok(d) => d.refused.first().map(|r| {
                format!(
                    "{} bundle(s) refused; {}: {}",
                    d.refused.len(),
                    r.file,
                    r.reason
                )
            }),
        };
        match problem {
            Some(p) => set_meta(self.conn(), "last_sync_error", &p)?,
            None => {
                self.conn()
                    .execute("DELETE FROM meta WHERE key = 'last_sync_error'", [])?;
            }
        }
        done
    }

    /// The sync folder saved on this laptop, if any (one setting read, for loops that ask
    /// often).
    pub fn saved_sync_folder(&self) -> Result<Option<PathBuf>> {
        Ok(meta(self.conn(), "sync_folder")?
            .filter(|f| !f.trim().is_empty())
            .map(PathBuf::from))
    }

    /// Saves the sync folder of this laptop.
    pub fn set_sync_folder(&mut self, folder: &str) -> Result<()> {
        Ok(set_meta(self.conn(), "sync_folder", folder)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::store::SCHEMA_VERSION;

    fn clock() -> Arc<dyn Clock> {
        Arc::new(SystemClock)
    }

    #[test]
    fn an_upgraded_database_keeps_its_root_key_until_every_user_is_certified() {
        let (_d, mut m) = crate::testing::temp_db();
        let karim = m
            .add_user(crate::domain::NewUser {
                name: "karim".into(),
                role: Role::Counsellor,
                password: "karim tailors in Oujda".into(),
            })
            .unwrap();
        let root = m.db().root_key().unwrap().to_bytes();
        let (path, key) = (m.path().to_path_buf(), m.db().db_key().clone());
        // As a database made before custody: the root key in the database, Karim with no
        // certified key of his own.
        m.conn()
            .execute("DELETE FROM certs WHERE user = ?1", [&karim])
            .unwrap();
        set_meta(m.conn(), "org_root_secret", &hex::encode(root)).unwrap();
        let mut file = KeyFile::load(&key_file_path(&path)).unwrap();
        file.add_user("karim", "karim tailors in Oujda", &key, &Secrets::default())
            .unwrap();
        file.save(&key_file_path(&path)).unwrap();
        drop(m);
        let root_in_db = |m: &Masar| meta(m.conn(), "org_root_secret").unwrap().is_some();
        let admin = Masar::open(&path, "admin", "a long enough passphrase", clock()).unwrap();
        assert!(
            root_in_db(&admin),
            "kept while Karim has no key: he could never get one after"
        );
        drop(admin);
        let mut karim = Masar::open(&path, "karim", "karim tailors in Oujda", clock()).unwrap();
        crate::testing::person(&mut karim, "Amina", "female", "1990-01-01");
        assert!(
            !root_in_db(&karim),
            "every user certified, an administrator holding the root: gone"
        );
    }

    #[test]
    fn a_new_database_opens_with_its_password_and_refuses_another() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        let (m, _) = Masar::init(
            &db,
            "Org",
            "laptop",
            "admin",
            "a long enough passphrase",
            clock(),
        )
        .unwrap();
        drop(m);
        let m = Masar::open(&db, "admin", "a long enough passphrase", clock()).unwrap();
        assert_eq!(m.user().role, Role::Admin);
        assert_eq!(m.schema_version().unwrap(), SCHEMA_VERSION);
        drop(m);
        let e = Masar::open(&db, "admin", "wrong password", clock())
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "wrong user name or password");
        let e = Masar::open(&db, "nobody", "a long enough passphrase", clock())
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "wrong user name or password");
    }

    #[test]
    fn init_refuses_to_overwrite_and_leaves_the_old_database_intact() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        Masar::init(
            &db,
            "Org",
            "laptop",
            "admin",
            "a long enough passphrase",
            clock(),
        )
        .unwrap();
        let e = Masar::init(
            &db,
            "Org2",
            "laptop",
            "admin",
            "other long passphrase",
            clock(),
        )
        .err()
        .unwrap();
        assert_eq!(e.code(), "store.already_exists");
        assert!(Masar::open(&db, "admin", "a long enough passphrase", clock()).is_ok());
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused_with_a_message_to_update() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        let (m, _) = Masar::init(
            &db,
            "Org",
            "laptop",
            "admin",
            "a long enough passphrase",
            clock(),
        )
        .unwrap();
        m.conn()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(m);
        let e = Masar::open(&db, "admin", "a long enough passphrase", clock())
            .err()
            .unwrap();
        assert_eq!(e.code(), "store.newer_schema");
        assert!(e.to_string().contains("install the newer version"));
    }
}

#[cfg(test)]
mod full_disk {
    use crate::testing::{kv, temp_db};

    #[test]
    fn a_full_disk_is_reported_plainly_and_nothing_is_half_written() {
        let (_d, mut m) = temp_db();
        let before = m.status().unwrap();
        // Cap the file at its current size: the next page SQLite needs is refused as
        // SQLITE_FULL, which is what a full disk looks like to it.
        let pages: i64 = m
            .conn()
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        m.conn()
            .pragma_update(None, "max_page_count", pages)
            .unwrap();
        let mut csv = String::from("given,family,sex,born,nationality,phone\n");
        for i in 0..3000 {
            csv.push_str(&format!(
                "Person{i},Family{i},female,1990-01-01,SYR,06000{i:05}\n"
            ));
        }
        let err = m.import_persons_csv(csv.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "store.disk_full", "{err}");
        assert!(err.to_string().contains("free some space"), "{err}");
        let after = m.status().unwrap();
        assert_eq!(
            (after.persons, after.changes),
            (before.persons, before.changes)
        );
        m.conn()
            .pragma_update(None, "max_page_count", 1_073_741_823i64)
            .unwrap();
        m.add_person(crate::domain::NewPerson {
            fields: crate::domain::Fields(
                kv(&[
                    ("given", "A"),
                    ("family", "B"),
                    ("sex", "male"),
                    ("born", "1990-01-01"),
                    ("nationality", "SYR"),
                ])
                .to_vec(),
            ),
            intake_date: None,
        })
        .unwrap();
    }
}

#[cfg(test)]
mod erasure_on_disk {
    //! What erasure leaves in the file's pages: every page of the database file and of its
    //! WAL is decrypted here with the database key (SQLCipher 4: AES-256-CBC per page, the
    //! IV at the start of each page's 80 reserved bytes, page 1's first 16 bytes a salt).
    use aes::cipher::{BlockDecryptMut, KeyIvInit};

    use crate::testing::{kv, temp_db};
    use crate::Masar;

    const PAGE: usize = 4096;
    const RESERVE: usize = 80;

    fn decrypt_page(key: &[u8; 32], page: &[u8], first: bool) -> Vec<u8> {
        let start = if first { 16 } else { 0 };
        let iv = &page[PAGE - RESERVE..PAGE - RESERVE + 16];
        let mut data = page[start..PAGE - RESERVE].to_vec();
        let dec = cbc::Decryptor::<aes::Aes256>::new(key.into(), iv.into());
        let blocks = data.len() / 16;
        let _ = dec
            .decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut data[..blocks * 16]);
        data
    }

    /// The decrypted text of the database file and its WAL, lower-cased.
    fn plain(m: &Masar) -> String {
        String::from_utf8_lossy(&plain_bytes(m)).to_lowercase()
    }

    /// The decrypted bytes of the database file and its WAL.
    fn plain_bytes(m: &Masar) -> Vec<u8> {
        let key = m.db().db_key().bytes();
        let mut out = Vec::new();
        let file = std::fs::read(m.path()).expect("the database file");
        for (i, page) in file.chunks(PAGE).enumerate() {
            if page.len() == PAGE {
                out.extend(decrypt_page(&key, page, i == 0));
            }
        }
        let mut wal_path = m.path().as_os_str().to_owned();
        wal_path.push("-wal");
        if let Ok(wal) = std::fs::read(std::path::PathBuf::from(wal_path)) {
            // A 32-byte header, then frames of a 24-byte header and one page.
            for frame in wal.get(32..).unwrap_or_default().chunks(24 + PAGE) {
                if frame.len() == 24 + PAGE {
                    let number = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
                    out.extend(decrypt_page(&key, &frame[24..], number == 1));
                }
            }
        }
        out
    }

    #[test]
    fn the_root_key_and_signing_keys_are_in_no_page_of_the_database() {
        let (_d, mut m) = temp_db();
        m.add_user(crate::domain::NewUser {
            name: "karim".into(),
            role: crate::auth::Role::Counsellor,
            password: "karim tailors in Oujda".into(),
        })
        .unwrap();
        let root = m
            .db()
            .root_key()
            .expect("the admin holds the root key")
            .to_bytes();
        let karim = Masar::open(
            m.path(),
            "karim",
            "karim tailors in Oujda",
            std::sync::Arc::new(crate::clock::SystemClock),
        )
        .unwrap();
        assert!(
            karim.db().root_key().is_none(),
            "a counsellor's log-in holds no root key"
        );
        let mut secrets = vec![root];
        for who in [&m, &karim] {
            secrets.push(who.db().signer().expect("a signer").key_bytes());
        }
        let bytes = plain_bytes(&m);
        assert!(
            bytes.windows(8).any(|w| w == b"org_name"),
            "the test's decryption reads the pages"
        );
        for secret in secrets {
            let hex_text = hex::encode(secret);
            assert!(
                !bytes.windows(32).any(|w| w == secret),
                "a secret key is in a page"
            );
            assert!(
                !String::from_utf8_lossy(&bytes).contains(&hex_text),
                "a secret key is in a page, as hex"
            );
        }
    }

    #[test]
    fn no_page_of_the_file_or_its_wal_keeps_an_erased_value_while_another_connection_holds_it() {
        let (_d, mut m) = temp_db();
        m.add_reference("partner", "Employment agency").unwrap();
        let id = m
            .add_person(crate::domain::NewPerson {
                fields: crate::domain::Fields(
                    kv(&[
                        ("given", "Zoubida"),
                        ("family", "Qarmouchi"),
                        ("sex", "female"),
                        ("born", "1991-07-19"),
                        ("nationality", "SYR"),
                        ("phone", "0677123499"),
                        ("occupation", "Zoubida's bakery in Homs"),
                    ])
                    .to_vec(),
                ),
                intake_date: Some("2024-03-01".into()),
            })
            .unwrap();
        m.add_intake(crate::domain::NewIntake {
            person: id.to_string(),
            date: "2024-03-02".into(),
            referral: Some("sent by her cousin Qarmouchi".into()),
        })
        .unwrap();
        m.add_referral(crate::domain::NewReferral {
            person: id.to_string(),
            partner: "Employment agency".into(),
            date: "2024-03-03".into(),
            status: None,
        })
        .unwrap();
        // Another connection holds the database open, as the window does.
        let other = Masar::open(
            m.path(),
            "admin",
            "a long enough passphrase",
            std::sync::Arc::new(crate::clock::SystemClock),
        )
        .unwrap();
        let before = plain(&m);
        for value in ["zoubida", "qarmouchi", "0677123499", "1991-07-19"] {
            assert!(
                before.contains(value),
                "the test's decryption does not see '{value}' before the erasure"
            );
        }
        m.erase_person(&id).unwrap();
        let after = plain(&m);
        for value in ["zoubida", "qarmouchi", "0677123499", "1991-07-19", "cousin"] {
            assert!(
                !after.contains(value),
                "'{value}' is still in a page of the file or its WAL after the erasure"
            );
        }
        drop(other);
    }
}
