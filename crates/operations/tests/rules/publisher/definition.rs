//! `publisher::definition`: reading WSO2's API object (`ApiDefinition::from_json`, naming the
//! field at fault) and `normalise` — every problem found, each naming its field, and the
//! normal form (trimmed names, a context starting with `/`, default tiers and resources) —
//! and what gateways are given from it.

use serde_json::{json, Value};
use tollgate_model::AuthType;
use tollgate_operations::publisher::definition::ApiDefinition;
use tollgate_operations::OpResult;
use tollgate_testbed::fixtures::api_body;
use tollgate_testbed::Refused;

/// The fixture's small API with `extra` fields, read and normalised.
fn normalised(extra: Value) -> OpResult<ApiDefinition> {
    ApiDefinition::from_json(api_body("Pizza", "/pizza", extra)).and_then(ApiDefinition::normalise)
}

/// Each body is refused with problems naming exactly these fields.
fn refused(cases: Vec<(Value, &[&str])>) {
    for (extra, fields) in cases {
        println!("{extra}");
        normalised(extra).invalid_fields(fields);
    }
}

fn endpoints(config: Value) -> Value {
    json!({ "endpointConfig": config })
}

#[test]
fn a_body_that_is_not_an_api_object_names_the_field_serde_stopped_at() {
    ApiDefinition::from_json(json!(["Pizza"])).invalid_fields(&["body"]);
    let message =
        ApiDefinition::from_json(json!({"context": "/pizza", "version": "1"})).invalid("body");
    assert!(message.contains("name"), "{message}");
    for (extra, field) in [
        (json!({"tags": "food"}), "tags"),
        (json!({"isDefaultVersion": "yes"}), "isDefaultVersion"),
        (json!({"visibility": "SECRET"}), "visibility"),
        (
            json!({"operations": [{"target": "/", "verb": "FETCH"}]}),
            "operations[0].verb",
        ),
        (
            json!({"operations": [{"target": "/", "verb": "GET", "authType": "Maybe"}]}),
            "operations[0].authType",
        ),
        (
            endpoints(json!({"production_endpoints": "http://127.0.0.1"})),
            "endpointConfig.production_endpoints",
        ),
    ] {
        ApiDefinition::from_json(api_body("Pizza", "/pizza", extra)).invalid_fields(&[field]);
    }
    // Within an endpoint list, the list is named (its reader takes the list whole).
    for config in [
        json!({"actionDuration": "soon"}),
        json!({"retryDelay": 1.5}),
    ] {
        let body = endpoints(
            json!({"production_endpoints": {"url": "http://a.example", "config": config}}),
        );
        let message = ApiDefinition::from_json(api_body("Pizza", "/pizza", body))
            .invalid("endpointConfig.production_endpoints");
        assert!(message.contains("is not a whole number"), "{message}");
    }
}

#[test]
fn server_owned_fields_are_dropped_nulls_read_as_empty_and_unknown_fields_kept() {
    let absent = normalised(json!({})).unwrap().to_json();
    assert_eq!(absent["transport"], json!(["http", "https"]));
    assert_eq!(absent["securityScheme"], json!(["oauth2"]));
    let api = normalised(json!({
        "id": "chosen-by-client", "provider": "mallory", "lifeCycleStatus": "PUBLISHED",
        "tags": null, "policies": null, "transport": null, "securityScheme": null,
        "somethingNew": {"kept": true},
        "endpointConfig": {"endpoint_type": "http",
                           "production_endpoints": {"url": "http://a.example", "config": {"actionDuration": "30000", "retryDelay": ""}}},
    }))
    .unwrap();
    let out = api.to_json();
    for field in ["id", "provider", "lifeCycleStatus"] {
        assert!(out.get(field).is_none(), "{field} kept: {out}");
    }
    assert_eq!(out["somethingNew"], json!({"kept": true}));
    assert_eq!(out["policies"], json!(["Unlimited"]));
    assert_eq!(out["transport"], json!([]));
    assert_eq!(out["securityScheme"], json!([]));
    // No scheme named: gateways keep OAuth2.
    assert!(api.runtime_authentication().oauth2);
    let config = &out["endpointConfig"]["production_endpoints"]["config"];
    assert_eq!(config["actionDuration"], 30000);
    assert!(config.get("retryDelay").is_none(), "{config}");
}

