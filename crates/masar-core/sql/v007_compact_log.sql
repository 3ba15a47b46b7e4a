-- Schema version 7: the change log stores each change compactly.
--
-- The log was most of the file (8.8 KB per person at 10,000 persons, of which 7.8 KB
-- were the log, its indexes and the heads). What a change repeated is now stored once:
--   * its device and its record as local numbers (`device_numbers`, `record_numbers`),
--     not 36-character ids (a record has 8 changes on average: its id is now kept once);
--   * its commit as the commit row's local number, not a 64-character id;
--   * its author's id and name only when they differ from those its commit's
--     certificate names (`by_cert` = 1 otherwise: every signed change of a user);
--   * its wall time only when it differs from the time its stamp carries (the stamp's
--     milliseconds, written the same way), which is the case for almost every change;
--   * whether it is a head of its field as a flag on its row instead of a table of heads,
--     with the few fields that have more than one head listed in `forked_fields`.
-- The numbers are local to this file and never leave it: bundles carry ids, as before.
-- `changes` becomes a view that gives every change as it was before, ids and all, so that
-- what reads the log reads it as it always did; what writes it writes `change_log`.

CREATE TABLE device_numbers (
    n  INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE
);
INSERT INTO device_numbers(id) SELECT DISTINCT device FROM changes ORDER BY device;

CREATE TABLE record_numbers (
    n  INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE
);
INSERT INTO record_numbers(id) SELECT record FROM changes GROUP BY record ORDER BY min(seq);

-- The certificate's user name, to give a change's author without storing it per change.
ALTER TABLE certs ADD COLUMN name TEXT;
UPDATE certs SET name = json_extract(body, '$.name');

-- Commits get a local number that VACUUM never changes (an INTEGER PRIMARY KEY).
CREATE TABLE commits_numbered (
    n         INTEGER PRIMARY KEY,
    id        TEXT NOT NULL UNIQUE,
    cert      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    signature BLOB NOT NULL,
    absent    TEXT
);
INSERT INTO commits_numbered(id, cert, size, signature, absent) SELECT id, cert, size, signature, absent FROM commits;
DROP TABLE commits;
ALTER TABLE commits_numbered RENAME TO commits;
CREATE INDEX commits_cert ON commits(cert);

CREATE TABLE change_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    hlc          INTEGER NOT NULL,
    device       INTEGER NOT NULL,
    entity       TEXT NOT NULL,
    record       INTEGER NOT NULL,
    field        TEXT NOT NULL,
    creates      INTEGER NOT NULL DEFAULT 0,
    resolves     INTEGER NOT NULL DEFAULT 0,
    head         INTEGER NOT NULL DEFAULT 0,
    by_cert      INTEGER NOT NULL DEFAULT 0,
    frontier     INTEGER NOT NULL DEFAULT 0,
    commit_n     INTEGER,
    commit_pos   INTEGER,
    value        TEXT,
    salt         BLOB,
    old          TEXT,
    value_commit BLOB,
    user_id      TEXT,
    user_name    TEXT,
    at           TEXT
);

INSERT INTO change_log(seq, hlc, device, entity, record, field, creates, resolves, head, by_cert, frontier,
                       commit_n, commit_pos, value, salt, old, value_commit, user_id, user_name, at)
SELECT c.seq, c.hlc, d.n, c.entity, r.n, c.field, c.creates, c.resolves,
       h.hlc IS NOT NULL,
       coalesce(m.n IS NOT NULL AND ce.user IS c.user_id AND ce.name IS c.user_name, 0),
       c.frontier, m.n, c.commit_pos, c.value, c.salt, c.old, c.value_commit,
       CASE WHEN coalesce(m.n IS NOT NULL AND ce.user IS c.user_id AND ce.name IS c.user_name, 0) THEN NULL ELSE c.user_id END,
       CASE WHEN coalesce(m.n IS NOT NULL AND ce.user IS c.user_id AND ce.name IS c.user_name, 0) THEN NULL ELSE c.user_name END,
       CASE WHEN c.at = strftime('%Y-%m-%dT%H:%M:%S', (c.hlc >> 16) / 1000, 'unixepoch') || printf('.%03dZ', (c.hlc >> 16) % 1000)
            THEN NULL ELSE c.at END
FROM changes c
JOIN device_numbers d ON d.id = c.device
JOIN record_numbers r ON r.id = c.record
LEFT JOIN commits m ON m.id = c.commit_id
LEFT JOIN certs ce ON ce.id = m.cert
LEFT JOIN field_heads h ON h.entity = c.entity AND h.record = c.record AND h.field = c.field AND h.hlc = c.hlc AND h.device = c.device
ORDER BY c.seq;

-- A sequence number is never given twice, even that of a change removed since.
INSERT INTO sqlite_sequence(name, seq)
SELECT 'change_log', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'change_log');
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0))
WHERE name = 'change_log';

-- Fields with more than one head: those a conflict may be on.
CREATE TABLE forked_fields (
    entity TEXT NOT NULL,
    record TEXT NOT NULL,
    field  TEXT NOT NULL,
    PRIMARY KEY (entity, record, field)
) WITHOUT ROWID;
INSERT INTO forked_fields(entity, record, field)
SELECT entity, record, field FROM field_heads GROUP BY entity, record, field HAVING count(*) > 1;

DROP TABLE field_heads;
DROP TABLE changes;
DELETE FROM sqlite_sequence WHERE name = 'changes';

CREATE UNIQUE INDEX change_log_identity ON change_log(device, hlc);
-- A record's changes are few: they are ordered by stamp after they are found.
CREATE INDEX change_log_record ON change_log(record);
CREATE INDEX change_log_commit ON change_log(commit_n);
-- Erasures, few: whether a log holds any, and which persons, without a scan.
CREATE INDEX change_log_erasures ON change_log(record) WHERE field = 'erased';

-- The log as it reads everywhere: ids, authors and times, as bundles carry them.
CREATE VIEW changes AS
SELECT l.seq, l.hlc, d.id AS device, l.entity, r.id AS record, l.field, l.value, l.old,
       CASE WHEN l.by_cert THEN ce.user ELSE l.user_id END AS user_id,
       coalesce(l.at, strftime('%Y-%m-%dT%H:%M:%S', (l.hlc >> 16) / 1000, 'unixepoch') || printf('.%03dZ', (l.hlc >> 16) % 1000)) AS at,
       l.creates,
       CASE WHEN l.by_cert THEN ce.name ELSE l.user_name END AS user_name,
       l.frontier, m.id AS commit_id, l.commit_pos, l.resolves, l.salt, l.value_commit, l.head
FROM change_log l
JOIN device_numbers d ON d.n = l.device
JOIN record_numbers r ON r.n = l.record
LEFT JOIN commits m ON m.n = l.commit_n
LEFT JOIN certs ce ON ce.id = m.cert;
