//! The attack suite, continued (issue 21): an enrolled counsellor, Karim, who can edit
//! every file on his laptop and in the sync folder, plants files that would cost an honest
//! laptop its memory, have it write or remove through a link, or remove its bundles before
//! anyone else holds them. Each test is one class of attack, says whether it is refused or
//! harmless, and ends with the honest laptops exchanging everything with equal digests.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use masar_core::forge::{Forger, Inflated};
use masar_core::{Masar, SystemClock};
use serde_json::Value;

use crate::attacks::KARIM_PASSWORD;
use crate::common::{masar_bin, Db};
use crate::sync::Org;

/// The address space a `masar` process may reserve in these tests, as in `scale.rs`.
const CAP_BYTES: u64 = 256 << 20;

/// Three laptops that hold the same programme; on laptop 1, the insider: Karim, a
/// counsellor.
fn field() -> Org {
    let org = Org::new(3);
    crate::attacks::add_karim(&org);
    org.laptops[0].person("Amina", "Haddad");
    let b = org.export(0, &[]);
    org.import(1, &[&b]);
    org.import(2, &[&b]);
    org
}

/// What Karim makes with his laptop's keys.
fn forged(org: &Org, make: impl FnOnce(&Forger<'_>) -> Vec<u8>) -> Vec<u8> {
    let m = Masar::open(
        &org.laptops[1].path,
        "karim",
        KARIM_PASSWORD,
        Arc::new(SystemClock),
    )
    .expect("karim logs in");
    make(&Forger::new(&m))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

fn device(db: &Db) -> String {
    db.ok(&["status"])["device_id"]
        .as_str()
        .expect("device")
        .to_string()
}

/// Every honest laptop exchanges everything and ends with the same digest.
fn honest_laptops_still_sync(org: &Org, laptops: &[usize]) {
    let bundles: Vec<PathBuf> = laptops
        .iter()
        .map(|i| org.export(*i, &["--full"]))
        .collect();
    let refs: Vec<&Path> = bundles.iter().map(PathBuf::as_path).collect();
    for i in laptops {
        org.import(*i, &refs);
    }
    let first = org.digest(laptops[0]);
    for i in &laptops[1..] {
        assert_eq!(org.digest(*i), first, "laptop {i} differs");
    }
}

/// How a capped `masar` ended: whether it exited by itself (not killed by a signal, as an
/// allocation failure's abort is), its exit code, stderr and peak resident memory.
struct Capped {
    exited: bool,
    code: i32,
    stderr: String,
    peak: u64,
}

/// Runs `masar --json ARGS` on `db` with its address space capped at [`CAP_BYTES`].
fn capped(db: &Db, args: &[&str]) -> Capped {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let err = dir.path().join("err");
    let mut cmd = Command::new(masar_bin());
    cmd.env_remove("MASAR_CLOCK")
        .env("MASAR_DB", &db.path)
        .env("MASAR_USER", &db.user)
        .env("MASAR_PASSWORD", &db.password)
        .arg("--json")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).expect("err"));
    let cap = libc::rlimit {
        rlim_cur: CAP_BYTES as libc::rlim_t,
        rlim_max: CAP_BYTES as libc::rlim_t,
    };
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_AS, &cap) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    // Reaped by wait4 below, which also gives its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("masar runs");
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, whose pid we hold, with valid pointers.
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, child.id() as libc::pid_t, "wait4");
    Capped {
        exited: libc::WIFEXITED(status),
        code: libc::WEXITSTATUS(status),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        peak: usage.ru_maxrss as u64 * 1024,
    }
}

