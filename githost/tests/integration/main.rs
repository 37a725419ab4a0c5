//! Integration tests for githost: each test starts its own server on a random
//! port with a temporary data directory.

mod admin;
mod app;
mod auth;
mod binary;
mod common;
mod contents;
mod gitdata;
mod oauth;
mod pacing;
mod webhooks;
