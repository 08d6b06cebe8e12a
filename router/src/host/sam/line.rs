//! SAM's line syntax: words and `KEY=VALUE` options, values quoted when they hold spaces.
//!
//! The rules are those of SAM 3.2 and later, which accept everything earlier clients send:
//! options are separated by one or more spaces (tabs too); a value may be written bare,
//! `KEY=value`, or quoted, `KEY="value with spaces"`, where `\"` stands for a quote and
//! `\\` for a backslash (the same two escapes are honoured in bare values); `KEY`, `KEY=`
//! and `KEY=""` all give an empty value. Keys are case-sensitive and kept as written.

use super::SamError;

/// A line cut into its option tokens, in order.
pub(crate) type Options = Vec<(String, String)>;

/// Splits `text` into options. A token without `=` is a key with an empty value.
pub(crate) fn parse_options(text: &str) -> Result<Options, SamError> {
    let mut out: Options = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(is_space);
        if rest.is_empty() {
            return Ok(out);
        }
        let (key, value, after) = option(rest)?;
        if out.iter().any(|(k, _)| *k == key) {
            return Err(SamError::DuplicateKey(key));
        }
        out.push((key, value));
        rest = after;
    }
}

pub(crate) fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// One `KEY[=VALUE]` token at the start of `text`, and what follows it.
fn option(text: &str) -> Result<(String, String, &str), SamError> {
    let key_end = text
        .find(|c: char| c == '=' || is_space(c))
        .unwrap_or(text.len());
    let key = &text[..key_end];
    if key.is_empty() {
        return Err(SamError::Syntax("an option without a key"));
    }
    if key.contains(['"', '\\']) {
        return Err(SamError::Syntax("a quote or backslash in an option key"));
    }
    let rest = &text[key_end..];
    let Some(rest) = rest.strip_prefix('=') else {
        return Ok((key.to_owned(), String::new(), rest));
    };
    let (value, after) = value(rest)?;
    Ok((key.to_owned(), value, after))
}

/// A bare or quoted value at the start of `text`, unescaped, and what follows it.
fn value(text: &str) -> Result<(String, &str), SamError> {
    let quoted = text.starts_with('"');
    let body = if quoted { &text[1..] } else { text };
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.clone().next() {
                Some((_, e @ ('"' | '\\'))) => {
                    chars.next();
                    value.push(e);
                }
                _ => value.push('\\'),
            },
            '"' if quoted => {
                let after = &body[i + 1..];
                if !after.is_empty() && !after.starts_with(is_space) {
                    return Err(SamError::Syntax("text right after a closing quote"));
                }
                return Ok((value, after));
            }
            '"' => return Err(SamError::Syntax("a quote inside a bare value")),
            // A line ends at `\n` (its `\r` is cut before); one inside a value could not
            // be written back, as replies turn line breaks into spaces.
            '\r' | '\n' => return Err(SamError::Syntax("a line break inside a value")),
            c if !quoted && is_space(c) => return Ok((value, &body[i..])),
            c => value.push(c),
        }
    }
    if quoted {
        Err(SamError::Syntax("an unterminated quote"))
    } else {
        Ok((value, ""))
    }
}

/// `value` as the parser reads it back: bare when it can be, else quoted and escaped.
pub(crate) fn quote(value: &str) -> String {
    if !value.is_empty() && !value.contains(|c: char| is_space(c) || c == '"' || c == '\\') {
        return value.to_owned();
    }
    quote_always(value)
}

/// `value` in quotes, escaped. Line breaks become spaces, so that a reply stays one line.
pub(crate) fn quote_always(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Appends ` KEY=VALUE` to `line`, quoting the value when it needs it.
pub(crate) fn push_option(line: &mut String, key: &str, value: &str) {
    line.push(' ');
    line.push_str(key);
    line.push('=');
    line.push_str(&quote(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(text: &str) -> Options {
        parse_options(text).expect("valid options")
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn bare_quoted_and_empty_values() {
        assert_eq!(
            opts(r#"A=1  B="two words"	C D= E="" F=x=y"#),
            vec![
                pair("A", "1"),
                pair("B", "two words"),
                pair("C", ""),
                pair("D", ""),
                pair("E", ""),
                pair("F", "x=y"),
            ]
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(
            opts(r#"P="say \"hi\" \\ \n" Q=a\"b R=c\d"#),
            vec![
                pair("P", r#"say "hi" \ \n"#),
                pair("Q", "a\"b"),
                pair("R", r"c\d")
            ]
        );
    }

    #[test]
    fn malformed_lines_are_errors() {
        for bad in [
            r#"A="open"#,
            r#"A="x"y"#,
            r#"A=x"y"#,
            "=v",
            r#""K"=v"#,
            "A=1 A=2",
        ] {
            assert!(parse_options(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quoting_round_trips() {
        for v in [
            "",
            "plain",
            "two words",
            r#"q"uote"#,
            r"back\slash",
            "tab\there",
        ] {
            let mut line = String::new();
            push_option(&mut line, "K", v);
            assert_eq!(opts(&line), vec![pair("K", v)], "{line}");
        }
        assert_eq!(quote_always("a\nb"), r#""a b""#);
    }

    /// Found by the sam_command fuzz target: a bare value holding a backslash and a `\r`
    /// parsed, was written back quoted with the `\r` as a space, and read back different.
    #[test]
    fn line_breaks_inside_values_are_refused() {
        for bad in ["A=x\ry", "A=\"x\ry\"", "A=x\ny", "A=a\\b\rc"] {
            assert_eq!(
                parse_options(bad),
                Err(SamError::Syntax("a line break inside a value")),
                "{bad:?}"
            );
        }
        let crash = "SESSION CREATE STYLE=DATAGRAM ID=udp DESTINATION=Tu76q\\7v\rse PORT=7655";
        assert!(super::super::Command::parse(crash).is_err());
        // The line's own trailing \r is still cut before its options are read.
        assert!(super::super::Command::parse("HELLO VERSION MIN=3.0 MAX=3.3\r").is_ok());
    }
}
