//! Money paid and visits made: tranches to approved projects (refused unless `money`
//! would count them, or a supervisor says why they go above the approval) and follow-up
//! visits to funded ones.

use rust_decimal::Decimal;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::parse_pairs;
use super::projects::{record_stage, required_date, stage_of, Remaining};
use super::records::{Project, Record};
use super::Fields;
use crate::auth::Permission;
use crate::changes::Db;
use crate::error::{parse_amount, InputError, Problem};
use crate::money::{self, HeldReason};
use crate::schema::{stored_amount, Entity, FieldKind, Value};
use crate::stage::Stage;
use crate::Result;

/// A tranche paid to an approved project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewTranche {
    /// The project's id.
    pub project: String,
    /// The day it was paid.
    pub date: String,
    /// How much.
    pub amount: String,
    /// In which currency of the list (the approval's, for it to count).
    pub currency: String,
    /// Which donor of the list pays it.
    pub donor: String,
    /// `cash` (the default), `in_kind` or `transfer`.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub mode: Option<String>,
    /// The receipt's reference.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub receipt: Option<String>,
    /// Why a supervisor pays above the approved amount; without it such a tranche is
    /// refused. Kept with the tranche and its history.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub above_approved_because: Option<String>,
}

/// A follow-up visit to a funded project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewFollowUp {
    /// The project's id.
    pub project: String,
    /// The visit's fields (date, status, next_due, …).
    pub fields: Fields,
}

impl Db {
    /// What may still be paid of the approval, in its currency: the approved amount less
    /// the tranches that count (`crate::money`), `None` without an approval; and what of
    /// the project is held, with why.
    pub(crate) fn remaining(
        &self,
        project: &Project,
    ) -> Result<(Option<Remaining>, Vec<money::Held>)> {
        let judged = money::judge_project(self.conn(), &project.id, project.title.clone(), None)?;
        let remaining = judged
            .approval
            .map(|a| (a.currency, (a.amount - judged.counted).max(Decimal::ZERO)));
        Ok((remaining, judged.held))
    }

    /// The sum of what was paid to a project, per currency.
    pub(crate) fn paid(&self, project: &str) -> Result<Vec<(String, Decimal)>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT currency, amount FROM disbursements WHERE project_id = ?1")?;
        let rows = stmt
            .query_map([project], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get::<_, Option<String>>(1)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut sums: std::collections::BTreeMap<String, Decimal> = Default::default();
        for (currency, amount) in rows {
            *sums.entry(currency).or_default() +=
                stored_amount("amount", amount)?.unwrap_or_default();
        }
        Ok(sums.into_iter().collect())
    }

