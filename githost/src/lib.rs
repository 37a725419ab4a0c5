//! githost: a small local server speaking the subset of GitHub's REST API the
//! Worker uses, backed by real bare git repositories on disk.
//!
//! Layout: [`config`] (CLI), [`server`] (accept loop), [`app`] (router),
//! [`api`] (GitHub routes), [`admin`] (`/_githost/` test controls),
//! [`git`] (every git CLI call), [`faults`], [`stats`], [`ratelimit`],
//! [`pacing`], [`auth`], [`errors`]; the GitHub App and "Sign in with GitHub"
//! parts: [`ghapp`] (app JWTs), [`grants`] (issued tokens and codes),
//! [`users`] (who exists and their permissions), [`oauth`] (`/login/oauth/*`);
//! [`webhooks`] (signed `push` deliveries, the `post-receive` hook).

pub mod admin;
pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod encoding;
pub mod errors;
pub mod faults;
pub mod ghapp;
pub mod git;
pub mod grants;
pub mod oauth;
pub mod pacing;
pub mod ratelimit;
pub mod server;
pub mod state;
pub mod stats;
pub mod users;
pub mod webhooks;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;

pub use config::Config;
pub use state::{AppState, SharedState};

/// A bound, not yet serving, instance.
pub struct Bound {
    /// The listener on 127.0.0.1.
    pub listener: TcpListener,
    /// The state shared by handlers.
    pub state: SharedState,
    /// The actual port.
    pub port: u16,
}

/// Create the data directory, bind 127.0.0.1:`config.port` and build the state;
/// install the `post-receive` hook in the repositories found and start polling
/// for outside pushes (see [`webhooks::hook`]).
pub async fn bind(config: &Config) -> std::io::Result<Bound> {
    std::fs::create_dir_all(&config.dir)?;
    let dir = std::fs::canonicalize(&config.dir)?;
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?;
    let port = listener.local_addr()?.port();
    let config = Config {
        dir,
        ..config.clone()
    };
    let state = AppState::configure(&config, format!("http://127.0.0.1:{port}"))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    state::lock(&state.pacing).set_min_gap_ms(config.min_mutation_gap_ms);
    webhooks::hook::install_all(&state.dir);
    webhooks::hook::spawn_poller(std::sync::Arc::downgrade(&state));
    Ok(Bound {
        listener,
        state,
        port,
    })
}

/// Run the server until Ctrl-C or SIGTERM, announcing readiness on stdout.
pub async fn run(config: Config) -> std::io::Result<()> {
    let bound = bind(&config).await?;
    let app = app::router(bound.state.clone());
    let mut stdout = std::io::stdout();
    writeln!(
        stdout,
        "githost listening on http://127.0.0.1:{}",
        bound.port
    )?;
    stdout.flush()?;
    server::serve(bound.listener, app, server::shutdown_signal()).await;
    Ok(())
}
