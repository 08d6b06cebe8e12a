//! `up`, `status` and `down`.

use crate::docker;
use crate::health::{self, Report};
use crate::layout::{Mode, Node, Spec};
use crate::manifest::{write_atomic, Manifest, RouterEntry};
use crate::process::{self, Stopped};
use crate::TestnetError;
use ramsons_router::host::datadir::info_file_name;
use ramsons_router::host::{self as router_host, HostConfig, Start};
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

pub const CONFIG_FILE: &str = "router.toml";
pub const LOG_FILE: &str = "router.log";
pub const PID_FILE: &str = "router.pid";
/// The testnet's shared netDb: every router's RouterInfo, the routers' bootstrap.
pub const NETDB_DIR: &str = "netDb";
/// How long `down` gives a router to exit after SIGTERM before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(500);

/// What `up` is asked to do.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// The testnet folder (created if missing; its routers' folders are reused).
    pub dir: PathBuf,
    pub spec: Spec,
    /// The `ramsons-router` binary; by default the one next to the running executable.
    /// Docker needs a statically linked one.
    pub router_bin: Option<PathBuf>,
    /// How long every status page gets to answer.
    pub start_timeout: Duration,
    /// Also wait, this long at most, until every router has exploratory tunnels both ways.
    pub wait_tunnels: Option<Duration>,
}

/// What `up` did.
#[derive(Debug, Clone)]
pub struct UpSummary {
    pub manifest: Manifest,
    /// From starting the routers until every status page answered.
    pub answering_after: Duration,
    /// From starting the routers until every router had exploratory tunnels both ways.
    pub tunnels_after: Option<Duration>,
}

/// What `down` did, per router.
#[derive(Debug, Clone)]
pub struct DownSummary {
    pub routers: Vec<(String, Stopped)>,
}

