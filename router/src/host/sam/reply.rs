//! What the bridge writes back: typed replies, formatted as the spec writes them.
//!
//! `RESULT` comes first, then the reply's fields, then `MESSAGE="..."` (always quoted, line
//! breaks turned into spaces, so that a reply is exactly one line). A reply's `Display`
//! has no line end; [`Reply::line`] adds it.

use super::command::Version;
use super::line::{push_option, quote_always};
use std::fmt;

/// The spec's RESULT values ("RESULT Values", plus those named with the commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultCode {
    Ok,
    /// The peer exists, but cannot be reached.
    CantReachPeer,
    /// The destination is already in use (SESSION CREATE).
    DuplicatedDest,
    /// The session ID is already in use (SESSION CREATE / ADD).
    DuplicatedId,
    /// A generic error; the MESSAGE says what.
    I2pError,
    /// A key or destination is not valid (bad format, etc.).
    InvalidKey,
    /// No session has the ID (STREAM commands, SESSION REMOVE).
    InvalidId,
    /// The naming system cannot resolve the name (NAMING LOOKUP).
    KeyNotFound,
    /// The peer cannot be found on the network (STREAM CONNECT).
    PeerNotFound,
    /// Timed out waiting for an event, e.g. the peer's answer (STREAM CONNECT).
    Timeout,
    /// No version both sides support (HELLO).
    NoVersion,
    /// NAMING LOOKUP with OPTIONS=true found no LeaseSet.
    LeasesetNotFound,
    /// A second concurrent STREAM ACCEPT on one session before SAM 3.2.
    AlreadyAccepting,
}

impl ResultCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultCode::Ok => "OK",
            ResultCode::CantReachPeer => "CANT_REACH_PEER",
            ResultCode::DuplicatedDest => "DUPLICATED_DEST",
            ResultCode::DuplicatedId => "DUPLICATED_ID",
            ResultCode::I2pError => "I2P_ERROR",
            ResultCode::InvalidKey => "INVALID_KEY",
            ResultCode::InvalidId => "INVALID_ID",
            ResultCode::KeyNotFound => "KEY_NOT_FOUND",
            ResultCode::PeerNotFound => "PEER_NOT_FOUND",
            ResultCode::Timeout => "TIMEOUT",
            ResultCode::NoVersion => "NOVERSION",
            ResultCode::LeasesetNotFound => "LEASESET_NOT_FOUND",
            ResultCode::AlreadyAccepting => "ALREADY_ACCEPTING",
        }
    }
}

/// A RESULT other than OK, with its optional human-readable MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub result: ResultCode,
    pub message: Option<String>,
}

impl Failure {
    pub fn new(result: ResultCode, message: impl Into<String>) -> Failure {
        Failure {
            result,
            message: Some(message.into()),
        }
    }

    /// A failure the spec writes without a MESSAGE (`SESSION STATUS RESULT=DUPLICATED_ID`).
    pub fn bare(result: ResultCode) -> Failure {
        Failure {
            result,
            message: None,
        }
    }

    pub fn error(message: impl Into<String>) -> Failure {
        Failure::new(ResultCode::I2pError, message)
    }
}

/// FROM_PORT and TO_PORT as SAM 3.2 reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ports {
    pub from: u16,
    pub to: u16,
}

/// A SESSION STATUS RESULT=OK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOk {
    /// SESSION CREATE: `DESTINATION=$privkey`.
    Created { private_keys: String },
    /// SESSION ADD: `ID=$id` (and the primary's keys, as for CREATE).
    Added { id: String, private_keys: String },
    /// SESSION REMOVE: `ID=$id`.
    Removed { id: String },
}

