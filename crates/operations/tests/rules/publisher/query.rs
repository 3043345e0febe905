//! `publisher::query`: WSO2's search syntax for API lists — `attribute:value` terms (all must
//! hold), a quoted value for an exact match, bare words for names — and what each finds.

use serde_json::json;
use tollgate_model::{DocumentSource, DocumentType, DocumentVisibility, LifecycleState};
use tollgate_operations::publisher::apis::{list_apis, ApiListing};
use tollgate_operations::publisher::documents::{create_document, DocumentInput};
use tollgate_operations::publisher::query::parse;
use tollgate_operations::Page;
use tollgate_store::{ApiFilter, TextMatch};
use tollgate_testbed::{Refused, TestBed};

fn contains(text: &str) -> TextMatch {
    TextMatch::Contains(text.into())
}

#[test]
fn each_attribute_becomes_its_filter_and_bare_words_are_names() {
    assert_eq!(parse("").unwrap(), vec![]);
    assert_eq!(parse("   ").unwrap(), vec![]);
    assert_eq!(
        parse("pizza  NAME:shack context:/pizza version:1.0 provider:admin").unwrap(),
        vec![
            ApiFilter::Name(contains("pizza")),
            ApiFilter::Name(contains("shack")),
            ApiFilter::Context(contains("/pizza")),
            ApiFilter::Version(contains("1.0")),
            ApiFilter::Provider(contains("admin")),
        ]
    );
    assert_eq!(
        parse("description:hot tag:food tags:veg doc:menu content:price").unwrap(),
        vec![
            ApiFilter::Description(contains("hot")),
            ApiFilter::Tag(contains("food")),
            ApiFilter::Tag(contains("veg")),
            ApiFilter::Document(contains("menu")),
            ApiFilter::Document(contains("price")),
        ]
    );
}

#[test]
fn a_quoted_value_matches_exactly_and_keeps_its_spaces() {
    assert_eq!(
        parse("provider:\"wso2 admin\" \"Pizza Shack\" name:\"\"").unwrap(),
        vec![
            ApiFilter::Provider(TextMatch::Exactly("wso2 admin".into())),
            ApiFilter::Name(TextMatch::Exactly("Pizza Shack".into())),
            ApiFilter::Name(TextMatch::Exactly(String::new())),
        ]
    );
    // Only the first colon separates the attribute.
    assert_eq!(
        parse("context:\"/a:b\"").unwrap(),
        vec![ApiFilter::Context(TextMatch::Exactly("/a:b".into()))]
    );
}

#[test]
fn a_status_is_one_of_the_lifecycle_states_in_any_case() {
    assert_eq!(
        parse("status:published lifeCycleStatus:\"Deprecated\"").unwrap(),
        vec![
            ApiFilter::Status(LifecycleState::Published),
            ApiFilter::Status(LifecycleState::Deprecated),
        ]
    );
    for query in ["status:asleep", "status:", "lifecyclestatus:\"\""] {
        let message = parse(query).invalid("query");
        assert!(message.contains("PUBLISHED"), "{query}: {message}");
    }
}

#[test]
fn an_unknown_attribute_is_refused_naming_the_supported_ones() {
    for query in ["colour:red", "pizza colour:red", ":pizza"] {
        let message = parse(query).invalid("query");
        assert!(message.contains("name:, context:"), "{query}: {message}");
    }
}

#[tokio::test]
async fn each_filter_finds_what_it_names_and_doc_searches_api_level_documents_only() {
    let bed = TestBed::sqlite().await;
    let admin = bed.admin();
    let pizza = bed
        .api_as(
            &admin,
            "Pizza",
            "/pizza",
            json!({"description": "Hot and fresh", "tags": ["food"]}),
        )
        .await;
    let pasta = bed
        .api_as(
            &bed.user("creator"),
            "Pasta",
            "/pasta",
            json!({"version": "2.0"}),
        )
        .await;
    bed.lifecycle(&pizza, tollgate_model::LifecycleAction::Publish)
        .await;
    for (api, name, visibility) in [
        (&pizza, "Menu", DocumentVisibility::ApiLevel),
        (&pasta, "Secret", DocumentVisibility::Private),
    ] {
        let input = DocumentInput {
            name: name.into(),
            doc_type: DocumentType::HowTo,
            other_type_name: None,
            summary: Some(format!("{name} prices")),
            source_type: DocumentSource::Inline,
            source_url: None,
            visibility: Some(visibility),
            inline_content: Some("margherita".into()),
        };
        create_document(bed.services(), &admin, &api.id, input)
            .await
            .unwrap();
    }
    for (query, found) in [
        ("name:pizz", vec!["Pizza"]),
        ("context:pasta", vec!["Pasta"]),
        ("version:\"2.0\"", vec!["Pasta"]),
        ("provider:\"creator\"", vec!["Pasta"]),
        ("description:fresh", vec!["Pizza"]),
        ("tag:\"FOOD\"", vec!["Pizza"]),
        ("status:published", vec!["Pizza"]),
        ("status:created", vec!["Pasta"]),
        ("doc:margherita", vec!["Pizza"]),
        ("doc:secret", vec![]),
        ("p name:st", vec!["Pasta"]),
    ] {
        let listing = ApiListing {
            query: Some(query.into()),
            ..ApiListing::default()
        };
        let listed = list_apis(
            bed.services(),
            &admin,
            &listing,
            Page::new(None, None).unwrap(),
        )
        .await
        .unwrap();
        let names: Vec<&str> = listed.items.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, found, "{query}");
    }
}
