//! The change log layer: the one write path and the open database it writes to.
//!
//! Every insert, update and erasure goes through a [`Writer`], which writes the entity
//! row and appends one row per field to the change log (`changes`), stamped with the
//! hybrid logical clock, the device and the user. The audit trail (`masar history`) reads
//! that log, and sync ships it. [`Db`] is the open database with its logged-in user, on
//! which the domain, sync and reports build.

mod apply;
mod clock_state;
mod oplog;
pub(crate) use apply::{purge, Applier, CommitRow};
// The log's history, read: its heads, its changes one at a time or a set of them, and
// the authors that money rules ask about. Writing goes through Writer or Applier only.
pub(crate) use oplog::{each_op, heads, latest, load_ops, winner_authors, Author, Head, Written};

pub(crate) use clock_state::ClockState;
pub(crate) use oplog::Op;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::Serialize;
use ts_rs::TS;

use crate::auth::{Permission, User};
use crate::clock::{Clock, Hlc};
use crate::error::{AuthError, InputError, StoreError};
use crate::keys::DbKey;
use crate::schema::{Entity, FieldKind, Value};
use crate::trust::Signer;
use crate::Result;

/// An open database with its logged-in user: what every operation of the core runs on.
/// `Masar` wraps it; the layers below `Masar` take it.
pub(crate) struct Db {
    conn: Connection,
    path: PathBuf,
    key: DbKey,
    user: User,
    device_id: String,
    clock: Arc<dyn Clock>,
    signer: Option<Signer>,
    root: Option<ed25519_dalek::SigningKey>,
}

impl Db {
    /// Wraps an open, migrated connection.
    pub fn new(
        conn: Connection,
        path: &Path,
        key: DbKey,
        user: User,
        device_id: String,
        clock: Arc<dyn Clock>,
    ) -> Db {
        Db {
            conn,
            path: path.to_path_buf(),
            key,
            user,
            device_id,
            clock,
            signer: None,
            root: None,
        }
    }

    /// Gives the logged-in user the key that signs their changes.
    pub fn set_signer(&mut self, signer: Signer) {
        self.signer = Some(signer);
    }

    /// Gives a logged-in administrator the organisation's root key.
    pub fn set_root(&mut self, root: Option<ed25519_dalek::SigningKey>) {
        self.root = root;
    }

    /// The organisation's root key, when an administrator holding it is logged in.
    pub fn root_key(&self) -> Option<&ed25519_dalek::SigningKey> {
        self.root.as_ref()
    }

    /// The logged-in user's certified key, if they have one on this laptop.
    pub(crate) fn own_signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }

    /// The logged-in user's certified key, if they have one on this laptop.
    #[cfg(any(test, feature = "forging"))]
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }

    /// The connection, for reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The logged-in user.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// This laptop's id.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The injected wall clock.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key file beside the database.
    pub fn key_file_path(&self) -> PathBuf {
        crate::store::key_file_path(&self.path)
    }

    /// The key that opens the database, to wrap for a new user.
    pub fn db_key(&self) -> &DbKey {
        &self.key
    }

    /// Refuses the action unless the logged-in user's role allows it.
    pub fn require(&self, permission: Permission) -> Result<(), AuthError> {
        if permission.allows(self.user.role) {
            Ok(())
        } else {
            let needed = permission.lowest_role();
            Err(AuthError::Forbidden {
                role: self.user.role.as_str(),
                action: permission.describe(),
                needed: needed.as_str(),
            })
        }
    }

    /// Runs `f` in one transaction through the write path; commits only if it succeeds,
    /// so a refused input changes nothing.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let user_id = (!self.user.id.is_empty()).then(|| self.user.id.clone());
        let now = self.clock.now();
        let signer = self
            .signer
            .as_ref()
            .ok_or_else(|| AuthError::Unsigned(self.user.name.clone()))?;
        let tx = self.conn.transaction().map_err(StoreError::from)?;
        let out = {
            let mut w = Writer::new(
                &tx,
                signer,
                user_id,
                Some(self.user.name.clone()),
                self.device_id.clone(),
                now,
            )?;
            let out = f(&mut w)?;
            w.finish()?;
            out
        };
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// Runs `f` in one transaction, committed only if it succeeds (for sync, which writes
    /// changes that are already made rather than making new ones).
    pub fn transaction<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction().map_err(StoreError::from)?;
        let out = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// The change history of one record, oldest first.
    pub fn history(&self, record: &str) -> Result<Vec<Change>> {
        history(&self.conn, record)
    }
}

