//! A blocking SAM v3.1 client for the tests that drive i2pd's bridge and ours alike:
//! a control or stream socket read line by line until it carries a stream.

use super::WAIT;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// SESSION CREATE answers once the session's tunnels and LeaseSet are up.
const SESSION_WAIT: Duration = Duration::from_secs(240);
/// STREAM CONNECTs tried while the peer's LeaseSet cannot be found, 2 s apart.
const CONNECT_ATTEMPTS: usize = 60;

/// Tunnels each way of a session on i2pd. i2pd 2.45 publishes a destination's LeaseSet
/// when its inbound tunnels change, and gives up for that change if no outbound tunnel
/// is ready yet ("Can't publish LeaseSet. Destination is not ready"). With one tunnel
/// each way, built at the same moment, the inbound one won that race by milliseconds in
/// 3 runs of 12 here and the LeaseSet never went out (for minutes: until the tunnel
/// was replaced). A second inbound tunnel gives i2pd a second try.
pub const I2PD_SESSION_TUNNELS: u8 = 2;
/// Datagrams sent, 3 s apart, before a round trip is given up.
const DATAGRAM_TRIES: usize = 40;

pub struct Sam {
    pub reader: BufReader<TcpStream>,
    pub writer: TcpStream,
}

impl Sam {
    /// Connects and says HELLO (3.1: streams, as i2pd 2.45 and we both speak it).
    pub fn hello(addr: SocketAddr) -> Sam {
        // A bridge just (re)started may not listen yet.
        let deadline = Instant::now() + WAIT;
        let stream = loop {
            match TcpStream::connect(addr) {
                Ok(stream) => break stream,
                Err(e) if Instant::now() > deadline => panic!("SAM at {addr}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        // Small writes go out at once on both bridges: Nagle would add its own delay.
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(SESSION_WAIT))
            .expect("timeout");
        let writer = stream.try_clone().expect("clone");
        let mut sam = Sam {
            reader: BufReader::new(stream),
            writer,
        };
        let reply = sam.ask("HELLO VERSION MIN=3.1 MAX=3.1");
        assert!(reply.contains("RESULT=OK"), "HELLO: {reply}");
        sam
    }

    pub fn ask(&mut self, line: &str) -> String {
        // One write with its newline: i2pd 2.45 takes a partial line as a whole command.
        self.writer
            .write_all(format!("{line}\n").as_bytes())
            .expect("SAM write");
        self.line()
    }

    pub fn line(&mut self) -> String {
        let mut reply = String::new();
        self.reader.read_line(&mut reply).expect("SAM read");
        reply.trim_end().to_string()
    }

    /// A STREAM session with `quantity` tunnels of `hops` hops each way; its public
    /// destination.
    pub fn session(&mut self, id: &str, hops: u8, quantity: u8) -> String {
        self.session_of("STREAM", id, hops, quantity, "")
    }

    /// A session of `style` (STREAM, DATAGRAM, RAW) with `extra` options; without a
    /// forwarding PORT among them, its datagrams arrive on this socket.
    pub fn session_of(
        &mut self,
        style: &str,
        id: &str,
        hops: u8,
        quantity: u8,
        extra: &str,
    ) -> String {
        let reply = self.ask(&format!(
            "SESSION CREATE STYLE={style} ID={id} DESTINATION=TRANSIENT SIGNATURE_TYPE=7 \
             i2cp.leaseSetEncType=4 inbound.length={hops} outbound.length={hops} \
             inbound.quantity={quantity} outbound.quantity={quantity}{extra}"
        ));
        assert!(reply.contains("RESULT=OK"), "SESSION CREATE {id}: {reply}");
        let me = self.ask("NAMING LOOKUP NAME=ME");
        me.split(' ')
            .find_map(|kv| kv.strip_prefix("VALUE="))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("NAMING LOOKUP ME: {me}"))
    }

    /// STREAM CONNECT to `to`; this socket then carries the stream. Asked again (on a new
    /// socket) while the peer cannot be reached: right after SESSION CREATE the server's
    /// LeaseSet may not be at the floodfills yet. The time is the successful attempt's.
    pub fn connect(addr: SocketAddr, session: &str, to: &str) -> (Sam, Duration) {
        for attempt in 1..=CONNECT_ATTEMPTS {
            let mut sam = Sam::hello(addr);
            let started = Instant::now();
            let reply = sam.ask(&format!(
                "STREAM CONNECT ID={session} DESTINATION={to} SILENT=false"
            ));
            if reply.contains("RESULT=OK") {
                if attempt > 1 {
                    eprintln!("(STREAM CONNECT answered OK at attempt {attempt})");
                }
                return (sam, started.elapsed());
            }
            assert!(
                reply.contains("CANT_REACH_PEER") && attempt < CONNECT_ATTEMPTS,
                "STREAM CONNECT (attempt {attempt}): {reply}"
            );
            std::thread::sleep(Duration::from_secs(2));
        }
        unreachable!("the last attempt returns or panics")
    }

    /// Writes `data` on the stream from a thread while reading as much back; closes it.
    pub fn exchange(mut self, data: &[u8]) -> Vec<u8> {
        let mut writer = self.writer.try_clone().expect("clone");
        let out = data.to_vec();
        let sender = std::thread::spawn(move || writer.write_all(&out).expect("send"));
        let mut back = vec![0u8; data.len()];
        self.reader
            .read_exact(&mut back)
            .expect("the echo comes back whole");
        sender.join().expect("sender");
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
        back
    }

    /// DATAGRAM SEND on this session socket (SAM 3.0's way, which both bridges keep).
    pub fn send_datagram(&mut self, to: &str, data: &[u8]) {
        let mut message =
            format!("DATAGRAM SEND DESTINATION={to} SIZE={}\n", data.len()).into_bytes();
        message.extend_from_slice(data);
        self.writer.write_all(&message).expect("SAM write");
    }

    /// The next DATAGRAM RECEIVED on this session socket within `wait`: the sender's
    /// destination and the payload; `None` when nothing came.
    pub fn receive_datagram(&mut self, wait: Duration) -> Option<(String, Vec<u8>)> {
        self.writer.set_read_timeout(Some(wait)).expect("timeout");
        let mut line = String::new();
        let read = self.reader.read_line(&mut line);
        self.writer
            .set_read_timeout(Some(SESSION_WAIT))
            .expect("timeout");
        if read.is_err() && line.is_empty() {
            return None;
        }
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key))
                .map(str::to_string)
        };
        assert!(line.starts_with("DATAGRAM RECEIVED"), "a datagram: {line}");
        let from = field("DESTINATION=").expect("DESTINATION");
        let size: usize = field("SIZE=").and_then(|s| s.parse().ok()).expect("SIZE");
        let mut data = vec![0u8; size];
        self.reader
            .read_exact(&mut data)
            .expect("the datagram's bytes");
        Some((from, data))
    }
}

