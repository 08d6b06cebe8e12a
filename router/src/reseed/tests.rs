//! Bundles built here, signed with a key made for the test (RSA-4096, generated once per
//! test run from a fixed seed: a test key, never a real signer's).

use super::su3::Builder;
use super::*;
use rand::SeedableRng;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha512};
use std::io::Write;
use std::sync::OnceLock;
use zip::write::SimpleFileOptions;

const SIGNER: &str = "test@reseed.invalid";

fn test_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0x5eed);
        RsaPrivateKey::new(&mut rng, 4096).expect("an RSA-4096 test key")
    })
}

pub(crate) fn signers() -> Signers {
    let mut signers = Signers::empty();
    signers
        .add_key(SIGNER, test_key().to_public_key())
        .expect("4096 bits");
    signers
}

fn sign(data: &[u8]) -> Vec<u8> {
    let digest = Sha512::digest(data);
    test_key()
        .sign(Pkcs1v15Sign::new_unprefixed(), &digest)
        .expect("signs")
}

/// A zip of `(name, bytes)` entries, deflated.
pub(crate) fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        writer
            .start_file(*name, SimpleFileOptions::default())
            .expect("entry");
        writer.write_all(bytes).expect("write");
    }
    writer.finish().expect("zip").into_inner()
}

pub(crate) fn bundle(zip: &[u8]) -> Vec<u8> {
    Builder::reseed("1750000000", SIGNER).build(zip, sign)
}

fn sample_zip() -> Vec<u8> {
    zip_of(&[
        ("routerInfo-AAAA.dat", vec![1; 700]),
        ("netDb/routerInfo-BBBB.dat", vec![2; 900]),
        ("README.txt", b"not a router".to_vec()),
    ])
}

#[test]
fn a_good_bundle_gives_its_router_info_files() {
    let opened =
        open_bundle(&bundle(&sample_zip()), &signers(), &Limits::default()).expect("a good bundle");
    assert_eq!(opened.signer, SIGNER);
    assert_eq!(opened.version, "1750000000");
    let names: Vec<_> = opened.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["routerInfo-AAAA.dat", "routerInfo-BBBB.dat"]);
    assert_eq!(opened.files[1].bytes, vec![2; 900]);
}

#[test]
fn a_bad_signature_is_refused() {
    let mut bytes = bundle(&sample_zip());
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    assert_eq!(
        open_bundle(&bytes, &signers(), &Limits::default()),
        Err(ReseedError::BadSignature(SIGNER.into()))
    );
    // A real signer's name on a bundle signed by someone else.
    let forged = Builder::reseed("1", "admin@stormycloud.org").build(&sample_zip(), sign);
    assert_eq!(
        open_bundle(&forged, &Signers::shipped(), &Limits::default()),
        Err(ReseedError::BadSignature("admin@stormycloud.org".into()))
    );
}

#[test]
fn an_unknown_signer_is_refused() {
    let bytes = Builder::reseed("1", "stranger@example.com").build(&sample_zip(), sign);
    let err = open_bundle(&bytes, &signers(), &Limits::default()).expect_err("unknown");
    assert_eq!(
        err,
        ReseedError::UnknownSigner("stranger@example.com".into())
    );
    assert!(err.to_string().contains("ships no certificate"), "{err}");
}

#[test]
fn a_malformed_zip_is_refused_after_the_signature() {
    let err = open_bundle(
        &bundle(b"PK\x03\x04 not really"),
        &signers(),
        &Limits::default(),
    );
    assert!(matches!(err, Err(ReseedError::Zip(_))), "{err:?}");
    let mut zip = sample_zip();
    zip.truncate(zip.len() - 10);
    let err = open_bundle(&bundle(&zip), &signers(), &Limits::default());
    assert!(matches!(err, Err(ReseedError::Zip(_))), "{err:?}");
}

#[test]
fn bounds_on_entries_sizes_and_counts() {
    let limits = Limits {
        max_files: 3,
        max_file_bytes: 1000,
        max_total_bytes: 1500,
        ..Limits::default()
    };
    let big = zip_of(&[("routerInfo-X.dat", vec![0; 5000])]);
    assert_eq!(
        open_bundle(&bundle(&big), &signers(), &limits),
        Err(ReseedError::EntryTooLarge {
            name: "routerInfo-X.dat".into(),
            max: 1000
        })
    );
    let many: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| (format!("routerInfo-{i}.dat"), vec![0; 10]))
        .collect();
    let many: Vec<(&str, Vec<u8>)> = many.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    assert_eq!(
        open_bundle(&bundle(&zip_of(&many)), &signers(), &limits),
        Err(ReseedError::TooManyFiles { count: 4, max: 3 })
    );
    let total = zip_of(&[
        ("routerInfo-1.dat", vec![0; 900]),
        ("routerInfo-2.dat", vec![0; 900]),
    ]);
    assert!(matches!(
        open_bundle(&bundle(&total), &signers(), &limits),
        Err(ReseedError::TooLarge { .. })
    ));
    let small = Limits {
        max_su3_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(
        open_bundle(&bundle(&sample_zip()), &signers(), &small),
        Err(ReseedError::TooLarge { .. })
    ));
}

#[test]
fn truncated_files_and_wrong_types_are_refused() {
    let bytes = bundle(&sample_zip());
    for cut in [0, 10, 39, 60, bytes.len() - 1] {
        assert!(
            matches!(
                open_bundle(&bytes[..cut], &signers(), &Limits::default()),
                Err(ReseedError::Su3(_))
            ),
            "cut at {cut}"
        );
    }
    let news = Builder {
        content_type: 4,
        ..Builder::reseed("1", SIGNER)
    };
    assert_eq!(
        open_bundle(
            &news.build(&sample_zip(), sign),
            &signers(),
            &Limits::default()
        ),
        Err(ReseedError::ContentType(4))
    );
    let xml = Builder {
        file_type: 1,
        ..Builder::reseed("1", SIGNER)
    };
    assert_eq!(
        open_bundle(
            &xml.build(&sample_zip(), sign),
            &signers(),
            &Limits::default()
        ),
        Err(ReseedError::FileType(1))
    );
    let ed = Builder {
        sig_type: 8,
        sig_len: 64,
        ..Builder::reseed("1", SIGNER)
    };
    assert_eq!(
        open_bundle(
            &ed.build(&sample_zip(), |_| vec![0; 64]),
            &signers(),
            &Limits::default()
        ),
        Err(ReseedError::SigType(8))
    );
}

#[test]
fn signers_must_have_rsa_4096_keys() {
    // A small key, for this negative test only (fast to make).
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let small = RsaPrivateKey::new(&mut rng, 1024).expect("key");
    let err = Signers::empty()
        .add_key("small@x", small.to_public_key())
        .expect_err("too small");
    assert!(err.to_string().contains("1024-bit"), "{err}");
}
