//! The complete router: admin API, OAuth web flow, GitHub routes, request logging.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;

use crate::faults::DropConnection;
use crate::state::SharedState;
use crate::{admin, api, oauth};

/// Build the router serving everything.
pub fn router(state: SharedState) -> Router {
    admin::router()
        .merge(oauth::router())
        .fallback(api::handle)
        .layer(middleware::from_fn_with_state(state.clone(), log_requests))
        .with_state(state)
}

/// One stderr line per request: method, path, status, milliseconds. Headers
/// (and so tokens) are never logged.
async fn log_requests(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    if !state.request_logging() {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    let dropped = if response.extensions().get::<DropConnection>().is_some() {
        " (connection dropped)"
    } else {
        ""
    };
    eprintln!(
        "{method} {path} {} {}ms{dropped}",
        response.status().as_u16(),
        start.elapsed().as_millis()
    );
    response
}
