//! `deployment.toml`'s switches reach the rules they set, in a real process: self sign-up
//! and anonymous browsing switched off, application attributes declared, the password grant
//! switched off. (What each rule then does is tested in process, with the same settings.)

use std::path::Path;

use reqwest::StatusCode;
use serde_json::json;
use tollgate_testkit::flow::get_public_json;
use tollgate_testkit::gateway::Answer;
use tollgate_testkit::oauth::register_client;
use tollgate_testkit::{http_client, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

const CONFIG: &str = r#"
[identity_mgt.user_self_registration]
allow_self_registration = false

[apim.devportal]
enable_anonymous_mode = false

[[apim.devportal.application_attributes]]
name = "External Reference Id"
description = "Your order system's id"
required = true

[[apim.devportal.application_attributes]]
name = "Region"
default = "eu"
hidden = true

[oauth.grant_type.password]
enable = false
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switches_in_deployment_toml_reach_their_rules() {
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: CONFIG.into(),
            ..NodeOptions::default()
        },
    )
    .await;
    let http = http_client();
    // Raw requests: each checks how a switched-off path refuses.
    let sign_up = http
        .post(node.control_plane_http("/api/identity/user/v1.0/me"))
        .json(&json!({"userName": "frank", "password": "frank-secret-1"}))
        .send()
        .await
        .unwrap();
    Answer::read(sign_up).await.refused(StatusCode::FORBIDDEN);

    let anonymous = http
        .get(node.control_plane_http("/api/am/devportal/v3/apis"))
        .send()
        .await
        .unwrap();
    let refused = Answer::read(anonymous)
        .await
        .refused(StatusCode::UNAUTHORIZED);
    assert!(refused.to_string().contains("anonymous"), "{refused}");

    let declared = http
        .get(node.control_plane_http("/api/am/devportal/v3/settings/application-attributes"))
        .basic_auth("admin", Some(&node.admin_password))
        .send()
        .await
        .unwrap();
    let declared = Answer::read(declared).await.expect(StatusCode::OK);
    assert_eq!(declared["count"], 2);
    assert_eq!(declared["list"][0]["attribute"], "External Reference Id");
    assert_eq!(declared["list"][0]["required"], "true");
    assert_eq!(declared["list"][1]["hidden"], "true");

    let client = register_client(&node, "config-test", "password client_credentials").await;
    let error = client
        .token_refused(
            &[
                ("grant_type", "password"),
                ("username", "admin"),
                ("password", &node.admin_password),
            ],
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(error, "unsupported_grant_type");
    let metadata =
        get_public_json(&node.control_plane_https("/.well-known/oauth-authorization-server")).await;
    assert!(!metadata["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("password")));
}
