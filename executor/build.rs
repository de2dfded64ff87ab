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
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = env::var("TARGET").expect("cargo sets TARGET");
    // Only this target's packages: those of other platforms may never have been downloaded.
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
        ])
        .arg(target)
        .current_dir(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
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
