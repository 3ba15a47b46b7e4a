//! The layers of the core, checked: every `crate::` path in a module's code (tests left
//! out) must name the module itself or a module of a lower layer. Siblings of one layer
//! (domain, sync, reports) may not name one another.

use std::collections::BTreeMap;
use std::path::Path;

/// Each module and its layer, lowest first; ARCHITECTURE.md draws the same.
const LAYERS: &[(&str, u8)] = &[
    // Leaves.
    ("error", 0),
    ("clock", 0),
    ("fold", 0),
    ("files", 0),
    // The schema registry, then the roles that decide on its typed values.
    ("schema", 1),
    // The journey's stages as types.
    ("stage", 1),
    ("auth", 2),
    // Who sees which persons, by role.
    ("access", 3),
    // Storage and keys.
    ("keys", 3),
    ("search", 3),
    ("trust", 3),
    ("store", 4),
    // The change log, which owns the clock's state.
    ("changes", 5),
    // Which tranches count, judged on the log.
    ("money", 6),
    // Who is who: keys, certificates, enrolment, custody, revocations.
    ("identity", 6),
    // Siblings.
    ("domain", 7),
    ("report", 7),
    ("sync", 7),
    // Read models for screens, and backups: on `Db`, below the handle.
    ("views", 8),
    ("backup", 8),
    // The handle, then what is built on it.
    ("masar", 9),
    ("demo", 10),
    ("faces", 11),
    ("forge", 11),
    ("bench", 11),
];

/// Items re-exported at the crate's root, by the module that defines them.
fn root_item(name: &str) -> Option<&'static str> {
    match name {
        "Result" | "Error" => Some("error"),
        "Masar" => Some("masar"),
        _ => None,
    }
}

/// The modules a piece of code names through `crate::`.
fn named_modules(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        // `$crate::` is a macro's path, resolved where the macro is used (another crate).
        let in_macro = rest[..i].ends_with('$');
        rest = &rest[i + "crate::".len()..];
        if in_macro {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let head: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(head);
            }
            continue;
        }
        let head: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        out.push(head);
    }
    out.into_iter()
        .filter(|h| !h.is_empty())
        .map(|h| root_item(&h).map(str::to_string).unwrap_or(h))
        .collect()
}

fn without_tests(code: &str) -> &str {
    match code.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &code[..i],
        None => code,
    }
}

/// Every source file of the core but this check's own, with its path under `src/` and
/// its code without its tests.
fn sources() -> Vec<(std::path::PathBuf, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("the source folder") {
            let p = e.expect("an entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(&src).expect("inside src").to_path_buf();
                let first = rel
                    .components()
                    .next()
                    .expect("a path")
                    .as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string();
                let code = std::fs::read_to_string(&p).expect("a source file");
                out.push((rel, first, without_tests(&code).to_string()));
            }
        }
    }
    out
}

/// Sync is reached only from the handle and the tools built on it: identity, backups and
/// the read models ask the layers below it.
#[test]
fn only_the_handle_names_sync() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (rel, first, code) in sources() {
        if matches!(
            first.as_str(),
            "sync" | "masar" | "forge" | "bench" | "lib" | "layers"
        ) {
            continue;
        }
        checked += 1;
        if named_modules(&code).iter().any(|m| m == "sync") {
            wrong.push(rel.display().to_string());
        }
    }
    assert!(checked > 40, "the check read only {checked} files");
    assert!(wrong.is_empty(), "these name sync: {}", wrong.join(", "));
}

/// `Masar`'s doors live in one place, grouped by family (`masar/`): no other module adds
/// methods to the handle.
#[test]
fn no_module_outside_masar_adds_to_the_handle() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (rel, first, code) in sources() {
        if matches!(first.as_str(), "masar" | "layers") {
            continue;
        }
        checked += 1;
        if code
            .lines()
            .any(|l| l.trim_start().starts_with("impl Masar"))
        {
            wrong.push(rel.display().to_string());
        }
    }
    assert!(checked > 40, "the check read only {checked} files");
    assert!(
        wrong.is_empty(),
        "these add methods to Masar: {}",
        wrong.join(", ")
    );
}

/// A file a newcomer can read whole: no source file of the core is past 800 lines.
#[test]
fn no_core_file_is_past_800_lines() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    let mut checked = 0;
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the source folder") {
            let path = entry.expect("a source entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                checked += 1;
                let lines = std::fs::read_to_string(&path)
                    .expect("read a source file")
                    .lines()
                    .count();
                if lines > 800 {
                    long.push(format!(
                        "{} ({lines} lines)",
                        path.strip_prefix(&root).unwrap_or(&path).display()
                    ));
                }
            }
        }
    }
    assert!(checked > 40, "the check read only {checked} files");
    assert!(long.is_empty(), "past 800 lines: {}", long.join(", "));
}

/// The log is written through two doors only (`Writer`, `Applier`): no module outside
/// `changes` names its internals.
#[test]
fn no_module_outside_changes_names_the_op_log() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (rel, first, code) in sources() {
        if matches!(first.as_str(), "changes" | "layers") {
            continue;
        }
        checked += 1;
        let names_it = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .any(|l| l.contains("oplog"));
        if names_it {
            wrong.push(rel.display().to_string());
        }
    }
    assert!(checked > 40, "the check read only {checked} files");
    assert!(
        wrong.is_empty(),
        "these name the op log: {}",
        wrong.join(", ")
    );
}

/// No file of the core reads a file of the window's folder.
#[test]
fn no_core_file_includes_a_file_of_the_window() {
    let mut checked = 0;
    for (rel, _, code) in sources() {
        for (at, _) in code.match_indices("include_") {
            checked += 1;
            let call = &code[at..code.len().min(at + 200)];
            let arg = call.split(')').next().unwrap_or_default();
            assert!(!arg.contains("ui/"), "{} includes {arg}", rel.display());
        }
    }
    assert!(checked >= 3, "the check found only {checked} includes");
}

#[test]
fn no_module_names_a_module_of_its_own_layer_or_above() {
    let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (rel, first, code) in sources() {
        if matches!(first.as_str(), "lib" | "layers" | "testing" | "typescript")
            || rel.ends_with("sync/tests.rs")
        {
            continue;
        }
        let Some(&own) = layer.get(first.as_str()) else {
            wrong.push(format!(
                "{}: module '{first}' has no layer in LAYERS",
                rel.display()
            ));
            continue;
        };
        for named in named_modules(&code) {
            checked += 1;
            match layer.get(named.as_str()) {
                _ if named == first => {}
                Some(&l) if l < own => {}
                Some(&l) => wrong.push(format!(
                    "{}: '{first}' (layer {own}) names '{named}' (layer {l})",
                    rel.display()
                )),
                None => wrong.push(format!(
                    "{}: '{first}' names '{named}', which has no layer",
                    rel.display()
                )),
            }
        }
    }
    assert!(
        checked > 50,
        "the check found only {checked} paths: is it reading the sources?"
    );
    assert!(
        wrong.is_empty(),
        "arrows that do not point down:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_check_sees_grouped_and_root_paths() {
    let found = named_modules("use crate::{auth::Role, schema::Value};\nfn f() -> crate::Result<()> { crate::views::x() }");
    assert_eq!(found, vec!["auth", "schema", "error", "views"]);
}
