//! Scenario events: joins, withdrawals, crashes, partitions.

use super::{Ev, NodeState, World};
use crate::scenario::{Action, Amount, PartitionSide};
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
            Action::Partition(side) => {
                for node in &mut self.nodes {
                    node.side = false;
                }
                match side {
                    PartitionSide::Group(group) => {
                        let g = self.scenario.group_index(&group).unwrap_or(usize::MAX);
                        for node in &mut self.nodes {
                            node.side = node.group as usize == g;
                        }
                    }
                    PartitionSide::Fraction(f) => {
                        let mut online = self.online.members().to_vec();
                        online.sort_unstable();
                        let n = ((online.len() as f64) * f).round() as usize;
                        for i in online.choose_multiple(&mut self.world_rng, n) {
                            self.nodes[*i as usize].side = true;
                        }
                    }
                }
                self.partitioned = true;
            }
            Action::Heal => self.partitioned = false,
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
