//! Persons: registering, correcting, finding, erasing; intakes and referrals.

use super::*;

impl Masar {
    /// Registers a person from their fields (names as `person get` prints them) and,
    /// when `intake_date` is given, their reception interview, in one transaction.
    pub fn add_person(&mut self, new: NewPerson) -> Result<String> {
        self.db
            .register_person(new.fields.pairs(), new.intake_date.as_deref())
    }

    /// Changes fields of a person; refuses personal fields of an erased person.
    pub fn set_person(&mut self, id: &str, pairs: &[(String, String)]) -> Result<()> {
        self.db.set_person(id, pairs)
    }

    /// One person.
    pub fn person(&self, id: &str) -> Result<Person> {
        self.db.person(id)
    }

    /// Persons whose names (either script), UNHCR id or phone contain `search`, or all
    /// persons, ordered by family then given name.
    pub fn list_persons(&self, search: Option<&str>) -> Result<Vec<Person>> {
        self.db.list_persons(search)
    }

    /// Hands every person (matching `search`, best matches first) to `f` one at a time:
    /// the whole register without holding it whole.
    pub fn each_person(
        &self,
        search: Option<&str>,
        f: impl FnMut(Person) -> Result<()>,
    ) -> Result<()> {
        self.db.each_person(search, f)
    }

    /// Erases a person's personal data everywhere in this database, history included.
    pub fn erase_person(&mut self, id: &str) -> Result<()> {
        self.db.erase_person(id)
    }

    /// Records a reception interview.
    pub fn add_intake(&mut self, new: NewIntake) -> Result<String> {
        self.db
            .add_intake(&new.person, &new.date, new.referral.as_deref())
    }

    /// Refers a person to a partner of the organisation's list.
    pub fn add_referral(&mut self, new: NewReferral) -> Result<String> {
        self.db
            .add_referral(&new.person, &new.partner, &new.date, new.status.as_deref())
    }

    /// Imports persons from CSV text: all rows or none.
    pub fn import_persons_csv(&mut self, data: &[u8]) -> Result<PersonImport> {
        self.db.import_persons_csv(data)
    }

    /// A person's whole journey as dated events, oldest first.
    pub fn timeline(&self, person: &str) -> Result<Timeline> {
        self.db.timeline(person)
    }

    /// Persons who may be the one being registered: the same family name (folded) and a
    /// given name that contains, or is contained in, the one typed.
    pub fn similar_persons(&self, given: &str, family: &str) -> Result<Vec<Person>> {
        self.db.similar_persons(given, family)
    }

    /// A page of the persons table: the filters in SQL, so a large register is never
    /// read whole.
    pub fn persons_page(&self, q: &PersonQuery) -> Result<PersonsPage> {
        self.db.persons_page(q)
    }
}
