//! Performers in Docker containers: bridge networking with the performer's container port
//! published on a free loopback port (or host networking on a loopback port), memory and CPU
//! limits, environment, and Ponos labels so an executor restart can find its containers again.

mod image;

pub use bollard::Docker;
pub use image::{
    build_image, build_static_binary, built_binary, static_binary_path, static_build_command,
};

use std::collections::HashMap;

use bollard::{
    auth::DockerCredentials,
    models::{ContainerCreateBody, DeviceRequest, HostConfig, PortBinding},
    query_parameters::{
        CreateContainerOptionsBuilder, CreateImageOptionsBuilder, InspectContainerOptions,
        KillContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    },
};
use tokio_stream::StreamExt as _;
use tracing::info;

use crate::{ExecutorError, performer::free_port};

/// The label every Ponos performer container carries.
pub const LABEL: &str = "build.ponos.performer";

/// Connects to the local Docker daemon (or `DOCKER_HOST`) and negotiates the API version, so
/// daemons older than this client (API 1.41 and up) work.
pub async fn connect() -> Result<Docker, ExecutorError> {
    let docker = Docker::connect_with_defaults().map_err(|source| ExecutorError::Docker {
        context: "connecting".into(),
        source,
    })?;
    docker
        .negotiate_version()
        .await
        .map_err(|source| ExecutorError::Docker {
            context: "negotiating the API version".into(),
            source,
        })
}

/// The port a performer listens on inside its container when neither the config nor the image
/// names one: what Hourglass's performers use.
pub const DEFAULT_CONTAINER_PORT: u16 = 8080;

/// How a performer container is networked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerNetwork {
    /// Docker's bridge network. The performer listens on `0.0.0.0:<container port>` inside its
    /// container, and that port is published on `127.0.0.1:<free port>` of the host, which the
    /// executor dials. The container port is the one given, else the one TCP port the image
    /// declares (`EXPOSE`), else [`DEFAULT_CONTAINER_PORT`]. Any number of performers on one
    /// fixed port run side by side.
    Bridge {
        /// The port the performer listens on inside the container.
        container_port: Option<u16>,
    },
    /// The host's network: the performer listens on `127.0.0.1:$PERFORMER_PORT`, a free port
    /// the executor picks. For performers that must reach services on the host's loopback.
    Host,
}

impl Default for ContainerNetwork {
    /// Bridge networking on the image's port.
    fn default() -> Self {
        Self::Bridge {
            container_port: None,
        }
    }
}

/// How to run a performer container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    /// The image reference.
    pub image: String,
    /// Extra environment (`PERFORMER_PORT` and `GRPC_PORT` are always set).
    pub env: Vec<(String, String)>,
    /// Bridge or host networking.
    pub network: ContainerNetwork,
    /// Memory limit in bytes.
    pub memory_bytes: Option<i64>,
    /// CPU limit in CPUs (e.g. 0.5).
    pub cpus: Option<f64>,
    /// The performer id, recorded as a label.
    pub performer_id: String,
    /// GPUs to request: `None` for none, `Some(None)` for all, `Some(Some(n))` for `n`.
    pub gpus: Option<Option<u32>>,
    /// Credentials for pulling the image from a private registry.
    pub registry_auth: Option<RegistryAuth>,
}

/// Credentials for a private registry.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    /// The registry, e.g. `ghcr.io`.
    pub server: String,
    /// The user name.
    pub username: String,
    /// The password or token.
    pub password: String,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("server", &self.server)
            .field("username", &self.username)
            .finish()
    }
}

impl ContainerSpec {
    /// A container of `image` with no limits.
    pub fn new(image: impl Into<String>) -> Self {
        Self {
            image: image.into(),
            env: Vec::new(),
            network: ContainerNetwork::default(),
            memory_bytes: None,
            cpus: None,
            performer_id: String::new(),
            gpus: None,
            registry_auth: None,
        }
    }

    /// The GPU device request of this spec.
    fn device_requests(&self) -> Option<Vec<DeviceRequest>> {
        let count = self.gpus?;
        Some(vec![DeviceRequest {
            driver: Some("nvidia".into()),
            count: Some(count.map_or(-1, i64::from)),
            capabilities: Some(vec![vec!["gpu".into()]]),
            ..Default::default()
        }])
    }
}

/// Pulls `spec.image` unless it is already present, with the spec's registry credentials.
pub async fn ensure_image(docker: &Docker, spec: &ContainerSpec) -> Result<(), ExecutorError> {
    if docker.inspect_image(&spec.image).await.is_ok() {
        return Ok(());
    }
    let credentials = spec.registry_auth.as_ref().map(|auth| DockerCredentials {
        username: Some(auth.username.clone()),
        password: Some(auth.password.clone()),
        serveraddress: Some(auth.server.clone()),
        ..Default::default()
    });
    let options = CreateImageOptionsBuilder::default()
        .from_image(&spec.image)
        .build();
    let mut pull = docker.create_image(Some(options), None, credentials);
    while let Some(step) = pull.next().await {
        step.map_err(|source| ExecutorError::Docker {
            context: format!("pulling {}", spec.image),
            source,
        })?;
    }
    Ok(())
}

