//! One client command line as a typed [`Command`], and back.
//!
//! The first two words are the command and its subcommand; they are matched in any case
//! (the spec recommends mapping them to upper case, for telnet). Option keys the bridge
//! knows are upper case and matched exactly; every other option of a SESSION command is
//! kept in [`SessionParams::options`] for the router (I2CP, tunnel and streaming options
//! are case-sensitive and passed on untouched). `Display` writes a command the way
//! [`Command::parse`] reads it, which the property tests check.

use super::line::{is_space, parse_options, push_option, Options};
use super::SamError;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A SAM protocol version, `3.1` or `3` (the latter read as `3.0` or `3.x` depending on
/// whether it is a lower or an upper bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u8,
    /// `None` for a single-digit version such as `3`.
    pub minor: Option<u8>,
}

impl Version {
    pub const fn new(major: u8, minor: u8) -> Version {
        Version {
            major,
            minor: Some(minor),
        }
    }
}

impl FromStr for Version {
    type Err = SamError;
    fn from_str(s: &str) -> Result<Version, SamError> {
        let number = |t: &str| {
            (!t.is_empty() && t.len() <= 3 && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<u8>().ok())
                .flatten()
                .ok_or_else(|| SamError::BadValue("VERSION", s.to_owned()))
        };
        match s.split_once('.') {
            Some((major, minor)) => Ok(Version::new(number(major)?, number(minor)?)),
            None => Ok(Version {
                major: number(s)?,
                minor: None,
            }),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.minor {
            Some(minor) => write!(f, "{}.{minor}", self.major),
            None => write!(f, "{}", self.major),
        }
    }
}

/// The signature types of Key Certificates, by number; names are read case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureType(pub u16);

impl SignatureType {
    /// What SAM assumes when SIGNATURE_TYPE is left out.
    pub const DSA_SHA1: SignatureType = SignatureType(0);
    /// The only type this bridge generates and accepts.
    pub const ED25519: SignatureType = SignatureType(7);
    const NAMES: [(&'static str, u16); 10] = [
        ("DSA_SHA1", 0),
        ("ECDSA_SHA256_P256", 1),
        ("ECDSA_SHA384_P384", 2),
        ("ECDSA_SHA512_P521", 3),
        ("RSA_SHA256_2048", 4),
        ("RSA_SHA384_3072", 5),
        ("RSA_SHA512_4096", 6),
        ("EdDSA_SHA512_Ed25519", 7),
        ("EdDSA_SHA512_Ed25519ph", 8),
        ("RedDSA_SHA512_Ed25519", 11),
    ];
}

impl FromStr for SignatureType {
    type Err = SamError;
    fn from_str(s: &str) -> Result<SignatureType, SamError> {
        if let Ok(n) = s.parse::<u16>() {
            return Ok(SignatureType(n));
        }
        Self::NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|(_, n)| SignatureType(*n))
            .ok_or_else(|| SamError::BadValue("SIGNATURE_TYPE", s.to_owned()))
    }
}

/// A session's STYLE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Style {
    Stream,
    /// Repliable datagrams (Datagram1, protocol 17).
    Datagram,
    Datagram2,
    Datagram3,
    Raw,
    /// `PRIMARY`, or `MASTER` (its old name, the only one i2pd knows): `master` remembers
    /// which was written.
    Primary {
        master: bool,
    },
}

impl Style {
    fn name(self) -> &'static str {
        match self {
            Style::Stream => "STREAM",
            Style::Datagram => "DATAGRAM",
            Style::Datagram2 => "DATAGRAM2",
            Style::Datagram3 => "DATAGRAM3",
            Style::Raw => "RAW",
            Style::Primary { master: false } => "PRIMARY",
            Style::Primary { master: true } => "MASTER",
        }
    }

    pub fn is_primary(self) -> bool {
        matches!(self, Style::Primary { .. })
    }
}

