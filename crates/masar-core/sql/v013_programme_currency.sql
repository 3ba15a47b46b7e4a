-- Schema version 13: the programme's currency (issue 21, item 1).
--
-- An administrator marks one entry of the currency list as the programme's: a committee's
-- approval is in it unless the supervisor says otherwise, and the window preselects it.
-- A field of reference entries, synced like the others; NULL on entries made before.
ALTER TABLE ref_items ADD COLUMN preferred INTEGER;
