//! The key manager as an OAuth2 authorization server, through a real process: introspection
//! (RFC 7662) and authorization server metadata (RFC 8414).

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_testkit::flow::ok_json;
use tollgate_testkit::{http_client, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

/// A registered client: (client id, secret).
async fn client(node: &Node, http: &reqwest::Client) -> (String, String) {
    let registered = ok_json(
        http.post(node.control_plane_http("/client-registration/v0.17/register"))
            .basic_auth("admin", Some(&node.admin_password))
            .json(&json!({"clientName": "oauth-test", "owner": "admin", "grantType": "client_credentials password"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    (
        registered["clientId"].as_str().unwrap().to_string(),
        registered["clientSecret"].as_str().unwrap().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_tells_active_tokens_from_the_rest() {
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let http = http_client();
    let (id, secret) = client(&node, &http).await;
    let issued = http
        .post(node.control_plane_http("/oauth2/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "default")])
        .send()
        .await
        .unwrap();
    // Token responses are not to be cached (RFC 6749 §5.1).
    assert_eq!(issued.headers()["cache-control"], "no-store");
    assert_eq!(issued.headers()["pragma"], "no-cache");
    let token = ok_json(issued, StatusCode::OK).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // Client authentication in the form (client_secret_post), as RFC 6749 §2.3.1 allows.
    let introspect = |token: String| {
        http.post(node.control_plane_http("/oauth2/introspect"))
            .form(&[
                ("token", token.as_str()),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
            ])
            .send()
    };
    let response = introspect(token.clone()).await.unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let active = ok_json(response, StatusCode::OK).await;
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["client_id"], id.as_str());
    assert_eq!(active["token_type"], "Bearer");
    assert_eq!(active["scope"], "default");
    assert!(active["exp"].as_i64().unwrap() > active["iat"].as_i64().unwrap());

    for garbage in ["", "not-a-token", "a.b.c"] {
        let response = introspect(garbage.to_string()).await.unwrap();
        if garbage.is_empty() {
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            continue;
        }
        let inactive = ok_json(response, StatusCode::OK).await;
        assert_eq!(inactive, json!({"active": false}), "{garbage}");
    }
    // A tampered payload is not active either.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[1] = parts[1].chars().rev().collect();
    let inactive = ok_json(introspect(parts.join(".")).await.unwrap(), StatusCode::OK).await;
    assert_eq!(inactive["active"], false);

    // Revoked: inactive from then on.
    let revoked = http
        .post(node.control_plane_http("/oauth2/revoke"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let inactive = ok_json(introspect(token.clone()).await.unwrap(), StatusCode::OK).await;
    assert_eq!(inactive, json!({"active": false}));

    // Only authenticated clients may ask.
    let anonymous = http
        .post(node.control_plane_http("/oauth2/introspect"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = http
        .post(node.control_plane_http("/oauth2/introspect"))
        .basic_auth(&id, Some("not-the-secret"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_lists_what_is_supported() {
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let http = http_client();
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/oauth2/token",
    ] {
        let metadata: Value = ok_json(
            http.get(node.control_plane_https(path))
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        let issuer = metadata["issuer"].as_str().unwrap();
        assert!(issuer.ends_with("/oauth2/token"), "{issuer}");
        let base = issuer.trim_end_matches("/oauth2/token");
        assert_eq!(metadata["token_endpoint"], format!("{base}/oauth2/token"));
        assert_eq!(metadata["jwks_uri"], format!("{base}/oauth2/jwks"));
        assert_eq!(
            metadata["introspection_endpoint"],
            format!("{base}/oauth2/introspect")
        );
        assert_eq!(
            metadata["revocation_endpoint"],
            format!("{base}/oauth2/revoke")
        );
        assert_eq!(
            metadata["grant_types_supported"],
            json!([
                "authorization_code",
                "client_credentials",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "password"
            ])
        );
        assert_eq!(
            metadata["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post"])
        );
        // The advertised endpoints answer.
        let jwks = ok_json(
            http.get(node.control_plane_https("/oauth2/jwks"))
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert!(!jwks["keys"].as_array().unwrap().is_empty());
    }
}
