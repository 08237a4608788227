//! MySQL's (and MariaDB's) side of the schema editor: a column is
//! redefined whole with `MODIFY COLUMN` (MySQL has no `ALTER COLUMN ...
//! TYPE` or `SET NOT NULL`), values convert as MySQL converts them, and in
//! strict mode (the default `sql_mode`) a value that does not convert
//! fails the migration as PostgreSQL's cast does.
//!
//! MySQL names things its own way, which this follows: a column's inline
//! unique key is named after the column, a foreign key gets an index of
//! its own (named as the key) unless one covers the column, and that index
//! outlives the key, so it is dropped with it.

use sea_orm::sea_query::{
    Alias, ColumnDef, Expr, ExprTrait, Func, Index as SqlIndex, Query, Table,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};

use super::super::state::ModelState;
use super::super::{DefaultValue, Field, MigrationError};
use super::ddl::{column_def, field_index, foreign_key_name, index_name, sql_value};
use super::postgres::add_foreign_key;

/// MySQL's errors for a value that does not fit its column's new type, in
/// strict mode: incorrect value (1366, 1292), truncated (1265), out of
/// range (1264), too long (1406), wrong value for the type (1411), not
/// JSON (MySQL 3140; MariaDB's `json_valid` check, 4025).
const CONVERSION_ERRORS: &[u16] = &[1366, 1292, 1265, 1264, 1406, 1411, 3140, 4025];

/// The column definition `MODIFY COLUMN` takes for `field`: everything but
/// the unique and primary keys, which are indexes of their own there and
/// stay as they are unless changed separately.
pub(super) fn modify_definition(field: &Field) -> ColumnDef {
    let plain = Field {
        unique: false,
        primary_key: false,
        ..field.clone()
    };
    column_def(&plain, DbBackend::MySql)
}

/// Redefines column `old` of `model` as `new`: foreign key, unique key and
/// index that go are dropped first, NULLs take `fill` when the column
/// becomes NOT NULL, the column is redefined, and the keys that come are
/// added last.
pub(super) async fn alter_column(
    conn: &impl ConnectionTrait,
    model: &ModelState,
    old: &Field,
    new: &Field,
    fill: Option<&DefaultValue>,
) -> Result<(), MigrationError> {
    let table = &model.table;
    if old.references.is_some() && old.references != new.references {
        drop_foreign_key(conn, table, &old.name).await?;
    }
    if old.unique && !new.unique {
        for name in unique_indexes(conn, table, &old.name).await? {
            drop_index(conn, table, &name).await?;
        }
    }
    if old.index && !new.index {
        drop_index(conn, table, &index_name(table, &old.name, DbBackend::MySql)).await?;
    }
    if old.null
        && !new.null
        && let Some(value) = fill
    {
        let column = Alias::new(&new.name);
        conn.execute(
            Query::update()
                .table(Alias::new(table))
                .value(column.clone(), sql_value(value))
                .and_where(Expr::col(column).is_null()),
        )
        .await?;
    }
    let modify = Table::alter()
        .table(Alias::new(table))
        .modify_column(modify_definition(new))
        .to_owned();
    conn.execute(&modify).await.map_err(|e| {
        match error_number(&e).filter(|n| CONVERSION_ERRORS.contains(n)) {
            Some(_) => MigrationError::ConversionRefused {
                table: table.clone(),
                column: new.name.clone(),
                from: old.db_type.rust_name(),
                to: new.db_type.rust_name(),
                reason: database_message(&e),
            },
            None => e.into(),
        }
    })?;
    if new.unique && !old.unique {
        conn.execute(
            SqlIndex::create()
                .name(crate::db::mysql::identifier(&new.name))
                .table(Alias::new(table))
                .col(Alias::new(&new.name))
                .unique(),
        )
        .await?;
    }
    if new.index && !old.index {
        conn.execute(&field_index(model, new, DbBackend::MySql))
            .await?;
    }
    if let Some(key) = &new.references
        && old.references != new.references
    {
        add_foreign_key(conn, table, new, key).await?;
    }
    Ok(())
}

/// Drops the foreign key of `table.column`, and the index MySQL made for it
/// (which `DROP FOREIGN KEY` leaves behind) when there is one.
pub(super) async fn drop_foreign_key(
    conn: &impl ConnectionTrait,
    table: &str,
    column: &str,
) -> Result<(), DbErr> {
    let name = foreign_key_name(table, column, DbBackend::MySql);
    conn.execute(
        Table::alter()
            .table(Alias::new(table))
            .drop_foreign_key(Alias::new(&name)),
    )
    .await?;
    drop_index(conn, table, &name).await
}

/// Drops index `name` of `table` when it exists (MySQL has no `DROP INDEX
/// IF EXISTS`, MariaDB has: asked first, for both).
pub(super) async fn drop_index(
    conn: &impl ConnectionTrait,
    table: &str,
    name: &str,
) -> Result<(), DbErr> {
    let name = crate::db::mysql::identifier(name);
    let query = statistics(table)
        .and_where(Expr::col(Alias::new("index_name")).eq(name.as_str()))
        .limit(1)
        .to_owned();
    if conn.query_one(&query).await?.is_none() {
        return Ok(());
    }
    conn.execute(SqlIndex::drop().name(name).table(Alias::new(table)))
        .await?;
    Ok(())
}

/// The unique indexes of `table` over `column` alone (the primary key
/// aside): named after the column when made inline, but a renamed column
/// keeps its key's old name, so they are looked up.
async fn unique_indexes(
    conn: &impl ConnectionTrait,
    table: &str,
    column: &str,
) -> Result<Vec<String>, DbErr> {
    let index = Alias::new("index_name");
    let query = statistics(table)
        .and_where(Expr::col(Alias::new("non_unique")).eq(0))
        .and_where(Expr::col(index.clone()).ne("PRIMARY"))
        .group_by_col(index.clone())
        .and_having(Expr::expr(Func::count(Expr::col(Alias::new("column_name")))).eq(1))
        .and_having(Expr::expr(Func::max(Expr::col(Alias::new("column_name")))).eq(column))
        .to_owned();
    let rows = conn.query_all(&query).await?;
    rows.into_iter()
        .map(|row| row.try_get("", "name"))
        .collect()
}

/// `SELECT index_name AS name FROM information_schema.statistics` of
/// `table` in the current database.
fn statistics(table: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .expr_as(Expr::col(Alias::new("index_name")), Alias::new("name"))
        .from((Alias::new("information_schema"), Alias::new("statistics")))
        .and_where(Expr::col(Alias::new("table_schema")).eq(Func::cust(Alias::new("DATABASE"))))
        .and_where(Expr::col(Alias::new("table_name")).eq(table))
        .to_owned()
}

/// MySQL's error number of `error`, if the database returned one.
fn error_number(error: &DbErr) -> Option<u16> {
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))) = error
    else {
        return None;
    };
    e.as_database_error()?
        .try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>()
        .map(|e| e.number())
}

/// The database's own words in `error` (which name the value), without
/// sqlx's prefix.
fn database_message(error: &DbErr) -> String {
    if let DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) = error
        && let Some(db) = e.as_database_error()
    {
        return db.message().to_string();
    }
    error.to_string()
}
