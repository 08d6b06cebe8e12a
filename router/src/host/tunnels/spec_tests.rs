use super::*;
use proptest::prelude::*;

const CONF: &str = "\
[IRC-ILITA]
type = client
address = 127.0.0.1
port = 6668
destination = irc.ilita.i2p
destinationport = 6667
keys = irc-keys.dat
inbound.length = 2
i2cp.leaseSetEncType = 4,0
signaturetype = 7

[anon-website]
type = http
host = 127.0.0.1
port = 8080
keys = anon-website.dat
accesslist = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b32.i2p

[proxy]
type = httpproxy
";

#[test]
fn reads_an_i2pd_tunnels_conf() {
    let specs = from_ini(CONF).expect("valid");
    assert_eq!(specs.len(), 3);
    let irc = &specs[0];
    assert_eq!(irc.kind, TunnelKind::Client);
    assert_eq!(irc.listen, Some("127.0.0.1:6668".parse().expect("addr")));
    assert_eq!(irc.destination.as_deref(), Some("irc.ilita.i2p"));
    assert_eq!(irc.destination_port, 6667);
    assert_eq!(irc.options["inbound.length"], "2");
    assert_eq!(irc.options["i2cp.leaseSetEncType"], "4,0");
    assert_eq!(irc.ignored, ["signaturetype"]);
    let web = &specs[1];
    assert_eq!(web.kind, TunnelKind::Http);
    assert_eq!(web.forward, Some(("127.0.0.1".into(), 8080)));
    assert_eq!(web.access_list.len(), 1);
    assert_eq!(
        specs[2].listen,
        Some("127.0.0.1:4444".parse().expect("addr"))
    );
}

#[test]
fn toml_tables_read_like_the_ini() {
    let text = "name = 'irc'\ntype = 'client'\nport = 6668\ndestination = 'irc.ilita.i2p'\n\
                inbound.length = 2\ni2cp.leaseSetEncType = '4,0'\n";
    let table: toml::Table = toml::from_str(text).expect("toml");
    let spec = from_toml(0, &table).expect("valid");
    assert_eq!(spec.name, "irc");
    assert_eq!(spec.options["inbound.length"], "2");
    assert_eq!(spec.options["i2cp.leaseSetEncType"], "4,0");
    let nameless: toml::Table = toml::from_str("type = 'client'").expect("toml");
    let e = from_toml(2, &nameless).expect_err("no name");
    assert!(
        e.to_string().contains("tunnel #3") && e.to_string().contains("name"),
        "{e}"
    );
}

#[test]
fn mistakes_name_the_tunnel_and_the_key() {
    let cases = [
        ("[a]\ntype = clinet\nport = 1", "type"),
        ("[a]\ntype = client\nport = 1", "destination"),
        ("[a]\ntype = client\nport = x\ndestination = b.i2p", "port"),
        ("[a]\ntype = server\nhost = 127.0.0.1\nport = 80", "keys"),
        ("[a]\ntype = server\nport = 80\nkeys = k", "host"),
        (
            "[a]\ntype = client\nport = 1\ndestination = b.i2p\nprot = 2",
            "prot",
        ),
        (
            "[a]\ntype = client\nport = 1\ndestination = b.i2p\ninbound.length = 9",
            "inbound.length",
        ),
        ("[a]\ntype = socks\naddress = localhost", "address"),
        (
            "[a]\ntype = server\nhost = h\nport = 1\nkeys = k\naccesslist = nope",
            "accesslist",
        ),
    ];
    for (text, key) in cases {
        let e = from_ini(text).expect_err(text);
        assert_eq!(e.tunnel, "a", "{text}");
        assert_eq!(e.key.as_deref(), Some(key), "{text}: {e}");
        assert!(
            e.to_string().starts_with(&format!("tunnel [a] {key}")),
            "{e}"
        );
    }
}

proptest! {
    #[test]
    fn arbitrary_pairs_never_panic(
        pairs in proptest::collection::vec(("[a-z.]{1,12}", "\\PC{0,20}"), 0..8),
    ) {
        let _ = TunnelSpec::from_pairs("t", pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }

    #[test]
    fn any_ini_text_never_panics(text in "\\PC*") {
        let _ = from_ini(&text);
    }
}
