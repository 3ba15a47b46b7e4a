//! The home page: what this user owes today, their caseload, the latest events.

use super::*;

impl Masar {
    /// The persons this user follows (their own caseload), most recent first.
    pub fn caseload(&self, limit: usize) -> Result<Vec<Person>> {
        self.db.caseload(limit)
    }

    /// Overdue visits on `day`, with each project's title and stage.
    pub fn overdue_visits(&self, day: NaiveDate) -> Result<Vec<OverdueVisit>> {
        self.db.overdue_visits(day)
    }

    /// The visits this user owes on `day`: overdue follow-ups of the projects they opened.
    pub fn my_visits_due(&self, day: NaiveDate) -> Result<Vec<VisitDue>> {
        self.db.my_visits_due(day)
    }

    /// The latest events on this laptop, newest first, as things that happened rather
    /// than fields written.
    pub fn recent_events(&self, limit: usize) -> Result<Vec<RecentEvent>> {
        self.db.recent_events(limit)
    }

    /// What the counsellor sees first: the visits they owe, today's and coming sessions,
    /// their persons with their true count, the latest events and the last exchange.
    pub fn home(&self) -> Result<Home> {
        self.db.home()
    }
}
