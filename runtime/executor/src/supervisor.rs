//! Keeps an AVS's performer alive: starts it (a Docker container or a native process), watches
//! its health, restarts it with backoff when it dies or stops answering, and upgrades it
//! blue/green (the new instance serves before the old one stops; tasks in flight on the old one
//! finish first).

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bollard::Docker;
use tokio::sync::{Mutex, Notify, RwLock, watch};
use tracing::{info, warn};

use crate::{
    ExecutorError,
    docker::{self, ContainerSpec, RunningContainer},
    performer::PerformerClient,
    process::PerformerProcess,
};

/// How to start a performer.
#[derive(Debug, Clone)]
pub enum Launch {
    /// A Docker container.
    Docker {
        /// The daemon.
        docker: Docker,
        /// The container.
        spec: Box<ContainerSpec>,
    },
    /// A native process.
    Process {
        /// The binary.
        binary: PathBuf,
        /// Extra environment.
        env: Vec<(String, String)>,
    },
}

/// Timing of health checks and restarts.
#[derive(Debug, Clone, Copy)]
pub struct SupervisorConfig {
    /// Time between health checks.
    pub health_interval: Duration,
    /// How long a new instance may take to become healthy.
    pub start_timeout: Duration,
    /// Consecutive failed health checks before a restart.
    pub failure_threshold: u32,
    /// First restart delay; doubles on each failed restart.
    pub backoff_initial: Duration,
    /// Longest restart delay.
    pub backoff_max: Duration,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            health_interval: Duration::from_secs(5),
            start_timeout: Duration::from_secs(60),
            failure_threshold: 3,
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
        }
    }
}

enum Instance {
    Container {
        docker: Docker,
        container: RunningContainer,
    },
    Process(Mutex<PerformerProcess>),
}

impl Instance {
    async fn start(launch: &Launch) -> Result<Self, ExecutorError> {
        match launch {
            Launch::Docker { docker, spec } => {
                let container = docker::start(docker, (**spec).clone()).await?;
                Ok(Self::Container {
                    docker: docker.clone(),
                    container,
                })
            }
            Launch::Process { binary, env } => Ok(Self::Process(Mutex::new(
                PerformerProcess::start(binary, env)?,
            ))),
        }
    }

    async fn port(&self) -> u16 {
        match self {
            Self::Container { container, .. } => container.port(),
            Self::Process(process) => process.lock().await.port(),
        }
    }

    async fn is_alive(&self) -> bool {
        match self {
            Self::Container { docker, container } => container
                .state(docker)
                .await
                .is_ok_and(|(running, _)| running),
            Self::Process(process) => process.lock().await.is_running(),
        }
    }

    /// Whether the instance died of running out of memory.
    async fn out_of_memory(&self) -> bool {
        match self {
            Self::Container { docker, container } => {
                container.state(docker).await.is_ok_and(|(_, oom)| oom)
            }
            Self::Process(_) => false,
        }
    }

    async fn stop(&self) {
        let result = match self {
            Self::Container { docker, container } => container.remove(docker).await,
            Self::Process(process) => process.lock().await.kill().await,
        };
        if let Err(error) = result {
            warn!(target: "ponos::executor", %error, "stopping a performer instance");
        }
    }
}

/// One running instance and the tasks in flight on it.
struct Slot {
    instance: Instance,
    client: PerformerClient,
    in_flight: AtomicUsize,
    idle: Notify,
}

impl Slot {
    async fn drain_and_stop(&self) {
        while self.in_flight.load(Ordering::SeqCst) > 0 {
            let idle = self.idle.notified();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                break;
            }
            idle.await;
        }
        self.instance.stop().await;
    }
}

struct InFlight<'a>(&'a Slot);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// What happened to the supervised performer, for tests, metrics and `ListPerformers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SupervisorStatus {
    /// Instances started so far (the first start, restarts and upgrades).
    pub generation: u64,
    /// Restarts after a failure.
    pub restarts: u64,
    /// Restarts whose cause was running out of memory.
    pub out_of_memory: u64,
}

struct Shared {
    launch: RwLock<Launch>,
    current: RwLock<Arc<Slot>>,
    config: SupervisorConfig,
    status: watch::Sender<SupervisorStatus>,
    /// Serialises restarts and upgrades.
    lifecycle: Mutex<()>,
    /// Set by `shutdown`: no more restarts.
    stopped: std::sync::atomic::AtomicBool,
}

/// A supervised performer; cheap to clone. The monitor stops when the last handle is dropped.
#[derive(Clone)]
pub struct Supervisor {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("status", &*self.shared.status.borrow())
            .finish()
    }
}

/// How a slot comes to be: always a new instance, or the running one of an earlier executor
/// when there is one (only when the executor starts; never for upgrades or one-off runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    Fresh,
    AdoptRunning,
}

