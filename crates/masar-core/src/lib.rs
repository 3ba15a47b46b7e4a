//! The headless core of Masar: the encrypted store, the journey's domain, the one write
//! path that records every change, and the indicators.
//!
//! Everything a user can do goes through [`Masar`], an open database with a logged-in
//! user. The `masar` CLI and the desktop window are thin adapters over its methods; no
//! business rule lives outside this crate.
#![deny(missing_docs)]

pub mod auth;
pub mod changes;
pub mod clock;
pub mod demo;
pub mod domain;
mod error;
pub mod report;
pub mod search;
pub mod store;
pub mod sync;
pub mod views;
#[cfg(test)]
mod testing;

pub use auth::Role;
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{Error, Result};
pub use store::{Masar, Status};
