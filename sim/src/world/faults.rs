//! Scenario events: joins, withdrawals, crashes, partitions and the other link verbs.

use super::links::{Fault, Side};
use super::{Ev, NodeState, World};
use crate::scenario::{Action, Amount, LinkVerb, PartitionSide};
use rand::seq::SliceRandom;

impl World {
    pub(super) fn apply(&mut self, k: usize) {
        let action = self.scenario.events[k].action.clone();
        match action {
            Action::Join {
                group,
                count,
                spread,
            } => {
                let Some(g) = self.scenario.group_index(&group) else {
                    return;
                };
                for _ in 0..count {
                    self.spawn(g, self.now, spread.0);
                }
            }
            Action::Withdraw { group, amount } => {
                self.metrics.note_withdrawal(self.now);
                for i in self.pick_online(&group, amount) {
                    self.take_down(i, NodeState::Gone);
                }
            }
            Action::Crash {
                group,
                amount,
                down,
            } => {
                for i in self.pick_online(&group, amount) {
                    self.take_down(i, NodeState::Down);
                    if let Some(down) = down {
                        let epoch = self.nodes[i as usize].epoch;
                        self.queue
                            .push(self.now + down.0, Ev::Restart { router: i, epoch });
                    }
                }
            }
            Action::Partition(side) => self.split(side),
            Action::Heal => self.link_faults.end_split(),
            Action::Link { verb, between } => self.link_verb(verb, &between),
        }
    }

    /// A two-sided partition: the routers of a group, or a random fraction of the online
    /// routers, chosen now, against every other router. It replaces the one before.
    fn split(&mut self, side: PartitionSide) {
        let mut chosen = vec![false; self.nodes.len()];
        match side {
            PartitionSide::Group(group) => {
                let g = self.scenario.group_index(&group).unwrap_or(usize::MAX);
                for (i, node) in self.nodes.iter().enumerate() {
                    chosen[i] = node.group as usize == g;
                }
            }
            PartitionSide::Fraction(f) => {
                let mut online = self.online.members().to_vec();
                online.sort_unstable();
                let n = ((online.len() as f64) * f).round() as usize;
                for i in online.choose_multiple(&mut self.world_rng, n) {
                    chosen[*i as usize] = true;
                }
            }
        }
        self.link_faults.end_split();
        let (a, b) = (Side::In(chosen.clone()), Side::NotIn(chosen));
        self.link_faults.begin(Fault::Cut, a, b);
    }

    /// turmoil's `verb` between the routers of the two groups `between` names.
    fn link_verb(&mut self, verb: LinkVerb, between: &[String; 2]) {
        let side = |name: &str| {
            let g = self.scenario.group_index(name).unwrap_or(usize::MAX);
            Side::Group(g as u16)
        };
        let (a, b) = (side(&between[0]), side(&between[1]));
        match verb {
            LinkVerb::Partition => self.link_faults.begin(Fault::Cut, a, b),
            LinkVerb::Repair => self.link_faults.end(Fault::Cut, &a, &b),
            LinkVerb::Hold => self.link_faults.begin(Fault::Hold, a, b),
            LinkVerb::Release => {
                self.link_faults.end(Fault::Hold, &a, &b);
                self.release_held();
            }
        }
    }

    /// `amount` of the online routers of `group`, chosen at random.
    fn pick_online(&mut self, group: &str, amount: Amount) -> Vec<u32> {
        let Some(g) = self.scenario.group_index(group) else {
            return Vec::new();
        };
        let mut members: Vec<u32> = self
            .online
            .members()
            .iter()
            .copied()
            .filter(|i| self.nodes[*i as usize].group as usize == g)
            .collect();
        members.sort_unstable();
        let n = amount.of(members.len());
        members
            .choose_multiple(&mut self.world_rng, n)
            .copied()
            .collect()
    }
}
