//! The IRC filter: what an IRC client sends into I2P is cut down to commands that say
//! nothing about the user's machine, and what comes back cannot make the client answer
//! on its own (CTCP VERSION, TIME, DCC offers: each would tell the other side the
//! client's software, clock or address).
//!
//! From the user (`ircclient`): the commands of RFC 1459/2812 and the common services'
//! ones pass; CTCP inside PRIVMSG and NOTICE is dropped except ACTION (`/me`); QUIT's
//! message (often the client's name and version) is replaced; USER's host and server
//! fields are replaced; anything else is dropped. To the user: CTCP other than ACTION
//! is dropped. On a server tunnel (`irc`) with `webircpassword`, the connection opens
//! with a WEBIRC line naming the visitor by its b32 address, so the server can tell
//! visitors apart (and ban one) without any of them having an IP address.
//!
//! Lines are at most [`MAX_LINE`] bytes (IRC's 512, plus room for IRCv3 tags); a longer
//! one ends the connection.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

pub const MAX_LINE: usize = 8192;

/// Commands that pass from the user unchanged (upper case).
const ALLOWED: &[&str] = &[
    "ADMIN",
    "AUTHENTICATE",
    "AWAY",
    "CAP",
    "CHANSERV",
    "CNOTICE",
    "CPRIVMSG",
    "HELPOP",
    "INFO",
    "INVITE",
    "ISON",
    "JOIN",
    "KICK",
    "KNOCK",
    "LINKS",
    "LIST",
    "LUSERS",
    "MAP",
    "MEMOSERV",
    "MODE",
    "MOTD",
    "NAMES",
    "NICK",
    "NICKSERV",
    "OPER",
    "OPERSERV",
    "PART",
    "PASS",
    "PING",
    "PONG",
    "SILENCE",
    "STATS",
    "TIME",
    "TOPIC",
    "USERHOST",
    "VERSION",
    "WATCH",
    "WHO",
    "WHOIS",
    "WHOWAS",
    "HOSTSERV",
    "BOTSERV",
    "MONITOR",
];

/// The command of a line, and where its parameters start (after IRCv3 tags and a
/// prefix, which clients may send).
fn command(line: &str) -> (String, &str) {
    let mut rest = line;
    for marker in ['@', ':'] {
        if rest.starts_with(marker) {
            rest = rest.split_once(' ').map(|(_, r)| r).unwrap_or("");
        }
    }
    let rest = rest.trim_start();
    let (cmd, params) = rest.split_once(' ').unwrap_or((rest, ""));
    (cmd.to_ascii_uppercase(), params)
}

/// The trailing parameter (after ` :`), if the line has one.
fn trailing(params: &str) -> Option<&str> {
    if let Some(t) = params.strip_prefix(':') {
        return Some(t);
    }
    params.split_once(" :").map(|(_, t)| t)
}

/// CTCP other than ACTION in a trailing parameter.
fn has_other_ctcp(params: &str) -> bool {
    match trailing(params) {
        Some(text) if text.contains('\u{1}') => {
            let inner = text.trim_matches('\u{1}');
            !inner.to_ascii_uppercase().starts_with("ACTION ") && inner != "ACTION"
        }
        _ => false,
    }
}

/// A line from the user's client (without its line end): what to send on, if anything.
pub fn outbound(line: &str) -> Option<String> {
    let (cmd, params) = command(line);
    match cmd.as_str() {
        "PRIVMSG" | "NOTICE" => (!has_other_ctcp(params)).then(|| format!("{cmd} {params}")),
        "QUIT" => Some("QUIT :leaving".to_owned()),
        "USER" => {
            let user = params.split(' ').next().filter(|u| !u.is_empty())?;
            let realname = trailing(params).unwrap_or(user);
            Some(format!("USER {user} hostname localhost :{realname}"))
        }
        c if ALLOWED.contains(&c) => Some(format!("{cmd} {params}").trim_end().to_owned()),
        _ => None,
    }
}