/// REFUSED. Each item of a bundle inflated (the laptop's name, a certificate's string,
/// the number of certificates, the digests one commit leaves out, the commits a
/// revocation keeps, the keyring of the clear header), compressed to a few megabytes
/// behind a header that announces a million changes: imported with the address space
/// capped at 256 MiB, each is refused with a message naming the item, and the process
/// exits by itself rather than aborting. Before issue 21 the name alone took 2 GiB.
#[test]
fn each_inflated_item_of_a_bundle_is_refused_under_a_memory_cap_not_aborted() {
    let org = field();
    let cases = [
        (
            Inflated::LaptopName,
            512u64 << 20,
            "laptop name is longer than a bundle may hold",
        ),
        (
            Inflated::CertString,
            512 << 20,
            "certificate is longer than a bundle may hold",
        ),
        (
            Inflated::CertCount,
            64 << 20,
            "more than 10000 items in its list of certificates",
        ),
        (
            Inflated::Digests,
            576 << 20,
            "more digests of changes left out than its size allows",
        ),
        (
            Inflated::Revocation,
            512 << 20,
            "list of revocations is longer than a bundle may hold",
        ),
        (Inflated::Keyring, 8 << 20, "clear header announces"),
    ];
    for (item, bytes, why) in cases {
        let path = org.bundle_path();
        std::fs::write(&path, forged(&org, |f| f.inflated_bundle(item, bytes)))
            .expect("write the forgery");
        let size = std::fs::metadata(&path).expect("size").len();
        let done = capped(&org.laptops[2], &["bundle", "import", s(&path)]);
        // The peak includes the high-water mark the test process had when it forked.
        eprintln!(
            "{}: {} MiB of JSON in {} KiB on disk, refused (peak at most {} MiB)",
            item.name(),
            bytes >> 20,
            size >> 10,
            done.peak >> 20
        );
        assert!(
            done.exited && done.code != 0,
            "{item:?} did not end with a refusal: {}",
            done.stderr
        );
        assert!(done.stderr.contains(why), "{item:?}: {}", done.stderr);
        assert!(
            done.peak < CAP_BYTES,
            "{item:?}: peak {} MiB",
            done.peak >> 20
        );
    }
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

/// REFUSED, without reading it. A sparse file of nearly 2 GiB named `*.masar` that starts
/// as a bundle does: imported under the 256 MiB cap (reading it whole could not fit), it is
/// refused as cut short from its last bytes, with a peak far below its size; one byte over
/// 2 GiB is refused from its size alone; in a sync folder both are listed as refused and
/// the rest syncs.
#[test]
fn a_sparse_two_gigabyte_bundle_is_refused_from_its_size_and_ends_without_being_read() {
    let org = field();
    let real = std::fs::read(org.export(0, &["--full"])).expect("a real bundle");
    let shared = tempfile::tempdir().expect("dir");
    let theirs = shared.path().join("masar").join(device(&org.laptops[1]));
    std::fs::create_dir_all(&theirs).expect("dir");
    let sparse = theirs.join("0190aaaa-sparse.masar");
    let over = theirs.join("0190aaab-over.masar");
    for (path, len) in [(&sparse, (2u64 << 30) - 1), (&over, (2u64 << 30) + 1)] {
        std::fs::write(path, &real[..14]).expect("the first bytes of a bundle");
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .expect("open")
            .set_len(len)
            .expect("sparse");
    }
    let done = capped(&org.laptops[2], &["bundle", "import", s(&sparse)]);
    // Refused as cut short, not as too large for memory: under the cap, reading it whole
    // could only have failed with that other reason, so it was judged by its ends alone.
    eprintln!(
        "sparse file of {} MiB refused (peak, the test process's own mark included: {} MiB)",
        (2u64 << 30) >> 20,
        done.peak >> 20
    );
    assert!(
        done.exited && done.code != 0 && done.stderr.contains("truncated"),
        "{}",
        done.stderr
    );
    assert!(!done.stderr.contains("in memory"), "{}", done.stderr);
    let done = capped(&org.laptops[2], &["bundle", "import", s(&over)]);
    assert!(
        done.exited && done.code != 0 && done.stderr.contains("far larger than any bundle"),
        "{}",
        done.stderr
    );
    let synced = org.laptops[2].ok(&["sync", "--folder", s(shared.path())]);
    let refused: Vec<&str> = synced["refused"]
        .as_array()
        .expect("refused")
        .iter()
        .map(|r| r["file"].as_str().expect("file"))
        .collect();
    assert_eq!(refused.len(), 2, "{synced}");
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

/// REFUSED ONCE, THEN PASSED OVER UNREAD. A forgery in Karim's subfolder is refused at the
/// first sync and remembered: its bytes are then changed in place, so that reading it again
/// would give another reason, and its time put back; the next sync lists it with the first
/// reason, said to be remembered, so it was not read. Once its time changes, it is read
/// again (and refused for what it holds now).
#[test]
fn a_refused_bundle_is_remembered_and_not_read_again_while_unchanged() {
    let org = field();
    let shared = tempfile::tempdir().expect("dir");
    let folder = shared.path();
    let theirs = folder.join("masar").join(device(&org.laptops[1]));
    std::fs::create_dir_all(&theirs).expect("dir");
    let evil = theirs.join("0190aaaa-inflated.masar");
    std::fs::write(
        &evil,
        forged(&org, |f| f.inflated_bundle(Inflated::LaptopName, 64 << 20)),
    )
    .expect("write");
    let reason_of = |done: &Value| -> String {
        let refused = done["refused"].as_array().expect("refused");
        assert_eq!(refused.len(), 1, "{done}");
        refused[0]["reason"].as_str().expect("reason").to_string()
    };
    let first = reason_of(&org.laptops[2].ok(&["sync", "--folder", s(folder)]));
    assert!(
        first.contains("laptop name is longer") && !first.contains("not read again"),
        "{first}"
    );
    // Its end overwritten in place (same file, same size), its time put back.
    let modified = std::fs::metadata(&evil)
        .expect("meta")
        .modified()
        .expect("mtime");
    let len = std::fs::metadata(&evil).expect("meta").len();
    {
        use std::io::{Seek, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&evil)
            .expect("open");
        f.seek(std::io::SeekFrom::Start(len - 16)).expect("seek");
        f.write_all(&[0u8; 16]).expect("write");
        f.set_modified(modified).expect("time put back");
    }
    let second = reason_of(&org.laptops[2].ok(&["sync", "--folder", s(folder)]));
    assert!(
        second.contains("laptop name is longer") && second.contains("not read again"),
        "{second}"
    );
    // Touched: read again, and what it holds now is a bundle cut short.
    std::fs::File::options()
        .write(true)
        .open(&evil)
        .expect("open")
        .set_modified(std::time::SystemTime::now())
        .expect("touch");
    let third = reason_of(&org.laptops[2].ok(&["sync", "--folder", s(folder)]));
    assert!(
        third.contains("truncated") && !third.contains("not read again"),
        "{third}"
    );
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

/// Every file under `dir` with its bytes, to show a folder untouched.
fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir").filter_map(|e| e.ok()) {
            if e.file_type().expect("type").is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), std::fs::read(e.path()).expect("read")));
            }
        }
    }
    out.sort();
    out
}

