//! The projects: the board, the table with what was paid and the next visit, and one
//! project with what may be done next.

use super::*;

/// A project on the board, with its members' names.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ProjectTile {
    /// The project.
    #[serde(flatten)]
    pub project: Project,
    /// Its members' names.
    pub member_names: Vec<String>,
}

/// The orders of the projects table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ProjectSort {
    /// Title.
    #[default]
    #[serde(alias = "")]
    Title,
    /// Stage, in journey order.
    Stage,
    /// What was paid.
    Paid,
    /// The next visit due.
    NextDue,
    /// Order of opening.
    Opened,
}

/// How the projects table is asked for: filters, order, page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ProjectQuery {
    /// A fragment of the title.
    pub search: Option<String>,
    /// Only the projects this user opened.
    pub mine: bool,
    /// Only the projects at this stage.
    pub stage: Option<String>,
    /// Only the projects whose follow-up visit is overdue today.
    pub overdue: bool,
    /// The column the table is ordered by.
    pub sort: ProjectSort,
    /// Largest first.
    pub descending: bool,
    /// Rows skipped.
    pub offset: u32,
    /// Rows wanted (at most 200).
    pub limit: u32,
}

/// A project as a row of the table.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ProjectRow {
    /// The project.
    #[serde(flatten)]
    pub project: Project,
    /// Its members' names.
    pub member_names: Vec<String>,
    /// What was paid, per currency.
    pub paid: Vec<Money>,
    /// When the next visit is due, by the latest visit.
    pub next_due: Option<NaiveDate>,
    /// Whether that visit is overdue today.
    pub overdue: bool,
}

/// A page of the projects table.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ProjectsPage {
    /// Projects matching the filters, in all.
    pub total: u64,
    /// Rows skipped.
    pub offset: u32,
    /// This page's projects.
    pub rows: Vec<ProjectRow>,
}

/// One project with members, plan, stages, tranches, visits, and what may be done next.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ProjectView {
    /// The project.
    pub project: Project,
    /// Its members.
    pub members: Vec<Person>,
    /// Its business plan.
    pub budget: BudgetSummary,
    /// Its stages, oldest first.
    pub stages: Vec<StageEvent>,
    /// Tranches paid, oldest first.
    pub disbursements: Vec<Disbursement>,
    /// What was paid in all, per currency.
    pub paid: Vec<Money>,
    /// What may still be paid of the approved amount, in its currency (none before
    /// approval, or when approved without an amount).
    pub remaining: Option<Money>,
    /// Follow-up visits, oldest first.
    pub followups: Vec<FollowUp>,
    /// What the rules allow now, for this user.
    pub rules: ProjectRules,
    /// Its tranches that do not count (`crate::money`), with why: shown beside them, so
    /// that what was paid and what remains of the approval add up.
    pub held: Vec<crate::money::Held>,
    /// The currency the committee's approval is in unless another is chosen: the
    /// programme's, else the plan's.
    pub decision_currency: Option<String>,
}

impl Db {
    /// Projects with their members' names, for the board.
    pub(crate) fn projects_view(&self) -> Result<Vec<ProjectTile>> {
        let projects = Project::select(self.conn(), "ORDER BY t.stage_date DESC, t.id", [])?;
        let mut out = Vec::with_capacity(projects.len());
        for project in projects {
            let member_names = self
                .members(&project.id)?
                .iter()
                .map(Person::display_name)
                .collect();
            out.push(ProjectTile {
                project,
                member_names,
            });
        }
        Ok(out)
    }