impl FromStr for Style {
    type Err = SamError;
    fn from_str(s: &str) -> Result<Style, SamError> {
        let all = [
            Style::Stream,
            Style::Datagram,
            Style::Datagram2,
            Style::Datagram3,
            Style::Raw,
            Style::Primary { master: false },
            Style::Primary { master: true },
        ];
        all.into_iter()
            .find(|style| style.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| SamError::BadValue("STYLE", s.to_owned()))
    }
}

/// SESSION CREATE's DESTINATION.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationSpec {
    Transient,
    /// The base64 private key blob (see [`super::keys`]), not yet decoded.
    Keys(String),
}

/// The options SESSION CREATE and SESSION ADD share. `None` is "not given": what is
/// allowed where, and the defaults, are the session layer's business.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionParams {
    pub port: Option<u16>,
    pub host: Option<String>,
    pub from_port: Option<u16>,
    pub to_port: Option<u16>,
    pub protocol: Option<u8>,
    pub listen_port: Option<u16>,
    pub listen_protocol: Option<u8>,
    pub header: Option<bool>,
    /// Everything else (I2CP, tunnel and streaming options such as `inbound.length`,
    /// `i2cp.leaseSetEncType`), for the router. Java-only `sam.udp.*` options are dropped.
    pub options: BTreeMap<String, String>,
}

/// `AUTH ...` (SAM 3.2): changes authorization for later connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthCommand {
    Enable,
    Disable,
    Add { user: String, password: String },
    Remove { user: String },
}

/// One command a client sends on the control socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Hello {
        min: Option<Version>,
        max: Option<Version>,
        user: Option<String>,
        password: Option<String>,
    },
    SessionCreate {
        style: Style,
        id: String,
        destination: DestinationSpec,
        signature_type: Option<SignatureType>,
        params: SessionParams,
    },
    SessionAdd {
        style: Style,
        id: String,
        params: SessionParams,
    },
    SessionRemove {
        id: String,
    },
    StreamConnect {
        id: String,
        destination: String,
        silent: bool,
        from_port: Option<u16>,
        to_port: Option<u16>,
    },
    StreamAccept {
        id: String,
        silent: bool,
    },
    StreamForward {
        id: String,
        port: u16,
        host: Option<String>,
        silent: bool,
        ssl: bool,
    },
    /// `DATAGRAM SEND` (`raw: false`) or `RAW SEND`: `size` payload bytes follow the line.
    DatagramSend {
        raw: bool,
        destination: String,
        size: usize,
        from_port: Option<u16>,
        to_port: Option<u16>,
        protocol: Option<u8>,
    },
    NamingLookup {
        name: String,
        options: bool,
    },
    DestGenerate {
        signature_type: Option<SignatureType>,
    },
    /// `PING[ text]`: the text after the first space, as written.
    Ping(String),
    Pong(String),
    /// QUIT, STOP or EXIT.
    Quit,
    Help,
    Auth(AuthCommand),
}

/// The largest payload DATAGRAM SEND and RAW SEND may announce (I2P datagrams never
/// exceed 64 KiB).
pub const MAX_DATAGRAM: usize = 65_536;

impl Command {
    /// Parses one line, without its `\n` (a trailing `\r` is ignored).
    pub fn parse(line: &str) -> Result<Command, SamError> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let (verb, rest) = split_word(line);
        let verb = verb.to_ascii_uppercase();
        // PING and PONG carry free text, not options.
        match verb.as_str() {
            "PING" => return Ok(Command::Ping(free_text(line))),
            "PONG" => return Ok(Command::Pong(free_text(line))),
            _ => {}
        }
        let (sub, rest) = match split_word(rest) {
            (word, after) if !word.is_empty() && !word.contains('=') => {
                (word.to_ascii_uppercase(), after)
            }
            _ => (String::new(), rest),
        };
        let mut o = Opts(parse_options(rest)?);
        // SESSION commands keep the options left over for the router; the others ignore
        // them, as the spec asks of options a bridge does not support (SEND_TAGS, ...).
        let parsed = match verb.as_str() {
            "SESSION" => session_command(&sub, &mut o)?,
            "STREAM" => stream_command(&sub, &mut o)?,
            _ => other_command(&verb, &sub, &mut o)?,
        };
        parsed.ok_or_else(|| SamError::UnknownCommand(format!("{verb} {sub}").trim().into()))
    }
}

