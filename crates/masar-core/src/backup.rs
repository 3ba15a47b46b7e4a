//! Backups of a laptop's database, taken while it is in use, and their restore under a new
//! device identity.
//!
//! A backup file (`.masarbackup`) is the key file and an online copy of the encrypted
//! database, framed and checksummed: `MASARBAK`, the format (u16), the key file's length
//! (u32) and bytes, the database's length (u64) and bytes, then the SHA-256 of everything
//! before it (integers little-endian). The database stays encrypted by its own key and the
//! key file wraps that key under each user's password, so a backup is exactly as protected
//! as the laptop; its time and device are inside the encrypted copy, not in clear.
//!
//! The copy is SQLite's online backup in one step, from a connection of its own: one read
//! transaction, so it holds exactly the commits made before it began, whatever the window
//! or another process writes meanwhile (WAL lets them write). A [`BackupJob`] carries what
//! the copy needs, so the window runs it without holding the open database.
//!
//! A restored database takes a new device identity (`identity::org::new_device_identity`):
//! the laptop it came from may still be writing, and two laptops must never stamp changes
//! as one device. Its next bundle carries what the backup had not yet exported.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::error::{BackupError, StoreError};
use crate::store::{self, key_file_path, set_meta};
use crate::Result;

const MAGIC: &[u8; 8] = b"MASARBAK";
/// The backup format this build writes and reads.
pub const BACKUP_FORMAT: u16 = 1;
/// The extension of backup files; the automatic backups' names end with it.
pub const BACKUP_EXTENSION: &str = "masarbackup";
/// A key file is a few hundred bytes per user: anything larger is not one.
const MAX_KEY_FILE: u32 = 1 << 20;
/// How many automatic backups a folder keeps unless the user says otherwise.
pub(crate) const DEFAULT_KEEP: u32 = 7;
/// An automatic backup is due this long after the last one.
pub(crate) const DUE_AFTER_HOURS: i64 = 24;

/// A backup just written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct BackupDone {
    /// The backup file.
    pub file: String,
    /// Its size.
    #[ts(type = "number")]
    pub bytes: u64,
    /// When the copy was taken (RFC 3339).
    pub taken_at: String,
    /// Older automatic backups of this laptop removed to keep the chosen number.
    pub removed: Vec<String>,
}

/// A backup file in the backup folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct BackupFile {
    /// Its path.
    pub file: String,
    /// Its size.
    #[ts(type = "number")]
    pub bytes: u64,
}

/// This laptop's automatic backups: where, how many, and how the last one went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct BackupSettings {
    /// The folder they go to (a USB stick or another disk is safest).
    pub folder: String,
    /// How many of this laptop's automatic backups the folder keeps.
    pub keep: u32,
    /// Whether a backup is made by itself once a day while the window is open.
    pub automatic: bool,
    /// When the last backup was made (RFC 3339).
    pub last_at: Option<String>,
    /// Why the last automatic backup failed, if it did.
    pub last_error: Option<String>,
    /// This laptop's backups in the folder, newest first.
    pub files: Vec<BackupFile>,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Restored {
    /// The restored database.
    pub path: String,
    /// Where the database that was at the target before was set aside, if one was.
    pub set_aside: Option<String>,
    /// The device the backup was taken on; the restored laptop no longer writes as it.
    pub old_device: String,
    /// The restored laptop's new device.
    pub new_device: String,
    /// When the backup was taken (RFC 3339).
    pub taken_at: Option<String>,
    /// Changes the backup held that its laptop had not exported: the next bundle sends them.
    #[ts(type = "number")]
    pub changes_to_send: i64,
    /// Persons in the restored database.
    #[ts(type = "number")]
    pub persons: i64,
    /// Its digest (`masar digest`).
    pub digest: String,
}

/// A backup to write: what the copy needs, taken from the open database, so that it runs
/// on another thread while the database stays in use. Holds the database key; wiped
/// when dropped.
pub struct BackupJob {
    pub(crate) db: PathBuf,
    pub(crate) key: crate::keys::DbKey,
    pub(crate) out: PathBuf,
    pub(crate) taken_at: String,
    /// For a backup into the folder: the folder, this laptop's device and how many to keep.
    pub(crate) rotation: Option<(PathBuf, String, u32)>,
}

