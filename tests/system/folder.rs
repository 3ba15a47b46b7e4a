//! Sync through a shared folder (issue 13): `masar sync --folder`, each laptop writing only
//! into its own subfolder, through the real binary on real files.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::Db;
use crate::sync::Org;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

fn sync(db: &Db, folder: &Path) -> Value {
    db.ok(&["sync", "--folder", s(folder)])
}

fn device(db: &Db) -> String {
    db.ok(&["status"])["device_id"]
        .as_str()
        .expect("device")
        .to_string()
}

/// Every file under `dir`, recursively, relative to it.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir").filter_map(|e| e.ok()) {
            if e.file_type().expect("type").is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).expect("inside").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Three laptops sharing one folder converge after two rounds of `masar sync`, each having
/// written only into its own subfolder. A laptop relays what it imported at its next sync
/// (as a supervisor's merged export does: a reader may have missed the original), so one
/// more round passes the relays around, and after it a sync finds nothing to export or
/// import.
#[test]
fn three_laptops_sharing_a_folder_converge_each_writing_only_its_own_subfolder() {
    let org = Org::new(3);
    let shared = tempfile::tempdir().expect("dir");
    let folder = shared.path();
    for (i, laptop) in org.laptops.iter().enumerate() {
        laptop.person(&format!("Laptop{i}"), "Person");
    }
    for _round in 0..2 {
        for laptop in &org.laptops {
            let before = files(folder);
            let done = sync(laptop, folder);
            assert!(
                done["refused"].as_array().expect("refused").is_empty(),
                "{done}"
            );
            let own = Path::new("masar").join(device(laptop));
            for new in files(folder).into_iter().filter(|f| !before.contains(f)) {
                assert!(new.starts_with(&own), "{new:?} written outside {own:?}");
            }
        }
    }
    let digests: Vec<Value> = org.laptops.iter().map(|l| l.ok(&["digest"])).collect();
    assert_eq!(digests[0], digests[1]);
    assert_eq!(digests[1], digests[2]);
    assert_eq!(
        org.laptops[2]
            .ok(&["person", "list"])
            .as_array()
            .expect("list")
            .len(),
        3
    );
    // The relays go round once and bring nothing new.
    for _round in 0..2 {
        for laptop in &org.laptops {
            assert_eq!(sync(laptop, folder)["imported"]["applied"], 0);
        }
    }
    // Then nothing is new: nothing exported, every bundle recognised before it is decrypted.
    let again = sync(&org.laptops[0], folder);
    assert!(again["exported"].is_null(), "{again}");
    assert_eq!(again["imported"]["applied"], 0);
    assert_eq!(
        again["imported"]["already_imported"],
        again["imported"]["bundles"]
    );
    // The folder is remembered: the next sync needs no --folder.
    assert_eq!(org.laptops[0].ok(&["sync"])["imported"]["applied"], 0);
}

/// A truncated bundle, a file the sync tool is still writing and its conflict copy are
/// listed and passed over while the other bundles are imported; once whole, the bundle is
/// imported at the next sync, once.
#[test]
fn damaged_unfinished_and_conflict_copies_are_passed_over_and_the_rest_syncs() {
    let org = Org::new(2);
    let (a, b) = (&org.laptops[0], &org.laptops[1]);
    let shared = tempfile::tempdir().expect("dir");
    let folder = shared.path();
    let first = a.person("First", "Bundle");
    let written = sync(a, folder)["exported"]["file"]
        .as_str()
        .expect("exported")
        .to_string();
    let second = a.person("Second", "Bundle");
    let later = sync(a, folder)["exported"]["file"]
        .as_str()
        .expect("exported")
        .to_string();
    // The later bundle is still arriving: only half of it is there; beside it, the sync
    // tool's temporary file and a conflict copy.
    let whole = std::fs::read(&later).expect("bundle");
    std::fs::write(&later, &whole[..whole.len() / 2]).expect("truncate");
    let dir = Path::new(&written)
        .parent()
        .expect("a device folder")
        .to_path_buf();
    std::fs::write(dir.join(".syncthing.0190.masar.tmp"), &whole[..100]).expect("write");
    std::fs::write(
        dir.join("0190.sync-conflict-20240101-101010-ABCDEFG.masar"),
        &whole,
    )
    .expect("write");

    let done = sync(b, folder);
    let refused = done["refused"].as_array().expect("refused");
    assert_eq!(refused.len(), 1, "{done}");
    assert_eq!(refused[0]["file"], later.as_str());
    assert!(
        refused[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("truncated")
                || r.contains("incomplete")
                || r.contains("ends")),
        "{done}"
    );
    let waiting: Vec<&str> = done["waiting"]
        .as_array()
        .expect("waiting")
        .iter()
        .map(|w| w["reason"].as_str().expect("reason"))
        .collect();
    assert_eq!(waiting.len(), 2, "{done}");
    assert!(
        waiting.iter().any(|r| r.contains("still being written"))
            && waiting.iter().any(|r| r.contains("conflict copy")),
        "{waiting:?}"
    );
    let ids: Vec<String> = b
        .ok(&["person", "list"])
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_string())
        .collect();
    assert!(
        ids.contains(&first) && !ids.contains(&second),
        "the whole bundle imported, the half one not"
    );

    // The copy finishes: the next sync imports it, and the one after finds nothing new.
    std::fs::write(&later, &whole).expect("whole");
    let done = sync(b, folder);
    assert!(
        done["refused"].as_array().expect("refused").is_empty(),
        "{done}"
    );
    assert!(done["imported"]["applied"].as_u64().is_some_and(|n| n > 0));
    assert_eq!(b.ok(&["person", "get", &second])["given"], "Second");
    assert_eq!(sync(b, folder)["imported"]["applied"], 0);
}

