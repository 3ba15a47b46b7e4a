//! Business plans: their budget lines and exact totals, open to change until the
//! committee examines them.

use rust_decimal::Decimal;
use serde::Serialize;
use ts_rs::TS;

use super::inputs::NewBudgetLine;
use super::parse_pairs;
use super::records::{BudgetLine, Project, Record};
use crate::auth::Permission;
use crate::changes::Db;
use crate::error::{parse_amount, required_text, InputError};
use crate::schema::{Entity, Value};
use crate::Result;

/// A budget line with its exact total.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct BudgetLineView {
    /// The line.
    #[serde(flatten)]
    pub line: BudgetLine,
    /// Quantity × unit cost.
    #[ts(type = "string")]
    pub total: Decimal,
}

/// A business plan's budget with exact totals.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct BudgetSummary {
    /// The active budget lines.
    pub lines: Vec<BudgetLineView>,
    /// Sum of quantity × unit cost over the lines.
    #[ts(type = "string")]
    pub total: Decimal,
    /// The members' own contribution.
    #[ts(type = "string")]
    pub own_contribution: Decimal,
    /// Total minus own contribution, never below zero.
    #[ts(type = "string")]
    pub to_finance: Decimal,
    /// The currency of the plan, when set.
    pub currency: Option<String>,
}

impl Db {
    /// Adds a line to a project's business plan budget.
    pub(crate) fn add_budget_line(&mut self, new: &NewBudgetLine) -> Result<String> {
        self.require(Permission::RecordWork)?;
        let project = new.project.as_str();
        let p = Project::existing(self.conn(), project)?;
        let item = required_text("item", &new.item, "name what is bought")?;
        let quantity = parse_amount("quantity", &new.quantity, false)?;
        let unit_cost = parse_amount("unit_cost", &new.unit_cost, false)?;
        self.plan_open(&p)?;
        self.write(|w| {
            w.create(
                Entity::BudgetLine,
                &[
                    ("project_id", Value::text(project)),
                    ("item", Value::text(item)),
                    ("quantity", Value::text(quantity.to_string())),
                    ("unit_cost", Value::text(unit_cost.to_string())),
                    ("active", Value::Bool(true)),
                ],
            )
        })
    }

    /// Corrects a line of a business plan that is still open (item, quantity, unit_cost).
    pub(crate) fn set_budget_line(&mut self, line: &str, pairs: &[(String, String)]) -> Result<()> {
        self.require(Permission::RecordWork)?;
        let l = BudgetLine::existing(self.conn(), line)?;
        self.plan_open(&Project::existing(
            self.conn(),
            l.project_id.as_deref().unwrap_or(""),
        )?)?;
        let fields = parse_pairs(Entity::BudgetLine, pairs)?;
        for (name, value) in &fields {
            if *value == Value::Null {
                return Err(InputError::Missing {
                    field: (*name).into(),
                    hint: "this field cannot be emptied".into(),
                }
                .into());
            }
        }
        self.write(|w| w.update(Entity::BudgetLine, line, &fields).map(|_| ()))
    }

    /// Removes a line from a business plan that is still open (kept in the history).
    pub(crate) fn remove_budget_line(&mut self, line: &str) -> Result<()> {
        self.require(Permission::RecordWork)?;
        let l = BudgetLine::existing(self.conn(), line)?;
        self.plan_open(&Project::existing(
            self.conn(),
            l.project_id.as_deref().unwrap_or(""),
        )?)?;
        if !l.active {
            return Err(InputError::rule(
                "line_removed",
                "this budget line was already removed",
                &[],
            )
            .into());
        }
        self.write(|w| {
            w.update_kept(Entity::BudgetLine, line, &[("active", Value::Bool(false))])
                .map(|_| ())
        })
    }

    /// A project's budget lines and exact totals.
    pub(crate) fn budget(&self, project: &str) -> Result<BudgetSummary> {
        let p = Project::existing(self.conn(), project)?;
        let lines = BudgetLine::select(
            self.conn(),
            "WHERE t.project_id = ?1 AND t.active = 1 ORDER BY t.id",
            [project],
        )?;
        let mut total = Decimal::ZERO;
        let mut views = Vec::with_capacity(lines.len());
        for line in lines {
            let line_total = line.quantity.unwrap_or_default() * line.unit_cost.unwrap_or_default();
            total += line_total;
            views.push(BudgetLineView {
                line,
                total: line_total,
            });
        }
        let own = p.own_contribution.unwrap_or_default();
        Ok(BudgetSummary {
            lines: views,
            total,
            own_contribution: own,
            to_finance: (total - own).max(Decimal::ZERO),
            currency: p.currency,
        })
    }
}