async fn start_slot(
    launch: &Launch,
    config: &SupervisorConfig,
    how: Start,
) -> Result<Slot, ExecutorError> {
    if let (Launch::Docker { docker, spec }, Start::AdoptRunning) = (launch, how)
        && let Some(container) = docker::find_running(docker, &spec.performer_id).await?
    {
        let instance = Instance::Container {
            docker: docker.clone(),
            container,
        };
        let port = instance.port().await;
        // Adopt it when it answers; otherwise replace it.
        match PerformerClient::connect(port, Duration::from_secs(5)).await {
            Ok(client) => {
                info!(target: "ponos::executor", performer = %spec.performer_id, "adopted the running container");
                return Ok(Slot {
                    instance,
                    client,
                    in_flight: AtomicUsize::new(0),
                    idle: Notify::new(),
                });
            }
            Err(error) => {
                warn!(target: "ponos::executor", %error, "the running container does not answer; replacing it");
                instance.stop().await;
            }
        }
    }
    let instance = Instance::start(launch).await?;
    let port = instance.port().await;
    match PerformerClient::connect(port, config.start_timeout).await {
        Ok(client) => Ok(Slot {
            instance,
            client,
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
        }),
        Err(error) => {
            instance.stop().await;
            Err(error)
        }
    }
}

impl Supervisor {
    /// Starts the performer, waits until it is healthy, and starts watching it.
    pub async fn start(launch: Launch, config: SupervisorConfig) -> Result<Self, ExecutorError> {
        let slot = start_slot(&launch, &config, Start::AdoptRunning).await?;
        let (status, _) = watch::channel(SupervisorStatus {
            generation: 1,
            ..Default::default()
        });
        let shared = Arc::new(Shared {
            launch: RwLock::new(launch),
            current: RwLock::new(Arc::new(slot)),
            config,
            status,
            lifecycle: Mutex::new(()),
            stopped: std::sync::atomic::AtomicBool::new(false),
        });
        tokio::spawn(monitor(Arc::downgrade(&shared)));
        Ok(Self { shared })
    }

    /// Runs a task on the current instance.
    pub async fn execute(
        &self,
        task_id: &str,
        payload: Vec<u8>,
        deadline: Duration,
    ) -> Result<Vec<u8>, ExecutorError> {
        let slot = self.shared.current.read().await.clone();
        slot.in_flight.fetch_add(1, Ordering::SeqCst);
        let _guard = InFlight(&slot);
        let mut client = slot.client.clone();
        client.execute(task_id, payload, deadline).await
    }

    /// Changes see what happened (restarts, upgrades).
    pub fn status(&self) -> watch::Receiver<SupervisorStatus> {
        self.shared.status.subscribe()
    }

    /// The port of the instance serving now.
    pub async fn port(&self) -> u16 {
        self.shared.current.read().await.client.port()
    }

    /// Blue/green upgrade: starts `launch`, switches new tasks to it once healthy, then lets the
    /// old instance finish its tasks and stops it. On failure the old instance keeps serving.
    pub async fn upgrade(&self, launch: Launch) -> Result<(), ExecutorError> {
        let _lifecycle = self.shared.lifecycle.lock().await;
        let slot = Arc::new(start_slot(&launch, &self.shared.config, Start::Fresh).await?);
        *self.shared.launch.write().await = launch;
        let old = std::mem::replace(&mut *self.shared.current.write().await, slot);
        self.shared.status.send_modify(|s| s.generation += 1);
        info!(target: "ponos::executor", "performer upgraded; draining the old instance");
        old.drain_and_stop().await;
        Ok(())
    }

    /// Kills the current instance at once, as a crash would (tasks in flight fail); the monitor
    /// then restarts it. For a performer that is stuck.
    pub async fn kill(&self) -> Result<(), ExecutorError> {
        let slot = self.shared.current.read().await.clone();
        match &slot.instance {
            Instance::Container { docker, container } => container.kill(docker).await,
            Instance::Process(process) => process.lock().await.kill().await,
        }
    }

    /// Stops watching, and stops the current instance after its tasks finish.
    pub async fn shutdown(self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        let _lifecycle = self.shared.lifecycle.lock().await;
        let slot = self.shared.current.read().await.clone();
        slot.drain_and_stop().await;
    }
}

