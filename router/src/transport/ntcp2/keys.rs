//! NTCP2 addressing: our static key and IV ([`Ntcp2Keys`]), what we need of a peer to dial
//! it ([`Ntcp2Peer`]), and the AES-256-CBC obfuscation of the handshake's ephemeral keys.

use super::Ntcp2Error;
use crate::data::{base64_decode, base64_encode, Hash, Mapping, RouterAddress, RouterInfo};
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::{Aes256Dec, Aes256Enc, Block};
use rand::{CryptoRng, RngCore};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use x25519_dalek::{PublicKey, StaticSecret};

/// The transport name NTCP2 addresses are published under.
pub const TRANSPORT: &str = "NTCP2";
/// The cost we publish (routers prefer cheaper addresses); NTCP2 is our only transport.
const COST: u8 = 3;

/// Our NTCP2 static X25519 key and the AES IV we publish (`s` and `i` of our NTCP2
/// address). Kept apart from the router identity's X25519 key, as the specification
/// allows the two to rotate independently.
///
/// `Debug` shows only the public key.
#[derive(Clone)]
pub struct Ntcp2Keys {
    secret: StaticSecret,
    public: [u8; 32],
    iv: [u8; 16],
}

impl Ntcp2Keys {
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Ntcp2Keys {
        let mut bytes = [0u8; 48];
        rng.fill_bytes(&mut bytes);
        Ntcp2Keys::from_bytes(&bytes)
    }

    /// From [`Ntcp2Keys::to_bytes`]: the 32-byte static secret, then the 16-byte IV.
    pub fn from_bytes(bytes: &[u8; 48]) -> Ntcp2Keys {
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&bytes[..32]);
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&bytes[32..]);
        let secret = StaticSecret::from(secret);
        Ntcp2Keys {
            public: PublicKey::from(&secret).to_bytes(),
            secret,
            iv,
        }
    }

    /// The secrets, for storing the keys: keep them private.
    pub fn to_bytes(&self) -> [u8; 48] {
        let mut out = [0u8; 48];
        out[..32].copy_from_slice(self.secret.as_bytes());
        out[32..].copy_from_slice(&self.iv);
        out
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    pub fn iv(&self) -> [u8; 16] {
        self.iv
    }

    pub(crate) fn secret(&self) -> &StaticSecret {
        &self.secret
    }

    /// Our published NTCP2 address: `host`, `port`, `s`, `i` and `v=2` (spec: NTCP2,
    /// "Published Addresses").
    pub fn router_address(&self, socket: SocketAddr) -> RouterAddress {
        let mut options = Mapping::new();
        for (key, value) in [
            ("host", socket.ip().to_string()),
            ("port", socket.port().to_string()),
            ("s", base64_encode(&self.public)),
            ("i", base64_encode(&self.iv)),
            ("v", "2".to_string()),
        ] {
            options
                .insert(key, value)
                .expect("five short options are far below the mapping limits");
        }
        RouterAddress::new(COST, TRANSPORT, options)
    }
}

impl fmt::Debug for Ntcp2Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ntcp2Keys")
            .field("public", &base64_encode(&self.public))
            .finish_non_exhaustive()
    }
}

/// What we need to dial a peer, read from its RouterInfo's NTCP2 address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ntcp2Peer {
    pub hash: Hash,
    pub static_key: [u8; 32],
    pub iv: [u8; 16],
    pub socket: SocketAddr,
}

impl Ntcp2Peer {
    /// The first NTCP2 address with a literal IP `host`, a `port`, and valid `s` and `i`.
    /// Addresses published as "NTCP" count too if they announce version 2 (`v`), as
    /// routers that served both protocols on one port did.
    pub fn from_router_info(info: &RouterInfo) -> Result<Ntcp2Peer, Ntcp2Error> {
        let mut last_problem = "no NTCP2 address";
        for address in info.addresses().iter().filter(|a| is_ntcp2(a)) {
            match read_address(address) {
                Ok((socket, static_key, iv)) => {
                    return Ok(Ntcp2Peer {
                        hash: info.hash(),
                        static_key,
                        iv,
                        socket,
                    })
                }
                Err(problem) => last_problem = problem,
            }
        }
        Err(Ntcp2Error::NoAddress(last_problem))
    }
}

/// Whether `address` is an NTCP2 one (see [`Ntcp2Peer::from_router_info`]).
pub(crate) fn is_ntcp2(address: &RouterAddress) -> bool {
    address.transport == TRANSPORT
        || (address.transport == "NTCP"
            && address
                .options
                .get("v")
                .is_some_and(|v| v.split(',').any(|v| v == "2")))
}

/// The `s` option of an NTCP2 address, if present and 32 bytes of base64.
pub(crate) fn static_key_of(address: &RouterAddress) -> Option<[u8; 32]> {
    base64_decode(address.options.get("s")?)
        .ok()?
        .try_into()
        .ok()
}

