//! Docker testnets: the router image, the compose file, and the docker commands.
//!
//! The image is built FROM scratch around a statically linked `ramsons-router` (see
//! `docker/Dockerfile`), so nothing is pulled from a registry.

use crate::layout::{Node, DOCKER_SUBNET};
use crate::TestnetError;
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

pub const IMAGE: &str = "ramsons-router:dev";
pub const DOCKERFILE: &str = include_str!("../../docker/Dockerfile");
pub const COMPOSE_TEMPLATE: &str = include_str!("../../docker/compose.yml.template");
pub const COMPOSE_FILE: &str = "compose.yml";
/// The image label holding the SHA-256 of what it was built from (Dockerfile and binary).
const SOURCE_LABEL: &str = "ramsons.source-sha256";
const ROUTER_BLOCK_START: &str = "# {{#router}}";
const ROUTER_BLOCK_END: &str = "# {{/router}}";

/// How to build a binary the image can use.
pub const STATIC_BUILD: &str = "RUSTFLAGS=\"-C target-feature=+crt-static\" cargo build \
    --release --target x86_64-unknown-linux-gnu -p ramsons-router";

/// Whether the docker engine answers (`docker info`).
pub fn engine_available() -> bool {
    Command::new("docker")
        .arg("info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs a command; its stdout, or an error naming the command with its stderr.
pub fn run(program: &str, args: &[&str]) -> Result<String, TestnetError> {
    let command = || format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        // The engine here may lack buildx; the classic builder handles FROM scratch.
        .env("DOCKER_BUILDKIT", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TestnetError::Command {
            command: command(),
            message: e.to_string(),
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        Err(TestnetError::Command {
            command: command(),
            message: format!("{}{}", stdout.trim(), stderr.trim()),
        })
    }
}

/// Whether an ELF executable is statically linked (has no program interpreter), as a
/// FROM scratch image needs.
pub fn is_static_executable(path: &Path) -> Result<bool, TestnetError> {
    let bytes = std::fs::read(path).map_err(TestnetError::io(path))?;
    let not_elf =
        || TestnetError::Spec(format!("{} is not a 64-bit ELF executable", path.display()));
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 {
        return Err(not_elf());
    }
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let mut phoff = [0u8; 8];
    phoff.copy_from_slice(&bytes[0x20..0x28]);
    let phoff = usize::try_from(u64::from_le_bytes(phoff)).map_err(|_| not_elf())?;
    let (entry_size, count) = (u16_at(0x36), u16_at(0x38));
    const PT_INTERP: u32 = 3;
    for i in 0..count {
        let at = phoff + i * entry_size;
        let header = bytes.get(at..at + 4).ok_or_else(not_elf)?;
        let p_type = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        if p_type == PT_INTERP {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Builds the router image from `bin` unless the existing one was built from the same
/// binary and Dockerfile. `context` is a scratch folder for the build context. Returns whether it built.
pub fn ensure_image(bin: &Path, context: &Path) -> Result<bool, TestnetError> {
    if !is_static_executable(bin)? {
        return Err(TestnetError::Spec(format!(
            "{} is dynamically linked and cannot run in the FROM scratch router image; \
             build a static one with\n  {STATIC_BUILD}\nand pass \
             --router-bin target/x86_64-unknown-linux-gnu/release/ramsons-router",
            bin.display()
        )));
    }
    let binary = std::fs::read(bin).map_err(TestnetError::io(bin))?;
    let mut hasher = Sha256::new();
    hasher.update(DOCKERFILE);
    hasher.update(&binary);
    let digest: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let format = format!("{{{{index .Config.Labels \"{SOURCE_LABEL}\"}}}}");
    let built_from = run("docker", &["image", "inspect", "--format", &format, IMAGE]);
    if built_from.is_ok_and(|d| d.trim() == digest) {
        return Ok(false);
    }
    std::fs::create_dir_all(context).map_err(TestnetError::io(context))?;
    let dockerfile = context.join("Dockerfile");
    std::fs::write(&dockerfile, DOCKERFILE).map_err(TestnetError::io(&dockerfile))?;
    let copy = context.join(crate::process::ROUTER_BIN);
    std::fs::write(&copy, &binary).map_err(TestnetError::io(&copy))?;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
        .map_err(TestnetError::io(&copy))?;
    let label = format!("{SOURCE_LABEL}={digest}");
    let context_arg = context.to_string_lossy();
    let built = run(
        "docker",
        &["build", "--tag", IMAGE, "--label", &label, &context_arg],
    );
    // The context holds a copy of the binary: not worth keeping either way.
    let _ = std::fs::remove_dir_all(context);
    built.map(|_| true)
}

/// The compose file for `nodes`, filled from [`COMPOSE_TEMPLATE`]. Containers run as
/// `user` ("uid:gid"), so the files they write belong to the testnet folder's owner.
pub fn compose_file(project: &str, user: &str, nodes: &[Node]) -> String {
    let (head, rest) = COMPOSE_TEMPLATE
        .split_once(ROUTER_BLOCK_START)
        .unwrap_or((COMPOSE_TEMPLATE, ""));
    let (block, tail) = rest.split_once(ROUTER_BLOCK_END).unwrap_or((rest, ""));
    // Markers sit on lines of their own: drop the rest of each marker's line.
    let block = block.split_once('\n').map_or(block, |(_, b)| b);
    let block = block.rsplit_once('\n').map_or(block, |(b, _)| b);
    let tail = tail.split_once('\n').map_or(tail, |(_, t)| t);
    let head = head.rsplit_once('\n').map_or(head, |(h, _)| h);
    let mut out = format!("{head}\n");
    for node in nodes {
        out += &block
            .replace("{{name}}", &node.name)
            .replace("{{container}}", &container_name(project, &node.name))
            .replace("{{ip}}", &node.ip.to_string())
            .replace("{{ntcp2_port}}", &node.ntcp2_port.to_string())
            .replace("{{status_port}}", &node.status_port.to_string());
        out.push('\n');
    }
    out += tail;
    out.replace("{{subnet}}", DOCKER_SUBNET)
        .replace("{{image}}", IMAGE)
        .replace("{{user}}", user)
}

/// The container of router `name`.
pub fn container_name(project: &str, name: &str) -> String {
    format!("{project}-{name}")
}

/// The bridge network docker-compose (v1) creates for the template's `testnet` network.
pub fn network_name(project: &str) -> String {
    format!("{project}_testnet")
}

/// A compose project name for the testnet folder: `ramsons-<folder name>`, in the
/// characters compose accepts.
pub fn project_name(dir: &Path) -> String {
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let clean: String = folder
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("ramsons-{}", clean.trim_matches('-'))
}

/// `docker-compose -p <project> -f <dir>/compose.yml <args>`.
pub fn compose(dir: &Path, project: &str, args: &[&str]) -> Result<String, TestnetError> {
    let file = dir.join(COMPOSE_FILE).to_string_lossy().into_owned();
    let mut all = vec!["-p", project, "-f", &file];
    all.extend_from_slice(args);
    run("docker-compose", &all)
}

/// The running containers of a compose project.
pub fn running_containers(project: &str) -> Result<Vec<String>, TestnetError> {
    let filter = format!("label=com.docker.compose.project={project}");
    let names = run(
        "docker",
        &["ps", "--filter", &filter, "--format", "{{.Names}}"],
    )?;
    Ok(names.lines().map(str::to_owned).collect())
}

/// Appends a container's log (stdout and stderr) to `path`.
pub fn save_logs(container: &str, path: &Path) -> Result<(), TestnetError> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(TestnetError::io(path))?;
    let err = log.try_clone().map_err(TestnetError::io(path))?;
    let status = Command::new("docker")
        .args(["logs", container])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .status()
        .map_err(|e| TestnetError::Command {
            command: format!("docker logs {container}"),
            message: e.to_string(),
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(TestnetError::Command {
            command: format!("docker logs {container}"),
            message: format!("exited with {status}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Mode, Spec};

    #[test]
    fn compose_file_has_one_service_per_router() {
        let spec = Spec {
            floodfills: 1,
            routers: 2,
            net_id: 99,
            base_port: 20000,
            mode: Mode::Docker,
        };
        let nodes = spec.nodes().expect("valid");
        let file = compose_file("ramsons-t", "1000:1000", &nodes);
        assert!(!file.contains("{{"), "unfilled placeholder:\n{file}");
        assert!(
            !file.contains("#router") && !file.contains("/router}}"),
            "{file}"
        );
        assert_eq!(file.matches("image: ramsons-router:dev").count(), 3);
        assert!(
            file.contains(
                "  r1:\n    image: ramsons-router:dev\n    container_name: ramsons-t-r1\n"
            ),
            "{file}"
        );
        assert!(file.contains("ipv4_address: 198.18.0.12"), "{file}");
        assert!(file.contains("\"127.0.0.1:20007:20007\""), "{file}");
        assert!(file.contains("- subnet: 198.18.0.0/24"), "{file}");
        assert!(file.contains("user: \"1000:1000\""), "{file}");
    }

    #[test]
    fn project_names_are_compose_safe() {
        assert_eq!(project_name(Path::new("/tmp/My Net.1")), "ramsons-my-net-1");
    }

    #[test]
    fn tells_static_from_dynamic_executables() {
        // The test binary itself is dynamically linked (the default gnu target).
        let exe = std::env::current_exe().expect("test executable");
        assert!(!is_static_executable(&exe).expect("ELF"));
        let dir = tempfile::tempdir().expect("temp dir");
        let text = dir.path().join("text");
        std::fs::write(&text, "not an executable").expect("write");
        assert!(is_static_executable(&text).is_err());
    }
}
