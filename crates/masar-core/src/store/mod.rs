//! Opening a database: the key, the pragmas, the migrations, in one place.
//!
//! A database is two files: `NAME.db`, encrypted by SQLCipher with a random key, and
//! `NAME.db.keys`, the users' password-wrapped copies of that key. A new database and an
//! old one go through the same migration steps, so both end with the same schema.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};

use crate::auth::{self, AuthError, DbKey, KeyFile, Role, User};
use crate::changes::Writer;
use crate::clock::Clock;
use crate::Result;

/// Schema migrations, in order; the database's `user_version` counts those applied.
/// Never edit one that has shipped: add a new one.
const MIGRATIONS: &[&str] = &[include_str!("../../sql/v001_initial.sql"), include_str!("../../sql/v002_sync.sql")];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Failures to open, create, migrate or write a database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No database at the path.
    #[error("no Masar database at {0}: create one with `masar init`, or give the right path with --db or MASAR_DB")]
    NotFound(String),
    /// `init` would overwrite a database.
    #[error("a database already exists at {0}: choose another path with --db, or move the old one away first")]
    AlreadyExists(String),
    /// The file is not a database this key opens.
    #[error("{0} is not a Masar database, or its key file belongs to another database: check the path and restore both files from the same backup")]
    NotADatabase(String),
    /// Written by a newer Masar.
    #[error("this database was written by a newer version of Masar (schema {found}; this version reads up to {supported}): install the newer version to open it")]
    NewerSchema {
        /// The file's schema version.
        found: i64,
        /// This build's newest.
        supported: i64,
    },
    /// The disk is full.
    #[error("the disk is full: free some space and try again (nothing was changed)")]
    DiskFull,
    /// Another program holds the database.
    #[error("the database is busy in another Masar window or command: close it and try again")]
    Busy,
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Anything else SQLite reports.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

impl StoreError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound(_) => "store.not_found",
            StoreError::AlreadyExists(_) => "store.already_exists",
            StoreError::NotADatabase(_) => "store.not_a_database",
            StoreError::NewerSchema { .. } => "store.newer_schema",
            StoreError::DiskFull => "store.disk_full",
            StoreError::Busy => "store.busy",
            StoreError::Io { .. } => "store.io",
            StoreError::Sqlite(_) => "store.sqlite",
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Sqlite(e),
        }
    }
}

/// An open database with a logged-in user: the one handle every operation goes through.
pub struct Masar {
    conn: Connection,
    path: PathBuf,
    key: DbKey,
    user: User,
    device_id: String,
    clock: Arc<dyn Clock>,
}

/// What `init` made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The organisation's id.
    pub org_id: String,
    /// This laptop's id.
    pub device_id: String,
}

/// Where a database stands, for `masar status` and the window's footer.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub role: &'static str,
    /// The schema version of the file.
    pub schema_version: i64,
    /// Changes in the log.
    pub changes: i64,
    /// Persons registered.
    pub persons: i64,
    /// Projects opened.
    pub projects: i64,
}

/// Who a new database belongs to: a new organisation, or one joined by enrolment.
struct Founding {
    org_id: String,
    org_name: String,
    device_id: String,
    enrolment: Option<crate::sync::keys::Enrolment>,
}

/// Checks what a new database needs before anything is written: a usable admin name and
/// password, the names given, and no file to overwrite. Returns the key file's path.
fn check_new_database(path: &Path, admin: &str, password: &str, names: &[(&str, &str)]) -> Result<PathBuf> {
    auth::check_user_name(admin)?;
    auth::check_password(password)?;
    for (field, value) in names {
        if value.trim().is_empty() {
            return Err(crate::domain::InputError::Missing { field: (*field).into(), hint: "give a name".into() }.into());
        }
    }
    let keys_path = key_file_path(path);
    for p in [path, keys_path.as_path()] {
        if p.exists() {
            return Err(StoreError::AlreadyExists(p.display().to_string()).into());
        }
    }
    Ok(keys_path)
}

/// Removes what a failed `init` or `join` left, so that a later attempt can start over.
fn remove_database_files(path: &Path, keys_path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    let _ = std::fs::remove_file(keys_path);
}

/// The key file that goes with a database file.
pub fn key_file_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".keys");
    PathBuf::from(name)
}

fn open_connection(path: &Path, key: &DbKey, create: bool) -> Result<Connection, StoreError> {
    let flags = if create {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let shown = path.display().to_string();
    let conn = Connection::open_with_flags(path, flags).map_err(|e| match e.sqlite_error_code() {
        Some(ErrorCode::CannotOpen) => StoreError::NotFound(shown.clone()),
        _ => StoreError::from(e),
    })?;
    // The key must be the first statement; a raw key skips SQLCipher's own KDF, since the
    // key is already random.
    conn.pragma_update(None, "key", &*key.sqlcipher_literal())?;
    let check: rusqlite::Result<i64> = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0));
    if let Err(e) = check {
        return Err(match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => StoreError::NotADatabase(shown),
            _ => StoreError::from(e),
        });
    }
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // The write path and the import reuse a few dozen statements (one insert and one
    // lookup per entity table among them); the default cache of 16 would keep re-preparing.
    conn.set_prepared_statement_cache_capacity(256);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Erased and corrected data is overwritten on disk, not merely unlinked.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(conn)
}