impl BackupJob {
    /// Writes the backup; then, for a backup into the folder, removes this laptop's oldest
    /// backups there beyond the number to keep (never another laptop's, never this one).
    pub fn run(self) -> Result<BackupDone> {
        if std::fs::symlink_metadata(&self.out).is_ok() {
            return Err(BackupError::OutExists(self.out.display().to_string()).into());
        }
        if let Some((folder, _, _)) = &self.rotation {
            // Only the last level is made: a stick not plugged in leaves its mount point
            // without the folder, and the backup must not land on the laptop's own disk.
            if !folder.is_dir() {
                std::fs::create_dir(folder).map_err(|e| BackupError::file(folder, "made", e))?;
            }
        }
        let snapshot = Snapshot::take(&self.db, &self.key, &self.taken_at)?;
        let key_file = key_file_path(&self.db);
        let keys = std::fs::read(&key_file).map_err(|e| BackupError::file(&key_file, "read", e))?;
        crate::files::write_private_atomically_with(&self.out, |f| pack(f, &keys, &snapshot.path))
            .map_err(|e| BackupError::file(&self.out, "written", e))?;
        let bytes = std::fs::metadata(&self.out).map(|m| m.len()).unwrap_or(0);
        let mut done = BackupDone {
            file: self.out.display().to_string(),
            bytes,
            taken_at: self.taken_at.clone(),
            removed: Vec::new(),
        };
        if let Some((folder, device, keep)) = &self.rotation {
            for (old, _) in own_backups(folder, device).into_iter().skip(*keep as usize) {
                if old != self.out && std::fs::remove_file(&old).is_ok() {
                    done.removed.push(old.display().to_string());
                }
            }
        }
        Ok(done)
    }
}

/// Where automatic backups go until the user chooses: a folder beside the database. It
/// survives a damaged database file, not a lost disk; the window says to choose another.
pub(crate) fn default_folder(db: &Path) -> PathBuf {
    db.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("backups")
}

/// The part of a device id that names its backups: the id's last twelve characters (a
/// UUID v7's first ones are its time, alike on laptops enrolled the same day).
pub(crate) fn device_tag(device: &str) -> String {
    device
        .chars()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

/// This laptop's backups in `folder` (named by `backup_now`), newest first, with sizes.
pub(crate) fn own_backups(folder: &Path, device: &str) -> Vec<(PathBuf, u64)> {
    let suffix = format!("-{}.{BACKUP_EXTENSION}", device_tag(device));
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut found: Vec<(PathBuf, u64)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("masar-") && n.ends_with(&suffix))
        })
        .map(|e| (e.path(), e.metadata().map(|m| m.len()).unwrap_or(0)))
        .collect();
    // The names start with the time, so the newest sorts last.
    found.sort();
    found.reverse();
    found
}

/// An online copy of the open database in a private temporary file beside it, removed
/// when dropped.
struct Snapshot {
    path: PathBuf,
}