fn read_address(address: &RouterAddress) -> Result<(SocketAddr, [u8; 32], [u8; 16]), &'static str> {
    let host: IpAddr = address
        .options
        .get("host")
        .ok_or("NTCP2 address without host")?
        .parse()
        .map_err(|_| "NTCP2 host is not an IP address")?;
    let port: u16 = address
        .options
        .get("port")
        .ok_or("NTCP2 address without port")?
        .parse()
        .map_err(|_| "NTCP2 port is not a number")?;
    let static_key = static_key_of(address).ok_or("NTCP2 address without a valid s")?;
    let iv = address
        .options
        .get("i")
        .and_then(|i| base64_decode(i).ok())
        .and_then(|i| <[u8; 16]>::try_from(i).ok())
        .ok_or("NTCP2 address without a valid i")?;
    Ok((SocketAddr::new(host, port), static_key, iv))
}

/// AES-256-CBC over one 32-byte ephemeral key, with no padding (spec: NTCP2, messages 1
/// and 2: key = Bob's router hash). `iv` is the CBC state: on return it holds the last
/// ciphertext block, which is where message 2 continues from message 1.
pub(crate) fn obfuscate(key: &Hash, iv: &mut [u8; 16], data: &mut [u8; 32]) {
    let cipher = Aes256Enc::new(key.as_bytes().into());
    for chunk in data.chunks_exact_mut(16) {
        for (byte, chain) in chunk.iter_mut().zip(iv.iter()) {
            *byte ^= chain;
        }
        cipher.encrypt_block(Block::from_mut_slice(chunk));
        iv.copy_from_slice(chunk);
    }
}

/// The inverse of [`obfuscate`], leaving the same CBC state in `iv`.
pub(crate) fn deobfuscate(key: &Hash, iv: &mut [u8; 16], data: &mut [u8; 32]) {
    let cipher = Aes256Dec::new(key.as_bytes().into());
    for chunk in data.chunks_exact_mut(16) {
        let mut ciphertext = [0u8; 16];
        ciphertext.copy_from_slice(chunk);
        cipher.decrypt_block(Block::from_mut_slice(chunk));
        for (byte, chain) in chunk.iter_mut().zip(iv.iter()) {
            *byte ^= chain;
        }
        *iv = ciphertext;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::RouterKeys;
    use aes::cipher::block_padding::NoPadding;
    use aes::cipher::{BlockEncryptMut, KeyIvInit};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn keys_round_trip_through_bytes() {
        let keys = Ntcp2Keys::generate(&mut ChaCha20Rng::seed_from_u64(1));
        let again = Ntcp2Keys::from_bytes(&keys.to_bytes());
        assert_eq!(again.public_key(), keys.public_key());
        assert_eq!(again.iv(), keys.iv());
    }

    #[test]
    fn obfuscation_is_cbc_and_chains() {
        let key = Hash([5; 32]);
        let mut data = [7u8; 32];
        let mut iv = [3u8; 16];
        obfuscate(&key, &mut iv, &mut data);
        let mut expected = [7u8; 32];
        cbc::Encryptor::<Aes256Enc>::new(key.as_bytes().into(), &[3u8; 16].into())
            .encrypt_padded_mut::<NoPadding>(&mut expected, 32)
            .expect("32 bytes are two whole blocks");
        assert_eq!(data, expected);
        assert_eq!(iv[..], expected[16..]);

        let mut back = data;
        let mut iv2 = [3u8; 16];
        deobfuscate(&key, &mut iv2, &mut back);
        assert_eq!(back, [7u8; 32]);
        assert_eq!(iv2, iv);
    }

    #[test]
    fn peer_from_published_address() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let router = RouterKeys::generate(&mut rng);
        let keys = Ntcp2Keys::generate(&mut rng);
        let socket: SocketAddr = "[2001:db8::1]:4567".parse().expect("literal");
        let info = router.sign_router_info(0, vec![keys.router_address(socket)], Mapping::new());
        let peer = Ntcp2Peer::from_router_info(&info).expect("published address");
        assert_eq!(
            peer,
            Ntcp2Peer {
                hash: router.hash(),
                static_key: keys.public_key(),
                iv: keys.iv(),
                socket,
            }
        );
    }

    #[test]
    fn peer_without_usable_address_is_an_error() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let router = RouterKeys::generate(&mut rng);
        let keys = Ntcp2Keys::generate(&mut rng);
        let none = router.sign_router_info(0, vec![], Mapping::new());
        assert_eq!(
            Ntcp2Peer::from_router_info(&none),
            Err(Ntcp2Error::NoAddress("no NTCP2 address"))
        );
        let mut unpublished = keys.router_address("127.0.0.1:1".parse().expect("literal"));
        unpublished.options.remove("host");
        let info = router.sign_router_info(0, vec![unpublished], Mapping::new());
        assert_eq!(
            Ntcp2Peer::from_router_info(&info),
            Err(Ntcp2Error::NoAddress("NTCP2 address without host"))
        );
    }
}