    pub(super) fn disbursement_count(&self, project: &str) -> Result<i64> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM disbursements WHERE project_id = ?1",
            [project],
            |r| r.get(0),
        )?)
    }

    /// Records a tranche paid to an approved project; the first one makes it `funded`.
    /// Payments above the approved amount (in its currency) are refused, unless a
    /// supervisor says why (`above_approved_because`), which the tranche keeps.
    pub(crate) fn add_disbursement(&mut self, tranche: &NewTranche) -> Result<String> {
        self.require(Permission::RecordWork)?;
        let project = tranche.project.as_str();
        let p = Project::existing(self.conn(), project)?;
        let date = required_date("date", &tranche.date)?;
        let amount = parse_amount("amount", &tranche.amount, false)?;
        if amount.is_zero() {
            return Err(InputError::invalid("amount", &amount.to_string(), Problem::Zero).into());
        }
        let currency = self.check_reference("currency", &tranche.currency)?;
        let donor = self.check_reference("donor", &tranche.donor)?;
        let mode = Entity::Disbursement
            .field("mode")?
            .kind
            .parse("mode", tranche.mode.as_deref().unwrap_or("cash"))?;
        let receipt = FieldKind::Text.parse("receipt", tranche.receipt.as_deref().unwrap_or(""))?;
        let stage = stage_of(&p)?;
        match stage {
            s if s.payable() => {}
            Stage::Rejected => {
                return Err(InputError::rule(
                    "disbursement_rejected",
                    "this project was rejected by the committee: a disbursement needs an approved project",
                    &[],
                )
                .into())
            }
            other => {
                return Err(InputError::rule(
                    "disbursement_not_approved",
                    format!("this project is at stage '{other}': the committee must approve it before a disbursement"),
                    &[("stage", other.as_str())],
                )
                .into())
            }
        }
        if let Some(approved_on) = p.committee_date.map(|d| d.format("%Y-%m-%d").to_string()) {
            if date < approved_on {
                return Err(InputError::rule(
                    "date_before_approval",
                    format!("date {date} is before the committee's approval on {approved_on}: check the date"),
                    &[("date", &date), ("since", &approved_on)],
                )
                .into());
            }
        }
        let reason = FieldKind::Text.parse(
            "override_reason",
            tranche.above_approved_because.as_deref().unwrap_or(""),
        )?;
        if reason != Value::Null {
            self.require(Permission::OverrideApprovedAmount)?;
        }
        // The write path refuses what every laptop would hold (crate::money): the same
        // rule, asked of this tranche as if it were paid.
        let id = uuid::Uuid::now_v7().to_string();
        let new = money::Proposed {
            id: &id,
            date: &date,
            amount,
            currency: &currency,
            overridden: reason != Value::Null,
            by_supervisor: Permission::DecideInCommittee.allows(self.user().role),
        };
        let judged = money::judge_project(self.conn(), project, None, Some(new))?;
        if let Some(held) = judged
            .held
            .iter()
            .find(|h| h.tranche.as_deref() == Some(id.as_str()))
        {
            return Err(match (held.reason, judged.approval.clone()) {
                (HeldReason::AboveApproved, Some(a)) => InputError::AboveApproved {
                    approved: a.amount.to_string(),
                    would_be: (judged.counted + amount).to_string(),
                    remaining: (a.amount - judged.counted).max(Decimal::ZERO).to_string(),
                    currency,
                },
                (HeldReason::OtherCurrency, Some(a)) => InputError::rule(
                    "tranche_currency",
                    format!("the committee approved this project in {}: a tranche in {currency} cannot be counted against it; pay it in {}", a.currency, a.currency),
                    &[("currency", &currency), ("approved_currency", &a.currency)],
                ),
                _ => InputError::rule(
                    "disbursement_no_approval",
                    "this project has no approved amount from the committee: a supervisor must record the committee's decision with its amount before a tranche",
                    &[],
                ),
            }
            .into());
        }
        self.write(|w| {
            w.create_with_id(
                Entity::Disbursement,
                &id,
                &[
                    ("project_id", Value::text(project)),
                    ("date", Value::text(&date)),
                    ("amount", Value::text(amount.to_string())),
                    ("currency", Value::text(currency)),
                    ("donor", Value::text(donor)),
                    ("mode", mode),
                    ("receipt", receipt),
                    ("override_reason", reason),
                ],
            )?;
            if stage == Stage::Approved {
                record_stage(w, project, Stage::Funded, &date)?;
            }
            Ok(id)
        })
    }

    /// Records a follow-up visit to a funded project.
    pub(crate) fn add_followup(&mut self, visit: &NewFollowUp) -> Result<String> {
        self.require(Permission::RecordWork)?;
        let project = visit.project.as_str();
        let p = Project::existing(self.conn(), project)?;
        let fields = parse_pairs(Entity::FollowUp, visit.fields.pairs())?;
        let get = |n: &str| {
            fields
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null)
        };
        let date = get("date");
        let Value::Text(date_text) = &date else {
            return Err(InputError::Missing {
                field: "date".into(),
                hint: "give the visit's date as YYYY-MM-DD".into(),
            }
            .into());
        };
        if get("status") == Value::Null {
            return Err(InputError::Missing {
                field: "status".into(),
                hint: "give active, struggling, suspended or closed".into(),
            }
            .into());
        }
        if let Value::Text(due) = get("next_due") {
            if due.as_str() <= date_text.as_str() {
                return Err(InputError::Invalid {
                    field: "next_due".into(),
                    value: due,
                    problem: Problem::NotAfter(date_text.clone()),
                }
                .into());
            }
        }
        let stage = stage_of(&p)?;
        if !stage.visitable() {
            return Err(InputError::rule(
                "visits_not_funded",
                format!(
                    "this project is at stage '{stage}': follow-up visits are for funded projects"
                ),
                &[("stage", stage.as_str())],
            )
            .into());
        }
        let mut all = vec![("project_id", Value::text(project))];
        all.extend(fields);
        self.write(|w| w.create(Entity::FollowUp, &all))
    }
}

