//! SQLite's side of the schema editor: SQLite cannot alter a column, so
//! the table is rebuilt (Django's `_remake_table`), and a value the new
//! type cannot hold is refused as PostgreSQL refuses it.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, Table};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};

use super::super::state::ModelState;
use super::super::{DbType, DefaultValue, Field, MigrationError};
use super::ddl::{create_table, indexes, sql_value};

/// SQLite's way to change a table: create the new shape under another name,
/// copy the rows of every column both shapes have, drop the old table,
/// rename the new one and recreate its indexes (Django's `_remake_table`).
/// `fill` is a column and the value its rows get where they have none (a
/// one-off default).
pub(super) async fn rebuild(
    conn: &impl ConnectionTrait,
    old: &ModelState,
    new: &ModelState,
    fill: Option<(&str, &DefaultValue)>,
) -> Result<(), MigrationError> {
    let temporary = format!("new__{}", new.table);
    conn.execute(&create_table(new, &temporary, DbBackend::Sqlite))
        .await?;
    let mut columns = Vec::new();
    let mut values: Vec<Expr> = Vec::new();
    for field in &new.fields {
        let one_off = fill.filter(|(name, _)| *name == field.name).map(|f| f.1);
        let Some(previous) = old.field(&field.name) else {
            if let Some(value) = one_off {
                columns.push(Alias::new(&field.name));
                values.push(Expr::val(sql_value(value)));
            }
            continue;
        };
        columns.push(Alias::new(&field.name));
        let value = Expr::col(Alias::new(&field.name));
        values.push(match one_off.or(field.default.as_ref()) {
            // A column becoming NOT NULL takes its default where it was NULL.
            Some(default) if previous.null && !field.null => value.if_null(sql_value(default)),
            _ => value,
        });
    }
    let mut select = Query::select();
    select.exprs(values).from(Alias::new(&old.table));
    conn.execute(
        Query::insert()
            .into_table(Alias::new(&temporary))
            .columns(columns)
            .select_from(select)
            .map_err(|e| DbErr::Custom(e.to_string()))?,
    )
    .await?;
    for field in &new.fields {
        if let Some(previous) = old.field(&field.name)
            && previous.db_type != field.db_type
        {
            check_converted(conn, &temporary, &new.table, previous, field).await?;
        }
    }
    conn.execute(Table::drop().table(Alias::new(&old.table)))
        .await?;
    conn.execute(Table::rename().table(Alias::new(&temporary), Alias::new(&new.table)))
        .await?;
    for index in indexes(new, DbBackend::Sqlite) {
        conn.execute(&index).await?;
    }
    Ok(())
}

/// SQLite keeps a value its new column's type cannot hold as it was (text
/// `abc` in an INTEGER column); PostgreSQL refuses it. The same refusal here,
/// so a type change means the same on both: the first value of `field` in
/// `temporary` whose storage class is not the new type's fails the migration.
async fn check_converted(
    conn: &impl ConnectionTrait,
    temporary: &str,
    table: &str,
    old: &Field,
    field: &Field,
) -> Result<(), MigrationError> {
    let classes: &[&str] = match field.db_type {
        DbType::SmallInteger | DbType::Integer | DbType::BigInteger | DbType::Boolean => {
            &["integer", "null"]
        }
        DbType::Float | DbType::Double => &["integer", "real", "null"],
        _ => return Ok(()),
    };
    let column = Alias::new(&field.name);
    let query = Query::select()
        .expr_as(
            Func::cast_as(Expr::col(column.clone()), Alias::new("text")),
            Alias::new("value"),
        )
        .from(Alias::new(temporary))
        .and_where(
            Expr::expr(Func::cust(Alias::new("typeof")).arg(Expr::col(column)))
                .is_not_in(classes.iter().copied()),
        )
        .limit(1)
        .to_owned();
    let Some(row) = conn.query_one(&query).await? else {
        return Ok(());
    };
    let value: String = row.try_get("", "value").unwrap_or_default();
    let ty = field.db_type.rust_name();
    Err(MigrationError::ConversionRefused {
        table: table.to_string(),
        column: field.name.clone(),
        from: old.db_type.rust_name(),
        to: ty,
        reason: format!("{value:?} is not a valid {ty}"),
    })
}
