//! Awareness and training sessions and their attendance: `session`.

use std::path::Path;

use clap::Subcommand;
use serde_json::Value as Json;

use crate::common::{id, open, Failure};
use crate::output::json;

/// `masar session`: sessions and who attended them.
#[derive(Subcommand)]
pub(crate) enum SessionCmd {
    /// Create a session with its attendance.
    Add {
        /// awareness or training.
        #[arg(long)]
        kind: String,
        /// The day of the session (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// What the session was about.
        #[arg(long)]
        topic: String,
        /// Where it took place.
        #[arg(long)]
        place: Option<String>,
        /// A person present (repeatable).
        #[arg(long)]
        attendee: Vec<String>,
    },
    /// Mark a person present.
    Attend {
        /// The session's id.
        session: String,
        /// The person's id.
        person: String,
    },
    /// Remove a person from the attendance.
    Unattend {
        /// The session's id.
        session: String,
        /// The person's id.
        person: String,
    },
    /// The persons present.
    /// Mark many persons present (and others absent) at once.
    Roster {
        /// The session's id.
        session: String,
        /// A person present (repeatable).
        #[arg(long)]
        present: Vec<String>,
        /// A person absent (repeatable).
        #[arg(long)]
        absent: Vec<String>,
    },
    /// Who attended a session.
    Attendees {
        /// The session's id.
        session: String,
    },
}

impl SessionCmd {
    /// Runs the `session` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let mut m = open(path)?;
        match self {
            SessionCmd::Add {
                kind,
                date,
                topic,
                place,
                attendee,
            } => Ok(id(m.add_session(masar_core::NewSession {
                kind,
                date,
                topic,
                place,
                attendees: attendee,
            })?)),
            SessionCmd::Attend { session, person } => {
                m.attend(&session, &person)?;
                Ok(id(session))
            }
            SessionCmd::Unattend { session, person } => {
                m.unattend(&session, &person)?;
                Ok(id(session))
            }
            SessionCmd::Roster {
                session,
                present,
                absent,
            } => {
                m.set_roster(masar_core::Roster {
                    session: session.clone(),
                    present,
                    absent,
                })?;
                Ok(id(session))
            }
            SessionCmd::Attendees { session } => Ok(json(&m.attendees(&session)?)),
        }
    }
}
