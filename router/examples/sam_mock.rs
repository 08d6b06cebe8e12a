//! The SAM bridge on the in-memory mock backend, for trying SAM clients by hand:
//! `cargo run --example sam_mock -- [tcp address] [udp address]` (default 127.0.0.1:7656
//! and 127.0.0.1:7655). Destinations created through it reach each other, and nothing
//! else: there is no router behind it.

use ramsons_router::host::config::SamSection;
use ramsons_router::host::sam::mock::MockBackend;
use ramsons_router::host::sam::SamServer;
use ramsons_router::host::Tokio;
use rand::SeedableRng;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let mut args = std::env::args().skip(1);
    let mut config = SamSection::default();
    if let Some(tcp) = args.next() {
        config.tcp = tcp.parse()?;
    }
    if let Some(udp) = args.next() {
        config.udp = Some(udp.parse()?);
    }
    let rng = rand_chacha::ChaCha20Rng::from_entropy();
    let server = SamServer::bind(config, MockBackend::new(), Tokio, rng).await?;
    println!(
        "SAM on {} (UDP {:?}), mock backend",
        server.tcp_addr(),
        server.udp_addr()
    );
    server
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    Ok(())
}
