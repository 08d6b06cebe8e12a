//! su3 files and reseed zips on arbitrary bytes: the su3 parser never panics and what
//! it parses adds up to the input; the bounded zip reader never panics either, and
//! never returns more than its limits allow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::reseed::bundle::router_info_files;
use ramsons_router::reseed::{open_bundle, Limits, Signers, Su3};

fuzz_target!(|data: &[u8]| {
    if let Ok(su3) = Su3::parse(data) {
        assert_eq!(su3.signed.len() + su3.signature.len(), data.len());
        // No signers: every bundle stops at the signature, before any zip is read.
        assert!(open_bundle(data, &Signers::empty(), &Limits::default()).is_err());
    }
    let limits = Limits {
        max_files: 50,
        max_file_bytes: 4096,
        max_total_bytes: 65_536,
        ..Limits::default()
    };
    if let Ok(files) = router_info_files(data, &limits) {
        assert!(files.len() <= limits.max_files);
        let total: usize = files.iter().map(|f| f.bytes.len()).sum();
        assert!(total as u64 <= limits.max_total_bytes);
    }
});
