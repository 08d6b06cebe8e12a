//! `[[events]]`: faults and changes at points in simulated time.

use super::{invalid, Invalid, Scenario};
use ramsons_router::units::Span;
use serde::Deserialize;

/// A fault or change at a point in simulated time.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "EventSpec")]
pub struct ScenarioEvent {
    pub at: Span,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// New routers of a group (its settings) come online, spread over `spread`.
    Join {
        group: String,
        count: u32,
        spread: Span,
    },
    /// Online routers of a group leave for good (mass withdrawal).
    Withdraw { group: String, amount: Amount },
    /// Online routers of a group crash; they restart after `down` when it is given.
    Crash {
        group: String,
        amount: Amount,
        down: Option<Span>,
    },
    /// The online routers split in two sides that cannot reach each other: the routers
    /// of `group`, or a random `fraction` of them, on one side.
    Partition(PartitionSide),
    /// Ends a partition.
    Heal,
}

#[derive(Debug, Clone)]
pub enum PartitionSide {
    Group(String),
    Fraction(f64),
}

/// How many online routers of a group an event affects.
#[derive(Debug, Clone, Copy)]
pub enum Amount {
    Fraction(f64),
    Count(u32),
}

impl Amount {
    pub fn of(&self, online: usize) -> usize {
        match *self {
            Amount::Fraction(f) => ((online as f64) * f).round() as usize,
            Amount::Count(c) => (c as usize).min(online),
        }
    }
}

/// An event as written: one flat table whose `action` decides which fields apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventSpec {
    at: Span,
    action: ActionKind,
    group: Option<String>,
    count: Option<u32>,
    fraction: Option<f64>,
    spread: Option<Span>,
    down: Option<Span>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ActionKind {
    Join,
    Withdraw,
    Crash,
    Partition,
    Heal,
}

impl TryFrom<EventSpec> for ScenarioEvent {
    type Error = String;

    fn try_from(spec: EventSpec) -> Result<Self, String> {
        let EventSpec {
            at,
            action,
            group,
            count,
            fraction,
            spread,
            down,
        } = spec;
        let kind = format!("{action:?}").to_lowercase();
        let group_required = || {
            group
                .clone()
                .ok_or(format!("action \"{kind}\" needs `group`"))
        };
        let amount = || match (fraction, count) {
            (Some(f), None) if (0.0..=1.0).contains(&f) => Ok(Amount::Fraction(f)),
            (Some(f), None) => Err(format!("`fraction` must be in [0, 1], got {f}")),
            (None, Some(c)) => Ok(Amount::Count(c)),
            _ => Err(format!(
                "action \"{kind}\" needs exactly one of `fraction` or `count`"
            )),
        };
        let unexpected = |present: bool, field: &str| {
            if present {
                Err(format!("action \"{kind}\" does not take `{field}`"))
            } else {
                Ok(())
            }
        };
        let action =
            match action {
                ActionKind::Join => {
                    unexpected(fraction.is_some(), "fraction")?;
                    unexpected(down.is_some(), "down")?;
                    Action::Join {
                        group: group_required()?,
                        count: count.ok_or("action \"join\" needs `count`")?,
                        spread: spread.unwrap_or_default(),
                    }
                }
                ActionKind::Withdraw => {
                    unexpected(spread.is_some(), "spread")?;
                    unexpected(down.is_some(), "down")?;
                    Action::Withdraw {
                        group: group_required()?,
                        amount: amount()?,
                    }
                }
                ActionKind::Crash => {
                    unexpected(spread.is_some(), "spread")?;
                    Action::Crash {
                        group: group_required()?,
                        amount: amount()?,
                        down,
                    }
                }
                ActionKind::Partition => {
                    unexpected(count.is_some(), "count")?;
                    unexpected(spread.is_some() || down.is_some(), "spread or down")?;
                    match (group, fraction) {
                        (Some(g), None) => Action::Partition(PartitionSide::Group(g)),
                        (None, Some(f)) if f > 0.0 && f < 1.0 => {
                            Action::Partition(PartitionSide::Fraction(f))
                        }
                        _ => return Err(
                            "action \"partition\" takes either `group` or a `fraction` in (0, 1)"
                                .into(),
                        ),
                    }
                }
                ActionKind::Heal => {
                    let extra = group.is_some()
                        || count.is_some()
                        || fraction.is_some()
                        || spread.is_some()
                        || down.is_some();
                    unexpected(extra, "any field but `at`")?;
                    Action::Heal
                }
            };
        Ok(ScenarioEvent { at, action })
    }
}

/// Each event's time and group against the rest of the scenario.
pub(super) fn check_events(scenario: &Scenario) -> Result<(), Invalid> {
    for (i, event) in scenario.events.iter().enumerate() {
        let field = |name: &str| format!("events[{i}].{name}");
        if event.at > scenario.general.stop_time {
            return Err(invalid(field("at"), "is after general.stop_time"));
        }
        let group = match &event.action {
            Action::Join { group, .. }
            | Action::Withdraw { group, .. }
            | Action::Crash { group, .. }
            | Action::Partition(PartitionSide::Group(group)) => Some(group),
            Action::Partition(PartitionSide::Fraction(_)) | Action::Heal => None,
        };
        if group.is_some_and(|g| scenario.group_index(g).is_none()) {
            return Err(invalid(
                field("group"),
                "not the name of a [[routers]] group",
            ));
        }
    }
    Ok(())
}
