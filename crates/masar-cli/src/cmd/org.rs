//! The organisation and its people: `init`, `enrol`, `org key`, `device`, `password`, `user`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use masar_core::{Masar, PasswordChanged, Permission, Role};
use serde_json::Value as Json;

use crate::common::{
    clock, credentials, env_or_ask, id, open, open_with_password, read_file, Failure,
};
use crate::output::json;

/// `masar init`: a new organisation's database, or one joining an organisation.
#[derive(Args)]
pub(crate) struct InitArgs {
    /// The new organisation's name.
    #[arg(long, required_unless_present = "join", conflicts_with = "join")]
    org: Option<String>,
    /// An enrolment file; its passphrase from MASAR_ENROL_PASSPHRASE or asked.
    #[arg(long)]
    join: Option<PathBuf>,
    /// This laptop's name.
    #[arg(long)]
    device: String,
}

impl InitArgs {
    /// Creates the database and answers what was made.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let InitArgs { org, join, device } = self;
        let made = match join {
            Some(file) => {
                let bytes = read_file(&file)?;
                let passphrase =
                    env_or_ask("MASAR_ENROL_PASSPHRASE", "enrolment passphrase", true)?;
                let (user, password) = credentials()?;
                Masar::join(
                    path,
                    &bytes,
                    &passphrase,
                    &device,
                    &user,
                    &password,
                    clock()?,
                )?
                .1
            }
            None => {
                let (user, password) = credentials()?;
                Masar::init(
                    path,
                    org.as_deref().unwrap_or_default(),
                    &device,
                    &user,
                    &password,
                    clock()?,
                )?
                .1
            }
        };
        Ok(json(&made))
    }
}

/// `masar enrol`: an enrolment file for a new laptop.
#[derive(Args)]
pub(crate) struct EnrolArgs {
    /// The enrolment file to write (carry it to the new laptop).
    #[arg(long)]
    out: PathBuf,
    /// Days the file is accepted (1 to 90; default 7).
    #[arg(long = "valid-days")]
    valid_days: Option<i64>,
}

impl EnrolArgs {
    /// Writes the enrolment file.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let EnrolArgs { out, valid_days } = self;
        let mut m = open(path)?;
        m.require(Permission::ManageUsers)?;
        let passphrase = env_or_ask(
            "MASAR_ENROL_PASSPHRASE",
            "passphrase for the enrolment file",
            true,
        )?;
        Ok(json(&m.enrol(&out, &passphrase, valid_days)?))
    }
}

/// `masar org`: the organisation's root key.
#[derive(Subcommand)]
pub(crate) enum OrgCmd {
    /// The organisation's root key, which certifies laptops and administrators.
    #[command(subcommand)]
    Key(OrgKeyCmd),
}

impl OrgCmd {
    /// Runs the `org` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        match self {
            OrgCmd::Key(cmd) => cmd.run(path),
        }
    }
}

/// `masar org key`: export, import or rotate the root key.
#[derive(Subcommand)]
pub(crate) enum OrgKeyCmd {
    /// Write the root key to a file under its own passphrase (MASAR_KEY_PASSPHRASE or
    /// asked), or with --sheet as a recovery sheet to print and then delete: keep it
    /// offline, so that losing the founders' laptops never loses it.
    Export {
        /// The file to write (a new file, readable by you only).
        #[arg(long)]
        out: PathBuf,
        /// A recovery sheet in plain text, to print (no passphrase: guard the paper).
        #[arg(long)]
        sheet: bool,
    },
    /// Take the root key from a key file or a typed recovery sheet into your custody
    /// on this laptop, under your password.
    Import {
        /// The key file, or the recovery sheet typed into a file.
        file: PathBuf,
    },
    /// Replace the root key with a new one, which you then hold (a founder who holds the
    /// root): what the old root signed here stays valid, anything it signs from now on is
    /// void. Export the new key at once.
    Rotate,
}

