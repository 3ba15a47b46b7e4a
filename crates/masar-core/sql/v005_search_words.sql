-- Schema version 5: search that answers a page, best matches first.
--
-- Each person's words (of their names in both scripts, folded) and their UNHCR number and
-- phone as whole codes, indexed, so that a fragment of any length is found by a range of
-- this index (exact word, then a word it begins) instead of a scan of every person; the
-- trigram index still finds fragments inside words. Filled from the persons on upgrade.

CREATE TABLE person_words (
    word   TEXT NOT NULL,
    person INTEGER NOT NULL,
    PRIMARY KEY (word, person)
) WITHOUT ROWID;
CREATE INDEX person_words_person ON person_words(person);

-- The persons table's list of cities (its city filter) read from an index, not a scan.
CREATE INDEX persons_city ON persons(city COLLATE NOCASE);
