//! Discovery through the Developer Portal API: who sees which APIs (state, visibility, roles;
//! anonymous visitors; Deprecated APIs for their subscribers), WSO2's search over fields and
//! document text, the definition with gateway URLs, documents, tiers, tags, ratings, and
//! comments the publisher reads and answers. (That a definition's gateway URL reaches the API
//! is the end-to-end quick start's.)

use http::Method;
use serde_json::{json, Value};
use tollgate_testbed::{Reply, Settings, TestBed};

use super::{change_lifecycle, create_api, devportal, pizzashack, publish_api, publisher, NOWHERE};

/// A developer portal client: one of the bed's users (Basic credentials), or an anonymous
/// visitor.
struct Portal<'b> {
    bed: &'b TestBed,
    user: Option<&'static str>,
}

impl Portal<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut call = self.bed.call(method, &devportal(path));
        if let Some(user) = self.user {
            call = call.as_user(user);
        }
        if let Some(body) = body {
            call = call.json(&body);
        }
        call.send().await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> Reply {
        self.call(method, path, Some(body)).await
    }

    async fn names(&self, query: &str) -> Vec<String> {
        let list = self.get(&format!("/apis{query}")).await.expect(200);
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

fn api(name: &str, context: &str) -> Value {
    let mut api = pizzashack(NOWHERE);
    api["name"] = json!(name);
    api["context"] = json!(context);
    api["tags"] = json!([name.to_lowercase()]);
    api["description"] = json!(format!("The {name} API"));
    api
}

#[tokio::test]
async fn consumers_find_what_they_may_see() {
    let bed = TestBed::sqlite().await;
    // Two subscribers; alice is a partner.
    let alice_id = bed
        .get("/scim2/Users?filter=userName%20eq%20alice")
        .as_user("admin")
        .send()
        .await
        .expect(200)["Resources"][0]["id"]
        .clone();
    bed.post("/scim2/Groups")
        .as_user("admin")
        .body(
            "application/scim+json",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "partners",
                "members": [{"value": alice_id}]})
            .to_string(),
        )
        .send()
        .await
        .expect(201);
    let portal = |user: Option<&'static str>| Portal { bed: &bed, user };
    let (anonymous, alice, bob) = (portal(None), portal(Some("alice")), portal(Some("bob")));

    // A public API with a document, one for partners, one for signed-in users, and a draft.
    let public_id = publish_api(&bed, &pizzashack(NOWHERE)).await;
    let mut partner = api("Partner", "/partner");
    partner["visibility"] = json!("RESTRICTED");
    partner["visibleRoles"] = json!(["Internal/partners"]);
    let partner_id = publish_api(&bed, &partner).await;
    let mut internal = api("Internal", "/internal");
    internal["visibility"] = json!("PRIVATE");
    publish_api(&bed, &internal).await;
    create_api(&bed, &api("Draft", "/draft")).await;
    bed.post(&publisher(&format!("/apis/{public_id}/documents")))
        .as_user("admin")
        .json(&json!({"name": "Ordering", "type": "HOWTO", "summary": "How to order", "sourceType": "INLINE",
            "visibility": "API_LEVEL", "inlineContent": "Order a margherita with extra basil."}))
        .send()
        .await
        .expect(201);

    // Who sees what.
    assert_eq!(anonymous.names("").await, ["PizzaShackAPI"]);
    assert_eq!(bob.names("").await, ["Internal", "PizzaShackAPI"]);
    assert_eq!(
        alice.names("").await,
        ["Internal", "Partner", "PizzaShackAPI"]
    );
    anonymous
        .get(&format!("/apis/{partner_id}"))
        .await
        .refused(404);
    bob.get(&format!("/apis/{partner_id}")).await.refused(404);
    let seen = alice.get(&format!("/apis/{partner_id}")).await.expect(200);
    assert_eq!(seen["name"], "Partner");
    let http_url = seen["endpointURLs"][0]["URLs"]["http"].as_str().unwrap();
    assert!(http_url.ends_with("/partner/1.0.0"), "{seen}");

    // WSO2's search: fields, tags, document text; it never reveals what the viewer may not see.
    assert_eq!(anonymous.names("?query=tag:pizza").await, ["PizzaShackAPI"]);
    assert_eq!(anonymous.names("?query=doc:basil").await, ["PizzaShackAPI"]);
    assert_eq!(alice.names("?query=partner").await, ["Partner"]);
    assert!(bob.names("?query=partner").await.is_empty());
    assert!(anonymous.names("?query=name:draft").await.is_empty());
    let refused = anonymous.get("/apis?query=colour:red").await.refused(400);
    assert!(refused.to_string().contains("query"), "{refused}");
    let found = anonymous.get("/search?query=basil").await.expect(200);
    let hits = found["list"].as_array().unwrap();
    assert!(
        hits.iter().any(|h| h["type"] == "DOC"
            && h["name"] == "Ordering"
            && h["apiName"] == "PizzaShackAPI"),
        "{found}"
    );
    let tags = anonymous.get("/tags").await.expect(200);
    assert_eq!(tags["list"], json!([{"value": "pizza", "count": 1}]));
    let tags = alice.get("/tags").await.expect(200);
    assert_eq!(tags["count"], 3, "{tags}");

    // The definition names the gateway URLs and a security scheme.
    let swagger = anonymous
        .get(&format!("/apis/{public_id}/swagger"))
        .await
        .expect(200);
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
    assert!(
        servers.iter().any(|s| s.starts_with("http://")),
        "{servers:?}"
    );
    let token_url = swagger["components"]["securitySchemes"]["default"]["flows"]
        ["clientCredentials"]["tokenUrl"]
        .as_str()
        .unwrap();
    assert!(token_url.ends_with("/oauth2/token"), "{swagger}");
    assert_eq!(swagger["security"], json!([{"default": []}]));
    anonymous
        .get(&format!(
            "/apis/{public_id}/swagger?environmentName=Nowhere"
        ))
        .await
        .refused(404);

    // Documents, their content, tiers; an SDK is not generated (501, said so).
    let documents = anonymous
        .get(&format!("/apis/{public_id}/documents"))
        .await
        .expect(200);
    assert_eq!(documents["count"], 1);
    let document_id = documents["list"][0]["documentId"].as_str().unwrap();
    let content = anonymous
        .get(&format!(
            "/apis/{public_id}/documents/{document_id}/content"
        ))
        .await;
    assert_eq!(content.status, 200);
    assert!(content.text().contains("basil"));
    anonymous
        .get(&format!("/apis/{partner_id}/documents"))
        .await
        .refused(404);
    let tiers = anonymous
        .get(&format!("/apis/{public_id}/subscription-policies"))
        .await
        .expect(200);
    assert_eq!(tiers[0]["name"], "Unlimited", "{tiers}");
    anonymous
        .get(&format!("/apis/{public_id}/thumbnail"))
        .await
        .refused(404);
    anonymous
        .get(&format!("/apis/{public_id}/sdks/java"))
        .await
        .refused(501);

    // Ratings: one per user; the average; bad input named.
    let rating = format!("/apis/{public_id}/user-rating");
    for (who, stars) in [(&alice, 5), (&bob, 2), (&alice, 4)] {
        who.send(Method::PUT, &rating, json!({"rating": stars}))
            .await
            .expect(200);
    }
    let ratings = alice
        .get(&format!("/apis/{public_id}/ratings"))
        .await
        .expect(200);
    assert_eq!(ratings["avgRating"], "3.0");
    assert_eq!(ratings["userRating"], 4);
    assert_eq!(ratings["pagination"]["total"], 2);
    let refused = bob
        .send(Method::PUT, &rating, json!({"rating": 7}))
        .await
        .refused(400);
    assert!(refused.to_string().contains("rating"), "{refused}");
    anonymous
        .send(Method::PUT, &rating, json!({"rating": 3}))
        .await
        .refused(401);
    bob.call(Method::DELETE, &rating, None).await.expect(200);
    bob.get(&rating).await.refused(404);
    let list = anonymous.get("/apis").await.expect(200);
    assert_eq!(list["list"][0]["avgRating"], "4.0");

    // Comments with replies; the publisher reads and answers them.
    let comments = format!("/apis/{public_id}/comments");
    let question = alice
        .send(
            Method::POST,
            &comments,
            json!({"content": "Is there a vegan pizza?"}),
        )
        .await
        .expect(201);
    let question_id = question["id"].as_str().unwrap().to_string();
    assert_eq!(question["createdBy"], "alice");
    assert_eq!(question["entryPoint"], "devPortal");
    bob.send(
        Method::POST,
        &format!("{comments}?replyTo={question_id}"),
        json!({"content": "I'd like to know too"}),
    )
    .await
    .expect(201);
    let seen = bed
        .get(&publisher(&comments))
        .as_user("admin")
        .send()
        .await
        .expect(200);
    assert_eq!(seen["count"], 1);
    assert_eq!(seen["list"][0]["replies"]["count"], 1);
    let answer = bed
        .post(&publisher(&format!("{comments}?replyTo={question_id}")))
        .as_user("admin")
        .json(&json!({"content": "Yes: the Garden one."}))
        .send()
        .await
        .expect(201);
    assert_eq!(answer["entryPoint"], "publisher");
    let thread = anonymous
        .get(&format!("{comments}/{question_id}"))
        .await
        .expect(200);
    assert_eq!(thread["replies"]["count"], 2, "{thread}");
    let replies = anonymous
        .get(&format!("{comments}/{question_id}/replies"))
        .await
        .expect(200);
    assert_eq!(replies["list"][1]["createdBy"], "admin");
    // Only the author edits; only the author or an administrator deletes.
    let question_path = format!("{comments}/{question_id}");
    bob.send(
        Method::PATCH,
        &question_path,
        json!({"content": "hijacked"}),
    )
    .await
    .refused(403);
    let refused = alice
        .send(
            Method::PATCH,
            &question_path,
            json!({"content": "x".repeat(513)}),
        )
        .await
        .refused(400);
    assert!(refused.to_string().contains("content"), "{refused}");
    let edited = alice
        .send(
            Method::PATCH,
            &question_path,
            json!({"content": "Is there a vegan pizza on the menu?"}),
        )
        .await
        .expect(200);
    assert_eq!(edited["content"], "Is there a vegan pizza on the menu?");
    bob.call(Method::DELETE, &question_path, None)
        .await
        .refused(403);
    anonymous
        .get(&format!("/apis/{partner_id}/comments"))
        .await
        .refused(404);
    alice
        .call(Method::DELETE, &question_path, None)
        .await
        .expect(200);
    let none = anonymous.get(&comments).await.expect(200);
    assert_eq!(none["count"], 0);

    // A Deprecated API stays visible to its subscribers only.
    let old_id = publish_api(&bed, &api("Legacy", "/legacy")).await;
    let app = alice
        .send(
            Method::POST,
            "/applications",
            json!({"name": "AliceApp", "throttlingPolicy": "Unlimited"}),
        )
        .await
        .expect(201);
    alice
        .send(
            Method::POST,
            "/subscriptions",
            json!({"applicationId": app["applicationId"], "apiId": old_id, "throttlingPolicy": "Unlimited"}),
        )
        .await
        .expect(201);
    change_lifecycle(&bed, &old_id, "Deprecate").await;
    assert!(alice.names("").await.contains(&"Legacy".to_string()));
    assert!(!bob.names("").await.contains(&"Legacy".to_string()));
    // Nor can bob subscribe to what he cannot see.
    let bob_app = bob
        .send(
            Method::POST,
            "/applications",
            json!({"name": "BobApp", "throttlingPolicy": "Unlimited"}),
        )
        .await
        .expect(201);
    bob.send(
        Method::POST,
        "/subscriptions",
        json!({"applicationId": bob_app["applicationId"], "apiId": partner_id, "throttlingPolicy": "Unlimited"}),
    )
    .await
    .refused(404);
}

#[tokio::test]
async fn anonymous_browsing_can_be_switched_off() {
    let mut settings = Settings::default();
    settings.devportal.anonymous_mode = false;
    let bed = TestBed::sqlite_with(settings).await;
    publish_api(&bed, &pizzashack(NOWHERE)).await;
    let anonymous = Portal {
        bed: &bed,
        user: None,
    };
    let refused = anonymous.get("/apis").await.refused(401);
    assert!(refused.to_string().contains("anonymous"), "{refused}");
    anonymous.get("/tags").await.refused(401);
    let admin = Portal {
        bed: &bed,
        user: Some("admin"),
    };
    assert_eq!(admin.names("").await, ["PizzaShackAPI"]);
}