#[test]
fn names_versions_and_contexts_are_trimmed_and_put_in_normal_form() {
    let api = ApiDefinition::from_json(api_body("  Pizza Shack ", "pizza/{version}/", json!({})))
        .and_then(ApiDefinition::normalise)
        .unwrap();
    assert_eq!(api.name, "Pizza Shack");
    assert_eq!(api.context, "/pizza/{version}");
    let api = normalised(json!({"version": " 1.0.0 ", "apiThrottlingPolicy": ""})).unwrap();
    assert_eq!(api.version, "1.0.0");
    assert_eq!(api.api_throttling_policy, None);
}

#[test]
fn a_name_or_version_must_be_short_printable_and_free_of_wso2s_forbidden_characters() {
    let long_name = "x".repeat(61);
    let long_version = "1".repeat(31);
    refused(vec![
        (json!({"name": "  "}), &["name"]),
        (json!({"name": long_name}), &["name"]),
        (json!({"name": "Pizza\u{7}"}), &["name"]),
        (json!({"name": "Pizza/Shack"}), &["name"]),
        (json!({"version": ""}), &["version"]),
        (json!({"version": long_version}), &["version"]),
        (json!({"version": "1.0 beta"}), &["version"]),
        (json!({"version": "1.0/2"}), &["version"]),
    ]);
}

#[test]
fn a_context_is_a_plain_path_with_at_most_one_version_template() {
    let long = format!("/{}", "a".repeat(232));
    for context in [
        "/",
        "/pizza shack",
        "/pizza?x=1",
        "/a//b",
        long.as_str(),
        "/pizza/{version}/{version}",
        "/pizza/{id}",
        "/a/../b",
        "/a/./b",
        "/_health",
        "/_internal/pizza",
    ] {
        println!("{context}");
        normalised(json!({"context": context})).invalid_fields(&["context"]);
    }
}

#[test]
fn free_text_lists_and_numbers_stay_within_wso2s_bounds() {
    let long = |n: usize| "x".repeat(n);
    let audiences: Vec<String> = (0..21).map(|i| format!("aud{i}")).collect();
    refused(vec![
        (json!({"description": long(32767)}), &["description"]),
        (json!({"type": "GRAPHQL"}), &["type"]),
        (json!({"tags": ["food", "  "]}), &["tags[1]"]),
        (json!({"tags": [long(256)]}), &["tags[0]"]),
        (json!({"policies": ["Gold", ""]}), &["policies[1]"]),
        (
            json!({"securityScheme": ["oauth2", "magic"]}),
            &["securityScheme[1]"],
        ),
        (json!({"cacheTimeout": -1}), &["cacheTimeout"]),
        (json!({"cacheTimeout": 31_536_001}), &["cacheTimeout"]),
        (
            json!({"additionalProperties": [{"name": "", "value": "v"}]}),
            &["additionalProperties[0].name"],
        ),
        (
            json!({"additionalProperties": [{"name": "n", "value": long(32767)}]}),
            &["additionalProperties[0].value"],
        ),
        (json!({"audiences": audiences}), &["audiences"]),
        (json!({"audiences": ["pizza", ""]}), &["audiences[1]"]),
        (json!({"visibility": "RESTRICTED"}), &["visibleRoles"]),
        (
            json!({"maxTps": {"production": -1, "sandbox": -2}}),
            &["maxTps.production", "maxTps.sandbox"],
        ),
        (
            json!({"businessInformation": {"businessOwner": long(121), "technicalOwner": "T\u{0}"}}),
            &[
                "businessInformation.businessOwner",
                "businessInformation.technicalOwner",
            ],
        ),
        (
            json!({"businessInformation": {"businessOwnerEmail": "nobody", "technicalOwnerEmail": "a@b"}}),
            &[
                "businessInformation.businessOwnerEmail",
                "businessInformation.technicalOwnerEmail",
            ],
        ),
        (
            json!({"corsConfiguration": {"accessControlAllowMethods": ["GET", "FETCH"]}}),
            &["corsConfiguration.accessControlAllowMethods[1]"],
        ),
    ]);
    normalised(json!({
        "description": long(32766), "cacheTimeout": 31_536_000,
        "visibility": "RESTRICTED", "visibleRoles": ["internal/subscriber"],
        "businessInformation": {"businessOwnerEmail": "", "technicalOwnerEmail": "tech@pizza.example"},
    }))
    .unwrap();
}

