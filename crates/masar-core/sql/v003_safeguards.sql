-- Schema version 3: the journey's safeguards.
--
-- A stage change can be taken back while nothing depends on it: the event stays in the
-- log and in the table, marked undone. A tranche paid above the amount the committee
-- approved carries the supervisor's reason, which the history shows.

ALTER TABLE stage_events ADD COLUMN undone INTEGER;
ALTER TABLE disbursements ADD COLUMN override_reason TEXT;
