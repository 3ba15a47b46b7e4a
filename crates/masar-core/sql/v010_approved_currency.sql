-- Schema version 10: a committee's approval carries its currency.
--
-- Tranches count only against an approval in their own currency (crates/masar-core/src/
-- money.rs); approvals recorded before this version have none and are read in the
-- project's currency, as the version that recorded them compared them.
ALTER TABLE projects ADD COLUMN approved_currency TEXT;
