//! RouterInfos shared between routers that run in one process.
//!
//! A router decodes every RouterInfo that reaches it inside encrypted netDb traffic from
//! bytes, as it must. When thousands of routers run in one process (the simulator), most of
//! those bytes are a RouterInfo some router of the process signed and already holds as a
//! verified value: the registry hands that value out, so the signature is checked once per
//! publication and the memory is shared, instead of once per router that learns it. What
//! a router does is unchanged: the same bytes give an equal value either way.
//!
//! A real router, alone in its process, has no registry.

use crate::data::{Hash, RouterInfo};
use crate::i2np::KnownRouterInfos;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// How many of a router's RouterInfos the registry keeps, newest last. Routers hold and
/// pass on a RouterInfo for hours after its router republished: the versions before the
/// current one arrive as bytes too, and without them every router that learns one parses
/// and keeps its own copy (a third of a tunnel router's memory, by heaptrack).
const VERSIONS: usize = 4;

/// The recent RouterInfos of every router that registered, by router hash. Only looked up
/// by key, never iterated, so its order cannot leak into behaviour.
#[derive(Debug, Default)]
pub struct RouterInfoRegistry {
    current: Mutex<HashMap<Hash, Vec<Arc<RouterInfo>>>>,
}

impl RouterInfoRegistry {
    pub fn new() -> Arc<RouterInfoRegistry> {
        Arc::new(RouterInfoRegistry::default())
    }

    /// `info` is now its router's current RouterInfo; the oldest of more than
    /// [`VERSIONS`] is forgotten.
    pub fn publish(&self, info: Arc<RouterInfo>) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let versions = current.entry(info.hash()).or_default();
        versions.push(info);
        if versions.len() > VERSIONS {
            versions.remove(0);
        }
    }
}

impl KnownRouterInfos for RouterInfoRegistry {
    fn get(&self, bytes: &[u8]) -> Option<Arc<RouterInfo>> {
        let hash = RouterInfo::identity_hash_of(bytes)?;
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&hash)?
            .iter()
            .rev()
            .find(|info| info.as_bytes() == bytes)
            .cloned()
    }
}

/// What a router knows: its own table first, then the process's registry.
pub(crate) struct Known<'a> {
    pub(crate) own: &'a dyn KnownRouterInfos,
    pub(crate) shared: Option<&'a RouterInfoRegistry>,
}

impl KnownRouterInfos for Known<'_> {
    fn get(&self, bytes: &[u8]) -> Option<Arc<RouterInfo>> {
        self.own
            .get(bytes)
            .or_else(|| self.shared.and_then(|shared| shared.get(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::RouterKeys;
    use crate::data::Mapping;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn hands_out_recent_router_infos_for_their_exact_bytes_only() {
        let keys = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(4));
        let old = Arc::new(keys.sign_router_info(1_000, Vec::new(), Mapping::new()));
        let new = Arc::new(keys.sign_router_info(2_000, Vec::new(), Mapping::new()));
        let registry = RouterInfoRegistry::new();
        registry.publish(old.clone());
        let found = registry.get(old.as_bytes()).expect("registered");
        assert!(Arc::ptr_eq(&found, &old));
        registry.publish(new.clone());
        assert_eq!(
            registry.current.lock().map(|m| m.len()).unwrap_or_default(),
            1,
            "one entry per router"
        );
        assert!(
            Arc::ptr_eq(&registry.get(old.as_bytes()).expect("recent"), &old),
            "a recent version is still handed out"
        );
        assert!(Arc::ptr_eq(
            &registry.get(new.as_bytes()).expect("current"),
            &new
        ));
        assert!(registry.get(&new.as_bytes()[..100]).is_none());
        let known = Known {
            own: &(),
            shared: Some(&registry),
        };
        assert!(known.get(new.as_bytes()).is_some());
        for published in 3_000..3_000 + VERSIONS as u64 {
            registry.publish(Arc::new(keys.sign_router_info(
                published,
                Vec::new(),
                Mapping::new(),
            )));
        }
        assert!(registry.get(old.as_bytes()).is_none(), "superseded bytes");
        assert!(registry.get(new.as_bytes()).is_none(), "superseded bytes");
    }
}
