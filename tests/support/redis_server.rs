//! `redis-server` processes of a test's own: unique port (20000–29999, with
//! the Cluster bus port +10000 free as well) and temporary directory,
//! killed and removed when dropped.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One `redis-server` (or sentinel) process.
pub struct RedisProcess {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    /// A configuration file given first on the command line (sentinels
    /// need one they can rewrite).
    config: Option<PathBuf>,
    args: Vec<String>,
}

static NEXT: AtomicU16 = AtomicU16::new(0);

/// A port in 20000–29999 that is free, and whose +10000 (the Cluster bus)
/// is free too.
pub fn free_port() -> u16 {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        ^ std::process::id();
    for _ in 0..1000 {
        let step = u32::from(NEXT.fetch_add(7, Ordering::Relaxed));
        let port = 20000 + ((seed.wrapping_add(step * 7919)) % 10000) as u16;
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free(port) && free(port + 10000) {
            return port;
        }
    }
    panic!("no free port pair in 20000-39999");
}

pub fn find_on_path(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .unwrap_or_else(|| {
            panic!(
                "{name} not found on PATH: the Redis tests need it \
                 (apt-get install redis-server redis-tools, or run .ci/run which installs them)"
            )
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

impl RedisProcess {
    /// A server with `args` (after `--port`, `--bind`, `--dir`), no
    /// persistence unless `args` say otherwise.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with_config(None, args)
    }

    /// A process whose command line starts with the configuration file
    /// `config` (written by the caller, inside [`Self::dir_for`]).
    pub fn start_with_config(config: Option<(PathBuf, String)>, args: &[&str]) -> Self {
        let port = free_port();
        Self::start_on(port, Self::dir_for(port), config, args)
    }

    /// A process listening on `port` (given with `--tls-port` for TLS), in
    /// `dir`.
    pub fn start_on(
        port: u16,
        dir: PathBuf,
        config: Option<(PathBuf, String)>,
        args: &[&str],
    ) -> Self {
        let config = config.map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        });
        let mut process = Self {
            child: None,
            port,
            dir,
            config,
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        process.restart();
        process
    }

    /// A fresh, unique directory for the process on `port`.
    pub fn dir_for(port: u16) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tower-webhook-redis-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Start (again) on the same port, in the same directory (an AOF there
    /// is replayed).
    pub fn restart(&mut self) {
        let mut command = Command::new(find_on_path("redis-server"));
        if let Some(config) = &self.config {
            command.arg(config);
        }
        let has = |name: &str| self.args.iter().any(|a| a == name);
        if !has("--save") {
            command.args(["--save", ""]);
        }
        if !has("--appendonly") {
            command.args(["--appendonly", "no"]);
        }
        if !has("--port") {
            command.args(["--port", &self.port.to_string()]);
        }
        let child = command
            .args(["--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("could not start redis-server");
        let pid = child.id();
        self.child = Some(child);
        self.wait_until_listening(self.port);
        // Another test's server may have taken the port while this one was
        // down (a restart after a kill): the test would then go on against
        // the wrong, empty server and report lost data that is not lost.
        // Checked where the server answers without TLS or a password.
        let info = cli(self.port, &["INFO", "server"]);
        if let Some(answering) = info
            .lines()
            .find_map(|line| line.trim().strip_prefix("process_id:"))
        {
            assert_eq!(
                answering,
                pid.to_string(),
                "port {} is held by another redis-server than the one just started",
                self.port
            );
        }
    }

    pub fn wait_until_listening(&self, port: u16) {
        for _ in 0..400 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not start on port {port}");
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Send `signal` (`STOP`, `CONT`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("not running").id()
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// `redis-cli -p <port> args...`, its output.
    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args)
    }
}

/// A Redis Cluster of `masters` masters, no replicas, created with
/// `redis-cli --cluster create` and waited for until every node reports
/// `cluster_state:ok`.
pub fn start_cluster(masters: usize) -> Vec<RedisProcess> {
    let nodes: Vec<RedisProcess> = (0..masters)
        .map(|_| {
            RedisProcess::start(&[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
            ])
        })
        .collect();
    let addresses: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let mut create = vec!["--cluster", "create"];
    create.extend(addresses.iter().map(String::as_str));
    create.extend(["--cluster-replicas", "0", "--cluster-yes"]);
    nodes[0].cli(&create);
    for node in &nodes {
        let start = std::time::Instant::now();
        while !node.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok") {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "gave up waiting for cluster_state:ok on {}",
                node.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    nodes
}

/// `redis-cli -p <port> args...`, its output.
pub fn cli(port: u16, args: &[&str]) -> String {
    let output = Command::new(find_on_path("redis-cli"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running redis-cli");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A stopped process must be continued to die promptly.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
