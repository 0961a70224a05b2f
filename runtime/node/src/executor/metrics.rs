//! The executor's metrics, in Prometheus text.

use std::fmt::Write as _;

use crate::telemetry::{Counter, Metrics};

/// Counters of the task service.
#[derive(Debug, Default)]
pub(crate) struct ExecutorMetrics {
    pub(crate) tasks_received: Counter,
    pub(crate) tasks_completed: Counter,
    pub(crate) tasks_refused: Counter,
}

impl Metrics for ExecutorMetrics {
    fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, counter) in [
            (
                "ponos_executor_tasks_received_total",
                "Tasks received from aggregators.",
                &self.tasks_received,
            ),
            (
                "ponos_executor_tasks_completed_total",
                "Tasks run and signed.",
                &self.tasks_completed,
            ),
            (
                "ponos_executor_tasks_refused_total",
                "Tasks refused or failed.",
                &self.tasks_refused,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                counter.get()
            );
        }
        out
    }
}