/// One reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `HELLO REPLY RESULT=OK VERSION=3.1`, or NOVERSION / I2P_ERROR.
    Hello(Result<Version, Failure>),
    /// `SESSION STATUS ...`, also the answer to a silent client after HELLO.
    Session(Result<SessionOk, Failure>),
    /// `STREAM STATUS RESULT=...`.
    Stream(Result<(), Failure>),
    /// `NAMING REPLY RESULT=OK NAME=$name VALUE=$destination`, or the failure with NAME.
    Naming {
        name: String,
        result: Result<String, Failure>,
    },
    /// `DEST REPLY PUB=$destination PRIV=$privkey`; a refusal (e.g. a signature type we
    /// do not support) as `DEST REPLY RESULT=I2P_ERROR MESSAGE=...`.
    Dest(Result<(String, String), Failure>),
    /// `AUTH STATUS RESULT=...` (the spec names only the I2P_ERROR on failure).
    Auth(Result<(), Failure>),
    Pong(String),
    /// `DATAGRAM RECEIVED DESTINATION=$dest SIZE=n [FROM_PORT TO_PORT]`, the payload after.
    DatagramReceived {
        destination: String,
        size: usize,
        ports: Option<Ports>,
    },
    /// `RAW RECEIVED SIZE=n [FROM_PORT TO_PORT PROTOCOL]`, the payload after.
    RawReceived {
        size: usize,
        ports: Option<(Ports, u8)>,
    },
}

impl Reply {
    /// The reply and its `\n`.
    pub fn line(&self) -> String {
        format!("{self}\n")
    }

    /// The RESULT of this reply (OK for lines without one, such as PONG).
    pub fn result(&self) -> ResultCode {
        let failure = match self {
            Reply::Hello(r) => r.as_ref().err(),
            Reply::Session(r) => r.as_ref().err(),
            Reply::Stream(r) | Reply::Auth(r) => r.as_ref().err(),
            Reply::Naming { result, .. } => result.as_ref().err(),
            Reply::Dest(r) => r.as_ref().err(),
            _ => None,
        };
        failure.map_or(ResultCode::Ok, |f| f.result)
    }
}

fn push_ports(line: &mut String, ports: Ports) {
    push_option(line, "FROM_PORT", &ports.from.to_string());
    push_option(line, "TO_PORT", &ports.to.to_string());
}

fn push_failure(line: &mut String, failure: &Failure) {
    push_option(line, "RESULT", failure.result.as_str());
    if let Some(message) = &failure.message {
        line.push_str(" MESSAGE=");
        line.push_str(&quote_always(message));
    }
}

fn push_session(line: &mut String, result: &Result<SessionOk, Failure>) {
    let (id, keys) = match result {
        Ok(SessionOk::Created { private_keys }) => (None, Some(private_keys)),
        Ok(SessionOk::Added { id, private_keys }) => (Some(id), Some(private_keys)),
        Ok(SessionOk::Removed { id }) => (Some(id), None),
        Err(failure) => return push_failure(line, failure),
    };
    push_option(line, "RESULT", "OK");
    if let Some(id) = id {
        push_option(line, "ID", id);
    }
    if let Some(keys) = keys {
        push_option(line, "DESTINATION", keys);
    }
}