/// REFUSED. Karim replaces laptop 0's own subfolder `FOLDER/masar/<id>` with a link to a
/// folder of the victim's (holding copies of its bundles and a file of its own); laptop 0
/// erases a person, which would remove its old bundles, and syncs: refused with a message,
/// and the folder the link points to is untouched. Then the `masar` folder itself, in
/// another sync folder, is a link: refused too, nothing written through it. Once the links
/// are gone, laptop 0 syncs as before.
#[test]
fn an_own_subfolder_or_masar_folder_planted_as_a_link_is_refused_and_nothing_goes_through_it() {
    let org = field();
    let shared = tempfile::tempdir().expect("dir");
    let folder = shared.path();
    let a = &org.laptops[0];
    let p = a.person("Erased", "Later");
    a.ok(&["sync", "--folder", s(folder)]);
    let own = folder.join("masar").join(device(a));
    let victim = tempfile::tempdir().expect("the victim's folder");
    for e in std::fs::read_dir(&own).expect("own").filter_map(|e| e.ok()) {
        std::fs::copy(e.path(), victim.path().join(e.file_name())).expect("copy");
    }
    std::fs::write(victim.path().join("thesis.txt"), b"the victim's own work").expect("write");
    let before = contents(victim.path());
    let moved = folder.join("moved-away");
    std::fs::rename(&own, &moved).expect("move");
    std::os::unix::fs::symlink(victim.path(), &own).expect("the planted link");

    a.ok(&["person", "erase", &p, "--yes"]);
    a.person("Written", "After");
    let e = a.fail(&["sync", "--folder", s(folder)]);
    assert!(
        e.contains("is a link, not a folder") && e.contains("remove the link"),
        "{e}"
    );
    assert_eq!(
        contents(victim.path()),
        before,
        "the folder the link points to was changed"
    );

    // The masar folder itself as a link, in another sync folder.
    let other = tempfile::tempdir().expect("dir");
    let victim2 = tempfile::tempdir().expect("the victim's second folder");
    std::fs::write(victim2.path().join("notes.txt"), b"notes").expect("write");
    let before2 = contents(victim2.path());
    std::os::unix::fs::symlink(victim2.path(), other.path().join("masar"))
        .expect("the planted link");
    let e = a.fail(&["sync", "--folder", s(other.path())]);
    assert!(e.contains("is a link, not a folder"), "{e}");
    assert_eq!(
        contents(victim2.path()),
        before2,
        "the folder the link points to was changed"
    );
    assert_eq!(
        std::fs::read_dir(victim2.path()).expect("dir").count(),
        1,
        "nothing made through the link"
    );

    // The links removed, the subfolder back: the sync goes through.
    std::fs::remove_file(&own).expect("remove the link");
    std::fs::rename(&moved, &own).expect("move back");
    let done = a.ok(&["sync", "--folder", s(folder)]);
    assert!(
        done["refused"].as_array().expect("refused").is_empty(),
        "{done}"
    );
    assert_eq!(
        contents(victim.path()),
        before,
        "the victim's folder is still untouched"
    );
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

/// The bundles (file stems) in a laptop's subfolder, merged exports apart.
fn bundles_of(folder: &Path, db: &Db) -> Vec<String> {
    let dir = folder.join("masar").join(device(db));
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".masar") && !n.starts_with("merged-"))
        .map(|n| n.trim_end_matches(".masar").to_string())
        .collect();
    out.sort();
    out
}

