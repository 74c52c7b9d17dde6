//! Embeds the dashboard (`web/dist`, built by `npm --prefix web run build`) into the
//! binary: generates `$OUT_DIR/web_assets.rs`, a table of every file with its
//! content type and an ETag derived from its bytes. Without `web/dist` (a fresh
//! clone where only `cargo` ran) the table is empty and `/` says how to build it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let web = manifest.join("../../web");
    let dist = web.join("dist");
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        println!("cargo:rerun-if-changed={}", dist.display());
        collect(&dist, &mut files);
        files.sort();
    } else {
        // Re-run once `web/dist` appears (watching the missing path itself would
        // re-run this script on every build).
        println!("cargo:rerun-if-changed={}", web.display());
    }
    let mut out = String::from("pub static WEB_ASSETS: &[WebAsset] = &[\n");
    for file in &files {
        let bytes = std::fs::read(file).expect("read web/dist file");
        let rel = file
            .strip_prefix(&dist)
            .expect("under dist")
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            out,
            "    WebAsset {{ path: {:?}, bytes: include_bytes!({:?}), content_type: {:?}, etag: \"\\\"{:016x}\\\"\" }},",
            format!("/{rel}"),
            file.canonicalize().expect("canonical path").display().to_string(),
            content_type(file),
            fnv1a(&bytes),
        )
        .expect("write");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("out dir"));
    std::fs::write(out_dir.join("web_assets.rs"), out).expect("write web_assets.rs");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "application/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// 64-bit FNV-1a: a stable content hash without a build dependency.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^ bytes.len() as u64
}
