//! Projects and their money and visits: `project`, `disbursement`, `followup`.

use std::path::Path;

use clap::Subcommand;
use serde_json::Value as Json;

use crate::common::{flag_pairs, id, open, pairs, Failure};
use crate::output::json;

/// `masar project`: plan, stages, committee.
#[derive(Subcommand)]
pub(crate) enum ProjectCmd {
    /// Create a project (stage draft).
    Add {
        /// A short title ("Tailoring workshop").
        #[arg(long)]
        title: String,
        /// creation, reinforcement or cooperative.
        #[arg(long)]
        kind: String,
        /// The sector, from the organisation's list.
        #[arg(long)]
        sector: String,
        /// A member (repeatable).
        #[arg(long)]
        member: Vec<String>,
        /// The day the project was opened (default today).
        #[arg(long)]
        date: Option<String>,
    },
    /// Move to a stage: draft, plan_ready, in_committee, approved, rejected, funded, active, closed.
    Stage {
        /// The project's id.
        id: String,
        /// plan_ready, in_committee, funded, active or closed (the committee decides approved or rejected).
        stage: String,
        /// The day it reached that stage (YYYY-MM-DD).
        #[arg(long)]
        date: String,
    },
    /// Record the committee's decision: approved, rejected or deferred.
    Decide {
        /// The project's id.
        id: String,
        /// approved, rejected or deferred.
        decision: String,
        /// The day the committee met (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// The approved amount (required to approve).
        #[arg(long, allow_negative_numbers = true)]
        amount: Option<String>,
        /// The currency of the approved amount (ISO 4217; the plan's by default):
        /// tranches count only in this currency.
        #[arg(long)]
        currency: Option<String>,
        /// The committee's remarks (a reason is required to reject).
        #[arg(long)]
        remarks: Option<String>,
    },
    /// Change fields: KEY=VALUE … (e.g. registered_on=2024-05-01).
    Set {
        /// The project's id.
        id: String,
        /// Fields to change, KEY=VALUE (an empty VALUE clears it).
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Show a project.
    Get {
        /// The record's id.
        id: String,
    },
    /// Add a business-plan budget line.
    BudgetAdd {
        /// The project's id.
        id: String,
        /// What is bought ("Sewing machine").
        #[arg(long)]
        item: String,
        /// How many (a whole number).
        #[arg(long, allow_negative_numbers = true)]
        quantity: String,
        /// The cost of one, in the project's currency ("900" or "900.50").
        #[arg(long = "unit-cost", allow_negative_numbers = true)]
        unit_cost: String,
    },
    /// The business-plan budget with exact totals.
    Budget {
        /// The project's id.
        id: String,
    },
    /// Correct a budget line while the plan is open: item=, quantity=, unit_cost=.
    BudgetSet {
        /// The line's id.
        line: String,
        /// KEY=VALUE pairs.
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    /// Remove a budget line while the plan is open (kept in the history).
    BudgetRemove {
        /// The line's id.
        line: String,
    },
    /// Take back the last change of stage, while no tranche or visit depends on it.
    UndoStage {
        /// The project's id.
        id: String,
    },
}

impl ProjectCmd {
    /// Runs the `project` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let mut m = open(path)?;
        match self {
            ProjectCmd::Add {
                title,
                kind,
                sector,
                member,
                date,
            } => Ok(id(m.add_project(masar_core::NewProject {
                title,
                kind,
                sector,
                members: member,
                date,
            })?)),
            ProjectCmd::Stage {
                id: pid,
                stage,
                date,
            } => {
                m.set_stage(masar_core::StageChange {
                    project: pid.clone(),
                    stage: masar_core::Stage::parse("stage", &stage)?,
                    date,
                })?;
                Ok(id(pid))
            }
            ProjectCmd::Decide {
                id: pid,
                decision,
                date,
                amount,
                currency,
                remarks,
            } => {
                m.decide(masar_core::CommitteeDecision {
                    project: pid.clone(),
                    decision: masar_core::Decision::parse(&decision)?,
                    date,
                    amount,
                    currency,
                    remarks,
                })?;
                Ok(id(pid))
            }
            ProjectCmd::Set { id: pid, pairs: kv } => {
                m.set_project(&pid, &pairs(&kv)?)?;
                Ok(id(pid))
            }
            ProjectCmd::Get { id } => Ok(json(&m.project(&id)?)),
            ProjectCmd::BudgetAdd {
                id: pid,
                item,
                quantity,
                unit_cost,
            } => Ok(id(m.add_budget_line(masar_core::NewBudgetLine {
                project: pid,
                item,
                quantity,
                unit_cost,
            })?)),
            ProjectCmd::Budget { id } => Ok(json(&m.budget(&id)?)),
            ProjectCmd::BudgetSet { line, pairs: kv } => {
                m.set_budget_line(&line, &pairs(&kv)?)?;
                Ok(id(line))
            }
            ProjectCmd::BudgetRemove { line } => {
                m.remove_budget_line(&line)?;
                Ok(id(line))
            }
            ProjectCmd::UndoStage { id: pid } => {
                let stage = m.undo_stage(&pid)?;
                Ok(json(&masar_core::StageUndone { id: pid, stage }))
            }
        }
    }
}

/// `masar disbursement`: tranches paid to projects.
#[derive(Subcommand)]
pub(crate) enum DisbursementCmd {
    /// Record a tranche paid to an approved project.
    Add {
        /// The project's id.
        project: String,
        /// The day it was paid (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// The amount paid ("1500" or "1500.25"; never above what the committee approved without a supervisor's reason).
        #[arg(long, allow_negative_numbers = true)]
        amount: String,
        /// The currency's code, from the organisation's list (MAD, EUR…).
        #[arg(long)]
        currency: String,
        /// Whose funds paid it, from the donors' list.
        #[arg(long)]
        donor: String,
        /// cash, in_kind or transfer (default cash).
        #[arg(long)]
        mode: Option<String>,
        /// The receipt's number.
        #[arg(long)]
        receipt: Option<String>,
        /// Pay above the amount the committee approved, saying why (supervisors).
        #[arg(long = "above-approved-because")]
        above_approved_because: Option<String>,
    },
}

impl DisbursementCmd {
    /// Runs the `disbursement` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        match self {
            DisbursementCmd::Add {
                project,
                date,
                amount,
                currency,
                donor,
                mode,
                receipt,
                above_approved_because,
            } => {
                let mut m = open(path)?;
                Ok(id(m.add_disbursement(masar_core::NewTranche {
                    project,
                    date,
                    amount,
                    currency,
                    donor,
                    mode,
                    receipt,
                    above_approved_because,
                })?))
            }
        }
    }
}

