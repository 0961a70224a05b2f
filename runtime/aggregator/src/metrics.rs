//! The aggregator's metrics: tasks by status, latency per pipeline stage, operator response
//! times, RPC errors and reorgs. Rendered as Prometheus text by the binary.

use std::{collections::BTreeMap, sync::Mutex, time::Duration};

use alloy::primitives::Address;
use ponos_metrics::{Counter, Histogram, header, sample};

/// The stages a task goes through, each timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// From the `TaskCreated` block's timestamp to the aggregator seeing it.
    Discovery,
    /// From seen to a certificate (operator set read, fan-out, threshold).
    Collection,
    /// From certificate to `TaskVerified` in a receipt.
    Submission,
    /// From seen to verified.
    Total,
}

impl Stage {
    const fn name(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::Collection => "collection",
            Self::Submission => "submission",
            Self::Total => "total",
        }
    }
}

/// Every aggregator metric.
#[derive(Debug, Default)]
pub struct AggregatorMetrics {
    /// Tasks found on chain.
    pub tasks_seen: Counter,
    /// Tasks that reached `TaskVerified`.
    pub tasks_verified: Counter,
    /// Tasks that failed.
    pub tasks_failed: Counter,
    /// Tasks whose deadline passed.
    pub tasks_expired: Counter,
    /// Tasks withdrawn by a reorg.
    pub tasks_withdrawn: Counter,
    /// JSON-RPC errors.
    pub rpc_errors: Counter,
    /// Reorgs noticed.
    pub reorgs: Counter,
    /// Operator socket changes seen on L1 that dropped cached operator sets.
    pub socket_changes: Counter,
    /// Operators asked again after an error.
    pub operator_retries: Counter,
    /// `submitResult` transactions broadcast again (recorded before a restart, lost by the
    /// node's pool).
    pub rebroadcasts: Counter,
    /// Broadcasts refused because this instance's lease had lapsed.
    pub sends_fenced: Counter,
    /// Sessions running now.
    pub sessions_running: std::sync::atomic::AtomicI64,
    stages: Mutex<BTreeMap<Stage, Histogram>>,
    operators: Mutex<BTreeMap<Address, OperatorStats>>,
    heads: Mutex<BTreeMap<u64, u64>>,
    subscribed: Mutex<BTreeMap<u64, bool>>,
}

#[derive(Debug, Default)]
struct OperatorStats {
    valid: Counter,
    invalid: Counter,
    latency: Histogram,
}

impl AggregatorMetrics {
    /// Records how long a stage took.
    pub fn stage(&self, stage: Stage, elapsed: Duration) {
        self.stages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(stage)
            .or_default()
            .observe(elapsed);
    }

    /// Records one operator's answer.
    pub fn operator_answer(&self, operator: Address, elapsed: Duration, valid: bool) {
        let mut operators = self.operators.lock().unwrap_or_else(|e| e.into_inner());
        let stats = operators.entry(operator).or_default();
        stats.latency.observe(elapsed);
        if valid {
            stats.valid.inc();
        } else {
            stats.invalid.inc();
        }
    }

    /// Records the last block scanned on a chain.
    pub fn chain_head(&self, chain_id: u64, block: u64) {
        self.heads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(chain_id, block);
    }

    /// Records whether a chain's new-head subscription (WebSocket) stands.
    pub fn heads_subscribed(&self, chain_id: u64, live: bool) {
        self.subscribed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(chain_id, live);
    }

