-- Schema version 11: what this laptop learnt about the sync folder and keeps for itself
-- (never synced), so that an insider's files cost it once and cannot make it remove its
-- bundles early (issue 21).
--
-- A bundle of the folder refused for a reason its bytes alone decide (damaged, changed,
-- untrusted) is remembered by its name, size, modification time and inode, and by its
-- SHA-256: the next syncs list it with the reason without reading it again.
CREATE TABLE refused_bundles (
    name   TEXT PRIMARY KEY,
    size   INTEGER NOT NULL,
    mtime  INTEGER NOT NULL,
    inode  INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    reason TEXT NOT NULL,
    at     TEXT NOT NULL
);
CREATE INDEX refused_bundles_sha256 ON refused_bundles(sha256);

-- This laptop's own bundles in the sync folder, by file stem, with the commits each
-- carried and the places of those commits it left out (JSON list of positions, NULL when
-- none): a merged export covers a bundle only if it carries all of those.
CREATE TABLE folder_bundle_commits (
    bundle    TEXT NOT NULL,
    commit_id TEXT NOT NULL,
    absent    TEXT,
    PRIMARY KEY (bundle, commit_id)
) WITHOUT ROWID;
CREATE TABLE folder_bundles (
    bundle TEXT PRIMARY KEY
);

-- Which of this laptop's bundles a merged export it read and verified whole carries,
-- by the merged export's SHA-256.
CREATE TABLE merged_coverage (
    sha256 TEXT NOT NULL,
    bundle TEXT NOT NULL,
    PRIMARY KEY (sha256, bundle)
) WITHOUT ROWID;
