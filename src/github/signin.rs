//! GitHub as the identity provider: its OAuth web flow (authorize page, code
//! exchange), the signed-in user, and a person's permission on a repository.

use super::http::{encode_component, HttpClient, HttpRequest};
use serde::Deserialize;

/// A person's permission on a repository, as GitHub's collaborator API names it
/// (`maintain` counts as write, `triage` as read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// admin, maintain or write: may push.
    Write,
    /// triage or read: may pull.
    Read,
    /// No access.
    None,
}

impl Permission {
    /// GitHub's word for a permission or role.
    pub fn parse(s: &str) -> Permission {
        match s {
            "admin" | "maintain" | "write" | "push" => Permission::Write,
            "triage" | "read" | "pull" => Permission::Read,
            _ => Permission::None,
        }
    }
}

/// GitHub's OAuth web flow for the service's OAuth app (or GitHub App) and the
/// `/user` API, over HTTP.
pub struct GitHubSignIn<'a, H> {
    /// HTTP.
    pub http: &'a H,
    /// `https://github.com`, or the local git host.
    pub web_base: String,
    /// GitHub's REST base.
    pub api_base: String,
    /// The OAuth app's client id.
    pub client_id: String,
    /// The OAuth app's client secret.
    pub client_secret: String,
    /// The User-Agent sent.
    pub user_agent: String,
}

impl<H> std::fmt::Debug for GitHubSignIn<'_, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubSignIn")
            .field("web_base", &self.web_base)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl<H: HttpClient> GitHubSignIn<'_, H> {
    /// GitHub's authorize page for a sign-in that comes back to `redirect_uri` with
    /// `state`. No scope: the service needs only who the person is.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> String {
        format!(
            "{}/login/oauth/authorize?client_id={}&redirect_uri={}&state={}&allow_signup=false",
            self.web_base.trim_end_matches('/'),
            encode_component(&self.client_id),
            encode_component(redirect_uri),
            encode_component(state)
        )
    }

    /// Exchanges GitHub's code for the person's token.
    pub async fn exchange(&self, code: &str, redirect_uri: &str) -> Result<String, String> {
        #[derive(Deserialize)]
        struct Answer {
            access_token: Option<String>,
            error: Option<String>,
            error_description: Option<String>,
        }
        let body = format!(
            "client_id={}&client_secret={}&code={}&redirect_uri={}",
            encode_component(&self.client_id),
            encode_component(&self.client_secret),
            encode_component(code),
            encode_component(redirect_uri)
        );
        let req = HttpRequest {
            method: "POST",
            url: format!(
                "{}/login/oauth/access_token",
                self.web_base.trim_end_matches('/')
            ),
            headers: vec![
                ("Accept".into(), "application/json".into()),
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("User-Agent".into(), self.user_agent.clone()),
            ],
            body: Some(body),
        };
        let resp = self.http.send(req).await.map_err(|e| e.to_string())?;
        let answer: Answer = serde_json::from_slice(&resp.body)
            .map_err(|_| format!("GitHub answered the code exchange with {}", resp.status))?;
        match (answer.access_token, answer.error) {
            (Some(t), None) => Ok(t),
            (_, e) => Err(format!(
                "GitHub refused the sign-in: {} {}",
                e.unwrap_or_default(),
                answer.error_description.unwrap_or_default()
            )),
        }
    }

    /// The login of the person `token` belongs to.
    pub async fn login(&self, token: &str) -> Result<String, String> {
        #[derive(Deserialize)]
        struct User {
            login: String,
        }
        let req = HttpRequest {
            method: "GET",
            url: format!("{}/user", self.api_base.trim_end_matches('/')),
            headers: vec![
                ("Authorization".into(), format!("Bearer {token}")),
                ("Accept".into(), "application/vnd.github+json".into()),
                ("User-Agent".into(), self.user_agent.clone()),
            ],
            body: None,
        };
        let resp = self.http.send(req).await.map_err(|e| e.to_string())?;
        if resp.status != 200 {
            return Err(format!("GitHub answered /user with {}", resp.status));
        }
        serde_json::from_slice::<User>(&resp.body)
            .map(|u| u.login)
            .map_err(|_| "GitHub's /user answer has no login".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_follow_githubs_roles() {
        for (word, p) in [
            ("admin", Permission::Write),
            ("maintain", Permission::Write),
            ("write", Permission::Write),
            ("triage", Permission::Read),
            ("read", Permission::Read),
            ("none", Permission::None),
            ("", Permission::None),
        ] {
            assert_eq!(Permission::parse(word), p, "{word}");
        }
    }
}
