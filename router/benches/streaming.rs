//! Streaming per packet: the codec, and the window logic of a connection, against raw
//! ChaCha20-Poly1305 of a buffer the size of a full packet (what the garlic layer pays
//! to carry it, once per hop of encryption).
//!
//! - parse + emit: one full data packet (1730 bytes of payload, ACK fields, two NACKs,
//!   the optional delay) read from bytes and written back.
//! - connection: 1 MiB from one `Connection` to another through a lossless in-memory
//!   loop (packets handed across as values, no signing: SYN and CLOSE are signed by the
//!   manager, not the connection), including the reads, the ACKs going back, and the
//!   timers of a virtual clock that advances 1 ms per round. Reported per data packet.
//! - raw ChaCha20-Poly1305 seal + open of the same 1762 bytes as the packet.
//!
//! Results and how to read them: router/BENCHMARKS.md. Run with
//! `cargo bench -p ramsons-router --bench streaming`.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ramsons_router::client::streaming::{Connection, Options, Packet, Ports, StreamConfig};
use ramsons_router::time::Instant;
use std::time::Duration;

const NOW: Instant = Instant::from_secs(1_800_000_000);
const MTU: usize = 1730;
const TOTAL: usize = 1 << 20;

fn full_packet() -> Vec<u8> {
    Packet {
        send_stream_id: 0x1234_5678,
        recv_stream_id: 0x9abc_def0,
        seq: 1000,
        ack_through: 990,
        nacks: vec![985, 987],
        resend_delay: 9,
        options: Options {
            delay_requested: Some(0),
            ..Options::default()
        },
        payload: (0..MTU).map(|i| i as u8).collect(),
        ..Packet::default()
    }
    .emit()
    .expect("a small packet")
}

/// A connected pair, the SYN exchanged.
fn connected() -> (Connection, Connection, Instant) {
    let config = StreamConfig::default();
    let mut a = Connection::connect(NOW, config.clone(), 1, Ports::default());
    let syn = a.poll_transmit(NOW).expect("the SYN");
    let mut b = Connection::accept(NOW, config, 2, Ports::default(), syn);
    let later = NOW + Duration::from_secs(1);
    b.handle_timeout(later);
    while let Some(packet) = b.poll_transmit(later) {
        a.handle_packet(later, packet);
    }
    (a, b, later)
}

/// Moves `data` from `a` to `b`; returns the data packets sent.
fn transfer(data: &[u8], buf: &mut [u8]) -> u64 {
    let (mut a, mut b, mut now) = connected();
    let (mut written, mut read) = (0, 0);
    while read < data.len() {
        written += a.write(&data[written..]);
        while let Some(packet) = a.poll_transmit(now) {
            b.handle_packet(now, black_box(packet));
        }
        loop {
            let n = b.read(buf);
            if n == 0 {
                break;
            }
            read += n;
        }
        while let Some(packet) = b.poll_transmit(now) {
            a.handle_packet(now, packet);
        }
        now += Duration::from_millis(1);
        a.handle_timeout(now);
        b.handle_timeout(now);
    }
    assert_eq!(a.stats().retransmissions, 0, "a lossless loop");
    a.stats().packets_sent
}

fn per_packet(c: &mut Criterion) {
    let mut group = c.benchmark_group("streaming per packet");
    group.sample_size(30);

    let bytes = full_packet();
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse + emit, 1730-byte data packet", |b| {
        b.iter(|| {
            let packet = Packet::parse(black_box(&bytes)).expect("valid");
            black_box(packet.emit().expect("re-emits"))
        });
    });

    let mut buf = bytes.clone();
    let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
    let mut n = 0u64;
    group.bench_function(
        format!("raw ChaCha20-Poly1305 seal + open, {} bytes", buf.len()),
        |b| {
            b.iter(|| {
                let mut nonce = [0u8; 12];
                nonce[4..].copy_from_slice(&n.to_le_bytes());
                n += 1;
                let nonce = Nonce::from_slice(&nonce);
                let tag = cipher
                    .encrypt_in_place_detached(nonce, &[], &mut buf)
                    .expect("within limits");
                cipher
                    .decrypt_in_place_detached(nonce, &[], black_box(&mut buf), &tag)
                    .expect("authentic");
            });
        },
    );

    let data: Vec<u8> = (0..TOTAL).map(|i| (i * 7) as u8).collect();
    let mut buf = vec![0u8; 64 * 1024];
    let packets = transfer(&data, &mut buf);
    group.throughput(Throughput::Elements(packets));
    group.bench_function(
        format!("connection, 1 MiB in {packets} packets (per packet)"),
        |b| b.iter(|| transfer(black_box(&data), &mut buf)),
    );

    group.finish();
}

criterion_group!(benches, per_packet);
criterion_main!(benches);
