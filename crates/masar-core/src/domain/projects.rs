//! Projects: members, business plan, stages, committee decisions, disbursements and
//! follow-up visits.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::records::{Person, Project, Record, StageEvent};
use super::{fact_id, parse_pairs};
use crate::auth::{Permission, Role};
use crate::changes::{Db, Writer};
use crate::error::{parse_amount, parse_date, required_text, InputError, Problem};
use crate::schema::{Entity, FieldKind, Value};
use crate::stage::{Decision, Stage};
use crate::Result;

/// A project to open in stage `draft`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewProject {
    /// A short title.
    pub title: String,
    /// `creation`, `reinforcement` or `cooperative`.
    pub kind: String,
    /// A sector of the organisation's list.
    pub sector: String,
    /// The ids of its members (at least one).
    pub members: Vec<String>,
    /// The day it opens (today when not given).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub date: Option<String>,
}

/// A move of a project to another stage by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StageChange {
    /// The project's id.
    pub project: String,
    /// The stage it moves to.
    pub stage: Stage,
    /// The day of the move.
    pub date: String,
}

/// A committee's decision on a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CommitteeDecision {
    /// The project's id.
    pub project: String,
    /// What the committee decided.
    pub decision: Decision,
    /// The day of the committee.
    pub date: String,
    /// The approved amount (an approval needs one).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub amount: Option<String>,
    /// The currency of the amount (the programme's, else the plan's, when not given).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub currency: Option<String>,
    /// What the committee remarked.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub remarks: Option<String>,
}

/// What the journey's rules allow now on one project for one user: what a screen offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ProjectRules {
    /// The stages this user may move the project to by hand, in journey order (`funded`
    /// comes with the first disbursement, and committee decisions with a decision).
    pub next_stages: Vec<Stage>,
    /// Whether this user may record the committee's decision now.
    pub can_decide: bool,
    /// Whether this user may record a new decision on the approved project (an extension
    /// or a corrected amount or currency): the only way its approval changes.
    pub can_amend: bool,
    /// Whether a tranche may be paid now.
    pub can_disburse: bool,
    /// Whether follow-up visits may be recorded now.
    pub can_visit: bool,
    /// Whether the project is a cooperative, whose legal registration date may be set.
    pub can_register: bool,
    /// Whether the business plan may still change (it is frozen from committee on).
    pub can_edit_budget: bool,
    /// Whether this user may pay above the approved amount, giving a reason.
    pub can_override_approved: bool,
    /// The stage an undo would return the project to, when the last change of stage may
    /// be taken back (nothing depends on it yet).
    pub undo_to: Option<Stage>,
}

impl ProjectRules {
    /// The rules for a project at `stage` of `kind`, for a user of `role`; `undo_to` is
    /// what [`Db::stage_undo_target`] found.
    pub(crate) fn of(stage: Stage, kind: &str, role: Role, undo_to: Option<Stage>) -> ProjectRules {
        let decide = Permission::DecideInCommittee.allows(role);
        ProjectRules {
            next_stages: stage
                .next()
                .iter()
                .copied()
                .filter(|next| stage.by_hand(*next))
                .collect(),
            can_decide: stage == Stage::InCommittee && decide,
            can_amend: stage.payable() && decide,
            can_disburse: stage.payable(),
            can_visit: stage.visitable(),
            can_register: kind == "cooperative",
            can_edit_budget: stage.plan_open(),
            can_override_approved: Permission::OverrideApprovedAmount.allows(role),
            undo_to,
        }
    }
}

/// What may still be paid of an approval: its currency and the amount.
pub(crate) type Remaining = (String, Decimal);

pub(super) fn record_stage(
    w: &mut Writer<'_>,
    project: &str,
    stage: Stage,
    date: &str,
) -> Result<()> {
    w.update_kept(
        Entity::Project,
        project,
        &[
            ("stage", Value::text(stage.as_str())),
            ("stage_date", Value::text(date)),
        ],
    )?;
    w.create(
        Entity::StageEvent,
        &[
            ("project_id", Value::text(project)),
            ("stage", Value::text(stage.as_str())),
            ("date", Value::text(date)),
        ],
    )?;
    Ok(())
}