/// Brings the schema up to [`SCHEMA_VERSION`] in one transaction, or refuses a newer file.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema { found, supported: SCHEMA_VERSION });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

/// One local setting of this database (`meta` never syncs).
pub(crate) fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// Saves one local setting of this database.
pub(crate) fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
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
        let keys_path = check_new_database(path, admin, password, &[("org", org_name), ("device", device_name)])?;
        let key = DbKey::generate();
        let founding = Founding {
            org_id: uuid::Uuid::now_v7().to_string(),
            org_name: org_name.trim().to_string(),
            device_id: uuid::Uuid::now_v7().to_string(),
            enrolment: None,
        };
        let made = Self::create_files(path, &keys_path, founding, device_name.trim(), admin, password, &key, clock);
        if made.is_err() {
            remove_database_files(path, &keys_path);
        }
        made
    }

    /// Creates a laptop's database in an existing organisation from an enrolment file
    /// (`masar enrol`); `admin` becomes the laptop's first administrator.
    #[allow(clippy::too_many_arguments)]
    pub fn join(
        path: &Path,
        enrolment: &[u8],
        passphrase: &str,
        device_name: &str,
        admin: &str,
        password: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<(Masar, Created)> {
        let keys_path = check_new_database(path, admin, password, &[("device", device_name)])?;
        let enrolment = crate::sync::keys::open_enrolment(enrolment, passphrase)?;
        let founding = Founding {
            org_id: enrolment.org_id.clone(),
            org_name: enrolment.org_name.clone(),
            device_id: enrolment.device_id.clone(),
            enrolment: Some(enrolment),
        };
        let key = DbKey::generate();
        let made = Self::create_files(path, &keys_path, founding, device_name.trim(), admin, password, &key, clock);
        if made.is_err() {
            remove_database_files(path, &keys_path);
        }
        made
    }

    #[allow(clippy::too_many_arguments)]
    fn create_files(
        path: &Path,
        keys_path: &Path,
        founding: Founding,
        device_name: &str,
        admin: &str,
        password: &str,
        key: &DbKey,
        clock: Arc<dyn Clock>,
    ) -> Result<(Masar, Created)> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Io { path: dir.display().to_string(), reason: e.to_string() })?;
        }
        let mut conn = open_connection(path, key, true)?;
        migrate(&mut conn)?;
        let Founding { org_id, org_name, device_id, enrolment } = founding;
        for (k, v) in [("org_id", &*org_id), ("org_name", &*org_name), ("device_id", &*device_id), ("device_name", device_name)] {
            set_meta(&conn, k, v)?;
        }
        match &enrolment {
            Some(e) => {
                crate::sync::keys::store_member_keys(&conn, e)?;
                // Start after everything the enrolling laptop had stamped.
                set_meta(&conn, crate::changes::HLC_META_KEY, &e.hlc.to_string())?;
                set_meta(&conn, "frontier", &crate::clock::Hlc(e.hlc).millis().to_string())?;
            }
            None => crate::sync::keys::ensure_founder_keys(&conn)?,
        }
        let mut masar = Masar {
            conn,
            path: path.to_path_buf(),
            key: key.clone(),
            user: User { id: String::new(), name: admin.to_string(), role: Role::Admin },
            device_id: device_id.clone(),
            clock,
        };
        let admin_id = masar.write(|w| {
            // The first user records their own creation.
            let id = auth::insert_user(w, admin, Role::Admin)?;
            w.set_user(id.clone());
            Ok(id)
        })?;
        masar.user.id = admin_id;
        let mut keys = KeyFile::new();
        keys.add_user(admin, password, key)?;
        keys.save(keys_path)?;
        Ok((masar, Created { org_id, device_id }))
    }

    /// Opens an existing database as `user`. A wrong user or password gets one clear
    /// error and nothing on stderr.
    pub fn open(path: &Path, user: &str, password: &str, clock: Arc<dyn Clock>) -> Result<Masar> {
        if !path.exists() {
            return Err(StoreError::NotFound(path.display().to_string()).into());
        }
        let keys = KeyFile::load(&key_file_path(path))?;
        let key = keys.unwrap_for(user, password)?;
        let mut conn = open_connection(path, &key, false)?;
        migrate(&mut conn)?;
        crate::sync::keys::ensure_founder_keys(&conn)?;
        let row: Option<(String, Option<String>, Option<bool>)> = conn
            .query_row("SELECT id, role, active FROM users WHERE name = ?1", [user], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let (id, role, active) = row.ok_or(AuthError::WrongCredentials)?;
        if active != Some(true) {
            return Err(AuthError::Disabled(user.to_string()).into());
        }
        let role = role.as_deref().and_then(Role::parse).ok_or(AuthError::WrongCredentials)?;
        let device_id = meta(&conn, "device_id")?.ok_or_else(|| StoreError::NotADatabase(path.display().to_string()))?;
        Ok(Masar {
            conn,
            path: path.to_path_buf(),
            key,
            user: User { id, name: user.to_string(), role },
            device_id,
            clock,
        })
    }

    /// The logged-in user.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// This laptop's id.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The organisation's id.
    pub fn org_id(&self) -> Result<String> {
        Ok(meta(&self.conn, "org_id")?.unwrap_or_default())
    }

    /// The injected wall clock.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn key_file_path(&self) -> PathBuf {
        key_file_path(&self.path)
    }

    pub(crate) fn db_key(&self) -> &DbKey {
        &self.key
    }

    /// The connection, for reads.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Runs `f` in one transaction through the write path; commits only if it succeeds,
    /// so a refused input changes nothing.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let user_id = (!self.user.id.is_empty()).then(|| self.user.id.clone());
        let now = self.clock.now();
        let tx = self.conn.transaction().map_err(StoreError::from)?;
        let out = {
            let mut w = Writer::new(&tx, user_id, Some(self.user.name.clone()), self.device_id.clone(), now)?;
            let out = f(&mut w)?;
            w.finish()?;
            out
        };
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// Where this database stands: who is logged in, its schema, what it holds.
    pub fn status(&self) -> Result<Status> {
        let count = |table: &str| -> Result<i64> {
            Ok(self.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
        };
        Ok(Status {
            org_id: meta(&self.conn, "org_id")?.unwrap_or_default(),
            org_name: meta(&self.conn, "org_name")?.unwrap_or_default(),
            device_id: self.device_id.clone(),
            device_name: meta(&self.conn, "device_name")?.unwrap_or_default(),
            user: self.user.name.clone(),
            role: self.user.role.as_str(),
            schema_version: self.schema_version()?,
            changes: count("changes")?,
            persons: count("persons")?,
            projects: count("projects")?,
        })
    }

    /// The schema as SQLite describes it, sorted: equal for a new database and an
    /// upgraded one.
    pub fn schema_sql(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name")?;
        let rows = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }

    /// Runs `f` in one transaction, committed only if it succeeds (for sync, which writes
    /// changes that are already made rather than making new ones).
    pub(crate) fn transaction<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction().map_err(StoreError::from)?;
        let out = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// The change history of one record, oldest first.
    pub fn history(&self, record: &str) -> Result<Vec<crate::changes::Change>> {
        crate::changes::history(&self.conn, record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    fn clock() -> Arc<dyn Clock> {
        Arc::new(SystemClock)
    }

    #[test]
    fn a_new_database_opens_with_its_password_and_refuses_another() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        let (m, _) = Masar::init(&db, "Org", "laptop", "admin", "long enough", clock()).unwrap();
        drop(m);
        let m = Masar::open(&db, "admin", "long enough", clock()).unwrap();
        assert_eq!(m.user().role, Role::Admin);
        assert_eq!(m.schema_version().unwrap(), SCHEMA_VERSION);
        drop(m);
        let e = Masar::open(&db, "admin", "wrong password", clock()).err().unwrap();
        assert_eq!(e.to_string(), "wrong user name or password");
        let e = Masar::open(&db, "nobody", "long enough", clock()).err().unwrap();
        assert_eq!(e.to_string(), "wrong user name or password");
    }

    #[test]
    fn init_refuses_to_overwrite_and_leaves_the_old_database_intact() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        Masar::init(&db, "Org", "laptop", "admin", "long enough", clock()).unwrap();
        let e = Masar::init(&db, "Org2", "laptop", "admin", "other password", clock()).err().unwrap();
        assert_eq!(e.code(), "store.already_exists");
        assert!(Masar::open(&db, "admin", "long enough", clock()).is_ok());
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused_with_a_message_to_update() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        let (m, _) = Masar::init(&db, "Org", "laptop", "admin", "long enough", clock()).unwrap();
        m.conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        drop(m);
        let e = Masar::open(&db, "admin", "long enough", clock()).err().unwrap();
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
        let pages: i64 = m.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        m.conn.pragma_update(None, "max_page_count", pages).unwrap();
        let mut csv = String::from("given,family,sex,born,nationality,phone\n");
        for i in 0..3000 {
            csv.push_str(&format!("Person{i},Family{i},female,1990-01-01,SYR,06000{i:05}\n"));
        }
        let err = m.import_persons_csv(csv.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "store.disk_full", "{err}");
        assert!(err.to_string().contains("free some space"), "{err}");
        let after = m.status().unwrap();
        assert_eq!((after.persons, after.changes), (before.persons, before.changes));
        m.conn.pragma_update(None, "max_page_count", 1_073_741_823i64).unwrap();
        m.add_person(&kv(&[("given", "A"), ("family", "B"), ("sex", "male"), ("born", "1990-01-01"), ("nationality", "SYR")]))
            .unwrap();
    }
}
