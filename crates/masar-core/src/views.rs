//! Read models for the window's screens and the CLI: what a screen shows, assembled in one
//! place, as the JSON both faces send on (records as `Record::to_json` prints them).

use rusqlite::params;
use serde_json::{json, Value as Json};

use crate::changes::Entity;
use crate::domain::{read_record, Record};
use crate::store::Masar;
use crate::Result;

fn ids(m: &Masar, sql: &str, arg: &str) -> Result<Vec<String>> {
    let mut stmt = m.conn().prepare(sql)?;
    let out = stmt.query_map([arg], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(out)
}

fn records(m: &Masar, entity: Entity, ids: &[String]) -> Result<Vec<Record>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(r) = read_record(m.conn(), entity, id)? {
            out.push(r);
        }
    }
    Ok(out)
}

fn display_name(p: &Record) -> String {
    let latin = format!("{} {}", p.text("given").unwrap_or(""), p.text("family").unwrap_or("")).trim().to_string();
    if latin.is_empty() {
        "—".into()
    } else {
        latin
    }
}

impl Masar {
    /// The persons this user registered, most recent first.
    pub fn caseload(&self, limit: usize) -> Result<Vec<Record>> {
        let me = self.user().id.clone();
        let ids = ids(self, "SELECT id FROM persons WHERE counsellor = ?1 ORDER BY id DESC", &me)?;
        records(self, Entity::Person, &ids[..ids.len().min(limit)])
    }