/// Keeps a certificate the root issued (a user's key on a device), which bundles carry to
/// every laptop.
pub(crate) fn keep_cert(conn: &Connection, cert: &crate::trust::AuthorCert) -> Result<()> {
    let body = serde_json::to_string(cert).map_err(|e| StoreError::Corrupt {
        what: "a certificate".into(),
        value: e.to_string(),
    })?;
    conn.prepare_cached("INSERT OR IGNORE INTO certs(id, user, device, body, joined, name) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
        .execute(rusqlite::params![cert.id, cert.user, cert.device, body, cert.joined, cert.name])?;
    Ok(())
}

/// Changes in this laptop's log that no bundle of its own has carried yet.
pub(crate) fn unexported_changes(conn: &rusqlite::Connection) -> Result<i64> {
    let since = crate::store::meta_i64(conn, "export_seq")?.unwrap_or(0);
    Ok(conn.query_row(
        "SELECT count(*) FROM change_log WHERE seq > ?1",
        [since],
        |r| r.get(0),
    )?)
}

/// Writes records and logs each field change, inside one transaction.
pub(crate) struct Writer<'t> {
    tx: &'t Transaction<'t>,
    signer: &'t Signer,
    /// What its author signs: the commit's message, each change's digest appended in
    /// order (held once: a write of a million changes holds 32 MB, not twice that).
    message: Vec<u8>,
    /// How many changes the write logged.
    count: u32,
    /// The salt of each record's personal values in this write.
    salts: std::collections::HashMap<String, Vec<u8>>,
    user_id: Option<String>,
    user_name: Option<String>,
    device: String,
    /// Where its changes are filed: this device's number, and the commit's once its row
    /// is added (with the first change); the record's is set per change.
    filed: oplog::Filed,
    numbers: oplog::Numbers,
    now: DateTime<Utc>,
    clock: ClockState,
    loaded: ClockState,
    touched: oplog::Touched,
}

/// One entry of a record's history: who changed which field, from what to what, when.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Change {
    /// The writing device's wall-clock time (RFC 3339).
    pub at: String,
    /// Who made it: their name where known, else their id on their laptop.
    pub user: Option<String>,
    /// The device that made the change.
    pub device: String,
    /// The entity written.
    pub entity: String,
    /// The record's id.
    pub record: String,
    /// The field written.
    pub field: String,
    /// The previous value on the writing device; null when blanked by erasure.
    #[ts(type = "string | number | boolean | null")]
    pub old: Value,
    /// The new value; null when blanked by erasure.
    #[ts(type = "string | number | boolean | null")]
    pub new: Value,
    /// Hybrid logical clock stamp, as text (it exceeds what a script's number holds exactly).
    pub hlc: String,
}

