//! Integration tests for githost: each test starts its own server on a random
//! port with a temporary data directory.

mod admin;
mod auth;
mod binary;
mod common;
mod contents;
mod gitdata;
mod pacing;
