//! Users as WSO2's scripts manage them, through the real endpoints: self sign-up at WSO2
//! Identity Server's path (subscribers only, password rules, switchable off), SCIM 2.0 Users
//! and Groups for the administrator (roles are groups, on both databases), and a user's own
//! password.

use serde_json::{json, Value};
use tollgate_testbed::{Settings, TestBed};

use super::{create_api, pizzashack, register_client, token_request};

const SIGN_UP: &str = "/api/identity/user/v1.0/me";

/// The granted scopes and the access token of a password grant for `username`, if it succeeds
/// (through a client registered for it).
async fn login(
    bed: &TestBed,
    username: &str,
    password: &str,
    scope: &str,
) -> Option<(String, String)> {
    let client = register_client(bed, "password").await;
    let reply = token_request(
        bed,
        &client,
        &[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
            ("scope", scope),
        ],
    )
    .await;
    if reply.status != 200 {
        return None;
    }
    let token = reply.json();
    Some((
        token["scope"].as_str()?.to_string(),
        token["access_token"].as_str()?.to_string(),
    ))
}

/// The scopes `username` is granted by the password grant, if it succeeds.
async fn scopes_of(bed: &TestBed, username: &str, password: &str, scope: &str) -> Option<String> {
    login(bed, username, password, scope)
        .await
        .map(|(scope, _)| scope)
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

async fn sign_up(bed: &TestBed, body: &Value) -> tollgate_testbed::Reply {
    bed.post(SIGN_UP).json(body).send().await
}

#[tokio::test]
async fn consumers_sign_up_as_subscribers() {
    let bed = TestBed::sqlite().await;
    let created = sign_up(&bed, &sign_up_body("carol", "carol-secret-1"))
        .await
        .expect(201);
    assert_eq!(created["userName"], "carol");
    assert_eq!(created["name"]["givenName"], "Carol");
    assert_eq!(created["groups"][0]["display"], "subscriber");
    assert_eq!(created["emails"][0]["value"], "carol@example.com");

    // A subscriber's token: the subscriber's scopes, never the publisher's — not even when an
    // API declares a scope of the REST APIs' name bound to no role.
    let mut api = pizzashack("http://127.0.0.1:9/");
    api["scopes"] = json!([{"scope": {"name": "apim:admin", "displayName": "sneaky", "bindings": []}, "shared": false}]);
    create_api(&bed, &api).await;
    let scopes = scopes_of(
        &bed,
        "carol",
        "carol-secret-1",
        "apim:subscribe apim:api_create apim:admin",
    )
    .await
    .expect("the new user signs in");
    assert_eq!(scopes, "apim:subscribe");

    // The same name again, a password that is the username, one too short: refused, naming
    // the field; no role can be asked for.
    sign_up(&bed, &sign_up_body("carol", "another-secret"))
        .await
        .refused(409);
    for (body, field) in [
        (sign_up_body("dave", "Dave"), "user.password"),
        (sign_up_body("dave", "short"), "user.password"),
        (sign_up_body("da ve", "dave-secret-1"), "userName"),
        (json!({"user": {"username": "dave"}}), "password"),
    ] {
        let refused = sign_up(&bed, &body).await.refused(400);
        assert!(refused.to_string().contains(field), "{field}: {refused}");
    }
    let scim_style = sign_up(
        &bed,
        &json!({"userName": "erin", "password": "erin-secret-1", "groups": [{"display": "admin"}]}),
    )
    .await
    .expect(201);
    let roles: Vec<&str> = scim_style["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["subscriber"], "sign-up made more than a subscriber");

    // Switched off: refused.
    let mut settings = Settings::default();
    settings.users.self_sign_up = false;
    let closed = TestBed::sqlite_with(settings).await;
    sign_up(&closed, &sign_up_body("frank", "frank-secret-1"))
        .await
        .refused(403);
}

#[tokio::test]
async fn administrators_manage_users_and_roles_through_scim() {
    manage_users_and_roles(TestBed::sqlite().await).await;
}

/// The same on PostgreSQL: every user and role query runs on both databases.
#[tokio::test]
async fn administrators_manage_users_and_roles_through_scim_on_postgres() {
    manage_users_and_roles(TestBed::postgres().await).await;
}

/// The admin's SCIM request (`application/scim+json`), with a body when given.
async fn scim(
    bed: &TestBed,
    method: http::Method,
    path: &str,
    body: Option<Value>,
) -> tollgate_testbed::Reply {
    let mut call = bed.call(method, path).as_user("admin");
    if let Some(body) = body {
        call = call.body("application/scim+json", body.to_string());
    }
    call.send().await
}

/// The bed starts with admin, creator, publisher, alice and bob; the scenario adds wendy (the
/// only name with a `w` or a `y`).
async fn manage_users_and_roles(bed: TestBed) {
    use http::Method;

    // Create a user with a role.
    let wendy = scim(
        &bed,
        Method::POST,
        "/scim2/Users",
        Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "wendy", "password": "wendy-secret-1",
            "name": {"givenName": "Wendy", "familyName": "Builder"},
            "emails": [{"value": "wendy@example.com", "primary": true}],
            "groups": [{"display": "creator"}]}),
        ),
    )
    .await
    .expect(201);
    let wendy_id = wendy["id"].as_str().unwrap().to_string();
    assert_eq!(wendy["groups"][0]["display"], "creator");
    assert_eq!(wendy["meta"]["resourceType"], "User");
    let scopes = scopes_of(
        &bed,
        "wendy",
        "wendy-secret-1",
        "apim:api_create apim:admin",
    )
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
        let refused = scim(&bed, Method::POST, "/scim2/Users", Some(body))
            .await
            .refused(400);
        assert!(refused.to_string().contains(field), "{field}: {refused}");
    }
    scim(
        &bed,
        Method::POST,
        "/scim2/Users",
        Some(json!({"userName": "wendy", "password": "wendy-secret-2"})),
    )
    .await
    .refused(409);

    // List with filters and paging.
    let list = |query: &'static str| {
        let bed = &bed;
        async move {
            scim(bed, Method::GET, &format!("/scim2/Users{query}"), None)
                .await
                .expect(200)
        }
    };
    let all = list("").await;
    assert_eq!(all["totalResults"], 6, "{all}");
    assert_eq!(
        all["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    let found = list("?filter=userName%20eq%20%22wendy%22").await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], wendy_id.as_str());
    assert_eq!(list("?filter=userName%20sw%20W").await["totalResults"], 1);
    assert_eq!(list("?filter=userName%20co%20y").await["totalResults"], 1);
    assert_eq!(list("?filter=userName%20co%20%25").await["totalResults"], 0);
    let paged = list("?startIndex=2&count=1").await;
    assert_eq!(paged["itemsPerPage"], 1);
    assert_eq!(paged["startIndex"], 2);
    scim(&bed, Method::GET, "/scim2/Users?filter=emails%20pr", None)
        .await
        .refused(400);

    // Change the password and the name: the old password stops working.
    let patched = scim(
        &bed,
        Method::PATCH,
        &format!("/scim2/Users/{wendy_id}"),
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "replace", "path": "password", "value": "wendy-secret-2"},
                {"op": "replace", "value": {"name": {"givenName": "Gwendolyn", "familyName": "Builder"}}}
            ]})),
    )
    .await
    .expect(200);
    assert_eq!(patched["name"]["givenName"], "Gwendolyn");
    assert!(scopes_of(&bed, "wendy", "wendy-secret-1", "default")
        .await
        .is_none());
    assert!(scopes_of(&bed, "wendy", "wendy-secret-2", "default")
        .await
        .is_some());
    let refused = scim(
        &bed,
        Method::PATCH,
        &format!("/scim2/Users/{wendy_id}"),
        Some(json!({"Operations": [{"op": "replace", "path": "password", "value": "wendy"}]})),
    )
    .await
    .refused(400);
    assert!(refused.to_string().contains("password"), "{refused}");

    // Groups: a new role with wendy in it; members added and removed.
    let auditors = scim(
        &bed,
        Method::POST,
        "/scim2/Groups",
        Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "auditors", "members": [{"value": wendy_id, "display": "wendy"}]}),
        ),
    )
    .await
    .expect(201);
    let auditors_id = auditors["id"].as_str().unwrap().to_string();
    assert_eq!(auditors["members"][0]["display"], "wendy");
    let groups = scim(
        &bed,
        Method::GET,
        "/scim2/Groups?filter=displayName%20eq%20%22auditors%22",
        None,
    )
    .await
    .expect(200);
    assert_eq!(groups["totalResults"], 1);
    let wendy_now = scim(&bed, Method::GET, &format!("/scim2/Users/{wendy_id}"), None)
        .await
        .expect(200);
    let roles: Vec<&str> = wendy_now["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["auditors", "creator"]);
    let emptied = scim(
        &bed,
        Method::PATCH,
        &format!("/scim2/Groups/{auditors_id}"),
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": format!("members[value eq \"{wendy_id}\"]")}]}),
        ),
    )
    .await
    .expect(200);
    assert_eq!(emptied["members"], json!([]));
    // wendy becomes a publisher through the built-in group.
    let all_groups = scim(&bed, Method::GET, "/scim2/Groups", None)
        .await
        .expect(200);
    let publisher_id = all_groups["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["displayName"] == "publisher")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    scim(
        &bed,
        Method::PATCH,
        &format!("/scim2/Groups/{publisher_id}"),
        Some(json!({"Operations": [{"op": "add", "value": {"members": [{"value": wendy_id}]}}]})),
    )
    .await
    .expect(200);
    let (scopes, publish_token) = login(&bed, "wendy", "wendy-secret-2", "apim:api_publish")
        .await
        .unwrap();
    assert_eq!(scopes, "apim:api_publish");
    let publish_unknown_api = |token: String| {
        let bed = &bed;
        async move {
            bed.post("/api/am/publisher/v4/apis/change-lifecycle?apiId=no-such-api&action=Publish")
                .bearer(&token)
                .send()
                .await
                .status
        }
    };
    assert_eq!(publish_unknown_api(publish_token.clone()).await, 404);
    // `replace` sets the member list: wendy is no publisher any more, and her token stops
    // carrying the publisher's scope at once.
    let replaced = scim(
        &bed,
        Method::PATCH,
        &format!("/scim2/Groups/{publisher_id}"),
        Some(json!({"Operations": [{"op": "replace", "path": "members", "value": []}]})),
    )
    .await
    .expect(200);
    assert_eq!(replaced["members"], json!([]));
    assert_eq!(publish_unknown_api(publish_token).await, 403);
    scim(
        &bed,
        Method::PATCH,
        &format!("/scim2/Groups/{publisher_id}"),
        Some(json!({"Operations": [{"op": "add", "value": {"members": [{"value": "no-such-user"}]}}]})),
    )
    .await
    .refused(400);
    assert_eq!(
        scim(
            &bed,
            Method::DELETE,
            &format!("/scim2/Groups/{auditors_id}"),
            None
        )
        .await
        .status,
        204
    );
    scim(
        &bed,
        Method::DELETE,
        &format!("/scim2/Groups/{publisher_id}"),
        None,
    )
    .await
    .refused(400);

    // Only administrators manage users.
    bed.get("/scim2/Users")
        .basic_auth("wendy", "wendy-secret-2")
        .send()
        .await
        .refused(403);
    bed.get("/scim2/Users").send().await.refused(401);

    // Lock and unlock (WSO2 IS's enterprise extension): a locked wendy cannot sign in.
    let patch = |operations: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    let locked = scim(
        &bed,
        Method::PATCH,
        &format!("/scim2/Users/{wendy_id}"),
        Some(patch(json!([{"op": "replace", "value": {
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"accountLocked": true}}}]))),
    )
    .await
    .expect(200);
    assert_eq!(
        locked["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["accountLocked"], true,
        "{locked}"
    );
    assert!(scopes_of(&bed, "wendy", "wendy-secret-2", "default")
        .await
        .is_none());
    let unlocked = scim(
        &bed,
        Method::PATCH,
        &format!("/scim2/Users/{wendy_id}"),
        Some(patch(json!([{"op": "replace",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:accountLocked",
            "value": false}]))),
    )
    .await
    .expect(200);
    assert_eq!(
        unlocked["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["accountLocked"],
        false
    );
    assert!(scopes_of(&bed, "wendy", "wendy-secret-2", "default")
        .await
        .is_some());
    let bad = scim(
        &bed,
        Method::PATCH,
        &format!("/scim2/Users/{wendy_id}"),
        Some(patch(
            json!([{"op": "replace", "path": "accountLocked", "value": "maybe"}]),
        )),
    )
    .await
    .refused(400);
    assert!(bad.to_string().contains("Operations[0].value"), "{bad}");
    let admin_id = list("?filter=userName%20eq%20admin").await["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = scim(
        &bed,
        Method::PATCH,
        &format!("/scim2/Users/{admin_id}"),
        Some(patch(
            json!([{"op": "replace", "path": "accountLocked", "value": true}]),
        )),
    )
    .await
    .refused(400);
    assert!(refused.to_string().contains("accountLocked"), "{refused}");

    // Delete: wendy can no longer sign in; the administrator cannot delete themselves.
    assert_eq!(
        scim(
            &bed,
            Method::DELETE,
            &format!("/scim2/Users/{wendy_id}"),
            None
        )
        .await
        .status,
        204
    );
    assert!(scopes_of(&bed, "wendy", "wendy-secret-2", "default")
        .await
        .is_none());
    scim(&bed, Method::GET, &format!("/scim2/Users/{wendy_id}"), None)
        .await
        .refused(404);
    // The name stays taken: nobody inherits what was wendy's.
    sign_up(
        &bed,
        &json!({"userName": "wendy", "password": "not-wendys-secret"}),
    )
    .await
    .refused(409);
    scim(
        &bed,
        Method::DELETE,
        &format!("/scim2/Users/{admin_id}"),
        None,
    )
    .await
    .refused(409);
}

#[tokio::test]
async fn users_change_their_own_password() {
    let bed = TestBed::sqlite().await;
    sign_up(&bed, &sign_up_body("dora", "dora-first-1"))
        .await
        .expect(201);
    let (_, token) = login(&bed, "dora", "dora-first-1", "apim:subscribe")
        .await
        .unwrap();
    let change = |body: Value| {
        let (bed, token) = (&bed, token.clone());
        async move {
            bed.post("/api/am/devportal/v3/me/change-password")
                .bearer(&token)
                .json(&body)
                .send()
                .await
        }
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
        let refused = change(body).await.refused(400);
        assert!(refused.to_string().contains(field), "{field}: {refused}");
    }
    change(json!({"currentPassword": "dora-first-1", "newPassword": "dora-second-2"}))
        .await
        .expect(200);
    assert!(scopes_of(&bed, "dora", "dora-first-1", "apim:subscribe")
        .await
        .is_none());
    assert!(scopes_of(&bed, "dora", "dora-second-2", "apim:subscribe")
        .await
        .is_some());
}
