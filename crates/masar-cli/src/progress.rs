//! A progress bar on the terminal for long sync steps; nothing on a pipe or with `--json`,
//! so that scripts read exactly what they read before.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use masar_core::{SyncProgress, SyncStage};

/// The bar of one command: one line per step, drawn on stderr.
pub struct Bar {
    bar: Option<ProgressBar>,
    stage: Option<SyncStage>,
}

impl Bar {
    /// A bar shown only when stderr is a terminal and the output is not JSON.
    pub fn new(json: bool) -> Bar {
        let shown = !json && std::io::stderr().is_terminal();
        Bar {
            bar: shown.then(|| ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())),
            stage: None,
        }
    }

    /// Moves the bar; a new step starts a new line.
    pub fn tell(&mut self, p: SyncProgress) {
        let Some(bar) = &self.bar else { return };
        if self.stage != Some(p.stage) {
            if self.stage.is_some() {
                bar.finish();
                self.bar = Some(ProgressBar::with_draw_target(
                    None,
                    ProgressDrawTarget::stderr(),
                ));
            }
            self.stage = Some(p.stage);
            let what = match p.stage {
                SyncStage::Reading => "changes read and checked",
                SyncStage::Settling => "records brought up to date",
                SyncStage::Writing => "changes written",
            };
            let style = ProgressStyle::with_template(&format!(
                "{{bar:30}} {{pos}}/{{len}} {what} ({{eta}} left)"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            if let Some(bar) = &self.bar {
                bar.set_style(style);
            }
        }
        if let Some(bar) = &self.bar {
            bar.set_length(p.total);
            bar.set_position(p.done);
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