fn session_command(sub: &str, o: &mut Opts) -> Result<Option<Command>, SamError> {
    Ok(Some(match sub {
        "CREATE" => Command::SessionCreate {
            style: o.required("STYLE")?,
            id: o.id()?,
            destination: match o.need("DESTINATION")? {
                d if d == "TRANSIENT" => DestinationSpec::Transient,
                d => DestinationSpec::Keys(d),
            },
            signature_type: o.parsed("SIGNATURE_TYPE")?,
            params: session_params(o)?,
        },
        "ADD" => {
            if o.take("DESTINATION").is_some() {
                return Err(SamError::NotAllowed("DESTINATION", "SESSION ADD"));
            }
            Command::SessionAdd {
                style: o.required("STYLE")?,
                id: o.id()?,
                params: session_params(o)?,
            }
        }
        "REMOVE" => Command::SessionRemove { id: o.id()? },
        _ => return Ok(None),
    }))
}

fn stream_command(sub: &str, o: &mut Opts) -> Result<Option<Command>, SamError> {
    Ok(Some(match sub {
        "CONNECT" => Command::StreamConnect {
            id: o.id()?,
            destination: o.need("DESTINATION")?,
            silent: o.flag("SILENT")?,
            from_port: o.parsed("FROM_PORT")?,
            to_port: o.parsed("TO_PORT")?,
        },
        "ACCEPT" => Command::StreamAccept {
            id: o.id()?,
            silent: o.flag("SILENT")?,
        },
        "FORWARD" => Command::StreamForward {
            id: o.id()?,
            port: o.required("PORT")?,
            host: o.take("HOST"),
            silent: o.flag("SILENT")?,
            ssl: o.flag("SSL")?,
        },
        _ => return Ok(None),
    }))
}

fn other_command(verb: &str, sub: &str, o: &mut Opts) -> Result<Option<Command>, SamError> {
    Ok(Some(match (verb, sub) {
        ("HELLO", "VERSION") => Command::Hello {
            min: o.parsed("MIN")?,
            max: o.parsed("MAX")?,
            user: o.take("USER"),
            password: o.take("PASSWORD"),
        },
        ("DATAGRAM" | "RAW", "SEND") => {
            let raw = verb == "RAW";
            let size: usize = o.required("SIZE")?;
            if size == 0 || size > MAX_DATAGRAM {
                return Err(SamError::BadValue("SIZE", size.to_string()));
            }
            Command::DatagramSend {
                raw,
                destination: o.need("DESTINATION")?,
                size,
                from_port: o.parsed("FROM_PORT")?,
                to_port: o.parsed("TO_PORT")?,
                protocol: if raw { o.parsed("PROTOCOL")? } else { None },
            }
        }
        ("NAMING", "LOOKUP") => Command::NamingLookup {
            name: o.need("NAME")?,
            options: o.flag("OPTIONS")?,
        },
        ("DEST", "GENERATE") => Command::DestGenerate {
            signature_type: o.parsed("SIGNATURE_TYPE")?,
        },
        ("QUIT" | "STOP" | "EXIT", "") => Command::Quit,
        ("HELP", "") => Command::Help,
        ("AUTH", "ENABLE") => Command::Auth(AuthCommand::Enable),
        ("AUTH", "DISABLE") => Command::Auth(AuthCommand::Disable),
        ("AUTH", "ADD") => Command::Auth(AuthCommand::Add {
            user: o.need("USER")?,
            password: o.need("PASSWORD")?,
        }),
        ("AUTH", "REMOVE") => Command::Auth(AuthCommand::Remove {
            user: o.need("USER")?,
        }),
        _ => return Ok(None),
    }))
}

