//! An address book subscription over I2P: one router publishes a hosts.txt through an
//! `http` server tunnel, the other subscribes to it by b32 address, fetches and merges
//! it, and then reaches a site by a name it only knows from that feed.

use super::{addr_of, router_config, through_proxy, web_server_with, WAIT};
use ramsons_router::host::tunnels::keys;
use ramsons_router::host::{self, Host, Start, Tokio};
use rand::SeedableRng;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ETAG: &str = "\"feed-1\"";

/// A web server with two pages: `/hosts.txt` (`feed`, with an ETag, 304 when asked
/// with it) and `/hello`. Keeps the request heads it saw.
async fn feed_server(feed: String, seen: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    web_server_with(seen, move |head| {
        let head = head.to_ascii_lowercase();
        if head.starts_with("get /hosts.txt ") {
            match head.contains(&format!("if-none-match: {ETAG}")) {
                true => "HTTP/1.1 304 Not Modified\r\n\r\n".to_owned(),
                false => format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {ETAG}\r\n\
                     Content-Type: text/plain\r\n\r\n{feed}",
                    feed.len()
                ),
            }
        } else {
            let body = "hello by name";
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        }
    })
    .await
}

#[tokio::test]
async fn a_hosts_txt_published_over_i2p_is_fetched_merged_and_used() {
    let dir = tempfile::tempdir().expect("temp dir");
    let boot = dir.path().join("boot");
    std::fs::create_dir_all(&boot).expect("boot folder");

    // The publisher's site: its keys first, so that the feed can name it.
    let site_keys = dir.path().join("publisher").join("site.dat");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(61);
    let site = keys::load_or_create(&site_keys, &mut rng).expect("keys");
    let site_b32 = site.destination().to_b32_address();
    // One good line and one the merge must skip.
    let feed = format!(
        "site.i2p={}\nthis line is not a host\n",
        site.destination().to_base64()
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let web = feed_server(feed, seen.clone()).await;

    let publisher_tunnels = format!(
        "[[tunnel]]\nname = 'feed'\ntype = 'http'\nhost = '127.0.0.1'\nport = {}\n\
         keys = 'site.dat'\n",
        web.port()
    );
    let subscriber_tunnels = "[[tunnel]]\nname = 'proxy'\ntype = 'httpproxy'\nport = 0\n";
    let publisher = router_config(dir.path(), "publisher", &boot, &publisher_tunnels);
    let mut subscriber = router_config(dir.path(), "subscriber", &boot, subscriber_tunnels);
    let url = format!("http://{site_b32}/hosts.txt");
    subscriber.addressbook.subscriptions = vec![url.clone()];
    subscriber.addressbook.first_fetch = "0 s".parse().expect("span");
    // The publisher's LeaseSet may not be out at the first try.
    subscriber.addressbook.retry = "10 s".parse().expect("span");
    for config in [&publisher, &subscriber] {
        let info = host::init(config, Start::system()).expect("init");
        let file = boot.join(format!("{}.dat", info.hash().to_base64().replace('/', "~")));
        std::fs::write(file, info.as_bytes()).expect("write RouterInfo");
    }
    let data_dir = subscriber.data_dir.clone();
    let publisher = Host::start(publisher, Tokio, Start::system())
        .await
        .expect("publisher");
    let subscriber = Host::start(subscriber, Tokio, Start::system())
        .await
        .expect("subscriber");
    let proxy = addr_of(&subscriber, "proxy");
    let book = subscriber.address_book();
    assert!(
        book.lookup("site.i2p").is_none(),
        "not known before the feed"
    );
    tokio::spawn(publisher.run(std::future::pending()));
    tokio::spawn(subscriber.run(std::future::pending()));

    let started = Instant::now();
    let learned = loop {
        if let Some(dest) = book.lookup("site.i2p") {
            break dest;
        }
        assert!(started.elapsed() < WAIT, "site.i2p not learned in {WAIT:?}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    eprintln!("feed merged after {:?}", started.elapsed());
    assert_eq!(learned.to_base64(), site.destination().to_base64());
    assert_eq!(book.len(), 1, "the bad line was skipped");
    let head = seen
        .lock()
        .expect("lock")
        .last()
        .expect("a fetch")
        .to_ascii_lowercase();
    assert!(head.starts_with("get /hosts.txt http/1.1"), "{head}");
    assert!(head.contains("user-agent: myob/6.66 (an/on)"), "{head}");
    assert!(head.contains("x-i2p-destb32: "), "{head}");
    assert!(!head.contains("if-none-match"), "a first fetch: {head}");

    // What the next fetch sends back, saved with the learned name.
    let folder = data_dir.join("addressbook");
    let state = std::fs::read_to_string(folder.join("subscriptions.json")).expect("state");
    assert!(state.contains(&url) && state.contains("feed-1"), "{state}");
    let saved = std::fs::read_to_string(folder.join("hosts.txt")).expect("book");
    assert!(saved.contains("site.i2p="), "{saved}");

    // The name works in the HTTP proxy.
    let request =
        "GET http://site.i2p/hello HTTP/1.1\r\nHost: site.i2p\r\nConnection: close\r\n\r\n";
    let page = through_proxy(proxy, request).await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.ends_with("hello by name"), "{page}");
    let head = seen
        .lock()
        .expect("lock")
        .last()
        .expect("a request")
        .to_ascii_lowercase();
    assert!(head.starts_with("get /hello http/1.1"), "{head}");
}
