//! Users through a real process, the way WSO2's scripts manage them: self sign-up at WSO2
//! Identity Server's path (subscribers only, password rules, switchable off) and SCIM 2.0 Users
//! and Groups for the administrator (roles are groups) — no user is written into the database
//! by hand.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_testkit::flow::{error_body, ok_json};
use tollgate_testkit::{http_client, Node, NodeOptions, PgDatabase};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

struct Client {
    node: Node,
    http: reqwest::Client,
}

impl Client {
    fn url(&self, path: &str) -> String {
        self.node.control_plane_http(path)
    }

    fn admin(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.basic_auth("admin", Some(&self.node.admin_password))
    }

    async fn scim(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self.admin(self.http.request(method, self.url(path)));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/scim+json")
                .body(body.to_string());
        }
        request.send().await.unwrap()
    }

    /// Whether `username` gets a token with `scope` by the password grant; the granted scopes.
    async fn login(&self, username: &str, password: &str, scope: &str) -> Option<String> {
        self.token(username, password, scope)
            .await
            .map(|(scope, _)| scope)
    }

    /// The granted scopes and the access token of a password grant, if it succeeds.
    async fn token(&self, username: &str, password: &str, scope: &str) -> Option<(String, String)> {
        let registered = ok_json(
            self.admin(self.http.post(self.url("/client-registration/v0.17/register")))
                .json(&json!({"clientName": format!("login-{username}"), "owner": "admin", "grantType": "password"}))
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        let response = self
            .http
            .post(self.node.control_plane_https("/oauth2/token"))
            .basic_auth(
                registered["clientId"].as_str().unwrap(),
                registered["clientSecret"].as_str(),
            )
            .form(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap();
        if response.status() != StatusCode::OK {
            return None;
        }
        let token: Value = response.json().await.unwrap();
        Some((
            token["scope"].as_str()?.to_string(),
            token["access_token"].as_str()?.to_string(),
        ))
    }
}

async fn start(extra_config: &str) -> Client {
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: extra_config.into(),
            ..NodeOptions::default()
        },
    )
    .await;
    Client {
        node,
        http: http_client(),
    }
}

