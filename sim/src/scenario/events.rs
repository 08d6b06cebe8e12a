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
    /// of `group`, or a random `fraction` of them, on one side. The link model's
    /// `partition` between that side and every other router, joining later or not.
    Partition(PartitionSide),
    /// Ends the partition of a `Partition` (not the pairwise ones).
    Heal,
    /// One of turmoil's link verbs between the routers of two groups (the same group
    /// twice: between the group's own routers), those that join later included.
    Link {
        verb: LinkVerb,
        between: [String; 2],
    },
}

/// turmoil's link verbs, between two sets of routers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkVerb {
    /// Messages between them are lost, those in flight too.
    Partition,
    /// Ends a `partition` between them.
    Repair,
    /// Messages between them are held where they arrive, undelivered.
    Hold,
    /// Ends a `hold` between them and delivers what it held, in the order it arrived.
    Release,
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
    between: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ActionKind {
    Join,
    Withdraw,
    Crash,
    Partition,
    Heal,
    Repair,
    Hold,
    Release,
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
            between,
        } = spec;
        if let Some(between) = between {
            let others = group.is_some()
                || count.is_some()
                || fraction.is_some()
                || spread.is_some()
                || down.is_some();
            if others {
                return Err("an event with `between` takes no field but `at` and `action`".into());
            }
            let action = link_event(action, between)?;
            return Ok(ScenarioEvent { at, action });
        }
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
                ActionKind::Repair | ActionKind::Hold | ActionKind::Release => {
                    return Err(format!("action \"{kind}\" needs `between`"))
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

/// A pairwise link event: `action` between the two groups `between` names.
fn link_event(action: ActionKind, between: Vec<String>) -> Result<Action, String> {
    let verb = match action {
        ActionKind::Partition => LinkVerb::Partition,
        ActionKind::Repair => LinkVerb::Repair,
        ActionKind::Hold => LinkVerb::Hold,
        ActionKind::Release => LinkVerb::Release,
        other => {
            let kind = format!("{other:?}").to_lowercase();
            return Err(format!("action \"{kind}\" does not take `between`"));
        }
    };
    let between: [String; 2] = between
        .try_into()
        .map_err(|_| "`between` names exactly two groups".to_owned())?;
    Ok(Action::Link { verb, between })
}

/// Each event's time and group against the rest of the scenario.
pub(super) fn check_events(scenario: &Scenario) -> Result<(), Invalid> {
    for (i, event) in scenario.events.iter().enumerate() {
        let field = |name: &str| format!("events[{i}].{name}");
        if event.at > scenario.general.stop_time {
            return Err(invalid(field("at"), "is after general.stop_time"));
        }
        let (name, groups) = match &event.action {
            Action::Join { group, .. }
            | Action::Withdraw { group, .. }
            | Action::Crash { group, .. }
            | Action::Partition(PartitionSide::Group(group)) => ("group", vec![group]),
            Action::Link { between, .. } => ("between", between.iter().collect()),
            Action::Partition(PartitionSide::Fraction(_)) | Action::Heal => ("group", vec![]),
        };
        if groups.iter().any(|g| scenario.group_index(g).is_none()) {
            return Err(invalid(field(name), "not the name of a [[routers]] group"));
        }
    }
    Ok(())
}
