//! SCIM 2.0 Users and Groups (RFC 7643 resources, RFC 7644 operations), the subset WSO2's
//! scripts use: create, list with a `filter` and paging (`startIndex`, `count`), get, `PATCH`
//! with `add`/`replace`/`remove` operations, delete.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tollgate_operations::users::{self as ops, Role, UserChange, UserInput};
use tollgate_restcore::{rfc3339, ApiError, Ctx, JsonBody, Principal, QueryParams};
use tollgate_store::{UserMatch, UserRow};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The page size when a list asks for none.
const DEFAULT_COUNT: i64 = 100;

fn scim(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/scim+json")],
        Json(body),
    )
        .into_response()
}

/// SCIM's enterprise user extension, where WSO2 Identity Server keeps `accountLocked`.
const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ENTERPRISE_LOCKED: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:accountLocked";
/// WSO2 Identity Server 6's own extension.
const WSO2_LOCKED: &str = "urn:scim:wso2:schema:accountLocked";

/// `accountLocked`'s value: a boolean (or WSO2's `"true"`/`"false"` text).
fn locked_value(value: &Value, i: usize) -> Result<bool, ApiError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ApiError::bad_field(
            format!("Operations[{i}].value"),
            "accountLocked must be true or false",
        )),
    }
}

/// A user as SCIM shows it; its roles are its groups.
pub(crate) fn user_json(user: &UserRow) -> Value {
    let emails: Vec<Value> = user.claims["emails"]
        .as_array()
        .map(|emails| {
            emails
                .iter()
                .enumerate()
                .map(|(i, e)| json!({"value": e, "primary": i == 0}))
                .collect()
        })
        .unwrap_or_default();
    let groups: Vec<Value> = user
        .roles
        .iter()
        .map(|role| json!({"value": ops::role_id(&user.tenant, role), "display": role}))
        .collect();
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "id": user.id,
        "userName": user.username,
        ENTERPRISE_SCHEMA: {"accountLocked": user.locked_until > tollgate_model::now_millis()},
        "name": {"givenName": user.claims["givenName"], "familyName": user.claims["familyName"]},
        "emails": emails,
        "groups": groups,
        "meta": {
            "resourceType": "User",
            "created": rfc3339(user.created_time),
            "lastModified": rfc3339(user.updated_time.max(user.created_time)),
            "location": format!("/scim2/Users/{}", user.id),
        },
    })
}

fn group_json(role: &Role) -> Value {
    let members: Vec<Value> = role
        .members
        .iter()
        .map(|(id, name)| json!({"value": id, "display": name}))
        .collect();
    json!({
        "schemas": [GROUP_SCHEMA],
        "id": role.id,
        "displayName": role.name,
        "members": members,
        "meta": {"resourceType": "Group", "location": format!("/scim2/Groups/{}", role.id)},
    })
}

fn list_json(resources: Vec<Value>, total: i64, start_index: i64) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

fn text(body: &Value, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_field(field, "must be a string")),
    }
}

/// The e-mail addresses of a SCIM `emails` value: objects with `value`, or plain strings.
fn emails_of(value: &Value) -> Result<Vec<String>, ApiError> {
    let Some(list) = value.as_array() else {
        return Err(ApiError::bad_field("emails", "must be a list"));
    };
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            e.get("value")
                .unwrap_or(e)
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| {
                    ApiError::bad_field(format!("emails[{i}].value"), "must be a string")
                })
        })
        .collect()
}

