//! The commands, one module per family: each owns its commands' arguments and runs them.

// A top-level command's `--help` summary is the doc comment of its variant of `Command`
// (`main.rs`), which clap applies last: the doc comment of the type it holds is not shown.

pub(crate) mod admin;
pub(crate) mod org;
pub(crate) mod persons;
pub(crate) mod projects;
pub(crate) mod reports;
pub(crate) mod sessions;
pub(crate) mod sync;
