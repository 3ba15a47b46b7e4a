//! Backups of this laptop's database, and restoring one: the doors over `crate::backup`.

use super::*;
use crate::backup::*;
use crate::error::{BackupError, Problem};
use crate::store::meta_i64;

impl Masar {
    /// Writes a consistent, encrypted backup of this database to `out`, a new file, while
    /// the database stays in use (any user of this laptop).
    pub fn backup(&self, out: &Path) -> Result<BackupDone> {
        self.backup_job(Some(out))?.run()
    }

    /// A backup to run apart from the open database: to `out`, or, without it, into the
    /// backup folder under a new name (then recorded with [`Masar::record_backup`]).
    pub fn backup_job(&self, out: Option<&Path>) -> Result<BackupJob> {
        let now = self.clock().now();
        let (out, rotation) = match out {
            Some(out) => (out.to_path_buf(), None),
            None => {
                let settings = self.backup_settings()?;
                let folder = PathBuf::from(&settings.folder);
                let name = format!(
                    "masar-{}-{}.{BACKUP_EXTENSION}",
                    now.format("%Y-%m-%d-%H%M%S"),
                    device_tag(self.device_id())
                );
                (
                    folder.join(name),
                    Some((folder, self.device_id().to_string(), settings.keep)),
                )
            }
        };
        Ok(BackupJob {
            db: self.path().to_path_buf(),
            key: self.db().db_key().clone(),
            out,
            taken_at: now.to_rfc3339(),
            rotation,
        })
    }

    /// Notes how a backup into the folder went, for the window: when the last one was
    /// made, or why it failed.
    pub fn record_backup(&mut self, outcome: &Result<BackupDone>) -> Result<()> {
        match outcome {
            Ok(done) => {
                set_meta(self.conn(), "backup_last_at", &done.taken_at)?;
                self.conn()
                    .execute("DELETE FROM meta WHERE key = 'backup_last_error'", [])
                    .map_err(StoreError::from)?;
            }
            Err(e) => {
                set_meta(self.conn(), "backup_last_error", &e.to_string())?;
                set_meta(
                    self.conn(),
                    "backup_last_attempt",
                    &self.clock().now().to_rfc3339(),
                )?;
            }
        }
        Ok(())
    }

    /// This laptop's backup settings and the backups in its folder.
    pub fn backup_settings(&self) -> Result<BackupSettings> {
        let conn = self.conn();
        let folder = match meta(conn, "backup_folder")? {
            Some(f) => PathBuf::from(f),
            None => default_folder(self.path()),
        };
        let keep = meta_i64(conn, "backup_keep")?
            .and_then(|k| u32::try_from(k).ok())
            .unwrap_or(DEFAULT_KEEP);
        let automatic = meta(conn, "backup_automatic")?
            .map(|v| v == "1")
            .unwrap_or(true);
        let files = own_backups(&folder, self.device_id())
            .into_iter()
            .map(|(path, bytes)| BackupFile {
                file: path.display().to_string(),
                bytes,
            })
            .collect();
        Ok(BackupSettings {
            folder: folder.display().to_string(),
            keep,
            automatic,
            last_at: meta(conn, "backup_last_at")?,
            last_error: meta(conn, "backup_last_error")?,
            files,
        })
    }

    /// Saves where automatic backups go, how many are kept (1 to 365) and whether they
    /// are made; the folder is made if missing.
    pub fn set_backup_settings(
        &mut self,
        folder: &str,
        keep: u32,
        automatic: bool,
    ) -> Result<BackupSettings> {
        let folder = folder.trim();
        if folder.is_empty() {
            return Err(InputError::Missing {
                field: "folder".into(),
                hint: "choose the folder backups go to".into(),
            }
            .into());
        }
        if !(1..=365).contains(&keep) {
            return Err(InputError::invalid(
                "keep",
                &keep.to_string(),
                Problem::NotOneOf(vec!["1 to 365 backups".into()]),
            )
            .into());
        }
        std::fs::create_dir_all(folder)
            .map_err(|e| BackupError::file(Path::new(folder), "made", e))?;
        let conn = self.conn();
        set_meta(conn, "backup_folder", folder)?;
        set_meta(conn, "backup_keep", &keep.to_string())?;
        set_meta(conn, "backup_automatic", if automatic { "1" } else { "0" })?;
        self.backup_settings()
    }

    /// Writes a backup into the backup folder under a new name, then removes this
    /// laptop's oldest backups there beyond the number to keep (never another laptop's,
    /// never the one just written).
    pub fn backup_now(&mut self) -> Result<BackupDone> {
        let made = self.backup_job(None).and_then(BackupJob::run);
        self.record_backup(&made)?;
        made
    }