    /// One project with members, plan, stages, tranches, visits and what may be done next.
    pub(crate) fn project_view(&self, id: &str) -> Result<ProjectView> {
        let project = Project::existing(self.conn(), id)?;
        let rules = self.project_rules(&project)?;
        let decision_currency = self.decision_currency(&project)?;
        let (remaining, held) = self.remaining(&project)?;
        Ok(ProjectView {
            held,
            decision_currency,
            members: self.members(id)?,
            budget: self.budget(id)?,
            stages: StageEvent::select(
                self.conn(),
                "WHERE t.project_id = ?1 AND coalesce(t.undone, 0) = 0 ORDER BY t.date, t.id",
                [id],
            )?,
            disbursements: Disbursement::select(
                self.conn(),
                "WHERE t.project_id = ?1 ORDER BY t.date, t.id",
                [id],
            )?,
            paid: self
                .paid(id)?
                .into_iter()
                .map(|(currency, amount)| Money { currency, amount })
                .collect(),
            remaining: remaining.map(|(currency, amount)| Money { currency, amount }),
            followups: FollowUp::select(
                self.conn(),
                "WHERE t.project_id = ?1 ORDER BY t.date, t.id",
                [id],
            )?,
            rules,
            project,
        })
    }

    /// A page of the projects table, with what was paid and the next visit of each.
    pub(crate) fn projects_page(&self, q: &ProjectQuery) -> Result<ProjectsPage> {
        let today = self.clock().today();
        let own = Sight::own(self.user()).condition("t");
        let mut conditions: Vec<&str> = Vec::new();
        let mut args: Vec<String> = Vec::new();
        if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            conditions.push("t.title LIKE ? ESCAPE '\\'");
            args.push(format!(
                "%{}%",
                s.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            ));
        }
        if let Some((condition, arg)) = own.as_ref().filter(|_| q.mine) {
            conditions.push(condition);
            args.push(arg.clone());
        }
        if let Some(s) = q.stage.as_deref().filter(|s| !s.is_empty()) {
            conditions.push("t.stage = ?");
            args.push(s.to_string());
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let projects = Project::select(
            self.conn(),
            &format!("{filter} ORDER BY t.id"),
            rusqlite::params_from_iter(args.iter()),
        )?;
        let overdue: std::collections::HashSet<String> = self
            .overdue_followups(today)?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let mut rows = Vec::with_capacity(projects.len());
        let mut next_stmt = self
            .conn()
            .prepare_cached("SELECT next_due FROM followups WHERE project_id = ?1 ORDER BY date DESC, id DESC LIMIT 1")?;
        for project in projects {
            let is_overdue = overdue.contains(&project.id);
            if q.overdue && !is_overdue {
                continue;
            }
            let next: Option<String> = next_stmt
                .query_row([&project.id], |r| r.get(0))
                .optional()?
                .flatten();
            rows.push(ProjectRow {
                member_names: self
                    .members(&project.id)?
                    .iter()
                    .map(Person::display_name)
                    .collect(),
                paid: self
                    .paid(&project.id)?
                    .into_iter()
                    .map(|(currency, amount)| Money { currency, amount })
                    .collect(),
                next_due: date(next)?,
                overdue: is_overdue,
                project,
            });
        }
        let stage_rank = |r: &ProjectRow| {
            schema::STAGES
                .iter()
                .position(|s| Some(*s) == r.project.stage.as_deref())
                .unwrap_or(usize::MAX)
        };
        let paid = |r: &ProjectRow| r.paid.iter().map(|m| m.amount).sum::<Decimal>();
        match q.sort {
            ProjectSort::Title => rows.sort_by_key(|r| r.project.title.clone()),
            ProjectSort::Stage => rows.sort_by_key(stage_rank),
            ProjectSort::Paid => rows.sort_by_key(paid),
            ProjectSort::NextDue => rows.sort_by_key(|r| r.next_due),
            ProjectSort::Opened => rows.sort_by(|a, b| a.project.id.cmp(&b.project.id)),
        }
        if q.descending {
            rows.reverse();
        }
        let total = rows.len() as u64;
        let limit = q.limit.clamp(1, 200) as usize;
        let rows = rows
            .into_iter()
            .skip(q.offset as usize)
            .take(limit)
            .collect();
        Ok(ProjectsPage {
            total,
            offset: q.offset,
            rows,
        })
    }

    /// A project's active members.
    pub(super) fn members(&self, project: &str) -> Result<Vec<Person>> {
        Person::select(
            self.conn(),
            "JOIN members m ON m.person_id = t.id WHERE m.project_id = ?1 AND m.active = 1 ORDER BY t.id",
            [project],
        )
    }
}
