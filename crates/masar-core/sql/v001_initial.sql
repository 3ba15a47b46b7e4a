-- Schema version 1. Never edit a migration that has shipped: add a new file instead.
--
-- Entity tables are a cache of the change log (`changes`): every column but `id` is a
-- field written through the one write path. Columns are nullable because a record can
-- exist before all its fields have arrived from another laptop.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id     TEXT PRIMARY KEY,
    name   TEXT,
    role   TEXT,
    active INTEGER
);

CREATE TABLE ref_items (
    id     TEXT PRIMARY KEY,
    list   TEXT,
    name   TEXT,
    active INTEGER
);
CREATE INDEX ref_items_list ON ref_items(list, name);

CREATE TABLE persons (
    id             TEXT PRIMARY KEY,
    given          TEXT,
    family         TEXT,
    given_ar       TEXT,
    family_ar      TEXT,
    sex            TEXT,
    born           TEXT,
    birth_year     INTEGER,
    nationality    TEXT,
    legal_status   TEXT,
    unhcr_id       TEXT,
    arrival        TEXT,
    city           TEXT,
    household_size INTEGER,
    languages      TEXT,
    education      TEXT,
    occupation     TEXT,
    skills         TEXT,
    needs          TEXT,
    phone          TEXT,
    consent        TEXT,
    consent_scope  TEXT,
    counsellor     TEXT,
    erased         INTEGER
);

-- Folded (lower-case, accent- and Arabic-diacritic-free) names, ids and phones; rowid is
-- the person's rowid in `persons`, a local link only.
CREATE VIRTUAL TABLE person_search USING fts5(text, tokenize = 'trigram');

CREATE TABLE intakes (
    id         TEXT PRIMARY KEY,
    person_id  TEXT REFERENCES persons(id),
    date       TEXT,
    referral   TEXT,
    notes      TEXT,
    counsellor TEXT
);
CREATE INDEX intakes_date ON intakes(date);
CREATE INDEX intakes_person ON intakes(person_id);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    kind        TEXT,
    date        TEXT,
    topic       TEXT,
    place       TEXT,
    facilitator TEXT
);
CREATE INDEX sessions_date ON sessions(date);

CREATE TABLE attendance (
    id         TEXT PRIMARY KEY,
    session_id TEXT REFERENCES sessions(id),
    person_id  TEXT REFERENCES persons(id),
    present    INTEGER,
    completed  INTEGER
);
CREATE INDEX attendance_session ON attendance(session_id);
CREATE INDEX attendance_person ON attendance(person_id);

CREATE TABLE projects (
    id                TEXT PRIMARY KEY,
    title             TEXT,
    kind              TEXT,
    sector            TEXT,
    place             TEXT,
    description       TEXT,
    currency          TEXT,
    own_contribution  TEXT,
    amount_requested  TEXT,
    stage             TEXT,
    stage_date        TEXT,
    committee_date    TEXT,
    approved_amount   TEXT,
    committee_remarks TEXT,
    registered_on     TEXT,
    counsellor        TEXT
);

CREATE TABLE members (
    id         TEXT PRIMARY KEY,
    project_id TEXT REFERENCES projects(id),
    person_id  TEXT REFERENCES persons(id),
    active     INTEGER
);
CREATE INDEX members_project ON members(project_id);
CREATE INDEX members_person ON members(person_id);

CREATE TABLE budget_lines (
    id         TEXT PRIMARY KEY,
    project_id TEXT REFERENCES projects(id),
    item       TEXT,
    quantity   TEXT,
    unit_cost  TEXT,
    active     INTEGER
);
CREATE INDEX budget_lines_project ON budget_lines(project_id);

CREATE TABLE stage_events (
    id         TEXT PRIMARY KEY,
    project_id TEXT REFERENCES projects(id),
    stage      TEXT,
    date       TEXT
);
CREATE INDEX stage_events_project ON stage_events(project_id);

CREATE TABLE disbursements (
    id         TEXT PRIMARY KEY,
    project_id TEXT REFERENCES projects(id),
    date       TEXT,
    amount     TEXT,
    currency   TEXT,
    donor      TEXT,
    mode       TEXT,
    receipt    TEXT
);
CREATE INDEX disbursements_date ON disbursements(date);
CREATE INDEX disbursements_project ON disbursements(project_id);

CREATE TABLE followups (
    id         TEXT PRIMARY KEY,
    project_id TEXT REFERENCES projects(id),
    date       TEXT,
    status     TEXT,
    revenue    TEXT,
    profit     TEXT,
    jobs       INTEGER,
    notes      TEXT,
    next_due   TEXT
);
CREATE INDEX followups_project ON followups(project_id, date);

CREATE TABLE referrals (
    id        TEXT PRIMARY KEY,
    person_id TEXT REFERENCES persons(id),
    partner   TEXT,
    date      TEXT,
    status    TEXT,
    notes     TEXT
);
CREATE INDEX referrals_person ON referrals(person_id);

-- The change log: one row per field written, the source of the audit trail and, later,
-- of sync. (device, hlc) identifies a change on every laptop; seq is local order only.
-- value and old are JSON; erasure blanks them for a person's personal fields.
CREATE TABLE changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    hlc     INTEGER NOT NULL,
    device  TEXT NOT NULL,
    entity  TEXT NOT NULL,
    record  TEXT NOT NULL,
    field   TEXT NOT NULL,
    value   TEXT,
    old     TEXT,
    user_id TEXT,
    at      TEXT NOT NULL,
    UNIQUE (device, hlc)
);
CREATE INDEX changes_record ON changes(record, hlc);
