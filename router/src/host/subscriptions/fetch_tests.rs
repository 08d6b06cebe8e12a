use super::*;
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[test]
fn feed_urls() {
    let b32 = format!("{}.b32.i2p", "A".repeat(52));
    let url = FeedUrl::parse(&format!("http://{b32}/hosts.txt?since=1")).expect("valid");
    assert_eq!(url.host, b32.to_ascii_lowercase());
    assert_eq!((url.port, url.path.as_str()), (80, "/hosts.txt?since=1"));
    let url = FeedUrl::parse("http://feed.i2p:8080").expect("valid");
    assert_eq!((url.port, url.path.as_str()), (8080, "/"));
    assert_eq!(url.host_header(), "feed.i2p:8080");
    for bad in [
        "https://feed.i2p/",
        "feed.i2p/hosts.txt",
        "/hosts.txt",
        "http://user:pw@feed.i2p/",
        "http://",
        "",
    ] {
        assert!(FeedUrl::parse(bad).is_err(), "{bad}");
    }
}

proptest! {
    #[test]
    fn parsing_urls_never_panics(text in "\\PC*") {
        let _ = FeedUrl::parse(&text);
        let _ = FeedUrl::parse(&format!("http://{text}"));
    }
}

/// A server for one connection: reads a request head, writes `answer`, closes.
/// Gives back the head it read.
async fn serve_once(answer: Vec<u8>) -> (TcpStream, JoinHandle<String>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut head = Vec::new();
        let mut buf = [0u8; 512];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        // The client may have gone already (it refused the body): not an error here.
        let _ = socket.write_all(&answer).await;
        let _ = socket.shutdown().await;
        String::from_utf8_lossy(&head).into_owned()
    });
    let stream = TcpStream::connect(addr).await.expect("connect");
    (stream, server)
}

fn feed() -> FeedUrl {
    FeedUrl::parse("http://feed.i2p/hosts.txt").expect("valid")
}

#[tokio::test]
async fn a_body_with_its_validators_then_not_modified() {
    let body = "a.i2p=AAAA\n";
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"v1\"\r\n\
         Last-Modified: Mon, 07 Dec 2026 10:00:00 GMT\r\n\r\n{body}",
        body.len()
    );
    let (stream, server) = serve_once(answer.into_bytes()).await;
    let first = Subscription::new("http://feed.i2p/hosts.txt");
    let got = get(stream, &feed(), &first, 1024).await.expect("fetched");
    let head = server.await.expect("server").to_ascii_lowercase();
    assert!(head.starts_with("get /hosts.txt http/1.1\r\n"), "{head}");
    assert!(head.contains("host: feed.i2p\r\n"), "{head}");
    assert!(head.contains("user-agent: myob/6.66 (an/on)"), "{head}");
    assert!(!head.contains("if-none-match") && !head.contains("if-modified-since"));
    let Got::Body {
        bytes,
        etag,
        last_modified,
    } = got
    else {
        panic!("a body: {got:?}");
    };
    assert_eq!(&bytes[..], body.as_bytes());
    assert_eq!(etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        last_modified.as_deref(),
        Some("Mon, 07 Dec 2026 10:00:00 GMT")
    );

    // The next fetch sends them back, and a 304 is "not modified".
    let (stream, server) = serve_once(b"HTTP/1.1 304 Not Modified\r\n\r\n".to_vec()).await;
    let again = Subscription {
        etag,
        last_modified,
        ..first
    };
    let got = get(stream, &feed(), &again, 1024).await.expect("fetched");
    assert_eq!(got, Got::NotModified);
    let head = server.await.expect("server").to_ascii_lowercase();
    assert!(head.contains("if-none-match: \"v1\"\r\n"), "{head}");
    assert!(
        head.contains("if-modified-since: mon, 07 dec 2026 10:00:00 gmt\r\n"),
        "{head}"
    );
}

#[tokio::test]
async fn a_validator_that_is_no_header_value_is_not_sent() {
    let (stream, server) = serve_once(b"HTTP/1.1 304 Not Modified\r\n\r\n".to_vec()).await;
    let last = Subscription {
        etag: Some("bad\r\nX-Injected: yes".into()),
        ..Subscription::new("http://feed.i2p/hosts.txt")
    };
    let got = get(stream, &feed(), &last, 1024).await.expect("fetched");
    assert_eq!(got, Got::NotModified);
    let head = server.await.expect("server").to_ascii_lowercase();
    assert!(!head.contains("x-injected") && !head.contains("if-none-match"));
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused() {
    let last = Subscription::new("http://feed.i2p/hosts.txt");
    // Declared too long: refused from the head.
    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n".to_vec();
    let (stream, _server) = serve_once(answer).await;
    let got = get(stream, &feed(), &last, 1024).await;
    assert!(matches!(got, Err(FetchError::TooLarge(1024))), "{got:?}");
    // No length, the body until the connection closes: refused at the cap.
    let mut answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    answer.extend(std::iter::repeat_n(b'x', 5000));
    let (stream, _server) = serve_once(answer).await;
    let got = get(stream, &feed(), &last, 1024).await;
    assert!(matches!(got, Err(FetchError::TooLarge(1024))), "{got:?}");
    // Exactly the cap is fine.
    let mut answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    answer.extend(std::iter::repeat_n(b'x', 1024));
    let (stream, _server) = serve_once(answer).await;
    let got = get(stream, &feed(), &last, 1024).await;
    assert!(
        matches!(&got, Ok(Got::Body { bytes, etag: None, .. }) if bytes.len() == 1024),
        "{got:?}"
    );
}

#[tokio::test]
async fn other_answers_are_errors() {
    let last = Subscription::new("http://feed.i2p/hosts.txt");
    let answer = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec();
    let (stream, _server) = serve_once(answer).await;
    let got = get(stream, &feed(), &last, 1024).await;
    assert!(
        matches!(got, Err(FetchError::Status(StatusCode::NOT_FOUND))),
        "{got:?}"
    );
    let (stream, _server) = serve_once(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec()).await;
    let got = get(stream, &feed(), &last, 1024).await;
    assert!(matches!(got, Err(FetchError::Http(_))), "{got:?}");
}