impl Snapshot {
    fn take(db: &Path, key: &crate::keys::DbKey, taken_at: &str) -> Result<Snapshot> {
        let mut name = db.as_os_str().to_owned();
        name.push(format!(".backup-{}", random_hex()));
        let snapshot = Snapshot {
            path: PathBuf::from(name),
        };
        let source = store::open_connection(db, key, false)?;
        crate::files::create_private(&snapshot.path)
            .map_err(|e| BackupError::file(&snapshot.path, "written", e))?;
        let mut copy = store::open_connection(&snapshot.path, key, true)?;
        {
            let backup = rusqlite::backup::Backup::new(&source, &mut copy)?;
            // One step: one read transaction, so the copy is one moment of the database.
            if backup.step(-1)? != rusqlite::backup::StepResult::Done {
                return Err(StoreError::Busy.into());
            }
        }
        set_meta(&copy, "backup_taken", taken_at)?;
        store::checkpoint(&copy)?;
        drop(copy);
        Ok(snapshot)
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        for p in store::database_files(&self.path) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A private folder beside the restore's target for the unpacked files, removed when
/// dropped: on the same disk, so the files move into place by renaming.
pub(crate) struct Staging {
    pub(crate) dir: PathBuf,
}

impl Staging {
    pub(crate) fn new(parent: &Path) -> Result<Staging> {
        let dir = parent.join(format!(".masar-restore-{}", random_hex()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(&dir)
            .map_err(|e| BackupError::file(&dir, "made", e))?;
        Ok(Staging { dir })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Renames the database at `target` and its key file (and any journal) to
/// `TARGET.before-restore-STAMP`; returns the database's new name.
pub(crate) fn set_aside(target: &Path, stamp: &str) -> Result<PathBuf> {
    let mut aside = target.as_os_str().to_owned();
    aside.push(format!(".before-restore-{stamp}"));
    let aside = PathBuf::from(aside);
    for (from, to) in store::database_files(target)
        .iter()
        .zip(store::database_files(&aside).iter())
    {
        if std::fs::symlink_metadata(from).is_ok() {
            std::fs::rename(from, to).map_err(|e| BackupError::file(from, "set aside", e))?;
        }
    }
    Ok(aside)
}

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the frame of a backup file: the key file, the database copy, the checksum.
fn pack(out: &mut File, keys: &[u8], database: &Path) -> io::Result<()> {
    let mut w = Hashing {
        inner: BufWriter::new(out),
        hash: Sha256::new(),
    };
    w.write_all(MAGIC)?;
    w.write_all(&BACKUP_FORMAT.to_le_bytes())?;
    let keys_len =
        u32::try_from(keys.len()).map_err(|_| io::Error::other("the key file is too large"))?;
    w.write_all(&keys_len.to_le_bytes())?;
    w.write_all(keys)?;
    let db = File::open(database)?;
    let len = db.metadata()?.len();
    w.write_all(&len.to_le_bytes())?;
    let copied = io::copy(&mut db.take(len), &mut w)?;
    if copied != len {
        return Err(io::Error::other(
            "the database copy changed while it was written",
        ));
    }
    let Hashing { mut inner, hash } = w;
    inner.write_all(&hash.finalize())?;
    inner.flush()
}

/// Checks a backup file's frame and checksum while writing its database and key file to
/// `staged` and its key file beside it; the caller removes them if anything fails.
pub(crate) fn unpack(file: &Path, staged: &Path) -> Result<()> {
    let shown = file.display().to_string();
    let damaged = || BackupError::Damaged(shown.clone());
    let source = crate::files::open_regular(file, u64::MAX).map_err(|r| match r {
        crate::files::ReadRefusal::Io(e) => BackupError::file(file, "read", e),
        _ => BackupError::NotABackup(shown.clone()),
    })?;
    let total = source
        .metadata()
        .map_err(|e| BackupError::file(file, "read", e))?
        .len();
    let mut r = BufReader::new(source);
    let mut hash = Sha256::new();
    let mut head = [0u8; 14];
    if r.read_exact(&mut head).is_err() || &head[..8] != MAGIC {
        return Err(BackupError::NotABackup(shown).into());
    }
    hash.update(head);
    let format = u16::from_le_bytes([head[8], head[9]]);
    if format > BACKUP_FORMAT {
        return Err(BackupError::NewerFormat {
            found: format,
            supported: BACKUP_FORMAT,
        }
        .into());
    }
    let keys_len = u32::from_le_bytes([head[10], head[11], head[12], head[13]]);
    if keys_len > MAX_KEY_FILE || u64::from(keys_len) + 14 + 8 + 32 > total {
        return Err(damaged().into());
    }
    let mut keys = vec![0u8; keys_len as usize];
    r.read_exact(&mut keys).map_err(|_| damaged())?;
    hash.update(&keys);
    let mut len = [0u8; 8];
    r.read_exact(&mut len).map_err(|_| damaged())?;
    hash.update(len);
    let db_len = u64::from_le_bytes(len);
    // The frame must account for every byte of the file: nothing missing, nothing added.
    if (14 + u64::from(keys_len) + 8 + 32).checked_add(db_len) != Some(total) {
        return Err(damaged().into());
    }
    let written = (|| -> io::Result<()> {
        let out = crate::files::create_private(staged)?;
        let mut w = Hashing {
            inner: BufWriter::new(out),
            hash,
        };
        let copied = io::copy(&mut (&mut r).take(db_len), &mut w)?;
        if copied != db_len {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        let Hashing { inner, hash } = w;
        inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        let mut sum = [0u8; 32];
        r.read_exact(&mut sum)?;
        if hash.finalize().as_slice() != sum {
            return Err(io::Error::from(io::ErrorKind::InvalidData));
        }
        let keys_path = key_file_path(staged);
        let mut k = crate::files::create_private(&keys_path)?;
        k.write_all(&keys)?;
        k.sync_all()
    })();
    written.map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData => damaged(),
        _ => BackupError::file(staged, "written", e),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::clock::FixedClock;
    use crate::Masar;

    fn at(m: &Masar, hours: i64) -> Masar {
        let when = chrono::NaiveDate::from_ymd_opt(2024, 6, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a date")
            .and_utc()
            + chrono::Duration::hours(hours);
        Masar::open(
            m.path(),
            "admin",
            "a long enough passphrase",
            Arc::new(FixedClock(when)),
        )
        .expect("open")
    }

    /// Automatic backups are on by default, in a folder beside the database, seven kept; one
    /// is made when none was, then not again until a day has passed; a failure is kept to
    /// show, and cleared by the next success.
    #[test]
    fn the_daily_backup_is_made_when_due_and_its_failure_is_kept() {
        let (dir, m) = crate::testing::temp_db();
        let settings = m.backup_settings().expect("settings");
        assert_eq!(PathBuf::from(&settings.folder), dir.path().join("backups"));
        assert_eq!(
            (settings.keep, settings.automatic, settings.last_at.clone()),
            (7, true, None)
        );
        let mut m = at(&m, 0);
        let first = m
            .backup_if_due()
            .expect("backup")
            .expect("due: none was made");
        assert!(first.file.ends_with(".masarbackup"));
        assert!(m.backup_if_due().expect("backup").is_none());
        let mut m = at(&m, 23);
        assert!(m.backup_if_due().expect("backup").is_none());
        let mut m = at(&m, 24);
        assert!(m.backup_if_due().expect("backup").is_some());
        assert_eq!(m.backup_settings().expect("settings").files.len(), 2);

        // A folder that cannot be made: the failure is said and kept for the window.
        let blocker = dir.path().join("a-file");
        std::fs::write(&blocker, b"x").expect("write");
        let folder = blocker.join("backups");
        let e = m
            .set_backup_settings(folder.to_str().expect("utf-8"), 3, true)
            .unwrap_err();
        assert_eq!(e.code(), "backup.file");
        crate::store::set_meta(m.conn(), "backup_folder", folder.to_str().expect("utf-8"))
            .expect("meta");
        let mut m = at(&m, 48);
        let e = m.backup_if_due().unwrap_err();
        assert_eq!(e.code(), "backup.file");
        assert!(m
            .backup_settings()
            .expect("settings")
            .last_error
            .is_some_and(|t| t.contains("cannot be made")));
        m.set_backup_settings(
            dir.path().join("elsewhere").to_str().expect("utf-8"),
            3,
            false,
        )
        .expect("settings");
        assert!(
            m.backup_if_due().expect("off").is_none(),
            "automatic backups were turned off"
        );
        m.backup_now()
            .expect("on demand, even when automatic backups are off");
        let settings = m.backup_settings().expect("settings");
        assert_eq!((settings.last_error, settings.files.len()), (None, 1));
        assert!(m.set_backup_settings("elsewhere", 0, true).is_err());
        assert!(m.set_backup_settings("  ", 3, true).is_err());
    }

    /// A last backup "in the future" (the clock was set back since) does not put the next
    /// one off; after a failure the next try waits an hour, not the next half-minute check.
    #[test]
    fn a_clock_set_back_does_not_stop_backups_and_a_failure_is_retried_hourly() {
        let (dir, m) = crate::testing::temp_db();
        let m = at(&m, 0);
        crate::store::set_meta(m.conn(), "backup_last_at", "2030-01-01T00:00:00+00:00")
            .expect("meta");
        let mut m = at(&m, 1);
        assert!(
            m.backup_if_due().expect("backup").is_some(),
            "a backup dated in the future put the next one off"
        );
        let blocker = dir.path().join("a-file");
        std::fs::write(&blocker, b"x").expect("write");
        crate::store::set_meta(
            m.conn(),
            "backup_folder",
            blocker.join("backups").to_str().expect("utf-8"),
        )
        .expect("meta");
        let mut m = at(&m, 30);
        assert!(m.backup_if_due().is_err());
        let mut m = at(&m, 30);
        assert!(
            m.backup_if_due().expect("no try").is_none(),
            "retried at once after a failure"
        );
        let mut m = at(&m, 32);
        assert!(m.backup_if_due().is_err(), "tried again an hour later");
    }
}
