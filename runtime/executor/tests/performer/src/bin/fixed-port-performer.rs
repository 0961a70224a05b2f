//! A performer shaped like Hourglass's stock ones: it listens on `0.0.0.0:8080` whatever the
//! environment says, and squares a decimal payload.

use ponos_performer::{Performer, PerformerError, ServeError, Task};

struct Square;

impl Performer for Square {
    async fn handle_task(&self, task: Task) -> Result<Vec<u8>, PerformerError> {
        let n: u128 = String::from_utf8_lossy(&task.payload)
            .parse()
            .map_err(|_| PerformerError::InvalidTask("a decimal number expected".into()))?;
        Ok((n * n).to_string().into_bytes())
    }
}

#[tokio::main]
async fn main() -> Result<(), ServeError> {
    ponos_performer::serve(([0, 0, 0, 0], 8080).into(), Square).await
}
