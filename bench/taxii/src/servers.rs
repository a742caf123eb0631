//! Starting the two servers on loopback, each in a temporary directory of its own.
//!
//! Accord is set up the way an operator would: `accord serve` on an empty data directory,
//! then an organisation, a trust group and an API key through `accord admin`. medallion
//! gets a configuration file with its memory backend, one user, one API root and one
//! read-write collection. Both are awaited on the line they print when they listen.
//! Dropping a [`Running`] kills the process and removes its directory.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::taxii::Target;

const START_TIMEOUT: Duration = Duration::from_secs(120);
const MEDALLION_USER: &str = "bench";
const MEDALLION_PASSWORD: &str = "bench-password";
const MEDALLION_COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";

/// A server process the bench started; killed (SIGKILL) and cleaned up on drop.
pub struct Running {
    child: Child,
    pub target: Target,
    log: Arc<Mutex<Vec<String>>>,
    _dir: TempDir,
}

impl Running {
    /// The last lines the server wrote, for error messages.
    pub fn log_tail(&self) -> String {
        match self.log.lock() {
            Ok(lines) => lines.join("\n"),
            Err(_) => String::new(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Keeps the last 200 lines of a stream; reports the first line for which `ready` holds.
fn watch(
    stream: impl Read + Send + 'static,
    log: Arc<Mutex<Vec<String>>>,
    ready: impl Fn(&str) -> Option<String> + Send + 'static,
) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if !sent && let Some(found) = ready(&line) {
                let _ = tx.send(found);
                sent = true;
            }
            if let Ok(mut lines) = log.lock() {
                if lines.len() >= 200 {
                    lines.remove(0);
                }
                lines.push(line);
            }
        }
    });
    rx
}

fn wait_ready(rx: &mpsc::Receiver<String>, child: &mut Child, what: &str) -> Result<String> {
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(found) => Ok(found),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let _ = child.kill();
            bail!("{what} did not report listening within {START_TIMEOUT:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = child.wait()?;
            bail!("{what} exited ({status}) before listening")
        }
    }
}

// --- Accord -----------------------------------------------------------------------------

fn admin(bin: &Path, data: &Path, args: &[&str]) -> Result<Value> {
    let output = Command::new(bin)
        .arg("admin")
        .arg("--data")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {} admin", bin.display()))?;
    if !output.status.success() {
        bail!(
            "accord admin {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if args.contains(&"--json") {
        serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "accord admin {} printed no JSON: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stdout)
            )
        })
    } else {
        Ok(Value::Null)
    }
}

fn field(value: &Value, name: &str) -> Result<String> {
    value[name]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no string {name:?} in {value}"))
}

pub fn start_accord(bin: &Path) -> Result<Running> {
    let dir = tempfile::Builder::new()
        .prefix("bench-taxii-accord-")
        .tempdir()?;
    let data = dir.path().join("data");
    let mut child = Command::new(bin)
        .arg("serve")
        .arg("--data")
        .arg(&data)
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {} serve", bin.display()))?;
    let log = Arc::new(Mutex::new(Vec::new()));
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
    let rx = watch(stdout, log.clone(), |line| {
        line.trim()
            .strip_prefix("listening on ")
            .filter(|url| url.starts_with("http://127.0.0.1:"))
            .map(str::to_owned)
    });
    let _ = watch(stderr, log.clone(), |_| None);
    let url = wait_ready(&rx, &mut child, "accord serve")?;

    match accord_setup(bin, &data, &url) {
        Ok(target) => Ok(Running {
            child,
            target,
            log,
            _dir: dir,
        }),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e.context("setting up Accord through `accord admin`"))
        }
    }
}

fn accord_setup(bin: &Path, data: &Path, url: &str) -> Result<Target> {
    admin(
        bin,
        data,
        &["org", "create", "bench", "--sector", "research", "--json"],
    )?;
    let group = admin(bin, data, &["group", "create", "bench", "--json"])?;
    let collection = field(&group, "collection")?;
    admin(
        bin,
        data,
        &["group", "add", "bench", "bench", "--read", "--write"],
    )?;
    let key = admin(
        bin,
        data,
        &[
            "key", "create", "--org", "bench", "--role", "analyst", "--json",
        ],
    )?;
    let api_root_url = format!("{url}/exchange/");
    Ok(Target {
        objects_url: format!("{api_root_url}collections/{collection}/objects/"),
        api_root_url,
        authorization: format!("Bearer {}", field(&key, "key")?),
    })
}

// --- medallion --------------------------------------------------------------------------

fn free_loopback_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// medallion's configuration and its memory backend's initial data.
pub fn medallion_files(port: u16, data_file: &Path, page: usize) -> (Value, Value) {
    let root = format!("http://127.0.0.1:{port}/bench/");
    let data = json!({
        "/discovery": {
            "title": "bench-taxii",
            "description": "medallion for the Accord TAXII benchmark",
            "default": root,
            "api_roots": [root],
        },
        "bench": {
            "information": {
                "title": "bench",
                "description": "one API root",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 1_073_741_824u64,
            },
            "status": [],
            "collections": [{
                "id": MEDALLION_COLLECTION,
                "title": "bench",
                "description": "one read-write collection",
                "can_read": true,
                "can_write": true,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": [],
                "manifest": [],
            }],
        },
    });
    let config = json!({
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": data_file,
            // `next` records expire this long after the first page was asked for.
            "session_timeout": 86_400,
            "check_interval": 3_600,
        },
        "users": { MEDALLION_USER: MEDALLION_PASSWORD },
        "taxii": { "max_page_size": page },
    });
    (config, data)
}

pub fn start_medallion(bin: &Path, page: usize) -> Result<Running> {
    let dir = tempfile::Builder::new()
        .prefix("bench-taxii-medallion-")
        .tempdir()?;
    let port = free_loopback_port()?;
    let data_file: PathBuf = dir.path().join("data.json");
    let config_file = dir.path().join("config.json");
    let (config, data) = medallion_files(port, &data_file, page);
    std::fs::write(&data_file, serde_json::to_vec_pretty(&data)?)?;
    std::fs::write(&config_file, serde_json::to_vec_pretty(&config)?)?;
    let mut child = Command::new(bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(&config_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let log = Arc::new(Mutex::new(Vec::new()));
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
    let _ = watch(stdout, log.clone(), |_| None);
    let needle = format!("Running on http://127.0.0.1:{port}");
    let rx = watch(stderr, log.clone(), move |line| {
        line.contains(&needle).then(String::new)
    });
    wait_ready(&rx, &mut child, "medallion")?;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{MEDALLION_USER}:{MEDALLION_PASSWORD}"));
    let api_root_url = format!("http://127.0.0.1:{port}/bench/");
    Ok(Running {
        child,
        target: Target {
            objects_url: format!("{api_root_url}collections/{MEDALLION_COLLECTION}/objects/"),
            api_root_url,
            authorization: format!("Basic {basic}"),
        },
        log,
        _dir: dir,
    })
}
