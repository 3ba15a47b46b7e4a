//! Time as the core sees it: an injected wall clock, and the hybrid logical clock that
//! stamps every change so that a change made after another was seen orders after it,
//! whatever the wall clocks say.

use chrono::{DateTime, NaiveDate, Utc};

/// The wall clock, injected so tests can run a laptop whose clock is years off.
pub trait Clock: Send + Sync {
    /// The current wall-clock time.
    fn now(&self) -> DateTime<Utc>;
    /// Today's date on this clock.
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The machine's own clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant, for tests and reproducible demos.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A hybrid logical clock stamp: wall milliseconds in the high 48 bits and a counter in
/// the low 16, so stamps compare as plain integers and fit one SQLite INTEGER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc(pub i64);

/// No change may carry a stamp after this instant (2200-01-01): a bundle with one is
/// refused. A constant, not the importer's clock, so every laptop decides alike.
pub const STAMP_CEILING_MILLIS: i64 = 7_258_118_400_000;

/// A laptop's own clock never follows a stamp further than this (2199-01-01). Stamps
/// between it and the ceiling are accepted but not followed, so no import can push this
/// laptop's later stamps over the ceiling, where every other laptop would refuse them.
/// Order among changes is kept by their parents, not by following the clock.
pub const FOLLOW_CEILING_MILLIS: i64 = 7_226_582_400_000;

const COUNTER_BITS: u32 = 16;
const COUNTER_MAX: i64 = (1 << COUNTER_BITS) - 1;

impl Hlc {
    /// Builds a stamp from wall milliseconds and a counter.
    pub fn new(millis: i64, counter: i64) -> Hlc {
        Hlc((millis.max(0) << COUNTER_BITS) | (counter & COUNTER_MAX))
    }

    /// The wall-clock part, in milliseconds since 1970.
    pub fn millis(self) -> i64 {
        self.0 >> COUNTER_BITS
    }

    /// The logical counter part.
    pub fn counter(self) -> i64 {
        self.0 & COUNTER_MAX
    }

    /// The next stamp for a local event: later than `self` and, when the wall clock has
    /// moved on, equal to the wall clock.
    pub fn tick(self, wall_millis: i64) -> Hlc {
        if wall_millis > self.millis() {
            Hlc::new(wall_millis, 0)
        } else if self.counter() < COUNTER_MAX {
            Hlc(self.0 + 1)
        } else {
            // The counter is exhausted within one millisecond: borrow the next one.
            Hlc::new(self.millis() + 1, 0)
        }
    }

    /// Advances past a stamp received from another device, so that anything written
    /// afterwards orders after what was seen.
    pub fn observe(self, seen: Hlc) -> Hlc {
        self.max(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_follows_the_wall_clock_when_it_moves_forward() {
        let h = Hlc::new(1000, 5).tick(2000);
        assert_eq!((h.millis(), h.counter()), (2000, 0));
    }

    #[test]
    fn tick_counts_when_the_wall_clock_stands_still_or_goes_back() {
        let h = Hlc::new(1000, 5).tick(900);
        assert_eq!((h.millis(), h.counter()), (1000, 6));
        let full = Hlc::new(1000, COUNTER_MAX).tick(1000);
        assert_eq!((full.millis(), full.counter()), (1001, 0));
    }

    #[test]
    fn a_stamp_made_after_observing_another_is_greater() {
        let far_future = Hlc::new(4_000_000_000_000, 3);
        let mine = Hlc::new(1_000, 0).observe(far_future).tick(1_500);
        assert!(mine > far_future);
    }
}
