//! Sign-in's effects in memory, for tests: the grant rows, a GitHub that signs
//! people in by code, client metadata documents by URL, and permissions by login.

use super::grants::{apply, settled, GrantOp, GrantReply, GrantStore, MemoryRows};
use super::OAuthEffects;
use crate::config::Config;
use crate::github::http::{HttpClient, HttpRequest, HttpResponse, SendError};
use crate::github::signin::Permission;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// The grant rows in memory, at a time the test sets.
#[derive(Debug, Default)]
pub struct MemoryGrants {
    /// The rows.
    pub rows: MemoryRows,
    /// Now, Unix seconds.
    pub now: Cell<u64>,
}

impl GrantStore for MemoryGrants {
    async fn call(&self, op: GrantOp) -> Result<GrantReply, String> {
        settled(apply(&self.rows, op, self.now.get()))
    }
}

/// GitHub's sign-in endpoints and other web servers, in memory.
#[derive(Debug, Default)]
pub struct MemoryWeb {
    /// GitHub codes and who they sign in.
    pub codes: RefCell<HashMap<String, String>>,
    /// Documents by URL.
    pub documents: RefCell<HashMap<String, String>>,
    /// Every URL asked for, in order.
    pub seen: RefCell<Vec<String>>,
}

fn answer(status: u16, body: String) -> Result<HttpResponse, SendError> {
    Ok(HttpResponse {
        status,
        headers: vec![],
        body: body.into_bytes(),
    })
}

impl HttpClient for MemoryWeb {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, SendError> {
        self.seen.borrow_mut().push(req.url.clone());
        if req.url.ends_with("/login/oauth/access_token") {
            let form = req.body.unwrap_or_default();
            let code = form
                .split('&')
                .find_map(|p| p.strip_prefix("code="))
                .unwrap_or("");
            return match self.codes.borrow_mut().remove(code) {
                Some(login) => answer(
                    200,
                    format!(r#"{{"access_token": "gho_{login}", "token_type": "bearer"}}"#),
                ),
                None => answer(200, r#"{"error": "bad_verification_code"}"#.into()),
            };
        }
        if req.url.ends_with("/user") {
            let auth = req
                .headers
                .iter()
                .find(|(k, _)| k == "Authorization")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            return match auth.strip_prefix("Bearer gho_") {
                Some(login) => answer(200, format!(r#"{{"login": "{login}"}}"#)),
                None => answer(401, r#"{"message": "Bad credentials"}"#.into()),
            };
        }
        match self.documents.borrow().get(&req.url) {
            Some(doc) => answer(200, doc.clone()),
            None => answer(404, "not found".into()),
        }
    }
}

/// Sign-in's effects in memory.
#[derive(Debug, Default)]
pub struct MemoryOAuth {
    /// The grant rows.
    pub grants: MemoryGrants,
    /// GitHub and the web.
    pub web: MemoryWeb,
    /// Permissions by login (on every repository); others have none.
    pub permissions: RefCell<HashMap<String, Permission>>,
    /// How many secrets were made.
    pub secrets: Cell<u64>,
}

impl OAuthEffects for MemoryOAuth {
    type Grants = MemoryGrants;
    type Web = MemoryWeb;
    fn grants(&self) -> &MemoryGrants {
        &self.grants
    }
    fn web(&self) -> &MemoryWeb {
        &self.web
    }
    fn secret(&self) -> String {
        self.secrets.set(self.secrets.get() + 1);
        format!("secret{:026}", self.secrets.get())
    }
    async fn permission(&self, _served: &Config, login: &str) -> Result<Permission, String> {
        Ok(self
            .permissions
            .borrow()
            .get(login)
            .copied()
            .unwrap_or(Permission::None))
    }
}