/// Prepares the routers' folders and the shared netDb, starts every router and waits
/// until each status page answers (and, if asked, until all have tunnels).
pub fn up(options: &UpOptions, progress: &mut dyn FnMut(&str)) -> Result<UpSummary, TestnetError> {
    let spec = &options.spec;
    let nodes = spec.nodes()?;
    std::fs::create_dir_all(&options.dir).map_err(TestnetError::io(&options.dir))?;
    let dir = options
        .dir
        .canonicalize()
        .map_err(TestnetError::io(&options.dir))?;
    let previous = Manifest::load(&dir)?;
    if let Some(previous) = &previous {
        let running = running(&dir, previous)?;
        if !running.is_empty() {
            return Err(TestnetError::Running {
                dir,
                running: format!("{} of its routers: {}", running.len(), running.join(", ")),
            });
        }
    }
    check_ports_free(spec.mode, &nodes)?;
    let router_bin = match &options.router_bin {
        Some(bin) => bin.clone(),
        None => process::default_router_bin()?,
    };
    if spec.mode == Mode::Docker {
        progress(&format!("checking the {} image", docker::IMAGE));
        if docker::ensure_image(&router_bin, &dir.join(".docker-build"))? {
            progress(&format!(
                "built {} from {}",
                docker::IMAGE,
                router_bin.display()
            ));
        }
    }

    let netdb = dir.join(NETDB_DIR);
    std::fs::create_dir_all(&netdb).map_err(TestnetError::io(&netdb))?;
    let mut entries = Vec::with_capacity(nodes.len());
    for node in &nodes {
        let hash = prepare_router(&dir, spec, node)?;
        entries.push(RouterEntry {
            name: node.name.clone(),
            role: node.role,
            hash,
            ntcp2: node.published(),
            status: node.status_addr(),
            sam: node.sam_addr(spec.mode),
            pid: None,
            container: None,
        });
    }
    // RouterInfos of routers this testnet no longer has would be dialled in vain.
    if let Some(previous) = &previous {
        let current: BTreeSet<&str> = entries.iter().map(|e| e.hash.as_str()).collect();
        for old in previous
            .routers
            .iter()
            .filter(|r| !current.contains(r.hash.as_str()))
        {
            if let Ok(hash) = ramsons_router::data::Hash::from_base64(&old.hash) {
                let _ = std::fs::remove_file(netdb.join(info_file_name(&hash)));
            }
        }
    }
    progress(&format!(
        "prepared {} routers in {} (netDb seeded with their RouterInfos)",
        nodes.len(),
        dir.display()
    ));

    let mut manifest = Manifest {
        mode: spec.mode,
        net_id: spec.net_id,
        project: None,
        network: None,
        routers: entries,
    };
    let started = Instant::now();
    let mut children = Vec::new();
    match spec.mode {
        Mode::Loopback => {
            for entry in &mut manifest.routers {
                let folder = Manifest::router_dir(&dir, &entry.name);
                let spawned = process::spawn_router(
                    &router_bin,
                    &folder.join(CONFIG_FILE),
                    &folder.join(LOG_FILE),
                );
                let child = match spawned {
                    Ok(child) => child,
                    Err(e) => return Err(abort(&dir, &manifest, e)),
                };
                entry.pid = Some(child.id());
                children.push(child);
                let pid_file = folder.join(PID_FILE);
                if let Err(e) = write_atomic(
                    &pid_file,
                    format!("{}\n", entry.pid.unwrap_or(0)).as_bytes(),
                ) {
                    return Err(abort(&dir, &manifest, e));
                }
            }
            manifest.save(&dir)?;
            progress(&format!("started {} router processes", children.len()));
        }
        Mode::Docker => {
            let project = docker::project_name(&dir);
            let owner = std::fs::metadata(&dir).map_err(TestnetError::io(&dir))?;
            let user = format!("{}:{}", owner.uid(), owner.gid());
            let compose = dir.join(docker::COMPOSE_FILE);
            write_atomic(
                &compose,
                docker::compose_file(&project, &user, &nodes).as_bytes(),
            )?;
            for entry in &mut manifest.routers {
                entry.container = Some(docker::container_name(&project, &entry.name));
            }
            manifest.network = Some(docker::network_name(&project));
            manifest.project = Some(project.clone());
            manifest.save(&dir)?;
            if let Err(e) = docker::compose(&dir, &project, &["up", "-d"]) {
                let e = match e {
                    TestnetError::Command { command, message } if message.contains("overlaps") => {
                        TestnetError::Command {
                            command,
                            message: format!(
                                "{message}\nanother docker network uses {}: another docker \
                                 testnet still runs (`docker network ls`; take it down first)",
                                crate::layout::DOCKER_SUBNET
                            ),
                        }
                    }
                    e => e,
                };
                return Err(abort(&dir, &manifest, e));
            }
            progress(&format!(
                "started {} containers (compose project {project})",
                manifest.routers.len()
            ));
        }
    }

    let answering_after = match wait_for_status(
        &dir,
        &manifest,
        &mut children,
        options.start_timeout,
        started,
        progress,
    ) {
        Ok(after) => after,
        Err(e) => return Err(abort(&dir, &manifest, e)),
    };
    let tunnels_after = match options.wait_tunnels {
        Some(limit) => Some(wait_for_tunnels(&dir, &manifest, limit, started, progress)?),
        None => None,
    };
    Ok(UpSummary {
        manifest,
        answering_after,
        tunnels_after,
    })
}

/// Every router's status page and, with `ping`, an end-to-end message between neighbours.
/// `docker`: the caller expects a docker testnet (an error if it is a loopback one).
pub fn status(dir: &Path, docker: bool, ping: bool) -> Result<Report, TestnetError> {
    let manifest = Manifest::require(dir)?;
    check_mode(dir, &manifest, docker)?;
    Ok(health::check(dir, &manifest, ping))
}

/// Stops every router (SIGTERM, then SIGKILL after 10 s; docker: `docker-compose down`,
/// the logs saved first) and removes the pid files. Data folders stay: the next `up`
/// brings back the same identities.
pub fn down(dir: &Path, docker: bool) -> Result<DownSummary, TestnetError> {
    let mut manifest = Manifest::require(dir)?;
    check_mode(dir, &manifest, docker)?;
    let routers = match manifest.mode {
        Mode::Loopback => stop_processes(dir, &mut manifest)?,
        Mode::Docker => stop_containers(dir, &manifest)?,
    };
    Ok(DownSummary { routers })
}

