// The build script of every corpus guest crate (mk/corpus.mk): wit-bindgen's
// runtime tests start with `include!(env!("BINDINGS"))`; this points BINDINGS at
// the bindings `wit-bindgen rust` generated for the crate's world, in
// ../bindings/<crate name>/<world>.rs.
use std::{env, fs, path::PathBuf};

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let name = env::var("CARGO_PKG_NAME").unwrap();
    let dir = manifest.parent().unwrap().join("bindings").join(&name);
    let file = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().map_or(false, |x| x == "rs"))
        .expect("no generated bindings");
    println!("cargo:rustc-env=BINDINGS={}", file.display());
    println!("cargo:rerun-if-changed={}", file.display());
}
