//! How far a long sync step has gone, told at most once per slice of changes.

use serde::Serialize;
use ts_rs::TS;

/// Which step of a sync is under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncStage {
    /// Changes read from bundles, checked and added to the log.
    Reading,
    /// Records brought in line with the changes that arrived.
    Settling,
    /// Changes written into a bundle.
    Writing,
}

/// How far a long sync step has gone: `done` of `total` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct SyncProgress {
    /// The step.
    pub stage: SyncStage,
    /// Changes done.
    pub done: u64,
    /// Changes in all (as announced: a bundle may hold fewer).
    pub total: u64,
}

/// Tells a step's progress at most once per slice of changes, and at its end.
pub(super) struct Throttle {
    stage: SyncStage,
    total: u64,
    next: u64,
}

impl Throttle {
    const STEP: u64 = 5_000;

    pub(super) fn new(stage: SyncStage, total: u64) -> Throttle {
        Throttle {
            stage,
            total,
            next: 0,
        }
    }

    pub(super) fn at(&mut self, done: u64, progress: &mut impl FnMut(SyncProgress)) {
        if done >= self.next || done >= self.total {
            // A header may announce fewer changes than its bundle holds: never past 100%.
            progress(SyncProgress {
                stage: self.stage,
                done,
                total: self.total.max(done),
            });
            self.next = done + Self::STEP;
        }
    }
}
