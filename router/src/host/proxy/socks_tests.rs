use super::*;
use proptest::prelude::*;

#[test]
fn socks4a_names_a_host() {
    let mut msg = vec![4, 1, 0, 80, 0, 0, 0, 1];
    msg.extend_from_slice(b"user\0site.i2p\0");
    let (greeting, used) = parse_greeting(&msg).expect("valid").expect("complete");
    assert_eq!(used, msg.len());
    assert_eq!(
        greeting,
        Greeting::V4(Request {
            command: 1,
            host: Host::Name("site.i2p".into()),
            port: 80
        })
    );
    for cut in 0..msg.len() {
        assert_eq!(parse_greeting(&msg[..cut]), Ok(None), "prefix {cut}");
    }
}

#[test]
fn socks4_names_an_address() {
    let msg = [4, 1, 1, 187, 10, 0, 0, 1, 0];
    let (greeting, _) = parse_greeting(&msg).expect("valid").expect("complete");
    let Greeting::V4(request) = greeting else {
        panic!("not v4");
    };
    assert_eq!(request.host, Host::Ip("10.0.0.1".parse().expect("ip")));
    assert_eq!(request.port, 443);
}

#[test]
fn socks5_greeting_and_request() {
    assert_eq!(
        parse_greeting(&[5, 2, 0, 2]),
        Ok(Some((
            Greeting::V5 {
                methods: vec![0, 2]
            },
            4
        )))
    );
    let mut msg = vec![5, 1, 0, 3, 8];
    msg.extend_from_slice(b"site.i2p");
    msg.extend_from_slice(&[0, 80]);
    let (request, used) = parse_request(&msg).expect("valid").expect("complete");
    assert_eq!(used, msg.len());
    assert_eq!(request.host, Host::Name("site.i2p".into()));
    for cut in 0..msg.len() {
        assert_eq!(parse_request(&msg[..cut]), Ok(None), "prefix {cut}");
    }
    assert!(parse_request(&[5, 1, 0, 9, 0, 0]).is_err());
    assert!(parse_greeting(&[6]).is_err());
    assert!(parse_greeting(&[5, 0]).is_err());
}

#[test]
fn endless_fields_are_refused() {
    let mut msg = vec![4, 1, 0, 80, 0, 0, 0, 1];
    msg.extend(std::iter::repeat_n(b'a', 300));
    assert!(parse_greeting(&msg).is_err());
}

proptest! {
    #[test]
    fn parsers_never_panic_and_stay_in_bounds(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(Some((_, used))) = parse_greeting(&data) {
            prop_assert!(used <= data.len());
        }
        if let Ok(Some((_, used))) = parse_request(&data) {
            prop_assert!(used <= data.len());
        }
    }

    #[test]
    fn socks5_requests_read_back(name in "[a-z0-9.]{1,60}", port in any::<u16>()) {
        let mut msg = vec![5, 1, 0, 3, name.len() as u8];
        msg.extend_from_slice(name.as_bytes());
        msg.extend_from_slice(&port.to_be_bytes());
        let (request, used) = parse_request(&msg).expect("valid").expect("complete");
        prop_assert_eq!(used, msg.len());
        prop_assert_eq!(request, Request { command: 1, host: Host::Name(name), port });
    }
}