    /// Sessions, latest first, with how many attended.
    pub fn sessions_view(&self) -> Result<Json> {
        let mut stmt = self.conn().prepare(
            "SELECT s.id, (SELECT count(*) FROM attendance a WHERE a.session_id = s.id AND a.present = 1)
             FROM sessions s ORDER BY s.date DESC, s.id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::new();
        for (id, n) in rows {
            if let Some(r) = read_record(self.conn(), Entity::Session, &id)? {
                let mut j = r.to_json();
                j["attendees"] = n.into();
                out.push(j);
            }
        }
        Ok(Json::Array(out))
    }

    /// One session with the persons present.
    pub fn session_view(&self, id: &str) -> Result<Json> {
        let s = crate::domain::existing(self.conn(), Entity::Session, id)?;
        let present = self.attendees(id)?;
        let persons: Vec<Json> = records(self, Entity::Person, &present)?.iter().map(Record::to_json).collect();
        Ok(json!({ "session": s.to_json(), "attendees": persons }))
    }

    /// Projects with their members' names, for the board.
    pub fn projects_view(&self) -> Result<Json> {
        let all = self
            .conn()
            .prepare("SELECT id FROM projects ORDER BY stage_date DESC, id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        let mut out = Vec::new();
        for p in records(self, Entity::Project, &all)? {
            let members = ids(self, "SELECT person_id FROM members WHERE project_id = ?1 AND active = 1 ORDER BY person_id", &p.id)?;
            let names: Vec<String> = records(self, Entity::Person, &members)?.iter().map(display_name).collect();
            let mut j = p.to_json();
            j["member_names"] = json!(names);
            out.push(j);
        }
        Ok(Json::Array(out))
    }

    /// One project with members, plan, stages, tranches and visits.
    pub fn project_view(&self, id: &str) -> Result<Json> {
        let p = crate::domain::existing(self.conn(), Entity::Project, id)?;
        let members = ids(self, "SELECT person_id FROM members WHERE project_id = ?1 AND active = 1 ORDER BY person_id", id)?;
        let budget = self.budget(id)?;
        let list = |entity: Entity, table: &str, order: &str| -> Result<Vec<Json>> {
            let found = ids(self, &format!("SELECT id FROM {table} WHERE project_id = ?1 ORDER BY {order}, id"), id)?;
            Ok(records(self, entity, &found)?.iter().map(Record::to_json).collect())
        };
        Ok(json!({
            "project": p.to_json(),
            "members": records(self, Entity::Person, &members)?.iter().map(Record::to_json).collect::<Vec<_>>(),
            "budget": {
                "lines": budget.lines.iter().map(|l| {
                    let mut j = l.to_json();
                    let n = |f: &str| l.text(f).and_then(|s| s.parse::<rust_decimal::Decimal>().ok()).unwrap_or_default();
                    j["total"] = (n("quantity") * n("unit_cost")).to_string().into();
                    j
                }).collect::<Vec<_>>(),
                "total": budget.total.to_string(),
                "own_contribution": budget.own_contribution.to_string(),
                "to_finance": budget.to_finance.to_string(),
            },
            "stages": list(Entity::StageEvent, "stage_events", "date")?,
            "disbursements": list(Entity::Disbursement, "disbursements", "date")?,
            "followups": list(Entity::FollowUp, "followups", "date")?,
        }))
    }

    /// A person's whole journey as dated events, oldest first.
    pub fn timeline(&self, person: &str) -> Result<Json> {
        let p = crate::domain::existing(self.conn(), Entity::Person, person)?;
        let mut events: Vec<(String, Json)> = Vec::new();
        let mut add = |date: Option<String>, kind: &str, id: String, label: String| {
            let d = date.unwrap_or_default();
            events.push((d.clone(), json!({ "date": d, "kind": kind, "id": id, "label": label })));
        };
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id, date, referral FROM intakes WHERE person_id = ?1")?;
        for row in stmt.query_map([person], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?)))? {
            let (id, date, referral) = row?;
            add(date, "intake", id, referral.unwrap_or_default());
        }
        let mut stmt = conn.prepare(
            "SELECT s.id, s.date, s.kind, s.topic FROM attendance a JOIN sessions s ON s.id = a.session_id
             WHERE a.person_id = ?1 AND a.present = 1",
        )?;
        for row in stmt.query_map([person], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?)))? {
            let (id, date, kind, topic) = row?;
            add(date, &kind, id, topic.unwrap_or_default());
        }
        let mut stmt = conn.prepare(
            "SELECT p.id, e.date, e.stage, p.title FROM members m JOIN projects p ON p.id = m.project_id
             JOIN stage_events e ON e.project_id = p.id WHERE m.person_id = ?1",
        )?;
        for row in stmt.query_map([person], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?)))? {
            let (id, date, stage, title) = row?;
            add(date, &format!("stage:{stage}"), id, title.unwrap_or_default());
        }
        let mut stmt = conn.prepare(
            "SELECT d.id, d.date, d.amount || ' ' || d.currency FROM members m JOIN disbursements d ON d.project_id = m.project_id
             WHERE m.person_id = ?1",
        )?;
        for row in stmt.query_map([person], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?)))? {
            let (id, date, label) = row?;
            add(date, "disbursement", id, label.unwrap_or_default());
        }
        let mut stmt = conn.prepare(
            "SELECT f.id, f.date, f.status FROM members m JOIN followups f ON f.project_id = m.project_id WHERE m.person_id = ?1",
        )?;
        for row in stmt.query_map([person], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?)))? {
            let (id, date, status) = row?;
            add(date, "followup", id, status.unwrap_or_default());
        }
        let mut stmt = conn.prepare("SELECT id, date, partner, status FROM referrals WHERE person_id = ?1")?;
        for row in stmt.query_map([person], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, Option<String>>(3)?)))? {
            let (id, date, partner, status) = row?;
            add(date, "referral", id, format!("{} ({})", partner.unwrap_or_default(), status.unwrap_or_default()));
        }
        events.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(json!({ "person": p.to_json(), "events": events.into_iter().map(|(_, e)| e).collect::<Vec<_>>() }))
    }

    /// Persons who may be the one being registered: the same family name (folded) and a
    /// given name that contains, or is contained in, the one typed.
    pub fn similar_persons(&self, given: &str, family: &str) -> Result<Vec<Record>> {
        let (g, f) = (crate::search::fold(given.trim()), crate::search::fold(family.trim()));
        if f.chars().count() < 2 {
            return Ok(Vec::new());
        }
        Ok(self
            .list_persons(Some(family))?
            .into_iter()
            .filter(|p| {
                let pg = crate::search::fold(p.text("given").unwrap_or(""));
                let pf = crate::search::fold(p.text("family").unwrap_or(""));
                pf == f && (g.is_empty() || pg.contains(&g) || g.contains(&pg))
            })
            .collect())
    }

    /// The latest changes on this laptop, newest first.
    pub fn recent_changes(&self, limit: usize) -> Result<Json> {
        let mut stmt = self.conn().prepare(
            "SELECT entity, record, field, user_name, at, device FROM changes WHERE entity <> 'user' ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map(params![limit as i64], |r| {
                Ok(json!({
                    "entity": r.get::<_, String>(0)?, "record": r.get::<_, String>(1)?, "field": r.get::<_, String>(2)?,
                    "user": r.get::<_, Option<String>>(3)?, "at": r.get::<_, String>(4)?, "device": r.get::<_, String>(5)?,
                }))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Json::Array(rows))
    }

    /// The state of the last exchanges: last export, last import, bundles read, pending.
    pub fn sync_state(&self) -> Result<Json> {
        let last_import: Option<String> = self.conn().query_row("SELECT max(imported_at) FROM imported_bundles", [], |r| r.get(0))?;
        let bundles: i64 = self.conn().query_row("SELECT count(*) FROM imported_bundles", [], |r| r.get(0))?;
        Ok(json!({
            "last_export": self.preference_raw("last_export_at")?,
            "last_import": last_import,
            "bundles_imported": bundles,
            "pending": self.pending_count()?,
            "conflicts": self.conflicts()?.len(),
            "sync_folder": self.preference_raw("sync_folder")?,
        }))
    }

    fn preference_raw(&self, key: &str) -> Result<Option<String>> {
        Ok(crate::store::meta(self.conn(), key)?)
    }

    /// A setting of this user on this laptop (language, …); never synced.
    pub fn preference(&self, key: &str) -> Result<Option<String>> {
        self.preference_raw(&format!("pref:{}:{key}", self.user().id))
    }

    /// Saves a setting of this user on this laptop.
    pub fn set_preference(&mut self, key: &str, value: &str) -> Result<()> {
        Ok(crate::store::set_meta(self.conn(), &format!("pref:{}:{key}", self.user().id), value)?)
    }

    /// Saves the sync folder of this laptop.
    pub fn set_sync_folder(&mut self, folder: &str) -> Result<()> {
        Ok(crate::store::set_meta(self.conn(), "sync_folder", folder)?)
    }

    /// What the counsellor sees first: overdue visits (with the project's title), today's
    /// and coming sessions, their caseload, the latest changes and the last exchange.
    pub fn home(&self) -> Result<Json> {
        let today = self.clock().today();
        let mut overdue = Vec::new();
        for (project, due) in self.overdue_followups(today)? {
            let p = crate::domain::existing(self.conn(), Entity::Project, &project)?;
            overdue.push(json!({ "project": project, "title": p.text("title"), "due": due, "stage": p.text("stage") }));
        }
        let day = today.format("%Y-%m-%d").to_string();
        let coming = ids(self, "SELECT id FROM sessions WHERE date >= ?1 ORDER BY date, id LIMIT 10", &day)?;
        Ok(json!({
            "today": day,
            "overdue": overdue,
            "sessions": records(self, Entity::Session, &coming)?.iter().map(Record::to_json).collect::<Vec<_>>(),
            "caseload": self.caseload(20)?.iter().map(Record::to_json).collect::<Vec<_>>(),
            "recent": self.recent_changes(10)?,
            "sync": self.sync_state()?,
        }))
    }
}
