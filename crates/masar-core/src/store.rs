//! The database file: opening it with its key, the pragmas, the migrations, and this
//! laptop's local settings (`meta`, never synced). Nothing here knows users, changes or
//! the journey.
//!
//! A database is two files: `NAME.db`, encrypted by SQLCipher with a random key, and
//! `NAME.db.keys`, the users' password-wrapped copies of that key. A new database and an
//! old one go through the same migration steps, so both end with the same schema.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};

use crate::error::StoreError;
use crate::keys::DbKey;

/// Schema migrations, in order; the database's `user_version` counts those applied.
/// Never edit one that has shipped: add a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("../sql/v001_initial.sql"),
    include_str!("../sql/v002_sync.sql"),
    include_str!("../sql/v003_safeguards.sql"),
    include_str!("../sql/v004_trust.sql"),
    include_str!("../sql/v005_search_words.sql"),
    include_str!("../sql/v006_report_indexes.sql"),
    include_str!("../sql/v007_compact_log.sql"),
    include_str!("../sql/v008_person_names.sql"),
    include_str!("../sql/v009_exports.sql"),
    include_str!("../sql/v010_approved_currency.sql"),
    include_str!("../sql/v011_folder_trust.sql"),
    include_str!("../sql/v012_change_authors.sql"),
    include_str!("../sql/v013_programme_currency.sql"),
    include_str!("../sql/v014_identity_record.sql"),
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The key file that goes with a database file.
pub fn key_file_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".keys");
    PathBuf::from(name)
}

/// Opens (or, with `create`, makes) the encrypted file with `key` and sets the pragmas
/// every connection needs.
pub(crate) fn open_connection(
    path: &Path,
    key: &DbKey,
    create: bool,
) -> Result<Connection, StoreError> {
    let flags = if create {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    let shown = path.display().to_string();
    let conn =
        Connection::open_with_flags(path, flags).map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::CannotOpen) => StoreError::NotFound(shown.clone()),
            _ => StoreError::from(e),
        })?;
    // The key must be the first statement; a raw key skips SQLCipher's own KDF, since the
    // key is already random.
    conn.pragma_update(None, "key", &*key.sqlcipher_literal())?;
    let check: rusqlite::Result<i64> =
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0));
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
    // Every page read from disk is decrypted (SQLCipher): keep up to 32 MiB of them decrypted
    // in memory (SQLite's default is 2 MiB), about the persons table of a national programme,
    // so a search that sorts thousands of matches does not decrypt the same pages again.
    conn.pragma_update(None, "cache_size", -32 * 1024)?;
    Ok(conn)
}

/// Brings the schema up to [`SCHEMA_VERSION`] in one transaction, or refuses a newer file.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    // A full disk or a busy file is said as such; anything else names the failed step.
    let failed = |step: i64| {
        move |e: rusqlite::Error| match StoreError::from(e) {
            StoreError::Sqlite(e) => StoreError::MigrationFailed {
                from: found,
                to: SCHEMA_VERSION,
                step,
                reason: e.to_string(),
            },
            other => other,
        }
    };
    // One transaction for every step: a failure anywhere leaves the file as it was.
    let tx = conn.transaction()?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let n = (i + 1) as i64;
        tx.execute_batch(step).map_err(failed(n))?;
        tx.pragma_update(None, "user_version", n)
            .map_err(failed(n))?;
    }
    // Steps that SQL alone cannot take (folding is Rust's).
    if found < 5 {
        crate::search::reindex_all(&tx)?;
    }
    tx.commit().map_err(failed(SCHEMA_VERSION))?;
    Ok(())
}

/// The schema version of an open database.
pub(crate) fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// One local setting of this database.
pub(crate) fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// One local setting that holds a whole number; absent is `None`, and text that is not a
/// number is an error rather than a silent zero.
pub(crate) fn meta_i64(conn: &Connection, key: &str) -> Result<Option<i64>, StoreError> {
    match meta(conn, key)? {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Corrupt {
                what: format!("setting '{key}'"),
                value: text,
            }),
    }
}

/// Saves one local setting of this database.
pub(crate) fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// Moves the WAL's pages into the database file and empties the WAL, so that values just
/// overwritten (an erasure) leave no old copy in it. Readers holding the file open without
/// a transaction do not stop it.
pub(crate) fn checkpoint(conn: &Connection) -> Result<(), StoreError> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// The files that make up the database at `path`: itself, its key file, its journals.
pub(crate) fn database_files(path: &Path) -> [PathBuf; 4] {
    ["", ".keys", "-wal", "-shm"].map(|suffix| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    })
}

