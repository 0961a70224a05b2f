//! An executor fleet: three `ponos-executor` processes of one operator, with the same keys,
//! sharing one PostgreSQL store, behind a real HAProxy (TCP mode) at the operator's registered
//! socket. Three more operators run one executor each; the threshold is 100%, so no task
//! verifies without the fleet's answer. The aggregator keeps its state in the same database.
//! The fleet instance serving the aggregator is SIGKILLed mid-burst; then the database is
//! restarted mid-burst. Every task must verify with one mined `submitResult`, and no task may
//! run twice in the fleet's performers.

use std::{
    collections::HashMap,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use alloy::providers::Provider;
use ponos_chain::contracts::TaskMailbox;

use crate::faults::{
    AggregatorToml, Binary, ExecutorToml, LocalChain, WITHIN, bn254_keystore, count_on_chain,
    create_task, deploy_sandbox, ecdsa_keystore, performer, port, project, runtime_binary, sample,
    tail, test_cluster,
};

/// HAProxy in the foreground, stopped when dropped.
struct Haproxy(Child);

impl Haproxy {
    /// TCP mode in front of `backends`, each health-checked every 200 ms; a connection that
    /// cannot reach its server is sent to another.
    fn start(dir: &Path, frontend: u16, backends: &[u16]) -> Self {
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, port)| {
                format!("    server e{i} 127.0.0.1:{port} check inter 200 fall 1 rise 1\n")
            })
            .collect();
        let config = format!(
            "global\n    maxconn 2000\n\
             defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5m\n    \
             timeout server 5m\n    retries 3\n    option redispatch\n\
             frontend executors\n    bind 127.0.0.1:{frontend}\n    default_backend fleet\n\
             backend fleet\n    balance roundrobin\n{servers}"
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let check = Command::new("haproxy")
            .arg("-c")
            .arg("-f")
            .arg(&path)
            .output()
            .expect("haproxy runs (script/setup installs it)");
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("haproxy.log")).unwrap())
            .spawn()
            .unwrap();
        Self(child)
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_executor_fleet_behind_haproxy_on_postgres_survives_a_killed_instance_and_a_database_restart()
 {
    let cluster = test_cluster().await;
    let project = project().await;
    let performer = performer().await;
    let LocalChain {
        anvil,
        url,
        deployer_key,
        creator,
        provider,
    } = LocalChain::start();

    // Operator 0 is the fleet behind HAProxy; operators 1 to 3 run one executor each.
    let frontend = port();
    let fleet_ports: Vec<[u16; 3]> = (0..3).map(|_| [port(), port(), port()]).collect();
    let single_ports: Vec<[u16; 3]> = (0..3).map(|_| [port(), port(), port()]).collect();
    let sockets: Vec<String> = std::iter::once(frontend)
        .chain(single_ports.iter().map(|p| p[0]))
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    let (journal, stack, operators) = deploy_sandbox(
        project,
        &format!("fleet{}", anvil.port()),
        &url,
        deployer_key,
        &sockets,
    );

    let dir = tempfile::tempdir().unwrap();
    let haproxy = Haproxy::start(
        dir.path(),
        frontend,
        &fleet_ports.iter().map(|p| p[0]).collect::<Vec<_>>(),
    );
    let runs = dir.path().join("fleet-runs.log");
    let start_executor = |i: usize, name: String, ports: [u16; 3], store: String, log: bool| {
        let operator = &operators[i];
        let keystore_path = bn254_keystore(dir.path(), &name, operator.signing_key.as_slice());
        let performer_env = if log {
            format!(
                "TEST_PERFORMER_LOG = \"{}\", TEST_PERFORMER_NAME = \"{name}\"",
                runs.display()
            )
        } else {
            String::new()
        };
        let config = ExecutorToml {
            address: operator.address,
            keystore: &keystore_path,
            password_env: "FLEET_PASSWORD",
            ports,
            store,
            url: &url,
            stack: &stack,
            avs: journal.deployer,
            performer,
            performer_env,
        };
        config.binary(dir.path(), &name)
    };
    let mut fleet: Vec<Binary> = fleet_ports
        .iter()
        .enumerate()
        .map(|(j, ports)| {
            let store = format!("url = \"{}\"\ninstance = \"fleet-{j}\"", cluster.url());
            start_executor(0, format!("fleet{j}"), *ports, store, true)
        })
        .collect();
    let mut singles: Vec<Binary> = single_ports
        .iter()
        .enumerate()
        .map(|(k, ports)| {
            let store = format!("path = \"{}/single{}.redb\"", dir.path().display(), k + 1);
            start_executor(k + 1, format!("single{}", k + 1), *ports, store, false)
        })
        .collect();
    for executor in fleet.iter_mut().chain(&mut singles) {
        executor.start().await;
    }

    let keystore_path = ecdsa_keystore(dir.path(), "aggregator", deployer_key.as_slice());
    let (management, http) = (port(), port());
    let config = AggregatorToml {
        address: journal.deployer,
        keystore: &keystore_path,
        password_env: "FLEET_PASSWORD",
        management,
        http,
        dir: dir.path(),
        store: Some(format!("url = \"{}\"", cluster.url())),
        url: &url,
        stack: &stack,
    }
    .render(&format!("[[avs]]\naddress = \"{}\"\n", journal.deployer));
    let config_path = dir.path().join("aggregator.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut aggregator = Binary {
        program: runtime_binary("ponos-aggregator"),
        config: config_path,
        env: vec![("FLEET_PASSWORD".into(), "pw".into())],
        log: dir.path().join("aggregator.log"),
        http,
        child: None,
    };
    aggregator.start().await;

    // 40 tasks, 150 ms apart; the fleet instance that is answering is killed a second in.
    let mailbox = TaskMailbox::new(stack.task_mailbox, &provider);
    let avs = journal.deployer;
    let create = |tag: &'static str, n: usize| {
        let mailbox = mailbox.clone();
        async move {
            let mut tasks = Vec::new();
            for i in 0..n {
                tasks.push(create_task(&mailbox, creator, avs, format!("{tag}-{i}")).await);
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            tasks
        }
    };
    let kill = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut busiest = (0, 0.0);
        for (j, executor) in fleet.iter().enumerate() {
            let done = sample(
                &executor.metrics().await,
                "ponos_executor_tasks_completed_total",
            )
            .unwrap_or(0.0);
            if done > busiest.1 {
                busiest = (j, done);
            }
        }
        assert!(busiest.1 > 0.0, "the fleet answered tasks before the kill");
        // SAFETY: kill(2) on this test's own executor process; no memory involved.
        let killed = unsafe { libc::kill(fleet[busiest.0].pid() as i32, libc::SIGKILL) };
        assert_eq!(killed, 0, "the executor was running");
        busiest.0
    };
    let (tasks, killed) = tokio::join!(create("fleet", 40), kill);
    fleet[killed].kill(); // reaps it
    let open = crate::unverified_after(&mailbox, &tasks, WITHIN).await;
    assert!(
        open.is_empty(),
        "{} of {} not verified; aggregator log:\n{}",
        open.len(),
        tasks.len(),
        tail(&aggregator.log)
    );
    let counts = count_on_chain(&provider, stack.task_mailbox).await;
    for task in &tasks {
        if counts.get(task) != Some(&(1, 1)) {
            let logs = provider
                .get_logs(
                    &alloy::rpc::types::Filter::new()
                        .address(stack.task_mailbox)
                        .event_signature(
                            <TaskMailbox::TaskVerified as alloy::sol_types::SolEvent>::SIGNATURE_HASH,
                        )
                        .from_block(0),
                )
                .await
                .unwrap();
            let log = logs.iter().find(|l| l.topics().get(2) == Some(task));
            let tx = match log.and_then(|l| l.transaction_hash) {
                Some(hash) => format!(
                    "{:?}",
                    provider.get_transaction_by_hash(hash).await.unwrap()
                ),
                None => "none".into(),
            };
            panic!(
                "task {task}: {:?}, head {}, log {log:?}, tx {tx}",
                counts.get(task),
                provider.get_block_number().await.unwrap()
            );
        }
    }
    let survivors: Vec<usize> = (0..3).filter(|j| *j != killed).collect();
    let mut after = 0.0;
    for j in &survivors {
        after += sample(
            &fleet[*j].metrics().await,
            "ponos_executor_tasks_completed_total",
        )
        .unwrap_or(0.0);
    }
    assert!(after > 0.0, "the survivors took over");

    // The database restarted (fast shutdown: every connection cut) a second into 30 tasks:
    // the aggregator and the fleet wait for it, reconnect, and lose nothing.
    let restart = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let cluster = &cluster;
        tokio::task::block_in_place(|| cluster.restart()).expect("pg_ctl restart");
    };
    let (restarted, ()) = tokio::join!(create("restart", 30), restart);
    let open = crate::unverified_after(&mailbox, &restarted, WITHIN).await;
    assert!(
        open.is_empty(),
        "{} of {} not verified after the database restart; aggregator log:\n{}",
        open.len(),
        restarted.len(),
        tail(&aggregator.log)
    );
    let counts = count_on_chain(&provider, stack.task_mailbox).await;
    for task in &restarted {
        assert_eq!(counts.get(task), Some(&(1, 1)), "task {task}");
    }
    assert!(
        aggregator
            .child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none()),
        "the aggregator kept running:\n{}",
        tail(&aggregator.log)
    );
    for (j, executor) in fleet.iter_mut().enumerate() {
        if j != killed {
            assert!(
                executor
                    .child
                    .as_mut()
                    .is_some_and(|c| c.try_wait().unwrap().is_none()),
                "fleet instance {j} kept running"
            );
        }
    }
    // Each task ran once in the fleet; the only exception allowed is a task whose run on the
    // killed instance had finished when it died, before its answer was stored: that task must
    // run again elsewhere to verify, and it runs once there.
    let log = std::fs::read_to_string(&runs).unwrap();
    let killed_name = format!("fleet{killed}");
    let mut ran: HashMap<&str, (usize, usize)> = HashMap::new();
    for line in log.lines() {
        let (task, name) = line.split_once(' ').expect("a task id and an instance");
        let entry = ran.entry(task).or_default();
        if name == killed_name {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    let wrong: Vec<_> = ran
        .iter()
        .filter(|(_, (on_killed, on_live))| *on_killed > 1 || *on_live > 1)
        .collect();
    assert!(
        wrong.is_empty(),
        "tasks run twice on one side of the kill: {wrong:?}"
    );
    let rerun = ran.values().filter(|(k, l)| *k == 1 && *l == 1).count();
    assert!(
        rerun <= 1,
        "{rerun} tasks finished on the killed instance and ran again"
    );
    eprintln!(
        "fleet: {n}/{n} verified with one submitResult each (instance {killed} SIGKILLed, then the \
         database restarted); {} tasks run in the fleet, {rerun} run again after the kill",
        ran.len(),
        n = tasks.len() + restarted.len()
    );
    drop(aggregator);
    drop(haproxy);
}