fn sign_up_body(username: &str, password: &str) -> Value {
    json!({"user": {"username": username, "realm": "PRIMARY", "password": password,
        "claims": [
            {"uri": "http://wso2.org/claims/givenname", "value": "Carol"},
            {"uri": "http://wso2.org/claims/lastname", "value": "Consumer"},
            {"uri": "http://wso2.org/claims/emailaddress", "value": "carol@example.com"}
        ]},
        "properties": []})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_sign_up_as_subscribers() {
    let client = start("").await;
    let sign_up = |body: Value| {
        client
            .http
            .post(client.url("/api/identity/user/v1.0/me"))
            .json(&body)
            .send()
    };
    let created = ok_json(
        sign_up(sign_up_body("carol", "carol-secret-1"))
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["userName"], "carol");
    assert_eq!(created["name"]["givenName"], "Carol");
    assert_eq!(created["groups"][0]["display"], "subscriber");
    assert_eq!(created["emails"][0]["value"], "carol@example.com");

    // A subscriber's token: the subscriber's scopes, never the publisher's — not even when an
    // API declares a scope of the REST APIs' name bound to no role.
    let flow = tollgate_testkit::flow::Flow::login(&client.node).await;
    let mut api = tollgate_testkit::flow::pizzashack("http://127.0.0.1:9/");
    api["scopes"] = json!([{"scope": {"name": "apim:admin", "displayName": "sneaky", "bindings": []}, "shared": false}]);
    ok_json(
        flow.post(flow.publisher("/apis"), api).await,
        StatusCode::CREATED,
    )
    .await;
    let scopes = client
        .login(
            "carol",
            "carol-secret-1",
            "apim:subscribe apim:api_create apim:admin",
        )
        .await
        .expect("the new user signs in");
    assert_eq!(scopes, "apim:subscribe");

    // The same name again, a password that is the username, one too short: refused, naming
    // the field; no role can be asked for.
    error_body(
        sign_up(sign_up_body("carol", "another-secret"))
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    for (body, field) in [
        (sign_up_body("dave", "Dave"), "user.password"),
        (sign_up_body("dave", "short"), "user.password"),
        (sign_up_body("da ve", "dave-secret-1"), "userName"),
        (json!({"user": {"username": "dave"}}), "password"),
    ] {
        let refused = error_body(sign_up(body).await.unwrap(), StatusCode::BAD_REQUEST).await;
        assert!(refused.to_string().contains(field), "{field}: {refused}");
    }
    let scim_style = ok_json(
        sign_up(json!({"userName": "erin", "password": "erin-secret-1",
            "groups": [{"display": "admin"}]}))
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let roles: Vec<&str> = scim_style["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["subscriber"], "sign-up made more than a subscriber");

    // Switched off: refused.
    let closed =
        start("[identity_mgt.user_self_registration]\nallow_self_registration = false\n").await;
    let refused = closed
        .http
        .post(closed.url("/api/identity/user/v1.0/me"))
        .json(&sign_up_body("frank", "frank-secret-1"))
        .send()
        .await
        .unwrap();
    error_body(refused, StatusCode::FORBIDDEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_manage_users_and_roles_through_scim() {
    manage_users_and_roles(start("").await).await;
}

/// The same on PostgreSQL: every user and role query runs on both databases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_manage_users_and_roles_through_scim_on_postgres() {
    let (apim, shared) = (PgDatabase::create().await, PgDatabase::create().await);
    let client = start(&format!(
        "[database.apim_db]\nurl = \"{}\"\n\n[database.shared_db]\nurl = \"{}\"\n",
        apim.url(),
        shared.url()
    ))
    .await;
    manage_users_and_roles(client).await;
}

async fn manage_users_and_roles(client: Client) {
    use reqwest::Method;

    // Create a user with a role.
    let bob = ok_json(
        client
            .scim(
                Method::POST,
                "/scim2/Users",
                Some(
                    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": "bob", "password": "bob-secret-1",
                    "name": {"givenName": "Bob", "familyName": "Builder"},
                    "emails": [{"value": "bob@example.com", "primary": true}],
                    "groups": [{"display": "creator"}]}),
                ),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let bob_id = bob["id"].as_str().unwrap().to_string();
    assert_eq!(bob["groups"][0]["display"], "creator");
    assert_eq!(bob["meta"]["resourceType"], "User");
    let scopes = client
        .login("bob", "bob-secret-1", "apim:api_create apim:admin")
        .await
        .unwrap();
    assert_eq!(scopes, "apim:api_create");

    // Bad input names its field; a taken name is 409.
    for (body, field) in [
        (
            json!({"userName": "x", "password": "x-secret-1", "groups": [{"display": "no-such-role"}]}),
            "groups[0]",
        ),
        (
            json!({"userName": "y", "password": "y-secret-1", "emails": [{"value": "not-an-address"}]}),
            "emails[0].value",
        ),
        (json!({"password": "z-secret-1"}), "userName"),
    ] {
        let refused = error_body(
            client.scim(Method::POST, "/scim2/Users", Some(body)).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(refused.to_string().contains(field), "{field}: {refused}");
    }
    error_body(
        client
            .scim(
                Method::POST,
                "/scim2/Users",
                Some(json!({"userName": "bob", "password": "bob-secret-2"})),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;

    // List with filters and paging.
    let list = |query: &'static str| {
        let client = &client;
        async move {
            ok_json(
                client
                    .scim(Method::GET, &format!("/scim2/Users{query}"), None)
                    .await,
                StatusCode::OK,
            )
            .await
        }
    };
    let all = list("").await;
    assert_eq!(all["totalResults"], 2, "{all}");
    assert_eq!(
        all["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    let found = list("?filter=userName%20eq%20%22bob%22").await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], bob_id.as_str());
    assert_eq!(list("?filter=userName%20sw%20B").await["totalResults"], 1);
    assert_eq!(list("?filter=userName%20co%20o").await["totalResults"], 1);
    assert_eq!(list("?filter=userName%20co%20%25").await["totalResults"], 0);
    let paged = list("?startIndex=2&count=1").await;
    assert_eq!(paged["itemsPerPage"], 1);
    assert_eq!(paged["startIndex"], 2);
    error_body(
        client
            .scim(Method::GET, "/scim2/Users?filter=emails%20pr", None)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Change the password and the name: the old password stops working.
    let patched = ok_json(
        client
            .scim(
                Method::PATCH,
                &format!("/scim2/Users/{bob_id}"),
                Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [
                        {"op": "replace", "path": "password", "value": "bob-secret-2"},
                        {"op": "replace", "value": {"name": {"givenName": "Robert", "familyName": "Builder"}}}
                    ]})),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["name"]["givenName"], "Robert");
    assert!(client
        .login("bob", "bob-secret-1", "default")
        .await
        .is_none());
    assert!(client
        .login("bob", "bob-secret-2", "default")
        .await
        .is_some());
    let refused = error_body(
        client
            .scim(
                Method::PATCH,
                &format!("/scim2/Users/{bob_id}"),
                Some(
                    json!({"Operations": [{"op": "replace", "path": "password", "value": "bob"}]}),
                ),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(refused.to_string().contains("password"), "{refused}");

    // Groups: a new role with bob in it; members added and removed.
    let auditors = ok_json(
        client
            .scim(
                Method::POST,
                "/scim2/Groups",
                Some(
                    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": "auditors", "members": [{"value": bob_id, "display": "bob"}]}),
                ),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let auditors_id = auditors["id"].as_str().unwrap().to_string();
    assert_eq!(auditors["members"][0]["display"], "bob");
    let groups = ok_json(
        client
            .scim(
                Method::GET,
                "/scim2/Groups?filter=displayName%20eq%20%22auditors%22",
                None,
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(groups["totalResults"], 1);
    let bob_now = ok_json(
        client
            .scim(Method::GET, &format!("/scim2/Users/{bob_id}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    let roles: Vec<&str> = bob_now["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["auditors", "creator"]);
    let emptied = ok_json(
        client
            .scim(
                Method::PATCH,
                &format!("/scim2/Groups/{auditors_id}"),
                Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "remove", "path": format!("members[value eq \"{bob_id}\"]")}]})),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emptied["members"], json!([]));
    // bob becomes a publisher through the built-in group.
    let all_groups = ok_json(
        client.scim(Method::GET, "/scim2/Groups", None).await,
        StatusCode::OK,
    )
    .await;
    let publisher_id = all_groups["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["displayName"] == "publisher")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok_json(
        client
            .scim(
                Method::PATCH,
                &format!("/scim2/Groups/{publisher_id}"),
                Some(json!({"Operations": [{"op": "add", "value": {"members": [{"value": bob_id}]}}]})),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let (scopes, publish_token) = client
        .token("bob", "bob-secret-2", "apim:api_publish")
        .await
        .unwrap();
    assert_eq!(scopes, "apim:api_publish");
    let publish_unknown_api = |token: String| {
        let client = &client;
        async move {
            client
                .http
                .post(client.url(
                    "/api/am/publisher/v4/apis/change-lifecycle?apiId=no-such-api&action=Publish",
                ))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        publish_unknown_api(publish_token.clone()).await,
        StatusCode::NOT_FOUND
    );
    // `replace` sets the member list: bob is no publisher any more, and his token stops
    // carrying the publisher's scope at once.
    let replaced = ok_json(
        client
            .scim(
                Method::PATCH,
                &format!("/scim2/Groups/{publisher_id}"),
                Some(json!({"Operations": [{"op": "replace", "path": "members", "value": []}]})),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(replaced["members"], json!([]));
    assert_eq!(
        publish_unknown_api(publish_token).await,
        StatusCode::FORBIDDEN
    );
    error_body(
        client
            .scim(
                Method::PATCH,
                &format!("/scim2/Groups/{publisher_id}"),
                Some(json!({"Operations": [{"op": "add", "value": {"members": [{"value": "no-such-user"}]}}]})),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        client
            .scim(
                Method::DELETE,
                &format!("/scim2/Groups/{auditors_id}"),
                None
            )
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    error_body(
        client
            .scim(
                Method::DELETE,
                &format!("/scim2/Groups/{publisher_id}"),
                None,
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Only administrators manage users.
    let as_bob = client
        .http
        .get(client.url("/scim2/Users"))
        .basic_auth("bob", Some("bob-secret-2"))
        .send()
        .await
        .unwrap();
    error_body(as_bob, StatusCode::FORBIDDEN).await;
    let anonymous = client
        .http
        .get(client.url("/scim2/Users"))
        .send()
        .await
        .unwrap();
    error_body(anonymous, StatusCode::UNAUTHORIZED).await;

    // Lock and unlock (WSO2 IS's enterprise extension): a locked bob cannot sign in.
    let patch = |operations: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    let locked = ok_json(
        client
            .scim(
                Method::PATCH,
                &format!("/scim2/Users/{bob_id}"),
                Some(patch(json!([{"op": "replace", "value": {
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"accountLocked": true}}}]))),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        locked["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["accountLocked"], true,
        "{locked}"
    );
    assert!(client
        .login("bob", "bob-secret-2", "default")
        .await
        .is_none());
    let unlocked = ok_json(
        client
            .scim(
                Method::PATCH,
                &format!("/scim2/Users/{bob_id}"),
                Some(patch(json!([{"op": "replace",
                    "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:accountLocked",
                    "value": false}]))),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        unlocked["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["accountLocked"],
        false
    );
    assert!(client
        .login("bob", "bob-secret-2", "default")
        .await
        .is_some());
    let bad = error_body(
        client
            .scim(
                Method::PATCH,
                &format!("/scim2/Users/{bob_id}"),
                Some(patch(
                    json!([{"op": "replace", "path": "accountLocked", "value": "maybe"}]),
                )),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(bad.to_string().contains("Operations[0].value"), "{bad}");
    let admin_self = list("?filter=userName%20eq%20admin").await["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = error_body(
        client
            .scim(
                Method::PATCH,
                &format!("/scim2/Users/{admin_self}"),
                Some(patch(
                    json!([{"op": "replace", "path": "accountLocked", "value": true}]),
                )),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(refused.to_string().contains("accountLocked"), "{refused}");

    // Delete: bob can no longer sign in; the administrator cannot delete themselves.
    assert_eq!(
        client
            .scim(Method::DELETE, &format!("/scim2/Users/{bob_id}"), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert!(client
        .login("bob", "bob-secret-2", "default")
        .await
        .is_none());
    error_body(
        client
            .scim(Method::GET, &format!("/scim2/Users/{bob_id}"), None)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // The name stays taken: nobody inherits what was bob's.
    error_body(
        client
            .http
            .post(client.url("/api/identity/user/v1.0/me"))
            .json(&json!({"userName": "bob", "password": "not-bobs-secret"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    let admin_id = list("?filter=userName%20eq%20admin").await["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    error_body(
        client
            .scim(Method::DELETE, &format!("/scim2/Users/{admin_id}"), None)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_change_their_own_password() {
    let client = start("").await;
    ok_json(
        client
            .http
            .post(client.url("/api/identity/user/v1.0/me"))
            .json(&sign_up_body("dora", "dora-first-1"))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let (_, token) = client
        .token("dora", "dora-first-1", "apim:subscribe")
        .await
        .unwrap();
    let change = |body: Value| {
        client
            .http
            .post(client.url("/api/am/devportal/v3/me/change-password"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    for (body, field) in [
        (
            json!({"currentPassword": "wrong-password", "newPassword": "dora-second-2"}),
            "currentPassword",
        ),
        (
            json!({"currentPassword": "dora-first-1", "newPassword": "short"}),
            "newPassword",
        ),
        (
            json!({"currentPassword": "dora-first-1", "newPassword": "dora-first-1"}),
            "newPassword",
        ),
    ] {
        let refused = error_body(change(body).await.unwrap(), StatusCode::BAD_REQUEST).await;
        assert!(refused.to_string().contains(field), "{field}: {refused}");
    }
    ok_json(
        change(json!({"currentPassword": "dora-first-1", "newPassword": "dora-second-2"}))
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(client
        .login("dora", "dora-first-1", "apim:subscribe")
        .await
        .is_none());
    assert!(client
        .login("dora", "dora-second-2", "apim:subscribe")
        .await
        .is_some());
}
