//! Log-in at a chosen argon2id cost, for the benchmark of log-in times
//! (`benches/src/bin/login.rs`, feature `benches`): a key-file entry wrapped as an earlier
//! version wrapped it, and a log-in as it was before the cost was raised.

use std::path::Path;
use std::sync::Arc;

use crate::clock::SystemClock;
use crate::keys::{KdfCost, KeyFile};
use crate::masar::Masar;
use crate::store::key_file_path;
use crate::Result;

/// Wraps `user`'s entry of the key file beside the database `db` again at `cost`.
pub fn rewrap_at(db: &Path, user: &str, password: &str, cost: KdfCost) -> Result<()> {
    let path = key_file_path(db);
    let mut file = KeyFile::load(&path)?;
    let unlocked = file.unwrap_for(user, password)?;
    file.add_user_at(user, password, &unlocked.db_key, &unlocked.secrets, cost)?;
    file.save(&path)?;
    Ok(())
}

/// Logs in as `Masar::open` does, except that an entry is wrapped again only when it is
/// below `cost`: with `KdfCost::FORMER`, a log-in as it was before the cost was raised.
pub fn open_at(db: &Path, user: &str, password: &str, cost: KdfCost) -> Result<Masar> {
    Masar::open_at(db, user, password, Arc::new(SystemClock), cost)
}

/// The cost `user`'s entry of the key file beside `db` is wrapped at.
pub fn cost_of(db: &Path, user: &str) -> Result<Option<KdfCost>> {
    Ok(KeyFile::load(&key_file_path(db))?.cost_for(user))
}
