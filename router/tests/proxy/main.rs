//! Client and server tunnels and the HTTP proxy between two real routers in one
//! process, on loopback, over 1-hop tunnels: a page from a local web server through an
//! `http` server tunnel on one router and the HTTP proxy on the other, and an echo
//! through a plain client tunnel to a plain server tunnel; and an address book
//! subscription fetched over I2P (`subscription.rs`).

mod subscription;
#[path = "../support/host.rs"]
mod support;

use ramsons_router::host::tunnels::keys;
use ramsons_router::host::{self, Host, HostConfig, Start, Tokio};
use rand::SeedableRng;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::loopback_config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const NET_ID: u8 = 41;
/// How long the routers get to build tunnels and publish LeaseSets.
const WAIT: Duration = Duration::from_secs(240);

fn router_config(dir: &Path, name: &str, boot: &Path, tunnels: &str) -> HostConfig {
    let mut config = loopback_config(dir, name, boot, NET_ID, tunnels);
    config.floodfill = true;
    config.status = None;
    config
}

/// A web server that answers each request head with `answer(head)` and keeps the heads
/// it saw.
async fn web_server_with(
    seen: Arc<Mutex<Vec<String>>>,
    answer: impl Fn(&str) -> String + Send + Sync + 'static,
) -> SocketAddr {
    let answer = Arc::new(answer);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (seen, answer) = (seen.clone(), answer.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let reply = answer(&head);
                seen.lock().expect("lock").push(head);
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    addr
}

/// A web server that answers every request with `hello from i2p` and keeps the
/// request heads it saw.
async fn web_server(seen: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    web_server_with(seen, |_| {
        let body = "hello from i2p";
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\r\n{body}",
            body.len()
        )
    })
    .await
}

async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = socket.into_split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

/// One request through the proxy; the whole answer.
async fn through_proxy(proxy: SocketAddr, request: &str) -> String {
    let mut socket = TcpStream::connect(proxy).await.expect("proxy");
    socket.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    let read = socket.read_to_end(&mut answer);
    let _ = tokio::time::timeout(Duration::from_secs(120), read).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn addr_of(host: &Host<Tokio>, name: &str) -> SocketAddr {
    host.tunnel_addrs()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, a)| a)
        .expect(name)
}