    /// The daily automatic backup, if it is on and due: run it, then record it.
    pub fn due_backup(&self) -> Result<Option<BackupJob>> {
        let settings = self.backup_settings()?;
        if !settings.automatic {
            return Ok(None);
        }
        let now = self.clock().now();
        let since = |t: Option<String>| {
            t.as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| now.signed_duration_since(t))
        };
        // A last backup "in the future" (a clock set back) does not put the next one off.
        let due = since(settings.last_at.clone()).is_none_or(|d| {
            d >= chrono::Duration::hours(DUE_AFTER_HOURS) || d < chrono::Duration::zero()
        });
        // After a failure (a full or absent stick), try again hourly, not at every check.
        let failed_lately = settings.last_error.is_some()
            && since(meta(self.conn(), "backup_last_attempt")?)
                .is_some_and(|d| d >= chrono::Duration::zero() && d < chrono::Duration::hours(1));
        if !due || failed_lately {
            return Ok(None);
        }
        self.backup_job(None).map(Some)
    }

    /// Makes the daily automatic backup if it is on and due; `None` when it is not due.
    pub fn backup_if_due(&mut self) -> Result<Option<BackupDone>> {
        let Some(job) = self.due_backup()? else {
            return Ok(None);
        };
        let made = job.run();
        self.record_backup(&made)?;
        made.map(Some)
    }

    /// Restores the backup `file` to a new database at `target` (or in place of the one
    /// there, set aside under a new name, with `replace`), after checking its checksum and
    /// SQLite's integrity. `user` must be an administrator in the backup: the restored
    /// database takes a new device identity, certified by the organisation's key, and
    /// its users' keys are certified again for it. Nothing is written at `target` unless
    /// every check passes.
    pub fn restore(
        file: &Path,
        target: &Path,
        user: &str,
        password: &str,
        replace: bool,
        clock: Arc<dyn Clock>,
    ) -> Result<(Masar, Restored)> {
        let keys_at_target = key_file_path(target);
        // A journal left without its database counts too: SQLite would replay it into the
        // restored file.
        let occupied = store::database_files(target)
            .iter()
            .any(|p| std::fs::symlink_metadata(p).is_ok());
        if occupied && !replace {
            return Err(BackupError::TargetExists(target.display().to_string()).into());
        }
        let name = target.file_name().ok_or_else(|| InputError::Missing {
            field: "db".into(),
            hint: "give the database's file name".into(),
        })?;
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| BackupError::file(parent, "made", e))?;
        let staging = Staging::new(parent)?;
        let staged = staging.dir.join(name);
        unpack(file, &staged)?;

        let now = clock.now();
        let (old_device, new_device, taken_at) = {
            let m = Masar::open(&staged, user, password, clock.clone())?;
            if !m.integrity_check()? {
                return Err(BackupError::Damaged(file.display().to_string()).into());
            }
            let root = m
                .db()
                .issuer("restore a backup as a new laptop")
                .map_err(|_| BackupError::NeedsAdministrator)?;
            let conn = m.conn();
            let taken_at = meta(conn, "backup_taken")?;
            let device_name = meta(conn, "device_name")?.unwrap_or_default();
            let base = device_name
                .split(" (restored ")
                .next()
                .unwrap_or_default()
                .to_string();
            let renamed = format!("{base} (restored {})", now.format("%Y-%m-%d"));
            let tx = conn.unchecked_transaction()?;
            let (old, new) =
                crate::identity::org::new_device_identity(&tx, &root, &renamed, &now.to_rfc3339())?;
            set_meta(&tx, "restored_from", &old)?;
            // Backups and their schedule belong to the laptop the backup came from.
            tx.execute("DELETE FROM meta WHERE key IN ('backup_taken', 'backup_last_at', 'backup_last_error')", [])?;
            tx.commit()?;
            (old, new, taken_at)
        };

        let set_aside = if occupied {
            Some(set_aside(target, &now.format("%Y%m%d-%H%M%S").to_string())?)
        } else {
            None
        };
        let staged_keys = key_file_path(&staged);
        std::fs::rename(&staged_keys, &keys_at_target)
            .map_err(|e| BackupError::file(&keys_at_target, "written", e))?;
        if let Err(e) = std::fs::rename(&staged, target) {
            let _ = std::fs::rename(&keys_at_target, &staged_keys);
            // The database set aside goes back where it was.
            if let Some(aside) = &set_aside {
                for (from, to) in store::database_files(aside)
                    .iter()
                    .zip(store::database_files(target).iter())
                {
                    let _ = std::fs::rename(from, to);
                }
            }
            return Err(BackupError::file(target, "written", e).into());
        }
        crate::files::sync_dir(parent);

        // Opening certifies the administrator's key for the new device.
        let m = Masar::open(target, user, password, clock)?;
        let restored = Restored {
            path: target.display().to_string(),
            set_aside: set_aside.map(|p| p.display().to_string()),
            old_device,
            new_device,
            taken_at,
            changes_to_send: crate::changes::unexported_changes(m.conn())?,
            persons: m
                .conn()
                .query_row("SELECT count(*) FROM persons", [], |r| r.get(0))?,
            digest: m.digest()?,
        };
        Ok((m, restored))
    }
}
