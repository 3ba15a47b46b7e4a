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
use crate::views::{
    Choices, Home, OverdueVisit, Permissions, PersonQuery, PersonsPage, ProjectQuery, ProjectTile,
    ProjectView, ProjectsPage, RecentEvent, SessionInfo, SessionTile, SessionView, SyncState,
    Timeline, Versions, VisitDue,
};
use crate::Result;

mod backup;
mod home;
mod org;
mod persons;
mod projects;
mod reports;
mod sessions;
mod settings;
mod sync;

/// The bundle formats this version writes and reads: the newest, and the oldest it reads.
pub(crate) const BUNDLE_FORMATS: (u16, u16) = (
    crate::sync::bundle::FORMAT,
    crate::sync::bundle::OLDEST_FORMAT,
);

impl Versions {
    /// This build's versions (the bundle formats are sync's, which only the handle names).
    pub fn current() -> Versions {
        Versions {
            app: env!("CARGO_PKG_VERSION").to_string(),
            schema: crate::store::SCHEMA_VERSION,
            bundle_format: BUNDLE_FORMATS.0,
            oldest_bundle_format: BUNDLE_FORMATS.1,
        }
    }
}

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
