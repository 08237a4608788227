//! Constraint errors: what a database says when a write breaks a unique
//! index, a `unique_together` group or a foreign key, read back into the
//! API's 409 / 422 naming the field. Every write of [`super::UnitOfWork`]
//! maps its failures here, so the API and the admin word them alike.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, SqlErr};
use serde_json::Value;

use crate::error::{ApiError, ErrorDetail, ErrorKind, ValidationError};
use crate::model::{Model, ModelMeta};

/// Maps a database error from a write on `meta`'s table: constraint
/// violations become 409 / 422 naming the field; anything else is a
/// logged 500 whose response carries no SQL.
pub fn db_error(meta: &ModelMeta, error: DbErr) -> ApiError {
    match constraint_violation(&error) {
        Some(SqlErr::UniqueConstraintViolation(message)) => {
            let message = constraint_part(&message);
            if let Some(columns) = together_in_message(meta, message) {
                return ApiError::Conflict(format!(
                    "{} with this {} already exists.",
                    meta.object_name,
                    columns.join(" and ")
                ));
            }
            match field_in_message(meta, message) {
                Some(field) => ApiError::Conflict(format!(
                    "{} with this {field} already exists.",
                    meta.object_name
                )),
                None => ApiError::Conflict(format!(
                    "{} with these values already exists.",
                    meta.object_name
                )),
            }
        }
        Some(SqlErr::ForeignKeyConstraintViolation(message)) => {
            let message = constraint_part(&message);
            // SQLite does not say which key failed; with a single foreign
            // key (or a name in the message) the field is still certain.
            let keys: Vec<&str> = meta
                .fields
                .iter()
                .filter(|f| f.references.is_some())
                .map(|f| f.name)
                .collect();
            let field = field_in_message(meta, message)
                .filter(|f| keys.contains(f))
                .or(if keys.len() == 1 { Some(keys[0]) } else { None });
            let mut loc = vec![Value::from("body")];
            loc.extend(field.map(Value::from));
            ApiError::MissingReference(ValidationError::single(ErrorDetail::new(
                loc,
                ErrorKind::ForeignKey,
                "The referenced object does not exist",
            )))
        }
        _ => ApiError::internal(error),
    }
}

/// The constraint a database error reports, if any: SeaORM's reading, the
/// error's own kind, plus SQLite's RESTRICT foreign keys (reported as a
/// trigger constraint, 1811).
pub fn constraint_violation(error: &DbErr) -> Option<SqlErr> {
    if let Some(kind) = error.sql_err() {
        return Some(kind);
    }
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))) = error
    else {
        return None;
    };
    let db = e.as_database_error()?;
    let message = db.message().to_string();
    // The in-thread SQLite pool's errors (`error::SqliteFailure`) say
    // their kind; SeaORM reads only sqlx's own SQLite errors.
    match db.kind() {
        sea_orm::sqlx::error::ErrorKind::UniqueViolation => {
            return Some(SqlErr::UniqueConstraintViolation(message));
        }
        sea_orm::sqlx::error::ErrorKind::ForeignKeyViolation => {
            return Some(SqlErr::ForeignKeyConstraintViolation(message));
        }
        _ => {}
    }
    (db.code().as_deref() == Some("1811") && message.contains("FOREIGN KEY"))
        .then_some(SqlErr::ForeignKeyConstraintViolation(message))
}

/// The part of a constraint error that names the constraint, never the
/// written value: a value equal to another field's name must not be read
/// as that field. MySQL quotes the value first (`Duplicate entry 'x' for
/// key 'name'`, MySQL 8 `'table.name'`) and names a foreign key's column in
/// `FOREIGN KEY (\`col\`)`; PostgreSQL names the constraint in double quotes
/// (its values are in the detail, not the message); SQLite lists
/// `table.column` after `failed: `. Any other text is kept whole.
fn constraint_part(message: &str) -> &str {
    let between = |start: &str, end: char| {
        let from = message.rfind(start)? + start.len();
        let rest = &message[from..];
        Some(&rest[..rest.find(end)?])
    };
    between("FOREIGN KEY (`", '`')
        .or_else(|| between(" for key '", '\''))
        .or_else(|| between("constraint \"", '"'))
        .or_else(|| message.split_once("failed: ").map(|(_, rest)| rest))
        .unwrap_or(message)
}

/// The `unique_together` group a unique violation names: PostgreSQL and
/// MySQL give the index's name (ferrobridge's, or Django's on a table Django
/// made), SQLite every column (`t.user_id, t.group_id`).
fn together_in_message(meta: &ModelMeta, message: &str) -> Option<&'static [&'static str]> {
    meta.unique_together.iter().copied().find(|columns| {
        let index = meta.unique_index_name(columns);
        // MySQL names the index it was created as, shortened when long.
        message.contains(&index)
            || message.contains(&crate::db::mysql::identifier(&index))
            || message
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|word| is_djangos_unique_name(meta.table, columns, word))
            || columns
                .iter()
                .all(|c| message.contains(&format!("{}.{c}", meta.table)))
    })
}

