//! Tunnel participant throughput, against raw AES-256-CBC over the same 1008 bytes.
//!
//! A participant's work per 1028-byte TunnelData is the replay check, two AES-256-ECB
//! blocks for the IV and the CBC chain over 63 blocks; the CBC chain alone is the floor.
//! Both are measured in the same run so the ratio holds on any machine. Results and how
//! to read them: router/BENCHMARKS.md.
//!
//! Run with `cargo bench -p ramsons-router --bench tunnel`.

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockEncryptMut, InnerIvInit, KeyInit};
use aes::Aes256Enc;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ramsons_router::data::Hash;
use ramsons_router::i2np::TunnelData;
use ramsons_router::time::Instant;
use ramsons_router::tunnel::data::{HopKeys, NextHop, Participant, ReplayFilter};
use ramsons_router::tunnel::TunnelId;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::time::Duration;

/// Messages per 10-minute generation the replay filter is sized for: a router
/// forwarding about 1,700 tunnel messages a second, a busy one. The filter is then
/// 8 MB, well beyond the CPU caches, as it would be in such a router.
const FILTER_CAPACITY: usize = 1 << 20;

fn participant_against_cbc(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut keys = HopKeys {
        layer_key: [0; 32],
        iv_key: [0; 32],
    };
    rng.fill_bytes(&mut keys.layer_key);
    rng.fill_bytes(&mut keys.iv_key);
    let mut data = Box::new([0; TunnelData::DATA_LEN]);
    rng.fill_bytes(&mut data[..]);
    let mut iv = [0; TunnelData::IV_LEN];
    rng.fill_bytes(&mut iv);

    let mut group = c.benchmark_group("tunnel participant");
    group.throughput(Throughput::Elements(1));

    group.bench_function("participant forward (1028-byte TunnelData)", |b| {
        let next = NextHop {
            router: Hash([1; 32]),
            tunnel: TunnelId(2),
        };
        let participant = Participant::new(&keys, next);
        let mut now = Instant::from_secs(1_800_000_000);
        let mut filter = ReplayFilter::new(&mut rng, FILTER_CAPACITY, now);
        let mut msg = Some(TunnelData {
            tunnel_id: TunnelId(3),
            iv,
            data: data.clone(),
        });
        // Each output is fresh (new IV, new data), so feeding it back in never trips
        // the replay filter; the clock moves so that the filter rotates as in service.
        b.iter(|| {
            now += Duration::from_millis(1);
            let input = msg.take().expect("put back every iteration");
            let output = participant
                .forward(now, &mut filter, black_box(input))
                .expect("fresh message");
            msg = Some(black_box(output));
        });
    });

    group.bench_function("raw AES-256-CBC (1008 bytes)", |b| {
        let cipher = Aes256Enc::new(&keys.layer_key.into());
        let mut buf = *data;
        b.iter(|| {
            // The same pre-expanded key schedule a participant keeps.
            cbc::Encryptor::<Aes256Enc>::inner_iv_init(cipher.clone(), &iv.into())
                .encrypt_padded_mut::<NoPadding>(black_box(&mut buf), TunnelData::DATA_LEN)
                .expect("whole blocks");
        });
    });

    group.finish();
}

criterion_group!(benches, participant_against_cbc);
criterion_main!(benches);