#[test]
fn header_names_must_be_tokens_and_the_api_key_header_is_not_authorization() {
    refused(vec![
        (
            json!({"authorizationHeader": "Bearer token"}),
            &["authorizationHeader"],
        ),
        (json!({"authorizationHeader": ""}), &["authorizationHeader"]),
        (json!({"apiKeyHeader": "api:key"}), &["apiKeyHeader"]),
        (
            json!({"apiKeyHeader": " Authorization "}),
            &["apiKeyHeader"],
        ),
    ]);
    let api = normalised(json!({"apiKeyHeader": " X-API-Key ", "authorizationHeader": "X-Token"}))
        .unwrap();
    assert_eq!(api.api_key_header.as_deref(), Some("x-api-key"));
}

#[test]
fn endpoints_are_http_urls_with_sane_timeouts_and_lists_need_a_balancing_type() {
    let one = |url: &str| json!({"url": url});
    refused(vec![
        (
            endpoints(json!({"endpoint_type": "load_balance", "production_endpoints": []})),
            &["endpointConfig.production_endpoints"],
        ),
        (
            endpoints(json!({"production_endpoints": one("ftp://a.example")})),
            &["endpointConfig.production_endpoints.url"],
        ),
        (
            endpoints(json!({"endpoint_type": "load_balance",
                             "sandbox_endpoints": [one("http://a.example"), one("http://")]})),
            &["endpointConfig.sandbox_endpoints[1].url"],
        ),
        (
            endpoints(
                json!({"endpoint_type": "failover", "production_endpoints": one("http://a.example"),
                             "production_failovers": [one("https://b.example"), one("b.example")],
                             "sandbox_failovers": [one("mailto:x@b.example")]}),
            ),
            &[
                "endpointConfig.production_failovers[1].url",
                "endpointConfig.sandbox_failovers[0].url",
            ],
        ),
        (
            endpoints(json!({"production_endpoints": {"url": "http://a.example",
                             "config": {"actionDuration": 3_600_001, "retryTimeOut": -1, "retryDelay": "-5"}}})),
            &[
                "endpointConfig.production_endpoints.config.actionDuration",
                "endpointConfig.production_endpoints.config.retryTimeOut",
                "endpointConfig.production_endpoints.config.retryDelay",
            ],
        ),
        (
            endpoints(json!({"endpoint_type": "http",
                             "production_endpoints": [one("http://a.example"), one("http://b.example")]})),
            &["endpointConfig.production_endpoints"],
        ),
        (
            endpoints(
                json!({"endpoint_type": "address", "production_endpoints": one("http://a.example")}),
            ),
            &["endpointConfig.endpoint_type"],
        ),
    ]);
}

