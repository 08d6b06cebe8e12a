use super::*;
use proptest::prelude::*;

fn parse(line: &str) -> Command {
    Command::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

#[test]
fn hello_variants() {
    assert_eq!(
        parse("HELLO VERSION MIN=3.0 MAX=3.0"),
        Command::Hello {
            min: Some(Version::new(3, 0)),
            max: Some(Version::new(3, 0)),
            user: None,
            password: None,
        }
    );
    assert_eq!(
        parse("hello version\r"),
        Command::Hello {
            min: None,
            max: None,
            user: None,
            password: None
        }
    );
    let Command::Hello {
        min,
        user,
        password,
        ..
    } = parse(r#"HELLO VERSION MIN=3 USER="a b" PASSWORD="p\"w""#)
    else {
        panic!("not a hello");
    };
    assert_eq!(
        min,
        Some(Version {
            major: 3,
            minor: None
        })
    );
    assert_eq!(user.as_deref(), Some("a b"));
    assert_eq!(password.as_deref(), Some("p\"w"));
    assert!(Command::parse("HELLO VERSION MIN=three").is_err());
}

#[test]
fn session_create_keeps_router_options() {
    let line = "SESSION CREATE STYLE=STREAM ID=test DESTINATION=TRANSIENT SIGNATURE_TYPE=7 \
                i2cp.leaseSetEncType=4,0 inbound.quantity=3 sam.udp.port=7655";
    let Command::SessionCreate {
        style,
        id,
        destination,
        signature_type,
        params,
    } = parse(line)
    else {
        panic!("not a session create");
    };
    assert_eq!(style, Style::Stream);
    assert_eq!(id, "test");
    assert_eq!(destination, DestinationSpec::Transient);
    assert_eq!(signature_type, Some(SignatureType::ED25519));
    let options: Vec<_> = params.options.iter().collect();
    assert_eq!(
        options,
        [
            (&"i2cp.leaseSetEncType".to_owned(), &"4,0".to_owned()),
            (&"inbound.quantity".to_owned(), &"3".to_owned()),
        ]
    );
}

#[test]
fn names_and_aliases() {
    let Command::SessionCreate { style, .. } =
        parse("SESSION CREATE STYLE=MASTER ID=m DESTINATION=TRANSIENT")
    else {
        panic!("not a session create");
    };
    assert_eq!(style, Style::Primary { master: true });
    assert_eq!(
        parse("DEST GENERATE SIGNATURE_TYPE=eddsa_sha512_ed25519"),
        Command::DestGenerate {
            signature_type: Some(SignatureType::ED25519)
        }
    );
    assert_eq!(parse("stop"), Command::Quit);
    assert_eq!(parse("EXIT"), Command::Quit);
    assert_eq!(parse("PING"), Command::Ping(String::new()));
    assert_eq!(
        parse("PING  two  spaces"),
        Command::Ping(" two  spaces".into())
    );
}

#[test]
fn errors_say_what_is_wrong() {
    let cases = [
        ("SESSION CREATE STYLE=STREAM DESTINATION=TRANSIENT", "ID"),
        (
            "SESSION CREATE STYLE=BOGUS ID=a DESTINATION=TRANSIENT",
            "STYLE",
        ),
        ("STREAM FORWARD ID=a PORT=99999", "PORT"),
        ("STREAM ACCEPT ID=a SILENT=maybe", "SILENT"),
        ("DATAGRAM SEND DESTINATION=x SIZE=0", "SIZE"),
        ("SESSION ADD STYLE=RAW ID=a DESTINATION=x", "DESTINATION"),
        ("FOO BAR", "FOO BAR"),
        ("", ""),
    ];
    for (line, needle) in cases {
        let error = Command::parse(line).expect_err(line).to_string();
        assert!(error.contains(needle), "{line}: {error}");
    }
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9~._-]{1,12}"
}

/// Values with spaces, quotes, backslashes and UTF-8, never line breaks.
fn text() -> impl Strategy<Value = String> {
    "[ a-zA-Z0-9\"\\\\=é~.-]{0,16}"
}

fn nonempty_text() -> impl Strategy<Value = String> {
    "[ a-zA-Z0-9\"\\\\=é~.-]{1,16}"
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![
        Just(Style::Stream),
        Just(Style::Datagram),
        Just(Style::Datagram2),
        Just(Style::Datagram3),
        Just(Style::Raw),
        any::<bool>().prop_map(|master| Style::Primary { master }),
    ]
}

fn version() -> impl Strategy<Value = Version> {
    (0u8..10, proptest::option::of(0u8..10)).prop_map(|(major, minor)| Version { major, minor })
}

fn params() -> impl Strategy<Value = SessionParams> {
    let options =
        proptest::collection::btree_map("[a-rt-z][a-z]{0,5}\\.[a-zA-Z.]{1,8}", text(), 0..4);
    (
        (
            any::<Option<u16>>(),
            proptest::option::of(word()),
            any::<Option<u16>>(),
            any::<Option<u16>>(),
        ),
        (
            any::<Option<u8>>(),
            any::<Option<u16>>(),
            any::<Option<u8>>(),
            any::<Option<bool>>(),
        ),
        options,
    )
        .prop_map(
            |(
                (port, host, from_port, to_port),
                (protocol, listen_port, listen_protocol, header),
                options,
            )| {
                SessionParams {
                    port,
                    host,
                    from_port,
                    to_port,
                    protocol,
                    listen_port,
                    listen_protocol,
                    header,
                    options,
                }
            },
        )
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![hello_and_session_command(), other_command()]
}

fn signature_type() -> impl Strategy<Value = Option<SignatureType>> {
    proptest::option::of(any::<u16>().prop_map(SignatureType))
}

fn hello_and_session_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (
            proptest::option::of(version()),
            proptest::option::of(version()),
            proptest::option::of(text()),
            proptest::option::of(text())
        )
            .prop_map(|(min, max, user, password)| Command::Hello {
                min,
                max,
                user,
                password
            }),
        (
            style(),
            word(),
            proptest::option::of(word().prop_filter("not TRANSIENT", |k| k != "TRANSIENT")),
            signature_type(),
            params()
        )
            .prop_map(
                |(style, id, keys, signature_type, params)| Command::SessionCreate {
                    style,
                    id,
                    destination: keys.map_or(DestinationSpec::Transient, DestinationSpec::Keys),
                    signature_type,
                    params
                }
            ),
        (style(), word(), params()).prop_map(|(style, id, params)| Command::SessionAdd {
            style,
            id,
            params
        }),
        word().prop_map(|id| Command::SessionRemove { id }),
    ]
}

