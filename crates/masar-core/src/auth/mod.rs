//! Users, roles and the keys that open the database.
//!
//! The database is encrypted with one random key. Each user holds a copy of it wrapped by
//! a key derived from their password (argon2id), kept in the key file beside the
//! database, so a password change re-wraps one copy and never re-encrypts the database.
//! Roles live inside the encrypted database, and every permission is checked here, in
//! the core, not in a UI.

mod keys;

pub use keys::{DbKey, KeyFile};

use crate::changes::{Entity, Value, Writer};
use crate::store::Masar;
use crate::Result;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Records the journey of their caseload.
    Counsellor,
    /// Merges laptops, decides in committee, erases, reports.
    Supervisor,
    /// Installs, enrols, manages users and reference lists.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Counsellor, Role::Supervisor, Role::Admin];

    /// The role's name as stored and typed.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Counsellor => "counsellor",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// An action that not every role may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Add users, change roles.
    ManageUsers,
    /// Edit the organisation's reference lists.
    EditReferenceLists,
    /// Record a committee decision (approve, reject, defer).
    DecideInCommittee,
    /// Erase a person's personal data.
    ErasePerson,
    /// Record the daily work: persons, intakes, sessions, projects, visits.
    RecordWork,
}

impl Permission {
    /// The lowest role that holds this permission.
    pub fn lowest_role(self) -> Role {
        match self {
            Permission::ManageUsers | Permission::EditReferenceLists => Role::Admin,
            Permission::DecideInCommittee | Permission::ErasePerson => Role::Supervisor,
            Permission::RecordWork => Role::Counsellor,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Permission::ManageUsers => "manage users",
            Permission::EditReferenceLists => "edit reference lists",
            Permission::DecideInCommittee => "record committee decisions",
            Permission::ErasePerson => "erase a person's data",
            Permission::RecordWork => "record work",
        }
    }
}

/// The logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id, the same on every laptop.
    pub id: String,
    /// Log-in name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
}

/// Log-in, key and permission failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Deliberately does not say which of the two was wrong.
    #[error("wrong user name or password")]
    WrongCredentials,
    /// The account exists but was disabled.
    #[error("the account '{0}' is disabled: ask an administrator to enable it")]
    Disabled(String),
    /// The user's role does not allow the action.
    #[error("a {role} may not {action}: ask a {needed} to do it")]
    Forbidden {
        /// The user's role.
        role: &'static str,
        /// What was attempted.
        action: &'static str,
        /// The lowest role that may.
        needed: &'static str,
    },
    /// A password that is too easy to guess.
    #[error("the password is too short: use at least {0} characters")]
    WeakPassword(usize),
    /// A user name that is empty or has spaces at its ends.
    #[error("'{0}' is not a usable user name: use letters, digits, '.', '-' or '_'")]
    BadUserName(String),
    /// The name is taken.
    #[error("a user named '{0}' already exists: choose another name")]
    UserExists(String),
    /// No such user.
    #[error("no user named '{0}': check the name with `masar user list`")]
    UnknownUser(String),
    /// The key file is missing, unreadable or damaged.
    #[error("the key file {path} cannot be used: {reason}")]
    KeyFile {
        /// Where the key file was looked for.
        path: String,
        /// What is wrong and what to do.
        reason: String,
    },
}

impl AuthError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::WrongCredentials => "auth.wrong_credentials",
            AuthError::Disabled(_) => "auth.disabled",
            AuthError::Forbidden { .. } => "auth.forbidden",
            AuthError::WeakPassword(_) => "auth.weak_password",
            AuthError::BadUserName(_) => "auth.bad_user_name",
            AuthError::UserExists(_) => "auth.user_exists",
            AuthError::UnknownUser(_) => "auth.unknown_user",
            AuthError::KeyFile { .. } => "auth.key_file",
        }
    }
}

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

pub(crate) fn check_password(password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AuthError::WeakPassword(MIN_PASSWORD_LEN));
    }
    Ok(())
}

pub(crate) fn check_user_name(name: &str) -> Result<(), AuthError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadUserName(name.to_string()))
    }
}

/// Writes a user row through the write path; the caller has checked the name is free.
pub(crate) fn insert_user(w: &mut Writer<'_>, name: &str, role: Role) -> Result<String> {
    w.create(
        Entity::User,
        &[
            ("name", Value::text(name)),
            ("role", Value::text(role.as_str())),
            ("active", Value::Bool(true)),
        ],
    )
}

/// A user as listed for administrators.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl Masar {
    /// Refuses the action unless the logged-in user's role allows it.
    pub fn require(&self, permission: Permission) -> Result<(), AuthError> {
        let needed = permission.lowest_role();
        if self.user().role >= needed {
            Ok(())
        } else {
            Err(AuthError::Forbidden {
                role: self.user().role.as_str(),
                action: permission.describe(),
                needed: needed.as_str(),
            })
        }
    }

    /// Adds a user with their own password (admin only).
    pub fn add_user(&mut self, name: &str, role: Role, password: &str) -> Result<String> {
        self.require(Permission::ManageUsers)?;
        check_user_name(name)?;
        check_password(password)?;
        if self.user_id_by_name(name)?.is_some() {
            return Err(AuthError::UserExists(name.to_string()).into());
        }
        // The database row is the authority on who exists; a key-file entry without a row
        // (left by an interrupted attempt) is simply replaced. The key file is saved inside
        // the transaction so a failed save rolls the row back.
        let path = self.key_file_path();
        let mut keys = KeyFile::load(&path)?;
        keys.add_user(name, password, self.db_key())?;
        let id = self.write(|w| {
            let id = insert_user(w, name, role)?;
            keys.save(&path)?;
            Ok(id)
        })?;
        Ok(id)
    }

    /// Changes the logged-in user's password: re-wraps their copy of the key only.
    pub fn change_password(&mut self, old: &str, new: &str) -> Result<()> {
        check_password(new)?;
        let path = self.key_file_path();
        let mut keys = KeyFile::load(&path)?;
        let name = self.user().name.clone();
        keys.unwrap_for(&name, old)?;
        keys.add_user(&name, new, self.db_key())?;
        keys.save(&path)?;
        Ok(())
    }

    /// The users of this database.
    pub fn list_users(&self) -> Result<Vec<UserSummary>> {
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

    pub(crate) fn user_id_by_name(&self, name: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn()
            .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
            .optional()?)
    }
}
