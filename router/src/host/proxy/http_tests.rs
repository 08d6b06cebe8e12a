use super::*;
use proptest::prelude::*;

#[test]
fn absolute_form_and_origin_form() {
    let t = RequestTarget::parse("GET", "http://Site.i2p/a/b?x=1", None).expect("valid");
    assert_eq!(
        (t.host.as_str(), t.port, t.path.as_str()),
        ("site.i2p", 80, "/a/b?x=1")
    );
    assert!(!t.connect && t.helper.is_none());
    let t = RequestTarget::parse("GET", "/index.html", Some("site.i2p:8080")).expect("valid");
    assert_eq!(
        (t.host.as_str(), t.port, t.path.as_str()),
        ("site.i2p", 8080, "/index.html")
    );
    let t = RequestTarget::parse("GET", "http://site.i2p", None).expect("valid");
    assert_eq!(t.path, "/");
}

#[test]
fn connect_needs_a_port() {
    let t = RequestTarget::parse("CONNECT", "site.i2p:443", None).expect("valid");
    assert!(t.connect);
    assert_eq!((t.host.as_str(), t.port), ("site.i2p", 443));
    assert!(RequestTarget::parse("CONNECT", "site.i2p", None).is_err());
}

#[test]
fn address_helpers_are_taken_out_of_the_query() {
    let t = RequestTarget::parse(
        "GET",
        "http://site.i2p/p?a=1&i2paddresshelper=XYZ&b=2",
        None,
    )
    .expect("valid");
    assert_eq!(t.helper.as_deref(), Some("XYZ"));
    assert_eq!(t.path, "/p?a=1&b=2");
    let t =
        RequestTarget::parse("GET", "http://site.i2p/?i2paddresshelper=XYZ", None).expect("valid");
    assert_eq!(t.path, "/");
}

#[test]
fn what_the_proxy_cannot_serve_is_a_bad_request() {
    assert!(RequestTarget::parse("GET", "https://site.i2p/", None).is_err());
    assert!(RequestTarget::parse("GET", "/", None).is_err());
    assert!(RequestTarget::parse("GET", "not a uri", None).is_err());
}

/// Found by the proxy_request fuzz target: `*` (the asterisk form) with a Host header was
/// taken, with `*` as the path to send on.
#[test]
fn the_asterisk_form_is_a_bad_request() {
    for method in ["=]", "GET", "OPTIONS"] {
        let parsed = RequestTarget::parse(method, "*", Some("*n&ae"));
        assert!(matches!(parsed, Err(Problem::BadRequest(_))), "{method}");
        let parsed = RequestTarget::parse(method, "*", Some("site.i2p"));
        assert!(matches!(parsed, Err(Problem::BadRequest(_))), "{method}");
    }
}

proptest! {
    #[test]
    fn never_panics(method in "[A-Z]{0,8}", uri in "\\PC{0,100}", host in proptest::option::of("\\PC{0,40}")) {
        let _ = RequestTarget::parse(&method, &uri, host.as_deref());
    }

    #[test]
    fn urls_read_back(host in "[a-z][a-z0-9]{0,20}\\.i2p", port in 1u16.., path in "(/[a-z0-9]{0,8}){1,4}") {
        let uri = format!("http://{host}:{port}{path}");
        let t = RequestTarget::parse("GET", &uri, None).expect("valid");
        prop_assert_eq!((t.host, t.port, t.path), (host, port, path));
    }
}
