//! A counsellor's day: their caseload, the visits they owe, the latest events.

use super::*;

/// A funded project whose follow-up visit is overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct OverdueVisit {
    /// The project.
    pub project: String,
    /// Its title.
    pub title: Option<String>,
    /// Its stage.
    pub stage: Option<String>,
    /// When the visit was due.
    pub due: String,
}

/// A visit this user owes: the project, who to see and how to reach them, how late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct VisitDue {
    /// The project.
    pub project: String,
    /// Its title.
    pub title: Option<String>,
    /// Its members' names.
    pub beneficiaries: Vec<String>,
    /// The first member's phone, when recorded.
    pub phone: Option<String>,
    /// When the visit was due.
    pub due: NaiveDate,
    /// Days since then.
    pub days_overdue: i64,
}

/// Something that happened, for a list of recent events in words: the window phrases it
/// in the user's language from `kind`, `title` and `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RecentEvent {
    /// person_registered, project_opened, project_stage, tranche_paid, visit_recorded,
    /// session_created, person_referred or record_updated.
    pub kind: String,
    /// The entity of the record concerned (`person`, `project`, `session`).
    pub entity: String,
    /// Its id.
    pub record: String,
    /// How it is named: a person's name, a project's title, a session's topic.
    pub title: String,
    /// The stage reached, the amount paid, or the field changed.
    pub detail: Option<String>,
    /// Who.
    pub user: Option<String>,
    /// When, by the writer's clock.
    pub at: String,
}

/// What a counsellor sees first: their day.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Home {
    /// Today, by the core's clock.
    pub today: NaiveDate,
    /// The visits this user owes, most overdue first.
    pub overdue: Vec<VisitDue>,
    /// Today's and coming sessions.
    pub sessions: Vec<Session>,
    /// The persons this user registered, most recent first (at most 20 are listed).
    pub caseload: Vec<Person>,
    /// How many persons this user registered in all.
    pub caseload_count: i64,
    /// The latest events, in words.
    pub recent: Vec<RecentEvent>,
    /// The last exchanges.
    pub sync: SyncState,
}

impl Db {
    /// The persons this user follows (their own caseload), most recent first.
    pub(crate) fn caseload(&self, limit: usize) -> Result<Vec<Person>> {
        let (condition, arg) = Sight::own(self.user()).condition_1("t");
        Person::select(
            self.conn(),
            &format!("WHERE {condition} ORDER BY t.id DESC LIMIT ?2"),
            params![arg, limit as i64],
        )
    }

    /// Overdue visits on `day`, with each project's title and stage.
    pub(crate) fn overdue_visits(&self, day: NaiveDate) -> Result<Vec<OverdueVisit>> {
        let mut out = Vec::new();
        for (project, due) in self.overdue_followups(day)? {
            let p = Project::existing(self.conn(), &project)?;
            out.push(OverdueVisit {
                project,
                title: p.title,
                stage: p.stage,
                due,
            });
        }
        Ok(out)
    }

    /// The visits this user owes on `day`: overdue follow-ups of the projects they opened.
    pub(crate) fn my_visits_due(&self, day: NaiveDate) -> Result<Vec<VisitDue>> {
        let mut out = Vec::new();
        for (project, due) in self.overdue_followups(day)? {
            let p = Project::existing(self.conn(), &project)?;
            if !Sight::own(self.user()).follows(p.counsellor.as_deref()) {
                continue;
            }
            let members = self.members(&project)?;
            let due = date(Some(due))?.unwrap_or(day);
            out.push(VisitDue {
                beneficiaries: members.iter().map(Person::display_name).collect(),
                phone: members.iter().find_map(|m| m.phone.clone()),
                days_overdue: (day - due).num_days(),
                due,
                title: p.title,
                project,
            });
        }
        Ok(out)
    }

