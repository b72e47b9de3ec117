//! `promptdb`: the server (`serve`, `stdio`, `migrate`) and the command-line client.

use std::process::ExitCode;

use clap::Parser;

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