/// A started performer container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningContainer {
    id: String,
    port: u16,
}

/// The running container of `performer_id` left by an earlier executor, if any: containers
/// keep running when the executor restarts, and are adopted rather than started again.
pub async fn find_running(
    docker: &Docker,
    performer_id: &str,
) -> Result<Option<RunningContainer>, ExecutorError> {
    if performer_id.is_empty() {
        return Ok(None);
    }
    let filters = HashMap::from([
        ("label", vec![format!("{LABEL}.id={performer_id}")]),
        ("status", vec!["running".to_string()]),
    ]);
    let containers = list(docker, &filters, false).await?;
    Ok(containers.into_iter().find_map(|c| {
        let port = c
            .labels
            .as_ref()?
            .get(&format!("{LABEL}.port"))?
            .parse()
            .ok()?;
        Some(RunningContainer { id: c.id?, port })
    }))
}

/// The containers that match `filters`, stopped ones too when `all`.
async fn list(
    docker: &Docker,
    filters: &HashMap<&str, Vec<String>>,
    all: bool,
) -> Result<Vec<bollard::models::ContainerSummary>, ExecutorError> {
    use bollard::query_parameters::ListContainersOptionsBuilder;
    let options = ListContainersOptionsBuilder::default()
        .all(all)
        .filters(filters)
        .build();
    docker
        .list_containers(Some(options))
        .await
        .map_err(|source| ExecutorError::Docker {
            context: "listing performer containers".into(),
            source,
        })
}

