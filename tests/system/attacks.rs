//! The attack suite: an enrolled counsellor who knows only their own password, has
//! decrypted their own laptop's database and signs and seals bundles with what it holds
//! (`masar_core::forge`, the project's own format code). Each test is one attack; each is
//! refused or harmless, and afterwards every honest laptop still syncs with the others and
//! their digests are equal. Files planted in a sync folder (a symlinked `*.partial`, a
//! `*.masar` that is a FIFO or a link to `/dev/zero`) are in `files.rs`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use masar_core::forge::{stamp, Author, Forged, Forger};
use masar_core::{Masar, Role, SystemClock};
use serde_json::Value;

use crate::common::{run, Db};
use crate::sync::Org;

/// The insider's password, in every attack file.
pub(crate) const KARIM_PASSWORD: &str = "karim tailors in Oujda";

/// Karim, a counsellor, gets an account on laptop 1: the insider of every attack file.
pub(crate) fn add_karim(org: &Org) {
    let out = run(
        &org.laptops[1].path,
        "admin",
        crate::common::PASSWORD,
        &["--json", "user", "add", "karim", "--role", "counsellor"],
        &[("MASAR_NEW_PASSWORD", KARIM_PASSWORD)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Three laptops that hold the same programme; on laptop 1, the insider: Karim, a
/// counsellor.
fn field() -> (Org, String) {
    let org = Org::new(3);
    add_karim(&org);
    let p = org.laptops[0].person("Amina", "Haddad");
    let b = org.export(0, &[]);
    org.import(1, &[&b]);
    org.import(2, &[&b]);
    (org, p)
}

/// Karim's forgery, written into the shared folder.
pub(crate) fn forge(org: &Org, name: &str, make: impl FnOnce(&Forger<'_>) -> Vec<u8>) -> PathBuf {
    let m = Masar::open(
        &org.laptops[1].path,
        "karim",
        KARIM_PASSWORD,
        Arc::new(SystemClock),
    )
    .expect("karim logs in");
    let bytes = make(&Forger::new(&m));
    let path = org.bundle_path().with_file_name(format!("{name}.masar"));
    std::fs::write(&path, bytes).expect("write the forgery");
    path
}

fn import_fails(db: &Db, bundle: &Path) -> String {
    db.fail(&["bundle", "import", bundle.to_str().expect("utf-8")])
}

fn device(db: &Db) -> String {
    db.ok(&["status"])["device_id"]
        .as_str()
        .expect("device")
        .to_string()
}

/// The stamp of the newest change to `field` of `record` in `db`'s history.
fn stamp_of(db: &Db, record: &str, field: &str) -> (i64, String) {
    let history = db.ok(&["history", record]);
    let change = history
        .as_array()
        .expect("history")
        .iter()
        .rev()
        .find(|c| c["field"] == field)
        .expect("a change")
        .clone();
    (
        change["hlc"]
            .as_str()
            .expect("hlc")
            .parse()
            .expect("a number"),
        change["device"].as_str().expect("device").to_string(),
    )
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

#[test]
fn a_change_that_squats_another_laptops_identity_is_refused() {
    let (org, p) = field();
    org.laptops[0].ok(&["person", "set", &p, "city=Rabat"]);
    let b = org.export(0, &[]);
    org.import(2, &[&b]);
    let (hlc, dev) = stamp_of(&org.laptops[0], &p, "city");
    let squat = forge(&org, "squat", |f| {
        let mut c = f.change("person", &p, "city", "\"Nowhere\"");
        (c.hlc, c.device) = (hlc, dev.clone());
        f.bundle(&[c], Author::Own, "squat")
    });
    let e = import_fails(&org.laptops[2], &squat);
    assert!(
        e.contains("cannot be trusted") && e.contains("certified only for device"),
        "{e}"
    );
    assert_eq!(org.laptops[2].ok(&["person", "get", &p])["city"], "Rabat");
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

/// Karim shares laptop 1 with its administrator. The administrator erases Amina; Karim
/// signs a change of his own under the erasure's device and stamp, and it reaches laptop 2
/// first. A change's identity holds its author: Karim's change is his own, another change,
/// and the erasure is not refused. Harmless.
#[test]
fn a_counsellor_cannot_claim_a_supervisors_change_on_their_shared_laptop() {
    let (org, p) = field();
    org.laptops[1].ok(&["person", "erase", &p]);
    let erasure = org.export(1, &[]);
    let (hlc, dev) = stamp_of(&org.laptops[1], &p, "erased");
    assert_eq!(dev, device(&org.laptops[1]), "made on Karim's laptop");
    let squat = forge(&org, "shared-squat", |f| {
        let mut c = f.change("person", &p, "phone", "\"0600000000\"");
        (c.hlc, c.device) = (hlc, dev.clone());
        f.bundle(&[c], Author::Own, "shared-squat")
    });
    org.import(2, &[&squat]);
    org.import(2, &[&erasure]);
    // Laptop 0 meets them the other way round.
    org.import(0, &[&erasure]);
    org.import(0, &[&squat]);
    for i in [0, 2] {
        let person = org.laptops[i].ok(&["person", "get", &p]);
        assert_eq!(person["erased"], true, "laptop {i}: {person}");
        for field in ["given", "family", "phone", "unhcr_id"] {
            assert!(
                person[field].is_null(),
                "laptop {i} shows {field}: {person}"
            );
        }
    }
    // Nobody signed two versions of one change: nothing to flag.
    assert_eq!(
        org.laptops[2].ok(&["report", "equivocations"]),
        serde_json::json!([])
    );
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

/// Karim signs two versions of one change of his own (same device, stamp and author);
/// laptop 0 gets one, laptop 2 the other. They do not split: every laptop keeps the same
/// version and lists the device and author for supervisors. Harmless, and flagged.
#[test]
fn a_device_that_signs_two_versions_of_one_change_splits_no_one_and_is_flagged() {
    let (org, p) = field();
    let mut first = None;
    let one = forge(&org, "version-one", |f| {
        let c = f.change("person", &p, "city", "\"Oujda\"");
        first = Some(c.clone());
        f.bundle(&[c], Author::Own, "version-one")
    });
    let first = first.expect("the first version");
    let two = forge(&org, "version-two", |f| {
        let mut c = f.change("person", &p, "city", "\"Elsewhere\"");
        c.hlc = first.hlc;
        f.bundle(&[c], Author::Own, "version-two")
    });
    org.import(0, &[&one]);
    org.import(2, &[&two]);
    assert_eq!(org.laptops[0].ok(&["person", "get", &p])["city"], "Oujda");
    assert_eq!(
        org.laptops[2].ok(&["person", "get", &p])["city"],
        "Elsewhere"
    );
    honest_laptops_still_sync(&org, &[0, 1, 2]);
    let city = org.laptops[0].ok(&["person", "get", &p])["city"].clone();
    assert!(city == "Oujda" || city == "Elsewhere", "{city}");
    for i in [0, 2] {
        let flagged = org.laptops[i].ok(&["report", "equivocations"]);
        let list = flagged.as_array().expect("a list");
        assert_eq!(list.len(), 1, "laptop {i}: {flagged}");
        assert_eq!(list[0]["author_name"], "karim", "{flagged}");
        assert_eq!(list[0]["device"], device(&org.laptops[1]), "{flagged}");
        assert_eq!(list[0]["stamp"], first.hlc.to_string(), "{flagged}");
    }
    // Both orders give the same version: the one kept is the one laptop 1 keeps too.
    assert_eq!(org.laptops[1].ok(&["person", "get", &p])["city"], city);
}

/// The id in a bundle's clear header.
fn bundle_id(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read");
    let len = u32::from_le_bytes(bytes[10..14].try_into().expect("length")) as usize;
    let header: Value = serde_json::from_slice(&bytes[14..14 + len]).expect("header");
    header["bundle"].as_str().expect("id").to_string()
}

#[test]
fn an_empty_bundle_reusing_a_real_bundles_id_does_not_hide_it() {
    let (org, _) = field();
    org.laptops[0].person("Layla", "Nasser");
    let real = org.export(0, &[]);
    let id = bundle_id(&real);
    let decoy = forge(&org, "decoy", |f| f.empty_bundle(&id));
    assert_eq!(bundle_id(&decoy), id);
    let r = org.import(2, &[&decoy]);
    assert_eq!(r["applied"], 0, "{r}");
    let r = org.import(2, &[&real]);
    assert!(
        r["applied"].as_u64().is_some_and(|n| n > 0),
        "the real bundle is not skipped: {r}"
    );
    assert_eq!(r["already_imported"], 0, "{r}");
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

#[test]
fn a_change_naming_another_author_is_refused() {
    let (org, p) = field();
    let admin = org.laptops[0].ok(&["user", "list"]);
    let admin_id = admin[0]["id"].as_str().expect("id").to_string();
    let before = org.digest(2);
    let claim = forge(&org, "claim", |f| {
        let mut c = f.change("person", &p, "city", "\"Nowhere\"");
        (c.user_id, c.user_name) = (admin_id.clone(), "admin".into());
        f.bundle(&[c], Author::Own, "claim")
    });
    let e = import_fails(&org.laptops[2], &claim);
    assert!(
        e.contains("names admin as its author but was signed by karim"),
        "{e}"
    );
    assert_eq!(org.digest(2), before, "nothing applied");
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

#[test]
fn changes_beyond_the_authors_role_are_refused_each_naming_why() {
    let (org, p) = field();
    let project = "01900000-0000-7000-8000-000000000001";
    let before = org.digest(2);
    type Attempt<'a> = (&'a str, Box<dyn Fn(&Forger<'_>) -> Forged + 'a>, &'a str);
    let attempts: Vec<Attempt<'_>> = vec![
        (
            "approval",
            Box::new(|f| f.change("project", project, "stage", "\"approved\"")),
            "record committee decisions",
        ),
        (
            "amount",
            Box::new(|f| f.change("project", project, "approved_amount", "\"99999999\"")),
            "record committee decisions",
        ),
        (
            "payment",
            Box::new(|f| {
                f.change(
                    "disbursement",
                    "01900000-0000-7000-8000-000000000002",
                    "override_reason",
                    "\"extension\"",
                )
            }),
            "pay above the approved amount",
        ),
        (
            "erasure",
            Box::new(|f| f.change("person", &p, "erased", "true")),
            "erase a person's data",
        ),
        (
            "resolution",
            Box::new(|f| {
                let mut c = f.change("person", &p, "city", "\"Oujda\"");
                c.resolves = true;
                c
            }),
            "record committee decisions",
        ),
        (
            "user",
            Box::new(|f| {
                let mut c = f.change(
                    "user",
                    "01900000-0000-7000-8000-000000000003",
                    "role",
                    "\"admin\"",
                );
                c.creates = true;
                c
            }),
            "manage users",
        ),
    ];
    for (name, make, why) in attempts {
        let bundle = forge(&org, name, |f| f.bundle(&[make(f)], Author::Own, name));
        let e = import_fails(&org.laptops[2], &bundle);
        assert!(
            e.contains("claimed by karim") && e.contains(&format!("a counsellor may not {why}")),
            "{name}: {e}"
        );
    }
    assert_eq!(org.digest(2), before, "nothing applied");
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

#[test]
fn a_certificate_minted_by_a_non_admin_is_refused() {
    let (org, p) = field();
    for role in [Role::Supervisor, Role::Admin] {
        let minted = forge(&org, role.as_str(), |f| {
            f.bundle(
                &[f.change("person", &p, "erased", "true")],
                Author::Minted(role),
                "minted",
            )
        });
        let e = import_fails(&org.laptops[2], &minted);
        assert!(
            e.contains("not issued by this organisation's administrators"),
            "{e}"
        );
    }
    assert_eq!(org.laptops[2].ok(&["person", "get", &p])["given"], "Amina");
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

/// Karim, promoted to supervisor, signs three changes under one stamp of his laptop: the
/// erasure of Amina, the erasure of Sara, and a new phone for Amina. Laptop 0 gets the
/// first, laptop 2 the phone then Sara's erasure. Changes of two records are two changes,
/// so both erasures stand; of two versions of one change, the erasure stays. Every laptop
/// ends with both persons erased and nothing of them shown. Harmless, and flagged.
#[test]
fn two_erasures_signed_as_one_change_both_stand_and_an_erasure_outranks_its_twin() {
    let (org, amina) = field();
    let sara = org.laptops[0].person("Sara", "Haddad");
    // Laptop 0 learns of Karim from his first change, then promotes him.
    let karim = |args: &[&str]| run(&org.laptops[1].path, "karim", KARIM_PASSWORD, args, &[]);
    assert!(karim(&["person", "set", &amina, "city=Oujda"])
        .status
        .success());
    let from_karim = org.export(1, &[]);
    org.import(0, &[&from_karim]);
    org.laptops[0].ok(&["user", "role", "karim", "supervisor"]);
    let news = org.export(0, &[]);
    org.import(1, &[&news]);
    org.import(2, &[&news]);
    let mut stamp_of_all = None;
    let erase_amina = forge(&org, "erase-amina", |f| {
        let c = f.change("person", &amina, "erased", "true");
        stamp_of_all = Some(c.hlc);
        f.bundle(&[c], Author::Own, "erase-amina")
    });
    let h = stamp_of_all.expect("a stamp");
    let twin = |name: &str, record: &str, field: &str, json: &str| {
        forge(&org, name, |f| {
            let mut c = f.change("person", record, field, json);
            c.hlc = h;
            f.bundle(&[c], Author::Own, name)
        })
    };
    let erase_sara = twin("erase-sara", &sara, "erased", "true");
    let phone = twin("amina-phone", &amina, "phone", "\"0611111111\"");
    org.import(0, &[&erase_amina]);
    org.import(2, &[&phone]);
    org.import(2, &[&erase_sara]);
    honest_laptops_still_sync(&org, &[0, 1, 2]);
    for i in 0..3 {
        for (who, id) in [("Amina", &amina), ("Sara", &sara)] {
            let person = org.laptops[i].ok(&["person", "get", id]);
            assert_eq!(person["erased"], true, "laptop {i}, {who}: {person}");
            for field in ["given", "family", "phone"] {
                assert!(
                    person[field].is_null(),
                    "laptop {i} shows {who}'s {field}: {person}"
                );
            }
        }
    }
    let flagged = org.laptops[2].ok(&["report", "equivocations"]);
    assert_eq!(
        flagged.as_array().map(Vec::len),
        Some(1),
        "Amina's phone and erasure under one identity: {flagged}"
    );
}

#[test]
fn a_squatted_erasure_cannot_keep_the_erased_data_alive() {
    let (org, p) = field();
    org.laptops[0].ok(&["person", "erase", &p]);
    let erasure = org.export(0, &[]);
    let (hlc, dev) = stamp_of(&org.laptops[0], &p, "erased");
    // The forgery reaches laptop 2 first, under the erasure's identity.
    let squat = forge(&org, "squat-erasure", |f| {
        let mut c = f.change("person", &p, "erased", "false");
        (c.hlc, c.device) = (hlc, dev.clone());
        f.bundle(&[c], Author::Own, "squat-erasure")
    });
    let e = import_fails(&org.laptops[2], &squat);
    assert!(e.contains("certified only for device"), "{e}");
    org.import(2, &[&erasure]);
    let person = org.laptops[2].ok(&["person", "get", &p]);
    assert_eq!(person["erased"], true, "{person}");
    assert!(person["given"].is_null(), "{person}");
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

#[test]
fn a_stamp_past_the_ceiling_is_refused_and_one_at_it_stops_nobody() {
    let (org, p) = field();
    const CEILING_MILLIS: i64 = 7_258_118_400_000; // 2200-01-01
    let beyond = forge(&org, "beyond", |f| {
        let mut c = f.change("person", &p, "city", "\"Nowhere\"");
        c.hlc = stamp(CEILING_MILLIS + 1, 0);
        f.bundle(&[c], Author::Own, "beyond")
    });
    assert!(import_fails(&org.laptops[2], &beyond).contains("2200"));
    let at = forge(&org, "at", |f| {
        let mut c = f.change("person", &p, "city", "\"Nowhere\"");
        c.hlc = stamp(CEILING_MILLIS, 0xFFFF);
        f.bundle(&[c], Author::Own, "at")
    });
    org.import(2, &[&at]);
    // Laptop 2 keeps working, and its later changes are still accepted everywhere.
    org.laptops[2].ok(&["person", "set", &p, "city=Fès"]);
    honest_laptops_still_sync(&org, &[0, 1, 2]);
    assert_eq!(org.laptops[0].ok(&["person", "get", &p])["city"], "Fès");
}

#[test]
fn an_insiders_decompression_bomb_and_announced_flood_are_refused_before_they_cost_memory() {
    let (org, _) = field();
    // A header that tells the truth: refused before decryption.
    let flood = forge(&org, "flood", |f| f.inflating_bundle(10_000_000, 10_000));
    assert!(import_fails(&org.laptops[2], &flood).contains("more than the 5000000"));
    // A gigabyte behind a header announcing a thousand changes: decompression stops at the
    // limit the header allows (about 18 MB).
    let bomb = forge(&org, "bomb", |f| f.inflating_bundle(1_000, 1 << 30));
    assert!(
        std::fs::metadata(&bomb).expect("size").len() < 20 << 20,
        "small on disk"
    );
    assert!(import_fails(&org.laptops[2], &bomb).contains("far larger"));
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

#[test]
fn a_lost_laptop_is_revoked_its_later_changes_refused_everywhere_and_later_bundles_unreadable_to_it(
) {
    let (org, p) = field();
    // Laptop 1 is stolen while Karim is logged in: the thief holds its keys and Karim's.
    let stolen = device(&org.laptops[1]);
    let karim_id = org.laptops[1]
        .ok(&["user", "list"])
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["name"] == "karim")
        .expect("karim")["id"]
        .as_str()
        .expect("id")
        .to_string();
    // What laptop 1 did before the theft reached the others.
    let karim = |args: &[&str]| run(&org.laptops[1].path, "karim", KARIM_PASSWORD, args, &[]);
    assert!(karim(&["person", "set", &p, "city=Oujda"]).status.success());
    let before_theft = org.export(1, &[]);
    org.import(0, &[&before_theft]);
    // The administrator revokes the laptop and its user, from laptop 0.
    let r = org.laptops[0].ok(&["device", "revoke", &stolen]);
    assert_eq!(r["bundle_key"], 1, "{r}");
    org.laptops[0].ok(&["user", "revoke", &karim_id]);
    let devices = org.laptops[0].ok(&["device", "list"]);
    assert!(
        devices
            .as_array()
            .expect("list")
            .iter()
            .any(|d| d["id"] == stolen && d["revoked"] == true && d["name"] == "laptop1"),
        "{devices}"
    );
    let notice = org.export(0, &[]);
    // The thief writes on and sends it out.
    assert!(karim(&["person", "set", &p, "city=Nowhere"])
        .status
        .success());
    let thief = org.export(1, &[]);
    // Laptop 2 takes the thief's bundle before it hears of the revocation...
    org.import(2, &[&thief]);
    assert_eq!(org.laptops[2].ok(&["person", "get", &p])["city"], "Nowhere");
    // ...and drops those changes when it does, keeping what came before the theft.
    let r = org.import(2, &[&notice]);
    assert!(r["revoked"].as_u64().is_some_and(|n| n > 0), "{r}");
    assert_eq!(org.laptops[2].ok(&["person", "get", &p])["city"], "Oujda");
    // Laptop 0, which revoked first, sets the thief's changes aside on arrival.
    let r = org.import(0, &[&thief]);
    assert!(r["revoked"].as_u64().is_some_and(|n| n > 0), "{r}");
    assert_eq!(org.laptops[0].ok(&["person", "get", &p])["city"], "Oujda");
    // Backdating does not help: a change stamped long before the revocation, by the
    // stolen keys, is set aside too (the revocation lists the commits that stay valid).
    let backdated = forge(&org, "backdated", |f| {
        let mut c = f.change("person", &p, "city", "\"Backdated\"");
        c.hlc = stamp(1_600_000_000_000, 7);
        f.bundle(&[c], Author::Own, "backdated")
    });
    for laptop in [0, 2] {
        let r = org.import(laptop, &[&backdated]);
        assert_eq!(r["revoked"], 1, "{r}");
    }
    // A bundle written after the revocation is sealed with a key the stolen laptop lacks.
    org.laptops[0].person("Layla", "Nasser");
    let later = org.export(0, &[]);
    let e = org.laptops[1].fail(&["bundle", "import", later.to_str().expect("utf-8")]);
    assert!(e.contains("has not received"), "{e}");
    // Laptop 2 received the new key from the notice and reads it.
    org.import(2, &[&later]);
    honest_laptops_still_sync(&org, &[0, 2]);
    // Karim cannot log in where his account is known and the revocation arrived.
    let out = run(
        &org.laptops[1].path,
        "karim",
        KARIM_PASSWORD,
        &["status"],
        &[],
    );
    assert!(
        out.status.success(),
        "his own laptop has not heard of it: the thief still holds it"
    );
}

#[test]
fn a_second_laptop_joining_with_an_enrolment_file_already_used_is_refused() {
    let org = Org::new(1);
    let enrol = org.bundle_path().with_extension("enrol");
    org.laptops[0].ok_env(
        &["enrol", "--out", enrol.to_str().expect("utf-8")],
        &[("MASAR_ENROL_PASSPHRASE", crate::sync::PASSPHRASE)],
    );
    let first = Db::joined(&enrol, "first");
    first.person("Layla", "Nasser");
    let b = first.export_to(&org);
    org.import(0, &[&b]);
    // The same file, found later on a stick with its passphrase, makes a second laptop.
    let second = Db::joined(&enrol, "second");
    second.person("Eve", "Intruder");
    let intruder = second.export_to(&org);
    let e = import_fails(&org.laptops[0], &intruder);
    assert!(
        e.contains("already joined the organisation with the same enrolment file"),
        "{e}"
    );
    // And the second laptop cannot take the organisation's bundles either.
    let news = org.export(0, &[]);
    let e = second.fail(&["bundle", "import", news.to_str().expect("utf-8")]);
    assert!(e.contains("already joined"), "{e}");
    let r = first.ok(&["bundle", "import", news.to_str().expect("utf-8")]);
    assert!(r["applied"].as_u64().is_some(), "{r}");
}

#[test]
fn a_user_made_on_one_laptop_is_admitted_on_another_and_a_role_change_travels() {
    let org = Org::new(2);
    let karim_id = org.laptops[0].ok_env(
        &["user", "add", "karim", "--role", "counsellor"],
        &[("MASAR_NEW_PASSWORD", KARIM_PASSWORD)],
    )["id"]
        .as_str()
        .expect("id")
        .to_string();
    let b = org.export(0, &[]);
    org.import(1, &[&b]);
    // The administrator of laptop 1 gives Karim an account there, with his own password.
    let admitted = org.laptops[1].ok_env(
        &["user", "admit", &karim_id],
        &[("MASAR_NEW_PASSWORD", KARIM_PASSWORD)],
    );
    assert_eq!(admitted["id"], karim_id.as_str());
    let karim = |args: &[&str]| {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        run(&org.laptops[1].path, "karim", KARIM_PASSWORD, &all, &[])
    };
    let p = karim(&[
        "person",
        "add",
        "--given",
        "Omar",
        "--family",
        "Saleh",
        "--sex",
        "male",
        "--born",
        "1985-05-05",
        "--nationality",
        "SYR",
    ]);
    assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
    let p: Value = serde_json::from_slice(&p.stdout).expect("json");
    let p = p["id"].as_str().expect("id").to_string();
    assert!(
        !karim(&["person", "erase", &p]).status.success(),
        "a counsellor may not erase"
    );
    let from_karim = org.export(1, &[]);
    org.import(0, &[&from_karim]);
    // Promoted to supervisor on laptop 0; laptop 1 learns it from the next bundle.
    org.laptops[0].ok(&["user", "role", "karim", "supervisor"]);
    let promotion = org.export(0, &[]);
    org.import(1, &[&promotion]);
    let erased = karim(&["person", "erase", &p]);
    assert!(
        erased.status.success(),
        "{}",
        String::from_utf8_lossy(&erased.stderr)
    );
    let erasure = org.export(1, &[]);
    org.import(0, &[&erasure]);
    assert_eq!(org.laptops[0].ok(&["person", "get", &p])["erased"], true);
    // Demoted again: what he signs afterwards with the supervisor's certificate is refused.
    org.laptops[0].ok(&["user", "role", &karim_id, "counsellor"]);
    let q = org.laptops[0].person("Sara", "Haddad");
    let demotion = org.export(0, &[]);
    org.import(1, &[&demotion]);
    assert!(
        !karim(&["person", "erase", &q]).status.success(),
        "his laptop knows he is a counsellor again"
    );
    let last = org.export(1, &[]);
    org.import(0, &[&last]);
    assert_eq!(org.digest(0), org.digest(1));
}

#[test]
fn a_revoked_user_is_refused_everywhere_while_their_laptop_keeps_syncing() {
    let (org, p) = field();
    let karim = |args: &[&str]| run(&org.laptops[1].path, "karim", KARIM_PASSWORD, args, &[]);
    assert!(karim(&["person", "set", &p, "city=Oujda"]).status.success());
    let before = org.export(1, &[]);
    org.import(0, &[&before]);
    // Karim leaves; his account on laptop 1 stays until the revocation reaches it.
    org.laptops[0]
        .ok(&["user", "revoke", "karim"])
        .get("subject")
        .expect("subject");
    let notice = org.export(0, &[]);
    assert!(karim(&["person", "set", &p, "city=Nowhere"])
        .status
        .success());
    org.laptops[1].ok(&["person", "set", &p, "phone=0600000009"]);
    let after = org.export(1, &[]);
    let r = org.import(0, &[&after]);
    assert_eq!(
        r["revoked"], 1,
        "Karim's change is set aside, his laptop's administrator's is not: {r}"
    );
    let person = org.laptops[0].ok(&["person", "get", &p]);
    assert_eq!(
        (person["city"].as_str(), person["phone"].as_str()),
        (Some("Oujda"), Some("0600000009")),
        "{person}"
    );
    // Once laptop 1 hears of it, Karim can no longer log in there.
    org.import(1, &[&notice]);
    let out = karim(&["status"]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("revoked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}

#[test]
fn a_tranche_above_the_approved_amount_signed_by_an_insider_is_shown_with_its_author() {
    let (org, p) = field();
    let admin = &org.laptops[0];
    let project = admin.id(&[
        "project",
        "add",
        "--title",
        "Bakery",
        "--kind",
        "creation",
        "--sector",
        "tailoring",
        "--member",
        &p,
        "--date",
        "2024-01-05",
    ]);
    admin.ok(&[
        "project",
        "budget-add",
        &project,
        "--item",
        "Oven",
        "--quantity",
        "1",
        "--unit-cost",
        "1000",
    ]);
    admin.ok(&[
        "project",
        "stage",
        &project,
        "plan_ready",
        "--date",
        "2024-01-10",
    ]);
    admin.ok(&[
        "project",
        "stage",
        &project,
        "in_committee",
        "--date",
        "2024-01-20",
    ]);
    admin.ok(&[
        "project",
        "decide",
        &project,
        "approved",
        "--date",
        "2024-02-01",
        "--amount",
        "1000",
        "--currency",
        "MAD",
    ]);
    admin.ok(&[
        "disbursement",
        "add",
        &project,
        "--date",
        "2024-03-01",
        "--amount",
        "600",
        "--currency",
        "MAD",
        "--donor",
        "EU",
    ]);
    let b = org.export(0, &[]);
    org.import(1, &[&b]);
    assert_eq!(
        admin.ok(&["report", "unexplained"]),
        serde_json::json!([]),
        "a tranche within the approved amount is not shown"
    );
    // Karim, a counsellor, signs a tranche far above the approved amount, with no reason, on
    // his own laptop's database: a counsellor may record payments, so it is accepted...
    let tranche = "01900000-0000-7000-8000-0000000000aa";
    let payment = forge(&org, "payment", |f| {
        let fields = [
            ("project_id", format!("\"{project}\"")),
            ("date", "\"2024-03-05\"".into()),
            ("amount", "\"5000000\"".into()),
            ("currency", "\"MAD\"".into()),
            ("donor", "\"EU\"".into()),
        ];
        let base = f.change("disbursement", tranche, "project_id", "null").hlc;
        let changes: Vec<Forged> = fields
            .iter()
            .enumerate()
            .map(|(i, (field, json))| {
                let mut c = f.change("disbursement", tranche, field, json);
                c.hlc = base + i as i64;
                c.creates = i == 0;
                c
            })
            .collect();
        f.bundle(&changes, Author::Own, "payment")
    });
    org.import(0, &[&payment]);
    // ...and shown to supervisors, with who signed it.
    let shown = admin.ok(&["report", "unexplained"]);
    assert_eq!(shown.as_array().map(Vec::len), Some(1), "{shown}");
    assert_eq!(
        (
            shown[0]["tranche"].as_str(),
            shown[0]["recorded_by"].as_str(),
            shown[0]["paid"].as_str()
        ),
        (Some(tranche), Some("karim"), Some("5000600")),
        "{shown}"
    );
    assert_eq!(shown[0]["reason"], "above_approved");
    let karim = run(
        &org.laptops[1].path,
        "karim",
        KARIM_PASSWORD,
        &["report", "unexplained"],
        &[],
    );
    assert_eq!(
        karim.status.code(),
        Some(3),
        "counsellors do not see this list"
    );
    honest_laptops_still_sync(&org, &[0, 1, 2]);
}
