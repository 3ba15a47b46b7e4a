//! The organisation's reference lists: donors, sectors, cities, partners, currencies.

use rusqlite::OptionalExtension;

use super::fact_id;
use crate::auth::Permission;
use crate::changes::Db;
use crate::error::{required_text, InputError, Problem};
use crate::schema::{Entity, Value, REFERENCE_LISTS};
use crate::Result;

fn entry_exists(db: &Db, id: &str) -> Result<bool> {
    Ok(db
        .conn()
        .query_row("SELECT 1 FROM ref_items WHERE id = ?1", [id], |_| Ok(()))
        .optional()?
        .is_some())
}

fn list_name(list: &str) -> Result<&'static str, InputError> {
    REFERENCE_LISTS
        .iter()
        .copied()
        .find(|l| *l == list.trim())
        .ok_or_else(|| InputError::Invalid {
            field: "list".into(),
            value: list.into(),
            problem: Problem::NotOneOf(REFERENCE_LISTS.iter().map(|l| (*l).to_string()).collect()),
        })
}

fn normalise(list: &str, name: &str) -> String {
    let t = name.trim();
    if list == "currency" {
        t.to_ascii_uppercase()
    } else {
        t.to_string()
    }
}

impl Db {
    /// Adds an entry to a reference list (admin only); adding an existing one revives it.
    pub(crate) fn add_reference(&mut self, list: &str, name: &str) -> Result<String> {
        self.require(Permission::EditReferenceLists)?;
        let list = list_name(list)?;
        let name = normalise(list, &required_text("name", name, "give the entry's name")?);
        if list == "currency" && !(name.len() == 3 && name.chars().all(|c| c.is_ascii_alphabetic()))
        {
            return Err(InputError::Invalid {
                field: "currency".into(),
                value: name,
                problem: Problem::NotACurrency,
            }
            .into());
        }
        // One id per (list, name) everywhere, so two laptops adding "EU" make one entry.
        let id = fact_id("ref", &[list, &name.to_lowercase()]);
        let exists = entry_exists(self, &id)?;
        self.write(|w| {
            if exists {
                w.update(Entity::RefItem, &id, &[("active", Value::Bool(true))])?;
            } else {
                w.create_with_id(
                    Entity::RefItem,
                    &id,
                    &[
                        ("list", Value::text(list)),
                        ("name", Value::text(&name)),
                        ("active", Value::Bool(true)),
                    ],
                )?;
            }
            Ok(id.clone())
        })
    }

    /// Retires an entry of a reference list (admin only); records that use it keep it.
    pub(crate) fn remove_reference(&mut self, list: &str, name: &str) -> Result<()> {
        self.require(Permission::EditReferenceLists)?;
        let list = list_name(list)?;
        let name = normalise(list, name);
        let id = fact_id("ref", &[list, &name.to_lowercase()]);
        if !entry_exists(self, &id)? {
            return Err(InputError::NotFound {
                what: "reference entry",
                id: format!("{list} {name}"),
            }
            .into());
        }
        self.write(|w| {
            w.update(Entity::RefItem, &id, &[("active", Value::Bool(false))])
                .map(|_| ())
        })
    }

    /// Makes an active entry of the currency list the programme's currency (admin): the
    /// currency a committee's approval is in unless the supervisor names another. Any
    /// other entry so marked is unmarked.
    pub(crate) fn set_programme_currency(&mut self, name: &str) -> Result<String> {
        self.require(Permission::EditReferenceLists)?;
        let name = self.check_reference("currency", name)?;
        let id = fact_id("ref", &["currency", &name.to_lowercase()]);
        let others: Vec<String> = self
            .conn()
            .prepare(
                "SELECT id FROM ref_items WHERE list = 'currency' AND preferred = 1 AND id <> ?1",
            )?
            .query_map([&id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        self.write(|w| {
            for other in &others {
                w.update(Entity::RefItem, other, &[("preferred", Value::Bool(false))])?;
            }
            w.update(Entity::RefItem, &id, &[("preferred", Value::Bool(true))])?;
            Ok(())
        })?;
        Ok(name)
    }

    /// The programme's currency: the active currency marked so (the first by name, should
    /// two administrators have marked two on laptops apart), if any.
    pub(crate) fn programme_currency(&self) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT name FROM ref_items WHERE list = 'currency' AND active = 1 AND preferred = 1
                 ORDER BY name COLLATE NOCASE, name LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The active entries of a reference list, sorted.
    pub(crate) fn references(&self, list: &str) -> Result<Vec<String>> {
        let list = list_name(list)?;
        let mut stmt = self
            .conn()
            .prepare("SELECT name FROM ref_items WHERE list = ?1 AND active = 1 ORDER BY name COLLATE NOCASE")?;
        let names = stmt
            .query_map([list], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(names)
    }

    /// Checks that `value` is an active entry of `list` (case-insensitively) and returns
    /// the entry as the list spells it.
    pub(crate) fn check_reference(&self, list: &'static str, value: &str) -> Result<String> {
        let value = required_text(list, value, &format!("give the {list}"))?;
        let known = self.references(list)?;
        match known
            .iter()
            .find(|k| k.eq_ignore_ascii_case(&value) || k.to_lowercase() == value.to_lowercase())
        {
            Some(k) => Ok(k.clone()),
            None => Err(InputError::UnknownReference {
                list,
                value,
                known: if known.is_empty() {
                    "it is empty".into()
                } else {
                    known.join(", ")
                },
            }
            .into()),
        }
    }
}
