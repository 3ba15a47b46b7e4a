-- Schema version 8: the persons table in name order without sorting it.
--
-- The persons table's default order, and a search that matches thousands of persons
-- equally well, read persons by family then given name: from this index, the first page
-- is its first entries (or the first that match), not a sort of every person.

CREATE INDEX persons_name ON persons(family COLLATE NOCASE, given COLLATE NOCASE, id);
