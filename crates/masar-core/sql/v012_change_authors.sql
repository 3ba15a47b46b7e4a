-- Schema version 12: a change's identity is its device, its stamp and its author
-- (issue 21, item 3).
--
-- Until now a change was known everywhere by (stamp, device) alone. Two users certified on
-- one laptop share its device, so a counsellor could sign a change of their own under the
-- stamp of a supervisor's change on that laptop; whichever arrived first took the identity
-- and the other was refused, and laptops holding different versions refused each other's
-- bundles. The author (the user id a change names, which verification requires to be its
-- signer's) is now part of the identity: another user's change is another change.
--
-- Authors are stored as local numbers, as devices and records are (`author_numbers`),
-- 0 for a change that names no author (made before changes were signed).

CREATE TABLE author_numbers (
    n  INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE
);
INSERT INTO author_numbers(id)
SELECT DISTINCT user_id FROM changes WHERE user_id IS NOT NULL ORDER BY user_id;

ALTER TABLE change_log ADD COLUMN author INTEGER NOT NULL DEFAULT 0;
UPDATE change_log SET author = coalesce(
    (SELECT a.n FROM changes c JOIN author_numbers a ON a.id = c.user_id WHERE c.seq = change_log.seq), 0);

DROP INDEX change_log_identity;
CREATE UNIQUE INDEX change_log_identity ON change_log(device, hlc, author);

-- A change's parents are listed under its whole identity. A parent is still named by
-- (stamp, device): it overwrites every change of its field under that stamp, which only
-- a forgery can make more than one.
CREATE TABLE change_parents_v12 (
    hlc           INTEGER NOT NULL,
    device        TEXT NOT NULL,
    author        INTEGER NOT NULL,
    parent_hlc    INTEGER NOT NULL,
    parent_device TEXT NOT NULL,
    PRIMARY KEY (hlc, device, author, parent_hlc, parent_device)
) WITHOUT ROWID;
INSERT INTO change_parents_v12(hlc, device, author, parent_hlc, parent_device)
SELECT p.hlc, p.device, coalesce(l.author, 0), p.parent_hlc, p.parent_device
FROM change_parents p
LEFT JOIN device_numbers d ON d.id = p.device
LEFT JOIN change_log l ON l.device = d.n AND l.hlc = p.hlc;
DROP TABLE change_parents;
ALTER TABLE change_parents_v12 RENAME TO change_parents;
CREATE INDEX change_parents_parent ON change_parents(parent_hlc, parent_device);

-- Two versions of one change (same device, stamp and author, different content) are
-- settled alike everywhere: the version of smaller digest is kept. Each time this laptop
-- meets such a pair it notes it here, for supervisors (`masar report equivocations`).
CREATE TABLE equivocations (
    device      TEXT NOT NULL,
    hlc         INTEGER NOT NULL,
    author      TEXT NOT NULL,
    author_name TEXT,
    kept        TEXT NOT NULL,
    dropped     TEXT NOT NULL,
    seen_at     TEXT NOT NULL,
    PRIMARY KEY (device, hlc, author, dropped)
) WITHOUT ROWID;

DROP VIEW changes;
CREATE VIEW changes AS
SELECT l.seq, l.hlc, d.id AS device, l.entity, r.id AS record, l.field, l.value, l.old,
       CASE WHEN l.by_cert THEN ce.user ELSE l.user_id END AS user_id,
       coalesce(l.at, strftime('%Y-%m-%dT%H:%M:%S', (l.hlc >> 16) / 1000, 'unixepoch') || printf('.%03dZ', (l.hlc >> 16) % 1000)) AS at,
       l.creates,
       CASE WHEN l.by_cert THEN ce.name ELSE l.user_name END AS user_name,
       l.frontier, m.id AS commit_id, l.commit_pos, l.resolves, l.salt, l.value_commit, l.head,
       l.author AS author_n
FROM change_log l
JOIN device_numbers d ON d.n = l.device
JOIN record_numbers r ON r.n = l.record
LEFT JOIN commits m ON m.n = l.commit_n
LEFT JOIN certs ce ON ce.id = m.cert;
