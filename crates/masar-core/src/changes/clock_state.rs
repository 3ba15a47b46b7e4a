//! This laptop's clock state, read and written here only: the last stamp it gave, its
//! frontier (the newest stamp seen from another device) and its offset (how far the
//! organisation's stamps run ahead of this laptop's wall clock).

use rusqlite::Connection;

use crate::clock::{Hlc, FOLLOW_CEILING_MILLIS};
use crate::store::{meta_i64, set_meta};
use crate::Result;

/// How far ahead of this laptop's wall clock a stamp seen elsewhere may take its own
/// clock: a day. A laptop whose clock is years fast, or a forged stamp near the ceiling,
/// then moves no other laptop's later stamps more than this; a later local edit still
/// supersedes what it saw, because it names it as parent.
pub(crate) const LEAD_BOUND_MILLIS: i64 = 24 * 3600 * 1000;

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
            offset: meta_i64(conn, OFFSET)?
                .unwrap_or(0)
                .clamp(0, LEAD_BOUND_MILLIS),
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

    /// Takes in a stamp seen in an import at `wall_millis` by this laptop's clock;
    /// `other_device` when another laptop made it. The clock follows it no further than
    /// [`LEAD_BOUND_MILLIS`] past the wall clock (nor past [`FOLLOW_CEILING_MILLIS`]).
    /// Returns whether the stamp was further ahead than that, which the import reports.
    pub fn observe(&mut self, seen: Hlc, other_device: bool, wall_millis: i64) -> bool {
        let limit = wall_millis
            .saturating_add(LEAD_BOUND_MILLIS)
            .min(FOLLOW_CEILING_MILLIS);
        let followed = seen.min(Hlc::new(limit, 0));
        self.hlc = self.hlc.observe(followed);
        if other_device {
            self.frontier = self.frontier.max(followed.millis());
        }
        seen.millis() > limit
    }

    /// Keeps the lead of stamps seen ahead of this laptop's wall clock (a day at most), so
    /// that later local stamps move on with real time from there.
    pub fn keep_lead(&mut self, wall_millis: i64) {
        self.offset = self
            .offset
            .max(self.frontier - wall_millis)
            .clamp(0, LEAD_BOUND_MILLIS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::STAMP_CEILING_MILLIS;

    #[test]
    fn no_stamp_seen_takes_this_laptops_clock_more_than_a_day_ahead() {
        let wall = 1_700_000_000_000;
        for seen in [
            Hlc::new(STAMP_CEILING_MILLIS - 1, 65_000),
            Hlc::new(FOLLOW_CEILING_MILLIS, 0),
            Hlc::new(wall + 3 * 365 * 86_400_000, 7),
        ] {
            let mut clock = ClockState {
                hlc: Hlc::new(wall, 0),
                frontier: 0,
                offset: 0,
            };
            assert!(clock.observe(seen, true, wall), "reported as ahead");
            clock.keep_lead(wall);
            let mine = clock.stamp(wall + 1000);
            assert!(
                mine.millis() <= wall + 1000 + LEAD_BOUND_MILLIS,
                "{}",
                mine.millis()
            );
            assert!(
                clock.offset <= LEAD_BOUND_MILLIS && clock.frontier <= wall + LEAD_BOUND_MILLIS
            );
        }
        // A stamp within the bound is followed as before, and not reported.
        let mut clock = ClockState {
            hlc: Hlc::new(wall, 0),
            frontier: 0,
            offset: 0,
        };
        assert!(!clock.observe(Hlc::new(wall + 3_600_000, 2), true, wall));
        assert!(clock.stamp(wall) > Hlc::new(wall + 3_600_000, 2));
    }

    #[test]
    fn a_stamp_near_the_ceiling_does_not_drag_this_laptops_clock_over_it() {
        let mut clock = ClockState {
            hlc: Hlc::new(1_700_000_000_000, 0),
            frontier: 0,
            offset: 0,
        };
        clock.observe(
            Hlc::new(STAMP_CEILING_MILLIS - 1, 65_000),
            true,
            FOLLOW_CEILING_MILLIS,
        );
        // A lifetime of later changes, each borrowing a millisecond, stays below the ceiling.
        let mut last = clock.hlc;
        for _ in 0..100_000 {
            last = clock.stamp(1_700_000_000_000);
        }
        assert!(last.millis() < STAMP_CEILING_MILLIS, "{}", last.millis());
        assert!(clock.frontier <= FOLLOW_CEILING_MILLIS);
    }
}