fn check_mode(dir: &Path, manifest: &Manifest, docker: bool) -> Result<(), TestnetError> {
    if docker && manifest.mode != Mode::Docker {
        return Err(TestnetError::Manifest {
            path: Manifest::path(dir),
            message: "this testnet runs on loopback, not in docker: leave out --docker".into(),
        });
    }
    Ok(())
}

/// Names of the routers of `manifest` that run.
fn running(dir: &Path, manifest: &Manifest) -> Result<Vec<String>, TestnetError> {
    Ok(match manifest.mode {
        Mode::Loopback => manifest
            .routers
            .iter()
            .filter(|r| {
                let config = Manifest::router_dir(dir, &r.name).join(CONFIG_FILE);
                r.pid
                    .is_some_and(|pid| process::router_is_running(pid, &config))
            })
            .map(|r| r.name.clone())
            .collect(),
        Mode::Docker => match &manifest.project {
            Some(project) => docker::running_containers(project)?,
            None => Vec::new(),
        },
    })
}

fn check_ports_free(mode: Mode, nodes: &[Node]) -> Result<(), TestnetError> {
    for node in nodes {
        let mut ports = vec![("status", node.status_addr())];
        if mode == Mode::Loopback {
            ports.push(("NTCP2", node.published()));
        }
        ports.extend(node.sam_addr(mode).map(|a| ("SAM", a)));
        for (what, addr) in ports {
            if let Err(e) = TcpListener::bind(addr) {
                return Err(TestnetError::Router {
                    name: node.name.clone(),
                    message: format!(
                        "its {what} address {addr} is not free ({e}): choose another --base-port"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Writes the router's `router.toml`, creates (or reuses) its keys, and puts its signed
/// RouterInfo into the shared netDb. Returns its hash.
fn prepare_router(dir: &Path, spec: &Spec, node: &Node) -> Result<String, TestnetError> {
    let folder = Manifest::router_dir(dir, &node.name);
    std::fs::create_dir_all(&folder).map_err(TestnetError::io(&folder))?;
    let file = folder.join(CONFIG_FILE);
    write_atomic(&file, node.host_config(spec).to_toml().as_bytes())?;
    // Read back as the router will: checks the file and resolves its relative paths.
    let config = HostConfig::load(&file).map_err(|e| TestnetError::Router {
        name: node.name.clone(),
        message: e.to_string(),
    })?;
    let info = router_host::init(&config, Start::system()).map_err(|e| TestnetError::Router {
        name: node.name.clone(),
        message: format!(
            "cannot create its identity in {}: {e}",
            config.data_dir.display()
        ),
    })?;
    let seed = dir.join(NETDB_DIR).join(info_file_name(&info.hash()));
    write_atomic(&seed, info.as_bytes())?;
    Ok(info.hash().to_base64())
}

/// Stops whatever of `manifest` started and returns `error` (with that said).
fn abort(dir: &Path, manifest: &Manifest, error: TestnetError) -> TestnetError {
    let cleanup = match manifest.mode {
        Mode::Loopback => stop_processes(dir, &mut manifest.clone()).map(|_| ()),
        Mode::Docker => stop_containers(dir, manifest).map(|_| ()),
    };
    match cleanup {
        Ok(()) => TestnetError::Spec(format!(
            "{error}\n(the routers started so far were stopped; their logs are in {}/<router>/{LOG_FILE})",
            dir.display()
        )),
        Err(e) => TestnetError::Spec(format!(
            "{error}\n(stopping the routers started so far failed too: {e}; run `ramsons-testnet down --dir {}`)",
            dir.display()
        )),
    }
}

fn wait_for_status(
    dir: &Path,
    manifest: &Manifest,
    children: &mut [Child],
    limit: Duration,
    started: Instant,
    progress: &mut dyn FnMut(&str),
) -> Result<Duration, TestnetError> {
    let mut last = usize::MAX;
    loop {
        // A loopback router that exited will never answer: say why now.
        for (child, entry) in children.iter_mut().zip(&manifest.routers) {
            if let Ok(Some(exit)) = child.try_wait() {
                let log = Manifest::router_dir(dir, &entry.name).join(LOG_FILE);
                return Err(TestnetError::Router {
                    name: entry.name.clone(),
                    message: format!(
                        "exited at start ({exit}); the end of {}:\n{}",
                        log.display(),
                        process::log_tail(&log, 10)
                    ),
                });
            }
        }
        let report = health::check(dir, manifest, false);
        let answering = report.answering();
        if answering == manifest.routers.len() {
            return Ok(started.elapsed());
        }
        if answering != last {
            progress(&format!(
                "{answering}/{} status pages answer ({:.0} s)",
                manifest.routers.len(),
                started.elapsed().as_secs_f64()
            ));
            last = answering;
        }
        if started.elapsed() > limit {
            let silent: Vec<String> = report
                .routers
                .iter()
                .filter(|r| r.status.is_none())
                .map(|r| format!("{}: {}", r.name, r.error.as_deref().unwrap_or("no answer")))
                .collect();
            return Err(TestnetError::Timeout(format!(
                "after {} s, {} routers' status pages still do not answer: {}",
                limit.as_secs(),
                silent.len(),
                silent.join("; ")
            )));
        }
        std::thread::sleep(POLL);
    }
}

fn wait_for_tunnels(
    dir: &Path,
    manifest: &Manifest,
    limit: Duration,
    started: Instant,
    progress: &mut dyn FnMut(&str),
) -> Result<Duration, TestnetError> {
    let deadline = Instant::now() + limit;
    let mut last = usize::MAX;
    loop {
        let report = health::check(dir, manifest, false);
        if report.all_have_tunnels() {
            return Ok(started.elapsed());
        }
        let ready = report.with_tunnels();
        if ready != last {
            progress(&format!(
                "{ready}/{} routers have exploratory tunnels both ways ({:.0} s)",
                manifest.routers.len(),
                started.elapsed().as_secs_f64()
            ));
            last = ready;
        }
        if Instant::now() > deadline {
            return Err(TestnetError::Timeout(format!(
                "after {} s, not every router has exploratory tunnels: {}\n(the routers keep \
                 running: `ramsons-testnet status --dir {}` shows more, `down` stops them)",
                limit.as_secs(),
                report.problems.join("; "),
                dir.display()
            )));
        }
        std::thread::sleep(POLL * 2);
    }
}

fn stop_processes(
    dir: &Path,
    manifest: &mut Manifest,
) -> Result<Vec<(String, Stopped)>, TestnetError> {
    let targets: Vec<(u32, PathBuf)> = manifest
        .routers
        .iter()
        .filter_map(|r| {
            let config = Manifest::router_dir(dir, &r.name).join(CONFIG_FILE);
            r.pid.map(|pid| (pid, config))
        })
        .collect();
    let mut outcomes = process::stop_all(&targets, STOP_GRACE).into_iter();
    let mut stopped = Vec::new();
    for router in &mut manifest.routers {
        let outcome = match router.pid.take() {
            Some(_) => outcomes.next().unwrap_or(Stopped::NotRunning),
            None => Stopped::NotRunning,
        };
        let pid_file = Manifest::router_dir(dir, &router.name).join(PID_FILE);
        match std::fs::remove_file(&pid_file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(TestnetError::io(pid_file)(e));
            }
            _ => {}
        }
        stopped.push((router.name.clone(), outcome));
    }
    manifest.save(dir)?;
    Ok(stopped)
}

fn stop_containers(
    dir: &Path,
    manifest: &Manifest,
) -> Result<Vec<(String, Stopped)>, TestnetError> {
    let project = manifest
        .project
        .as_deref()
        .ok_or_else(|| TestnetError::Manifest {
            path: Manifest::path(dir),
            message: "a docker testnet without a compose project".into(),
        })?;
    let running: BTreeSet<String> = docker::running_containers(project)?.into_iter().collect();
    let mut stopped = Vec::new();
    for router in &manifest.routers {
        let log = Manifest::router_dir(dir, &router.name).join(LOG_FILE);
        let outcome = match &router.container {
            Some(container) if running.contains(container) => Stopped::Terminated,
            _ => Stopped::NotRunning,
        };
        if let Some(container) = &router.container {
            // A container that never got created has no log; nothing lost.
            let _ = docker::save_logs(container, &log);
        }
        stopped.push((router.name.clone(), outcome));
    }
    docker::compose(
        dir,
        project,
        &["down", "--timeout", &STOP_GRACE.as_secs().to_string()],
    )?;
    Ok(stopped)
}
