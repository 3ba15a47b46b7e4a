//! The database file at rest: encrypted, with no name or phone number in clear.

use std::process::Command;

use crate::common::Db;

#[test]
fn the_file_holds_no_name_or_phone_in_clear_and_plain_sqlite_cannot_open_it() {
    let db = Db::new();
    let secrets = [
        "Zoubida",
        "Benkirane",
        "زبيدة",
        "0677123456",
        "250-99C12345",
    ];
    db.ok(&[
        "person",
        "add",
        "--given",
        secrets[0],
        "--family",
        secrets[1],
        "--given-ar",
        secrets[2],
        "--phone",
        secrets[3],
        "--unhcr-id",
        secrets[4],
        "--sex",
        "female",
        "--born",
        "1980-05-05",
        "--nationality",
        "SYR",
    ]);
    // Every file of the database, the write-ahead log and the key file included.
    let mut files = 0;
    for entry in std::fs::read_dir(db.dir()).expect("list the folder") {
        let path = entry.expect("an entry").path();
        let bytes = std::fs::read(&path).expect("read the file");
        files += 1;
        for s in secrets {
            let needle = s.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{s} is in clear in {}",
                path.display()
            );
        }
        assert!(
            !bytes.starts_with(b"SQLite format 3\0"),
            "{} has a plain SQLite header",
            path.display()
        );
    }
    assert!(files >= 2, "the database and its key file");

    let sqlite3 = Command::new("sqlite3")
        .arg(&db.path)
        .arg("SELECT count(*) FROM sqlite_master;")
        .output();
    let out = sqlite3.expect("the sqlite3 command is installed by scripts/setup.sh");
    assert!(
        !out.status.success(),
        "plain sqlite3 read the file: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("file is not a database") || err.contains("encrypted"),
        "{err}"
    );
}