/// The first word of `text` and the text after it.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start_matches(is_space);
    let end = text.find(is_space).unwrap_or(text.len());
    (&text[..end], &text[end..])
}

/// What follows `PING ` or `PONG `.
fn free_text(line: &str) -> String {
    let line = line.trim_start_matches(is_space);
    line.get(4..)
        .and_then(|t| t.strip_prefix(is_space))
        .unwrap_or("")
        .to_owned()
}

fn session_params(o: &mut Opts) -> Result<SessionParams, SamError> {
    let params = SessionParams {
        port: o.parsed("PORT")?,
        host: o.take("HOST"),
        from_port: o.parsed("FROM_PORT")?,
        to_port: o.parsed("TO_PORT")?,
        protocol: o.parsed("PROTOCOL")?,
        listen_port: o.parsed("LISTEN_PORT")?,
        listen_protocol: o.parsed("LISTEN_PROTOCOL")?,
        header: o.parsed_flag("HEADER")?,
        options: std::mem::take(&mut o.0)
            .into_iter()
            .filter(|(k, _)| !k.starts_with("sam."))
            .collect(),
    };
    Ok(params)
}

/// A line's options, taken out one by one as the command reads them.
struct Opts(Options);

impl Opts {
    fn take(&mut self, key: &str) -> Option<String> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    fn need(&mut self, key: &'static str) -> Result<String, SamError> {
        match self.take(key) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(SamError::Missing(key)),
        }
    }

    /// An ID: no whitespace (the tokenizer already split on it), not empty.
    fn id(&mut self) -> Result<String, SamError> {
        self.need("ID")
    }

    fn parsed<T: FromStr>(&mut self, key: &'static str) -> Result<Option<T>, SamError> {
        match self.take(key) {
            // "Empty option values such as PROTOCOL or PROTOCOL= may be allowed": as absent.
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| SamError::BadValue(key, v)),
            None => Ok(None),
        }
    }

    fn required<T: FromStr>(&mut self, key: &'static str) -> Result<T, SamError> {
        self.parsed(key)?.ok_or(SamError::Missing(key))
    }

    fn parsed_flag(&mut self, key: &'static str) -> Result<Option<bool>, SamError> {
        match self.take(key) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(SamError::BadValue(key, v)),
        }
    }

    fn flag(&mut self, key: &'static str) -> Result<bool, SamError> {
        Ok(self.parsed_flag(key)?.unwrap_or(false))
    }
}

/// Builds a command line option by option.
struct Line(String);

impl Line {
    fn new(words: &str) -> Line {
        Line(words.to_owned())
    }
    fn opt(&mut self, key: &str, value: &str) -> &mut Line {
        push_option(&mut self.0, key, value);
        self
    }
    fn some<T: fmt::Display>(&mut self, key: &str, value: &Option<T>) -> &mut Line {
        if let Some(v) = value {
            self.opt(key, &v.to_string());
        }
        self
    }
    fn flag(&mut self, key: &str, value: bool) -> &mut Line {
        if value {
            self.opt(key, "true");
        }
        self
    }
    fn params(&mut self, p: &SessionParams) -> &mut Line {
        self.some("PORT", &p.port)
            .some("HOST", &p.host)
            .some("FROM_PORT", &p.from_port)
            .some("TO_PORT", &p.to_port)
            .some("PROTOCOL", &p.protocol)
            .some("LISTEN_PORT", &p.listen_port)
            .some("LISTEN_PROTOCOL", &p.listen_protocol)
            .some("HEADER", &p.header);
        for (k, v) in &p.options {
            self.opt(k, v);
        }
        self
    }
}

impl fmt::Display for SignatureType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = session_line(self)
            .or_else(|| stream_line(self))
            .or_else(|| other_line(self))
            .unwrap_or_default();
        f.write_str(&line)
    }
}

