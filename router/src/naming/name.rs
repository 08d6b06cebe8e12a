//! Host names: what the address book accepts as a name, by the naming rules of the I2P
//! naming specification ("Naming Rules" on the naming and address book page).
//!
//! The rules, as the specification lists them (a name arriving in a subscription that
//! breaks one is skipped):
//! - converted to lower case first; then only `a-z`, `0-9`, `.` and `-`;
//! - ends in `.i2p`, at most 67 characters in all;
//! - does not start with `.` or `-`, and no label is empty (no `..`);
//! - no `.-` or `-.` (so no label starts or ends with `-`);
//! - no `--` except in an IDN label's `xn--` prefix;
//! - `*.b32.i2p` is reserved for base 32 addresses;
//! - names reserved for the project are refused: `proxy.i2p`, `router.i2p`,
//!   `console.i2p`, `mail.i2p`, and every name below them (`*.proxy.i2p`, ...). We add
//!   `b32.i2p` and `b64.i2p`, and `localhost.i2p`, which only confuse.

use std::fmt;

/// The longest name, `.i2p` included.
pub const MAX_NAME_LEN: usize = 67;

/// Second-level names no address book entry may be or be below.
const RESERVED: &[&str] = &[
    "proxy",
    "router",
    "console",
    "mail",
    "b32",
    "b64",
    "localhost",
];

/// A valid, lower-case address book name (`example.i2p`, `sub.example.i2p`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostName(String);

/// Why a text is not a valid host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("does not end in .i2p")]
    NotI2p,
    #[error("longer than {MAX_NAME_LEN} characters")]
    TooLong,
    #[error("character {0:?} is not allowed (a-z, 0-9, '.', '-')")]
    BadCharacter(char),
    #[error("an empty label (starts with '.' or has '..')")]
    EmptyLabel,
    #[error("a label starts or ends with '-'")]
    HyphenAtEdge,
    #[error("'--' outside an 'xn--' prefix")]
    DoubleHyphen,
    #[error(".b32.i2p names are base 32 addresses, not address book names")]
    Base32,
    #[error("reserved for the I2P project")]
    Reserved,
}

impl HostName {
    /// Checks `text` (case-insensitively: it is lower-cased first) by the naming rules.
    pub fn parse(text: &str) -> Result<HostName, NameError> {
        if text.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong);
        }
        let name = text.to_ascii_lowercase();
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
        {
            return Err(NameError::BadCharacter(bad));
        }
        let Some(stem) = name.strip_suffix(".i2p") else {
            return Err(NameError::NotI2p);
        };
        let labels: Vec<&str> = stem.split('.').collect();
        for label in &labels {
            check_label(label)?;
        }
        // The label just left of ".i2p" decides what the name is below.
        match labels.last() {
            Some(&"b32") => return Err(NameError::Base32),
            Some(last) if RESERVED.contains(last) => return Err(NameError::Reserved),
            _ => {}
        }
        Ok(HostName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name one level up (`example.i2p` for `www.example.i2p`), if there is one.
    pub fn parent(&self) -> Option<HostName> {
        let (_, rest) = self.0.split_once('.')?;
        (rest != "i2p").then(|| HostName(rest.to_owned()))
    }
}

fn check_label(label: &str) -> Result<(), NameError> {
    if label.is_empty() {
        return Err(NameError::EmptyLabel);
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(NameError::HyphenAtEdge);
    }
    // IDN labels are "xn--" followed by punycode, which has no "--" of its own.
    let body = label.strip_prefix("xn--").unwrap_or(label);
    if body.contains("--") {
        return Err(NameError::DoubleHyphen);
    }
    Ok(())
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_rules_of_the_specification() {
        for good in [
            "example.i2p",
            "Example.I2P",
            "a.i2p",
            "sub.example.i2p",
            "xn--bcher-kva.i2p",
            "my-site2.i2p",
            "stats.i2p",
        ] {
            assert!(HostName::parse(good).is_ok(), "{good}");
        }
        let cases = [
            ("example.com", NameError::NotI2p),
            ("i2p", NameError::NotI2p),
            (".i2p", NameError::EmptyLabel),
            (".example.i2p", NameError::EmptyLabel),
            ("a..b.i2p", NameError::EmptyLabel),
            ("-a.i2p", NameError::HyphenAtEdge),
            ("a-.i2p", NameError::HyphenAtEdge),
            ("a.-b.i2p", NameError::HyphenAtEdge),
            ("a--b.i2p", NameError::DoubleHyphen),
            ("xn--a--b.i2p", NameError::DoubleHyphen),
            ("a_b.i2p", NameError::BadCharacter('_')),
            ("a b.i2p", NameError::BadCharacter(' ')),
            ("é.i2p", NameError::BadCharacter('é')),
            ("aaaa.b32.i2p", NameError::Base32),
            ("proxy.i2p", NameError::Reserved),
            ("x.router.i2p", NameError::Reserved),
            ("console.i2p", NameError::Reserved),
            ("mail.i2p", NameError::Reserved),
        ];
        for (text, why) in cases {
            assert_eq!(HostName::parse(text), Err(why), "{text}");
        }
        let longest = format!("{}.i2p", "a".repeat(MAX_NAME_LEN - 4));
        assert!(HostName::parse(&longest).is_ok());
        let longer = format!("a{longest}");
        assert_eq!(HostName::parse(&longer), Err(NameError::TooLong));
    }

    #[test]
    fn parents() {
        let name = HostName::parse("a.b.example.i2p").expect("valid");
        let parent = name.parent().expect("parent");
        assert_eq!(parent.as_str(), "b.example.i2p");
        assert_eq!(
            parent.parent().map(|p| p.to_string()),
            Some("example.i2p".into())
        );
        assert_eq!(
            HostName::parse("example.i2p").expect("valid").parent(),
            None
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_is_idempotent(text in "\\PC{0,80}") {
            if let Ok(name) = HostName::parse(&text) {
                prop_assert_eq!(HostName::parse(name.as_str()), Ok(name.clone()));
                prop_assert!(name.as_str().len() <= MAX_NAME_LEN);
            }
        }

        #[test]
        fn generated_names_are_valid(labels in prop::collection::vec("[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?", 1..4)) {
            let text = format!("{}.i2p", labels.join("."));
            prop_assume!(text.len() <= MAX_NAME_LEN && !text.contains("--"));
            prop_assume!(!RESERVED.iter().chain(["b32"].iter()).any(|r| labels.last() == Some(&r.to_string())));
            prop_assert!(HostName::parse(&text).is_ok(), "{}", text);
        }
    }
}
