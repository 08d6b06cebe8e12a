//! i2pd's `tunnels.conf`, read as it is: an INI file of `[name]` sections of
//! `key = value` lines, `#` and `;` comments.
//!
//! Only the syntax lives here; what the keys mean is [`super::spec`]'s, shared with
//! `[[tunnel]]` in `router.toml`. Line numbers are kept so that errors can point at them.

/// One `[name]` section: its keys in file order, each with its line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// A line that is not INI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct IniError {
    pub line: usize,
    pub message: String,
}

/// Reads the sections of `text`. Keys before the first section, an unnamed or
/// repeated section, and a key given twice in one section are errors: i2pd would
/// silently take one of them, and a tunnel that listens somewhere unexpected is worse
/// than a router that does not start.
pub fn parse(text: &str) -> Result<Vec<Section>, IniError> {
    let mut sections: Vec<Section> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let err = |message: String| IniError { line, message };
        let trimmed = strip_comment(raw).trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .ok_or_else(|| err(format!("{trimmed:?}: a section header ends with ']'")))?
                .trim();
            if name.is_empty() {
                return Err(err("a section needs a name".into()));
            }
            if sections.iter().any(|s| s.name == name) {
                return Err(err(format!("section [{name}] is given twice")));
            }
            sections.push(Section {
                name: name.to_owned(),
                line,
                entries: Vec::new(),
            });
            continue;
        }
        let (key, value) = trimmed
            .split_once('=')
            .ok_or_else(|| err(format!("{trimmed:?} is neither [section] nor key = value")))?;
        let key = key.trim();
        let section = sections
            .last_mut()
            .ok_or_else(|| err(format!("{key} comes before any [section]")))?;
        if key.is_empty() {
            return Err(err("a key is missing before '='".into()));
        }
        if section.entries.iter().any(|e| e.key == key) {
            return Err(err(format!("[{}] {key} is given twice", section.name)));
        }
        section.entries.push(Entry {
            key: key.to_owned(),
            value: unquote(value.trim()).to_owned(),
            line,
        });
    }
    Ok(sections)
}

/// The line up to a comment: `#` or `;` at its start or after whitespace (a `#` inside
/// a value such as a URL fragment stays).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if (*b == b'#' || *b == b';') && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// Boost's INI reader (i2pd's) keeps quotes; configurations written for it sometimes
/// quote paths anyway, so one pair of surrounding double quotes is dropped.
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const I2PD_EXAMPLE: &str = "\
# a comment
[IRC-ILITA]
type = client
address = 127.0.0.1
port = 6668
destination = irc.ilita.i2p
destinationport = 6667
keys = irc-keys.dat ; a comment after a value

[anon-website]
type = http
host = 127.0.0.1
port = 8080
keys = anon-website.dat
";

    #[test]
    fn reads_i2pds_example() {
        let sections = parse(I2PD_EXAMPLE).expect("valid");
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0].name, "IRC-ILITA");
        assert_eq!(sections[0].entries.len(), 6);
        assert_eq!(sections[0].entries[5].value, "irc-keys.dat");
        assert_eq!(sections[1].entries[0].key, "type");
        assert_eq!(sections[1].entries[0].line, 11);
    }

    #[test]
    fn mistakes_say_where() {
        let e = parse("type = client").expect_err("no section");
        assert_eq!(e.line, 1);
        assert!(e.message.contains("before any [section]"), "{e}");
        let e = parse("[a]\nport = 1\nport = 2").expect_err("twice");
        assert!(e.to_string().contains("line 3") && e.message.contains("[a] port"));
        assert!(parse("[a\n").is_err());
        assert!(parse("[a]\njunk\n").is_err());
        assert!(parse("[a]\n[a]\n").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC*") {
            let _ = parse(&text);
        }

        #[test]
        fn written_sections_read_back(
            name in "[A-Za-z][A-Za-z0-9_.-]{0,12}",
            pairs in proptest::collection::btree_map("[a-z][a-z.]{0,10}", "[A-Za-z0-9:/._-]{0,20}", 0..6),
        ) {
            let mut text = format!("[{name}]\n");
            for (k, v) in &pairs {
                text.push_str(&format!("{k} = {v}\n"));
            }
            let sections = parse(&text).expect("written by us");
            prop_assert_eq!(sections.len(), 1);
            let read: Vec<(String, String)> =
                sections[0].entries.iter().map(|e| (e.key.clone(), e.value.clone())).collect();
            let written: Vec<(String, String)> = pairs.into_iter().collect();
            prop_assert_eq!(read, written);
        }
    }
}