/// A SCIM user body as the operations' input (`groups` by role name or id).
pub(crate) fn user_input(body: &Value) -> Result<UserInput, ApiError> {
    let username =
        text(body, "userName")?.ok_or_else(|| ApiError::bad_field("userName", "is required"))?;
    let password =
        text(body, "password")?.ok_or_else(|| ApiError::bad_field("password", "is required"))?;
    let name = body.get("name").cloned().unwrap_or(Value::Null);
    let emails = match body.get("emails") {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => emails_of(value)?,
    };
    let roles = match body.get("groups").or_else(|| body.get("roles")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(groups)) => groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                g.get("display")
                    .or_else(|| g.get("value"))
                    .unwrap_or(g)
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::bad_field(format!("groups[{i}]"), "must name a role"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(ApiError::bad_field("groups", "must be a list")),
    };
    Ok(UserInput {
        username,
        password,
        given_name: text(&name, "givenName")?,
        family_name: text(&name, "familyName")?,
        emails,
        roles,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListQuery {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    start_index: Option<i64>,
    #[serde(default)]
    count: Option<i64>,
}

/// A SCIM filter on one attribute: `attr eq "value"` (or `sw`, `co`).
fn parse_filter(filter: &str, attribute: &str) -> Result<UserMatch, ApiError> {
    let invalid = || {
        ApiError::bad_field(
            "filter",
            format!("only '{attribute} eq|sw|co \"value\"' is supported, not '{filter}'"),
        )
    };
    let mut parts = filter.trim().splitn(3, ' ');
    let (Some(attr), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    if !attr.eq_ignore_ascii_case(attribute) {
        return Err(invalid());
    }
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .to_string();
    match op.to_ascii_lowercase().as_str() {
        "eq" => Ok(UserMatch::Equals(value)),
        "sw" => Ok(UserMatch::StartsWith(value)),
        "co" => Ok(UserMatch::Contains(value)),
        _ => Err(invalid()),
    }
}

fn paging(query: &ListQuery) -> Result<(i64, i64), ApiError> {
    let start_index = query.start_index.unwrap_or(1);
    if start_index < 1 {
        return Err(ApiError::bad_field("startIndex", "must be at least 1"));
    }
    let count = query.count.unwrap_or(DEFAULT_COUNT);
    if !(0..=1000).contains(&count) {
        return Err(ApiError::bad_field("count", "must be from 0 to 1000"));
    }
    Ok((start_index, count))
}

pub(crate) async fn list_users(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Response, ApiError> {
    let filter = match query.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        None => UserMatch::Any,
        Some(filter) => parse_filter(filter, "userName")?,
    };
    let (start_index, count) = paging(&query)?;
    let (users, total) = ops::list_users(&ctx, &principal, &filter, start_index - 1, count).await?;
    Ok(scim(
        StatusCode::OK,
        list_json(users.iter().map(user_json).collect(), total, start_index),
    ))
}

pub(crate) async fn create_user(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let user = ops::create_user(&ctx, &principal, user_input(&body)?).await?;
    Ok(scim(StatusCode::CREATED, user_json(&user)))
}

pub(crate) async fn get_user(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(user_id): Path<String>,
) -> Result<Response, ApiError> {
    let user = ops::get_user(&ctx, &principal, &user_id).await?;
    Ok(scim(StatusCode::OK, user_json(&user)))
}

/// RFC 7644 §3.5.2's body: `{"schemas": [PatchOp], "Operations": [{"op", "path", "value"}]}`.
#[derive(Deserialize)]
pub(crate) struct PatchBody {
    #[serde(default)]
    schemas: Vec<String>,
    #[serde(rename = "Operations")]
    operations: Vec<PatchOperation>,
}

#[derive(Deserialize)]
struct PatchOperation {
    op: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    value: Value,
}

fn check_patch(body: &PatchBody) -> Result<(), ApiError> {
    if !body.schemas.is_empty() && !body.schemas.iter().any(|s| s == PATCH_SCHEMA) {
        return Err(ApiError::bad_field(
            "schemas",
            format!("must name {PATCH_SCHEMA}"),
        ));
    }
    for (i, op) in body.operations.iter().enumerate() {
        if !["add", "replace", "remove"].contains(&op.op.to_ascii_lowercase().as_str()) {
            return Err(ApiError::bad_field(
                format!("Operations[{i}].op"),
                "must be add, replace or remove",
            ));
        }
    }
    Ok(())
}

/// Password, profile and lock changes (`add`/`replace` of `password`, `name.givenName`,
/// `name.familyName`, `name`, `emails`, the enterprise extension's `accountLocked`, or of an
/// object holding them; `remove` of a name part).
pub(crate) async fn patch_user(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(user_id): Path<String>,
    JsonBody(body): JsonBody<PatchBody>,
) -> Result<Response, ApiError> {
    check_patch(&body)?;
    let mut change = UserChange::default();
    for (i, op) in body.operations.iter().enumerate() {
        let remove = op.op.eq_ignore_ascii_case("remove");
        // Without a path, the value is an object of attributes.
        let attributes: Vec<(String, Value)> = match &op.path {
            Some(path) => vec![(path.clone(), op.value.clone())],
            None => op
                .value
                .as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .ok_or_else(|| {
                    ApiError::bad_field(format!("Operations[{i}].value"), "must be an object")
                })?,
        };
        for (path, value) in attributes {
            let value_text = || {
                value.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::bad_field(format!("Operations[{i}].value"), "must be a string")
                })
            };
            match path.as_str() {
                "password" if !remove => change.password = Some(value_text()?),
                "name.givenName" => {
                    change.given_name = Some(if remove { None } else { Some(value_text()?) })
                }
                "name.familyName" => {
                    change.family_name = Some(if remove { None } else { Some(value_text()?) })
                }
                "name" if !remove => {
                    change.given_name = Some(text(&value, "givenName")?);
                    change.family_name = Some(text(&value, "familyName")?);
                }
                ENTERPRISE_LOCKED | WSO2_LOCKED | "accountLocked" => {
                    change.locked = Some(!remove && locked_value(&value, i)?);
                }
                ENTERPRISE_SCHEMA if !remove => {
                    if let Some(locked) = value.get("accountLocked") {
                        change.locked = Some(locked_value(locked, i)?);
                    }
                }
                "emails" => {
                    change.emails = Some(if remove {
                        Vec::new()
                    } else {
                        emails_of(&value)?
                    })
                }
                other => {
                    return Err(ApiError::bad_field(
                        format!("Operations[{i}].path"),
                        format!(
                            "'{other}' cannot be changed here (roles change through /scim2/Groups)"
                        ),
                    ))
                }
            }
        }
    }
    let user = ops::update_user(&ctx, &principal, &user_id, change).await?;
    Ok(scim(StatusCode::OK, user_json(&user)))
}

pub(crate) async fn delete_user(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(user_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    ops::delete_user(&ctx, &principal, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn list_groups(
    State(ctx): State<Ctx>,
    principal: Principal,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Response, ApiError> {
    let name = match query.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        None => None,
        Some(filter) => match parse_filter(filter, "displayName")? {
            UserMatch::Equals(name) => Some(name),
            _ => {
                return Err(ApiError::bad_field(
                    "filter",
                    "groups are filtered with 'displayName eq \"name\"' only",
                ))
            }
        },
    };
    let (start_index, count) = paging(&query)?;
    let roles = ops::list_roles(&ctx, &principal, name.as_deref()).await?;
    let total = roles.len() as i64;
    let page = roles
        .iter()
        .skip((start_index - 1) as usize)
        .take(count as usize)
        .map(group_json)
        .collect();
    Ok(scim(StatusCode::OK, list_json(page, total, start_index)))
}

/// Member ids of a SCIM `members` value.
fn member_ids(value: &Value, field: &str) -> Result<Vec<String>, ApiError> {
    let Some(members) = value.as_array() else {
        return Err(ApiError::bad_field(field, "must be a list"));
    };
    members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            m.get("value")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    ApiError::bad_field(format!("{field}[{i}].value"), "must be a user id")
                })
        })
        .collect()
}

pub(crate) async fn create_group(
    State(ctx): State<Ctx>,
    principal: Principal,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let name = text(&body, "displayName")?
        .ok_or_else(|| ApiError::bad_field("displayName", "is required"))?;
    let members = match body.get("members") {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => member_ids(value, "members")?,
    };
    let role = ops::create_role(&ctx, &principal, &name, members).await?;
    Ok(scim(StatusCode::CREATED, group_json(&role)))
}

pub(crate) async fn get_group(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(group_id): Path<String>,
) -> Result<Response, ApiError> {
    let role = ops::get_role(&ctx, &principal, &group_id).await?;
    Ok(scim(StatusCode::OK, group_json(&role)))
}

/// Member changes: `add` with `{"members": [...]}` (or path `members`), `remove` with path
/// `members[value eq "id"]` (or `members` and a value listing them).
pub(crate) async fn patch_group(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(group_id): Path<String>,
    JsonBody(body): JsonBody<PatchBody>,
) -> Result<Response, ApiError> {
    check_patch(&body)?;
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    // `replace` sets the member list (RFC 7644 §3.5.2.3): the current members not named go.
    let mut replaced: Option<Vec<String>> = None;
    for (i, op) in body.operations.iter().enumerate() {
        let field = format!("Operations[{i}].value");
        let removing = op.op.eq_ignore_ascii_case("remove");
        let replacing = op.op.eq_ignore_ascii_case("replace");
        match op.path.as_deref() {
            None => {
                let members = op
                    .value
                    .get("members")
                    .ok_or_else(|| ApiError::bad_field(&field, "must hold 'members'"))?;
                let ids = member_ids(members, &format!("{field}.members"))?;
                if removing {
                    remove.extend(ids)
                } else if replacing {
                    replaced = Some(ids)
                } else {
                    add.extend(ids)
                }
            }
            Some("members") => {
                let ids = member_ids(&op.value, &field)?;
                if removing {
                    remove.extend(ids)
                } else if replacing {
                    replaced = Some(ids)
                } else {
                    add.extend(ids)
                }
            }
            Some(path) if removing && path.starts_with("members[") => {
                // members[value eq "id"]
                let id = path
                    .trim_start_matches("members[")
                    .trim_end_matches(']')
                    .split_once(" eq ")
                    .map(|(_, v)| v.trim().trim_matches('"').to_string())
                    .ok_or_else(|| {
                        ApiError::bad_field(
                            format!("Operations[{i}].path"),
                            "must be 'members[value eq \"id\"]'",
                        )
                    })?;
                remove.push(id);
            }
            Some(other) => {
                return Err(ApiError::bad_field(
                    format!("Operations[{i}].path"),
                    format!("'{other}' cannot be changed (only members)"),
                ))
            }
        }
    }
    if let Some(members) = replaced {
        let current = ops::get_role(&ctx, &principal, &group_id).await?;
        remove.extend(
            current
                .members
                .into_iter()
                .map(|(id, _)| id)
                .filter(|id| !members.contains(id)),
        );
        add.extend(members);
    }
    let role = ops::change_role_members(&ctx, &principal, &group_id, add, remove).await?;
    Ok(scim(StatusCode::OK, group_json(&role)))
}

pub(crate) async fn delete_group(
    State(ctx): State<Ctx>,
    principal: Principal,
    Path(group_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    ops::delete_role(&ctx, &principal, &group_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
