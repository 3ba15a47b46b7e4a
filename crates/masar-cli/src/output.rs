//! Printing results: exactly one JSON value with `--json`, readable lines otherwise. The
//! values are the core's typed answers, serialised unchanged.

use serde::Serialize;
use serde_json::Value as Json;

/// The text of a command's answer: one JSON value, or readable lines.
pub fn render(value: &Json, as_json: bool) -> String {
    if as_json {
        return format!("{value}\n");
    }
    let mut out = String::new();
    human(value, 0, &mut out);
    out
}

/// Writes text on stdout. A reader that stopped reading (`masar person list | head -1`)
/// is not an error: the write stops there, quietly.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The answer as JSON, as both faces send it.
pub fn json<T: Serialize>(answer: &T) -> Json {
    // Serialising the core's answers (strings, numbers, maps with string keys) cannot fail.
    serde_json::to_value(answer).unwrap_or(Json::Null)
}

fn scalar(v: &Json) -> String {
    match v {
        Json::Null => "-".into(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn human(value: &Json, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match value {
        Json::Object(map) if map.len() == 1 && map.contains_key("id") && indent == 0 => {
            out.push_str(&format!("{}\n", scalar(&map["id"])));
        }
        Json::Object(map) => {
            for (k, v) in map {
                match v {
                    Json::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        human(v, indent + 1, out);
                    }
                    Json::Array(a) if !a.is_empty() && a.iter().any(|x| x.is_object()) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        human(v, indent + 1, out);
                    }
                    Json::Array(a) => {
                        out.push_str(&format!(
                            "{pad}{k}: {}\n",
                            a.iter().map(scalar).collect::<Vec<_>>().join(", ")
                        ));
                    }
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(v))),
                }
            }
        }
        Json::Array(items) => {
            if items.is_empty() {
                out.push_str(&format!("{pad}(none)\n"));
            }
            for (i, item) in items.iter().enumerate() {
                if item.is_object() {
                    if i > 0 {
                        out.push('\n');
                    }
                    human(item, indent, out);
                } else {
                    out.push_str(&format!("{pad}{}\n", scalar(item)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// The indicator report as tables: the totals, then one table per breakdown with the
/// parts as columns.
pub fn report_table(r: &Json) -> String {
    let text = |v: &Json| -> String {
        match v {
            Json::Object(m) if m.is_empty() => "0".into(),
            Json::Object(m) => m
                .iter()
                .map(|(c, a)| format!("{} {c}", scalar(a)))
                .collect::<Vec<_>>()
                .join(" + "),
            other => scalar(other),
        }
    };
    let mut out = format!(
        "Indicators from {} to {}\n\n",
        scalar(&r["from"]),
        scalar(&r["to"])
    );
    let totals = r["indicators"].as_object().cloned().unwrap_or_default();
    let width = totals.keys().map(String::len).max().unwrap_or(0);
    for (k, v) in &totals {
        out.push_str(&format!("  {k:<width$}  {}\n", text(v)));
    }
    for (dim, parts) in r["breakdown"].as_object().into_iter().flatten() {
        let parts = parts.as_object().cloned().unwrap_or_default();
        let names: Vec<String> = parts
            .values()
            .next()
            .and_then(|c| c.as_object())
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default();
        let mut rows: Vec<Vec<String>> = vec![std::iter::once(format!("by {dim}"))
            .chain(parts.keys().cloned())
            .chain(["total".to_string()])
            .collect()];
        for name in &names {
            let mut row = vec![name.clone()];
            row.extend(parts.values().map(|c| text(&c[name])));
            row.push(text(&totals.get(name).cloned().unwrap_or(Json::Null)));
            rows.push(row);
        }
        out.push('\n');
        out.push_str(&aligned(&rows));
    }
    out
}

/// Rows as columns: the first left-aligned, the others (figures) right-aligned.
fn aligned(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(c.chars().count());
                if i == 0 {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(&format!("  {}\n", cells.join("  ")));
    }
    out
}

/// Survival of enterprises as a table: each group's enterprises and closings, and the
/// share still running at 6, 12 and 24 months with its 95% interval.
pub fn survival_table(s: &Json) -> String {
    let percent = |v: &Json| v.as_f64().map(|x| format!("{:.0}%", x * 100.0));
    let mut rows: Vec<Vec<String>> = vec![[
        "group",
        "enterprises",
        "closed",
        "6 months",
        "12 months",
        "24 months",
    ]
    .map(String::from)
    .to_vec()];
    for c in s["curves"].as_array().into_iter().flatten() {
        let mut row = vec![
            scalar(&c["group"]),
            scalar(&c["enterprises"]),
            scalar(&c["closed"]),
        ];
        for at in c["at"].as_array().into_iter().flatten() {
            row.push(
                match (
                    percent(&at["survival"]),
                    percent(&at["lower"]),
                    percent(&at["upper"]),
                ) {
                    (Some(s), Some(l), Some(u)) => format!("{s} ({l}–{u})"),
                    _ => "—".into(),
                },
            );
        }
        rows.push(row);
    }
    format!(
        "Enterprises still running after their first tranche, as of {}\n\n{}\n  In brackets, the 95% interval; —: no enterprise followed that long.\n  docs/indicators.md defines these figures.\n",
        scalar(&s["as_of"]),
        aligned(&rows)
    )
}

/// One sync through the folder as one line of a watcher's log.
pub fn folder_sync_line(done: &masar_core::FolderSync) -> String {
    let exported = match &done.exported {
        Some(e) => format!("exported {} changes", e.changes),
        None => "nothing to export".into(),
    };
    let i = &done.imported;
    let mut line = format!(
        "{exported}; {} bundles read, {} changes imported, {} conflicts",
        i.bundles, i.applied, i.conflicts
    );
    if !done.waiting.is_empty() {
        line.push_str(&format!(
            "; {} files still being copied",
            done.waiting.len()
        ));
    }
    if let Some(m) = &done.merged {
        line.push_str(&format!("; merged export of {} changes", m.changes));
    }
    if !done.replaced.is_empty() {
        line.push_str(&format!(
            "; {} bundles replaced after an erasure",
            done.replaced.len()
        ));
    }
    if !done.removed.is_empty() {
        line.push_str(&format!(
            "; {} bundles everyone has removed",
            done.removed.len()
        ));
    }
    for refused in &done.refused {
        line.push_str(&format!("; refused {}: {}", refused.file, refused.reason));
    }
    line
}