    /// The latest events on this laptop, newest first, as things that happened rather
    /// than fields written.
    pub(crate) fn recent_events(&self, limit: usize) -> Result<Vec<RecentEvent>> {
        let rows = crate::changes::latest(self.conn(), limit * 60)?;
        // The fields written with a record's creation follow its first change in the log,
        // one after the other: they are part of it, not later updates.
        let mut with_creation = std::collections::HashSet::new();
        let mut creating: Option<&str> = None;
        for r in rows.iter().rev() {
            if r.creates {
                creating = Some(&r.record);
            } else if creating == Some(r.record.as_str()) {
                with_creation.insert(r.seq);
            } else {
                creating = None;
            }
        }
        let mut out: Vec<RecentEvent> = Vec::new();
        let title_of = |entity: &str, id: &str| -> Result<Option<(String, String, String)>> {
            Ok(match entity {
                "person" => Person::read(self.conn(), id)?
                    .map(|p| ("person".into(), id.to_string(), p.display_name())),
                "project" => Project::read(self.conn(), id)?.map(|p| {
                    (
                        "project".into(),
                        id.to_string(),
                        p.title.unwrap_or_default(),
                    )
                }),
                "session" => Session::read(self.conn(), id)?.map(|s| {
                    (
                        "session".into(),
                        id.to_string(),
                        s.topic.unwrap_or_default(),
                    )
                }),
                _ => None,
            })
        };
        for crate::changes::Written {
            entity,
            record,
            field,
            value,
            creates,
            user_name: user,
            at,
            seq,
        } in rows
        {
            if with_creation.contains(&seq) {
                continue;
            }
            let text = crate::schema::Value::from_json(value.as_deref())
                .as_str()
                .map(str::to_string);
            let (kind, about, detail) = match (entity.as_str(), creates, field.as_str()) {
                ("person", true, _) => ("person_registered", title_of("person", &record)?, None),
                ("project", true, _) => ("project_opened", title_of("project", &record)?, None),
                ("project", false, "stage") => {
                    ("project_stage", title_of("project", &record)?, text)
                }
                ("session", true, _) => ("session_created", title_of("session", &record)?, None),
                ("disbursement", true, _) => match Disbursement::read(self.conn(), &record)? {
                    Some(d) => (
                        "tranche_paid",
                        title_of("project", d.project_id.as_deref().unwrap_or(""))?,
                        d.amount
                            .map(|a| format!("{a} {}", d.currency.unwrap_or_default())),
                    ),
                    None => continue,
                },
                ("followup", true, _) => match FollowUp::read(self.conn(), &record)? {
                    Some(f) => (
                        "visit_recorded",
                        title_of("project", f.project_id.as_deref().unwrap_or(""))?,
                        f.status,
                    ),
                    None => continue,
                },
                ("referral", true, _) => match crate::domain::Referral::read(self.conn(), &record)?
                {
                    Some(r) => (
                        "person_referred",
                        title_of("person", r.person_id.as_deref().unwrap_or(""))?,
                        r.partner,
                    ),
                    None => continue,
                },
                (
                    "person" | "project",
                    false,
                    "stage_date" | "counsellor" | "erased" | "birth_year",
                ) => continue,
                ("person" | "project", false, _) => (
                    "record_updated",
                    title_of(&entity, &record)?,
                    Some(field.clone()),
                ),
                _ => continue,
            };
            let Some((entity, record, title)) = about else {
                continue;
            };
            // One event for the several fields of one correction.
            if let Some(last) = out.last() {
                if last.kind == kind && last.record == record && last.at == at {
                    continue;
                }
            }
            out.push(RecentEvent {
                kind: kind.into(),
                entity,
                record,
                title,
                detail,
                user,
                at,
            });
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// What the counsellor sees first: the visits they owe, today's and coming sessions,
    /// their persons with their true count, the latest events and the last exchange.
    pub(crate) fn home(&self) -> Result<Home> {
        let today = self.clock().today();
        let day = today.format("%Y-%m-%d").to_string();
        let (condition, arg) = Sight::own(self.user()).condition_1("p");
        let caseload_count: i64 = self.conn().query_row(
            &format!("SELECT count(*) FROM persons p WHERE {condition}"),
            [&arg],
            |r| r.get(0),
        )?;
        Ok(Home {
            today,
            overdue: self.my_visits_due(today)?,
            sessions: Session::select(
                self.conn(),
                "WHERE t.date >= ?1 ORDER BY t.date, t.id LIMIT 10",
                [day],
            )?,
            caseload: self.caseload(20)?,
            caseload_count,
            recent: self.recent_events(10)?,
            sync: self.sync_state()?,
        })
    }
}
