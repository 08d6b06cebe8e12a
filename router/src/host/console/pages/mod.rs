//! The console's pages: plain HTML rendered on the server, one small stylesheet, no
//! script and nothing from elsewhere. Each page is a file; this one has the frame they
//! share and the helpers they format with.

mod addressbook;
mod destinations;
mod log;
mod netdb;
mod overview;
mod peers;
mod tunnels;

pub(super) use addressbook::addressbook_error;

use super::{Answer, Console};
use crate::host::status::Status;
use http::StatusCode;
use std::fmt::Write as _;

/// The pages, in the order of the navigation bar: path, title.
pub(super) const PAGES: [(&str, &str); 7] = [
    ("/", "Overview"),
    ("/peers", "Peers"),
    ("/tunnels", "Tunnels"),
    ("/netdb", "NetDb"),
    ("/destinations", "Destinations"),
    ("/addressbook", "Address book"),
    ("/log", "Log"),
];

pub(super) const STYLE: &str = include_str!("style.css");

pub(super) fn get(
    console: &Console,
    status: &Status,
    path: &str,
    query: &[(String, String)],
) -> Answer {
    let body = match path {
        "/" | "/index.html" => overview::render(status, &console.token),
        "/peers" => peers::render(status),
        "/tunnels" => tunnels::render(status),
        "/netdb" => netdb::render(status),
        "/destinations" => destinations::render(status, &console.tunnels),
        "/addressbook" => addressbook::render(console, query),
        "/log" => log::render(&console.log.recent()),
        _ => {
            let mut answer = Answer::html(layout("Not found", "", "<p>No such page.</p>"));
            answer.code = StatusCode::NOT_FOUND;
            return answer;
        }
    };
    let title = PAGES
        .iter()
        .find(|(p, _)| *p == path)
        .map_or("Overview", |(_, t)| t);
    Answer::html(layout(title, path, &body))
}

/// The page after the shutdown button.
pub(super) fn shutting_down() -> String {
    layout(
        "Shutting down",
        "",
        "<p class=\"notice\">The router is shutting down: it closes its sessions and saves \
         its netDb. This console stops with it.</p>",
    )
}

/// The frame around every page: title, navigation (the current page marked), body.
pub(super) fn layout(title: &str, current: &str, body: &str) -> String {
    let mut nav = String::new();
    for (path, name) in PAGES {
        let class = if path == current {
            " class=\"here\""
        } else {
            ""
        };
        let _ = write!(nav, "<a href=\"{path}\"{class}>{name}</a>");
    }
    let api = match PAGES.iter().position(|(p, _)| *p == current) {
        Some(0) => "/api/overview".to_string(),
        Some(_) => format!("/api{current}"),
        None => "/api/status".to_string(),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} · ramsons</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\
         <body><header><span class=\"brand\">ramsons</span><nav>{nav}</nav></header>\
         <main><h1>{title}</h1>\n{body}\n</main>\
         <footer>This page as JSON: <a href=\"{api}\">{api}</a></footer></body></html>\n",
        title = escape(title),
    )
}

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A table from a header and rows of cells (already HTML); `empty` when no rows.
pub(super) fn table(header: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{}</p>", escape(empty));
    }
    let mut html = String::from("<table><thead><tr>");
    for h in header {
        let _ = write!(html, "<th>{}</th>", escape(h));
    }
    html.push_str("</tr></thead><tbody>");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            let _ = write!(html, "<td>{cell}</td>");
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

/// Key-value rows (values already HTML).
pub(super) fn facts(rows: &[(&str, String)]) -> String {
    let mut html = String::from("<table class=\"facts\">");
    for (k, v) in rows {
        let _ = write!(html, "<tr><th>{}</th><td>{v}</td></tr>", escape(k));
    }
    html.push_str("</table>");
    html
}

/// A router or destination hash, shortened for tables (the full one on hover).
pub(super) fn short_hash(hash: &str) -> String {
    let short: String = hash.chars().take(12).collect();
    format!(
        "<code title=\"{}\">{}…</code>",
        escape(hash),
        escape(&short)
    )
}

pub(super) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{n} B"),
        _ => format!("{value:.1} {}", UNITS[unit]),
    }
}

pub(super) fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) => format!("{m} min {s} s"),
        (0, _, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(
            escape("<a href='x'>&</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(3725), "1 h 2 min");
        assert_eq!(duration(90_000), "1 d 1 h");
        assert!(table(&["a"], &[], "nothing").contains("nothing"));
        let page = layout("Peers", "/peers", "x");
        assert!(page.contains("class=\"here\">Peers") && page.contains("/api/peers"));
    }
}
