//! What the benchmark binaries share: reading the process's peak memory, timing, and the
//! person a counsellor registers by hand.

use std::time::Duration;

/// The process's peak resident memory so far (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// A duration in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The fields of a person registered by hand, as the registration form sends them.
pub fn person_fields(
    given: String,
    family: String,
    phone: String,
    unhcr_id: String,
) -> Vec<(String, String)> {
    [
        ("given", given),
        ("family", family),
        ("sex", "female".into()),
        ("born", "1990-01-01".into()),
        ("nationality", "SYR".into()),
        ("city", "Rabat".into()),
        ("phone", phone),
        ("unhcr_id", unhcr_id),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
