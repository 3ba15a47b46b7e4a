//! The command line at a real terminal (a pseudo-terminal from `script`), where passwords
//! are typed rather than given in the environment; and its exit statuses.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{masar_bin, run, Db, PASSWORD};

/// Runs `masar ARGS` on a terminal, typing each answer once its prompt has appeared;
/// returns the exit status and everything the terminal showed.
fn at_terminal(db: &Db, args: &str, answers: &[(&str, &str)]) -> (i32, String) {
    let mut child = Command::new("script")
        .args(["-qec", &format!("{} {args}", masar_bin()), "/dev/null"])
        .env("MASAR_DB", &db.path)
        .env("MASAR_USER", &db.user)
        .env(masar_core::DEBUG_KDF_COST_VAR, "low")
        .env_remove("MASAR_PASSWORD")
        .env_remove("MASAR_NEW_PASSWORD")
        .env_remove("MASAR_CLOCK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script runs");
    let shown = Arc::new(Mutex::new(String::new()));
    let mut out = child.stdout.take().expect("stdout");
    let sink = shown.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .expect("the terminal's text")
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut stdin = child.stdin.take().expect("stdin");
    let mut seen = 0;
    for (prompt, answer) in answers {
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let text = shown.lock().expect("the terminal's text").clone();
            if let Some(i) = text[seen..].find(prompt) {
                seen += i + prompt.len();
                break;
            }
            assert!(
                Instant::now() < end,
                "no prompt '{prompt}' on the terminal: {text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        stdin
            .write_all(format!("{answer}\n").as_bytes())
            .expect("type on the terminal");
        stdin.flush().expect("flush");
    }
    let status = child.wait().expect("masar ends");
    drop(stdin);
    reader.join().expect("the reader ends");
    let text = shown.lock().expect("the terminal's text").clone();
    (status.code().unwrap_or(-1), text)
}

#[test]
fn a_password_change_typed_at_a_terminal_takes_the_password_typed_to_open() {
    let db = Db::new();
    let new = "a-new-password-2";
    let (status, text) = at_terminal(
        &db,
        "password",
        &[
            ("password (or set MASAR_PASSWORD)", PASSWORD),
            ("new password", new),
        ],
    );
    assert_eq!(status, 0, "masar password failed at a terminal: {text}");
    assert!(
        !run(&db.path, &db.user, PASSWORD, &["status"], &[])
            .status
            .success(),
        "the old password still opens"
    );
    assert!(
        run(&db.path, &db.user, new, &["status"], &[])
            .status
            .success(),
        "the new password does not open"
    );
}

#[test]
fn exit_statuses_say_what_kind_of_failure_it_was() {
    let db = Db::new();
    let code =
        |args: &[&str], password: &str| run(&db.path, &db.user, password, args, &[]).status.code();
    assert_eq!(code(&["status"], PASSWORD), Some(0));
    assert_eq!(
        code(&["person", "add", "--given", "A"], PASSWORD),
        Some(1),
        "refused input"
    );
    assert_eq!(code(&["no-such-command"], PASSWORD), Some(2), "usage");
    assert_eq!(
        code(&["status"], "not the password"),
        Some(3),
        "authentication"
    );
    let junk = db.dir().join("junk.masar");
    std::fs::write(&junk, b"not a bundle at all").expect("write");
    assert_eq!(
        code(
            &["bundle", "import", junk.to_str().expect("a path")],
            PASSWORD
        ),
        Some(4),
        "damaged file"
    );
    let added = run(
        &db.path,
        &db.user,
        PASSWORD,
        &["user", "add", "karim", "--role", "counsellor"],
        &[("MASAR_NEW_PASSWORD", PASSWORD)],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let karim = run(
        &db.path,
        "karim",
        PASSWORD,
        &["ref", "add", "donor", "X"],
        &[],
    );
    assert_eq!(
        karim.status.code(),
        Some(3),
        "permission: {}",
        String::from_utf8_lossy(&karim.stderr)
    );
    let help = run(&db.path, &db.user, PASSWORD, &["--help"], &[]);
    let help = String::from_utf8_lossy(&help.stdout);
    for line in [
        "1  refused input",
        "2  usage",
        "3  authentication or permission",
        "4  a damaged",
        "5  internal",
    ] {
        assert!(help.contains(line), "--help lacks '{line}': {help}");
    }
}

#[test]
fn an_export_and_an_import_show_a_progress_bar_on_a_terminal_and_nothing_on_a_pipe() {
    let db = Db::new();
    for i in 0..3 {
        db.person(&format!("Amina{i}"), "Haddad");
    }
    let first = db.dir().join("first.masar");
    let (status, text) = at_terminal(
        &db,
        &format!("bundle export --full --out {}", first.display()),
        &[("password (or set MASAR_PASSWORD)", PASSWORD)],
    );
    assert_eq!(status, 0, "{text}");
    assert!(
        text.contains("changes written"),
        "no progress bar on the terminal: {text}"
    );
    // On a pipe, and with --json, stderr stays empty: scripts read what they read before.
    let second = db.dir().join("second.masar");
    let out = db.run(&[
        "bundle",
        "export",
        "--full",
        "--out",
        second.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = db.run(&["--json", "bundle", "import", first.to_str().expect("utf-8")]);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, text) = at_terminal(
        &db,
        &format!("bundle import {}", second.display()),
        &[("password (or set MASAR_PASSWORD)", PASSWORD)],
    );
    assert_eq!(status, 0, "{text}");
    assert!(
        text.contains("changes read and checked"),
        "no progress bar on the terminal: {text}"
    );
}
