//! This laptop's clock state, read and written here only: the last stamp it gave, its
//! frontier (the newest stamp seen from another device) and its offset (how far the
//! organisation's stamps run ahead of this laptop's wall clock).

use rusqlite::Connection;

use crate::clock::{Hlc, FOLLOW_CEILING_MILLIS};
use crate::store::{meta_i64, set_meta};
use crate::Result;

const HLC: &str = "hlc";
const FRONTIER: &str = "frontier";
const OFFSET: &str = "clock_offset";

/// The clock state saved in `meta`, where every write and every import continues from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClockState {
    /// The last stamp this laptop gave or observed.
    pub hlc: Hlc,
    /// The newest stamp (milliseconds) seen from another device; 0 if none.
    pub frontier: i64,
    /// How far ahead of this laptop's wall clock the organisation's stamps run, learnt
    /// from imports (milliseconds, never negative). Adding it to the wall clock keeps this
    /// laptop's stamps moving with real time after a laptop whose clock runs fast pulled
    /// every stamp ahead: otherwise its later edits would carry the same frozen
    /// millisecond and lose to the fast laptop's concurrent ones.
    pub offset: i64,
}

impl ClockState {
    /// Reads the saved state; a setting that is not a number is an error, never a zero.
    pub fn load(conn: &Connection) -> Result<ClockState> {
        Ok(ClockState {
            hlc: Hlc(meta_i64(conn, HLC)?.unwrap_or(0)),
            frontier: meta_i64(conn, FRONTIER)?.unwrap_or(0),
            offset: meta_i64(conn, OFFSET)?.unwrap_or(0).max(0),
        })
    }

    /// The state of a laptop that joins after everything its enrolling laptop had stamped.
    pub fn joined_after(hlc: Hlc) -> ClockState {
        ClockState {
            hlc,
            frontier: hlc.millis(),
            offset: 0,
        }
    }

    /// Saves the state.
    pub fn save(&self, conn: &Connection) -> Result<()> {
        set_meta(conn, HLC, &self.hlc.0.to_string())?;
        set_meta(conn, FRONTIER, &self.frontier.to_string())?;
        set_meta(conn, OFFSET, &self.offset.to_string())?;
        Ok(())
    }

    /// Saves what changed since `loaded`: a local write moves only the stamp, so it
    /// writes one setting, not three.
    pub fn save_since(&self, loaded: &ClockState, conn: &Connection) -> Result<()> {
        set_meta(conn, HLC, &self.hlc.0.to_string())?;
        if self.frontier != loaded.frontier {
            set_meta(conn, FRONTIER, &self.frontier.to_string())?;
        }
        if self.offset != loaded.offset {
            set_meta(conn, OFFSET, &self.offset.to_string())?;
        }
        Ok(())
    }

    /// The stamp of a change made here at `wall_millis`.
    pub fn stamp(&mut self, wall_millis: i64) -> Hlc {
        self.hlc = self.hlc.tick(wall_millis + self.offset);
        self.hlc
    }

    /// Takes in a stamp seen in an import; `other_device` when another laptop made it.
    /// Beyond [`FOLLOW_CEILING_MILLIS`] the stamp is not followed (see there).
    pub fn observe(&mut self, seen: Hlc, other_device: bool) {
        let followed = seen.min(Hlc::new(FOLLOW_CEILING_MILLIS, 0));
        self.hlc = self.hlc.observe(followed);
        if other_device {
            self.frontier = self.frontier.max(followed.millis());
        }
    }

    /// Keeps the lead of stamps seen ahead of this laptop's wall clock, so that later
    /// local stamps move on with real time from there.
    pub fn keep_lead(&mut self, wall_millis: i64) {
        self.offset = self.offset.max(self.frontier - wall_millis);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::STAMP_CEILING_MILLIS;

    #[test]
    fn a_stamp_near_the_ceiling_does_not_drag_this_laptops_clock_over_it() {
        let mut clock = ClockState {
            hlc: Hlc::new(1_700_000_000_000, 0),
            frontier: 0,
            offset: 0,
        };
        clock.observe(Hlc::new(STAMP_CEILING_MILLIS - 1, 65_000), true);
        // A lifetime of later changes, each borrowing a millisecond, stays below the ceiling.
        let mut last = clock.hlc;
        for _ in 0..100_000 {
            last = clock.stamp(1_700_000_000_000);
        }
        assert!(last.millis() < STAMP_CEILING_MILLIS, "{}", last.millis());
        assert!(clock.frontier <= FOLLOW_CEILING_MILLIS);
    }
}