#[cfg(test)]
mod tests {
    use crate::auth::Role;
    use crate::testing::{approved, temp_db};

    #[test]
    fn paying_above_the_approved_amount_needs_a_supervisors_reason() {
        let (_d, mut m) = temp_db();
        let p = approved(&mut m, "10000");
        m.add_disbursement(crate::domain::NewTranche {
            project: p.to_string(),
            date: "2024-01-10".into(),
            amount: "6000".into(),
            currency: "MAD".into(),
            donor: "EU".into(),
            mode: None,
            receipt: None,
            above_approved_because: None,
        })
        .unwrap();
        let e = m
            .add_disbursement(crate::domain::NewTranche {
                project: p.to_string(),
                date: "2024-01-11".into(),
                amount: "5000".into(),
                currency: "MAD".into(),
                donor: "EU".into(),
                mode: None,
                receipt: None,
                above_approved_because: None,
            })
            .unwrap_err();
        assert_eq!(e.code(), "input.above_approved", "{e}");
        assert!(
            e.to_string().contains("11000") && e.to_string().contains("at most 4000"),
            "{e}"
        );
        assert_eq!(e.report().field.as_deref(), Some("amount"));
        m.add_disbursement(crate::domain::NewTranche {
            project: p.to_string(),
            date: "2024-01-11".into(),
            amount: "4000".into(),
            currency: "MAD".into(),
            donor: "EU".into(),
            mode: None,
            receipt: None,
            above_approved_because: None,
        })
        .expect("up to the approved amount");
        m.add_user(crate::domain::NewUser {
            name: "karim".into(),
            role: Role::Counsellor,
            password: "a long enough passphrase".into(),
        })
        .unwrap();
        let path = m.path().to_path_buf();
        let mut karim = crate::Masar::open(
            &path,
            "karim",
            "a long enough passphrase",
            std::sync::Arc::new(crate::clock::SystemClock),
        )
        .unwrap();
        let e = karim
            .add_disbursement(crate::domain::NewTranche {
                project: p.to_string(),
                date: "2024-01-12".into(),
                amount: "500".into(),
                currency: "MAD".into(),
                donor: "EU".into(),
                mode: None,
                receipt: None,
                above_approved_because: Some("transport".into()),
            })
            .unwrap_err();
        assert_eq!(e.code(), "auth.forbidden", "{e}");
        drop(karim);
        let d = m
            .add_disbursement(crate::domain::NewTranche {
                project: p.to_string(),
                date: "2024-01-12".into(),
                amount: "500".into(),
                currency: "MAD".into(),
                donor: "EU".into(),
                mode: None,
                receipt: None,
                above_approved_because: Some("price of the oven rose".into()),
            })
            .unwrap();
        let h = m.history(&d).unwrap();
        assert!(
            h.iter().any(|c| c.field == "override_reason"
                && c.new == crate::schema::Value::text("price of the oven rose")),
            "{h:?}"
        );
    }
}
