//! The book and the merge: local files win, subscriptions never overwrite, garbage is
//! counted and skipped, signed commands change only what their signer holds.

use super::*;
use crate::crypto::DestinationKeys;
use crate::data::base64_encode;
use crate::naming::{BookDestination, Insert, LineError, Source};
use proptest::prelude::*;
use rand::SeedableRng;

const CAP: usize = 1 << 20;

fn keys(seed: u64) -> DestinationKeys {
    DestinationKeys::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

fn b64(keys: &DestinationKeys) -> String {
    keys.destination().to_base64()
}

fn sign(keys: &DestinationKeys, text: &str) -> String {
    base64_encode(&keys.sign(text.as_bytes()))
}

fn dest_of(book: &AddressBook, name: &str) -> Option<String> {
    book.lookup(name).map(|e| e.dest.to_base64())
}

/// `name=dest#!options#sig=...`, signed by `keys` as the specification says.
fn signed_entry(keys: &DestinationKeys, name: &str, options: &str) -> String {
    let prefix = format!("{name}={}", b64(keys));
    let unsigned = match options {
        "" => prefix.clone(),
        o => format!("{prefix}#!{o}"),
    };
    let opts = Options::parse(options).unwrap_or_default();
    let sig = sign(keys, &opts.signed_text(&prefix, &["sig"]));
    match options {
        "" => format!("{unsigned}#!sig={sig}"),
        _ => format!("{unsigned}#sig={sig}"),
    }
}

#[test]
fn garbage_is_skipped_line_by_line_and_counted() {
    let (a, b) = (keys(1), keys(2));
    let text = format!(
        "# a subscription\n\
         a.i2p={}\n\
         this is not a line\n\
         bad_name.i2p={}\n\
         c.i2p=AAAA\n\
         \u{0}\u{1}\n\
         b.i2p={}\r\n\
         \n",
        b64(&a),
        b64(&b),
        b64(&b)
    );
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"\xff\xfe=\n");
    let mut book = AddressBook::new(100);
    let report = merge(&mut book, "http://x.i2p/hosts.txt", &bytes, CAP, 5).expect("merged");
    assert_eq!(report.added, 2);
    assert_eq!(report.garbage, 5, "{report:?}");
    assert_eq!(report.garbage_samples[0].0, 3);
    assert_eq!(report.garbage_samples[0].1, LineError::NoEquals);
    assert_eq!(dest_of(&book, "A.i2p"), Some(b64(&a)));
    assert_eq!(dest_of(&book, "b.i2p"), Some(b64(&b)));
    let entry = book.lookup("b.i2p").expect("b");
    assert_eq!(
        entry.source,
        Source::Subscription("http://x.i2p/hosts.txt".into())
    );
    assert_eq!(entry.added, 5);
    assert_eq!(
        book.names_of(&b.hash())
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["b.i2p"]
    );
}

#[test]
fn subscriptions_never_overwrite_and_local_files_win() {
    let (a, b, c) = (keys(1), keys(2), keys(3));
    let mut book = AddressBook::new(100);
    merge(
        &mut book,
        "s1",
        format!("x.i2p={}\n", b64(&a)).as_bytes(),
        CAP,
        1,
    )
    .expect("s1");
    // A second subscription with another destination for x, or a second name for a.
    let second = format!("x.i2p={}\ny.i2p={}\n", b64(&b), b64(&a));
    let report = merge(&mut book, "s2", second.as_bytes(), CAP, 2).expect("s2");
    assert_eq!((report.added, report.conflicts), (0, 2));
    assert_eq!(dest_of(&book, "x.i2p"), Some(b64(&a)));

    // The operator's file replaces the learned entry; a later file does not override it.
    let report = book.load_local(format!("x.i2p={}\n", b64(&c)).as_bytes());
    assert_eq!(report.added, 1);
    assert_eq!(
        book.load_local(format!("x.i2p={}\n", b64(&b)).as_bytes())
            .conflicts,
        1
    );
    assert_eq!(dest_of(&book, "x.i2p"), Some(b64(&c)));
    assert_eq!(
        book.lookup("x.i2p").map(|e| &e.source),
        Some(&Source::Local)
    );
    // ... and no subscription can take it back.
    let again = merge(
        &mut book,
        "s1",
        format!("x.i2p={}\n", b64(&a)).as_bytes(),
        CAP,
        3,
    );
    assert_eq!(again.expect("merged").conflicts, 1);
    assert!(
        !book.saved_text().contains("x.i2p"),
        "local entries are not saved"
    );
}

