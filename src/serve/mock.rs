//! The HTTP face of the Maskinporten look-alike ([`crate::oauth::mock`]):
//! `GET /.well-known/oauth-authorization-server`, `GET /jwk`, `POST /token`.
//! Its `Date` header follows the mock's clock (with `--clock-offset`), so a
//! client can see the skew as it would with a real server.

use super::http::{Handler, Request, Response, http_date};
use crate::oauth::mock::Mock;
use serde_json::json;

pub(crate) type Clock = Box<dyn Fn() -> i64 + Send + Sync>;

pub(crate) struct MockServer {
    pub(crate) mock: Mock,
    /// The mock's clock (offset included).
    pub(crate) clock: Clock,
}

impl Handler for MockServer {
    fn handle(&self, req: Request) -> Response {
        let now = (self.clock)();
        let path = req.path.as_str();
        let r = match (req.method.as_str(), path) {
            ("GET" | "HEAD", "/.well-known/oauth-authorization-server")
            | ("GET" | "HEAD", "/.well-known/openid-configuration") => {
                Response::json(200, &self.mock.metadata())
            }
            ("GET" | "HEAD", "/jwk" | "/jwks") => Response::json(200, &self.mock.jwks()),
            ("POST", "/token") => {
                let ct = req.header("content-type").unwrap_or("");
                if !ct
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
                {
                    Response::json(
                        400,
                        &json!({"error": "invalid_request", "error_description": "The request must be application/x-www-form-urlencoded"}),
                    )
                } else {
                    let reply = self.mock.token(&req.body, now);
                    Response::json(reply.status, &reply.body)
                }
            }
            (_, "/token" | "/jwk" | "/jwks" | "/.well-known/oauth-authorization-server") => {
                Response::json(
                    405,
                    &json!({"error": "invalid_request", "error_description": format!("{} is not allowed here", req.method)}),
                )
            }
            _ => Response::json(
                404,
                &json!({"error": "not_found", "error_description": format!("nothing is served at {path}")}),
            ),
        };
        r.with_header("date", http_date(now))
    }
}
