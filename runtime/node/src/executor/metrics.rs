//! The executor's metrics, in Prometheus text.

use std::{collections::BTreeMap, fmt::Write as _, sync::Mutex, time::Duration};

use crate::telemetry::{Counter, Histogram, Metrics};

/// Counters of the task service, in total and per AVS.
#[derive(Debug, Default)]
pub(crate) struct ExecutorMetrics {
    pub(crate) tasks_received: Counter,
    pub(crate) tasks_completed: Counter,
    pub(crate) tasks_refused: Counter,
    by_avs: Mutex<BTreeMap<String, AvsMetrics>>,
}

#[derive(Debug, Default)]
struct AvsMetrics {
    completed: Counter,
    refused: Counter,
    latency: Histogram,
}

impl ExecutorMetrics {
    /// Records one answered request of `avs` that took `elapsed`.
    pub(crate) fn record(&self, avs: &str, completed: bool, elapsed: Duration) {
        // An unknown or malformed AVS address must not grow the map without bound.
        let key = if avs.len() == 42 && avs.starts_with("0x") {
            avs.to_ascii_lowercase()
        } else {
            "invalid".to_owned()
        };
        let mut by_avs = self.by_avs.lock().unwrap_or_else(|e| e.into_inner());
        if by_avs.len() >= 1024 && !by_avs.contains_key(&key) {
            return;
        }
        let avs = by_avs.entry(key).or_default();
        if completed {
            avs.completed.inc();
            avs.latency.observe(elapsed);
        } else {
            avs.refused.inc();
        }
    }
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
        let by_avs = self.by_avs.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(
            out,
            "# HELP ponos_executor_avs_tasks_total Tasks per AVS and outcome.\n# TYPE ponos_executor_avs_tasks_total counter"
        );
        for (avs, m) in by_avs.iter() {
            for (outcome, counter) in [("completed", &m.completed), ("refused", &m.refused)] {
                let _ = writeln!(
                    out,
                    "ponos_executor_avs_tasks_total{{avs=\"{avs}\",outcome=\"{outcome}\"}} {}",
                    counter.get()
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP ponos_executor_task_duration_seconds Time from request to signed result, per AVS.\n# TYPE ponos_executor_task_duration_seconds histogram"
        );
        for (avs, m) in by_avs.iter() {
            m.latency.render(
                &mut out,
                "ponos_executor_task_duration_seconds",
                &format!("avs=\"{avs}\""),
            );
        }
        out
    }
}
