//! `/log`: the latest warnings and errors, newest first.

use super::{escape, table};
use crate::host::console::LogEntry;

pub(super) fn render(entries: &[LogEntry]) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                clock(e.unix_secs),
                format!("<span class=\"{0}\">{0}</span>", escape(&e.level)),
                format!("<code>{}</code>", escape(&e.target)),
                escape(&e.message),
            ]
        })
        .collect();
    format!(
        "<p>The last {} warnings and errors (UTC), newest first.</p>{}",
        crate::host::console::log::CAPACITY,
        table(
            &["time", "level", "where", "message"],
            &rows,
            "No warnings since start."
        )
    )
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) from UNIX seconds, by the civil-from-days algorithm.
fn clock(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock() {
        assert_eq!(super::clock(0), "1970-01-01 00:00:00");
        assert_eq!(super::clock(1_709_210_096), "2024-02-29 12:34:56");
    }
}
