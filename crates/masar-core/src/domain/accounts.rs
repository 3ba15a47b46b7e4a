//! User accounts: adding users, listing them, changing one's password. The key file
//! holds each user's wrapped copy of the database key; the database row is the authority
//! on who exists and with which role.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::auth::{check_password, check_user_name, Permission, Role};
use crate::changes::Db;
use crate::error::AuthError;
use crate::keys::{KeyFile, Secrets};
use crate::trust::AuthorCert;
use zeroize::Zeroizing;

fn rand_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k);
    k
}
use crate::Result;

/// A user account to add on this laptop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewUser {
    /// The user's log-in name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Their first password.
    pub password: String,
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
        // The new user's signing key, certified now for this laptop with their role. The
        // root stays with the founders: a new administrator issues under their own
        // certificate.
        let root = self.issuer("add users")?;
        let id = uuid::Uuid::now_v7().to_string();
        let signing = ed25519_dalek::SigningKey::from_bytes(&rand_key());
        let org = crate::store::meta(self.conn(), "org_id")?.unwrap_or_default();
        let cert = AuthorCert::issue(
            &root,
            &org,
            &id,
            name,
            role,
            self.device_id(),
            &signing.verifying_key(),
            &self.clock().now().to_rfc3339(),
        );
        let secrets = Secrets {
            signing: Some(Zeroizing::new(signing.to_bytes())),
            root: None,
        };
        // A key-file entry without a row (left by an interrupted attempt) is simply
        // replaced. The key file is saved inside the transaction so a failed save rolls
        // the row back.
        let path = self.key_file_path();
        let mut keys = KeyFile::load(&path)?;
        keys.add_user(name, password, self.db_key(), &secrets)?;
        self.write(|w| {
            w.add_user_row(&id, name, role)?;
            w.keep_cert(&cert)?;
            keys.save(&path)?;
            Ok(id.clone())
        })
    }

    /// Changes the logged-in user's password: re-wraps their copy of the key only.
    pub(crate) fn change_password(&mut self, old: &str, new: &str) -> Result<()> {
        let name = self.user().name.clone();
        check_password(new, &name)?;
        let path = self.key_file_path();
        let mut keys = KeyFile::load(&path)?;
        let unlocked = keys.unwrap_for(&name, old)?;
        keys.add_user(&name, new, self.db_key(), &unlocked.secrets)?;
        keys.save(&path)?;
        Ok(())
    }

    /// The users of this database.
    pub(crate) fn list_users(&self) -> Result<Vec<UserSummary>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT id, name, role, active FROM users ORDER BY name")?;
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
        Ok(self
            .conn()
            .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
            .optional()?)
    }
}