#[test]
fn the_size_cap_refuses_the_whole_body_and_keeps_validators() {
    let mut sub = Subscription::new("http://x.i2p/hosts.txt");
    sub.etag = Some("\"old\"".into());
    let mut book = AddressBook::new(10);
    let body = format!("a.i2p={}\n", b64(&keys(1)));
    let refused = sub.apply(
        &mut book,
        Fetched::Body {
            bytes: body.as_bytes(),
            etag: Some("\"new\"".into()),
            last_modified: None,
        },
        10,
        100,
    );
    assert_eq!(
        refused,
        Err(MergeError::TooLarge {
            size: body.len(),
            cap: 10
        })
    );
    assert_eq!(sub.etag.as_deref(), Some("\"old\""));
    assert!(book.is_empty());

    let fetched = Fetched::Body {
        bytes: body.as_bytes(),
        etag: Some("\"new\"".into()),
        last_modified: Some("Tue, 01 Jul 2025 00:00:00 GMT".into()),
    };
    let report = sub.apply(&mut book, fetched, CAP, 100).expect("merged");
    assert_eq!(report.added, 1);
    assert_eq!(sub.etag.as_deref(), Some("\"new\""));
    assert!(sub.last_modified.is_some());
    assert!(!sub.due(100 + 3600, 12 * 3600));
    assert!(sub.due(100 + 12 * 3600, 12 * 3600));
    assert_eq!(
        sub.apply(&mut book, Fetched::NotModified, CAP, 200),
        Ok(Report::default())
    );
    assert_eq!(sub.fetched, 200);
}

#[test]
fn the_book_has_a_size_limit() {
    let mut book = AddressBook::new(2);
    let text: String = (1..=3)
        .map(|i| format!("h{i}.i2p={}\n", b64(&keys(i))))
        .collect();
    let report = merge(&mut book, "s", text.as_bytes(), CAP, 1).expect("merged");
    assert_eq!((report.added, report.full), (2, 1));
}

#[test]
fn signed_adds_must_verify() {
    let a = keys(1);
    let good = signed_entry(&a, "a.i2p", "date=1");
    let mut tampered = signed_entry(&a, "b.i2p", "date=1");
    tampered = tampered.replacen("b.i2p", "c.i2p", 1);
    let text = format!("{good}\n{tampered}\n");
    let mut book = AddressBook::new(10);
    let report = merge(&mut book, "s", text.as_bytes(), CAP, 1).expect("merged");
    assert_eq!(
        (report.added, report.commands_refused),
        (1, 1),
        "{report:?}"
    );
    assert!(book.lookup("c.i2p").is_none());
}