/// NAMING REPLY puts NAME between RESULT and VALUE or MESSAGE.
fn push_naming(line: &mut String, name: &str, result: &Result<String, Failure>) {
    let code = result.as_ref().err().map_or(ResultCode::Ok, |f| f.result);
    push_option(line, "RESULT", code.as_str());
    push_option(line, "NAME", name);
    match result {
        Ok(value) => push_option(line, "VALUE", value),
        Err(failure) => {
            if let Some(message) = &failure.message {
                line.push_str(" MESSAGE=");
                line.push_str(&quote_always(message));
            }
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ok = |line: &mut String| push_option(line, "RESULT", "OK");
        let mut line = String::new();
        match self {
            Reply::Hello(result) => {
                line.push_str("HELLO REPLY");
                match result {
                    Ok(version) => {
                        ok(&mut line);
                        push_option(&mut line, "VERSION", &version.to_string());
                    }
                    Err(failure) => push_failure(&mut line, failure),
                }
            }
            Reply::Session(result) => {
                line.push_str("SESSION STATUS");
                push_session(&mut line, result);
            }
            Reply::Stream(result) | Reply::Auth(result) => {
                let words = if matches!(self, Reply::Stream(_)) {
                    "STREAM STATUS"
                } else {
                    "AUTH STATUS"
                };
                line.push_str(words);
                match result {
                    Ok(()) => ok(&mut line),
                    Err(failure) => push_failure(&mut line, failure),
                }
            }
            Reply::Naming { name, result } => {
                line.push_str("NAMING REPLY");
                push_naming(&mut line, name, result);
            }
            Reply::Dest(result) => {
                line.push_str("DEST REPLY");
                match result {
                    Ok((public, private)) => {
                        push_option(&mut line, "PUB", public);
                        push_option(&mut line, "PRIV", private);
                    }
                    Err(failure) => push_failure(&mut line, failure),
                }
            }
            Reply::Pong(text) if text.is_empty() => line.push_str("PONG"),
            Reply::Pong(text) => {
                line.push_str("PONG ");
                // Free text echoed back, but never a line break.
                line.extend(text.chars().map(|c| if c == '\n' { ' ' } else { c }));
            }
            Reply::DatagramReceived {
                destination,
                size,
                ports,
            } => {
                line.push_str("DATAGRAM RECEIVED");
                push_option(&mut line, "DESTINATION", destination);
                push_option(&mut line, "SIZE", &size.to_string());
                if let Some(ports) = ports {
                    push_ports(&mut line, *ports);
                }
            }
            Reply::RawReceived { size, ports } => {
                line.push_str("RAW RECEIVED");
                push_option(&mut line, "SIZE", &size.to_string());
                if let Some((ports, protocol)) = ports {
                    push_ports(&mut line, *ports);
                    push_option(&mut line, "PROTOCOL", &protocol.to_string());
                }
            }
        }
        f.write_str(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_read_as_the_spec_writes_them() {
        let cases = [
            (
                Reply::Hello(Ok(Version::new(3, 1))),
                "HELLO REPLY RESULT=OK VERSION=3.1",
            ),
            (
                Reply::Hello(Err(Failure::bare(ResultCode::NoVersion))),
                "HELLO REPLY RESULT=NOVERSION",
            ),
            (
                Reply::Hello(Err(Failure::error("bad \"request\""))),
                r#"HELLO REPLY RESULT=I2P_ERROR MESSAGE="bad \"request\"""#,
            ),
            (
                Reply::Session(Err(Failure::bare(ResultCode::DuplicatedId))),
                "SESSION STATUS RESULT=DUPLICATED_ID",
            ),
            (
                Reply::Session(Ok(SessionOk::Created {
                    private_keys: "AbC~".into(),
                })),
                "SESSION STATUS RESULT=OK DESTINATION=AbC~",
            ),
            (
                Reply::Stream(Err(Failure::new(ResultCode::CantReachPeer, "no route"))),
                r#"STREAM STATUS RESULT=CANT_REACH_PEER MESSAGE="no route""#,
            ),
            (Reply::Stream(Ok(())), "STREAM STATUS RESULT=OK"),
            (
                Reply::Naming {
                    name: "ME".into(),
                    result: Ok("dest".into()),
                },
                "NAMING REPLY RESULT=OK NAME=ME VALUE=dest",
            ),
            (
                Reply::Naming {
                    name: "x.i2p".into(),
                    result: Err(Failure::new(ResultCode::KeyNotFound, "unknown\nname")),
                },
                r#"NAMING REPLY RESULT=KEY_NOT_FOUND NAME=x.i2p MESSAGE="unknown name""#,
            ),
            (
                Reply::Dest(Ok(("pub".into(), "priv".into()))),
                "DEST REPLY PUB=pub PRIV=priv",
            ),
            (Reply::Pong("abc def".into()), "PONG abc def"),
            (Reply::Pong(String::new()), "PONG"),
            (
                Reply::DatagramReceived {
                    destination: "d".into(),
                    size: 5,
                    ports: Some(Ports { from: 1, to: 2 }),
                },
                "DATAGRAM RECEIVED DESTINATION=d SIZE=5 FROM_PORT=1 TO_PORT=2",
            ),
            (
                Reply::RawReceived {
                    size: 3,
                    ports: Some((Ports { from: 0, to: 9 }, 18)),
                },
                "RAW RECEIVED SIZE=3 FROM_PORT=0 TO_PORT=9 PROTOCOL=18",
            ),
            (
                Reply::RawReceived {
                    size: 3,
                    ports: None,
                },
                "RAW RECEIVED SIZE=3",
            ),
        ];
        for (reply, text) in cases {
            assert_eq!(reply.to_string(), text);
            assert_eq!(reply.line(), format!("{text}\n"));
        }
    }
}
