//! `promptdb`: the server (`serve`, `stdio`, `migrate`) and the command-line client.

use std::process::ExitCode;

use clap::Parser;

// The server allocates per request (JSON, MCP envelopes); glibc's malloc spends much of that time
// under contention. Measured with benches/load.sh: see the README.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = promptdb_http::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(promptdb_http::cli::run(cli))
}