/// The stage a project is at.
pub(super) fn stage_of(project: &Project) -> Result<Stage> {
    Stage::stored(project.stage.as_deref())
}

pub(super) fn required_date(field: &str, text: &str) -> Result<String, InputError> {
    if text.trim().is_empty() {
        return Err(InputError::Missing {
            field: field.into(),
            hint: "give the date as YYYY-MM-DD".into(),
        });
    }
    Ok(parse_date(field, text)?.format("%Y-%m-%d").to_string())
}

impl Db {
    /// Creates a project in stage `draft` on `date` (default today) with its members.
    pub(crate) fn add_project(&mut self, new: &NewProject) -> Result<String> {
        self.require(Permission::RecordWork)?;
        let members = &new.members;
        let title = required_text("title", &new.title, "give the project a short title")?;
        let kind = Entity::Project
            .field("kind")?
            .kind
            .parse("kind", &new.kind)?;
        if kind == Value::Null {
            return Err(InputError::Missing {
                field: "kind".into(),
                hint: "give creation, reinforcement or cooperative".into(),
            }
            .into());
        }
        let sector = self.check_reference("sector", &new.sector)?;
        if members.is_empty() {
            return Err(InputError::Missing {
                field: "member".into(),
                hint: "a project needs at least one member (--member PERSON)".into(),
            }
            .into());
        }
        let mut seen = HashSet::new();
        for person in members {
            if !seen.insert(person.as_str()) {
                return Err(InputError::Duplicate {
                    what: "member",
                    value: person.clone(),
                }
                .into());
            }
            Person::existing(self.conn(), person)?;
        }
        let today = match &new.date {
            Some(d) => required_date("date", d)?,
            None => self.clock().today().format("%Y-%m-%d").to_string(),
        };
        let me = self.user().id.clone();
        self.write(|w| {
            let id = w.create(
                Entity::Project,
                &[
                    ("title", Value::text(title)),
                    ("kind", kind),
                    ("sector", Value::text(sector)),
                    ("stage", Value::text(Stage::Draft.as_str())),
                    ("stage_date", Value::text(&today)),
                    ("counsellor", Value::text(me)),
                ],
            )?;
            w.create(
                Entity::StageEvent,
                &[
                    ("project_id", Value::text(&id)),
                    ("stage", Value::text(Stage::Draft.as_str())),
                    ("date", Value::text(&today)),
                ],
            )?;
            for person in members {
                let mid = fact_id("member", &[&id, person]);
                w.create_with_id(
                    Entity::Member,
                    &mid,
                    &[
                        ("project_id", Value::text(&id)),
                        ("person_id", Value::text(person)),
                        ("active", Value::Bool(true)),
                    ],
                )?;
            }
            Ok(id)
        })
    }

    /// One project.
    pub(crate) fn project(&self, id: &str) -> Result<Project> {
        Project::existing(self.conn(), id)
    }

