//! Who sees which persons: the one rule that lists, search, record pages, home, reports,
//! exports and scoped bundles ask, so that caseloads (issue 25) change it in one place.
//!
//! Supervisors and administrators see every person (`Permission::SeeAllPersons`). A
//! counsellor's *caseload* is the persons they follow — a person's `counsellor`, and a
//! project's for what hangs on it. Today a counsellor's home page, dashboard and reports
//! are their caseload's, and their lists and record pages still show every person: those
//! ask [`Sight::of`] too, and will narrow when the caseload issue makes the rule say so.

use crate::auth::{Permission, User};

/// What a user sees of the persons and what hangs on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sight {
    /// Every person.
    Everyone,
    /// The persons (and projects) this user follows, by their user id.
    Caseload(String),
}

impl Sight {
    /// What `user` sees: everyone with the right to see all persons, else their caseload.
    pub fn of(user: &User) -> Sight {
        if Permission::SeeAllPersons.allows(user.role) {
            Sight::Everyone
        } else {
            Sight::Caseload(user.id.clone())
        }
    }

    /// What `user`'s lists, search and record pages show. Until caseloads are enforced
    /// (issue 25) that is every person, whatever the role: the caseload issue narrows it
    /// here, to [`Sight::of`], and every list and page follows.
    pub fn in_lists(_user: &User) -> Sight {
        Sight::Everyone
    }

    /// `user`'s own caseload, whatever their role (a home page's "mine").
    pub fn own(user: &User) -> Sight {
        Sight::Caseload(user.id.clone())
    }

    /// The caseload of the user with this id.
    pub fn caseload_of(user_id: &str) -> Sight {
        Sight::Caseload(user_id.to_string())
    }

    /// The user whose caseload this is, when it is one.
    pub fn counsellor(&self) -> Option<&str> {
        match self {
            Sight::Everyone => None,
            Sight::Caseload(id) => Some(id),
        }
    }

    /// Whether a record that `counsellor` follows (a person's, a project's) is in sight.
    pub fn follows(&self, counsellor: Option<&str>) -> bool {
        match self {
            Sight::Everyone => true,
            Sight::Caseload(id) => counsellor == Some(id.as_str()),
        }
    }

    /// An SQL condition on the table `alias` (persons or projects: both have a
    /// `counsellor` column) with its one argument, `?` for the caller to number; `None`
    /// when everything is in sight.
    pub fn condition(&self, alias: &str) -> Option<(String, String)> {
        self.counsellor()
            .map(|id| (format!("{alias}.counsellor = ?"), id.to_string()))
    }

    /// As [`Sight::condition`], its argument numbered `?1`, and always one: a condition
    /// that holds for every row when everything is in sight.
    pub fn condition_1(&self, alias: &str) -> (String, String) {
        match self.counsellor() {
            Some(id) => (format!("{alias}.counsellor = ?1"), id.to_string()),
            None => ("?1 = ?1".into(), String::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn user(role: Role) -> User {
        User {
            id: "u1".into(),
            name: "amina".into(),
            role,
        }
    }

    #[test]
    fn supervisors_and_administrators_see_everyone_and_a_counsellor_their_caseload() {
        for role in [Role::Supervisor, Role::Admin] {
            let sight = Sight::of(&user(role));
            assert_eq!(sight, Sight::Everyone);
            assert!(sight.follows(Some("someone else")) && sight.follows(None));
            assert_eq!(sight.condition("t"), None);
        }
        let sight = Sight::of(&user(Role::Counsellor));
        assert_eq!(sight.counsellor(), Some("u1"));
        assert!(sight.follows(Some("u1")) && !sight.follows(Some("u2")) && !sight.follows(None));
        assert_eq!(
            sight.condition("p"),
            Some(("p.counsellor = ?".to_string(), "u1".to_string()))
        );
        assert_eq!(Sight::own(&user(Role::Admin)).counsellor(), Some("u1"));
        // Until caseloads are enforced, lists show a counsellor every person.
        assert_eq!(Sight::in_lists(&user(Role::Counsellor)), Sight::Everyone);
    }
}
