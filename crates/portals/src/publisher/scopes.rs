//! Shared scopes in the publisher: any API's resources may require them; each is granted to
//! users holding one of its roles. List (with how many resources use each), create, change
//! roles, delete an unused one — over the Publisher API's scope operations.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use tollgate_operations::publisher::definition::ScopeDefinition;
use tollgate_operations::publisher::scopes::{self, SharedScope};
use tollgate_operations::Page;
use tollgate_restcore::Ctx;

use crate::pages::{render_form, Chrome, FormErrors, FormFields, PageError};
use crate::session::Publisher;

#[derive(Template)]
#[template(path = "publisher_scopes.html")]
struct ScopesPage {
    page: Chrome,
    scopes: Vec<SharedScope>,
    form: FormFields,
    errors: FormErrors,
}

async fn scopes_view(
    ctx: &Ctx,
    publisher: &Publisher,
    form: FormFields,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let listed =
        scopes::list_shared_scopes(ctx, publisher.actor(), Page::new(Some(500), Some(0))?).await?;
    Ok(render_form(
        &ScopesPage {
            page: publisher.chrome("Shared scopes"),
            scopes: listed.items,
            form,
            errors: errors.clone(),
        },
        &errors,
    ))
}

pub(crate) async fn scopes_page(
    State(ctx): State<Ctx>,
    publisher: Publisher,
) -> Result<Response, PageError> {
    scopes_view(
        &ctx,
        &publisher,
        FormFields::default(),
        FormErrors::default(),
    )
    .await
}

fn definition(form: &FormFields) -> ScopeDefinition {
    ScopeDefinition {
        id: None,
        name: form.get("name").to_string(),
        display_name: form.some("display_name"),
        description: form.some("description"),
        bindings: form.list("roles"),
        other: serde_json::Map::new(),
    }
}

const SCOPE_FIELDS: &[&str] = &["name", "displayName", "description", "bindings"];

pub(crate) async fn create_scope(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    match scopes::create_shared_scope(&ctx, publisher.actor(), definition(&form)).await {
        Ok(_) => Ok(Redirect::to("/publisher/scopes").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, SCOPE_FIELDS)?;
            scopes_view(&ctx, &publisher, form, errors).await
        }
    }
}

/// Changes a scope's roles (`action=save`) or deletes it (`action=delete`).
pub(crate) async fn change_scope(
    State(ctx): State<Ctx>,
    publisher: Publisher,
    Path(scope_id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    publisher.check(&form)?;
    let result = if form.get("action") == "delete" {
        scopes::delete_shared_scope(&ctx, publisher.actor(), &scope_id).await
    } else {
        let current = scopes::get_shared_scope(&ctx, publisher.actor(), &scope_id).await?;
        let change = ScopeDefinition {
            id: None,
            name: current.scope.name.clone(),
            display_name: Some(current.scope.display_name.clone()),
            description: Some(current.scope.description.clone()),
            bindings: form.list("roles"),
            other: serde_json::Map::new(),
        };
        scopes::update_shared_scope(&ctx, publisher.actor(), &scope_id, change)
            .await
            .map(|_| ())
    };
    match result {
        Ok(()) => Ok(Redirect::to("/publisher/scopes").into_response()),
        Err(err) => {
            let errors = FormErrors::from_op(err, &[])?;
            scopes_view(&ctx, &publisher, FormFields::default(), errors).await
        }
    }
}
