//! What routers running in one process (the simulator) share to save memory and CPU:
//! parsed RouterInfos and one-way handshake secrets. Neither changes what a router does.

use super::Router;
use crate::crypto::SharedSecrets;
use crate::netdb::RouterInfoRegistry;
use std::sync::Arc;

impl Router {
    /// Joins the routers of this process that share RouterInfos (see
    /// [`RouterInfoRegistry`]): ours is published there from now on, and theirs are taken
    /// from there when they arrive as bytes. Only for drivers that run many routers in one
    /// process; it changes memory and CPU, never behaviour.
    pub fn share_router_infos(&mut self, registry: Arc<RouterInfoRegistry>) {
        registry.publish(self.info.clone());
        self.shared_infos = Some(registry);
    }

    /// Joins the routers of this process that hand each other the Diffie-Hellman results
    /// of one-way handshakes (see [`SharedSecrets`]); like `share_router_infos`, it
    /// changes CPU, never behaviour.
    pub fn share_secrets(&mut self, memo: Arc<SharedSecrets>) {
        if let Some(tunnels) = self.tunnels.as_mut() {
            tunnels.share_secrets(memo.clone());
        }
        self.shared_secrets = Some(memo);
    }
}
