//! What the authorization server keeps: registered clients, sign-ins waiting for
//! GitHub, authorization codes (single use) and refresh tokens (hashed, rotating).
//! The rules live here, pure, in [`apply`] over a small row store; the Worker keeps
//! the rows in a SQLite-backed Durable Object and sends it [`GrantOp`]s in a
//! versioned envelope, as it does with the writer.

use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// The version of [`Envelope`] this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// A client registered dynamically (RFC 7591). Persisted: fields are only added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// The id issued.
    pub client_id: String,
    /// Its name, shown to no one yet but kept for the record.
    #[serde(default)]
    pub client_name: Option<String>,
    /// The redirect URIs it may use, matched exactly.
    pub redirect_uris: Vec<String>,
    /// When it registered, Unix seconds.
    pub issued_at: u64,
}

/// A sign-in sent to GitHub, waiting for the person to come back. Persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The client that asked.
    pub client_id: String,
    /// Where the client wants the answer.
    pub redirect_uri: String,
    /// The client's `state`, returned as is.
    #[serde(default)]
    pub state: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The scopes asked for.
    pub scope: String,
    /// The resource (MCP URL) the token is for.
    pub resource: String,
    /// Unix seconds after which it is gone.
    pub expires_at: u64,
    /// The hash of the secret in the cookie of the browser that started the sign-in:
    /// only that browser may approve it and come back from GitHub with it.
    #[serde(default)]
    pub browser: String,
    /// The client's name, for the consent page.
    #[serde(default)]
    pub client_name: Option<String>,
    /// The authorization request named its redirect URI (the token request must too).
    #[serde(default)]
    pub redirect_given: bool,
    /// The person approved it on the consent page.
    #[serde(default)]
    pub approved: bool,
}

/// An authorization code issued to a client. Persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    /// The grant the code starts.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI it was sent to (the token request must repeat it).
    pub redirect_uri: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The scopes granted.
    pub scope: String,
    /// The resource (MCP URL) the tokens are for.
    pub resource: String,
    /// The person: their GitHub login.
    pub login: String,
    /// Unix seconds after which it is gone.
    pub expires_at: u64,
    /// The authorization request named its redirect URI (the token request must too).
    #[serde(default)]
    pub redirect_given: bool,
}

/// A refresh token's grant. Persisted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refresh {
    /// The grant it belongs to.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The person.
    pub login: String,
    /// The scopes granted.
    pub scope: String,
    /// The resource the tokens are for.
    pub resource: String,
    /// Unix seconds after which it is gone.
    pub expires_at: u64,
}

/// What happened to a refresh token's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshState {
    /// Usable once.
    Active,
    /// Used: it was exchanged for a new one. Seeing it again means theft.
    Rotated,
    /// Its grant was revoked.
    Revoked,
}

/// One request to the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantOp {
    /// Keep a client registered by the caller whose address hashes to the second
    /// value, within the registration limits.
    Register(Client, String),
    /// A client by id.
    GetClient(String),
    /// Keep a sign-in under a key.
    PutPending(String, Pending),
    /// A sign-in, left in place.
    GetPending(String),
    /// Take (and delete) a sign-in.
    TakePending(String),
    /// Keep a code under its hash.
    PutCode(String, Code),
    /// Use a code, by hash: once.
    TakeCode(String),
    /// Keep a refresh token under its hash.
    PutRefresh(String, Refresh),
    /// A refresh token, by hash.
    GetRefresh(String),
    /// Exchange a refresh token (old hash) for a new one (new hash), atomically.
    Rotate(String, String, Refresh),
    /// Revoke a grant: all its refresh tokens.
    RevokeGrant(String),
}

/// The store's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantReply {
    /// Done.
    Done,
    /// A client, if known.
    Client(Option<Client>),
    /// A sign-in, if it was waiting and fresh.
    Pending(Option<Pending>),
    /// A code taken for the first time, fresh.
    Code(Code),
    /// A code seen before: the grant it started (now revoked).
    CodeReused(String),
    /// A refresh token and what became of it.
    Refresh(Refresh, RefreshState),
    /// The old refresh token was already used: its grant (now revoked).
    Reused(String),
    /// The refresh token was exchanged moments ago by another request: not theft, and
    /// nothing revoked; the client should use the newer one.
    Superseded,
    /// Nothing under that key (or it expired).
    Missing,
    /// Over a limit: try again after this many seconds.
    Limited(u64),
    /// The call could not be taken (another protocol version, or not a call).
    Refused(String),
}

