//! Application payloads and datagrams: the I2CP gzip payload encoded and decoded in stored
//! blocks and compressed, at 1 KiB and 16 KiB, over incompressible bytes (what streaming
//! mostly carries) and over text; and a 1 KiB Datagram2 signed and verified.
//!
//! "compressed" on random bytes measures the deflate attempt and the fallback to stored
//! blocks that `AppPayload::encode(true)` makes when deflating does not pay.
//! Results and how to read them: router/BENCHMARKS.md.
//!
//! Run with `cargo bench -p ramsons-router --bench datagram`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ramsons_router::client::app_payload::{protocol, AppPayload};
use ramsons_router::client::datagram::Datagram;
use ramsons_router::crypto::DestinationKeys;
use ramsons_router::data::Mapping;
use ramsons_router::time::Instant;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::time::Duration;

const NOW: Instant = Instant::from_secs(1_800_000_000);

fn random(rng: &mut ChaCha20Rng, len: usize) -> Vec<u8> {
    let mut data = vec![0; len];
    rng.fill_bytes(&mut data);
    data
}

/// HTTP-like text: headers and a body that repeats with small changes.
fn text(len: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(len + 64);
    let mut line = 0u32;
    while data.len() < len {
        data.extend_from_slice(
            format!("X-Line-{line}: value {} for example.i2p\r\n", line * 7919).as_bytes(),
        );
        line += 1;
    }
    data.truncate(len);
    data
}

fn app_payload(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut group = c.benchmark_group("app payload");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for len in [1024, 16 * 1024] {
        for (kind, data) in [("random", random(&mut rng, len)), ("text", text(len))] {
            let payload = AppPayload {
                protocol: protocol::DATAGRAM2,
                from_port: 1,
                to_port: 2,
                data,
            };
            group.throughput(Throughput::Bytes(len as u64));
            for (mode, compress) in [("stored", false), ("compressed", true)] {
                let name = format!("{kind} {} KiB, {mode}", len / 1024);
                group.bench_function(BenchmarkId::new("encode", &name), |b| {
                    b.iter(|| black_box(&payload).encode(compress))
                });
                let encoded = payload.encode(compress);
                group.bench_function(BenchmarkId::new("decode", &name), |b| {
                    b.iter(|| {
                        AppPayload::decode(black_box(&encoded), AppPayload::MAX_DECODED_LEN)
                            .expect("valid")
                    })
                });
            }
        }
    }
    group.finish();
}

fn datagram2(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let keys = DestinationKeys::generate(&mut rng);
    let to = DestinationKeys::generate(&mut rng).hash();
    let datagram = Datagram::Datagram2 {
        from: keys.destination().clone(),
        options: Mapping::new(),
        offline: None,
        payload: random(&mut rng, 1024),
    };
    let encoded = datagram.emit(&keys, &to).expect("small");
    let mut group = c.benchmark_group("datagram2, 1 KiB payload");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("sign (emit)", |b| {
        b.iter(|| black_box(&datagram).emit(&keys, &to).expect("small"))
    });
    group.bench_function("verify (parse)", |b| {
        b.iter(|| {
            Datagram::parse(NOW, protocol::DATAGRAM2, black_box(&encoded), &to).expect("valid")
        })
    });
    group.finish();
}

criterion_group!(benches, app_payload, datagram2);
criterion_main!(benches);
