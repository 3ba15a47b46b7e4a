-- Schema version 6: reports read the period's events from indexes alone.
--
-- The indicator report counts persons by the events of a period: intakes by date, and
-- attendances of the period's sessions. Each index below holds what that count reads
-- (the person, and whether they were present), so SQLite never fetches a table row for an
-- event, which on an encrypted file costs a page decrypted per event. Each replaces a
-- narrower index on the same leading column, which it serves as well.

CREATE INDEX intakes_date_person ON intakes(date, person_id);
DROP INDEX intakes_date;
CREATE INDEX attendance_session_present ON attendance(session_id, present, person_id);
DROP INDEX attendance_session;