fn other_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (
            word(),
            nonempty_text(),
            any::<bool>(),
            any::<Option<u16>>(),
            any::<Option<u16>>()
        )
            .prop_map(|(id, destination, silent, from_port, to_port)| {
                Command::StreamConnect {
                    id,
                    destination,
                    silent,
                    from_port,
                    to_port,
                }
            }),
        (word(), any::<bool>()).prop_map(|(id, silent)| Command::StreamAccept { id, silent }),
        (
            word(),
            any::<u16>(),
            proptest::option::of(word()),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(id, port, host, silent, ssl)| Command::StreamForward {
                id,
                port,
                host,
                silent,
                ssl
            }),
        (
            any::<bool>(),
            word(),
            1..=MAX_DATAGRAM,
            any::<Option<u16>>(),
            any::<Option<u16>>(),
            any::<Option<u8>>()
        )
            .prop_map(|(raw, destination, size, from_port, to_port, protocol)| {
                Command::DatagramSend {
                    raw,
                    destination,
                    size,
                    from_port,
                    to_port,
                    protocol: protocol.filter(|_| raw),
                }
            }),
        (nonempty_text(), any::<bool>())
            .prop_map(|(name, options)| Command::NamingLookup { name, options }),
        signature_type().prop_map(|signature_type| Command::DestGenerate { signature_type }),
        "[ a-z0-9]{0,12}".prop_map(Command::Ping),
        "[ a-z0-9]{0,12}".prop_map(Command::Pong),
        Just(Command::Quit),
        Just(Command::Help),
        Just(Command::Auth(AuthCommand::Enable)),
        Just(Command::Auth(AuthCommand::Disable)),
        (nonempty_text(), nonempty_text())
            .prop_map(|(user, password)| Command::Auth(AuthCommand::Add { user, password })),
        nonempty_text().prop_map(|user| Command::Auth(AuthCommand::Remove { user })),
    ]
}

proptest! {
    #[test]
    fn format_then_parse(command in command()) {
        let line = command.to_string();
        prop_assert!(!line.contains('\n'));
        prop_assert_eq!(Command::parse(&line), Ok(command), "{}", line);
    }

    #[test]
    fn random_lines_never_panic(line in "\\PC{0,200}") {
        let _ = Command::parse(&line);
    }

    #[test]
    fn random_option_lines_never_panic(
        verb in "(HELLO VERSION|SESSION CREATE|SESSION ADD|STREAM CONNECT|DATAGRAM SEND|NAMING LOOKUP) ",
        rest in "[A-Z_=\" \\\\a-z0-9.]{0,80}",
    ) {
        let _ = Command::parse(&format!("{verb}{rest}"));
    }
}