/// Rows by kind and key: the storage the rules run over. The Durable Object keeps
/// them in SQLite; tests keep them in memory.
pub trait GrantRows {
    /// A row's value and expiry.
    fn get(&self, kind: &str, key: &str) -> Option<(String, u64)>;
    /// Sets a row, with the grant it belongs to (for revocation).
    fn put(
        &self,
        kind: &str,
        key: &str,
        value: &str,
        expires_at: u64,
        grant: Option<&str>,
    ) -> Result<(), String>;
    /// Deletes a row.
    fn delete(&self, kind: &str, key: &str) -> Result<(), String>;
    /// Every refresh row of a grant becomes revoked.
    fn revoke_grant(&self, grant: &str) -> Result<(), String>;
}

/// Registrations one address may make in [`REGISTRATION_WINDOW_SECONDS`].
pub const REGISTRATIONS_PER_ADDRESS: u64 = 20;
/// Registrations everyone together may make in [`REGISTRATION_WINDOW_SECONDS`].
pub const REGISTRATIONS_IN_ALL: u64 = 500;
/// The window the registration limits count in, in seconds.
pub const REGISTRATION_WINDOW_SECONDS: u64 = 3600;

/// How long a registered client is kept after it was last used, in seconds.
pub const CLIENT_SECONDS: u64 = 90 * 24 * 3600;
/// How long after a refresh token was exchanged presenting it again is taken for a
/// race between two requests of one client, not theft, in seconds.
pub const ROTATION_GRACE_SECONDS: u64 = 10;

/// How long a code lives, in seconds.
pub const CODE_SECONDS: u64 = 600;

#[derive(Serialize, Deserialize)]
struct RefreshRow {
    refresh: Refresh,
    state: RefreshState,
    /// When it was exchanged, Unix seconds.
    #[serde(default)]
    rotated_at: Option<u64>,
}

fn get<T: serde::de::DeserializeOwned>(
    rows: &impl GrantRows,
    kind: &str,
    key: &str,
    now: u64,
) -> Option<T> {
    let (value, expires_at) = rows.get(kind, key)?;
    (expires_at > now)
        .then(|| serde_json::from_str(&value).ok())
        .flatten()
}

fn put<T: Serialize>(
    rows: &impl GrantRows,
    kind: &str,
    key: &str,
    v: &T,
    exp: u64,
    grant: Option<&str>,
) -> Result<(), String> {
    let value = serde_json::to_string(v).map_err(|e| e.to_string())?;
    rows.put(kind, key, &value, exp, grant)
}

fn put_refresh(rows: &impl GrantRows, key: &str, row: &RefreshRow) -> Result<(), String> {
    let grant = Some(row.refresh.grant_id.as_str());
    put(rows, "refresh", key, row, row.refresh.expires_at, grant)
}

fn active(refresh: Refresh) -> RefreshRow {
    RefreshRow {
        refresh,
        state: RefreshState::Active,
        rotated_at: None,
    }
}

/// Carries out one operation at `now` (Unix seconds). A write the storage refused
/// is [`GrantReply::Refused`]: the rules never answer as if it had happened.
pub fn apply(rows: &impl GrantRows, op: GrantOp, now: u64) -> GrantReply {
    run(rows, op, now).unwrap_or_else(|e| {
        GrantReply::Refused(format!("the grant store could not write ({e}); try again"))
    })
}

fn run(rows: &impl GrantRows, op: GrantOp, now: u64) -> Result<GrantReply, String> {
    Ok(match op {
        GrantOp::Register(c, who) => register(rows, c, &who, now)?,
        GrantOp::GetClient(id) => {
            let client: Option<Client> = get(rows, "client", &id, now);
            if let Some(c) = &client {
                // Kept while it is used.
                put(rows, "client", &id, c, now + CLIENT_SECONDS, None)?;
            }
            GrantReply::Client(client)
        }
        GrantOp::PutPending(key, p) => {
            put(rows, "pending", &key, &p, p.expires_at, None)?;
            GrantReply::Done
        }
        GrantOp::GetPending(key) => GrantReply::Pending(get(rows, "pending", &key, now)),
        GrantOp::TakePending(key) => {
            let p = get(rows, "pending", &key, now);
            rows.delete("pending", &key)?;
            GrantReply::Pending(p)
        }
        GrantOp::PutCode(key, c) => {
            let grant = c.grant_id.clone();
            put(rows, "code", &key, &c, c.expires_at, Some(&grant))?;
            GrantReply::Done
        }
        GrantOp::TakeCode(key) => take_code(rows, &key, now)?,
        GrantOp::PutRefresh(key, r) => {
            put_refresh(rows, &key, &active(r))?;
            GrantReply::Done
        }
        GrantOp::GetRefresh(key) => match get::<RefreshRow>(rows, "refresh", &key, now) {
            Some(row) if just_rotated(&row, now) => GrantReply::Superseded,
            Some(row) => GrantReply::Refresh(row.refresh, row.state),
            None => GrantReply::Missing,
        },
        GrantOp::Rotate(old, new, r) => rotate(rows, &old, &new, r, now)?,
        GrantOp::RevokeGrant(grant) => {
            rows.revoke_grant(&grant)?;
            GrantReply::Done
        }
    })
}

