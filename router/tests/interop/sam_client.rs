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
        let reply = self.ask(&format!(
            "SESSION CREATE STYLE=STREAM ID={id} DESTINATION=TRANSIENT SIGNATURE_TYPE=7 \
             i2cp.leaseSetEncType=4 inbound.length={hops} outbound.length={hops} \
             inbound.quantity={quantity} outbound.quantity={quantity}"
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
