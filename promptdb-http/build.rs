//! Embeds the web app (`web/`, feature `web`): every file under one content hash, so that
//! `/assets/<hash>/…` can be cached for good and a relative `import "./x.js"` still works; each
//! file also gzip-compressed. `index.html` gets `%ASSETS%` replaced by `/assets/<hash>`.

use std::{
    env,
    fmt::Write as _,
    fs,
    io::Write as _,
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

fn files(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, base, out);
        } else {
            out.push(path.strip_prefix(base).unwrap_or(&path).to_owned());
        }
    }
}

fn mime(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "webmanifest" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn main() {
    println!("cargo:rerun-if-changed=web");
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let generated = out.join("web_assets.rs");
    if env::var_os("CARGO_FEATURE_WEB").is_none() {
        fs::write(&generated, "").expect("write");
        return;
    }
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("manifest dir")).join("web");
    let mut list = Vec::new();
    files(&root, &root, &mut list);
    list.sort();
    let mut hasher = Sha256::new();
    for rel in &list {
        hasher.update(rel.to_string_lossy().as_bytes());
        hasher.update(fs::read(root.join(rel)).expect("read asset"));
    }
    let hash: String = hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let assets_dir = out.join("web");
    let mut code = format!(
        "/// The content hash of the embedded web app.\npub(crate) const BUILD_HASH: &str = \"{hash}\";\n\
         /// The embedded files.\npub(crate) static ASSETS: &[Asset] = &[\n"
    );
    for rel in &list {
        let name = rel.to_string_lossy().replace('\\', "/");
        let mut bytes = fs::read(root.join(rel)).expect("read asset");
        if name == "index.html" {
            bytes = String::from_utf8(bytes)
                .expect("index.html is UTF-8")
                .replace("%ASSETS%", &format!("/assets/{hash}"))
                .into_bytes();
        }
        let plain = assets_dir.join(&name);
        fs::create_dir_all(plain.parent().expect("parent")).expect("mkdir");
        fs::write(&plain, &bytes).expect("write");
        let zipped = assets_dir.join(format!("{name}.gz"));
        fs::write(&zipped, gzip(&bytes)).expect("write");
        let _ = writeln!(
            code,
            "    Asset {{ path: {name:?}, mime: {:?}, body: include_bytes!({:?}), gzip: include_bytes!({:?}) }},",
            mime(rel),
            plain.display().to_string(),
            zipped.display().to_string(),
        );
    }
    code.push_str("];\n");
    fs::write(&generated, code).expect("write");
}