#[test]
fn advanced_endpoint_settings_are_checked_field_by_field() {
    let with = |config: Value| {
        endpoints(json!({"production_endpoints": {"url": "http://a.example", "config": config}}))
    };
    let field = |name: &str| format!("endpointConfig.production_endpoints.config.{name}");
    refused(vec![
        (
            with(
                json!({"suspendDuration": -2, "suspendMaxDuration": 3_600_001, "factor": 0.5,
                        "retryTimeOut": 101}),
            ),
            &[
                &field("suspendDuration"),
                &field("suspendMaxDuration"),
                &field("factor"),
                &field("retryTimeOut"),
            ],
        ),
        (
            with(json!({"suspendDuration": 5000, "suspendMaxDuration": 1000})),
            &[&field("suspendMaxDuration")],
        ),
        (
            with(json!({"suspendErrorCode": ["101504"], "retryErroCode": ["101504", "101505"]})),
            &[&field("retryErroCode")],
        ),
        (
            endpoints(
                json!({"endpoint_type": "load_balance", "sessionManagement": "soap",
                             "production_endpoints": [{"url": "http://a.example"}]}),
            ),
            &["endpointConfig.sessionManagement"],
        ),
        (
            endpoints(
                json!({"endpoint_type": "failover", "sessionManagement": "transport",
                             "production_endpoints": {"url": "http://a.example"}}),
            ),
            &["endpointConfig.sessionManagement"],
        ),
        (
            endpoints(
                json!({"endpoint_type": "load_balance", "algoClassName": "com.example.Weighted",
                             "production_endpoints": [{"url": "http://a.example"}]}),
            ),
            &["endpointConfig.algoClassName"],
        ),
    ]);
    // What gateways do not apply yet is refused, not kept to be ignored.
    refused(vec![
        (
            with(json!({"actionDuration": "1000", "retryCount": "3"})),
            &[&field("retryCount")],
        ),
        (
            endpoints(json!({"production_endpoints": {"url": "http://a.example"},
                             "endpoint_security": {"production": {"enabled": true, "type": "BASIC",
                                                                  "username": "u", "password": "p"},
                                                   "sandbox": {"enabled": false}}})),
            &["endpointConfig.endpoint_security.production.enabled"],
        ),
        (
            json!({"corsConfiguration": {"corsConfigurationEnabled": true,
                                         "accessControlAllowOrigins": ["*"]}}),
            &["corsConfiguration.corsConfigurationEnabled"],
        ),
    ]);
    // Names no gateway knows are refused while the object is read, naming the field.
    for (config, name) in [
        (json!({"actionSelect": "retry"}), "actionSelect"),
        (json!({"suspendErrorCode": ["999999"]}), "suspendErrorCode"),
    ] {
        let message = ApiDefinition::from_json(api_body("Pizza", "/pizza", with(config)))
            .invalid("endpointConfig.production_endpoints");
        assert!(message.contains("is not one of"), "{name}: {message}");
    }
}

