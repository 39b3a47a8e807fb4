//! `ferrokube server` end to end: a real process on a free port, reached by stock kubectl
//! with the admin kubeconfig the server wrote, over the embedded store and over real etcd.

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::{EtcdServer, ServerProcess};

fn start(extra_args: &[&str]) -> Result<ServerProcess> {
    Ok(ServerProcess::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_ferrokube")),
        extra_args,
    )?)
}

fn stdout_of(server: &ServerProcess, args: &[&str]) -> Result<String> {
    let output = server.kubectl(args)?;
    ensure!(
        output.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

fn check_control_plane(server: &ServerProcess) -> Result<()> {
    let version: serde_json::Value =
        serde_json::from_str(&stdout_of(server, &["version", "-o", "json"])?)?;
    let server_version = &version["serverVersion"];
    ensure!(server_version["major"] == "1", "{version}");
    ensure!(server_version["minor"] == "35", "{version}");
    ensure!(
        server_version["gitVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("v1.35.")),
        "{version}"
    );

    ensure!(stdout_of(server, &["get", "--raw", "/livez"])? == "ok");
    ensure!(stdout_of(server, &["get", "--raw", "/healthz"])? == "ok");
    let verbose = stdout_of(server, &["get", "--raw", "/readyz?verbose"])?;
    ensure!(verbose.contains("[+]etcd ok\n"), "{verbose}");
    ensure!(verbose.contains("[+]shutdown ok\n"), "{verbose}");
    ensure!(verbose.ends_with("readyz check passed\n"), "{verbose}");
    let excluded = stdout_of(server, &["get", "--raw", "/livez?verbose&exclude=etcd"])?;
    ensure!(excluded.contains("[+]etcd excluded: ok\n"), "{excluded}");
    ensure!(stdout_of(server, &["get", "--raw", "/readyz/etcd"])? == "ok");

    // Request metrics under upstream's names.
    stdout_of(server, &["get", "namespaces"])?;
    let metrics = stdout_of(server, &["get", "--raw", "/metrics"])?;
    ensure!(
        metrics.lines().any(
            |line| line.starts_with("apiserver_request_total{code=\"200\"")
                && line.contains("resource=\"namespaces\"")
                && line.contains("verb=\"LIST\"")
        ),
        "{metrics}"
    );
    ensure!(
        metrics.contains("apiserver_request_duration_seconds_bucket{"),
        "{metrics}"
    );

    // An unknown path answers upstream's NotFound Status, which kubectl reports as such.
    let missing = server.kubectl(&["get", "--raw", "/no/such/path"])?;
    ensure!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    ensure!(
        stderr.contains("the server could not find the requested resource"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn kubectl_reaches_the_server_over_the_embedded_store() -> Result<()> {
    let mut server = start(&[])?;
    check_control_plane(&server).with_context(|| server.log())?;
    ensure!(server.data_dir().join("db").join("state.db").exists());
    let status = server.terminate()?;
    ensure!(status.success(), "graceful stop exited with {status}");
    Ok(())
}

#[test]
fn kubectl_reaches_the_server_over_etcd() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let endpoint = etcd.endpoint();
    let server = start(&["--datastore-endpoint", &endpoint])?;
    check_control_plane(&server).with_context(|| server.log())?;
    ensure!(
        !server.data_dir().join("db").exists(),
        "embedded store opened despite etcd"
    );
    Ok(())
}

#[test]
fn a_restarted_server_keeps_its_ca_and_kubeconfig() -> Result<()> {
    let mut first = start(&[])?;
    let kubeconfig = std::fs::read(first.kubeconfig())?;
    let data_dir = first.data_dir();
    first.terminate()?;
    // The same data dir again: the old kubeconfig must still be trusted.
    let port = ferrokube_testkit::free_port()?;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ferrokube"))
        .args(["server", "--secure-port", &port.to_string(), "--data-dir"])
        .arg(&data_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let result = (|| -> Result<()> {
        let saved = tempfile::NamedTempFile::new()?;
        let rewritten = String::from_utf8(kubeconfig)?
            .replace(&format!(":{}", first.port()), &format!(":{port}"));
        std::fs::write(saved.path(), rewritten)?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let output = std::process::Command::new(ferrokube_testkit::kubectl_binary())
                .arg("--kubeconfig")
                .arg(saved.path())
                .args(["get", "--raw", "/readyz"])
                .output()?;
            if output.status.success() {
                ensure!(output.stdout == b"ok");
                return Ok(());
            }
            ensure!(
                std::time::Instant::now() < deadline,
                "old kubeconfig rejected: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}
