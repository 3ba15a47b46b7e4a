//! Who is who in the organisation: its keys and the chain of its roots, devices' and
//! users' certificates, enrolment, the custody of keys at log-in, a new device identity for
//! a restored laptop, users across laptops, and revocations. Below `sync`, so that a
//! backup, the read models and sync itself ask it without reaching into sync.

mod custody;
mod enrol;
mod members;
pub(crate) mod org;
pub(crate) mod revoke;

pub use custody::{is_encrypted_org_key, OrgKeyExported, OrgKeyImported, RootRotated};
pub use revoke::{DeviceRow, Equivocation, RevocationDone};
