//! Business plans: their budget lines and exact totals, open to change until the
//! committee examines them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::parse_pairs;
use super::records::{BudgetLine, Project, Record};
use crate::auth::Permission;
use crate::changes::Db;
use crate::error::{parse_amount, required_text, InputError};
use crate::schema::{Entity, Value};
use crate::Result;

/// A line of a business plan's budget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewBudgetLine {
    /// The project's id.
    pub project: String,
    /// What is bought.
    pub item: String,
    /// How many.
    pub quantity: String,
    /// At what price each.
    pub unit_cost: String,
}

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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::testing::{person, temp_db};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// A budget's total is exactly Σ quantity × unit cost, computed here in integers.
        #[test]
        fn a_budget_total_is_exact(lines in prop::collection::vec((1u32..1000, 0u32..100, 0u64..10_000_000, 0u32..4), 1..8)) {
            let (_d, mut m) = temp_db();
            let a = person(&mut m, "A", "female", "1990-01-01");
            let p = m.add_project(crate::domain::NewProject { title: "P".into(), kind: "creation".into(), sector: "food".into(), members: vec![a], date: None }).expect("project");
            // quantity = q / 10^qs, cost = c / 100; the exact total in units of 10^-(qs+2).
            let mut expected = rust_decimal::Decimal::ZERO;
            for (q, qs, c, _) in &lines {
                let quantity = rust_decimal::Decimal::new(i64::from(*q), qs % 3);
                let cost = rust_decimal::Decimal::new(*c as i64, 2);
                m.add_budget_line(crate::domain::NewBudgetLine { project: p.to_string(), item: "item".into(), quantity: quantity.to_string().to_string(), unit_cost: cost.to_string().to_string() }).expect("line");
                expected += quantity * cost;
            }
            let b = m.budget(&p).expect("budget");
            prop_assert_eq!(b.total, expected);
            let cents_total: i128 = lines.iter().map(|(q, qs, c, _)| {
                let scale = 10i128.pow(2 - (qs % 3));
                i128::from(*q) * scale * i128::from(*c)
            }).sum();
            // Both sides in units of 10^-4.
            prop_assert_eq!((b.total * rust_decimal::Decimal::new(10_000, 0)).trunc().to_string(), cents_total.to_string());
        }
    }
}
