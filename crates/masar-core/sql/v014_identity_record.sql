-- Schema version 14: a change's identity also holds its record (issue 21, item 3).
--
-- With (device, stamp, author) an author who signed two changes as one on two different
-- records — say the erasures of two persons — had one of them set aside; a laptop that
-- had applied it had already blanked that person for good, another had not, and they
-- never agreed again. Changes on different records are now different changes: both stay.
-- Two versions under one whole identity (same record) are still settled alike everywhere.

DROP INDEX change_log_identity;
CREATE UNIQUE INDEX change_log_identity ON change_log(device, hlc, author, record);

-- A change's parents are listed under its whole identity, its record's local number
-- included.
CREATE TABLE change_parents_v14 (
    hlc           INTEGER NOT NULL,
    device        TEXT NOT NULL,
    author        INTEGER NOT NULL,
    record        INTEGER NOT NULL,
    parent_hlc    INTEGER NOT NULL,
    parent_device TEXT NOT NULL,
    PRIMARY KEY (hlc, device, author, record, parent_hlc, parent_device)
) WITHOUT ROWID;
INSERT INTO change_parents_v14(hlc, device, author, record, parent_hlc, parent_device)
SELECT p.hlc, p.device, p.author, coalesce(l.record, 0), p.parent_hlc, p.parent_device
FROM change_parents p
LEFT JOIN device_numbers d ON d.id = p.device
LEFT JOIN change_log l ON l.device = d.n AND l.hlc = p.hlc AND l.author = p.author;
DROP TABLE change_parents;
ALTER TABLE change_parents_v14 RENAME TO change_parents;
CREATE INDEX change_parents_parent ON change_parents(parent_hlc, parent_device);

DROP VIEW changes;
CREATE VIEW changes AS
SELECT l.seq, l.hlc, d.id AS device, l.entity, r.id AS record, l.field, l.value, l.old,
       CASE WHEN l.by_cert THEN ce.user ELSE l.user_id END AS user_id,
       coalesce(l.at, strftime('%Y-%m-%dT%H:%M:%S', (l.hlc >> 16) / 1000, 'unixepoch') || printf('.%03dZ', (l.hlc >> 16) % 1000)) AS at,
       l.creates,
       CASE WHEN l.by_cert THEN ce.name ELSE l.user_name END AS user_name,
       l.frontier, m.id AS commit_id, l.commit_pos, l.resolves, l.salt, l.value_commit, l.head,
       l.author AS author_n, l.record AS record_n
FROM change_log l
JOIN device_numbers d ON d.n = l.device
JOIN record_numbers r ON r.n = l.record
LEFT JOIN commits m ON m.n = l.commit_n
LEFT JOIN certs ce ON ce.id = m.cert;
