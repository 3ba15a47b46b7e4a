//! Power lost in the middle of an import: the import is killed with SIGKILL at random
//! moments; the database must pass SQLite's integrity check, show either the state before
//! or the state after the import, and accept the import again.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Db, PASSWORD};
use crate::sync::Org;

const TRIALS: usize = 50;

fn copy_db(from: &Path, to_dir: &Path) -> std::path::PathBuf {
    let to = to_dir.join("masar.db");
    for suffix in ["", ".keys", "-wal", "-shm"] {
        let src = format!("{}{suffix}", from.display());
        if Path::new(&src).exists() {
            std::fs::copy(&src, format!("{}{suffix}", to.display())).expect("copy the database");
        }
    }
    to
}

fn import_cmd(db: &Path, bundle: &Path) -> Command {
    let mut cmd = crate::common::masar_command();
    cmd.env("MASAR_DB", db)
        .env("MASAR_USER", "admin")
        .env("MASAR_PASSWORD", PASSWORD)
        .env_remove("MASAR_CLOCK")
        .args(["--json", "bundle", "import"])
        .arg(bundle)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// A small deterministic generator, seeded from the clock and printed, so a failing
/// trial can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn an_import_killed_at_any_moment_leaves_the_database_before_or_after_and_can_be_redone() {
    let org = Org::new(2);
    let source = &org.laptops[0];
    let csv = source.dir().join("many.csv");
    let mut text = String::from("given,family,sex,born,nationality,city,phone,intake_date\n");
    for i in 0..800 {
        text.push_str(&format!(
            "G{i},F{i},female,1990-01-01,SYR,Rabat,06{i:08},2024-01-01\n"
        ));
    }
    std::fs::write(&csv, text).expect("csv");
    source.ok(&["import", "persons", csv.to_str().expect("utf-8")]);
    let bundle = org.export(0, &[]);
    let base = &org.laptops[1];
    let before = org.digest(1);

    // The state after, and how long an import takes here.
    let done_dir = tempfile::tempdir().expect("dir");
    let done_db = copy_db(&base.path, done_dir.path());
    let started = Instant::now();
    assert!(import_cmd(&done_db, &bundle)
        .status()
        .expect("run")
        .success());
    let span = started.elapsed().as_millis().max(20) as u64;
    let after = Db::from_parts(tempfile::tempdir().expect("dir"), done_db.clone()).ok(&["digest"])
        ["digest"]
        .clone();

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7);
    eprintln!("crash test seed {seed}, import takes about {span} ms");
    let mut rng = Lcg(seed);
    let mut interrupted = 0;
    for trial in 0..TRIALS {
        let dir = tempfile::tempdir().expect("dir");
        let db_path = copy_db(&base.path, dir.path());
        let mut child = import_cmd(&db_path, &bundle).spawn().expect("spawn");
        std::thread::sleep(Duration::from_millis(rng.next() % (span + span / 4)));
        if child.try_wait().expect("wait").is_none() {
            interrupted += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let db = Db::from_parts(dir, db_path);
        let check = db.ok(&["check"]);
        assert_eq!(check["ok"], true, "trial {trial} (seed {seed}): integrity");
        let digest = db.ok(&["digest"])["digest"].clone();
        assert!(
            digest == before || digest == after,
            "trial {trial} (seed {seed}): a state between before and after"
        );
        db.ok(&["bundle", "import", bundle.to_str().expect("utf-8")]);
        assert_eq!(
            db.ok(&["digest"])["digest"],
            after,
            "trial {trial} (seed {seed}): import again"
        );
    }
    assert!(
        interrupted >= TRIALS / 4,
        "only {interrupted} of {TRIALS} kills landed during an import"
    );
}
