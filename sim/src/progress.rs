//! A progress bar for long runs: simulated time done, events per second and resident
//! memory, on stderr when it is a terminal, silent otherwise.

use crate::world::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
    started: std::time::Instant,
}

impl Bar {
    /// A bar over `total` simulated time; hidden unless stderr is a terminal and `show`.
    pub fn new(total: Duration, show: bool) -> Self {
        let target = if show && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr_with_hz(4)
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total.as_secs()), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} sim s  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Self {
            bar,
            started: std::time::Instant::now(),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn update(&mut self, sim_elapsed: Duration, events: u64) {
        if self.bar.is_hidden() {
            return;
        }
        self.bar.set_position(sim_elapsed.as_secs());
        let wall = self.started.elapsed().as_secs_f64().max(1e-9);
        self.bar.set_message(format!(
            "{events} events, {:.0} events/s, {:.1} sim s per s, {} resident",
            events as f64 / wall,
            sim_elapsed.as_secs_f64() / wall,
            crate::memory::gib(crate::memory::resident_bytes()),
        ));
    }
}