/// A line from the server: dropped when it carries CTCP other than ACTION.
pub fn inbound(line: &str) -> Option<String> {
    let (cmd, params) = command(line);
    match cmd.as_str() {
        "PRIVMSG" | "NOTICE" if has_other_ctcp(params) => None,
        _ => Some(line.to_owned()),
    }
}

/// The line an IRC server tunnel opens with (`webircpassword`).
pub fn webirc(password: &str, b32: &str) -> String {
    format!("WEBIRC {password} cgiirc {b32} 127.0.0.1")
}

/// Copies lines from `from` to `to` through `filter`, until either side ends or a line
/// is too long or not text.
pub async fn pump<R, W>(from: R, mut to: W, filter: fn(&str) -> Option<String>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(from);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let mut limited = (&mut reader).take(MAX_LINE as u64 + 1);
        match limited.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) if n > MAX_LINE => break,
            Ok(_) => {}
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            break;
        };
        let line = text.trim_end_matches(['\r', '\n']);
        if let Some(out) = filter(line) {
            if to.write_all(format!("{out}\r\n").as_bytes()).await.is_err() {
                break;
            }
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn what_identifies_the_user_does_not_pass() {
        assert_eq!(
            outbound("PRIVMSG #i2p :hello").as_deref(),
            Some("PRIVMSG #i2p :hello")
        );
        assert_eq!(
            outbound("privmsg #i2p :\u{1}ACTION waves\u{1}").as_deref(),
            Some("PRIVMSG #i2p :\u{1}ACTION waves\u{1}")
        );
        assert_eq!(outbound("NOTICE bob :\u{1}VERSION irssi 1.4\u{1}"), None);
        assert_eq!(
            outbound("PRIVMSG bob :\u{1}DCC SEND f 3232235777 5000\u{1}"),
            None
        );
        assert_eq!(
            outbound("QUIT :irssi 1.4 on Linux").as_deref(),
            Some("QUIT :leaving")
        );
        assert_eq!(
            outbound("USER me 0 myhost.example :Real Name").as_deref(),
            Some("USER me hostname localhost :Real Name")
        );
        assert_eq!(outbound("USERIP me"), None);
        assert_eq!(outbound("JOIN #i2p").as_deref(), Some("JOIN #i2p"));
        assert_eq!(outbound("@tag=1 :me PING x").as_deref(), Some("PING x"));
        assert_eq!(outbound(""), None);
    }

    #[test]
    fn the_server_cannot_make_the_client_answer() {
        assert_eq!(inbound(":bob!b@h PRIVMSG me :\u{1}VERSION\u{1}"), None);
        assert!(inbound(":bob!b@h PRIVMSG me :\u{1}ACTION hi\u{1}").is_some());
        assert!(inbound(":server 001 me :Welcome").is_some());
    }

    #[tokio::test]
    async fn pump_filters_lines_and_stops_at_a_long_one() {
        let input = b"JOIN #a\r\nFOO bar\r\nQUIT :x\n".to_vec();
        let mut out = Vec::new();
        pump(&input[..], &mut out, outbound).await;
        assert_eq!(out, b"JOIN #a\r\nQUIT :leaving\r\n");
        let mut long = vec![b'a'; MAX_LINE + 10];
        long.extend_from_slice(b"\nJOIN #b\n");
        let mut out = Vec::new();
        pump(&long[..], &mut out, outbound).await;
        assert!(out.is_empty());
    }

    proptest! {
        #[test]
        fn filters_never_panic_nor_let_ctcp_through(line in "\\PC{0,200}") {
            if let Some(out) = outbound(&line) {
                let (cmd, params) = command(&out);
                prop_assert!(!((cmd == "PRIVMSG" || cmd == "NOTICE") && has_other_ctcp(params)));
                prop_assert!(!out.contains('\n'));
            }
            let _ = inbound(&line);
        }
    }
}
