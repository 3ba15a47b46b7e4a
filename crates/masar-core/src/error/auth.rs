//! Log-in, key and permission failures.

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
    /// A password (or enrolment passphrase) that is too short.
    #[error("the {} is too short: use at least {min} characters", what.as_str())]
    WeakPassword {
        /// Which secret it is.
        what: Secret,
        /// The shortest length accepted.
        min: usize,
    },
    /// A password (or enrolment passphrase) long enough but easy to guess (common, a
    /// word, a pattern).
    #[error("the {} is too easy to guess{hint}: use a phrase of several words that others would not guess, at least {min} characters", what.as_str())]
    GuessablePassword {
        /// Which secret it is.
        what: Secret,
        /// The shortest length accepted.
        min: usize,
        /// What makes it guessable, as ": …", or nothing.
        hint: String,
    },
    /// A user name that is empty or has spaces at its ends.
    #[error("'{0}' is not a usable user name: use letters, digits, '.', '-' or '_'")]
    BadUserName(String),
    /// The name is taken.
    #[error("a user named '{0}' already exists: choose another name")]
    UserExists(String),
    /// No such user.
    #[error("no user named '{0}': check the name with `masar user list`")]
    UnknownUser(String),
    /// The account holds no certified signing key on this laptop, so its changes could not
    /// be checked anywhere.
    #[error("the account '{0}' has no signing key on this laptop (its database was made by an earlier version, and its administrator's key was put away before this account logged in): ask an administrator to make you a new account")]
    Unsigned(String),
    /// The account or this laptop was revoked by an administrator.
    #[error("{0} was revoked by an administrator: nothing more can be written with it")]
    Revoked(String),
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
            AuthError::WeakPassword { .. } | AuthError::GuessablePassword { .. } => {
                "auth.weak_password"
            }
            AuthError::BadUserName(_) => "auth.bad_user_name",
            AuthError::UserExists(_) => "auth.user_exists",
            AuthError::UnknownUser(_) => "auth.unknown_user",
            AuthError::KeyFile { .. } => "auth.key_file",
            AuthError::Unsigned(_) => "auth.unsigned",
            AuthError::Revoked(_) => "auth.revoked",
        }
    }
}

/// What a secret checked by the strength policy opens, as a refusal names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// A user's password, which opens their key-file entry.
    Password,
    /// An enrolment file's passphrase, which opens the organisation's keys it carries.
    EnrolmentPassphrase,
    /// The passphrase of the organisation's root key written to a file.
    OrgKeyPassphrase,
}

impl Secret {
    /// The secret's name in a refusal.
    pub fn as_str(self) -> &'static str {
        match self {
            Secret::Password => "password",
            Secret::EnrolmentPassphrase => "enrolment passphrase",
            Secret::OrgKeyPassphrase => "organisation key passphrase",
        }
    }
}