/// Keeps a client unless its caller, or everyone together, registered too many in
/// the window: dynamic registration needs no sign-in, so this is what keeps the
/// store from being filled.
fn register(rows: &impl GrantRows, c: Client, who: &str, now: u64) -> Result<GrantReply, String> {
    let mut counts = Vec::new();
    for (key, limit) in [
        (who, REGISTRATIONS_PER_ADDRESS),
        ("*", REGISTRATIONS_IN_ALL),
    ] {
        let (count, ends) = match rows.get("registrations", key) {
            Some((v, ends)) if ends > now => (v.parse::<u64>().unwrap_or(0), ends),
            _ => (0, now + REGISTRATION_WINDOW_SECONDS),
        };
        if count >= limit {
            return Ok(GrantReply::Limited(ends - now));
        }
        counts.push((key, count + 1, ends));
    }
    for (key, count, ends) in counts {
        rows.put("registrations", key, &count.to_string(), ends, None)?;
    }
    put(
        rows,
        "client",
        &c.client_id.clone(),
        &c,
        now + CLIENT_SECONDS,
        None,
    )?;
    Ok(GrantReply::Done)
}

fn just_rotated(row: &RefreshRow, now: u64) -> bool {
    row.state == RefreshState::Rotated
        && row
            .rotated_at
            .is_some_and(|at| now < at + ROTATION_GRACE_SECONDS)
}

/// A code's first use gets it; a second revokes what the first started (RFC 6749
/// 4.1.2: a code used twice means it leaked).
fn take_code(rows: &impl GrantRows, key: &str, now: u64) -> Result<GrantReply, String> {
    let Some(code) = get::<Code>(rows, "code", key, now) else {
        return Ok(GrantReply::Missing);
    };
    if get::<String>(rows, "code_used", key, now).is_some() {
        rows.revoke_grant(&code.grant_id)?;
        return Ok(GrantReply::CodeReused(code.grant_id));
    }
    let grant = code.grant_id.clone();
    put(
        rows,
        "code_used",
        key,
        &grant,
        code.expires_at,
        Some(&grant),
    )?;
    Ok(GrantReply::Code(code))
}

/// An active refresh token is exchanged once; a rotated one presented again
/// revokes its whole grant, unless it was exchanged a moment ago (two requests of
/// one client racing).
fn rotate(
    rows: &impl GrantRows,
    old: &str,
    new: &str,
    next: Refresh,
    now: u64,
) -> Result<GrantReply, String> {
    let Some(row) = get::<RefreshRow>(rows, "refresh", old, now) else {
        return Ok(GrantReply::Missing);
    };
    if just_rotated(&row, now) {
        return Ok(GrantReply::Superseded);
    }
    Ok(match row.state {
        RefreshState::Active => {
            let used = RefreshRow {
                refresh: row.refresh.clone(),
                state: RefreshState::Rotated,
                rotated_at: Some(now),
            };
            put_refresh(rows, old, &used)?;
            put_refresh(rows, new, &active(next))?;
            GrantReply::Refresh(row.refresh, RefreshState::Rotated)
        }
        RefreshState::Rotated => {
            rows.revoke_grant(&row.refresh.grant_id)?;
            GrantReply::Reused(row.refresh.grant_id)
        }
        RefreshState::Revoked => GrantReply::Missing,
    })
}

/// Revoking a grant in row terms: every refresh row of it becomes revoked. Shared by
/// the stores, which find the rows by their grant column.
pub fn revoked(value: &str) -> String {
    match serde_json::from_str::<RefreshRow>(value) {
        Ok(mut row) => {
            row.state = RefreshState::Revoked;
            serde_json::to_string(&row).unwrap_or_default()
        }
        Err(_) => value.to_string(),
    }
}

/// A call on the wire, with the protocol version it was written for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The protocol version.
    pub v: u32,
    /// The operation.
    pub op: GrantOp,
}

