-- Schema version 2: the change log becomes an op log that merges across laptops.
--
-- Each change now names the changes it overwrote (its parents), whether it created its
-- record, who made it by name (users are local to a laptop), and the newest stamp its
-- device had seen from others (its frontier, which bounds how far ahead it may rank).
-- A field's heads are its changes that no other change overwrote: one head is the
-- current value, more than one is a conflict. Entity tables stay a cache of the log.

ALTER TABLE changes ADD COLUMN creates INTEGER NOT NULL DEFAULT 0;
ALTER TABLE changes ADD COLUMN user_name TEXT;
ALTER TABLE changes ADD COLUMN frontier INTEGER NOT NULL DEFAULT 0;

CREATE TABLE change_parents (
    hlc           INTEGER NOT NULL,
    device        TEXT NOT NULL,
    parent_hlc    INTEGER NOT NULL,
    parent_device TEXT NOT NULL,
    PRIMARY KEY (hlc, device, parent_hlc, parent_device)
) WITHOUT ROWID;
CREATE INDEX change_parents_parent ON change_parents(parent_hlc, parent_device);

CREATE TABLE field_heads (
    entity TEXT NOT NULL,
    record TEXT NOT NULL,
    field  TEXT NOT NULL,
    hlc    INTEGER NOT NULL,
    device TEXT NOT NULL,
    PRIMARY KEY (entity, record, field, hlc, device)
) WITHOUT ROWID;

-- Records whose changes arrived before they could be shown (their creation, or a record
-- they link to, has not arrived yet).
CREATE TABLE pending (
    entity TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (entity, record)
) WITHOUT ROWID;

CREATE TABLE imported_bundles (
    bundle_id   TEXT PRIMARY KEY,
    device      TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    changes     INTEGER NOT NULL
);

-- Devices whose bundles were read, with the certificate that proved them.
CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    last_seen  TEXT
);

-- Schema 1 logged no parents: in a single laptop's log each change overwrote the one
-- before it on the same field, and the first change of a record created it.
INSERT INTO change_parents(hlc, device, parent_hlc, parent_device)
SELECT hlc, device, prev_hlc, prev_device FROM (
    SELECT hlc, device,
           lag(hlc) OVER w AS prev_hlc,
           lag(device) OVER w AS prev_device
    FROM changes
    WINDOW w AS (PARTITION BY entity, record, field ORDER BY seq)
) WHERE prev_hlc IS NOT NULL;

UPDATE changes SET creates = 1
WHERE seq IN (SELECT min(seq) FROM changes GROUP BY entity, record);

UPDATE changes SET user_name = (SELECT name FROM users WHERE users.id = changes.user_id);

INSERT INTO field_heads(entity, record, field, hlc, device)
SELECT entity, record, field, hlc, device FROM changes c
WHERE seq IN (SELECT max(seq) FROM changes GROUP BY entity, record, field)
  AND field <> 'erased';

-- An erased person's personal fields have no value and can be in no conflict.
DELETE FROM field_heads
WHERE entity = 'person'
  AND field IN ('given', 'family', 'given_ar', 'family_ar', 'born', 'unhcr_id', 'arrival', 'needs', 'phone')
  AND record IN (SELECT id FROM persons WHERE erased = 1);

-- Text removed from the search index (an erased name) is overwritten, not left in old
-- index segments until they happen to merge.
INSERT INTO person_search(person_search, rank) VALUES ('secure-delete', 1);
