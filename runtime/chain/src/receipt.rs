//! Receipts of transactions just sent.

use std::time::Duration;

use alloy::{
    network::Network,
    providers::{PendingTransactionBuilder, PendingTransactionError, Provider as _},
};

/// The receipt of a transaction just sent: read at once (a development chain that mines on
/// arrival has it already), then asked for again with backoff (5 ms doubling to 1 s) until it
/// is mined. Unlike alloy's `get_receipt`, this leaves no block poller running behind it.
pub async fn receipt_of<N: Network>(
    pending: PendingTransactionBuilder<N>,
) -> Result<N::ReceiptResponse, PendingTransactionError> {
    use backon::BackoffBuilder as _;
    let hash = *pending.tx_hash();
    let provider = pending.provider();
    let mut waits = backon::ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(5))
        .with_max_delay(Duration::from_secs(1))
        .without_max_times()
        .build();
    loop {
        if let Some(receipt) = provider.get_transaction_receipt(hash).await? {
            return Ok(receipt);
        }
        tokio::time::sleep(waits.next().unwrap_or(Duration::from_secs(1))).await;
    }
}
