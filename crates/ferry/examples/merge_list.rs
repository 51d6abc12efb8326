//! Merges a manifest list onto a destination tag, keeping the platforms only the
//! destination has: `cargo run -p ferry --example merge_list -- SRC DEST:TAG`.

use ferry::{
    Client, ClientConfig, CopyEngine, CopyOptions, MergeOptions, Reference, RegistryRepo, merge,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, dest] = args.as_slice() else {
        eprintln!("usage: merge_list SRC DEST:TAG");
        std::process::exit(2);
    };
    let src = Reference::parse(src)?;
    let dest = Reference::parse(dest)?;
    let Some(tag) = dest.tag() else {
        eprintln!("{dest}: the destination needs a tag");
        std::process::exit(2);
    };
    let client = Client::new(ClientConfig::default())?;
    let source = RegistryRepo::new(client.repository(src.registry(), src.repository()));
    let destination = RegistryRepo::new(
        client
            .repository(dest.registry(), dest.repository())
            .for_push(),
    );
    let engine = CopyEngine::new(CopyOptions::default());
    let out = merge(
        &engine,
        &source,
        &src.target(),
        &destination,
        tag,
        &MergeOptions::default(),
    )
    .await?;
    println!(
        "{:?} {dest} {} [{}]",
        out.action,
        out.digest,
        out.platforms.join(", ")
    );
    Ok(())
}