    /// The Prometheus text, with the current number of tasks in each status.
    pub fn render(&self, tasks_by_status: &BTreeMap<&'static str, u64>) -> String {
        let mut out = String::new();
        header(
            &mut out,
            "ponos_aggregator_tasks",
            "gauge",
            "Tasks in the store, by status.",
        );
        for (status, n) in tasks_by_status {
            sample(
                &mut out,
                "ponos_aggregator_tasks",
                &format!("status=\"{status}\""),
                n,
            );
        }
        for (name, help, counter) in [
            (
                "ponos_aggregator_tasks_seen_total",
                "Tasks found on chain.",
                &self.tasks_seen,
            ),
            (
                "ponos_aggregator_tasks_verified_total",
                "Tasks verified on chain.",
                &self.tasks_verified,
            ),
            (
                "ponos_aggregator_tasks_failed_total",
                "Tasks that failed.",
                &self.tasks_failed,
            ),
            (
                "ponos_aggregator_tasks_expired_total",
                "Tasks whose deadline passed.",
                &self.tasks_expired,
            ),
            (
                "ponos_aggregator_tasks_withdrawn_total",
                "Tasks withdrawn by a reorg.",
                &self.tasks_withdrawn,
            ),
            (
                "ponos_aggregator_rpc_errors_total",
                "JSON-RPC errors.",
                &self.rpc_errors,
            ),
            (
                "ponos_aggregator_socket_changes_total",
                "Operator socket changes seen on L1 that dropped cached operator sets.",
                &self.socket_changes,
            ),
            (
                "ponos_aggregator_operator_retries_total",
                "Operators asked again after an error.",
                &self.operator_retries,
            ),
            (
                "ponos_aggregator_rebroadcasts_total",
                "submitResult transactions broadcast again after the node lost them.",
                &self.rebroadcasts,
            ),
            (
                "ponos_aggregator_sends_fenced_total",
                "Broadcasts refused because this instance's lease had lapsed (a standby took over).",
                &self.sends_fenced,
            ),
            (
                "ponos_aggregator_reorgs_total",
                "Reorgs noticed.",
                &self.reorgs,
            ),
        ] {
            header(&mut out, name, "counter", help);
            sample(&mut out, name, "", counter.get());
        }
        header(
            &mut out,
            "ponos_aggregator_sessions_running",
            "gauge",
            "Task sessions running now.",
        );
        sample(
            &mut out,
            "ponos_aggregator_sessions_running",
            "",
            self.sessions_running
                .load(std::sync::atomic::Ordering::Relaxed),
        );
        header(
            &mut out,
            "ponos_aggregator_chain_block",
            "gauge",
            "Last block scanned, per chain.",
        );
        for (chain, block) in self.heads.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            sample(
                &mut out,
                "ponos_aggregator_chain_block",
                &format!("chain=\"{chain}\""),
                block,
            );
        }
        header(
            &mut out,
            "ponos_aggregator_chain_heads_subscribed",
            "gauge",
            "1 while a chain's new-head subscription (ws_url) stands, 0 while it polls instead.",
        );
        for (chain, live) in self
            .subscribed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            sample(
                &mut out,
                "ponos_aggregator_chain_heads_subscribed",
                &format!("chain=\"{chain}\""),
                u8::from(*live),
            );
        }
        header(
            &mut out,
            "ponos_aggregator_stage_duration_seconds",
            "histogram",
            "Time per pipeline stage (discovery, collection, submission, total).",
        );
        for (stage, histogram) in self.stages.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            histogram.render(
                &mut out,
                "ponos_aggregator_stage_duration_seconds",
                &format!("stage=\"{}\"", stage.name()),
            );
        }
        let operators = self.operators.lock().unwrap_or_else(|e| e.into_inner());
        header(
            &mut out,
            "ponos_aggregator_operator_answers_total",
            "counter",
            "Operator answers, by validity.",
        );
        for (operator, stats) in operators.iter() {
            for (valid, counter) in [("true", &stats.valid), ("false", &stats.invalid)] {
                sample(
                    &mut out,
                    "ponos_aggregator_operator_answers_total",
                    &format!("operator=\"{operator:#x}\",valid=\"{valid}\""),
                    counter.get(),
                );
            }
        }
        header(
            &mut out,
            "ponos_aggregator_operator_response_seconds",
            "histogram",
            "Operator response times.",
        );
        for (operator, stats) in operators.iter() {
            stats.latency.render(
                &mut out,
                "ponos_aggregator_operator_response_seconds",
                &format!("operator=\"{operator:#x}\""),
            );
        }
        out
    }
}
