//! Copies an image: `cargo run -p ferry --example copy_image -- SRC DEST`.
//!
//! SRC and DEST are `[docker://]HOST/REPO[:TAG|@DIGEST]` or `oci:PATH[:TAG]`, as for
//! `ferry copy`. Credentials come from the usual auth files.

use ferry::{Client, ClientConfig, CopyEngine, CopyOptions, Location, copy};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, dest] = args.as_slice() else {
        eprintln!("usage: copy_image SRC DEST");
        std::process::exit(2);
    };
    let src = Location::parse(src)?;
    let dest = Location::parse(dest)?;
    let client = Client::new(ClientConfig::default())?;
    let engine = CopyEngine::new(CopyOptions::default());
    let outcome = copy(&client, &engine, &src, &dest).await?;
    let what = if outcome.changed {
        "copied"
    } else {
        "unchanged"
    };
    println!("{what} {dest} {}", outcome.digest);
    Ok(())
}