/// Whether `name` is the name Django's schema editor gives the unique
/// constraint of `columns` on `table`: `{table}_{columns}_{digest}_uniq`
/// with an 8-hex-digit digest, or, past the backend's identifier limit (63
/// on PostgreSQL, 64 on MySQL), table and columns each cut to 24 characters.
fn is_djangos_unique_name(table: &str, columns: &[&str], name: &str) -> bool {
    let Some((stem, digest)) = name
        .strip_suffix("_uniq")
        .and_then(|rest| rest.rsplit_once('_'))
    else {
        return false;
    };
    if digest.len() != 8 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let joined = columns.join("_");
    let cut = |s: &str| s.chars().take(24).collect::<String>();
    stem == format!("{table}_{joined}") || stem == format!("{}_{}", cut(table), cut(&joined))
}

/// The longest field name of `meta` that appears as a word in `message`
/// (a [`constraint_part`]).
fn field_in_message(meta: &ModelMeta, message: &str) -> Option<&'static str> {
    // `table.column` (SQLite, MySQL 8): the table's name is no field's,
    // even when it is spelled as one (a table `order` with a field `order`).
    let message = message.replace(&format!("{}.", meta.table), " ");
    meta.fields
        .iter()
        .map(|f| f.name)
        .filter(|name| {
            message
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|word| {
                    word == *name
                        || word == format!("{}_{name}", meta.table)
                        || word.ends_with(&format!("_{name}_key"))
                })
        })
        .max_by_key(|name| name.len())
}

/// With several foreign keys, a violation does not say which one failed
/// (SQLite never does), so the written values are kept to find out.
pub(crate) fn needs_probe<M: Model>() -> bool {
    M::meta()
        .fields
        .iter()
        .filter(|f| f.references.is_some())
        .count()
        > 1
}

/// The error for a failed write of `M`; a foreign key violation is located
/// by looking each referenced row up in `db` (the write's transaction,
/// back at a savepoint from before the write), so the 422 names the
/// right field.
pub(crate) async fn write_error<M: Model>(
    db: &impl ConnectionTrait,
    written: Option<&M::ActiveModel>,
    error: DbErr,
) -> ApiError {
    let is_fk = matches!(
        constraint_violation(&error),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    );
    if let (true, Some(active)) = (is_fk, written)
        && let Some(field) = missing_reference::<M>(db, active).await
    {
        return ApiError::MissingReference(ValidationError::single(ErrorDetail::new(
            vec!["body".into(), field.into()],
            ErrorKind::ForeignKey,
            "The referenced object does not exist",
        )));
    }
    db_error(M::meta(), error)
}

/// The first foreign key of `active` whose referenced row does not exist.
async fn missing_reference<M: Model>(
    db: &impl ConnectionTrait,
    active: &M::ActiveModel,
) -> Option<&'static str> {
    for field in M::meta().fields.iter().filter(|f| f.references.is_some()) {
        let (Ok(column), Some(target)) = (super::column::<M>(field.name), field.references) else {
            continue;
        };
        let value = match active.get(column) {
            sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => v,
            sea_orm::ActiveValue::NotSet => continue,
        };
        if serde_json::Value::is_null(&sea_orm::sea_query::value::sea_value_to_json_value(&value)) {
            continue;
        }
        let target = target();
        let mut select = Query::select();
        select
            .expr(Expr::val(1))
            .from(Alias::new(target.table))
            .and_where(Expr::col(Alias::new(target.primary_key)).eq(value))
            .limit(1);
        if let Ok(None) = db.query_one(&select).await {
            return Some(field.name);
        }
    }
    None
}

/// The 409 of a delete that a `restrict` reference refuses (Django's PROTECT).
pub(crate) fn protected(meta: &ModelMeta) -> ApiError {
    ApiError::Conflict(format!(
        "Cannot delete this {}: other objects still reference it.",
        meta.object_name
    ))
}

#[cfg(test)]
mod tests {
    use super::{constraint_part, is_djangos_unique_name};

    #[test]
    fn the_constraint_part_never_holds_the_value() {
        for (message, part) in [
            ("Duplicate entry 'nickname' for key 'name'", "name"),
            (
                "Duplicate entry 'it''s for key 'x'' for key 'shop.name'",
                "shop.name",
            ),
            (
                "Cannot add or update a child row: a foreign key constraint fails \
                 (`db`.`t`, CONSTRAINT `fk-t-team_id` FOREIGN KEY (`team_id`) \
                 REFERENCES `team` (`id`))",
                "team_id",
            ),
            (
                "duplicate key value violates unique constraint \"shop_name_key\"",
                "shop_name_key",
            ),
            ("UNIQUE constraint failed: shop.name", "shop.name"),
            ("something else", "something else"),
        ] {
            assert_eq!(constraint_part(message), part, "{message}");
        }
    }

    #[test]
    fn reads_djangos_unique_constraint_names() {
        let columns = ["user_id", "group_id"];
        assert!(is_djangos_unique_name(
            "auth_user_groups",
            &columns,
            "auth_user_groups_user_id_group_id_94350c0c_uniq"
        ));
        assert!(!is_djangos_unique_name(
            "auth_user_groups",
            &columns,
            "auth_user_groups_user_id_group_id_uniq"
        ));
        assert!(!is_djangos_unique_name(
            "auth_user_groups",
            &["user_id"],
            "auth_user_groups_user_id_group_id_94350c0c_uniq"
        ));
        // Django 5.2 names it so on MySQL (a 77-character name cut to 24 + 24).
        assert!(is_djangos_unique_name(
            "library_borrowing_records",
            &["borrower_id", "borrowed_book_id"],
            "library_borrowing_record_borrower_id_borrowed_boo_66e527cd_uniq"
        ));
    }
}