impl OrgKeyCmd {
    /// Runs the `org key` command given.
    fn run(self, path: &Path) -> Result<Json, Failure> {
        match self {
            OrgKeyCmd::Export { out, sheet } => {
                let m = open(path)?;
                if sheet {
                    Ok(json(&m.export_org_key_sheet(&out)?))
                } else {
                    let passphrase =
                        env_or_ask("MASAR_KEY_PASSPHRASE", "organisation key passphrase", true)?;
                    Ok(json(&m.export_org_key(&out, &passphrase)?))
                }
            }
            OrgKeyCmd::Import { file } => {
                let (mut m, password) = open_with_password(path)?;
                let passphrase = if masar_core::is_encrypted_org_key(&file) {
                    Some(env_or_ask(
                        "MASAR_KEY_PASSPHRASE",
                        "organisation key passphrase",
                        true,
                    )?)
                } else {
                    None
                };
                Ok(json(&m.import_org_key(
                    &file,
                    passphrase.as_deref(),
                    &password,
                )?))
            }
            OrgKeyCmd::Rotate => {
                let (mut m, password) = open_with_password(path)?;
                Ok(json(&m.rotate_org_key(&password)?))
            }
        }
    }
}

/// `masar device`: the organisation's laptops.
#[derive(Subcommand)]
pub(crate) enum DeviceCmd {
    /// The laptops this one knows.
    List,
    /// Revoke a lost or stolen laptop: nothing it signs from now on is accepted anywhere,
    /// and bundles written afterwards are sealed with a new key it does not hold.
    Revoke {
        /// The laptop's device id (`masar device list`, or the id `masar enrol` printed).
        id: String,
    },
}

impl DeviceCmd {
    /// Runs the `device` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let mut m = open(path)?;
        match self {
            DeviceCmd::List => Ok(json(&m.devices()?)),
            DeviceCmd::Revoke { id } => Ok(json(&m.revoke_device(&id)?)),
        }
    }
}

/// `masar password`: changes the password of the user who opens the database.
pub(crate) fn password(path: &Path) -> Result<Json, Failure> {
    // The password that opened the database, typed or from MASAR_PASSWORD, is the
    // old one: asking for it twice would fail whenever it was typed.
    let (mut m, old) = open_with_password(path)?;
    let new = env_or_ask("MASAR_NEW_PASSWORD", "new password", true)?;
    m.change_password(&old, &new)?;
    Ok(json(&PasswordChanged {
        user: m.user().name.clone(),
    }))
}

/// `masar user`: users and their roles.
#[derive(Subcommand)]
pub(crate) enum UserCmd {
    /// Add a user (password from MASAR_NEW_PASSWORD or asked).
    Add {
        /// Log-in name.
        name: String,
        /// admin, supervisor or counsellor.
        #[arg(long)]
        role: String,
    },
    /// List users.
    List,
    /// Give a user made on another laptop an account here (password from
    /// MASAR_NEW_PASSWORD or asked); the id is the one `user list` shows there.
    Admit {
        /// The user's id.
        id: String,
    },
    /// Change a user's role, on every laptop (by name here or by id).
    Role {
        /// Log-in name on this laptop, or the user's id.
        name: String,
        /// admin, supervisor or counsellor.
        role: String,
    },
    /// Revoke a user (by name or id): nothing they sign from now on is accepted anywhere.
    Revoke {
        /// Log-in name on this laptop, or the user's id.
        name: String,
    },
}

impl UserCmd {
    /// Runs the `user` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let mut m = open(path)?;
        match self {
            UserCmd::Add { name, role } => {
                // Checked before asking for a password nobody may use.
                m.require(Permission::ManageUsers)?;
                let role = Role::from_input(&role)?;
                let password =
                    env_or_ask("MASAR_NEW_PASSWORD", &format!("password for {name}"), true)?;
                Ok(id(m.add_user(masar_core::NewUser {
                    name,
                    role,
                    password,
                })?))
            }
            UserCmd::List => Ok(json(&m.list_users()?)),
            UserCmd::Revoke { name } => Ok(json(&m.revoke_user(&name)?)),
            UserCmd::Admit { id: user } => {
                m.require(Permission::ManageUsers)?;
                let password = env_or_ask("MASAR_NEW_PASSWORD", "password for the user", true)?;
                Ok(id(m.admit_user(&user, &password)?))
            }
            UserCmd::Role { name, role } => Ok(id(m.change_role(&name, Role::from_input(&role)?)?)),
        }
    }
}
