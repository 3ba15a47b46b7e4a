//! Running the real `masar` binary against a fresh encrypted database.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The admin's password in every test database.
pub const PASSWORD: &str = "test-password-1";

/// A database in its own temporary folder, created with `masar init`.
pub struct Db {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub user: String,
    pub password: String,
}

pub fn masar_bin() -> &'static str {
    env!("CARGO_BIN_EXE_masar")
}

/// A `masar` command for the tests. Its key-file entries are wrapped at the former
/// argon2id cost (19 MiB, 2 passes) instead of 64 MiB, 3 passes: `MASAR_DEBUG_KDF_COST`,
/// which only a debug build honours, keeps the suite's two thousand log-ins as fast as
/// before the cost was raised. `attacks_keys.rs` clears it to test the real cost.
pub fn masar_command() -> Command {
    let mut cmd = Command::new(masar_bin());
    cmd.env(masar_core::DEBUG_KDF_COST_VAR, "low");
    cmd
}

/// Runs `masar` on `db` as `user`, with extra environment variables.
pub fn run(db: &Path, user: &str, password: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = masar_command();
    cmd.env_remove("MASAR_CLOCK")
        .env_remove("MASAR_NEW_PASSWORD")
        .env("MASAR_DB", db)
        .env("MASAR_USER", user)
        .env("MASAR_PASSWORD", password)
        .args(args)
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the masar binary runs")
}

impl Db {
    /// A new database whose admin is `admin`.
    pub fn new() -> Db {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("masar.db");
        let db = Db {
            _dir: dir,
            path,
            user: "admin".into(),
            password: PASSWORD.into(),
        };
        db.ok(&["init", "--org", "Test programme", "--device", "test-laptop"]);
        db
    }

    /// A database already made in `dir`, as the admin with the test password.
    pub fn from_parts(dir: tempfile::TempDir, path: PathBuf) -> Db {
        Db {
            _dir: dir,
            path,
            user: "admin".into(),
            password: PASSWORD.into(),
        }
    }

    /// The folder holding the database.
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// Runs `masar ARGS` as this database's user.
    pub fn run(&self, args: &[&str]) -> Output {
        run(&self.path, &self.user, &self.password, args, &[])
    }

    /// Runs `masar --json ARGS`, requires success and exactly one JSON value on stdout.
    pub fn ok(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "masar {args:?} failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!("masar {args:?} printed no single JSON value ({e}): {stdout}")
        })
    }

    /// Runs a command that creates something and returns the printed id.
    pub fn id(&self, args: &[&str]) -> String {
        let v = self.ok(args);
        v["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {v}"))
            .to_string()
    }

    /// Runs `masar --json ARGS`, requires failure, and returns stderr.
    pub fn fail(&self, args: &[&str]) -> String {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            !out.status.success(),
            "masar {args:?} should have failed but printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            out.stdout.is_empty(),
            "a failed command printed on stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Adds entries to the reference lists the tests use.
    pub fn with_reference_lists(self) -> Db {
        for (list, name) in [
            ("donor", "EU"),
            ("donor", "Monaco"),
            ("donor", "Japan"),
            ("sector", "tailoring"),
            ("sector", "food"),
            ("sector", "commerce"),
            ("currency", "MAD"),
            ("currency", "EUR"),
            ("partner", "Employment agency"),
        ] {
            self.ok(&["ref", "add", list, name]);
        }
        self
    }

    /// Registers a person as another user of this laptop (by name and password) and
    /// returns their id.
    pub fn person_as(&self, user: &str, password: &str, given: &str, family: &str) -> String {
        let out = run(
            &self.path,
            user,
            password,
            &[
                "--json",
                "person",
                "add",
                "--given",
                given,
                "--family",
                family,
                "--sex",
                "male",
                "--born",
                "1980-01-01",
                "--nationality",
                "SYR",
            ],
            &[],
        );
        assert!(
            out.status.success(),
            "person add as {user}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).expect("json")["id"]
            .as_str()
            .expect("an id")
            .to_string()
    }

    /// Registers a person with the required fields and returns their id.
    pub fn person(&self, given: &str, family: &str) -> String {
        self.id(&[
            "person",
            "add",
            "--given",
            given,
            "--family",
            family,
            "--sex",
            "female",
            "--born",
            "1990-01-01",
            "--nationality",
            "SYR",
        ])
    }

    /// A project approved for 1,000,000 MAD, ready for disbursements.
    pub fn approved_project(&self, kind: &str, members: &[&str]) -> String {
        self.approved_project_in(kind, members, "MAD")
    }

    /// A project approved for 1,000,000 in `currency`, ready for disbursements.
    pub fn approved_project_in(&self, kind: &str, members: &[&str], currency: &str) -> String {
        let mut args = vec![
            "project",
            "add",
            "--title",
            "Workshop",
            "--kind",
            kind,
            "--sector",
            "tailoring",
            "--date",
            "2019-01-01",
        ];
        for m in members {
            args.extend(["--member", m]);
        }
        let p = self.id(&args);
        self.ok(&[
            "project",
            "budget-add",
            &p,
            "--item",
            "Sewing machine",
            "--quantity",
            "1",
            "--unit-cost",
            "900",
        ]);
        self.ok(&["project", "stage", &p, "plan_ready", "--date", "2019-01-10"]);
        self.ok(&[
            "project",
            "stage",
            &p,
            "in_committee",
            "--date",
            "2019-01-20",
        ]);
        self.ok(&[
            "project",
            "decide",
            &p,
            "approved",
            "--date",
            "2019-02-01",
            "--amount",
            "1000000",
            "--currency",
            currency,
        ]);
        p
    }

    /// A digest of everything the database shows through the CLI, to prove a refused
    /// command changed nothing.
    pub fn snapshot(&self) -> String {
        let persons = self.ok(&["person", "list"]);
        let report = self.ok(&[
            "report",
            "indicators",
            "--from",
            "1900-01-01",
            "--to",
            "2100-12-31",
            "--by",
            "sex",
            "--by",
            "donor",
            "--by",
            "sector",
        ]);
        let mut histories = Vec::new();
        for p in persons.as_array().into_iter().flatten() {
            histories.push(self.ok(&["history", p["id"].as_str().unwrap_or_default()]));
        }
        format!(
            "{persons}\n{report}\n{}",
            serde_json::to_string(&histories).unwrap_or_default()
        )
    }
}
