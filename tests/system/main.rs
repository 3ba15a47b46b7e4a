//! Whole-system tests: the real `masar` binary on real encrypted database files.

mod common;

mod attacks;
mod attacks_files;
mod attacks_keys;
mod attacks_money;

mod backup;
mod bad_input;
mod basics;
mod crash;
mod donor_report;
mod encryption;
mod exports;
mod files;
mod folder;
mod migration;
mod programme;
mod safeguards;
mod scale;
mod sync;
mod terminal;