    /// What the rules allow now on a project, for the logged-in user.
    pub(crate) fn project_rules(&self, project: &Project) -> Result<ProjectRules> {
        let undo_to = match self.stage_undo_target(project) {
            Ok((_, back)) => Some(Stage::stored(back.stage.as_deref())?),
            Err(crate::Error::Input(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(ProjectRules::of(
            stage_of(project)?,
            project.kind.as_deref().unwrap_or(""),
            self.user().role,
            undo_to,
        ))
    }

    /// The stage changes of a project that stand (not undone), oldest first.
    fn standing_stages(&self, project: &str) -> Result<Vec<StageEvent>> {
        StageEvent::select(
            self.conn(),
            "WHERE t.project_id = ?1 AND coalesce(t.undone, 0) = 0 ORDER BY t.date, t.id",
            [project],
        )
    }

    /// The last change of stage and the one it would go back to, or why it cannot be
    /// taken back: it opened the project, it came with the first tranche, or tranches or
    /// visits already depend on it.
    fn stage_undo_target(&self, project: &Project) -> Result<(StageEvent, StageEvent)> {
        let mut events = self.standing_stages(&project.id)?;
        let refuse = |reason: &'static str, why: &str| -> crate::Error {
            InputError::rule(
                reason,
                format!("the last change of stage cannot be undone: {why}"),
                &[],
            )
            .into()
        };
        let (Some(last), Some(back)) = (events.pop(), events.pop()) else {
            return Err(refuse(
                "undo_nothing",
                "the project has not changed stage since it was opened",
            ));
        };
        if Stage::stored(last.stage.as_deref())? == Stage::Funded {
            return Err(refuse(
                "undo_funded",
                "the project became funded with its first tranche",
            ));
        }
        let depends: i64 = self.conn().query_row(
            "SELECT (SELECT count(*) FROM disbursements WHERE project_id = ?1) + (SELECT count(*) FROM followups WHERE project_id = ?1)",
            [&project.id],
            |r| r.get(0),
        )?;
        if depends > 0 {
            return Err(refuse(
                "undo_depends",
                "tranches or visits were recorded since",
            ));
        }
        Ok((last, back))
    }

    /// Takes back the last change of stage while nothing depends on it: the change stays
    /// in the history, marked undone, and the project returns to the stage before (a
    /// committee's decision goes with it).
    pub(crate) fn undo_stage(&mut self, id: &str) -> Result<Stage> {
        self.require(Permission::RecordWork)?;
        let project = Project::existing(self.conn(), id)?;
        let (last, back) = self.stage_undo_target(&project)?;
        let decided = Stage::stored(last.stage.as_deref())?.is_decision();
        if decided {
            self.require(Permission::DecideInCommittee)?;
        }
        let stage = Stage::stored(back.stage.as_deref())?;
        let since = back.date.map(|d| d.format("%Y-%m-%d").to_string());
        self.write(|w| {
            w.update_kept(
                Entity::StageEvent,
                &last.id,
                &[("undone", Value::Bool(true))],
            )?;
            w.update_kept(
                Entity::Project,
                id,
                &[
                    ("stage", Value::text(stage.as_str())),
                    ("stage_date", Value::opt_text(since)),
                ],
            )?;
            if decided {
                w.update_kept(
                    Entity::Project,
                    id,
                    &[
                        ("committee_date", Value::Null),
                        ("approved_amount", Value::Null),
                        ("approved_currency", Value::Null),
                        ("committee_remarks", Value::Null),
                    ],
                )?;
            }
            Ok(())
        })?;
        Ok(stage)
    }

    /// Refuses a change of the plan once the committee examines it.
    pub(super) fn plan_open(&self, project: &Project) -> Result<()> {
        let stage = stage_of(project)?;
        if stage.plan_open() {
            Ok(())
        } else {
            Err(InputError::rule(
                "plan_frozen",
                format!("the business plan is frozen from the committee on, and this project is at stage '{stage}': it can no longer change"),
                &[("stage", stage.as_str())],
            )
            .into())
        }
    }

    /// Changes settable fields of a project (`registered_on` only on a cooperative).
    pub(crate) fn set_project(&mut self, id: &str, pairs: &[(String, String)]) -> Result<()> {
        self.require(Permission::RecordWork)?;
        let mut fields = parse_pairs(Entity::Project, pairs)?;
        let project = Project::existing(self.conn(), id)?;
        for (name, value) in fields.iter_mut() {
            match *name {
                "registered_on"
                    if project.kind.as_deref() != Some("cooperative") && *value != Value::Null =>
                {
                    return Err(InputError::rule(
                        "registered_not_cooperative",
                        format!(
                            "registered_on is the legal registration date of a cooperative, and this project is of kind '{}'",
                            project.kind.as_deref().unwrap_or("?")
                        ),
                        &[],
                    )
                    .into());
                }
                "sector" if *value != Value::Null => {
                    *value =
                        Value::text(self.check_reference("sector", value.as_str().unwrap_or(""))?);
                }
                "title" | "sector" if *value == Value::Null => {
                    return Err(InputError::Missing {
                        field: (*name).into(),
                        hint: "this field cannot be emptied".into(),
                    }
                    .into());
                }
                // The committee examines the plan in its currency; from committee on, only
                // a decision names the currency money is counted in (approved_currency).
                "currency" if !stage_of(&project)?.plan_open() => {
                    let stage = stage_of(&project)?;
                    return Err(InputError::rule(
                        "currency_frozen",
                        format!("the plan's currency cannot change once the project reached the committee (it is at stage '{stage}'): the committee's decision sets the currency of the money"),
                        &[("stage", stage.as_str())],
                    )
                    .into());
                }
                "currency" if *value != Value::Null => {
                    *value = Value::text(
                        self.check_reference("currency", value.as_str().unwrap_or(""))?,
                    );
                }
                _ => {}
            }
        }
        self.write(|w| w.update(Entity::Project, id, &fields).map(|_| ()))
    }

    /// Moves a project to `stage` on `date`, if that stage may follow the current one.
    pub(crate) fn set_stage(&mut self, change: &StageChange) -> Result<()> {
        if change.stage == Stage::Approved {
            // An approval without its amount would let no tranche count (crate::money).
            self.require(Permission::DecideInCommittee)?;
            return Err(InputError::rule(
                "approve_by_decision",
                "a project is approved by recording the committee's decision with its amount and currency (project decide ID approved --amount A)",
                &[],
            )
            .into());
        }
        self.change_stage(&change.project, change.stage, &change.date, Vec::new())
    }

    /// Moves a project to a stage and writes `extra` fields of it in the same transaction.
    fn change_stage(
        &mut self,
        id: &str,
        stage: Stage,
        date: &str,
        extra: Vec<(&'static str, Value)>,
    ) -> Result<()> {
        self.require(Permission::RecordWork)?;
        let date = required_date("date", date)?;
        if stage.is_decision() {
            self.require(Permission::DecideInCommittee)?;
        }
        let project = Project::existing(self.conn(), id)?;
        let current = stage_of(&project)?;
        let allowed = current.next();
        if !allowed.contains(&stage) {
            return Err(InputError::rule(
                "stage_not_allowed",
                format!(
                    "a project at stage '{current}' cannot move to '{stage}': {}",
                    if allowed.is_empty() {
                        "it is closed".to_string()
                    } else {
                        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
                        format!("the next stage can be {}", names.join(" or "))
                    }
                ),
                &[("current", current.as_str()), ("stage", stage.as_str())],
            )
            .into());
        }
        if let Some(since) = project.stage_date.map(|d| d.format("%Y-%m-%d").to_string()) {
            if date < since {
                return Err(InputError::rule(
                    "date_before_stage",
                    format!("date {date} is before {since}, when the project reached stage '{current}': give a date on or after it"),
                    &[("date", &date), ("since", &since), ("current", current.as_str())],
                )
                .into());
            }
        }
        if stage == Stage::PlanReady && self.budget(id)?.lines.is_empty() {
            return Err(InputError::rule(
                "plan_empty",
                "a plan needs at least one budget line before it is ready: add what the project will buy",
                &[],
            )
            .into());
        }
        if stage == Stage::Funded && self.disbursement_count(id)? == 0 {
            return Err(InputError::rule(
                "funded_by_tranche",
                "a project becomes funded with its first disbursement: record the disbursement instead",
                &[],
            )
            .into());
        }
        self.write(|w| {
            if stage.is_decision() {
                w.update_kept(
                    Entity::Project,
                    id,
                    &[("committee_date", Value::text(&date))],
                )?;
            }
            if !extra.is_empty() {
                w.update_kept(Entity::Project, id, &extra)?;
            }
            record_stage(w, id, stage, &date)
        })
    }

    /// The currency an approval of `project` is in when the supervisor names none: the
    /// programme's (set by an administrator), else the plan's.
    pub(crate) fn decision_currency(&self, project: &Project) -> Result<Option<String>> {
        Ok(self
            .programme_currency()?
            .or_else(|| project.currency.clone()))
    }

    /// Records the committee's decision: `approved` (with the amount and its currency: the
    /// programme's, else the plan's, when none is given), `rejected`, or `deferred` (the
    /// plan goes back to `plan_ready`).
    pub(crate) fn decide(&mut self, decision: &CommitteeDecision) -> Result<()> {
        self.require(Permission::DecideInCommittee)?;
        let CommitteeDecision {
            project: id,
            date,
            amount,
            currency,
            remarks,
            ..
        } = decision;
        let stage = decision.decision.stage();
        let remarks = FieldKind::Text.parse("remarks", remarks.as_deref().unwrap_or(""))?;
        if decision.decision != Decision::Approved {
            return self.change_stage(id, stage, date, vec![("committee_remarks", remarks)]);
        }
        // Money counts only against an approval in its own currency (crate::money): an
        // approval names both.
        let amount = match amount.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => parse_amount("amount", a, false)?,
            None => {
                return Err(InputError::Missing {
                    field: "amount".into(),
                    hint: "an approval needs the amount the committee approved".into(),
                }
                .into())
            }
        };
        if amount.is_zero() {
            return Err(InputError::invalid("amount", &amount.to_string(), Problem::Zero).into());
        }
        let project = Project::existing(self.conn(), id)?;
        let currency = match currency
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .map_or_else(|| self.decision_currency(&project), |c| Ok(Some(c)))?
        {
            Some(c) => self.check_reference("currency", &c)?,
            None => {
                return Err(InputError::Missing {
                    field: "currency".into(),
                    hint: "give the currency the committee approved the amount in".into(),
                }
                .into())
            }
        };
        let decision = vec![
            ("approved_amount", Value::text(amount.to_string())),
            ("approved_currency", Value::text(currency)),
            ("committee_remarks", remarks),
        ];
        // After approval, the amount and its currency change only by a new decision of a
        // supervisor (an extension, or an approval recorded without them): the stage and
        // what was paid stay.
        if stage_of(&project)?.payable() {
            required_date("date", date)?;
            return self.write(|w| w.update_kept(Entity::Project, id, &decision).map(|_| ()));
        }
        self.change_stage(id, stage, date, decision)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{approved, kv, person, temp_db};

    #[test]
    fn a_plan_without_a_budget_line_is_not_ready() {
        let (_d, mut m) = temp_db();
        let a = person(&mut m, "Amina", "female", "1990-01-01");
        let p = m
            .add_project(crate::domain::NewProject {
                title: "Bakery".into(),
                kind: "creation".into(),
                sector: "food".into(),
                members: vec![a],
                date: Some("2024-01-01".into()),
            })
            .unwrap();
        let e = m
            .set_stage(crate::domain::StageChange {
                project: p.to_string(),
                stage: crate::domain::Stage::PlanReady,
                date: "2024-01-02".into(),
            })
            .unwrap_err();
        assert!(e.to_string().contains("at least one budget line"), "{e}");
        let line = m
            .add_budget_line(crate::domain::NewBudgetLine {
                project: p.to_string(),
                item: "Oven".into(),
                quantity: "1".into(),
                unit_cost: "900".into(),
            })
            .unwrap();
        m.remove_budget_line(&line).unwrap();
        assert!(
            m.set_stage(crate::domain::StageChange {
                project: p.to_string(),
                stage: crate::domain::Stage::PlanReady,
                date: "2024-01-02".into()
            })
            .is_err(),
            "a removed line does not count"
        );
    }

    #[test]
    fn the_plan_is_frozen_from_the_committee_on() {
        let (_d, mut m) = temp_db();
        let a = person(&mut m, "Amina", "female", "1990-01-01");
        let p = m
            .add_project(crate::domain::NewProject {
                title: "Bakery".into(),
                kind: "creation".into(),
                sector: "food".into(),
                members: vec![a],
                date: Some("2024-01-01".into()),
            })
            .unwrap();
        let line = m
            .add_budget_line(crate::domain::NewBudgetLine {
                project: p.to_string(),
                item: "Oven".into(),
                quantity: "1".into(),
                unit_cost: "900".into(),
            })
            .unwrap();
        m.set_budget_line(&line, &kv(&[("unit_cost", "950.50")]))
            .unwrap();
        assert_eq!(m.budget(&p).unwrap().total.to_string(), "950.50");
        m.set_stage(crate::domain::StageChange {
            project: p.to_string(),
            stage: crate::domain::Stage::PlanReady,
            date: "2024-01-02".into(),
        })
        .unwrap();
        m.set_stage(crate::domain::StageChange {
            project: p.to_string(),
            stage: crate::domain::Stage::InCommittee,
            date: "2024-01-03".into(),
        })
        .unwrap();
        for e in [
            m.add_budget_line(crate::domain::NewBudgetLine {
                project: p.to_string(),
                item: "Flour".into(),
                quantity: "10".into(),
                unit_cost: "5".into(),
            })
            .unwrap_err(),
            m.set_budget_line(&line, &kv(&[("quantity", "2")]))
                .unwrap_err(),
            m.remove_budget_line(&line).unwrap_err(),
        ] {
            assert!(e.to_string().contains("frozen"), "{e}");
        }
        assert_eq!(m.budget(&p).unwrap().total.to_string(), "950.50");
        m.decide(crate::domain::CommitteeDecision {
            project: p.to_string(),
            decision: crate::domain::Decision::Rejected,
            date: "2024-01-05".into(),
            amount: None,
            currency: None,
            remarks: None,
        })
        .unwrap();
        m.add_budget_line(crate::domain::NewBudgetLine {
            project: p.to_string(),
            item: "Flour".into(),
            quantity: "10".into(),
            unit_cost: "5".into(),
        })
        .expect("a rejected plan may be revised");
    }

    #[test]
    fn a_change_of_stage_is_undone_until_something_depends_on_it() {
        let (_d, mut m) = temp_db();
        let p = approved(&mut m, "10000");
        let view = m.project_view(&p).unwrap();
        assert_eq!(view.rules.undo_to, Some(crate::Stage::InCommittee));
        assert_eq!(m.undo_stage(&p).unwrap(), crate::Stage::InCommittee);
        let back = m.project(&p).unwrap();
        assert_eq!(
            (
                back.stage.as_deref(),
                back.approved_amount,
                back.committee_remarks
            ),
            (Some("in_committee"), None, None)
        );
        assert_eq!(m.undo_stage(&p).unwrap(), crate::Stage::PlanReady);
        assert_eq!(
            m.project_view(&p).unwrap().stages.len(),
            2,
            "undone changes are no longer listed"
        );
        m.set_stage(crate::domain::StageChange {
            project: p.to_string(),
            stage: crate::domain::Stage::InCommittee,
            date: "2024-01-03".into(),
        })
        .unwrap();
        m.decide(crate::domain::CommitteeDecision {
            project: p.to_string(),
            decision: crate::domain::Decision::Approved,
            date: "2024-01-04".into(),
            amount: Some("10000".into()),
            currency: None,
            remarks: None,
        })
        .unwrap();
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
        let e = m.undo_stage(&p).unwrap_err();
        assert!(e.to_string().contains("first tranche"), "{e}");
        assert_eq!(m.project_view(&p).unwrap().rules.undo_to, None);
        assert!(
            m.history(&p)
                .unwrap()
                .iter()
                .filter(|c| c.field == "stage")
                .count()
                >= 6,
            "the history keeps every change"
        );
    }

    #[test]
    fn a_person_may_be_registered_with_an_approximate_year_of_birth() {
        let (_d, mut m) = temp_db();
        let fields = kv(&[
            ("given", "A"),
            ("family", "B"),
            ("sex", "male"),
            ("birth_year", "1988"),
            ("nationality", "SYR"),
        ]);
        let id = m
            .add_person(crate::domain::NewPerson {
                fields: crate::domain::Fields(fields.to_vec()),
                intake_date: Some("2024-03-01".into()),
            })
            .unwrap();
        let p = m.person(&id).unwrap();
        assert_eq!((p.born, p.birth_year), (None, Some(1988)));
        let r = m
            .report("2024-01-01", "2024-12-31", &[crate::report::Dimension::Age])
            .unwrap();
        assert!(
            r.breakdown["age"].contains_key("18-59"),
            "{:?}",
            r.breakdown
        );
    }
}
