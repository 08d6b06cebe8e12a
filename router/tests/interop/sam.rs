//! Streams between SAM clients on ramsons and on i2pd: our router and i2pd, alone on a
//! private network over loopback, each hosting one side of a 1 MiB echo in each
//! direction. i2pd reads our garlic (Elligator2-encoded New Sessions, the ratchet), our
//! streaming packets and our LeaseSet; we read its.

use super::i2pd::{self, I2pd, I2pdOptions};
use super::sam_client::{
    datagram_round_trip, echo_one, wait_for_lease_set, DatagramEnd, Sam, I2PD_SESSION_TUNNELS,
};
use super::{BenchmarkingAddress, OurRouter, I2PD_RUNNING, WAIT};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

/// Connects from `session` to `to`, sends `data`, and reads back as much; the time.
fn send_and_read_back(addr: SocketAddr, session: &str, to: &str, data: &[u8]) -> Duration {
    let started = Instant::now();
    let (stream, _) = Sam::connect(addr, session, to);
    let back = stream.exchange(data);
    let took = started.elapsed();
    assert!(back == data, "the echo is what was sent, byte for byte");
    took
}

/// Both directions through 1-hop tunnels, each side's SAM session on its own router,
/// then a datagram round trip (garlic to an i2pd destination and its answer). What it
/// took (i2pd 2.45.1): Elligator2 keys in our New Sessions; our LeaseSet as the first
/// clove (i2pd reads cloves in order and needs it before the SYN); an i2pd with its
/// address book enabled (its SAM crashes on an incoming stream otherwise) and a
/// `defaulturl` that is not empty (it aborts two minutes in otherwise: see `i2pd.rs`);
/// reply tunnels of our outbound builds whose gateway is not the new tunnel's endpoint
/// (i2pd held such replies: our client builds timed out in 2 of 5 runs); and build
/// replies sent plain when we are both the endpoint and the reply's gateway (i2pd could
/// not read them garlic-wrapped: its later client tunnels through us failed, and its
/// DATAGRAM session never came up). Figures are printed; `router/BENCHMARKS.md` has the
/// i2pd baseline.
///
/// Not run by default yet. Its old failure, a stream from i2pd stalled behind one or two
/// packets however often i2pd resent them, was ours: the receive buffer counted the
/// packets queued behind a hole against the packet that filled it, and never unchoked
/// while they waited (fixed, with a harness test). In the 15 runs since, the streams
/// completed whenever they started (14 runs: ramsons to i2pd 4.5-11.6 s, back 0.46-1.8 s
/// but 9.5 and 18.7 s in two runs), and 10 runs passed. The 5 failures were all a
/// session's LeaseSet on i2pd that was never published: i2pd 2.45 publishes when a
/// destination's inbound tunnels change and gives up for that change if no outbound
/// tunnel is ready ("Can't publish LeaseSet. Destination is not ready"). Its inbound
/// builds through us come back at once; its outbound builds, whose replies we send back
/// through one of its inbound tunnels, come back seconds later or time out, although we
/// accepted every request (the status printed on failure shows no rejection) and our
/// event loop did not stall (the stall report printed nothing). So the inbound tunnels
/// win and the LeaseSet stays unpublished for minutes. Two tunnels each way did not
/// change that. Next: follow one outbound build reply of i2pd's through our router.
/// (`cargo test -p ramsons-router --test interop -- --ignored a_stream_and --nocapture`).
#[test]
#[ignore = "5 of 15 runs: a session's LeaseSet on i2pd is never published (see the doc comment)"]
fn a_stream_and_a_datagram_between_sam_on_ramsons_and_sam_on_i2pd() {
    use ramsons_router::host::{HostConfig, SamSection};
    let Some(binary) = i2pd::binary_or_skip() else {
        return;
    };
    let _one_at_a_time = I2PD_RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    // `RUST_LOG=ramsons_router=debug` shows our side next to i2pd's log.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let Some(address) = BenchmarkingAddress::add(Ipv4Addr::new(198, 18, 0, 3)) else {
        eprintln!("skipped: cannot add 198.18.0.3 to the loopback device (needs root and `ip`)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = I2pdOptions::new().expect("free ports");
    options.ntcp2_host = address.addr;
    // A floodfill, as in the other tests: with i2pd as a plain router its SAM session
    // did not get its tunnels and LeaseSet within 150 s here.
    options.floodfill = true;
    let i2pd_sam = i2pd::free_port().expect("free port");
    options.sam_port = Some(i2pd_sam);
    // i2pd 2.45 has no option for SAM's UDP port: it binds the TCP port less one.
    let i2pd_sam_udp = i2pd_sam - 1;
    options.log_level = "debug";
    let net_id = options.net_id;
    let mut i2pd =
        I2pd::start(&binary, dir.path().join("i2pd").as_path(), options).expect("i2pd starts");
    let info = i2pd
        .wait_for_router_info(WAIT)
        .unwrap_or_else(|e| panic!("{e}"));
    let boot = dir.path().join("i2pd.dat");
    std::fs::write(&boot, &info).expect("write i2pd's RouterInfo");

    let our_sam: SocketAddr = (Ipv4Addr::LOCALHOST, i2pd::free_port().expect("port")).into();
    let mut config = HostConfig {
        data_dir: dir.path().join("ours"),
        net_id,
        floodfill: true,
        listen: (Ipv4Addr::LOCALHOST, i2pd::free_port().expect("free port")).into(),
        bootstrap: Some(boot),
        status: None,
        sam: SamSection {
            tcp: our_sam,
            udp: None,
            ..SamSection::default()
        },
        ..HostConfig::default()
    };
    config.tunnels.exploratory_hops = 1;
    config.tunnels.client_hops = 1;
    config.tunnels.client_tunnels = 1;
    config.tunnels.allow_same_subnet = true;
    let ours = OurRouter::start(config);
    let i2pd_addr: SocketAddr = (Ipv4Addr::LOCALHOST, i2pd_sam).into();

    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut theirs = Sam::hello(i2pd_addr);
        let their_dest = theirs.session("theirs", 1, I2PD_SESSION_TUNNELS);
        let mut mine = Sam::hello(our_sam);
        let my_dest = mine.session("mine", 1, 1);
        let i2pd_udp = (Ipv4Addr::LOCALHOST, i2pd_sam_udp).into();
        let (mut their_dg, their_dg_dest) =
            DatagramEnd::forwarded(i2pd_addr, i2pd_udp, "theirs-dg");
        let (mut my_dg, _) = DatagramEnd::control(our_sam, "mine-dg");
        let mut data = vec![0u8; 1 << 20];
        ChaCha20Rng::seed_from_u64(9).fill_bytes(&mut data);

        let echo = echo_one(i2pd_addr, "theirs");
        let to_i2pd = send_and_read_back(our_sam, "mine", &their_dest, &data);
        assert_eq!(echo.join().expect("i2pd's echo"), data.len());

        let echo = echo_one(our_sam, "mine");
        let from_i2pd = send_and_read_back(i2pd_addr, "theirs", &my_dest, &data);
        assert_eq!(echo.join().expect("our echo"), data.len());
        eprintln!("1 MiB echoed: ramsons -> i2pd in {to_i2pd:?}, i2pd -> ramsons in {from_i2pd:?}");

        // Garlic to an i2pd destination and its answer, as repliable datagrams: i2pd
        // reads our New Session, and answers the sender the datagram names.
        wait_for_lease_set(our_sam, &their_dg_dest);
        let started = Instant::now();
        let question = b"ramsons asks i2pd: are you there?".to_vec();
        let answer = datagram_round_trip(&mut my_dg, &mut their_dg, &their_dg_dest, &question);
        let reversed: Vec<u8> = question.iter().rev().copied().collect();
        assert_eq!(answer, reversed, "i2pd's answer came back whole");
        eprintln!("datagram round trip with i2pd in {:?}", started.elapsed());
        drop((theirs, mine, their_dg, my_dg));
    }));
    let log_file = i2pd.data_dir().join("i2pd.log");
    if outcome.is_err() {
        // Our side of what went wrong: sessions to i2pd, and its build requests.
        let status = ours.status.borrow().clone();
        eprintln!(
            "our router: {} peers {:?}; tunnels built {} failed {}; participating {}; \
             i2pd's build requests {:?}",
            status.peers.connected,
            status.peers.list,
            status.tunnels.builds_succeeded,
            status.tunnels.builds_failed,
            status.tunnels.participating,
            status.tunnels.requests,
        );
    }
    let exited = i2pd.exit();
    i2pd.stop();
    ours.stop();
    let log = std::fs::read_to_string(log_file).unwrap_or_default();
    if let Err(panic) = outcome {
        if let Some(exited) = exited {
            eprintln!("{exited}");
        }
        let kept = std::env::temp_dir().join("ramsons-interop-sam-i2pd.log");
        let _ = std::fs::write(&kept, &log);
        let tail: Vec<&str> = log.lines().rev().take(400).collect();
        eprintln!(
            "i2pd log (tail; all of it in {}):\n{}",
            kept.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
        std::panic::resume_unwind(panic);
    }
}
