//! One line of a hosts.txt file: `name=base64dest`, optionally followed by the
//! subscription feed's `#!key=value#key=value` options, or a `#!...` command line of
//! its own, or a comment.
//!
//! The extended syntax is the I2P "Address Subscription Feed Commands" specification
//! (proposal 112): keys are unique and case-sensitive, values run to the next `#`, and
//! a command's signature covers the line re-serialised with its keys sorted
//! ([`Options::signed_text`]). Older readers see the options as a comment, which is why
//! they start with `#`.

use super::dest::{BookDestination, DestError};
use super::name::{HostName, NameError};
use std::fmt;

/// Longer lines are garbage: two destinations and two signatures fit in under 2 kB.
pub const MAX_LINE_LEN: usize = 4096;
/// Options per line, at most.
const MAX_OPTIONS: usize = 32;

/// What a line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Blank, or a comment.
    Nothing,
    /// `name=dest`, with the options that followed it (none for a plain line).
    Entry(Entry),
    /// `#!key=value#...` on its own: a remove or removeall command.
    Command(Options),
}

/// `name=dest#!options`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: HostName,
    pub dest: BookDestination,
    pub options: Options,
}

/// The `key=value` pairs of a line, in the order written; keys are unique.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options(Vec<(String, String)>);

/// Why a line is garbage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("longer than {MAX_LINE_LEN} bytes")]
    TooLong,
    #[error("not UTF-8")]
    NotUtf8,
    #[error("no '=' between name and destination")]
    NoEquals,
    #[error("bad name: {0}")]
    Name(#[from] NameError),
    #[error("bad destination: {0}")]
    Dest(#[from] DestError),
    #[error("bad options: {0}")]
    Options(&'static str),
}

impl Line {
    /// Parses one line (without its line break; a trailing `\r` is ignored).
    pub fn parse(text: &str) -> Result<Line, LineError> {
        if text.len() > MAX_LINE_LEN {
            return Err(LineError::TooLong);
        }
        let text = text.trim();
        if let Some(options) = text.strip_prefix("#!") {
            return Options::parse(options).map(Line::Command);
        }
        if text.is_empty() || text.starts_with('#') {
            return Ok(Line::Nothing);
        }
        // The destination ends at the first '#': options if "#!", else a comment.
        let (entry, options) = match text.split_once('#') {
            Some((entry, rest)) => match rest.strip_prefix('!') {
                Some(options) => (entry, Options::parse(options)?),
                None => (entry, Options::default()),
            },
            None => (text, Options::default()),
        };
        let (name, dest) = entry.split_once('=').ok_or(LineError::NoEquals)?;
        Ok(Line::Entry(Entry {
            name: HostName::parse(name.trim())?,
            dest: BookDestination::parse_base64(dest.trim())?,
            options,
        }))
    }

    /// Parses a line of bytes, as they come from a file or a subscription.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Line, LineError> {
        if bytes.len() > MAX_LINE_LEN {
            return Err(LineError::TooLong);
        }
        Line::parse(std::str::from_utf8(bytes).map_err(|_| LineError::NotUtf8)?)
    }
}

impl Entry {
    /// A plain entry, without options.
    pub fn new(name: HostName, dest: BookDestination) -> Entry {
        Entry {
            name,
            dest,
            options: Options::default(),
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name, self.dest.to_base64())?;
        if !self.options.is_empty() {
            write!(f, "#!{}", self.options)?;
        }
        Ok(())
    }
}

impl Options {
    /// Parses `key=value#key=value` (what follows `#!`).
    pub fn parse(text: &str) -> Result<Options, LineError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in text.split('#') {
            let (key, value) = part
                .split_once('=')
                .ok_or(LineError::Options("an option without '='"))?;
            if key.is_empty() {
                return Err(LineError::Options("an empty key"));
            }
            if pairs.iter().any(|(k, _)| k == key) {
                return Err(LineError::Options("a key given twice"));
            }
            if pairs.len() == MAX_OPTIONS {
                return Err(LineError::Options("too many options"));
            }
            pairs.push((key.to_owned(), value.to_owned()));
        }
        Ok(Options(pairs))
    }

    /// Builds options from pairs; `None` if a key repeats or a key or value could not
    /// be written back (contains `#`, or a key contains `=` or is empty).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Option<Options> {
        let writable = pairs
            .iter()
            .all(|(k, v)| !k.is_empty() && !k.contains(['#', '=']) && !v.contains('#'));
        let mut keys: Vec<&String> = pairs.iter().map(|(k, _)| k).collect();
        keys.sort();
        keys.dedup();
        (writable && keys.len() == pairs.len() && pairs.len() <= MAX_OPTIONS)
            .then_some(Options(pairs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// What a command's signature covers: `prefix` (`name=dest` for add and change
    /// commands, empty for removes), then `#!` and the options sorted by key without
    /// the ones in `without` (`sig`, and `oldsig` for the inner signature), joined by
    /// `#`. No line break.
    pub fn signed_text(&self, prefix: &str, without: &[&str]) -> String {
        let mut kept: Vec<&(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| !without.contains(&k.as_str()))
            .collect();
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        let mut text = prefix.to_owned();
        if !kept.is_empty() {
            text.push_str("#!");
            let joined: Vec<String> = kept.iter().map(|(k, v)| format!("{k}={v}")).collect();
            text.push_str(&joined.join("#"));
        }
        text
    }
}

impl fmt::Display for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("#")?;
            }
            write!(f, "{key}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DestinationKeys;
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn dest(seed: u64) -> BookDestination {
        let keys = DestinationKeys::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed));
        BookDestination::from(keys.destination())
    }

    #[test]
    fn plain_extended_and_command_lines() {
        let d = dest(1).to_base64();
        let plain = Line::parse(&format!("Example.i2p={d}\r")).expect("plain");
        let Line::Entry(entry) = plain else {
            panic!("an entry")
        };
        assert_eq!(entry.name.as_str(), "example.i2p");
        assert!(entry.options.is_empty());
        assert_eq!(entry.to_string(), format!("example.i2p={d}"));

        let extended = format!("example.i2p={d}#!date=1500000000#sig=abc=");
        let Ok(Line::Entry(entry)) = Line::parse(&extended) else {
            panic!("an extended entry")
        };
        assert_eq!(entry.options.get("sig"), Some("abc="));
        assert_eq!(entry.to_string(), extended);
        assert_eq!(
            entry
                .options
                .signed_text(&format!("example.i2p={d}"), &["sig"]),
            format!("example.i2p={d}#!date=1500000000")
        );

        let command = Line::parse("#!sig=s#action=remove#name=a.i2p").expect("command");
        let Line::Command(options) = command else {
            panic!("a command")
        };
        assert_eq!(
            options.signed_text("", &["sig"]),
            "#!action=remove#name=a.i2p"
        );

        for nothing in ["", "   ", "# a comment", "#"] {
            assert_eq!(Line::parse(nothing), Ok(Line::Nothing), "{nothing:?}");
        }
        let commented = Line::parse(&format!("example.i2p={d}# added by hand"));
        assert!(matches!(commented, Ok(Line::Entry(_))));
    }

    #[test]
    fn garbage_is_an_error() {
        let d = dest(2).to_base64();
        assert_eq!(Line::parse("example.i2p"), Err(LineError::NoEquals));
        assert!(matches!(
            Line::parse(&format!("example.com={d}")),
            Err(LineError::Name(_))
        ));
        assert!(matches!(
            Line::parse("example.i2p=AAAA"),
            Err(LineError::Dest(_))
        ));
        assert!(matches!(
            Line::parse(&format!("example.i2p={d}#!a=1#a=2")),
            Err(LineError::Options(_))
        ));
        assert!(matches!(
            Line::parse("#!novalue"),
            Err(LineError::Options(_))
        ));
        assert_eq!(
            Line::parse(&"x".repeat(MAX_LINE_LEN + 1)),
            Err(LineError::TooLong)
        );
        assert_eq!(Line::parse_bytes(b"a\xffb"), Err(LineError::NotUtf8));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..700)) {
            let _ = Line::parse_bytes(&bytes);
        }

        #[test]
        fn entries_round_trip(
            seed in 0u64..4,
            name in "[a-z][a-z0-9]{0,10}",
            pairs in prop::collection::btree_map("[a-z]{1,6}", "[A-Za-z0-9=~-]{0,12}", 0..5),
        ) {
            let options = Options::from_pairs(pairs.into_iter().collect()).expect("writable");
            let name = HostName::parse(&format!("{name}.i2p"));
            prop_assume!(name.is_ok());
            let entry = Entry { name: name.expect("valid"), dest: dest(seed), options };
            prop_assert_eq!(Line::parse(&entry.to_string()), Ok(Line::Entry(entry)));
        }
    }
}