impl<'t> Writer<'t> {
    fn new(
        tx: &'t Transaction<'t>,
        signer: &'t Signer,
        user_id: Option<String>,
        user_name: Option<String>,
        device: String,
        now: DateTime<Utc>,
    ) -> Result<Writer<'t>> {
        let clock = ClockState::load(tx)?;
        let by_cert = user_id.as_deref() == Some(signer.cert.user.as_str())
            && user_name.as_deref() == Some(signer.cert.name.as_str());
        let mut numbers = oplog::Numbers::default();
        let filed = oplog::Filed {
            device: numbers.device(tx, &device)?,
            record: 0,
            childless: false,
            commit: None,
            by_cert,
            author: numbers.author(tx, user_id.as_deref())?,
        };
        Ok(Writer {
            tx,
            signer,
            message: signer.empty_message(),
            count: 0,
            salts: Default::default(),
            user_id,
            user_name,
            device,
            filed,
            numbers,
            now,
            clock,
            loaded: clock,
            touched: Default::default(),
        })
    }

    /// Writes a user's account row under the id their certificate names; the caller has
    /// checked the name is free on this laptop.
    pub(crate) fn add_user_row(
        &mut self,
        id: &str,
        name: &str,
        role: crate::auth::Role,
    ) -> Result<()> {
        self.create_with_id(
            Entity::User,
            id,
            &[
                ("name", Value::text(name)),
                ("role", Value::text(role.as_str())),
                ("active", Value::Bool(true)),
            ],
        )
    }

    /// Keeps a certificate issued in this write (a new user's).
    pub(crate) fn keep_cert(&mut self, cert: &crate::trust::AuthorCert) -> Result<()> {
        keep_cert(self.tx, cert)
    }

    /// Brings the touched records in line with the log and saves the clock; called
    /// before commit.
    fn finish(self) -> Result<()> {
        oplog::settle(self.tx, &self.touched, &mut oplog::Conflicted::new())?;
        if let Some(n) = self.filed.commit {
            // The author signs the whole write at once; its commit's row, added with the
            // first change, gets its id and signature now that the digests are known.
            let (id, signature) = self.signer.sign_message(&self.message);
            self.tx
                .prepare_cached(
                    "UPDATE commits SET id = ?1, size = ?2, signature = ?3 WHERE n = ?4",
                )?
                .execute(rusqlite::params![
                    id,
                    i64::from(self.count),
                    signature.to_vec(),
                    n
                ])?;
        }
        self.clock.save_since(&self.loaded, self.tx)
    }

    fn log(
        &mut self,
        entity: Entity,
        record: &str,
        field: &str,
        value: &Value,
        old: Option<&Value>,
        creates: bool,
    ) -> Result<()> {
        // A local edit overwrites what the user saw: the current value, however many laptops
        // recorded it. Heads with other values stay in conflict until a supervisor resolves.
        // Naming several heads closes a fork, which only a supervisor may do: anyone else
        // overwrites the winner alone, and another head with the same value stays.
        let parents = if creates {
            Vec::new()
        } else if self.may_resolve() {
            oplog::current_stamps(self.tx, entity.name(), record, field)?
        } else {
            oplog::current_stamps(self.tx, entity.name(), record, field)?
                .into_iter()
                .take(1)
                .collect()
        };
        self.append_op(entity, record, field, value, old, creates, parents, false)
    }

    /// Whether the author may close a fork (a supervisor's right to decide).
    fn may_resolve(&self) -> bool {
        crate::auth::Role::parse(&self.signer.cert.role)
            .is_some_and(|r| Permission::DecideInCommittee.allows(r))
    }

    /// Writes a change that overwrites every head of a field: a conflict's resolution.
    pub(crate) fn resolve(
        &mut self,
        entity: Entity,
        record: &str,
        field: &str,
        value: &Value,
    ) -> Result<()> {
        let parents = oplog::head_stamps(self.tx, entity.name(), record, field)?;
        self.append_op(entity, record, field, value, None, false, parents, true)
    }

    /// Stamps a change made here, checks its author may make it, and adds it to the log.
    #[allow(clippy::too_many_arguments)]
    fn append_op(
        &mut self,
        entity: Entity,
        record: &str,
        field: &str,
        value: &Value,
        old: Option<&Value>,
        creates: bool,
        parents: Vec<(Hlc, String)>,
        resolves: bool,
    ) -> Result<()> {
        let json = value.to_json();
        // The role table every import checks: what this laptop signs, others accept. A
        // change naming several parents is a resolution by its structure, as there.
        let needed =
            Permission::for_change(entity.name(), field, value, resolves || parents.len() > 1);
        let role = crate::auth::Role::parse(&self.signer.cert.role)
            .unwrap_or(crate::auth::Role::Counsellor);
        if !needed.allows(role) {
            return Err(AuthError::Forbidden {
                role: role.as_str(),
                action: needed.describe(),
                needed: needed.lowest_role().as_str(),
            }
            .into());
        }
        // One salt per record and write: erasure blanks all of a record's personal values
        // together, so they need no salts of their own, and bundles repeat it cheaply.
        let personal = entity.field(field).is_ok_and(|f| f.personal);
        let salt = personal.then(|| {
            self.salts
                .entry(record.to_string())
                .or_insert_with(|| {
                    let mut salt = vec![0u8; 16];
                    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
                    salt
                })
                .clone()
        });
        let hlc = self.clock.stamp(self.now.timestamp_millis());
        let mut op = Op {
            hlc,
            device: self.device.clone(),
            entity: entity.name().to_string(),
            record: record.to_string(),
            field: field.to_string(),
            value: Some(json),
            creates,
            parents,
            user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
            at: self.now.to_rfc3339_opts(SecondsFormat::Millis, true),
            frontier: self.clock.frontier,
            resolves,
            salt,
            value_commit: None,
            commit: None,
        };
        let digest = op.digest().ok_or_else(|| StoreError::Corrupt {
            what: "a new change".into(),
            value: op.describe(),
        })?;
        op.commit = Some((String::new(), self.count));
        self.message.extend_from_slice(&digest);
        self.count += 1;
        if self.filed.commit.is_none() {
            // No write is signed yet, so no commit has this empty id.
            self.tx
                .prepare_cached(
                    "INSERT INTO commits(id, cert, size, signature) VALUES ('', ?1, 0, x'')",
                )?
                .execute([&self.signer.cert.id])?;
            self.filed.commit = Some(self.tx.last_insert_rowid());
        }
        (self.filed.record, self.filed.childless) = self.numbers.record(self.tx, &op)?;
        oplog::insert(self.tx, &op, old.map(Value::to_json).as_deref(), self.filed)?;
        self.touched
            .entry((op.entity, op.record))
            .or_default()
            .insert(op.field);
        Ok(())
    }

    /// Creates a record with a new stable id and the given fields; returns the id.
    pub fn create(&mut self, entity: Entity, fields: &[(&str, Value)]) -> Result<String> {
        let id = uuid::Uuid::now_v7().to_string();
        self.create_with_id(entity, &id, fields)?;
        Ok(id)
    }

    /// Creates a record whose id the caller chose (a name-based id, so that two laptops
    /// recording the same fact, such as one person's attendance, make the same record).
    pub fn create_with_id(
        &mut self,
        entity: Entity,
        id: &str,
        fields: &[(&str, Value)],
    ) -> Result<()> {
        for (name, _) in fields {
            entity.field(name)?;
        }
        for (i, (name, value)) in fields.iter().enumerate() {
            self.log(entity, id, name, value, None, i == 0)?;
        }
        // Settled now, so that later steps of the same write see the row.
        oplog::settle(
            self.tx,
            &std::mem::take(&mut self.touched),
            &mut oplog::Conflicted::new(),
        )
    }

    /// Sets settable fields of an existing record (refusing any other); logs only the
    /// fields whose value changes. Returns how many fields changed.
    pub fn update(&mut self, entity: Entity, id: &str, fields: &[(&str, Value)]) -> Result<usize> {
        for (name, _) in fields {
            let def = entity.field(name)?;
            if !def.settable {
                return Err(InputError::NotSettable {
                    what: entity.label(),
                    field: def.name,
                }
                .into());
            }
        }
        self.update_kept(entity, id, fields)
    }

    /// Sets fields that their own operation keeps (a stage, a committee's decision, a
    /// flag that retires a record) after that operation has checked its rules.
    pub fn update_kept(
        &mut self,
        entity: Entity,
        id: &str,
        fields: &[(&str, Value)],
    ) -> Result<usize> {
        let table = entity.table();
        let mut changed = 0;
        for (name, value) in fields {
            entity.field(name)?;
            let old: Option<Value> = self
                .tx
                .query_row(
                    &format!("SELECT {name} FROM {table} WHERE id = ?1"),
                    [id],
                    |r| Value::from_sql_ref(r.get_ref(0)?),
                )
                .optional()?;
            let Some(old) = old else {
                return Err(InputError::NotFound {
                    what: entity.label(),
                    id: id.to_string(),
                }
                .into());
            };
            if old.same_as(value) {
                continue;
            }
            let old = match (entity.field(name)?.kind, &old) {
                (FieldKind::Flag, Value::Int(i)) => Value::Bool(*i != 0),
                _ => old,
            };
            self.log(entity, id, name, value, Some(&old), false)?;
            changed += 1;
        }
        oplog::settle(
            self.tx,
            &std::mem::take(&mut self.touched),
            &mut oplog::Conflicted::new(),
        )?;
        Ok(changed)
    }

    /// Erases a person: an erasure change that every laptop applies, blanking the personal
    /// fields of the record and of its whole history. The anonymous fields (sex,
    /// nationality, city, birth year) stay so that counts remain true.
    pub fn erase_person(&mut self, id: &str) -> Result<()> {
        let entity = Entity::Person;
        let born: Option<String> = self
            .tx
            .query_row("SELECT born FROM persons WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| InputError::NotFound {
                what: entity.label(),
                id: id.to_string(),
            })?;
        let birth_year = born
            .as_deref()
            .and_then(|b| b.get(0..4))
            .and_then(|y| y.parse::<i64>().ok());
        if let Some(year) = birth_year {
            self.update_kept(entity, id, &[("birth_year", Value::Int(year))])?;
        }
        self.log(entity, id, "erased", &Value::Bool(true), None, false)?;
        oplog::apply_erasure(self.tx, id)?;
        oplog::settle(
            self.tx,
            &std::mem::take(&mut self.touched),
            &mut oplog::Conflicted::new(),
        )
    }
}

