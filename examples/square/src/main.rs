//! Example AVS performer: squares the number in each task. See README.md.

use ponos_performer::{Performer, PerformerError, ServeError, Task, env};

/// Squares a decimal number.
struct Square;

impl Square {
    fn parse(payload: &[u8]) -> Result<u64, PerformerError> {
        let text = std::str::from_utf8(payload)
            .map_err(|_| PerformerError::InvalidTask("the payload is not UTF-8".into()))?;
        text.trim().parse().map_err(|_| {
            PerformerError::InvalidTask(format!("{text:?} is not a number from 0 to 2^64 - 1"))
        })
    }
}

impl Performer for Square {
    fn validate_task(&self, task: &Task) -> Result<(), PerformerError> {
        Self::parse(&task.payload).map(drop)
    }

    async fn handle_task(&self, task: Task) -> Result<Vec<u8>, PerformerError> {
        let n = u128::from(Self::parse(&task.payload)?);
        Ok((n * n).to_string().into_bytes())
    }
}

#[tokio::main]
async fn main() -> Result<(), ServeError> {
    ponos_performer::serve(env::listen_addr()?, Square).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(payload: &str) -> Task {
        Task {
            task_id: "0x01".into(),
            payload: payload.as_bytes().to_vec(),
        }
    }

    #[tokio::test]
    async fn squares_and_refuses_non_numbers() {
        assert_eq!(Square.handle_task(task("12")).await.unwrap(), b"144");
        assert_eq!(
            Square
                .handle_task(task("18446744073709551615"))
                .await
                .unwrap(),
            b"340282366920938463426481119284349108225"
        );
        assert!(matches!(
            Square.validate_task(&task("twelve")),
            Err(PerformerError::InvalidTask(_))
        ));
        assert!(Square.validate_task(&task("-1")).is_err());
    }
}
