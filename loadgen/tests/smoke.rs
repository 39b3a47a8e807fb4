//! Runs the load generator with tiny counts against real servers (embedded store over
//! HTTP/2, etcd over HTTP/1.1) and checks it measured something and lost no watch event.
//! Nothing here is timed: the figures depend on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use ferrokube_testkit::{EtcdServer, ServerProcess};
use serde_json::Value;

/// The `ferrokube` binary of this workspace, built (or found up to date) in the same target
/// directory and profile as the load generator under test.
fn server_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("FERROKUBE_BIN") {
        return Ok(PathBuf::from(path));
    }
    let loadgen = Path::new(env!("CARGO_BIN_EXE_ferrokube-loadgen"));
    let profile_dir = loadgen
        .parent()
        .context("loadgen binary has no directory")?;
    let target_dir = profile_dir
        .parent()
        .context("profile directory has no parent")?;
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("loadgen crate has no parent")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(workspace)
        .args([
            "build",
            "-p",
            "ferrokube",
            "--bin",
            "ferrokube",
            "--target-dir",
        ])
        .arg(target_dir);
    if profile_dir.file_name() == Some("release".as_ref()) {
        build.arg("--release");
    }
    let output = build.output().context("running cargo build")?;
    ensure!(
        output.status.success(),
        "cargo build of ferrokube failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(profile_dir.join("ferrokube"))
}

/// Runs the load generator with tiny counts plus `extra`, and returns its JSON report.
fn run_loadgen(server: &ServerProcess, extra: &[&str]) -> Result<Value> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_ferrokube-loadgen"))
        .arg("--kubeconfig")
        .arg(server.kubeconfig())
        .args([
            "--pods",
            "60",
            "--writers",
            "4",
            "--readers",
            "4",
            "--get-seconds",
            "0.5",
        ])
        .args(["--list-runs", "2", "--page-size", "25"])
        .args([
            "--watchers",
            "5",
            "--watch-rate",
            "40",
            "--watch-seconds",
            "1",
        ])
        .args(["--watch-writers", "2"])
        .arg("--json")
        .arg(&json)
        .args(extra)
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "loadgen failed: {stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    for line in ["creates:", "gets:", "list:", "watch:"] {
        ensure!(stdout.contains(line), "no {line:?} line in:\n{stdout}");
    }
    let report: Value = serde_json::from_slice(&std::fs::read(&json)?)?;
    Ok(report["report"].clone())
}

/// The figures every run must show, whatever the machine.
fn check_common(report: &Value) -> Result<()> {
    let create = &report["create"];
    ensure!(create["pods"] == 60, "created {}", create["pods"]);
    ensure!(
        create["rate"].as_f64() > Some(0.0),
        "create rate {}",
        create["rate"]
    );
    ensure!(create["latency"]["samples"] == 60);
    let get = &report["get"];
    ensure!(get["gets"].as_u64() > Some(0), "no gets: {get}");
    ensure!(get["rate"].as_f64() > Some(0.0));
    let list = &report["list"];
    ensure!(list["objects"] == 60 && list["runs"] == 2, "list: {list}");
    ensure!(
        list["pages"] == 3,
        "60 pods in pages of 25 are 3 pages: {list}"
    );
    ensure!(list["full"]["samples"] == 2 && list["paged"]["samples"] == 2);
    let watch = &report["watch"];
    ensure!(watch["writes"] == 40, "watch writes: {watch}");
    ensure!(
        watch["expected"] == 200 && watch["received"] == 200,
        "watch: {watch}"
    );
    ensure!(
        watch["missed"] == 0 && watch["duplicates"] == 0,
        "watch: {watch}"
    );
    ensure!(watch["broken_streams"] == 0, "watch: {watch}");
    ensure!(watch["from_write"]["samples"] == 200);
    Ok(())
}

#[test]
fn measures_the_embedded_store_over_http2() -> Result<()> {
    let server = ServerProcess::start(&server_binary()?, &[])?;
    let report = run_loadgen(&server, &["--protocol", "http2"])?;
    check_common(&report)?;
    ensure!(report["backend"] == "embedded" && report["protocol"] == "Http2");
    ensure!(
        report["etcd"].is_null(),
        "no etcd reference without an etcd"
    );
    // The run cleans up after itself: its namespaces are being deleted.
    let namespaces = server.kubectl_ok(&["get", "namespaces", "-o", "name"])?;
    for line in namespaces.lines().filter(|line| line.contains("loadgen-")) {
        let phase = server.kubectl_ok(&["get", line, "-o", "jsonpath={.status.phase}"]);
        ensure!(
            matches!(phase.as_deref(), Ok("Terminating") | Err(_)),
            "{line} left behind: {phase:?}"
        );
    }
    Ok(())
}

#[test]
fn measures_an_etcd_backed_server_and_raw_etcd_over_http1() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let endpoint = etcd.endpoint();
    let server = ServerProcess::start(&server_binary()?, &["--datastore-endpoint", &endpoint])?;
    let report = run_loadgen(
        &server,
        &["--protocol", "http1", "--etcd-endpoint", &endpoint],
    )?;
    check_common(&report)?;
    ensure!(report["backend"] == "etcd" && report["protocol"] == "Http1");
    let raw = &report["etcd"];
    ensure!(raw["puts"] == 1000, "raw puts: {raw}");
    ensure!(raw["rate"].as_f64() > Some(0.0), "raw rate: {raw}");
    // Values the size of the stored pod, which is at least the body sent.
    ensure!(
        raw["value_bytes"].as_u64() >= report["create"]["body_bytes"].as_u64(),
        "raw value size {} below the pod body",
        raw["value_bytes"]
    );
    Ok(())
}
