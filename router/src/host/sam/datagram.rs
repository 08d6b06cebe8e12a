//! Datagrams: sending through the UDP port (7655) and with DATAGRAM SEND / RAW SEND on
//! the control socket, and handing received ones to the client (to its HOST:PORT over
//! UDP, or on the control socket when SESSION CREATE gave no PORT).
//!
//! A datagram sent to the UDP port starts with one line,
//! `3.x $nickname $destination [FROM_PORT=n] [TO_PORT=n] [PROTOCOL=n] [...]\n`, then the
//! payload. The port has no way to answer, so a datagram that cannot be sent is dropped
//! (and logged at debug level). Only the address of the session's control socket may send
//! in its name.

use super::backend::{Backend, DatagramKind, OutgoingDatagram, PortPair, ReceivedDatagram, Sender};
use super::command::{Style, Version, MAX_DATAGRAM};
use super::line::{is_space, parse_options};
use super::names;
use super::reply::{Failure, Ports, Reply};
use super::server::Bridge;
use super::session::{Delivery, Sub};
use super::SamError;
use crate::host::Network;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio::net::UdpSocket;
use tracing::debug;

/// The header line of a datagram sent to the UDP port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpHeader {
    pub version: Version,
    pub nickname: String,
    pub destination: String,
    pub from_port: Option<u16>,
    pub to_port: Option<u16>,
    pub protocol: Option<u8>,
}

/// The longest header line we read (a destination is 516 or more characters).
const MAX_HEADER: usize = 4096;

impl UdpHeader {
    /// Splits a datagram into its header and payload.
    pub fn parse(datagram: &[u8]) -> Result<(UdpHeader, &[u8]), SamError> {
        let end = datagram
            .iter()
            .take(MAX_HEADER)
            .position(|b| *b == b'\n')
            .ok_or(SamError::Syntax("no header line"))?;
        let line = std::str::from_utf8(&datagram[..end]).map_err(|_| SamError::NotUtf8)?;
        let mut words = line
            .trim_end_matches('\r')
            .splitn(4, is_space)
            .filter(|w| !w.is_empty());
        let (Some(version), Some(nickname), Some(destination)) =
            (words.next(), words.next(), words.next())
        else {
            return Err(SamError::Syntax(
                "the header needs a version, a nickname and a destination",
            ));
        };
        let version: Version = version.parse()?;
        if version.major != 3 {
            return Err(SamError::BadValue("VERSION", version.to_string()));
        }
        let options = parse_options(words.next().unwrap_or(""))?;
        let number = |key: &'static str| -> Result<Option<u32>, SamError> {
            match options.iter().find(|(k, _)| k == key) {
                None => Ok(None),
                Some((_, v)) if v.is_empty() => Ok(None),
                Some((_, v)) => v
                    .parse()
                    .map(Some)
                    .map_err(|_| SamError::BadValue(key, v.clone())),
            }
        };
        let port = |key: &'static str| -> Result<Option<u16>, SamError> {
            number(key)?
                .map(|n| u16::try_from(n).map_err(|_| SamError::BadValue(key, n.to_string())))
                .transpose()
        };
        let header = UdpHeader {
            version,
            nickname: nickname.to_owned(),
            destination: destination.to_owned(),
            from_port: port("FROM_PORT")?,
            to_port: port("TO_PORT")?,
            protocol: number("PROTOCOL")?
                .map(|n| u8::try_from(n).map_err(|_| SamError::BadValue("PROTOCOL", n.to_string())))
                .transpose()?,
        };
        Ok((header, &datagram[end + 1..]))
    }
}

/// HOST as an address: an IP address, `localhost`, or (when absent) the client's own.
/// Host names would need a resolver the bridge does not have.
pub(crate) fn host(host: Option<&str>, client: IpAddr) -> Result<IpAddr, Failure> {
    match host {
        None | Some("") => Ok(client),
        Some("localhost") => Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        Some(text) => text
            .parse()
            .map_err(|_| Failure::error(format!("HOST must be an IP address, not {text:?}"))),
    }
}

/// The kind a subsession sends, with a RAW PROTOCOL override.
fn kind(sub_style: Style, sub_protocol: u8, protocol: Option<u8>) -> Option<DatagramKind> {
    match sub_style {
        Style::Datagram => Some(DatagramKind::Repliable),
        Style::Datagram2 => Some(DatagramKind::Datagram2),
        Style::Datagram3 => Some(DatagramKind::Datagram3),
        Style::Raw => Some(DatagramKind::Raw(protocol.unwrap_or(sub_protocol))),
        Style::Stream | Style::Primary { .. } => None,
    }
}

/// Serves the UDP port until the socket fails.
pub(crate) async fn serve_udp<B: Backend, N: Network>(
    bridge: Arc<Bridge<B, N>>,
    socket: Arc<UdpSocket>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM + MAX_HEADER];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                debug!("SAM UDP receive failed: {e}");
                continue;
            }
        };
        if let Err(why) = send_udp(&bridge, &buf[..n], from).await {
            debug!(%from, "SAM UDP datagram dropped: {why}");
        }
    }
}

async fn send_udp<B: Backend, N: Network>(
    bridge: &Arc<Bridge<B, N>>,
    datagram: &[u8],
    from: SocketAddr,
) -> Result<(), String> {
    let (header, payload) = UdpHeader::parse(datagram).map_err(|e| e.to_string())?;
    if payload.is_empty() || payload.len() > MAX_DATAGRAM {
        return Err(format!("payload of {} bytes", payload.len()));
    }
    let sub = bridge
        .registry()
        .sub(&header.nickname)
        .map_err(failure_text)?;
    if sub.session.client != from.ip() {
        return Err("not from the session's client".into());
    }
    send(
        bridge,
        &sub,
        &header.destination,
        PortPair {
            from: header.from_port.unwrap_or(sub.ports.from),
            to: header.to_port.unwrap_or(sub.ports.to),
        },
        header.protocol,
        payload.to_vec(),
    )
    .await
    .map_err(failure_text)
}

