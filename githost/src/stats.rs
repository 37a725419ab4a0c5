//! Request counters exposed by `GET /_githost/stats`.

use std::collections::BTreeMap;

use serde::Serialize;

/// Route keys that always appear in `by_route`, even when zero.
pub const KNOWN_ROUTES: &[&str] = &[
    "GET contents",
    "PUT contents",
    "GET git/ref",
    "GET git/commits",
    "POST git/trees",
    "POST git/commits",
    "PATCH git/refs",
    "GET git/trees",
    "GET git/blobs",
];

/// Methods that always appear in `by_method`, even when zero.
pub const KNOWN_METHODS: &[&str] = &["GET", "PUT", "POST", "PATCH", "DELETE"];

/// Counters of requests on GitHub routes.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// All requests on GitHub routes (including faults and auth rejections).
    pub total: u64,
    /// POST/PUT/PATCH/DELETE requests.
    pub mutating: u64,
    /// Requests answered 304.
    pub not_modified: u64,
    /// Per HTTP method.
    pub by_method: BTreeMap<String, u64>,
    /// Per `"<METHOD> <route>"`.
    pub by_route: BTreeMap<String, u64>,
    /// Per status code (as a string).
    pub by_status: BTreeMap<String, u64>,
    /// Commits created by the host through the GitHub API.
    pub commits: u64,
    /// Mutating requests refused by the pacing rule (also counted above).
    pub pacing_refused: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            total: 0,
            mutating: 0,
            not_modified: 0,
            by_method: KNOWN_METHODS.iter().map(|m| (m.to_string(), 0)).collect(),
            by_route: KNOWN_ROUTES.iter().map(|r| (r.to_string(), 0)).collect(),
            by_status: BTreeMap::new(),
            commits: 0,
            pacing_refused: 0,
        }
    }
}

impl Stats {
    /// Count one answered request.
    pub fn record(&mut self, method: &str, route_key: &str, status: u16) {
        self.total += 1;
        if matches!(method, "POST" | "PUT" | "PATCH" | "DELETE") {
            self.mutating += 1;
        }
        if status == 304 {
            self.not_modified += 1;
        }
        *self.by_method.entry(method.to_string()).or_default() += 1;
        *self.by_route.entry(route_key.to_string()).or_default() += 1;
        *self.by_status.entry(status.to_string()).or_default() += 1;
    }
}