/// `masar followup`: follow-up visits.
#[derive(Subcommand)]
pub(crate) enum FollowUpCmd {
    /// Record a visit.
    Add {
        /// The project's id.
        project: String,
        /// The day of the visit (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// active, struggling, suspended or closed.
        #[arg(long)]
        status: String,
        /// Monthly revenue found, in the project's currency.
        #[arg(long, allow_negative_numbers = true)]
        revenue: Option<String>,
        /// Monthly profit found (may be negative).
        #[arg(long, allow_negative_numbers = true)]
        profit: Option<String>,
        /// People working in the enterprise.
        #[arg(long, allow_negative_numbers = true)]
        jobs: Option<String>,
        /// When the next visit is due (YYYY-MM-DD).
        #[arg(long = "next-due")]
        next_due: Option<String>,
        /// What the visit found (free text).
        #[arg(long)]
        notes: Option<String>,
    },
    /// Projects whose next visit is overdue (on a day, default today).
    Overdue {
        /// The day to count from (YYYY-MM-DD); today by default.
        #[arg(long)]
        on: Option<String>,
    },
}

impl FollowUpCmd {
    /// Runs the `followup` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let mut m = open(path)?;
        match self {
            FollowUpCmd::Add {
                project,
                date,
                status,
                revenue,
                profit,
                jobs,
                next_due,
                notes,
            } => {
                let fields = flag_pairs(&[
                    ("date", &Some(date)),
                    ("status", &Some(status)),
                    ("revenue", &revenue),
                    ("profit", &profit),
                    ("jobs", &jobs),
                    ("next_due", &next_due),
                    ("notes", &notes),
                ]);
                Ok(id(m.add_followup(masar_core::NewFollowUp {
                    project,
                    fields: masar_core::Fields(fields),
                })?))
            }
            FollowUpCmd::Overdue { on } => {
                let day = match on {
                    Some(d) => masar_core::parse_date("on", &d)?,
                    None => m.clock().today(),
                };
                Ok(json(&m.overdue_visits(day)?))
            }
        }
    }
}
