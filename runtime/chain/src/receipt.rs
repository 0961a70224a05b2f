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
    let hash = *pending.tx_hash();
    let provider = pending.provider();
    let mut wait = Duration::from_millis(5);
    loop {
        if let Some(receipt) = provider.get_transaction_receipt(hash).await? {
            return Ok(receipt);
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(1));
    }
}
