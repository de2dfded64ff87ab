//! Compiles `cpp/plan_once.cpp` (see that file) against the headers of the DuckDB sources that
//! `libduckdb-sys` builds: the same tarball, found through `cargo metadata`, so the two can
//! never disagree.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=cpp/plan_once.cpp");
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let tarball = libduckdb_sys_dir().join("duckdb.tar.gz");
    // A new libduckdb-sys brings a new tarball: build again, from its headers only.
    println!("cargo:rerun-if-changed={}", tarball.display());
    let include = out_dir.join("duckdb/src/include");
    if include.exists() {
        std::fs::remove_dir_all(&include).expect("remove the previous DuckDB headers");
    }
    let status = Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&out_dir)
        .arg("duckdb/src/include")
        .status()
        .expect("run tar");
    assert!(
        status.success(),
        "could not extract the DuckDB headers from {tarball:?}"
    );
    cc::Build::new()
        .cpp(true)
        .file("cpp/plan_once.cpp")
        .include(&include)
        // As libduckdb-sys compiles DuckDB: the same standard and no debug-only members.
        .flag_if_supported("-std=c++11")
        .define("NDEBUG", None)
        .warnings(false)
        .flag_if_supported("-w")
        .compile("tavana_plan_once");
}

/// Where the `libduckdb-sys` package this build uses lives (its `duckdb.tar.gz` is DuckDB's
/// source, the one it compiles).
fn libduckdb_sys_dir() -> PathBuf {
    // `cargo metadata` reads the manifest of every package in the lock file, dev-dependencies
    // included, and a `cargo build` of one binary downloads only what that binary needs: on a
    // fresh machine the offline call fails on a test-only crate. Then the call is made again
    // with network access, which downloads those manifests as `cargo fetch` would (`--locked`:
    // exactly the lock file's versions).
    let metadata = cargo_metadata(&["--offline"]).or_else(|offline| {
        cargo_metadata(&["--locked"]).map_err(|online| {
            format!(
                "{offline}\n(with network access:) {online}\n\
                 Run `cargo fetch --locked` in the workspace, then build again."
            )
        })
    });
    let metadata = metadata.unwrap_or_else(|error| panic!("cargo metadata failed: {error}"));
    let packages = metadata["packages"].as_array().expect("packages");
    let manifest = packages
        .iter()
        .find(|package| package["name"] == "libduckdb-sys")
        .and_then(|package| package["manifest_path"].as_str())
        .expect("libduckdb-sys is a dependency");
    Path::new(manifest)
        .parent()
        .expect("a manifest lives in its package")
        .to_path_buf()
}

/// `cargo metadata` of this workspace for this build's target, with `extra` arguments.
fn cargo_metadata(extra: &[&str]) -> Result<serde_json::Value, String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = env::var("TARGET").expect("cargo sets TARGET");
    // Only this target's packages: those of other platforms may never have been downloaded.
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--filter-platform"])
        .arg(target)
        .args(extra)
        .current_dir(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .output()
        .map_err(|error| format!("could not run cargo: {error}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    serde_json::from_slice(&output.stdout).map_err(|error| format!("not JSON: {error}"))
}
