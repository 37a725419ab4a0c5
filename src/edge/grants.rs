//! The `OAuthGrants` Durable Object (one for the deployment) keeps sign-in's rows in
//! SQLite and runs `service::oauth::grants::apply` over them; and the Worker's
//! client for it. One object means every code and refresh token is used at most
//! once, whichever isolate asks.

use super::effects::post_to_object;
use crate::service::oauth::grants::{
    apply, open, revoked, Envelope, GrantOp, GrantReply, GrantRows, GrantStore, PROTOCOL_VERSION,
};
use serde::Deserialize;
use worker::{
    console_error, durable_object, DurableObject, Env, Method, Request, Response, Result,
    SqlStorage, SqlStorageValue, State, Stub,
};

const BINDING: &str = "OAUTH_GRANTS";

#[durable_object]
pub struct OAuthGrants {
    rows: SqlRows,
}

/// Rows in the object's SQLite storage.
struct SqlRows {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct Row {
    value: String,
    expires_at: i64,
}

impl SqlRows {
    fn new(sql: SqlStorage) -> SqlRows {
        for ddl in [
            "CREATE TABLE IF NOT EXISTS grants (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER NOT NULL, grant_id TEXT, PRIMARY KEY (kind, key))",
            "CREATE INDEX IF NOT EXISTS grants_by_grant ON grants (grant_id)",
        ] {
            if let Err(e) = sql.exec(ddl, None) {
                console_error!("grants schema: {e}");
            }
        }
        SqlRows { sql }
    }

    fn exec(&self, query: &str, bindings: Vec<SqlStorageValue>) -> std::result::Result<(), String> {
        self.sql.exec(query, bindings).map(|_| ()).map_err(|e| {
            console_error!("grants write: {e}");
            e.to_string()
        })
    }

    /// Drops rows past their expiry.
    fn prune(&self, now: u64) {
        // Housekeeping: a failure is logged and tried again next time.
        let _ = self.exec(
            "DELETE FROM grants WHERE expires_at <= ?",
            vec![(now as i64).into()],
        );
    }
}

impl GrantRows for SqlRows {
    fn get(&self, kind: &str, key: &str) -> Option<(String, u64)> {
        let rows: Vec<Row> = self
            .sql
            .exec(
                "SELECT value, expires_at FROM grants WHERE kind = ? AND key = ?",
                vec![kind.into(), key.into()],
            )
            .and_then(|c| c.to_array())
            .ok()?;
        rows.into_iter()
            .next()
            .map(|r| (r.value, r.expires_at.max(0) as u64))
    }
    fn put(
        &self,
        kind: &str,
        key: &str,
        value: &str,
        expires_at: u64,
        grant: Option<&str>,
    ) -> std::result::Result<(), String> {
        let grant = grant.map_or(SqlStorageValue::Null, |g| g.into());
        self.exec(
            "INSERT INTO grants (kind, key, value, expires_at, grant_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at, grant_id = excluded.grant_id",
            vec![kind.into(), key.into(), value.into(), (expires_at.min(1 << 52) as i64).into(), grant],
        )
    }
    fn delete(&self, kind: &str, key: &str) -> std::result::Result<(), String> {
        self.exec(
            "DELETE FROM grants WHERE kind = ? AND key = ?",
            vec![kind.into(), key.into()],
        )
    }
    fn revoke_grant(&self, grant: &str) -> std::result::Result<(), String> {
        #[derive(Deserialize)]
        struct Keyed {
            key: String,
            value: String,
        }
        let rows: Vec<Keyed> = self
            .sql
            .exec(
                "SELECT key, value FROM grants WHERE kind = 'refresh' AND grant_id = ?",
                vec![grant.into()],
            )
            .and_then(|c| c.to_array())
            .map_err(|e| e.to_string())?;
        for r in rows {
            self.exec(
                "UPDATE grants SET value = ? WHERE kind = 'refresh' AND key = ?",
                vec![revoked(&r.value).into(), r.key.into()],
            )?;
        }
        Ok(())
    }
}

impl DurableObject for OAuthGrants {
    fn new(state: State, _env: Env) -> Self {
        OAuthGrants {
            rows: SqlRows::new(state.storage().sql()),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.method() != Method::Post {
            return Response::error("the grant store takes POST", 405);
        }
        let now = worker::Date::now().as_millis() / 1000;
        let reply = match open(&req.text().await?) {
            Ok(op) => {
                if matches!(op, GrantOp::PutPending(..)) {
                    self.rows.prune(now);
                }
                apply(&self.rows, op, now)
            }
            Err(why) => GrantReply::Refused(why),
        };
        Response::from_json(&reply)
    }
}

/// The Worker's handle on the grant store.
pub(super) struct DoGrants {
    stub: Option<Stub>,
}

impl DoGrants {
    /// The deployment's one grant store; `None` inside when the binding is missing
    /// (every call then says how to add it).
    pub(super) fn new(env: &Env) -> DoGrants {
        let stub = env
            .durable_object(BINDING)
            .ok()
            .and_then(|ns| ns.id_from_name("grants").and_then(|id| id.get_stub()).ok());
        DoGrants { stub }
    }
}

impl GrantStore for DoGrants {
    async fn call(&self, op: GrantOp) -> std::result::Result<GrantReply, String> {
        let Some(stub) = &self.stub else {
            return Err(
                "the OAUTH_GRANTS Durable Object binding is missing; add it to wrangler.toml"
                    .into(),
            );
        };
        let body = serde_json::to_string(&Envelope {
            v: PROTOCOL_VERSION,
            op,
        })
        .map_err(|e| e.to_string())?;
        let (status, text) = post_to_object(stub, "https://grants/call", &body, &[])
            .await
            .map_err(|e| e.to_string())?;
        match serde_json::from_str(&text) {
            Ok(GrantReply::Refused(why)) => Err(why),
            Ok(reply) => Ok(reply),
            Err(_) => Err(format!("the grant store answered {status}: {text}")),
        }
    }
}
