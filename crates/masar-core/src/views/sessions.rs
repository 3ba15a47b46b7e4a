//! The sessions: the list with how many attended, and one session with who was present.

use super::*;

/// A session in the list, with how many attended.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SessionTile {
    /// The session.
    #[serde(flatten)]
    pub session: Session,
    /// Persons present.
    pub attendees: i64,
}

/// One session with the persons present.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SessionView {
    /// The session.
    pub session: Session,
    /// The persons present.
    pub attendees: Vec<Person>,
}

impl Db {
    /// Sessions, latest first, with how many attended.
    pub(crate) fn sessions_view(&self) -> Result<Vec<SessionTile>> {
        let sessions = Session::select(self.conn(), "ORDER BY t.date DESC, t.id", [])?;
        let mut stmt = self.conn().prepare_cached(
            "SELECT count(*) FROM attendance WHERE session_id = ?1 AND present = 1",
        )?;
        let mut out = Vec::with_capacity(sessions.len());
        for session in sessions {
            let attendees: i64 = stmt.query_row([&session.id], |r| r.get(0))?;
            out.push(SessionTile { session, attendees });
        }
        Ok(out)
    }

    /// One session with the persons present.
    pub(crate) fn session_view(&self, id: &str) -> Result<SessionView> {
        let session = Session::existing(self.conn(), id)?;
        let attendees = Person::select(
            self.conn(),
            "JOIN attendance a ON a.person_id = t.id WHERE a.session_id = ?1 AND a.present = 1 ORDER BY t.id",
            [id],
        )?;
        Ok(SessionView { session, attendees })
    }
}