/// The history of one record, oldest first.
fn history(conn: &Connection, record: &str) -> Result<Vec<Change>> {
    let mut stmt = conn.prepare(
        "SELECT c.hlc, c.device, c.entity, c.record, c.field, c.old, c.value, coalesce(c.user_name, u.name, c.user_id), c.at
         FROM changes c LEFT JOIN users u ON u.id = c.user_id
         WHERE c.record = ?1 ORDER BY c.hlc, c.device",
    )?;
    let rows = stmt.query_map([record], |r| {
        let old: Option<String> = r.get(5)?;
        let new: Option<String> = r.get(6)?;
        Ok(Change {
            hlc: r.get::<_, i64>(0)?.to_string(),
            device: r.get(1)?,
            entity: r.get(2)?,
            record: r.get(3)?,
            field: r.get(4)?,
            old: Value::from_json(old.as_deref()),
            new: Value::from_json(new.as_deref()),
            user: r.get(7)?,
            at: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use crate::schema::{Entity, Value};
    use crate::testing::{kv, person, temp_db};

    #[test]
    fn a_corrupt_clock_setting_stops_writes_instead_of_stamping_from_zero() {
        let (_d, mut m) = temp_db();
        let before = m.status().unwrap().changes;
        m.conn()
            .execute("UPDATE meta SET value = 'garbage' WHERE key = 'hlc'", [])
            .unwrap();
        let e = m
            .add_person(crate::domain::NewPerson {
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
            .unwrap_err();
        assert_eq!(e.code(), "store.corrupt", "{e}");
        assert!(e.to_string().contains("garbage"), "{e}");
        assert_eq!(m.status().unwrap().changes, before, "nothing was written");
    }

    #[test]
    fn the_write_path_refuses_to_set_a_field_that_its_own_operation_keeps() {
        let (_d, mut m) = temp_db();
        let a = person(&mut m, "Amina", "female", "1990-01-01");
        let p = m
            .add_project(crate::domain::NewProject {
                title: "Bakery".into(),
                kind: "creation".into(),
                sector: "food".into(),
                members: vec![a],
                date: Some("2024-01-01".into()),
            })
            .unwrap();
        for (field, value) in [
            ("stage", "funded"),
            ("approved_amount", "99999999"),
            ("counsellor", "someone"),
        ] {
            let e = m
                .db_mut()
                .write(|w| w.update(Entity::Project, &p, &[(field, Value::text(value))]))
                .unwrap_err();
            assert_eq!(e.code(), "input.not_settable", "{field}: {e}");
        }
        assert_eq!(m.project(&p).unwrap().stage.as_deref(), Some("draft"));
        assert_eq!(m.project(&p).unwrap().approved_amount, None);
    }

    #[test]
    fn an_update_logs_only_the_fields_that_change_with_increasing_stamps() {
        let (_d, mut m) = temp_db();
        let id = person(&mut m, "Amina", "female", "1990-01-01");
        let before = m.history(&id).unwrap().len();
        m.set_person(&id, &kv(&[("given", "Amina"), ("city", "Rabat")]))
            .unwrap();
        let h = m.history(&id).unwrap();
        assert_eq!(h.len(), before + 1, "only city changed");
        assert_eq!(h.last().unwrap().field, "city");
        let stamps: Vec<i64> = h.iter().map(|c| c.hlc.parse().unwrap()).collect();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
    }

    #[test]
    fn a_stamp_stays_ahead_even_when_the_wall_clock_goes_back() {
        let (_d, mut m) = temp_db();
        let a = person(&mut m, "A", "female", "1990-01-01");
        let first: i64 = m.history(&a).unwrap().last().unwrap().hlc.parse().unwrap();
        // Same fixed clock: later writes must still order after earlier ones.
        let b = person(&mut m, "B", "male", "1990-01-01");
        let second: i64 = m.history(&b).unwrap()[0].hlc.parse().unwrap();
        assert!(second > first);
    }

    #[test]
    fn erasure_blanks_personal_fields_in_the_record_and_the_log() {
        let (_d, mut m) = temp_db();
        let id = m
            .add_person(crate::domain::NewPerson {
                fields: crate::domain::Fields(
                    kv(&[
                        ("given", "Secret"),
                        ("family", "Name"),
                        ("sex", "female"),
                        ("born", "1990-05-05"),
                        ("nationality", "SYR"),
                        ("phone", "0600"),
                    ])
                    .to_vec(),
                ),
                intake_date: None,
            })
            .unwrap();
        m.set_person(&id, &kv(&[("phone", "0700")])).unwrap();
        m.erase_person(&id).unwrap();
        let p = m.person(&id).unwrap();
        assert_eq!(p.given, None);
        assert_eq!(p.birth_year, Some(1990));
        // Compared as values: ids (random UUIDs, such as the counsellor's) may hold "0700".
        let erased = ["Secret", "Name", "0600", "0700", "1990-05-05"];
        for c in m.history(&id).unwrap() {
            for v in [&c.new, &c.old] {
                if let Value::Text(t) = v {
                    assert!(!erased.contains(&t.as_str()), "{c:?}");
                }
            }
        }
    }
}