/// Removes every performer container (running or not) whose performer id starts with
/// `prefix`: what a killed process that started them left behind. Returns how many.
pub async fn remove_by_id_prefix(docker: &Docker, prefix: &str) -> Result<usize, ExecutorError> {
    let filters = HashMap::from([("label", vec![LABEL.to_string()])]);
    let containers = list(docker, &filters, true).await?;
    let mut removed = 0;
    for container in containers {
        let matches = container
            .labels
            .as_ref()
            .and_then(|labels| labels.get(&format!("{LABEL}.id")))
            .is_some_and(|id| id.starts_with(prefix));
        if let (true, Some(id)) = (matches, container.id) {
            let options = RemoveContainerOptionsBuilder::default().force(true).build();
            docker
                .remove_container(&id, Some(options))
                .await
                .map_err(|source| ExecutorError::Docker {
                    context: format!("removing {id}"),
                    source,
                })?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The port the performer of `image` listens on inside its container: the one TCP port the
/// image declares, else [`DEFAULT_CONTAINER_PORT`].
async fn image_port(docker: &Docker, image: &str) -> Result<u16, ExecutorError> {
    let info = docker
        .inspect_image(image)
        .await
        .map_err(|source| ExecutorError::Docker {
            context: format!("inspecting {image}"),
            source,
        })?;
    let declared: Vec<u16> = info
        .config
        .and_then(|c| c.exposed_ports)
        .into_iter()
        .flatten()
        .filter_map(|port| port.strip_suffix("/tcp")?.parse().ok())
        .collect();
    Ok(match declared.as_slice() {
        [only] => *only,
        _ => DEFAULT_CONTAINER_PORT,
    })
}

/// Creates and starts a performer container, reachable on a free loopback port.
pub async fn start(
    docker: &Docker,
    spec: ContainerSpec,
) -> Result<RunningContainer, ExecutorError> {
    let port = free_port()?;
    let mut env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let has = |name: &str| spec.env.iter().any(|(k, _)| k == name);
    let (network_mode, listen_port, port_bindings, exposed_ports) = match spec.network {
        ContainerNetwork::Host => ("host", port, None, None),
        ContainerNetwork::Bridge { container_port } => {
            let inside = match container_port {
                Some(inside) => inside,
                None => image_port(docker, &spec.image).await?,
            };
            let key = format!("{inside}/tcp");
            let binding = PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(port.to_string()),
            };
            if !has("PERFORMER_ADDR") {
                // Ponos's performer SDK listens here; other performers ignore it.
                env.push(format!("PERFORMER_ADDR=0.0.0.0:{inside}"));
            }
            (
                "bridge",
                inside,
                Some(HashMap::from([(key.clone(), Some(vec![binding]))])),
                Some(vec![key]),
            )
        }
    };
    for name in ["PERFORMER_PORT", "GRPC_PORT"] {
        if !has(name) {
            env.push(format!("{name}={listen_port}"));
        }
    }
    let labels = HashMap::from([
        (LABEL.to_string(), "true".to_string()),
        (format!("{LABEL}.id"), spec.performer_id.clone()),
        (format!("{LABEL}.port"), port.to_string()),
    ]);
    let host_config = HostConfig {
        network_mode: Some(network_mode.into()),
        port_bindings,
        memory: spec.memory_bytes,
        // Without swap the memory limit is a hard limit.
        memory_swap: spec.memory_bytes,
        nano_cpus: spec.cpus.map(|c| (c * 1e9) as i64),
        device_requests: spec.device_requests(),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        env: Some(env),
        labels: Some(labels),
        exposed_ports,
        host_config: Some(host_config),
        ..Default::default()
    };
    let created = docker
        .create_container(Some(CreateContainerOptionsBuilder::default().build()), body)
        .await
        .map_err(|source| ExecutorError::Docker {
            context: format!("creating a container of {}", spec.image),
            source,
        })?;
    if let Err(source) = docker.start_container(&created.id, None).await {
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        let _ = docker.remove_container(&created.id, Some(options)).await;
        return Err(ExecutorError::Docker {
            context: format!("starting container {}", created.id),
            source,
        });
    }
    tokio::spawn(forward_logs(docker.clone(), created.id.clone(), port));
    Ok(RunningContainer {
        id: created.id,
        port,
    })
}

/// Forwards what the container on `port` writes into the executor's log, a line per event
/// (target `ponos::performer`, as for process performers), until the container stops.
async fn forward_logs(docker: Docker, id: String, port: u16) {
    let options = LogsOptionsBuilder::default()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .build();
    let mut output = docker.logs(&id, Some(options));
    while let Some(Ok(chunk)) = output.next().await {
        let (stream, message) = match chunk {
            bollard::container::LogOutput::StdErr { message } => ("stderr", message),
            bollard::container::LogOutput::StdOut { message }
            | bollard::container::LogOutput::Console { message } => ("stdout", message),
            bollard::container::LogOutput::StdIn { .. } => continue,
        };
        for line in String::from_utf8_lossy(&message).lines() {
            info!(target: "ponos::performer", port, stream, "{line}");
        }
    }
}

impl RunningContainer {
    /// The container id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The loopback port the performer serves on.
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// Whether the container is running, and whether it was killed for running out of memory.
    pub async fn state(&self, docker: &Docker) -> Result<(bool, bool), ExecutorError> {
        let info = docker
            .inspect_container(&self.id, None::<InspectContainerOptions>)
            .await
            .map_err(|source| ExecutorError::Docker {
                context: format!("inspecting {}", self.id),
                source,
            })?;
        let state = info.state.unwrap_or_default();
        Ok((
            state.running.unwrap_or(false),
            state.oom_killed.unwrap_or(false),
        ))
    }

    /// The last `lines` lines the performer wrote (stdout and stderr).
    pub async fn logs(&self, docker: &Docker, lines: usize) -> Result<String, ExecutorError> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = docker.logs(&self.id, Some(options));
        let mut out = String::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|source| ExecutorError::Docker {
                context: format!("reading logs of {}", self.id),
                source,
            })?;
            out.push_str(&chunk.to_string());
        }
        Ok(out)
    }

    /// Kills the container (SIGKILL).
    pub async fn kill(&self, docker: &Docker) -> Result<(), ExecutorError> {
        docker
            .kill_container(
                &self.id,
                Some(
                    KillContainerOptionsBuilder::default()
                        .signal("SIGKILL")
                        .build(),
                ),
            )
            .await
            .map_err(|source| ExecutorError::Docker {
                context: format!("killing {}", self.id),
                source,
            })
    }

    /// Stops and removes the container.
    pub async fn remove(&self, docker: &Docker) -> Result<(), ExecutorError> {
        docker
            .remove_container(
                &self.id,
                Some(RemoveContainerOptionsBuilder::default().force(true).build()),
            )
            .await
            .map_err(|source| ExecutorError::Docker {
                context: format!("removing {}", self.id),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_requests() {
        let mut spec = ContainerSpec::new("x");
        assert_eq!(spec.device_requests(), None);
        spec.gpus = Some(None);
        assert_eq!(
            spec.device_requests().unwrap()[0].count,
            Some(-1),
            "all GPUs"
        );
        spec.gpus = Some(Some(2));
        let request = &spec.device_requests().unwrap()[0];
        assert_eq!(request.count, Some(2));
        assert_eq!(request.capabilities, Some(vec![vec!["gpu".to_string()]]));
    }

    #[test]
    fn registry_passwords_are_not_printed() {
        let auth = RegistryAuth {
            server: "ghcr.io".into(),
            username: "op".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{auth:?}").contains("hunter2"));
    }
}
