//! User accounts: adding users, listing them, changing one's password. The key file
//! holds each user's wrapped copy of the database key; the database row is the authority
//! on who exists and with which role.

use serde::Serialize;
use ts_rs::TS;

use crate::auth::{check_password, check_user_name, Permission, Role};
use crate::changes::{Db, Writer};
use crate::error::AuthError;
use crate::keys::KeyFile;
use crate::schema::{Entity, Value};
use crate::Result;

/// Writes a user row through the write path; the caller has checked the name is free.
pub(crate) fn insert_user(w: &mut Writer<'_>, name: &str, role: Role) -> Result<String> {
    w.create(
        Entity::User,
        &[("name", Value::text(name)), ("role", Value::text(role.as_str())), ("active", Value::Bool(true))],
    )
}

/// A user as listed for administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct UserSummary {
    /// Stable id.
    pub id: String,
    /// Log-in name.
    pub name: String,
    /// Role name.
    pub role: String,
    /// Whether the account may log in.
    pub active: bool,
}

impl Db {
    /// Adds a user with their own password (admin only).
    pub(crate) fn add_user(&mut self, name: &str, role: Role, password: &str) -> Result<String> {
        self.require(Permission::ManageUsers)?;
        check_user_name(name)?;
        check_password(password, name)?;
        if self.user_id_by_name(name)?.is_some() {
            return Err(AuthError::UserExists(name.to_string()).into());
        }
        // A key-file entry without a row (left by an interrupted attempt) is simply
        // replaced. The key file is saved inside the transaction so a failed save rolls
        // the row back.
        let path = self.key_file_path();
        let mut keys = KeyFile::load(&path)?;
        keys.add_user(name, password, self.db_key())?;
        self.write(|w| {
            let id = insert_user(w, name, role)?;
            keys.save(&path)?;
            Ok(id)
        })
    }

    /// Changes the logged-in user's password: re-wraps their copy of the key only.
    pub(crate) fn change_password(&mut self, old: &str, new: &str) -> Result<()> {
        let name = self.user().name.clone();
        check_password(new, &name)?;
        let path = self.key_file_path();
        let mut keys = KeyFile::load(&path)?;
        keys.unwrap_for(&name, old)?;
        keys.add_user(&name, new, self.db_key())?;
        keys.save(&path)?;
        Ok(())
    }

    /// The users of this database.
    pub(crate) fn list_users(&self) -> Result<Vec<UserSummary>> {
        let mut stmt = self.conn().prepare("SELECT id, name, role, active FROM users ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(UserSummary {
                id: r.get(0)?,
                name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                role: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                active: r.get::<_, Option<bool>>(3)?.unwrap_or(false),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn user_id_by_name(&self, name: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self.conn().query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0)).optional()?)
    }
}
