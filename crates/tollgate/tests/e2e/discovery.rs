//! Discovery in the developer portal through a real process: who sees which APIs (state,
//! visibility, roles; anonymous visitors; Deprecated APIs for their subscribers), WSO2's
//! search over fields and document text, the definition with gateway URLs that really reach the
//! API, documents, tiers, tags, ratings, and comments the publisher reads and answers.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_testkit::flow::{error_body, ok_json, pizzashack, Flow};
use tollgate_testkit::{http_client, MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

/// A developer portal client as one user (Basic credentials) or as an anonymous visitor.
struct Portal<'n> {
    node: &'n Node,
    http: reqwest::Client,
    user: Option<(&'static str, String)>,
}

impl Portal<'_> {
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = self
            .node
            .control_plane_http(&format!("/api/am/devportal/v3{path}"));
        let request = self.http.request(method, url);
        match &self.user {
            Some((name, password)) => request.basic_auth(name, Some(password)),
            None => request,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> reqwest::Response {
        self.request(method, path).json(&body).send().await.unwrap()
    }

    async fn names(&self, query: &str) -> Vec<String> {
        let list = ok_json(self.get(&format!("/apis{query}")).await, StatusCode::OK).await;
        let mut names: Vec<String> = list["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        assert_eq!(list["count"], names.len());
        names
    }
}

async fn scim(node: &Node, path: &str, body: Value) -> Value {
    ok_json(
        http_client()
            .post(node.control_plane_http(path))
            .basic_auth("admin", Some(&node.admin_password))
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await
}

fn api(name: &str, context: &str, backend: &str) -> Value {
    let mut api = pizzashack(backend);
    api["name"] = json!(name);
    api["context"] = json!(context);
    api["tags"] = json!([name.to_lowercase()]);
    api["description"] = json!(format!("The {name} API"));
    api
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_find_what_they_may_see() {
    let backend = MockBackend::start().await;
    let node = Node::start(Path::new(BIN), NodeOptions::default()).await;
    let flow = Flow::login(&node).await;

    // Two subscribers; alice is a partner.
    scim(
        &node,
        "/scim2/Groups",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "partners"}),
    )
    .await;
    for (name, groups) in [
        (
            "alice",
            json!([{"display": "subscriber"}, {"display": "partners"}]),
        ),
        ("bob", json!([{"display": "subscriber"}])),
    ] {
        scim(
            &node,
            "/scim2/Users",
            json!({"userName": name, "password": format!("{name}-secret-1"), "groups": groups}),
        )
        .await;
    }
    let portal = |user: Option<&'static str>| Portal {
        node: &node,
        http: http_client(),
        user: user.map(|u| (u, format!("{u}-secret-1"))),
    };
    let (anonymous, alice, bob) = (portal(None), portal(Some("alice")), portal(Some("bob")));

    // A public API with a document, one for partners, one for signed-in users, and a draft.
    let public_id = flow.publish_api(pizzashack(&backend.url())).await;
    let mut partner = api("Partner", "/partner", &backend.url());
    partner["visibility"] = json!("RESTRICTED");
    partner["visibleRoles"] = json!(["Internal/partners"]);
    let partner_id = flow.publish_api(partner).await;
    let mut internal = api("Internal", "/internal", &backend.url());
    internal["visibility"] = json!("PRIVATE");
    flow.publish_api(internal).await;
    ok_json(
        flow.post(
            flow.publisher("/apis"),
            api("Draft", "/draft", &backend.url()),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    ok_json(
        flow.post(
            flow.publisher(&format!("/apis/{public_id}/documents")),
            json!({"name": "Ordering", "type": "HOWTO", "summary": "How to order", "sourceType": "INLINE",
                "visibility": "API_LEVEL", "inlineContent": "Order a margherita with extra basil."}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // Who sees what.
    assert_eq!(anonymous.names("").await, ["PizzaShackAPI"]);
    assert_eq!(bob.names("").await, ["Internal", "PizzaShackAPI"]);
    assert_eq!(
        alice.names("").await,
        ["Internal", "Partner", "PizzaShackAPI"]
    );
    error_body(
        anonymous.get(&format!("/apis/{partner_id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    error_body(
        bob.get(&format!("/apis/{partner_id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let seen = ok_json(
        alice.get(&format!("/apis/{partner_id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["name"], "Partner");
    let http_url = seen["endpointURLs"][0]["URLs"]["http"].as_str().unwrap();
    assert!(http_url.ends_with("/partner/1.0.0"), "{seen}");

    // WSO2's search: fields, tags, document text; it never reveals what the viewer may not see.
    assert_eq!(anonymous.names("?query=tag:pizza").await, ["PizzaShackAPI"]);
    assert_eq!(anonymous.names("?query=doc:basil").await, ["PizzaShackAPI"]);
    assert_eq!(alice.names("?query=partner").await, ["Partner"]);
    assert!(bob.names("?query=partner").await.is_empty());
    assert!(anonymous.names("?query=name:draft").await.is_empty());
    let refused = error_body(
        anonymous.get("/apis?query=colour:red").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(refused.to_string().contains("query"), "{refused}");
    let found = ok_json(anonymous.get("/search?query=basil").await, StatusCode::OK).await;
    let hits = found["list"].as_array().unwrap();
    assert!(
        hits.iter().any(|h| h["type"] == "DOC"
            && h["name"] == "Ordering"
            && h["apiName"] == "PizzaShackAPI"),
        "{found}"
    );
    let tags = ok_json(anonymous.get("/tags").await, StatusCode::OK).await;
    assert_eq!(tags["list"], json!([{"value": "pizza", "count": 1}]));
    let tags = ok_json(alice.get("/tags").await, StatusCode::OK).await;
    assert_eq!(tags["count"], 3, "{tags}");

    // The definition names the gateway URLs and a security scheme; the URL reaches the API.
    let swagger = ok_json(
        anonymous.get(&format!("/apis/{public_id}/swagger")).await,
        StatusCode::OK,
    )
    .await;
    let servers: Vec<&str> = swagger["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["url"].as_str().unwrap())
        .collect();
    assert!(
        servers.iter().all(|s| s.ends_with("/pizzashack/1.0.0")),
        "{servers:?}"
    );
    let token_url = swagger["components"]["securitySchemes"]["default"]["flows"]
        ["clientCredentials"]["tokenUrl"]
        .as_str()
        .unwrap();
    assert!(token_url.ends_with("/oauth2/token"), "{swagger}");
    assert_eq!(swagger["security"], json!([{"default": []}]));
    let http_server = servers.iter().find(|s| s.starts_with("http://")).unwrap();
    let (_, token) = flow
        .application_with_token("Explorer", Some(&public_id))
        .await;
    let menu = flow
        .http
        .get(format!("{http_server}/menu"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(menu.status(), StatusCode::OK);
    error_body(
        anonymous
            .get(&format!(
                "/apis/{public_id}/swagger?environmentName=Nowhere"
            ))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Documents, their content, tiers; an SDK is not generated (501, said so).
    let documents = ok_json(
        anonymous.get(&format!("/apis/{public_id}/documents")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(documents["count"], 1);
    let document_id = documents["list"][0]["documentId"].as_str().unwrap();
    let content = anonymous
        .get(&format!(
            "/apis/{public_id}/documents/{document_id}/content"
        ))
        .await;
    assert_eq!(content.status(), StatusCode::OK);
    assert!(content.text().await.unwrap().contains("basil"));
    error_body(
        anonymous
            .get(&format!("/apis/{partner_id}/documents"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let tiers = ok_json(
        anonymous
            .get(&format!("/apis/{public_id}/subscription-policies"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tiers[0]["name"], "Unlimited", "{tiers}");
    error_body(
        anonymous.get(&format!("/apis/{public_id}/thumbnail")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    error_body(
        anonymous.get(&format!("/apis/{public_id}/sdks/java")).await,
        StatusCode::NOT_IMPLEMENTED,
    )
    .await;

    // Ratings: one per user; the average; bad input named.
    for (who, rating) in [(&alice, 5), (&bob, 2), (&alice, 4)] {
        ok_json(
            who.send(
                Method::PUT,
                &format!("/apis/{public_id}/user-rating"),
                json!({"rating": rating}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
    let ratings = ok_json(
        alice.get(&format!("/apis/{public_id}/ratings")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ratings["avgRating"], "3.0");
    assert_eq!(ratings["userRating"], 4);
    assert_eq!(ratings["pagination"]["total"], 2);
    let refused = error_body(
        bob.send(
            Method::PUT,
            &format!("/apis/{public_id}/user-rating"),
            json!({"rating": 7}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(refused.to_string().contains("rating"), "{refused}");
    error_body(
        anonymous
            .send(
                Method::PUT,
                &format!("/apis/{public_id}/user-rating"),
                json!({"rating": 3}),
            )
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    ok_json(
        bob.request(Method::DELETE, &format!("/apis/{public_id}/user-rating"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    error_body(
        bob.get(&format!("/apis/{public_id}/user-rating")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let list = ok_json(anonymous.get("/apis").await, StatusCode::OK).await;
    assert_eq!(list["list"][0]["avgRating"], "4.0");

    // Comments with replies; the publisher reads and answers them.
    let comments = format!("/apis/{public_id}/comments");
    let question = ok_json(
        alice
            .send(
                Method::POST,
                &comments,
                json!({"content": "Is there a vegan pizza?"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let question_id = question["id"].as_str().unwrap().to_string();
    assert_eq!(question["createdBy"], "alice");
    assert_eq!(question["entryPoint"], "devPortal");
    ok_json(
        bob.send(
            Method::POST,
            &format!("{comments}?replyTo={question_id}"),
            json!({"content": "I'd like to know too"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let publisher_comments = flow.publisher(&comments);
    let seen = ok_json(flow.get(publisher_comments.clone()).await, StatusCode::OK).await;
    assert_eq!(seen["count"], 1);
    assert_eq!(seen["list"][0]["replies"]["count"], 1);
    let answer = ok_json(
        flow.post(
            format!("{publisher_comments}?replyTo={question_id}"),
            json!({"content": "Yes: the Garden one."}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(answer["entryPoint"], "publisher");
    let thread = ok_json(
        anonymous.get(&format!("{comments}/{question_id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(thread["replies"]["count"], 2, "{thread}");
    let replies = ok_json(
        anonymous
            .get(&format!("{comments}/{question_id}/replies"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(replies["list"][1]["createdBy"], "admin");
    // Only the author edits; only the author or an administrator deletes.
    error_body(
        bob.send(
            Method::PATCH,
            &format!("{comments}/{question_id}"),
            json!({"content": "hijacked"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let refused = error_body(
        alice
            .send(
                Method::PATCH,
                &format!("{comments}/{question_id}"),
                json!({"content": "x".repeat(513)}),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(refused.to_string().contains("content"), "{refused}");
    let edited = ok_json(
        alice
            .send(
                Method::PATCH,
                &format!("{comments}/{question_id}"),
                json!({"content": "Is there a vegan pizza on the menu?"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["content"], "Is there a vegan pizza on the menu?");
    error_body(
        bob.request(Method::DELETE, &format!("{comments}/{question_id}"))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    error_body(
        anonymous.get(&format!("/apis/{partner_id}/comments")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    ok_json(
        alice
            .request(Method::DELETE, &format!("{comments}/{question_id}"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let none = ok_json(anonymous.get(&comments).await, StatusCode::OK).await;
    assert_eq!(none["count"], 0);

    // A Deprecated API stays visible to its subscribers only.
    let old_id = flow
        .publish_api(api("Legacy", "/legacy", &backend.url()))
        .await;
    let app = ok_json(
        alice
            .send(
                Method::POST,
                "/applications",
                json!({"name": "AliceApp", "throttlingPolicy": "Unlimited"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    ok_json(
        alice
            .send(
                Method::POST,
                "/subscriptions",
                json!({"applicationId": app["applicationId"], "apiId": old_id, "throttlingPolicy": "Unlimited"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    ok_json(
        flow.http
            .post(flow.publisher(&format!(
                "/apis/change-lifecycle?apiId={old_id}&action=Deprecate"
            )))
            .bearer_auth(&flow.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(alice.names("").await.contains(&"Legacy".to_string()));
    assert!(!bob.names("").await.contains(&"Legacy".to_string()));
    // Nor can bob subscribe to what he cannot see.
    let bob_app = ok_json(
        bob.send(
            Method::POST,
            "/applications",
            json!({"name": "BobApp", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    error_body(
        bob.send(
            Method::POST,
            "/subscriptions",
            json!({"applicationId": bob_app["applicationId"], "apiId": partner_id, "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_browsing_can_be_switched_off() {
    let backend = MockBackend::start().await;
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: "[apim.devportal]\nenable_anonymous_mode = false\n".into(),
            ..NodeOptions::default()
        },
    )
    .await;
    let flow = Flow::login(&node).await;
    flow.publish_api(pizzashack(&backend.url())).await;
    let anonymous = Portal {
        node: &node,
        http: http_client(),
        user: None,
    };
    let refused = error_body(anonymous.get("/apis").await, StatusCode::UNAUTHORIZED).await;
    assert!(refused.to_string().contains("anonymous"), "{refused}");
    error_body(anonymous.get("/tags").await, StatusCode::UNAUTHORIZED).await;
    let admin = Portal {
        node: &node,
        http: http_client(),
        user: Some(("admin", node.admin_password.clone())),
    };
    assert_eq!(admin.names("").await, ["PizzaShackAPI"]);
}
