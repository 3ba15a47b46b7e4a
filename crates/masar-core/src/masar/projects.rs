//! Projects: plans, stages, the committee, tranches and visits.

use super::*;

impl Masar {
    /// Creates a project in stage `draft` on `date` (default today) with its members.
    pub fn add_project(&mut self, new: NewProject) -> Result<String> {
        self.db.add_project(&new)
    }

    /// One project.
    pub fn project(&self, id: &str) -> Result<Project> {
        self.db.project(id)
    }

    /// Changes settable fields of a project.
    pub fn set_project(&mut self, id: &str, pairs: &[(String, String)]) -> Result<()> {
        self.db.set_project(id, pairs)
    }

    /// Moves a project to another stage, if that stage may follow the current one.
    pub fn set_stage(&mut self, change: StageChange) -> Result<()> {
        self.db.set_stage(&change)
    }

    /// Records the committee's decision: `approved` (with the amount and its currency, the
    /// programme's else the plan's by default), `rejected`, or `deferred`.
    pub fn decide(&mut self, decision: CommitteeDecision) -> Result<()> {
        self.db.decide(&decision)
    }

    /// Adds a line to a project's business plan budget.
    pub fn add_budget_line(&mut self, new: NewBudgetLine) -> Result<String> {
        self.db.add_budget_line(&new)
    }

    /// A project's budget lines and exact totals.
    pub fn budget(&self, project: &str) -> Result<BudgetSummary> {
        self.db.budget(project)
    }

    /// Records a tranche paid to an approved project; the first one makes it `funded`. A
    /// tranche above the amount the committee approved needs a supervisor and the reason
    /// (`above_approved_because`), which the tranche and its history keep.
    pub fn add_disbursement(&mut self, tranche: NewTranche) -> Result<String> {
        self.db.add_disbursement(&tranche)
    }

    /// Takes back the last change of a project's stage while nothing depends on it;
    /// returns the stage the project is back at.
    pub fn undo_stage(&mut self, id: &str) -> Result<Stage> {
        self.db.undo_stage(id)
    }

    /// Corrects a line of a business plan that is still open.
    pub fn set_budget_line(&mut self, line: &str, pairs: &[(String, String)]) -> Result<()> {
        self.db.set_budget_line(line, pairs)
    }

    /// Removes a line from a business plan that is still open.
    pub fn remove_budget_line(&mut self, line: &str) -> Result<()> {
        self.db.remove_budget_line(line)
    }

    /// Records a follow-up visit to a funded project.
    pub fn add_followup(&mut self, visit: NewFollowUp) -> Result<String> {
        self.db.add_followup(&visit)
    }

    /// Funded or active projects whose next visit was due before `day` with no visit
    /// since, most overdue first.
    pub fn overdue_followups(&self, day: NaiveDate) -> Result<Vec<(String, String)>> {
        self.db.overdue_followups(day)
    }

    /// Projects with their members' names, for the board.
    pub fn projects_view(&self) -> Result<Vec<ProjectTile>> {
        self.db.projects_view()
    }

    /// One project with members, plan, stages, tranches, visits and what may be done next.
    pub fn project_view(&self, id: &str) -> Result<ProjectView> {
        self.db.project_view(id)
    }

    /// A page of the projects table, with what was paid and the next visit of each.
    pub fn projects_page(&self, q: &ProjectQuery) -> Result<ProjectsPage> {
        self.db.projects_page(q)
    }
}
