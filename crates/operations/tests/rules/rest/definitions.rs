//! OpenAPI definitions through the Publisher API: validated (every problem with its JSON
//! pointer), imported from a file or a URL (WSO2's own Publisher API: 160 operations), kept in
//! step with the API's resources both ways, replaced only on a current copy.

use serde_json::json;
use tollgate_testbed::{Part, TestBed};

use super::publisher;

const WSO2_PUBLISHER_API: &str =
    include_str!("../../../../../spec/wso2-apim-4.2/publisher-api.yaml");

/// Serves `body` once per connection at any path, as a web server hosting a definition.
fn serve_file(body: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/yaml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    format!("http://{addr}/publisher-api.yaml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_definitions_validate_import_and_stay_in_step() {
    let bed = TestBed::sqlite().await;
    let send = |method: http::Method, path: String, parts: Vec<Part>| {
        let bed = &bed;
        async move {
            bed.call(method, &publisher(&path))
                .as_user("admin")
                .multipart(&parts)
                .send()
                .await
        }
    };
    let post = |path: &str, parts: Vec<Part>| send(http::Method::POST, path.to_string(), parts);
    let get = |path: String| {
        let bed = &bed;
        async move { bed.get(&publisher(&path)).as_user("admin").send().await }
    };

    // WSO2's own Publisher API definition: valid, with all its operations.
    let validated = post(
        "/apis/validate-openapi",
        vec![Part::file(
            "file",
            "publisher-api.yaml",
            WSO2_PUBLISHER_API.as_bytes().to_vec(),
        )],
    )
    .await
    .expect(200);
    assert_eq!(validated["isValid"], true, "{validated}");
    assert_eq!(validated["info"]["openAPIVersion"], "3.0.1");
    assert_eq!(validated["info"]["context"], "/api/am/publisher/v4");

    // An invalid one: 200, not valid, every problem with its location.
    let broken = r##"{"openapi": "3.0.1", "info": {"title": "Broken", "version": "1"},
        "paths": {"/pets/{id}": {"get": {"responses": {"200": {"$ref": "#/components/responses/Nope"}}}}}}"##;
    let validated = post(
        "/apis/validate-openapi",
        vec![Part::text("inlineAPIDefinition", broken)],
    )
    .await
    .expect(200);
    assert_eq!(validated["isValid"], false);
    let locations: Vec<&str> = validated["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        locations,
        [
            "#/paths/~1pets~1{id}/get/responses/200/$ref",
            "#/paths/~1pets~1{id}/get"
        ]
    );
    // Importing it is refused the same way, with WSO2's error body.
    let refused = post(
        "/apis/import-openapi",
        vec![Part::text("inlineAPIDefinition", broken)],
    )
    .await;
    assert_eq!(refused.bad_fields().len(), 2, "{}", refused.text());

    // Import WSO2's definition from a URL: an API with its 160 operations.
    let url = serve_file(WSO2_PUBLISHER_API);
    let additional = json!({
        "name": "PublisherMirror", "version": "4.2.0", "context": "/mirror",
        "policies": ["Unlimited"],
        "endpointConfig": {"endpoint_type": "http", "production_endpoints": {"url": "http://127.0.0.1:9443/api/am/publisher/v4"}}
    });
    let imported = post(
        "/apis/import-openapi",
        vec![
            Part::text("url", &url),
            Part::text("additionalProperties", &additional.to_string()),
        ],
    )
    .await
    .expect(201);
    assert_eq!(imported["name"], "PublisherMirror");
    assert_eq!(imported["context"], "/mirror");
    assert_eq!(imported["operations"].as_array().unwrap().len(), 160);
    let id = imported["id"].as_str().unwrap();
    let definition = get(format!("/apis/{id}/swagger")).await.expect(200);
    assert_eq!(definition["info"]["title"], "PublisherMirror");
    assert!(
        definition["components"]["schemas"]["API"].is_object(),
        "the document is kept"
    );

    // Edit the operations through the API: the definition follows.
    let mut api = get(format!("/apis/{id}")).await.expect(200);
    api["operations"] = json!([
        {"target": "/apis", "verb": "GET", "authType": "Application", "throttlingPolicy": "10KPerMin", "scopes": ["apim:api_view"]},
        {"target": "/health/{probe}", "verb": "GET", "authType": "None"}
    ]);
    bed.put(&publisher(&format!("/apis/{id}")))
        .as_user("admin")
        .json(&api)
        .send()
        .await
        .expect(200);
    let definition = get(format!("/apis/{id}/swagger")).await.expect(200);
    let paths = definition["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 2, "{:?}", paths.keys().collect::<Vec<_>>());
    let list_apis = &definition["paths"]["/apis"]["get"];
    assert_eq!(list_apis["x-auth-type"], "Application");
    assert_eq!(list_apis["x-throttling-tier"], "10KPerMin");
    assert_eq!(
        list_apis["security"],
        json!([{"default": ["apim:api_view"]}])
    );
    assert!(
        list_apis["responses"].is_object(),
        "the original operation is kept"
    );
    let probe = &definition["paths"]["/health/{probe}"]["get"];
    assert_eq!(probe["security"], json!([]));
    assert_eq!(probe["parameters"][0]["name"], "probe");

    // Upload a definition (Swagger 2.0, JSON): the API's operations are rewritten from it.
    let swagger = json!({
        "swagger": "2.0", "info": {"title": "Mirror", "version": "4.2.0"}, "basePath": "/mirror",
        "paths": {
            "/apis": {"get": {"x-auth-type": "Application User", "responses": {"200": {"description": "ok"}}}},
            "/apis/{apiId}": {"delete": {"parameters": [{"name": "apiId", "in": "path", "required": true, "type": "string"}],
                                          "security": [{"default": ["apim:api_delete"]}],
                                          "responses": {"200": {"description": "ok"}}}}
        }
    });
    let updated = send(
        http::Method::PUT,
        format!("/apis/{id}/swagger"),
        vec![Part::text("apiDefinition", &swagger.to_string())],
    )
    .await
    .expect(200);
    assert_eq!(updated["swagger"], "2.0");
    let api = get(format!("/apis/{id}")).await.expect(200);
    let operations: Vec<String> = api["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {} {}",
                o["verb"].as_str().unwrap(),
                o["target"].as_str().unwrap(),
                o["authType"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        operations,
        [
            "GET /apis Application User",
            "DELETE /apis/{apiId} Application & Application User"
        ]
    );
    assert_eq!(
        api["operations"][0]["throttlingPolicy"], "10KPerMin",
        "kept from before"
    );
    assert_eq!(api["operations"][1]["scopes"], json!(["apim:api_delete"]));

    // A stale If-Match is refused; a bad definition changes nothing.
    bed.put(&publisher(&format!("/apis/{id}/swagger")))
        .as_user("admin")
        .header("If-Match", "\"1\"")
        .multipart(&[Part::text("apiDefinition", &swagger.to_string())])
        .send()
        .await
        .refused(412);
    let bad = send(
        http::Method::PUT,
        format!("/apis/{id}/swagger"),
        vec![Part::text(
            "apiDefinition",
            "openapi: 3.0.0\ninfo: {title: x}\npaths: {}",
        )],
    )
    .await;
    assert_eq!(bad.bad_fields(), vec!["#/info".to_string()]);
    let after = get(format!("/apis/{id}")).await.expect(200);
    assert_eq!(after["operations"], api["operations"]);
}