/// HARMLESS. Karim writes, with his laptop's own key, a "merged export" that carries
/// nothing (validly sealed and signed) and an acknowledgement saying he imported every
/// bundle of the others and that his merged export covers them all. Every other laptop
/// reads that merged export, finds none of its commits in it, and removes none of its
/// bundles. A merged export that really carries them (the founder's, kept with `--merged`)
/// then lets them go.
#[test]
fn a_forged_coverage_list_in_a_merged_export_makes_no_laptop_remove_its_bundles_early() {
    let org = field();
    let shared = tempfile::tempdir().expect("dir");
    let folder = shared.path();
    let sync = |i: usize| org.laptops[i].ok(&["sync", "--folder", s(folder)]);
    for i in [0, 2] {
        org.laptops[i].person(&format!("Laptop{i}"), "Covered");
        sync(i);
    }
    for i in [1, 2, 0] {
        sync(i);
    }
    let (mine0, mine2) = (
        bundles_of(folder, &org.laptops[0]),
        bundles_of(folder, &org.laptops[2]),
    );
    assert!(!mine0.is_empty() && !mine2.is_empty());
    let all: Vec<String> = mine0.iter().chain(&mine2).cloned().collect();
    let karims = folder.join("masar").join(device(&org.laptops[1]));
    std::fs::write(
        karims.join("merged-0190ffff-0000-7000-8000-000000000000.masar"),
        forged(&org, |f| f.empty_bundle("merged")),
    )
    .expect("write");
    std::fs::write(
        karims.join("acknowledged.json"),
        forged(&org, |f| {
            f.acknowledgement(&all, "merged-0190ffff-0000-7000-8000-000000000000", &all)
        }),
    )
    .expect("write");
    for i in [0, 2, 0, 2] {
        let done = sync(i);
        assert!(
            done["removed"].as_array().expect("removed").is_empty(),
            "laptop {i} removed bundles on a forged coverage: {done}"
        );
        assert!(
            done["refused"].as_array().expect("refused").is_empty(),
            "{done}"
        );
    }
    // Each may have written a bundle since (relaying what it imported); none went.
    for (i, mine) in [(0, &mine0), (2, &mine2)] {
        let now = bundles_of(folder, &org.laptops[i]);
        assert!(
            mine.iter().all(|b| now.contains(b)),
            "laptop {i}: {mine:?} then {now:?}"
        );
    }

    // A merged export that carries them: written by the founder, read by laptop 2, which
    // then removes its bundles once everyone acknowledged them.
    std::fs::remove_file(karims.join("acknowledged.json")).expect("remove the forgery");
    org.laptops[0].ok(&["sync", "--folder", s(folder), "--merged"]);
    let mut removed = 0;
    for _ in 0..2 {
        for i in [1, 2, 0] {
            removed += sync(i)["removed"].as_array().expect("removed").len();
        }
    }
    assert!(removed > 0, "a verified merged export let nothing go");
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}
