//! `githost` binary: parse the command line and run the server.

use std::process::ExitCode;

use githost::config::{self, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let command = config::parse(std::env::args().skip(1), |k| std::env::var(k).ok());
    match command {
        Ok(Command::Help) => {
            print!("{}", config::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Command::Serve(cfg)) => match githost::run(*cfg).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("githost: {err}");
                ExitCode::FAILURE
            }
        },
        Err(msg) => {
            eprintln!("githost: {msg}");
            ExitCode::from(2)
        }
    }
}