/// Runs one task in a fresh instance (a one-off performer, for AVSs whose work is a batch job):
/// starts it, waits until healthy, runs the task under `deadline`, and removes the instance
/// whatever happened. A container killed for exceeding its memory limit is reported as such.
pub async fn run_one_off(
    launch: &Launch,
    start_timeout: Duration,
    task_id: &str,
    payload: Vec<u8>,
    deadline: Duration,
) -> Result<Vec<u8>, ExecutorError> {
    let config = SupervisorConfig {
        start_timeout,
        ..SupervisorConfig::default()
    };
    let slot = start_slot(launch, &config, Start::Fresh).await?;
    let result = slot
        .client
        .clone()
        .execute(task_id, payload, deadline)
        .await;
    let result = match result {
        // Only a performer that broke mid-call can have died; a refused or late task leaves it
        // running, and waiting for it to stop would only delay the answer.
        Err(error) if performer_broke(&error) => match death(&slot.instance).await {
            Some(Death::OutOfMemory) => {
                let limit_bytes = match launch {
                    Launch::Docker { spec, .. } => spec.memory_bytes.unwrap_or_default(),
                    Launch::Process { .. } => 0,
                };
                warn!(target: "ponos::executor", %error, "one-off performer ran out of memory");
                Err(ExecutorError::OutOfMemory { limit_bytes })
            }
            Some(Death::Exited { binary, status }) => {
                warn!(target: "ponos::executor", %error, %status, "one-off performer exited during its task");
                Err(ExecutorError::Process {
                    binary,
                    reason: format!("exited during task {task_id} ({status})"),
                })
            }
            None => Err(error),
        },
        other => other,
    };
    slot.instance.stop().await;
    result
}

/// Whether a failed call means the performer itself went away.
fn performer_broke(error: &ExecutorError) -> bool {
    !matches!(
        error,
        ExecutorError::Task {
            code: "refused the task",
            ..
        } | ExecutorError::DeadlineExceeded(_)
            | ExecutorError::WrongTaskId { .. }
    )
}

/// How an instance that broke mid-call died.
enum Death {
    /// The container was killed for exceeding its memory limit.
    OutOfMemory,
    /// The process exited.
    Exited { binary: String, status: String },
}

/// Whether and how the instance died. The kernel may still be killing a container when the call
/// fails: wait (bounded) for it to stop, then read its state. A process that closed the call by
/// exiting has exited by the time the call fails; one still running a moment later failed the
/// task itself. `None` while it runs.
async fn death(instance: &Instance) -> Option<Death> {
    match instance {
        Instance::Container { docker, container } => {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            while tokio::time::Instant::now() < deadline {
                match container.state(docker).await {
                    Ok((false, oom)) => return oom.then_some(Death::OutOfMemory),
                    Ok((true, _)) => tokio::time::sleep(Duration::from_millis(100)).await,
                    Err(_) => return None,
                }
            }
            None
        }
        Instance::Process(process) => {
            let mut process = process.lock().await;
            let status = process.exited_within(Duration::from_millis(500)).await?;
            Some(Death::Exited {
                binary: process.binary().display().to_string(),
                status: status.to_string(),
            })
        }
    }
}

/// Restarts the instance when it dies or fails `failure_threshold` health checks in a row.
async fn monitor(shared: std::sync::Weak<Shared>) {
    let mut failures = 0;
    loop {
        let Some(interval) = shared.upgrade().map(|s| s.config.health_interval) else {
            return;
        };
        tokio::time::sleep(interval).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let slot = shared.current.read().await.clone();
        let alive = slot.instance.is_alive().await;
        let healthy = alive
            && slot
                .client
                .clone()
                .check(Duration::from_secs(1))
                .await
                .is_ok();
        if healthy {
            failures = 0;
            continue;
        }
        failures += 1;
        if alive && failures < shared.config.failure_threshold {
            continue;
        }
        failures = 0;
        restart(&shared, &slot).await;
    }
}

async fn restart(shared: &Shared, failed: &Arc<Slot>) {
    let _lifecycle = shared.lifecycle.lock().await;
    if shared.stopped.load(Ordering::SeqCst)
        || !Arc::ptr_eq(&shared.current.read().await.clone(), failed)
    {
        return; // shut down or upgraded meanwhile
    }
    let oom = failed.instance.out_of_memory().await;
    let last_logs = match &failed.instance {
        Instance::Container { docker, container } => {
            container.logs(docker, 50).await.unwrap_or_default()
        }
        Instance::Process(_) => String::new(),
    };
    warn!(target: "ponos::executor", out_of_memory = oom, %last_logs, "performer unhealthy; restarting");
    failed.instance.stop().await;
    use backon::BackoffBuilder as _;
    let mut delays = backon::ExponentialBuilder::new()
        .with_min_delay(shared.config.backoff_initial)
        .with_max_delay(shared.config.backoff_max)
        .without_max_times()
        .build();
    loop {
        let launch = shared.launch.read().await.clone();
        match start_slot(&launch, &shared.config, Start::Fresh).await {
            Ok(slot) => {
                *shared.current.write().await = Arc::new(slot);
                shared.status.send_modify(|s| {
                    s.generation += 1;
                    s.restarts += 1;
                    s.out_of_memory += u64::from(oom);
                });
                info!(target: "ponos::executor", "performer restarted");
                return;
            }
            Err(error) => {
                let delay = delays.next().unwrap_or(shared.config.backoff_max);
                warn!(target: "ponos::executor", %error, ?delay, "performer restart failed; retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}
