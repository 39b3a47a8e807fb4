//! Generates the committed message table (`../messages.rs`) from the k8s-pb and k8s-openapi
//! sources cargo unpacked, and fails when the committed table is stale
//! (`FERROKUBE_REGENERATE_PROTOBUF_TABLE=1` rewrites it).

mod json_names;
mod k8s_pb;
mod table;
mod zero_kept;

use std::path::{Path, PathBuf};

/// The crate versions the table was generated from.
const K8S_PB: &str = "k8s-pb-0.9.0";
const K8S_OPENAPI: &str = "k8s-openapi-0.29.0";

/// `$CARGO_HOME/registry/src/*/<krate>` holding `marker`.
fn crate_sources(krate: &str, marker: &str) -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))?;
    std::fs::read_dir(cargo_home.join("registry/src"))
        .ok()?
        .flatten()
        .map(|index| index.path().join(krate))
        .find(|path| path.join(marker).exists())
}

/// The table must be what the sources say. Skipped when the sources are not where cargo
/// unpacks registry crates.
#[test]
fn table_matches_k8s_pb_sources() -> Result<(), String> {
    let (Some(pb), Some(openapi)) = (
        crate_sources(K8S_PB, "src/lib.rs"),
        crate_sources(K8S_OPENAPI, "src/v1_35"),
    ) else {
        eprintln!("{K8S_PB} or {K8S_OPENAPI} sources not found; protobuf table not checked");
        return Ok(());
    };
    let sources = k8s_pb::parse(&pb.join("src"))?;
    let definitions = json_names::parse(&openapi.join("src/v1_35"))?;
    let generated = table::build(&sources, &definitions)?.render();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/codec/protobuf/messages.rs");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        if std::env::var_os("FERROKUBE_REGENERATE_PROTOBUF_TABLE").is_some() {
            std::fs::write(&path, &generated).map_err(|error| error.to_string())?;
        } else {
            return Err(format!(
                "{} is stale: rerun with FERROKUBE_REGENERATE_PROTOBUF_TABLE=1",
                path.display()
            ));
        }
    }
    Ok(())
}
