-- Schema version 9: who took which data out of Masar, and when.
--
-- An export leaves no trace in the change log (it changes nothing), yet person-level data
-- that leaves is what data protection asks to account for: each export is recorded here,
-- on the laptop that wrote it (never synced: the file did not travel either).

CREATE TABLE exports (
    at            TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    what          TEXT NOT NULL,
    format        TEXT NOT NULL,
    period_from   TEXT NOT NULL,
    period_to     TEXT NOT NULL,
    pseudonymised INTEGER NOT NULL,
    rows          INTEGER NOT NULL,
    path          TEXT NOT NULL
);
