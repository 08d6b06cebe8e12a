//! `/addressbook`: look a name up, add one, and browse the book in name order.

use super::{escape, layout, table};
use crate::host::console::api::{book_page, Lookup};
use crate::host::console::{field, Answer, Console};
use http::StatusCode;

/// Names listed per page.
const PER_PAGE: usize = 100;

pub(super) fn render(console: &Console, query: &[(String, String)]) -> String {
    let name = field(query, "name").unwrap_or("").trim();
    let mut html = String::new();
    if field(query, "added").is_some() {
        html.push_str(&format!("<p class=\"notice\">Added {}.</p>", escape(name)));
    }
    html.push_str(&lookup_form(name));
    if !name.is_empty() {
        html.push_str(&lookup_result(&Lookup::of(&console.book, name)));
    }
    html.push_str(&add_form(&console.token, "", ""));
    html.push_str(&listing(console, field(query, "from").unwrap_or("")));
    html
}

/// The page again, with what was wrong with an addition.
pub(in crate::host::console) fn addressbook_error(console: &Console, error: &str) -> Answer {
    let body = format!(
        "<p class=\"error\">Not added: {}</p>{}{}",
        escape(error),
        lookup_form(""),
        add_form(&console.token, "", "")
    );
    let mut answer = Answer::html(layout("Address book", "/addressbook", &body));
    answer.code = StatusCode::BAD_REQUEST;
    answer
}

fn lookup_form(name: &str) -> String {
    format!(
        "<h2>Look up</h2><form method=\"get\" action=\"/addressbook\">\
         <input type=\"text\" name=\"name\" placeholder=\"example.i2p\" value=\"{}\"> \
         <button type=\"submit\">Look up</button></form>",
        escape(name)
    )
}

fn lookup_result(lookup: &Lookup) -> String {
    match (&lookup.b32, &lookup.error) {
        (Some(b32), _) => format!(
            "<table class=\"facts\"><tr><th>name</th><td>{}</td></tr>\
             <tr><th>address</th><td><code>{}</code></td></tr>\
             <tr><th>destination</th><td><code>{}</code></td></tr></table>",
            escape(&lookup.name),
            escape(b32),
            escape(lookup.destination.as_deref().unwrap_or(""))
        ),
        (None, Some(e)) => format!("<p class=\"error\">{}</p>", escape(e)),
        (None, None) => format!(
            "<p class=\"empty\">{} is not in the address book.</p>",
            escape(&lookup.name)
        ),
    }
}

fn add_form(token: &str, name: &str, destination: &str) -> String {
    format!(
        "<h2>Add a name</h2><form method=\"post\" action=\"/addressbook\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <input type=\"text\" name=\"name\" placeholder=\"name.i2p\" value=\"{}\"> \
         <input type=\"text\" name=\"destination\" placeholder=\"base64 destination\" value=\"{}\"> \
         <button type=\"submit\">Add</button></form>",
        escape(token),
        escape(name),
        escape(destination)
    )
}

fn listing(console: &Console, from: &str) -> String {
    let page = book_page(&console.book, from, PER_PAGE);
    let rows: Vec<Vec<String>> = page
        .entries
        .iter()
        .map(|e| {
            vec![
                format!("<a href=\"/addressbook?name={0}\">{0}</a>", escape(&e.name)),
                format!("<code>{}</code>", escape(&e.b32)),
                escape(&e.source),
            ]
        })
        .collect();
    let more = match &page.next {
        Some(next) => format!(
            "<p><a href=\"/addressbook?from={}\">more names…</a></p>",
            escape(next)
        ),
        None => String::new(),
    };
    format!(
        "<h2>Names ({})</h2>{}{more}",
        page.count,
        table(
            &["name", "address", "from"],
            &rows,
            "The address book is empty."
        )
    )
}
