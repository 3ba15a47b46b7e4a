//! A project's stages and the committee's decisions as types, with the journey's rules
//! about them in one place: which stage may follow which, when money may move, when the
//! plan is frozen, when visits are recorded.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{InputError, Problem};

/// Where a project is in the journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Being written.
    Draft,
    /// The business plan is ready for the committee.
    PlanReady,
    /// The committee examines it.
    InCommittee,
    /// The committee approved an amount in a currency.
    Approved,
    /// The committee rejected it.
    Rejected,
    /// The first tranche was paid.
    Funded,
    /// The enterprise runs.
    Active,
    /// Followed no longer.
    Closed,
}

impl Stage {
    /// Every stage, in journey order.
    pub const ALL: [Stage; 8] = [
        Stage::Draft,
        Stage::PlanReady,
        Stage::InCommittee,
        Stage::Approved,
        Stage::Rejected,
        Stage::Funded,
        Stage::Active,
        Stage::Closed,
    ];

    /// The stage as the database and the faces spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Draft => "draft",
            Stage::PlanReady => "plan_ready",
            Stage::InCommittee => "in_committee",
            Stage::Approved => "approved",
            Stage::Rejected => "rejected",
            Stage::Funded => "funded",
            Stage::Active => "active",
            Stage::Closed => "closed",
        }
    }

    /// Reads a stage as typed (any case, spaces around), naming `field` if it is none.
    pub fn parse(field: &str, text: &str) -> Result<Stage, InputError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(InputError::Missing {
                field: field.into(),
                hint: "give the new stage".into(),
            });
        }
        let lower = t.to_lowercase();
        Stage::ALL
            .into_iter()
            .find(|s| s.as_str() == lower)
            .ok_or_else(|| InputError::Invalid {
                field: field.into(),
                value: text.into(),
                problem: Problem::NotOneOf(Stage::ALL.map(|s| s.as_str().to_string()).to_vec()),
            })
    }

    /// The stage a stored value names; a project with none is a draft. The schema lets
    /// no other text into the column, so an unknown one is a damaged database.
    pub(crate) fn stored(text: Option<&str>) -> crate::Result<Stage> {
        match text {
            None => Ok(Stage::Draft),
            Some(t) => Stage::ALL
                .into_iter()
                .find(|s| s.as_str() == t)
                .ok_or_else(|| {
                    crate::error::StoreError::Corrupt {
                        what: "project stage".into(),
                        value: t.into(),
                    }
                    .into()
                }),
        }
    }

    /// Which stages may follow this one. `funded` comes with the first disbursement; a
    /// deferred committee decision sends the plan back to `plan_ready`.
    pub fn next(self) -> &'static [Stage] {
        use Stage::*;
        match self {
            Draft => &[PlanReady],
            PlanReady => &[InCommittee, Draft],
            InCommittee => &[Approved, Rejected, PlanReady],
            Approved => &[Funded],
            Rejected => &[PlanReady],
            Funded => &[Active, Closed],
            Active => &[Closed],
            Closed => &[],
        }
    }

    /// Whether a move to `to` is made with the stage buttons: `funded` comes with the
    /// first tranche, and a committee's outcome (approved, rejected, or back to
    /// `plan_ready`) is a decision.
    pub fn by_hand(self, to: Stage) -> bool {
        match to {
            Stage::Funded | Stage::Approved | Stage::Rejected => false,
            Stage::PlanReady => self != Stage::InCommittee,
            _ => true,
        }
    }

    /// Whether the committee decided it (approved or rejected): only supervisors move a
    /// project there or back.
    pub fn is_decision(self) -> bool {
        matches!(self, Stage::Approved | Stage::Rejected)
    }

    /// Whether tranches may be paid at this stage.
    pub fn payable(self) -> bool {
        matches!(self, Stage::Approved | Stage::Funded | Stage::Active)
    }

    /// Whether the business plan may still change: from committee on it is frozen.
    pub fn plan_open(self) -> bool {
        matches!(self, Stage::Draft | Stage::PlanReady | Stage::Rejected)
    }

    /// Whether follow-up visits are recorded at this stage.
    pub fn visitable(self) -> bool {
        matches!(self, Stage::Funded | Stage::Active | Stage::Closed)
    }

    /// Whether the committee approved the project and it has not gone back since.
    pub fn past_approval(self) -> bool {
        matches!(
            self,
            Stage::Approved | Stage::Funded | Stage::Active | Stage::Closed
        )
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a committee may decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// An amount in a currency is granted.
    Approved,
    /// The project is refused.
    Rejected,
    /// The plan goes back to `plan_ready`.
    Deferred,
}

impl Decision {
    /// Every decision.
    pub const ALL: [Decision; 3] = [Decision::Approved, Decision::Rejected, Decision::Deferred];

    /// The decision as the faces spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
            Decision::Deferred => "deferred",
        }
    }

    /// Reads a decision as typed (spaces around), naming the `decision` field if it is none.
    pub fn parse(text: &str) -> Result<Decision, InputError> {
        let t = text.trim();
        Decision::ALL
            .into_iter()
            .find(|d| d.as_str() == t)
            .ok_or_else(|| InputError::Invalid {
                field: "decision".into(),
                value: t.into(),
                problem: Problem::NotOneOf(Decision::ALL.map(|d| d.as_str().to_string()).to_vec()),
            })
    }

    /// The stage the project moves to.
    pub fn stage(self) -> Stage {
        match self {
            Decision::Approved => Stage::Approved,
            Decision::Rejected => Stage::Rejected,
            Decision::Deferred => Stage::PlanReady,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_reads_back_as_it_is_spelt_and_the_schema_knows_each() {
        for s in Stage::ALL {
            assert_eq!(
                Stage::parse("stage", &format!(" {} ", s.as_str().to_uppercase())).ok(),
                Some(s)
            );
            assert_eq!(Stage::stored(Some(s.as_str())).ok(), Some(s));
        }
        let spelt: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(spelt, crate::schema::STAGES);
        assert!(Stage::parse("stage", "paid").is_err());
        assert!(Stage::stored(Some("paid")).is_err());
    }

    #[test]
    fn money_moves_only_after_an_approval_and_the_plan_freezes_at_committee() {
        let payable: Vec<Stage> = Stage::ALL.into_iter().filter(|s| s.payable()).collect();
        assert_eq!(payable, [Stage::Approved, Stage::Funded, Stage::Active]);
        assert!(Stage::ALL.iter().all(|s| !s.payable() || s.past_approval()));
        assert!(Stage::ALL
            .iter()
            .all(|s| !(s.plan_open() && s.past_approval())));
        assert!(!Stage::InCommittee.plan_open());
        assert!(!Stage::InCommittee.by_hand(Stage::PlanReady));
        assert!(Stage::Rejected.by_hand(Stage::PlanReady));
        assert_eq!(Decision::Deferred.stage(), Stage::PlanReady);
        assert!(Decision::parse("maybe").is_err());
    }
}