/// A folder that is not there (a stick not plugged in) and no folder at all each get a
/// message, and change nothing.
#[test]
fn an_unreachable_folder_or_none_gets_a_message() {
    let a = Db::new();
    a.person("Alone", "Here");
    let out = a.fail(&["sync", "--folder", "/nonexistent/stick/masar"]);
    assert!(
        out.contains("is not reachable") && out.contains("plug in"),
        "{out}"
    );
    let fresh = Db::new();
    let out = fresh.fail(&["sync"]);
    assert!(out.contains("sync folder"), "{out}");
}

/// `masar sync --watch` on a supervisor's machine imports a bundle as soon as it lands in
/// the folder, logs one line per sync, and stops cleanly on SIGTERM.
#[test]
fn the_watcher_imports_what_lands_and_stops_cleanly_on_a_signal() {
    let org = Org::new(2);
    let (a, supervisor) = (&org.laptops[0], &org.laptops[1]);
    let shared = tempfile::tempdir().expect("dir");
    let folder = shared.path();
    let mut watcher = crate::common::masar_command()
        .env("MASAR_DB", &supervisor.path)
        .env("MASAR_USER", &supervisor.user)
        .env("MASAR_PASSWORD", &supervisor.password)
        .args(["sync", "--folder", s(folder), "--watch", "--every", "3600"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the watcher starts");
    // The watcher has made its subfolder once its first sync is done.
    let started = std::time::Instant::now();
    while !folder.join("masar").join(device(supervisor)).is_dir() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the watcher's first sync"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let person = a.person("Landed", "WhileWatched");
    sync(a, folder);
    let landed = std::time::Instant::now();
    loop {
        let ids: Vec<String> = supervisor
            .ok(&["person", "list"])
            .as_array()
            .expect("list")
            .iter()
            .map(|p| p["id"].as_str().expect("id").to_string())
            .collect();
        if ids.contains(&person) {
            break;
        }
        assert!(
            landed.elapsed() < std::time::Duration::from_secs(30),
            "the watcher did not import the bundle that landed"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let took = landed.elapsed();
    // SAFETY: sends SIGTERM to the child this test started.
    unsafe { libc::kill(watcher.id() as libc::pid_t, libc::SIGTERM) };
    let stopping = std::time::Instant::now();
    let status = loop {
        if let Some(status) = watcher.try_wait().expect("wait") {
            break status;
        }
        assert!(
            stopping.elapsed() < std::time::Duration::from_secs(10),
            "the watcher did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let out = watcher.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        status.success(),
        "{status}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.iter().filter(|l| l.contains("bundles read")).count() >= 2,
        "one line per sync: {stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("changes imported") && !l.contains(" 0 changes imported")),
        "{stdout}"
    );
    assert_eq!(lines.last().copied(), Some("stopped: true"), "{stdout}");
    assert!(
        took < std::time::Duration::from_secs(15),
        "imported {took:?} after it landed"
    );
}

/// A folder that goes away in the middle (a stick pulled: here this laptop's subfolder
/// replaced by a file, so the bundle cannot be written) gets a message, leaves no partial
/// file, and loses nothing: the next sync, with the folder back, sends the same changes.
#[test]
fn a_folder_gone_during_an_export_leaves_nothing_half_written_and_the_next_sync_sends_all() {
    let org = Org::new(2);
    let (a, b) = (&org.laptops[0], &org.laptops[1]);
    let shared = tempfile::tempdir().expect("dir");
    let folder = shared.path();
    sync(a, folder);
    let person = a.person("Pulled", "Stick");
    let own = folder.join("masar").join(device(a));
    std::fs::remove_dir_all(&own).expect("remove");
    std::fs::write(&own, b"not a folder").expect("write");
    let out = a.fail(&["sync", "--folder", s(folder)]);
    assert!(
        out.contains("cannot be made") || out.contains("cannot be written"),
        "{out}"
    );
    let partial: Vec<PathBuf> = files(folder)
        .into_iter()
        .filter(|f| f.to_string_lossy().contains(".partial"))
        .collect();
    assert!(partial.is_empty(), "{partial:?}");
    assert!(
        a.ok(&["status"])["device_id"].is_string(),
        "the database still opens"
    );
    std::fs::remove_file(&own).expect("remove");
    let done = sync(a, folder);
    assert!(
        done["exported"]["changes"].as_u64().is_some_and(|n| n > 0),
        "{done}"
    );
    sync(b, folder);
    assert_eq!(b.ok(&["person", "get", &person])["given"], "Pulled");
}

/// Housekeeping: three laptops exchange several rounds, one of them (the supervisor's)
/// keeping the merged export; each removes its bundles once all have them and the merged
/// export covers them, so the folder holds only what some laptop still needs; a fourth
/// laptop that joins late catches up from what is left and holds the same data.
#[test]
fn the_folder_keeps_only_what_some_laptop_needs_and_a_late_laptop_converges() {
    let org = Org::new(4);
    let shared = tempfile::tempdir().expect("dir");
    let folder = shared.path();
    let sync_as = |i: usize| {
        let mut args = vec!["sync", "--folder", s(folder)];
        if i == 0 {
            args.push("--merged");
        }
        org.laptops[i].ok(&args)
    };
    let mut removed = 0;
    for round in 0..4 {
        for i in 0..3 {
            org.laptops[i].person(&format!("Round{round}"), &format!("Laptop{i}"));
            removed += sync_as(i)["removed"].as_array().expect("removed").len();
        }
    }
    // Rounds with nothing new let the last acknowledgements go round.
    for _ in 0..3 {
        for i in 0..3 {
            removed += sync_as(i)["removed"].as_array().expect("removed").len();
        }
    }
    let bundles: Vec<PathBuf> = files(folder)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|x| x == "masar"))
        .collect();
    let written = removed + bundles.len();
    assert!(removed > 0, "nothing was removed");
    // What is left: the merged export, and per laptop at most the bundle the others have
    // not all acknowledged yet.
    let merged = bundles
        .iter()
        .filter(|b| {
            b.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("merged-"))
        })
        .count();
    assert_eq!(merged, 1, "{bundles:?}");
    assert!(
        bundles.len() <= 1 + 3,
        "{} bundles left of {written} written: {bundles:?}",
        bundles.len()
    );
    eprintln!(
        "{written} bundles written, {removed} removed, {} left",
        bundles.len()
    );
    let digests: Vec<Value> = (0..3).map(|i| org.laptops[i].ok(&["digest"])).collect();
    assert_eq!(digests[0], digests[1]);
    assert_eq!(digests[1], digests[2]);

    // The fourth laptop, enrolled at the start, syncs for the first time now.
    let late = sync(&org.laptops[3], folder);
    assert!(
        late["refused"].as_array().expect("refused").is_empty(),
        "{late}"
    );
    assert_eq!(org.laptops[3].ok(&["digest"]), digests[0]);
    assert_eq!(
        org.laptops[3]
            .ok(&["person", "list"])
            .as_array()
            .expect("list")
            .len(),
        12
    );
}

/// A stranger with the stick plants an acknowledgement claiming a merged export that
/// covers every bundle: not signed by a certified device, it is ignored, and nobody
/// removes anything (no laptop keeps a merged export here).
#[test]
fn a_planted_acknowledgement_makes_nobody_remove_a_bundle() {
    let org = Org::new(2);
    let (a, b) = (&org.laptops[0], &org.laptops[1]);
    let shared = tempfile::tempdir().expect("dir");
    let folder = shared.path();
    for round in 0..2 {
        a.person(&format!("A{round}"), "Planted");
        sync(a, folder);
        b.person(&format!("B{round}"), "Planted");
        sync(b, folder);
    }
    sync(a, folder);
    let b_dir = folder.join("masar").join(device(b));
    let b_bundles: Vec<String> = std::fs::read_dir(&b_dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".masar"))
        .map(|n| n.trim_end_matches(".masar").to_string())
        .collect();
    assert!(!b_bundles.is_empty());
    // A copy of a's real acknowledgement, moved to a device of the stranger's, claiming a
    // merged export (a copy of one of b's bundles) that covers all of b's bundles.
    let real: Value = serde_json::from_slice(
        &std::fs::read(
            folder
                .join("masar")
                .join(device(a))
                .join("acknowledged.json"),
        )
        .expect("ack"),
    )
    .expect("json");
    let evil = folder
        .join("masar")
        .join("0190aaaa-0000-7000-8000-000000000000");
    std::fs::create_dir_all(&evil).expect("dir");
    std::fs::copy(
        b_dir.join(format!("{}.masar", b_bundles[0])),
        evil.join("merged-0190aaaa.masar"),
    )
    .expect("copy");
    let mut forged = real.clone();
    forged["device"] = Value::from("0190aaaa-0000-7000-8000-000000000000");
    forged["imported"] = Value::from(b_bundles.clone());
    forged["merged"] = serde_json::json!(["merged-0190aaaa", b_bundles]);
    std::fs::write(
        evil.join("acknowledged.json"),
        serde_json::to_vec(&forged).expect("json"),
    )
    .expect("write");
    // The same claim in a's own acknowledgement, its signature left as it was.
    let mut tampered = real;
    tampered["merged"] = serde_json::json!(["merged-0190aaaa", b_bundles]);
    std::fs::write(
        folder
            .join("masar")
            .join(device(a))
            .join("acknowledged.json"),
        serde_json::to_vec(&tampered).expect("json"),
    )
    .expect("write");
    let done = sync(b, folder);
    assert!(
        done["removed"].as_array().expect("removed").is_empty(),
        "{done}"
    );
    for stem in &b_bundles {
        assert!(
            b_dir.join(format!("{stem}.masar")).is_file(),
            "{stem} was removed"
        );
    }
}

/// A person erased after bundles carrying their data were written: at their next sync,
/// the laptop that erased and the one that relayed the data each replace their bundles
/// written before with one written from the log, where the data is blanked, and the merged
/// export is written again; a laptop that joins later never sees the data.
#[test]
fn bundles_written_before_an_erasure_are_replaced_by_ones_without_the_data() {
    let org = Org::new(3);
    let (a, b, late) = (&org.laptops[0], &org.laptops[1], &org.laptops[2]);
    let shared = tempfile::tempdir().expect("dir");
    let folder = shared.path();
    let merged = |db: &Db| db.ok(&["sync", "--folder", s(folder), "--merged"]);
    let person = a.id(&[
        "person",
        "add",
        "--given",
        "Nour",
        "--family",
        "Erased",
        "--sex",
        "female",
        "--born",
        "1990-01-01",
        "--nationality",
        "SYR",
        "--phone",
        "0677000111",
    ]);
    merged(a);
    b.person("Other", "Person");
    sync(b, folder);
    merged(a);
    sync(b, folder);
    let before = files(folder);
    a.ok(&["person", "erase", &person, "--yes"]);
    let done = merged(a);
    assert!(
        !done["replaced"].as_array().expect("replaced").is_empty(),
        "{done}"
    );
    assert!(
        done["merged"].is_object(),
        "the merged export is written again: {done}"
    );
    let done = sync(b, folder);
    assert!(
        !done["replaced"].as_array().expect("replaced").is_empty(),
        "the relaying laptop replaces its bundles too: {done}"
    );
    let after = files(folder);
    let kept: Vec<&PathBuf> = before
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "masar") && after.contains(f))
        .collect();
    assert!(
        kept.is_empty(),
        "bundles written before the erasure are still there: {kept:?}"
    );
    // A laptop that syncs for the first time now: the person is erased, no phone anywhere.
    sync(late, folder);
    let p = late.ok(&["person", "get", &person]);
    assert!(p["phone"].is_null(), "{p}");
    assert_eq!(late.ok(&["digest"]), a.ok(&["digest"]));
}