/// Opens a call from the wire: the version first, so another version is refused
/// with a message, never misread.
pub fn open(wire: &str) -> Result<GrantOp, String> {
    #[derive(Deserialize)]
    struct Version {
        v: u32,
    }
    let v: Version = serde_json::from_str(wire).map_err(|e| format!("not a grant call: {e}"))?;
    if v.v != PROTOCOL_VERSION {
        return Err(format!(
            "the grant store speaks protocol {PROTOCOL_VERSION}, the call was made for {}: deploy the Worker and its Durable Objects together",
            v.v
        ));
    }
    serde_json::from_str::<Envelope>(wire)
        .map(|e| e.op)
        .map_err(|e| format!("not a grant call: {e}"))
}

/// The store as the service sees it: the Durable Object, or rows in this process.
#[allow(async_fn_in_trait)]
pub trait GrantStore {
    /// Carries out `op`; `Err` when the store could not be reached.
    async fn call(&self, op: GrantOp) -> Result<GrantReply, String>;
}

/// Rows in memory, for tests and for running the rules in-process.
#[derive(Debug, Default)]
pub struct MemoryRows(RefCell<BTreeMap<(String, String), MemoryRow>>);

/// A row in memory: its value, expiry and grant.
type MemoryRow = (String, u64, Option<String>);

impl GrantRows for MemoryRows {
    fn get(&self, kind: &str, key: &str) -> Option<(String, u64)> {
        let rows = self.0.borrow();
        let (v, exp, _) = rows.get(&(kind.to_string(), key.to_string()))?;
        Some((v.clone(), *exp))
    }
    fn put(
        &self,
        kind: &str,
        key: &str,
        value: &str,
        expires_at: u64,
        grant: Option<&str>,
    ) -> Result<(), String> {
        self.0.borrow_mut().insert(
            (kind.to_string(), key.to_string()),
            (value.to_string(), expires_at, grant.map(str::to_string)),
        );
        Ok(())
    }
    fn delete(&self, kind: &str, key: &str) -> Result<(), String> {
        self.0
            .borrow_mut()
            .remove(&(kind.to_string(), key.to_string()));
        Ok(())
    }
    fn revoke_grant(&self, grant: &str) -> Result<(), String> {
        for ((kind, _), (value, _, g)) in self.0.borrow_mut().iter_mut() {
            if kind == "refresh" && g.as_deref() == Some(grant) {
                *value = revoked(value);
            }
        }
        Ok(())
    }
}

/// A store's reply as a result: a refusal is an error.
pub fn settled(reply: GrantReply) -> Result<GrantReply, String> {
    match reply {
        GrantReply::Refused(why) => Err(why),
        r => Ok(r),
    }
}

/// Rows in this process answering as the store, at a clock's time.
pub struct LocalGrants<'a, R, C> {
    /// The rows.
    pub rows: &'a R,
    /// The time.
    pub clock: &'a C,
}

