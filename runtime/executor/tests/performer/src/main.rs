//! A performer for the executor's runtime tests. Payloads: `sleep:<ms>` sleeps, `alloc:<MiB>`
//! allocates and touches that much memory, `crash` exits at once; anything else is echoed.
//! With `TEST_PERFORMER_DELAY_MS` set, every task waits that long before it is answered (a slow
//! operator); with `TEST_PERFORMER_TAG` set, echoed payloads come back as `<tag>:<payload>`
//! (which of several performers answered); with `TEST_PERFORMER_LOG` set, each answered task's
//! id is appended to that file as a line, followed by `TEST_PERFORMER_NAME` when set (how often
//! a task ran, and where, across processes).

use std::time::Duration;

use ponos_performer::{Performer, PerformerError, ServeError, Task, env};

struct TestPerformer {
    delay: Duration,
    tag: Option<String>,
    log: Option<std::path::PathBuf>,
    name: String,
}

impl TestPerformer {
    /// Appends `task_id` to the run log: one short write, whole even with other processes
    /// appending to the same file.
    fn log_run(&self, task_id: &str) -> Result<(), PerformerError> {
        use std::io::Write as _;
        let Some(path) = &self.log else { return Ok(()) };
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| {
                file.write_all(format!("{task_id} {}\n", self.name).trim_start().as_bytes())
            })
            .map_err(|e| PerformerError::Failed(format!("writing the run log: {e}")))
    }
}

impl Performer for TestPerformer {
    async fn handle_task(&self, task: Task) -> Result<Vec<u8>, PerformerError> {
        tokio::time::sleep(self.delay).await;
        let text = String::from_utf8_lossy(&task.payload).into_owned();
        let number = |prefix: &str| -> Result<u64, PerformerError> {
            text[prefix.len()..]
                .parse()
                .map_err(|_| PerformerError::InvalidTask(format!("bad number in {text:?}")))
        };
        if text.starts_with("sleep:") {
            tokio::time::sleep(Duration::from_millis(number("sleep:")?)).await;
            return Ok(b"slept".to_vec());
        }
        if text.starts_with("alloc:") {
            let mib = number("alloc:")? as usize;
            let mut blocks = Vec::with_capacity(mib);
            for _ in 0..mib {
                blocks.push(vec![1u8; 1 << 20]);
            }
            let total: usize = blocks.iter().map(|b| b.len()).sum();
            return Ok(total.to_string().into_bytes());
        }
        if text == "crash" {
            std::process::exit(3);
        }
        self.log_run(&task.task_id)?;
        Ok(match &self.tag {
            Some(tag) => [tag.as_bytes(), b":", &task.payload].concat(),
            None => task.payload,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), ServeError> {
    let delay = std::env::var("TEST_PERFORMER_DELAY_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::ZERO, Duration::from_millis);
    let tag = std::env::var("TEST_PERFORMER_TAG").ok();
    let log = std::env::var_os("TEST_PERFORMER_LOG").map(Into::into);
    let name = std::env::var("TEST_PERFORMER_NAME").unwrap_or_default();
    let performer = TestPerformer {
        delay,
        tag,
        log,
        name,
    };
    ponos_performer::serve(env::listen_addr()?, performer).await
}