/// Asks the bridge at `addr` to look up `destination` (base 64) by its b32 name until
/// its LeaseSet is found, 2 s apart: datagrams are not retried by the router, so a test
/// sends them once the sender's router can route them.
pub fn wait_for_lease_set(addr: SocketAddr, destination: &str) {
    let bytes = ramsons_router::data::base64_decode(destination).expect("a base 64 destination");
    let b32 = format!(
        "{}.b32.i2p",
        ramsons_router::data::Hash::digest(&bytes).to_base32()
    );
    let mut sam = Sam::hello(addr);
    for attempt in 1..=CONNECT_ATTEMPTS {
        let reply = sam.ask(&format!("NAMING LOOKUP NAME={b32}"));
        if reply.contains("RESULT=OK") {
            if attempt > 1 {
                eprintln!("({b32} found at attempt {attempt})");
            }
            return;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    panic!("no LeaseSet found for {b32}");
}

/// One end of a datagram exchange: a session whose datagrams come on its control socket
/// (`DATAGRAM SEND` / `DATAGRAM RECEIVED`, SAM 3.0's way), or one that forwards them to
/// a UDP socket of ours and sends through the bridge's UDP port (SAM 3's way: i2pd 2.45
/// aborts on a DATAGRAM session without a forwarding PORT).
pub enum DatagramEnd {
    Control(Sam),
    Forwarded {
        /// Keeps the session: it ends with its control socket.
        _control: Sam,
        id: String,
        socket: std::net::UdpSocket,
        bridge_udp: SocketAddr,
    },
}

impl DatagramEnd {
    /// A DATAGRAM session `id` on the bridge at `tcp` whose datagrams come on its socket;
    /// its destination.
    pub fn control(tcp: SocketAddr, id: &str) -> (DatagramEnd, String) {
        let mut sam = Sam::hello(tcp);
        let dest = sam.session_of("DATAGRAM", id, 1, 1, "");
        (DatagramEnd::Control(sam), dest)
    }

    /// A DATAGRAM session `id` on the bridge at `tcp`, forwarding to a UDP socket of
    /// ours, sending through the bridge's UDP port `bridge_udp`; its destination. Two
    /// tunnels each way, as [`I2PD_SESSION_TUNNELS`] explains (it is i2pd's bridge).
    pub fn forwarded(tcp: SocketAddr, bridge_udp: SocketAddr, id: &str) -> (DatagramEnd, String) {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("a UDP socket");
        let port = socket.local_addr().expect("bound").port();
        let mut sam = Sam::hello(tcp);
        let forward = format!(" HOST=127.0.0.1 PORT={port}");
        let dest = sam.session_of("DATAGRAM", id, 1, I2PD_SESSION_TUNNELS, &forward);
        let end = DatagramEnd::Forwarded {
            _control: sam,
            id: id.to_string(),
            socket,
            bridge_udp,
        };
        (end, dest)
    }

    pub fn send(&mut self, to: &str, data: &[u8]) {
        match self {
            DatagramEnd::Control(sam) => sam.send_datagram(to, data),
            DatagramEnd::Forwarded {
                id,
                socket,
                bridge_udp,
                ..
            } => {
                let mut packet = format!("3.0 {id} {to}\n").into_bytes();
                packet.extend_from_slice(data);
                socket.send_to(&packet, *bridge_udp).expect("UDP send");
            }
        }
    }

    /// The next datagram within `wait`: its sender's destination and payload.
    pub fn receive(&mut self, wait: Duration) -> Option<(String, Vec<u8>)> {
        match self {
            DatagramEnd::Control(sam) => sam.receive_datagram(wait),
            DatagramEnd::Forwarded { socket, .. } => {
                socket.set_read_timeout(Some(wait)).expect("timeout");
                let mut buf = vec![0u8; 64 * 1024];
                let n = socket.recv(&mut buf).ok()?;
                let newline = buf[..n].iter().position(|b| *b == b'\n')?;
                let header = String::from_utf8_lossy(&buf[..newline]);
                let from = header.split_whitespace().next()?.to_string();
                Some((from, buf[newline + 1..n].to_vec()))
            }
        }
    }
}

/// Sends `data` from `from` to `to` every few seconds until `to` receives it (the first
/// garlic may be lost while the peer's LeaseSet is looked up), then answers it reversed
/// from `to` to the sender it names, until `from` receives the answer; the answer.
pub fn datagram_round_trip(
    from: &mut DatagramEnd,
    to: &mut DatagramEnd,
    to_dest: &str,
    data: &[u8],
) -> Vec<u8> {
    let answer: Vec<u8> = data.iter().rev().copied().collect();
    let mut tries = 0;
    let sender = loop {
        tries += 1;
        assert!(
            tries <= DATAGRAM_TRIES,
            "no datagram arrived in {DATAGRAM_TRIES} tries"
        );
        from.send(to_dest, data);
        if let Some((sender, got)) = to.receive(Duration::from_secs(3)) {
            assert_eq!(got, data, "the datagram arrived whole");
            break sender;
        }
    };
    for _ in 0..DATAGRAM_TRIES {
        to.send(&sender, &answer);
        if let Some((_, got)) = from.receive(Duration::from_secs(3)) {
            return got;
        }
    }
    panic!("no answer arrived in {DATAGRAM_TRIES} tries")
}

/// Accepts one stream on `session` and echoes it until the peer closes; bytes echoed.
pub fn echo_one(addr: SocketAddr, session: &str) -> JoinHandle<usize> {
    let mut sam = Sam::hello(addr);
    let reply = sam.ask(&format!("STREAM ACCEPT ID={session} SILENT=false"));
    assert!(reply.contains("RESULT=OK"), "STREAM ACCEPT: {reply}");
    std::thread::spawn(move || {
        let peer = sam.line();
        assert!(peer.len() > 500, "the peer's destination first: {peer}");
        let mut echoed = 0;
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = sam.reader.read(&mut buf) {
            sam.writer.write_all(&buf[..n]).expect("echo");
            echoed += n;
        }
        echoed
    })
}