/// Two routers: `server` runs the site (an http server tunnel, a TCP and a UDP echo,
/// one destination), `client` the proxies and client tunnels; what the test reaches.
struct Pair {
    proxy: SocketAddr,
    echo_tunnel: SocketAddr,
    socks: SocketAddr,
    udp_tunnel: SocketAddr,
    web_port: u16,
    /// The request heads the web server saw.
    seen: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

async fn start_pair() -> Pair {
    let dir = tempfile::tempdir().expect("temp dir");
    let boot = dir.path().join("boot");
    std::fs::create_dir_all(&boot).expect("boot folder");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let web = web_server(seen.clone()).await;
    let echo = echo_server().await;
    let udp_echo = udp_echo_server().await;

    // The site's keys exist before its router starts, so the other side can name it.
    let site_keys = dir.path().join("server").join("site.dat");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(16);
    let site = keys::load_or_create(&site_keys, &mut rng).expect("keys");
    let site_b32 = site.destination().to_b32_address();
    let hosts = dir.path().join("hosts.txt");
    std::fs::write(
        &hosts,
        format!("site.i2p={}\n", site.destination().to_base64()),
    )
    .expect("hosts.txt");

    let server_tunnels = format!(
        "[[tunnel]]\nname = 'web'\ntype = 'http'\nhost = '127.0.0.1'\nport = {}\n\
         keys = 'site.dat'\ninport = 80\n\n\
         [[tunnel]]\nname = 'echo'\ntype = 'server'\nhost = '127.0.0.1'\nport = {}\n\
         keys = 'site.dat'\ninport = 7\n\n\
         [[tunnel]]\nname = 'udp'\ntype = 'udpserver'\nhost = '127.0.0.1'\nport = {}\n\
         keys = 'site.dat'\n",
        web.port(),
        echo.port(),
        udp_echo.port()
    );
    let client_tunnels = format!(
        "[[tunnel]]\nname = 'proxy'\ntype = 'httpproxy'\nport = 0\n\n\
         [[tunnel]]\nname = 'echo'\ntype = 'client'\nport = 0\ndestination = '{site_b32}'\n\
         destinationport = 7\n\n\
         [[tunnel]]\nname = 'socks'\ntype = 'socks'\nport = 0\n\n\
         [[tunnel]]\nname = 'udp'\ntype = 'udpclient'\nport = 0\ndestination = '{site_b32}'\n"
    );
    let server = router_config(dir.path(), "server", &boot, &server_tunnels);
    let mut client = router_config(dir.path(), "client", &boot, &client_tunnels);
    client.addressbook.hosts = vec![hosts];
    for config in [&server, &client] {
        let info = host::init(config, Start::system()).expect("init");
        let file = boot.join(format!("{}.dat", info.hash().to_base64().replace('/', "~")));
        std::fs::write(file, info.as_bytes()).expect("write RouterInfo");
    }
    let server = Host::start(server, Tokio, Start::system())
        .await
        .expect("server");
    let client = Host::start(client, Tokio, Start::system())
        .await
        .expect("client");
    let proxy = addr_of(&client, "proxy");
    let echo_tunnel = addr_of(&client, "echo");
    let socks = addr_of(&client, "socks");
    let udp_tunnel = addr_of(&client, "udp");
    tokio::spawn(server.run(std::future::pending()));
    tokio::spawn(client.run(std::future::pending()));
    Pair {
        proxy,
        echo_tunnel,
        socks,
        udp_tunnel,
        web_port: web.port(),
        seen,
        _dir: dir,
    }
}

/// The page, fetched again until the site's LeaseSet is out; what reached the server.
async fn page_and_headers(pair: &Pair) {
    let (proxy, seen) = (pair.proxy, &pair.seen);
    let started = Instant::now();
    let request = "GET http://site.i2p/hello HTTP/1.1\r\nHost: site.i2p\r\n\
                   User-Agent: Firefox/128\r\nReferer: http://secret.i2p/\r\n\
                   Accept-Language: de-CH\r\nConnection: close\r\n\r\n";
    let page = loop {
        let answer = through_proxy(proxy, request).await;
        if answer.starts_with("HTTP/1.1 200") {
            break answer;
        }
        let status = answer.lines().next().unwrap_or_default().to_owned();
        assert!(
            started.elapsed() < WAIT,
            "no page in {WAIT:?}; last: {answer}"
        );
        eprintln!("{:?}: {status}", started.elapsed());
        tokio::time::sleep(Duration::from_secs(3)).await;
    };
    eprintln!("page after {:?}", started.elapsed());
    assert!(page.ends_with("hello from i2p"), "{page}");
    let head = seen
        .lock()
        .expect("lock")
        .last()
        .cloned()
        .expect("a request");
    let lower = head.to_ascii_lowercase();
    assert!(lower.starts_with("get /hello http/1.1"), "{head}");
    assert!(
        lower.contains(&format!("host: 127.0.0.1:{}", pair.web_port)),
        "{head}"
    );
    assert!(
        lower.contains("x-i2p-destb32: ") && lower.contains("x-i2p-desthash: "),
        "{head}"
    );
    assert!(lower.contains("user-agent: myob/6.66 (an/on)"), "{head}");
    for gone in ["referer", "accept-language", "firefox"] {
        assert!(!lower.contains(gone), "{gone} reached the server: {head}");
    }
}

async fn error_pages(proxy: SocketAddr) {
    let clearnet = through_proxy(
        proxy,
        "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(clearnet.starts_with("HTTP/1.1 403"), "{clearnet}");
    assert!(clearnet.contains("no outproxy"), "{clearnet}");
    let unknown = through_proxy(
        proxy,
        "GET http://nobody.i2p/ HTTP/1.1\r\nHost: nobody.i2p\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
    assert!(
        unknown.contains("not in this router&#39;s address book")
            || unknown.contains("address book"),
        "{unknown}"
    );
}

async fn streams(pair: &Pair) {
    let (proxy, echo_tunnel, socks) = (pair.proxy, pair.echo_tunnel, pair.socks);
    // The echo: through the client tunnel, the b32's LeaseSet found in the netDb.
    let socket = TcpStream::connect(echo_tunnel)
        .await
        .expect("client tunnel");
    echoes(socket, 64 * 1024).await;

    // CONNECT through the HTTP proxy, to the echo's port.
    let mut socket = TcpStream::connect(proxy).await.expect("proxy");
    let connect = "CONNECT site.i2p:7 HTTP/1.1\r\nHost: site.i2p:7\r\n\r\n";
    socket.write_all(connect.as_bytes()).await.expect("send");
    let head = read_head(&mut socket).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    echoes(socket, 4096).await;

    // SOCKS 5, by name, no authentication.
    let mut socket = TcpStream::connect(socks).await.expect("socks");
    socket.write_all(&[5, 1, 0]).await.expect("greeting");
    let mut choice = [0u8; 2];
    socket.read_exact(&mut choice).await.expect("method");
    assert_eq!(choice, [5, 0]);
    let mut request = vec![5, 1, 0, 3, 8];
    request.extend_from_slice(b"site.i2p");
    request.extend_from_slice(&7u16.to_be_bytes());
    socket.write_all(&request).await.expect("request");
    let mut reply = [0u8; 10];
    let read = socket.read_exact(&mut reply);
    tokio::time::timeout(Duration::from_secs(120), read)
        .await
        .expect("a SOCKS reply in time")
        .expect("reply");
    assert_eq!(reply[..2], [5, 0], "SOCKS 5 succeeded");
    echoes(socket, 4096).await;
}

async fn datagram(udp_tunnel: SocketAddr) {
    // A datagram through the UDP tunnels and back (sent again until one returns).
    let local = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let mut back = vec![0u8; 2048];
    let mut answer = None;
    for _ in 0..20 {
        local.send_to(b"datagram", udp_tunnel).await.expect("send");
        let recv = local.recv_from(&mut back);
        if let Ok(Ok((n, _))) = tokio::time::timeout(Duration::from_secs(3), recv).await {
            answer = Some(back[..n].to_vec());
            break;
        }
    }
    assert_eq!(
        answer.as_deref(),
        Some(&b"datagram"[..]),
        "the datagram came back"
    );
}

async fn udp_echo_server() -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let _ = socket.send_to(&buf[..n], from).await;
        }
    });
    addr
}

#[tokio::test]
async fn a_page_through_the_http_proxy_and_an_echo_through_a_client_tunnel() {
    let pair = start_pair().await;
    page_and_headers(&pair).await;
    error_pages(pair.proxy).await;
    streams(&pair).await;
    datagram(pair.udp_tunnel).await;
}

/// Sends `len` bytes and reads them back.
async fn echoes(mut socket: TcpStream, len: usize) {
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    socket.write_all(&data).await.expect("send");
    let mut back = vec![0u8; data.len()];
    tokio::time::timeout(Duration::from_secs(120), socket.read_exact(&mut back))
        .await
        .expect("echo in time")
        .expect("echo");
    assert!(back == data, "the echo is what was sent");
}

/// A response head, byte by byte (what follows it is the tunnel's).
async fn read_head(socket: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 4096 {
        let read = socket.read_exact(&mut byte);
        match tokio::time::timeout(Duration::from_secs(120), read).await {
            Ok(Ok(_)) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}
