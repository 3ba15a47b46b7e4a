-- Schema version 4: every change proves its author.
--
-- Each local write is a *commit*: its changes' digests, signed by the author's key, which
-- the organisation's root certified for that user on one device with a role. A change
-- names its commit and its place in it; personal values carry a random salt so that the
-- commitment kept after an erasure (to keep the signature checkable) reveals nothing.

ALTER TABLE changes ADD COLUMN commit_id TEXT;
ALTER TABLE changes ADD COLUMN commit_pos INTEGER;
ALTER TABLE changes ADD COLUMN resolves INTEGER NOT NULL DEFAULT 0;
ALTER TABLE changes ADD COLUMN salt BLOB;
-- The commitment to a value erased since: set only when the value is blanked.
ALTER TABLE changes ADD COLUMN value_commit BLOB;
CREATE INDEX changes_commit ON changes(commit_id, commit_pos);

CREATE TABLE commits (
    id        TEXT PRIMARY KEY,
    cert      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    signature BLOB NOT NULL,
    -- Digests of the commit's changes this laptop does not hold (a scoped bundle), as
    -- JSON [[position, hex]], so that it can relay the commit checkably.
    absent    TEXT
);

-- Certificates the root issued: a user's key on one device, with a role.
CREATE TABLE certs (
    id     TEXT PRIMARY KEY,
    user   TEXT NOT NULL,
    device TEXT NOT NULL,
    body   TEXT NOT NULL
);
CREATE INDEX certs_user ON certs(user, device);

-- Revocations the root signed: nothing the subject signs after `after` is accepted.
CREATE TABLE revocations (
    id      TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL,
    after   INTEGER NOT NULL,
    body    TEXT NOT NULL
);

-- A bundle already imported is recognised by its bytes, not by the id its header claims.
ALTER TABLE imported_bundles ADD COLUMN sha256 TEXT;
CREATE INDEX imported_bundles_sha256 ON imported_bundles(sha256);

-- Bundle keys after the first (which stays in meta as epoch 0): a new one each time an
-- administrator revokes a device or a user, with the root-signed keyring that carried it.
CREATE TABLE bundle_keys (
    epoch   INTEGER PRIMARY KEY,
    key     BLOB NOT NULL,
    keyring TEXT NOT NULL
);

-- A device's certificate (with its key-agreement key), to seal new bundle keys to it, and
-- the name its laptop gave itself (from its bundles), for administrators.
ALTER TABLE devices ADD COLUMN cert TEXT;
ALTER TABLE devices ADD COLUMN name TEXT;

-- The certificate of the first administrator of a laptop that joined with an enrolment
-- file: one per device, so a second laptop joining with the same file is refused.
ALTER TABLE certs ADD COLUMN joined INTEGER NOT NULL DEFAULT 0;
