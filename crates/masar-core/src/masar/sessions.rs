//! Awareness and training sessions and their attendance.

use super::*;

impl Masar {
    /// Creates a session with its attendance list.
    pub fn add_session(&mut self, new: NewSession) -> Result<String> {
        self.db.add_session(
            &new.kind,
            &new.date,
            &new.topic,
            new.place.as_deref(),
            &new.attendees,
        )
    }

    /// Marks a person present at a session.
    pub fn attend(&mut self, session: &str, person: &str) -> Result<()> {
        self.db.attend(session, person)
    }

    /// Removes a person from a session's attendance (kept in history).
    pub fn unattend(&mut self, session: &str, person: &str) -> Result<()> {
        self.db.unattend(session, person)
    }

    /// Marks several persons present and others absent at once (a roster); returns how
    /// many marks changed. An unknown person refuses the whole roster.
    pub fn set_roster(&mut self, roster: Roster) -> Result<usize> {
        self.db
            .set_roster(&roster.session, &roster.present, &roster.absent)
    }

    /// The ids of the persons present at a session.
    pub fn attendees(&self, session: &str) -> Result<Vec<String>> {
        self.db.attendees(session)
    }

    /// Sessions, latest first, with how many attended.
    pub fn sessions_view(&self) -> Result<Vec<SessionTile>> {
        self.db.sessions_view()
    }

    /// One session with the persons present.
    pub fn session_view(&self, id: &str) -> Result<SessionView> {
        self.db.session_view(id)
    }
}