/// Removes what a failed `init` or `join` left, so that a later attempt can start over.
pub(crate) fn remove_database_files(path: &Path) {
    for p in database_files(path) {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_that_is_not_a_number_is_an_error_not_a_zero() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
            .unwrap();
        assert_eq!(meta_i64(&conn, "hlc").unwrap(), None);
        set_meta(&conn, "hlc", "42").unwrap();
        assert_eq!(meta_i64(&conn, "hlc").unwrap(), Some(42));
        set_meta(&conn, "hlc", "4x2").unwrap();
        let e = meta_i64(&conn, "hlc").unwrap_err();
        assert_eq!(e.code(), "store.corrupt");
        assert!(e.to_string().contains("4x2"), "{e}");
    }

    /// A step that fails (here: migration 7 finds a table it creates already made) leaves a
    /// schema-6 file byte for byte as it was, says which step failed, and the file still
    /// opens at its own schema.
    #[test]
    fn a_failing_migration_leaves_the_old_file_intact_and_says_so() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/schema-v6");
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("masar.db");
        std::fs::copy(fixture.join("masar.db"), &db).unwrap();
        std::fs::copy(fixture.join("masar.db.keys"), key_file_path(&db)).unwrap();
        let key = crate::keys::KeyFile::load(&key_file_path(&db))
            .unwrap()
            .unwrap_for("admin", "fixture-password")
            .unwrap()
            .db_key;
        // The sabotage is made and committed first, then the file's bytes are taken.
        {
            let conn = open_connection(&db, &key, false).unwrap();
            conn.execute_batch("CREATE TABLE device_numbers(x); PRAGMA wal_checkpoint(TRUNCATE);")
                .unwrap();
        }
        let before = std::fs::read(&db).unwrap();
        let persons = |conn: &Connection| -> i64 {
            conn.query_row("SELECT count(*) FROM persons", [], |r| r.get(0))
                .unwrap()
        };
        let mut conn = open_connection(&db, &key, false).unwrap();
        let held = persons(&conn);
        let e = migrate(&mut conn).unwrap_err();
        assert_eq!(e.code(), "store.migration_failed");
        let message = e.to_string();
        for part in [
            "from schema 6 to",
            "step 7 failed",
            "device_numbers",
            "nothing was changed",
        ] {
            assert!(message.contains(part), "{part}: {message}");
        }
        assert_eq!(crate::Error::from(e).class(), crate::ErrorClass::Damaged);
        assert_eq!(schema_version(&conn).unwrap(), 6);
        assert_eq!(persons(&conn), held);
        assert!(held > 0);
        drop(conn);
        assert!(std::fs::read(&db).unwrap() == before, "the file changed");
    }

    /// Where a database's bytes go, table by table and index by index, for persons
    /// registered with an intake as a CSV import does (issue 10 aims at 3 KB per person;
    /// schema 8 measured 3,211 bytes, schema 6 8,825; schema 14 3,302, its identity index
    /// holding each change's author and record: 356 bytes instead of about 265). The
    /// bound catches a layout that grows again; the table:
    /// `cargo test -p masar-core --lib space -- --nocapture`.
    #[test]
    fn space_per_person_by_table_and_index() {
        let (_d, mut m) = crate::testing::temp_db();
        let persons = 10_000;
        let mut csv =
            String::from("given,family,sex,born,nationality,city,phone,unhcr_id,intake_date\n");
        for i in 0..persons {
            csv.push_str(&format!(
                "Given{i},Family{},female,1990-01-01,SYR,Rabat,06{i:08},250-{i:05}C,2024-05-0{}\n",
                i % 100,
                1 + i % 9
            ));
        }
        m.import_persons_csv(csv.as_bytes()).expect("import");
        m.conn()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .expect("checkpoint");
        let mut stmt = m.conn().prepare("SELECT name, sum(pgsize), sum(payload), sum(unused) FROM dbstat GROUP BY name ORDER BY 2 DESC").expect("dbstat");
        let rows: Vec<(String, i64, i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let total: i64 = rows.iter().map(|(_, b, _, _)| b).sum();
        for (name, bytes, payload, unused) in &rows {
            let per = |b: &i64| *b as f64 / persons as f64;
            println!(
                "{name:40} {:8.0} bytes per person ({:.0} of payload, {:.0} unused)",
                per(bytes),
                per(payload),
                per(unused)
            );
        }
        println!(
            "{:40} {:8.0} bytes per person",
            "in all",
            total as f64 / persons as f64
        );
        assert!(
            total / persons <= 3_350,
            "{} bytes per person",
            total / persons
        );
    }
}