#[test]
fn signed_commands_change_only_what_the_signer_holds() {
    let (a, b, evil) = (keys(1), keys(2), keys(3));
    let mut book = AddressBook::new(10);
    let start = format!("a.i2p={}\nold.i2p={}\n", b64(&a), b64(&b));
    merge(&mut book, "s", start.as_bytes(), CAP, 1).expect("merged");

    // changedest a.i2p: a -> evil, but signed only by the new destination: refused.
    let forged = signed_entry(
        &evil,
        "a.i2p",
        &format!("action=changedest#olddest={}#oldsig=AAAA", b64(&a)),
    );
    // changedest old.i2p: b -> a's sibling c, signed by both.
    let c = keys(4);
    let prefix = format!("old.i2p={}", b64(&c));
    let base = format!("action=changedest#olddest={}", b64(&b));
    let inner = sign(
        &b,
        &Options::parse(&base)
            .expect("o")
            .signed_text(&prefix, &["sig", "oldsig"]),
    );
    let with_old = format!("{base}#oldsig={inner}");
    let outer = sign(
        &c,
        &Options::parse(&with_old)
            .expect("o")
            .signed_text(&prefix, &["sig"]),
    );
    let change = format!("{prefix}#!{with_old}#sig={outer}");
    // addname: a second name for a.
    let alias = signed_entry(&a, "alias.i2p", "action=addname#oldname=a.i2p");
    let report = merge(
        &mut book,
        "s",
        format!("{forged}\n{change}\n{alias}\n").as_bytes(),
        CAP,
        2,
    )
    .expect("merged");
    assert_eq!(
        (report.commands, report.commands_refused),
        (1, 1),
        "{report:?}"
    );
    assert_eq!(report.added, 1);
    assert_eq!(dest_of(&book, "a.i2p"), Some(b64(&a)));
    assert_eq!(dest_of(&book, "old.i2p"), Some(b64(&c)));
    assert_eq!(dest_of(&book, "alias.i2p"), Some(b64(&a)));

    // removeall by a: both of a's names go; a remove signed by someone else does not.
    let remove_all = format!("action=removeall#dest={}", b64(&a));
    let sig = sign(
        &a,
        &Options::parse(&remove_all)
            .expect("o")
            .signed_text("", &["sig"]),
    );
    let bad_remove = format!("action=remove#name=old.i2p#dest={}", b64(&c));
    let bad_sig = sign(
        &evil,
        &Options::parse(&bad_remove)
            .expect("o")
            .signed_text("", &["sig"]),
    );
    let text = format!("#!{remove_all}#sig={sig}\n#!{bad_remove}#sig={bad_sig}\n");
    let report = merge(&mut book, "s", text.as_bytes(), CAP, 3).expect("merged");
    assert_eq!(
        (report.commands, report.commands_refused),
        (1, 1),
        "{report:?}"
    );
    assert!(book.lookup("a.i2p").is_none() && book.lookup("alias.i2p").is_none());
    assert_eq!(dest_of(&book, "old.i2p"), Some(b64(&c)));
}

#[test]
fn the_saved_book_reads_back() {
    let mut book = AddressBook::new(10);
    let text = format!("a.i2p={}\nb.i2p={}\n", b64(&keys(1)), b64(&keys(2)));
    merge(
        &mut book,
        "http://s.i2p/hosts.txt?x=1",
        text.as_bytes(),
        CAP,
        77,
    )
    .expect("merged");
    let saved = book.saved_text();
    let mut back = AddressBook::new(10);
    let report = back.load_saved(saved.as_bytes());
    assert_eq!((report.added, report.garbage), (2, 0), "{saved}");
    let entries: Vec<_> = back
        .entries()
        .map(|(n, e)| (n.clone(), e.clone()))
        .collect();
    let original: Vec<_> = book
        .entries()
        .map(|(n, e)| (n.clone(), e.clone()))
        .collect();
    assert_eq!(entries, original);
}

#[test]
fn a_dsa_destination_is_a_name_like_any_other() {
    let mut dsa = vec![3u8; 384];
    dsa.extend_from_slice(&[0, 0, 0]);
    let text = format!("old.i2p={}\n", base64_encode(&dsa));
    let mut book = AddressBook::new(10);
    let report = merge(&mut book, "s", text.as_bytes(), CAP, 1).expect("merged");
    assert_eq!(report.added, 1);
    let entry = book.lookup("old.i2p").expect("kept");
    assert_eq!(entry.dest, BookDestination::from_bytes(dsa).expect("shape"));
    assert_eq!(
        book.insert_learned("old.i2p".parse_name(), entry.dest.clone(), "s", 1),
        Insert::Unchanged
    );
}

trait ParseName {
    fn parse_name(&self) -> crate::naming::HostName;
}

impl ParseName for &str {
    fn parse_name(&self) -> crate::naming::HostName {
        crate::naming::HostName::parse(self).expect("valid name")
    }
}

proptest! {
    #[test]
    fn merging_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let mut book = AddressBook::new(100);
        let report = merge(&mut book, "s", &bytes, CAP, 1).expect("under the cap");
        prop_assert_eq!(report.added, book.len());
    }
}