impl<R: GrantRows, C: crate::clock::Clock> GrantStore for LocalGrants<'_, R, C> {
    async fn call(&self, op: GrantOp) -> Result<GrantReply, String> {
        settled(apply(self.rows, op, self.clock.now_ms() / 1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refresh(grant: &str) -> Refresh {
        Refresh {
            grant_id: grant.into(),
            client_id: "c".into(),
            login: "alice".into(),
            scope: "threads:read".into(),
            resource: "https://wc/mcp".into(),
            expires_at: 1_000,
        }
    }

    fn code() -> Code {
        Code {
            grant_id: "g1".into(),
            client_id: "c".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            code_challenge: "x".into(),
            scope: "threads:read".into(),
            resource: "https://wc/mcp".into(),
            login: "alice".into(),
            expires_at: 600,
            redirect_given: true,
        }
    }

    #[test]
    fn a_code_is_used_once_and_a_second_use_revokes_its_grant() {
        let rows = MemoryRows::default();
        apply(&rows, GrantOp::PutCode("h".into(), code()), 0);
        apply(&rows, GrantOp::PutRefresh("r1".into(), refresh("g1")), 0);
        assert_eq!(
            apply(&rows, GrantOp::TakeCode("h".into()), 1),
            GrantReply::Code(code())
        );
        assert_eq!(
            apply(&rows, GrantOp::TakeCode("h".into()), 2),
            GrantReply::CodeReused("g1".into())
        );
        assert_eq!(
            apply(&rows, GrantOp::GetRefresh("r1".into()), 3),
            GrantReply::Refresh(refresh("g1"), RefreshState::Revoked)
        );
        apply(&rows, GrantOp::PutCode("late".into(), code()), 0);
        assert_eq!(
            apply(&rows, GrantOp::TakeCode("late".into()), 600),
            GrantReply::Missing
        );
    }

    #[test]
    fn a_refresh_token_rotates_once_and_its_reuse_revokes_the_grant() {
        let rows = MemoryRows::default();
        apply(&rows, GrantOp::PutRefresh("r1".into(), refresh("g1")), 0);
        apply(&rows, GrantOp::PutRefresh("other".into(), refresh("g2")), 0);
        let rotated = apply(
            &rows,
            GrantOp::Rotate("r1".into(), "r2".into(), refresh("g1")),
            1,
        );
        assert_eq!(
            rotated,
            GrantReply::Refresh(refresh("g1"), RefreshState::Rotated)
        );
        // The old one again at once: two requests of one client racing. Refused,
        // nothing revoked.
        let racing = apply(
            &rows,
            GrantOp::Rotate("r1".into(), "r3".into(), refresh("g1")),
            2,
        );
        assert_eq!(racing, GrantReply::Superseded);
        assert_eq!(
            apply(&rows, GrantOp::GetRefresh("r1".into()), 3),
            GrantReply::Superseded
        );
        // Later: theft. The whole grant goes, the new token with it.
        let again = apply(
            &rows,
            GrantOp::Rotate("r1".into(), "r3".into(), refresh("g1")),
            20,
        );
        assert_eq!(again, GrantReply::Reused("g1".into()));
        assert_eq!(
            apply(&rows, GrantOp::GetRefresh("r2".into()), 3),
            GrantReply::Refresh(refresh("g1"), RefreshState::Revoked)
        );
        assert_eq!(
            apply(
                &rows,
                GrantOp::Rotate("r2".into(), "r4".into(), refresh("g1")),
                4
            ),
            GrantReply::Missing
        );
        // Another grant is untouched; an expired token is gone.
        assert_eq!(
            apply(&rows, GrantOp::GetRefresh("other".into()), 5),
            GrantReply::Refresh(refresh("g2"), RefreshState::Active)
        );
        assert_eq!(
            apply(&rows, GrantOp::GetRefresh("other".into()), 1_000),
            GrantReply::Missing
        );
    }

    #[test]
    fn registrations_are_limited_per_address_and_in_all() {
        let rows = MemoryRows::default();
        let client = |n: u64| Client {
            client_id: format!("c{n}"),
            client_name: None,
            redirect_uris: vec!["https://a.example/cb".into()],
            issued_at: 0,
        };
        for n in 0..REGISTRATIONS_PER_ADDRESS {
            assert_eq!(
                apply(&rows, GrantOp::Register(client(n), "ip1".into()), 10),
                GrantReply::Done
            );
        }
        assert_eq!(
            apply(&rows, GrantOp::Register(client(99), "ip1".into()), 100),
            GrantReply::Limited(REGISTRATION_WINDOW_SECONDS - 90)
        );
        assert_eq!(
            apply(&rows, GrantOp::GetClient("c99".into()), 100),
            GrantReply::Client(None)
        );
        assert_eq!(
            apply(&rows, GrantOp::Register(client(99), "ip2".into()), 100),
            GrantReply::Done
        );
        let later = 10 + REGISTRATION_WINDOW_SECONDS;
        assert_eq!(
            apply(&rows, GrantOp::Register(client(100), "ip1".into()), later),
            GrantReply::Done
        );
    }

    #[test]
    fn a_sign_in_is_taken_once_and_the_protocol_is_versioned() {
        let rows = MemoryRows::default();
        let p = Pending {
            client_id: "c".into(),
            redirect_uri: "u".into(),
            state: None,
            code_challenge: "x".into(),
            scope: "s".into(),
            resource: "r".into(),
            expires_at: 100,
            browser: "b".into(),
            client_name: None,
            redirect_given: true,
            approved: false,
        };
        apply(&rows, GrantOp::PutPending("k".into(), p.clone()), 0);
        assert_eq!(
            apply(&rows, GrantOp::TakePending("k".into()), 1),
            GrantReply::Pending(Some(p))
        );
        assert_eq!(
            apply(&rows, GrantOp::TakePending("k".into()), 1),
            GrantReply::Pending(None)
        );
        let wire = serde_json::to_string(&Envelope {
            v: PROTOCOL_VERSION,
            op: GrantOp::GetClient("c".into()),
        })
        .unwrap();
        assert_eq!(open(&wire), Ok(GrantOp::GetClient("c".into())));
        assert!(open(r#"{"v": 2, "op": "x"}"#)
            .unwrap_err()
            .contains("deploy the Worker"));
        assert!(open("junk").unwrap_err().starts_with("not a grant call"));
    }
}
