//! What the commands share: `Failure`, the database path, the clock, credentials, prompts.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use masar_core::{split_pair, Clock, FixedClock, Id, Masar, SystemClock};
use serde_json::Value as Json;

use crate::output::json;

/// A failure to report: the message, already phrased for the user, and the exit status
/// documented in `masar --help`.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) status: u8,
}

impl Failure {
    /// Refused input that the command line itself reads (a file, a choice).
    pub(crate) fn refused(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: 1,
        }
    }

    /// A usage error the argument parser cannot see (an environment variable).
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: 2,
        }
    }

    /// Credentials that cannot be had.
    pub(crate) fn auth(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: 3,
        }
    }
}

impl<E: Into<masar_core::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let e: masar_core::Error = e.into();
        Failure {
            message: e.to_string(),
            status: e.class().exit_status(),
        }
    }
}

/// The database file: `--db` or MASAR_DB, else the OS data directory's masar/masar.db.
pub(crate) fn db_path(cli_db: Option<PathBuf>) -> Result<PathBuf, Failure> {
    if let Some(p) = cli_db {
        return Ok(p);
    }
    dirs::data_dir()
        .map(|d| d.join("masar").join("masar.db"))
        .ok_or_else(|| {
            Failure::usage(
                "no data directory is known for this user: give the database with --db or MASAR_DB",
            )
        })
}

/// The wall clock; MASAR_CLOCK pins it (RFC 3339 or a date) for tests and diagnostics.
pub(crate) fn clock() -> Result<Arc<dyn Clock>, Failure> {
    match std::env::var("MASAR_CLOCK") {
        Ok(s) if !s.trim().is_empty() => {
            let t = s.trim();
            let at = chrono::DateTime::parse_from_rfc3339(t)
                .map(|d| d.with_timezone(&chrono::Utc))
                .or_else(|_| {
                    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                        .map(|d| d.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc())
                })
                .map_err(|_| {
                    Failure::usage(format!(
                        "MASAR_CLOCK '{t}' is not a date or an RFC 3339 time"
                    ))
                })?;
            Ok(Arc::new(FixedClock(at)))
        }
        _ => Ok(Arc::new(SystemClock)),
    }
}

/// Asks on the terminal (hidden when `secret`); without one, says which variable to set.
pub(crate) fn ask(prompt: &str, secret: bool) -> Result<String, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::auth(format!(
            "{prompt} is needed and there is no terminal to ask it: set the environment variable"
        )));
    }
    if secret {
        rpassword::prompt_password(format!("{prompt}: "))
            .map_err(|e| Failure::auth(format!("cannot read the {prompt}: {e}")))
    } else {
        eprint!("{prompt}: ");
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Failure::auth(format!("cannot read the {prompt}: {e}")))?;
        Ok(line.trim().to_string())
    }
}

/// The environment variable `var` if set and not empty, else asked.
pub(crate) fn env_or_ask(var: &str, prompt: &str, secret: bool) -> Result<String, Failure> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => ask(&format!("{prompt} (or set {var})"), secret),
    }
}

/// The user name and password: MASAR_USER and MASAR_PASSWORD, else asked.
pub(crate) fn credentials() -> Result<(String, String), Failure> {
    Ok((
        env_or_ask("MASAR_USER", "user name", false)?,
        env_or_ask("MASAR_PASSWORD", "password", true)?,
    ))
}

/// Opens the database as the user the credentials name.
pub(crate) fn open(path: &Path) -> Result<Masar, Failure> {
    Ok(open_with_password(path)?.0)
}

/// Opens the database and keeps the password that opened it (a password change needs it).
pub(crate) fn open_with_password(path: &Path) -> Result<(Masar, String), Failure> {
    let (user, password) = credentials()?;
    let m = Masar::open(path, &user, &password, clock()?)?;
    Ok((m, password))
}

/// KEY=VALUE arguments as pairs.
pub(crate) fn pairs(items: &[String]) -> Result<Vec<(String, String)>, Failure> {
    Ok(items
        .iter()
        .map(|s| split_pair(s))
        .collect::<Result<_, _>>()?)
}

/// The options given, as KEY=VALUE pairs named by their field.
pub(crate) fn flag_pairs(flags: &[(&str, &Option<String>)]) -> Vec<(String, String)> {
    flags
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| ((*k).to_string(), v.clone())))
        .collect()
}

/// The answer that names one record: its id.
pub(crate) fn id(id: String) -> Json {
    json(&Id::from(id))
}

/// A file the command line reads itself, refused with its path when it cannot be.
pub(crate) fn read_file(file: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(file).map_err(|e| {
        Failure::refused(format!(
            "{}: cannot be read ({e}): check the path",
            file.display()
        ))
    })
}

/// Asks a yes-or-no question on a terminal; without one, the answer is yes.
pub(crate) fn confirm(question: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    let answer = ask(&format!("{question} [y/N]"), false)?;
    Ok(matches!(
        answer.to_lowercase().as_str(),
        "y" | "yes" | "o" | "oui"
    ))
}
