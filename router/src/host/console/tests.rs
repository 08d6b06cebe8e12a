//! The console over a socket: pages, API, the token, origins, Host and the password.

use super::*;
use crate::host::config::AddressBookSection;
use crate::host::Tokio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

struct Running {
    addr: SocketAddr,
    stop: Arc<Notify>,
    token: String,
    _status: watch::Sender<Status>,
}

async fn start(password: Option<&str>) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let status = Status {
        router: "ROUTER<hash>".into(),
        ..Status::default()
    };
    let (tx, rx) = watch::channel(status);
    let (pings, _) = mpsc::channel(1);
    let stop = Arc::new(Notify::new());
    let console = Console {
        status: rx,
        pinger: Pinger::new(pings),
        book: SharedBook::in_memory(&AddressBookSection::default()),
        stop: stop.clone(),
        token: auth::new_token(),
        password: password.map(str::to_owned),
        addr,
        log: LogRing::new(),
        tunnels: Vec::new(),
    };
    let token = console.token.clone();
    tokio::spawn(serve::<Tokio>(listener, Arc::new(console), 4));
    Running {
        addr,
        stop,
        token,
        _status: tx,
    }
}

/// Sends `head` (lines without the final blank line) and `body`; the whole answer.
async fn request(addr: SocketAddr, head: &str, body: &str) -> String {
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let text = format!("{head}\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    socket.write_all(text.as_bytes()).await.expect("send");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.expect("read");
    answer
}

fn get(addr: SocketAddr, path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {addr}")
}

#[tokio::test]
async fn pages_and_api() {
    let c = start(None).await;
    for (path, _) in pages::PAGES {
        let answer = request(c.addr, &get(c.addr, path), "").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
        assert!(answer.contains("<nav>"), "{path}");
    }
    let overview = request(c.addr, &get(c.addr, "/"), "").await;
    assert!(overview.contains("ROUTER&lt;hash&gt;"), "unescaped");
    assert!(
        overview.contains(&c.token),
        "the shutdown form carries the token"
    );
    let json = request(c.addr, &get(c.addr, "/status.json"), "").await;
    let body = json.split("\r\n\r\n").nth(1).expect("body");
    let status: Status = serde_json::from_str(body).expect("a status");
    assert_eq!(status.router, "ROUTER<hash>");
    for path in [
        "/api/overview",
        "/api/peers",
        "/api/tunnels",
        "/api/netdb",
        "/api/log",
    ] {
        let answer = request(c.addr, &get(c.addr, path), "").await;
        assert!(answer.contains("application/json"), "{path}: {answer}");
    }
    let chart = request(c.addr, &get(c.addr, "/chart/bandwidth.svg"), "").await;
    assert!(chart.contains("image/svg+xml") && chart.contains("<svg"));
    assert!(request(c.addr, &get(c.addr, "/nope"), "")
        .await
        .starts_with("HTTP/1.1 404"));
}

#[tokio::test]
async fn posts_need_the_token_and_the_origin() {
    let c = start(None).await;
    let form = "Content-Type: application/x-www-form-urlencoded";
    let head = format!("POST /shutdown HTTP/1.1\r\nHost: {}\r\n{form}", c.addr);
    let no_token = request(c.addr, &head, "token=wrong").await;
    assert!(no_token.starts_with("HTTP/1.1 403"), "{no_token}");
    let cross = format!("{head}\r\nOrigin: http://evil.example");
    let answer = request(c.addr, &cross, &format!("token={}", c.token)).await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let same = format!("{head}\r\nOrigin: http://{}", c.addr);
    let answer = request(c.addr, &same, &format!("token={}", c.token)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::timeout(Duration::from_secs(1), c.stop.notified())
        .await
        .expect("shutdown notified");
}

#[tokio::test]
async fn host_header_and_password() {
    let c = start(None).await;
    let rebound = request(c.addr, "GET / HTTP/1.1\r\nHost: evil.example:80", "").await;
    assert!(rebound.starts_with("HTTP/1.1 421"), "{rebound}");

    let c = start(Some("correct horse")).await;
    let anonymous = request(c.addr, &get(c.addr, "/"), "").await;
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    assert!(anonymous
        .to_ascii_lowercase()
        .contains("www-authenticate: basic"));
    let basic = data_encoding::BASE64.encode(b"admin:correct horse");
    let head = format!("GET / HTTP/1.1\r\nHost: router.lan:7070\r\nAuthorization: Basic {basic}");
    let answer = request(c.addr, &head, "").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn address_book_add_and_look_up() {
    let c = start(None).await;
    let keys = crate::crypto::DestinationKeys::generate(
        &mut <rand_chacha::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(1),
    );
    let dest = keys.destination().to_base64();
    let body = format!(
        "token={}&name=mysite.i2p&destination={}",
        c.token,
        dest.replace('=', "%3D").replace('~', "%7E")
    );
    let head = format!(
        "POST /api/addressbook HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded",
        c.addr
    );
    let added = request(c.addr, &head, &body).await;
    assert!(added.contains("\"added\": \"mysite.i2p\""), "{added}");
    let found = request(c.addr, &get(c.addr, "/api/addressbook?name=mysite.i2p"), "").await;
    assert!(
        found.contains(&keys.destination().to_b32_address()),
        "{found}"
    );
    let page = request(c.addr, &get(c.addr, "/addressbook?name=mysite.i2p"), "").await;
    assert!(
        page.contains(&keys.destination().to_b32_address()),
        "{page}"
    );
    let bad = request(
        c.addr,
        &head,
        &format!("token={}&name=x&destination=zz", c.token),
    )
    .await;
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
}

#[test]
fn forms_decode() {
    let pairs = form_pairs("a=1+2&b=%3D%7e&c&d=%zz%");
    assert_eq!(field(&pairs, "a"), Some("1 2"));
    assert_eq!(field(&pairs, "b"), Some("=~"));
    assert_eq!(field(&pairs, "c"), Some(""));
    assert_eq!(field(&pairs, "d"), Some("%zz%"));
    assert_eq!(form_pairs("x=%E2%82%AC")[0].1, "€");
}