#[test]
fn gateways_get_every_endpoint_with_its_settings_in_wso2s_units() {
    let api = normalised(endpoints(json!({
        "endpoint_type": "failover",
        "production_endpoints": {"url": "http://primary.example/", "config": {
            "actionDuration": "2000", "actionSelect": "discard",
            "suspendErrorCode": ["101503", 101504], "suspendDuration": "1000",
            "suspendMaxDuration": "8000", "factor": "2.0",
            "retryErroCode": ["101505"], "retryTimeOut": "3", "retryDelay": "500"}},
        "production_failovers": [{"url": "http://backup.example"}],
        "sandbox_endpoints": {"url": "http://sandbox.example"},
        "sandbox_failovers": [{"url": "http://sandbox-backup.example",
                               "config": {"suspendDuration": "0", "suspendMaxDuration": "0"}}],
    })))
    .unwrap();
    let runtime = api.runtime_endpoints();
    assert_eq!(runtime.routing, tollgate_model::EndpointRouting::Failover);
    let urls = |list: &[tollgate_model::RuntimeEndpoint]| {
        list.iter().map(|e| e.url.clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        urls(&runtime.production_list),
        ["http://primary.example", "http://backup.example"]
    );
    assert_eq!(
        runtime.production.as_deref(),
        Some("http://primary.example")
    );
    let primary = &runtime.production_list[0].resilience;
    use tollgate_model::{TimeoutAction, TransportErrorCode as Code};
    assert_eq!(primary.timeout_millis, Some(2000));
    assert_eq!(primary.timeout_action, TimeoutAction::Discard);
    assert_eq!(
        primary.suspend_error_codes,
        [Code::ConnectionFailed, Code::ConnectionTimedOut]
    );
    assert_eq!(
        (primary.suspend_initial_millis, primary.suspend_max_millis),
        (1000, Some(8000))
    );
    assert_eq!(primary.suspend_factor, 2.0);
    assert_eq!(primary.retry_error_codes, [Code::ConnectionClosed]);
    assert_eq!(
        (
            primary.retries_before_suspension,
            primary.retry_delay_millis
        ),
        (3, 500)
    );
    // Without settings, WSO2's defaults: a failing endpoint is suspended for 30 s.
    assert_eq!(
        runtime.production_list[1].resilience,
        tollgate_model::EndpointResilience::default()
    );
    // Zero durations turn suspension off.
    assert_eq!(runtime.sandbox_list[1].resilience.suspend_initial_millis, 0);

    let balanced = normalised(endpoints(json!({
        "endpoint_type": "load_balance", "sessionManagement": "transport", "sessionTimeOut": "90000",
        "algoClassName": "org.apache.synapse.endpoints.algorithms.RoundRobin",
        "production_endpoints": [{"url": "http://a.example"}, {"url": "http://b.example"}],
    })))
    .unwrap()
    .runtime_endpoints();
    assert_eq!(
        balanced.routing,
        tollgate_model::EndpointRouting::LoadBalance {
            affinity: Some(tollgate_model::SessionAffinity {
                max_age_secs: Some(90)
            })
        }
    );
    assert_eq!(balanced.production_list.len(), 2);
}

#[test]
fn resources_are_routable_paths_listed_once_each() {
    refused(vec![
        (
            json!({"operations": [{"target": "menu", "verb": "GET"}]}),
            &["operations[0].target"],
        ),
        (
            json!({"operations": [{"target": "/menu/{id};x", "verb": "GET"}]}),
            &["operations[0].target"],
        ),
        (
            json!({"operations": [{"target": "/a/%2e%2e/b", "verb": "GET"}]}),
            &["operations[0].target"],
        ),
        (
            json!({"operations": [{"target": "/a%2Fb", "verb": "GET"}]}),
            &["operations[0].target"],
        ),
        (
            json!({"operations": [{"target": "/menu", "verb": "GET"}, {"target": " /menu ", "verb": "get"}]}),
            &["operations[1]"],
        ),
    ]);
    let api = normalised(json!({"operations": [
        {"target": "/menu?size={size}", "verb": "GET", "throttlingPolicy": ""},
        {"target": "/menu", "verb": "POST", "throttlingPolicy": "10KPerMin", "authType": "None"},
    ]}))
    .unwrap();
    let runtime = api.runtime_operations();
    assert_eq!(runtime[0].throttling_policy.as_deref(), Some("Unlimited"));
    assert_eq!(
        (runtime[1].verb.as_str(), runtime[1].auth_type),
        ("POST", AuthType::None)
    );
}

#[test]
fn an_api_without_resources_gets_a_wildcard_for_each_common_verb() {
    let api = normalised(json!({"operations": []})).unwrap();
    let resources: Vec<(String, String, Option<String>)> = api
        .runtime_operations()
        .into_iter()
        .map(|o| (o.verb.to_string(), o.target, o.throttling_policy))
        .collect();
    let unlimited = Some("Unlimited".to_string());
    assert_eq!(
        resources,
        ["GET", "POST", "PUT", "DELETE", "PATCH"].map(|verb| (
            verb.to_string(),
            "/*".to_string(),
            unlimited.clone()
        ))
    );
}

#[test]
fn an_apis_scopes_have_printable_names_without_spaces_each_listed_once() {
    let scope = |s: Value| json!({"scope": s, "shared": false});
    refused(vec![
        (
            json!({"scopes": [scope(json!({"name": " "}))]}),
            &["scopes[0].scope.name"],
        ),
        (
            json!({"scopes": [scope(json!({"name": "menu read"}))]}),
            &["scopes[0].scope.name"],
        ),
        (
            json!({"scopes": [scope(json!({"name": "menu", "displayName": "x".repeat(256)}))]}),
            &["scopes[0].scope.displayName"],
        ),
        (
            json!({"scopes": [scope(json!({"name": "menu", "description": "x".repeat(513)}))]}),
            &["scopes[0].scope.description"],
        ),
        (
            json!({"scopes": [scope(json!({"name": "menu", "bindings": ["admin", ""]}))]}),
            &["scopes[0].scope.bindings[1]"],
        ),
        (
            json!({"scopes": [scope(json!({"name": "menu"})), scope(json!({"name": " menu "}))]}),
            &["scopes[1].scope.name"],
        ),
    ]);
}

#[test]
fn gateways_are_told_how_callers_authenticate() {
    let auth = |extra: Value| normalised(extra).unwrap().runtime_authentication();
    let default = auth(json!({}));
    assert!(default.oauth2 && !default.api_key && default.api_key_in_query);
    assert_eq!(default.api_key_header, "apikey");
    assert_eq!(default.authorization_header, None);
    let keys = auth(json!({"securityScheme": ["api_key"], "apiKeyInQuery": false}));
    assert!(!keys.oauth2 && keys.api_key && !keys.api_key_in_query);
    // Schemes gateways do not enforce yet keep OAuth2.
    assert!(auth(json!({"securityScheme": ["basic_auth"]})).oauth2);
    assert_eq!(
        auth(json!({"authorizationHeader": "X-Token"})).authorization_header,
        Some("x-token".into())
    );
    assert_eq!(
        auth(json!({"authorizationHeader": "Authorization"})).authorization_header,
        None
    );
}

#[test]
fn the_first_endpoint_of_each_list_is_also_named_for_older_gateways() {
    let api = normalised(endpoints(json!({
        "endpoint_type": "load_balance",
        "production_endpoints": [{"url": "http://a.example/base/"}, {"url": "http://b.example"}],
    })))
    .unwrap();
    let runtime = api.runtime_endpoints();
    assert_eq!(runtime.production.as_deref(), Some("http://a.example/base"));
    assert_eq!(runtime.sandbox, None);
    let none = normalised(json!({"endpointConfig": null})).unwrap();
    assert_eq!(none.runtime_endpoints().production, None);
}

#[test]
fn an_endpoint_url_is_trimmed_before_gateways_see_it() {
    let api = normalised(endpoints(json!({
        "production_endpoints": {"url": "  http://a.example/base/ "},
    })))
    .unwrap();
    assert_eq!(
        api.runtime_endpoints().production.as_deref(),
        Some("http://a.example/base")
    );
}

/// A WebSocket API: `ws://`/`wss://` endpoints, `SUBSCRIBE`/`PUBLISH` topics (a wildcard topic
/// for each when none is given); what gateways do not apply to one yet is refused by name.
#[test]
fn websocket_apis_take_ws_endpoints_and_topics() {
    let ws = |extra: Value| {
        let mut body = json!({"type": "WS",
            "endpointConfig": {"endpoint_type": "ws",
                "production_endpoints": {"url": "ws://chat.example:8080/rooms"},
                "sandbox_endpoints": {"url": "wss://chat.example/rooms"}},
            "operations": []});
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let api = normalised(ws(json!({}))).unwrap();
    let topics: Vec<(String, &str)> = api
        .operations
        .iter()
        .map(|op| (op.target.clone(), op.verb.as_str()))
        .collect();
    assert_eq!(
        topics,
        [
            ("/*".to_string(), "SUBSCRIBE"),
            ("/*".to_string(), "PUBLISH")
        ]
    );
    let runtime = api.runtime_endpoints();
    assert_eq!(
        runtime.production_list[0].url,
        "ws://chat.example:8080/rooms"
    );
    refused(vec![
        (
            ws(json!({"endpointConfig": {"endpoint_type": "ws",
                "production_endpoints": {"url": "http://chat.example/"}}})),
            &["endpointConfig.production_endpoints.url"],
        ),
        (
            ws(json!({"operations": [{"target": "/rooms", "verb": "GET"}]})),
            &["operations[0].verb"],
        ),
        (
            ws(
                json!({"operations": [{"target": "/rooms/{id}", "verb": "SUBSCRIBE",
                                       "uriMapping": "/rooms?id={uri.var.id}"}]}),
            ),
            &["operations[0].uriMapping"],
        ),
        (
            ws(json!({"endpointConfig": {"endpoint_type": "load_balance",
                "production_endpoints": [{"url": "ws://a.example/"}, {"url": "ws://b.example/"}]}})),
            &["endpointConfig.endpoint_type"],
        ),
        (
            ws(json!({"endpointConfig": {"endpoint_type": "ws",
                "production_endpoints": {"url": "ws://a.example/", "config": {"actionDuration": "100"}}}})),
            &["endpointConfig.production_endpoints.config"],
        ),
        // And the other way round: topics and ws:// endpoints are not an HTTP API's.
        (
            json!({"operations": [{"target": "/menu", "verb": "SUBSCRIBE"}]}),
            &["operations[0].verb"],
        ),
        (
            endpoints(json!({"endpoint_type": "http",
                "production_endpoints": {"url": "ws://chat.example/"}})),
            &["endpointConfig.production_endpoints.url"],
        ),
        (json!({"type": "GRAPHQL"}), &["type"]),
    ]);
}
