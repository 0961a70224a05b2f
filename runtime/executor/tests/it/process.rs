//! Performers as native processes.

use std::time::Duration;

use ponos_executor::{performer::PerformerClient, process::PerformerProcess};

use crate::square_binary;

#[tokio::test(flavor = "multi_thread")]
async fn native_process_serves_tasks_and_dies_when_killed() {
    let mut process = PerformerProcess::start(square_binary().await, &[]).unwrap();
    let mut client = PerformerClient::connect(process.port(), Duration::from_secs(30))
        .await
        .unwrap();
    let result = client
        .execute("0x01", b"9".to_vec(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(result, b"81");
    assert!(process.is_running());
    process.kill().await.unwrap();
    assert!(!process.is_running());
}