fn failure_text(f: Failure) -> String {
    f.message.unwrap_or_else(|| f.result.as_str().to_owned())
}

/// Sends one datagram from `sub` to `destination` (base64, b32 or host name).
pub(crate) async fn send<B: Backend, N: Network>(
    bridge: &Arc<Bridge<B, N>>,
    sub: &Sub<B>,
    destination: &str,
    ports: PortPair,
    protocol: Option<u8>,
    payload: Vec<u8>,
) -> Result<(), Failure> {
    let kind = kind(sub.style, sub.protocol, protocol)
        .ok_or_else(|| Failure::error(format!("{:?} is not a datagram session", sub.id)))?;
    if let DatagramKind::Raw(p) = kind {
        if super::session::RESERVED_PROTOCOLS.contains(&p) {
            return Err(Failure::error(format!("RAW cannot send protocol {p}")));
        }
    }
    let to = names::resolve(bridge, Some(&sub.session.handle), destination).await?;
    let datagram = OutgoingDatagram {
        kind,
        to,
        ports,
        payload,
    };
    bridge
        .backend
        .send_datagram(&sub.session.handle, datagram)
        .await
        .map_err(|e| Failure::error(e.to_string()))
}

/// Hands a received datagram to the client, as `sub` wants it.
pub(crate) async fn deliver<B: Backend, N: Network>(
    bridge: &Bridge<B, N>,
    sub: &Sub<B>,
    d: ReceivedDatagram,
) {
    let v32 = sub.session.version >= Version::new(3, 2);
    let ports = Ports {
        from: d.ports.from,
        to: d.ports.to,
    };
    let sender = match &d.from {
        Sender::Destination(dest) => Some(dest.to_base64()),
        Sender::Hash(hash) => Some(hash.to_base64()),
        Sender::Anonymous => None,
    };
    match &sub.delivery {
        Delivery::Udp(to) => {
            let mut packet = match (&sender, sub.header) {
                (Some(sender), _) if v32 => {
                    format!("{sender} FROM_PORT={} TO_PORT={}\n", ports.from, ports.to).into_bytes()
                }
                (Some(sender), _) => format!("{sender}\n").into_bytes(),
                (None, true) => format!(
                    "FROM_PORT={} TO_PORT={} PROTOCOL={}\n",
                    ports.from,
                    ports.to,
                    d.kind.protocol()
                )
                .into_bytes(),
                (None, false) => Vec::new(),
            };
            packet.extend_from_slice(&d.payload);
            if let Some(udp) = &bridge.udp {
                if let Err(e) = udp.send_to(&packet, to).await {
                    debug!(%to, "cannot forward a datagram: {e}");
                }
            }
        }
        Delivery::Control(control) => {
            let size = d.payload.len();
            let reply = match sender {
                Some(destination) => Reply::DatagramReceived {
                    destination,
                    size,
                    ports: v32.then_some(ports),
                },
                None => Reply::RawReceived {
                    size,
                    ports: v32.then_some((ports, d.kind.protocol())),
                },
            };
            let mut bytes = reply.line().into_bytes();
            bytes.extend_from_slice(&d.payload);
            // A client that does not read its control socket loses datagrams, not memory.
            if control.try_send(bytes).is_err() {
                debug!(id = %sub.id, "datagram dropped: the control socket is not reading");
            }
        }
        Delivery::None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn headers_parse() {
        let (h, payload) =
            UdpHeader::parse(b"3.0 nick dest FROM_PORT=5 PROTOCOL=200 SEND_TAGS=4\nhello")
                .expect("valid");
        assert_eq!(h.version, Version::new(3, 0));
        assert_eq!(
            (h.nickname.as_str(), h.destination.as_str()),
            ("nick", "dest")
        );
        assert_eq!(
            (h.from_port, h.to_port, h.protocol),
            (Some(5), None, Some(200))
        );
        assert_eq!(payload, b"hello");
        let (h, payload) = UdpHeader::parse(b"3.3 a b\n").expect("valid");
        assert_eq!((h.version, payload), (Version::new(3, 3), &b""[..]));
        for bad in [
            &b"3.0 nick dest"[..],
            b"2.0 a b\nx",
            b"3.0 a\nx",
            b"3.0 a b PROTOCOL=300\nx",
            b"\xff a b\n",
        ] {
            assert!(UdpHeader::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hosts() {
        let client: IpAddr = "127.0.0.2".parse().expect("ip");
        assert_eq!(host(None, client), Ok(client));
        assert_eq!(
            host(Some("localhost"), client),
            Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        assert_eq!(host(Some("::1"), client), Ok("::1".parse().expect("ip")));
        assert!(host(Some("example.com"), client).is_err());
    }

    proptest! {
        #[test]
        fn random_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = UdpHeader::parse(&bytes);
        }

        #[test]
        fn headers_round_trip(
            minor in 0u8..10, nick in "[a-z0-9]{1,8}", dest in "[A-Za-z0-9~-]{1,40}",
            from in any::<Option<u16>>(), payload in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut bytes = format!("3.{minor} {nick} {dest}").into_bytes();
            if let Some(from) = from {
                bytes.extend_from_slice(format!(" FROM_PORT={from}").as_bytes());
            }
            bytes.push(b'\n');
            bytes.extend_from_slice(&payload);
            let (h, rest) = UdpHeader::parse(&bytes)?;
            prop_assert_eq!((h.nickname, h.destination, h.from_port), (nick, dest, from));
            prop_assert_eq!(rest, &payload[..]);
        }
    }
}
