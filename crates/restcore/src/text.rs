//! Control characters in what clients send. PostgreSQL cannot store NUL, and a raw line feed or
//! escape in a name ends up in logs and pages; WSO2 refuses them in names. Free text
//! (descriptions) may carry tabs and line breaks, nothing else below U+0020.

use serde_json::Value;

use crate::ApiError;

/// The first control character (C0 or DEL) in `s`.
pub fn first_control_char(s: &str) -> Option<char> {
    s.chars().find(|c| c.is_ascii_control())
}

/// The first control character in `s` other than tab, line feed and carriage return.
fn first_forbidden_in_text(s: &str) -> Option<char> {
    s.chars()
        .find(|c| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Refuses a name, identifier or other one-line value that contains any control character.
pub fn check_line(field: &str, value: &str) -> Result<(), ApiError> {
    match first_control_char(value) {
        Some(c) => Err(control_error(field, c)),
        None => Ok(()),
    }
}

/// Refuses control characters other than tab and line breaks anywhere in a JSON document,
/// naming the field (`operations[2].target`).
pub fn check_json_text(value: &Value) -> Result<(), ApiError> {
    fn walk(value: &Value, path: &mut String) -> Result<(), ApiError> {
        match value {
            Value::String(s) => match first_forbidden_in_text(s) {
                Some(c) => Err(control_error(path_or_body(path), c)),
                None => Ok(()),
            },
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            Value::Object(fields) => {
                for (key, item) in fields {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    if let Some(c) = first_control_char(key) {
                        return Err(ApiError::bad_request(format!(
                            "A field name in '{}' contains a control character (U+{:04X}); it is not allowed",
                            path_or_body(path),
                            c as u32
                        )));
                    }
                    path.push_str(key);
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(value, &mut String::new())
}

fn path_or_body(path: &str) -> &str {
    if path.is_empty() {
        "(body)"
    } else {
        path
    }
}

fn control_error(field: &str, c: char) -> ApiError {
    ApiError::bad_request(format!(
        "Field '{field}' contains a control character (U+{:04X}); it is not allowed",
        c as u32
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn control_characters_are_named_by_field() {
        assert!(check_json_text(&json!({"description": "two\nlines\tok"})).is_ok());
        let err = check_json_text(&json!({"name": "a\u{0}b"})).unwrap_err();
        assert!(err.description.contains("'name'") && err.description.contains("U+0000"));
        let err =
            check_json_text(&json!({"operations": [{"target": "/x"}, {"target": "/\u{1b}"}]}))
                .unwrap_err();
        assert!(
            err.description.contains("'operations[1].target'"),
            "{}",
            err.description
        );
        assert!(check_line("name", "tab\there").is_err());
        assert!(check_line("name", "fine").is_ok());
    }
}