/// SESSION commands as a line.
fn session_line(c: &Command) -> Option<String> {
    Some(match c {
        Command::SessionCreate {
            style,
            id,
            destination,
            signature_type,
            params,
        } => {
            let dest = match destination {
                DestinationSpec::Transient => "TRANSIENT",
                DestinationSpec::Keys(k) => k,
            };
            Line::new("SESSION CREATE")
                .opt("STYLE", style.name())
                .opt("ID", id)
                .opt("DESTINATION", dest)
                .some("SIGNATURE_TYPE", signature_type)
                .params(params)
                .0
                .clone()
        }
        Command::SessionAdd { style, id, params } => Line::new("SESSION ADD")
            .opt("STYLE", style.name())
            .opt("ID", id)
            .params(params)
            .0
            .clone(),
        Command::SessionRemove { id } => Line::new("SESSION REMOVE").opt("ID", id).0.clone(),
        _ => return None,
    })
}

/// STREAM commands as a line.
fn stream_line(c: &Command) -> Option<String> {
    Some(match c {
        Command::StreamConnect {
            id,
            destination,
            silent,
            from_port,
            to_port,
        } => Line::new("STREAM CONNECT")
            .opt("ID", id)
            .opt("DESTINATION", destination)
            .flag("SILENT", *silent)
            .some("FROM_PORT", from_port)
            .some("TO_PORT", to_port)
            .0
            .clone(),
        Command::StreamAccept { id, silent } => Line::new("STREAM ACCEPT")
            .opt("ID", id)
            .flag("SILENT", *silent)
            .0
            .clone(),
        Command::StreamForward {
            id,
            port,
            host,
            silent,
            ssl,
        } => Line::new("STREAM FORWARD")
            .opt("ID", id)
            .opt("PORT", &port.to_string())
            .some("HOST", host)
            .flag("SILENT", *silent)
            .flag("SSL", *ssl)
            .0
            .clone(),
        _ => return None,
    })
}

/// The other commands as a line.
fn other_line(c: &Command) -> Option<String> {
    Some(match c {
        Command::Hello {
            min,
            max,
            user,
            password,
        } => Line::new("HELLO VERSION")
            .some("MIN", min)
            .some("MAX", max)
            .some("USER", user)
            .some("PASSWORD", password)
            .0
            .clone(),
        Command::DatagramSend {
            raw,
            destination,
            size,
            from_port,
            to_port,
            protocol,
        } => Line::new(if *raw { "RAW SEND" } else { "DATAGRAM SEND" })
            .opt("DESTINATION", destination)
            .opt("SIZE", &size.to_string())
            .some("FROM_PORT", from_port)
            .some("TO_PORT", to_port)
            .some("PROTOCOL", protocol)
            .0
            .clone(),
        Command::NamingLookup { name, options } => Line::new("NAMING LOOKUP")
            .opt("NAME", name)
            .flag("OPTIONS", *options)
            .0
            .clone(),
        Command::DestGenerate { signature_type } => Line::new("DEST GENERATE")
            .some("SIGNATURE_TYPE", signature_type)
            .0
            .clone(),
        Command::Ping(text) | Command::Pong(text) => {
            let word = if matches!(c, Command::Ping(_)) {
                "PING"
            } else {
                "PONG"
            };
            if text.is_empty() {
                word.to_owned()
            } else {
                format!("{word} {text}")
            }
        }
        Command::Quit => "QUIT".to_owned(),
        Command::Help => "HELP".to_owned(),
        Command::Auth(AuthCommand::Enable) => "AUTH ENABLE".to_owned(),
        Command::Auth(AuthCommand::Disable) => "AUTH DISABLE".to_owned(),
        Command::Auth(AuthCommand::Add { user, password }) => Line::new("AUTH ADD")
            .opt("USER", user)
            .opt("PASSWORD", password)
            .0
            .clone(),
        Command::Auth(AuthCommand::Remove { user }) => {
            Line::new("AUTH REMOVE").opt("USER", user).0.clone()
        }
        _ => return None,
    })
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
