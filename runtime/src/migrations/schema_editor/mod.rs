//! The schema editor: each migration operation as the statements that take
//! a database's schema from the state before it to the state after, per
//! backend. What the backends share is here; PostgreSQL alters columns in
//! place one change at a time ([`postgres`]), MySQL redefines the column
//! whole ([`mysql`]), SQLite rebuilds the table ([`sqlite`]).

mod ddl;
mod mysql;
mod postgres;
mod sqlite;

use sea_orm::sea_query::{
    Alias, ColumnDef, Expr, ExprTrait, Index as SqlIndex, Query, Table, Value,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};

use super::state::{ModelState, ProjectState};
use super::{AddField, AlterField, Field, MigrationError, Operation, RenameField};
use ddl::{
    column_def, create_table, field_index, foreign_key_name, index_name, indexes, model_index,
    sql_value,
};

/// Runs `operation` of app `app`, taking the schema from `before` to `after`.
pub(super) async fn apply_operation(
    conn: &impl ConnectionTrait,
    app: &str,
    operation: &Operation,
    before: &ProjectState,
    after: &ProjectState,
) -> Result<(), MigrationError> {
    let backend = conn.get_database_backend();
    match operation {
        Operation::CreateModel(op) => {
            let model = model_of(after, app, &op.name)?;
            conn.execute(&create_table(model, &model.table, backend))
                .await?;
            for index in indexes(model, backend) {
                conn.execute(&index).await?;
            }
        }
        Operation::DeleteModel(op) => {
            let model = model_of(before, app, &op.name)?;
            conn.execute(Table::drop().table(Alias::new(&model.table)))
                .await?;
        }
        Operation::AddField(op) => {
            let old = model_of(before, app, &op.model)?;
            let new = model_of(after, app, &op.model)?;
            add_field(conn, old, new, op).await?;
        }
        Operation::RemoveField(op) => {
            let old = model_of(before, app, &op.model)?;
            let new = model_of(after, app, &op.model)?;
            remove_field(conn, old, new, &op.name).await?;
        }
        Operation::AlterField(op) => {
            let old_model = model_of(before, app, &op.model)?;
            let new_model = model_of(after, app, &op.model)?;
            alter_field(conn, old_model, new_model, op).await?;
        }
        Operation::RenameField(op) => {
            let new_model = model_of(after, app, &op.model)?;
            rename_field(conn, new_model, op).await?;
        }
        Operation::AddIndex(op) => {
            let model = model_of(after, app, &op.model)?;
            conn.execute(&model_index(model, &op.index, backend))
                .await?;
        }
        Operation::RemoveIndex(op) => {
            let model = model_of(before, app, &op.model)?;
            let name = crate::db::mysql::identifier_on(&op.name, backend);
            drop_index(conn, &model.table, &name).await?;
        }
    }
    Ok(())
}

/// Drops column `name` of `old`, leaving the table as `new` describes it.
async fn remove_field(
    conn: &impl ConnectionTrait,
    old: &ModelState,
    new: &ModelState,
    name: &str,
) -> Result<(), MigrationError> {
    if conn.get_database_backend() == DbBackend::Sqlite {
        return sqlite::rebuild(conn, old, new, None).await;
    }
    if conn.get_database_backend() == DbBackend::MySql {
        // MySQL refuses to drop a column a foreign key uses.
        let field = field_of(old, name)?;
        if field.references.is_some() {
            mysql::drop_foreign_key(conn, &old.table, name).await?;
        }
    }
    // The database drops the column's indexes and constraints with it.
    conn.execute(
        Table::alter()
            .table(Alias::new(&old.table))
            .drop_column(Alias::new(name)),
    )
    .await?;
    Ok(())
}

/// Renames a column, and the index and foreign key named after it (SQLite
/// keeps a foreign key through a rename; PostgreSQL's is named again).
async fn rename_field(
    conn: &impl ConnectionTrait,
    model: &ModelState,
    op: &RenameField,
) -> Result<(), MigrationError> {
    let backend = conn.get_database_backend();
    let postgres = backend != DbBackend::Sqlite;
    let field = field_of(model, &op.new)?;
    let table = &model.table;
    // The foreign key first: MySQL refuses to drop an index a foreign key uses.
    if backend == DbBackend::MySql && field.references.is_some() {
        mysql::drop_foreign_key(conn, table, &op.old).await?;
    } else if postgres && field.references.is_some() {
        conn.execute(
            Table::alter()
                .table(Alias::new(table))
                .drop_foreign_key(Alias::new(foreign_key_name(table, &op.old, backend))),
        )
        .await?;
    }
    if field.index {
        drop_index(conn, table, &index_name(table, &op.old, backend)).await?;
    }
    conn.execute(
        Table::alter()
            .table(Alias::new(table))
            .rename_column(Alias::new(&op.old), Alias::new(&op.new)),
    )
    .await?;
    if postgres && let Some(key) = &field.references {
        postgres::add_foreign_key(conn, table, field, key).await?;
    }
    if field.index {
        conn.execute(&field_index(model, field, conn.get_database_backend()))
            .await?;
    }
    Ok(())
}

/// Adds `op.field`: with `ALTER TABLE ... ADD COLUMN` where the backend can,
/// else (SQLite, with a constraint) by rebuilding the table.
async fn add_field(
    conn: &impl ConnectionTrait,
    old: &ModelState,
    new: &ModelState,
    op: &AddField,
) -> Result<(), MigrationError> {
    let sqlite = conn.get_database_backend() == DbBackend::Sqlite;
    let field = &op.field;
    let fill = op.one_off_default.as_ref().or(field.default.as_ref());
    if !field.null && fill.is_none() && has_rows(conn, &new.table).await? {
        return Err(MigrationError::RowsNeedValue {
            app: new.app.clone(),
            model: new.name.clone(),
            table: new.table.clone(),
            column: field.name.clone(),
        });
    }
    // SQLite's ADD COLUMN takes no constraint, and a NOT NULL column only with a default.
    let simple = !field.unique
        && !field.primary_key
        && field.references.is_none()
        && (field.null || field.default.is_some());
    if sqlite && !simple {
        let fill = op
            .one_off_default
            .as_ref()
            .map(|v| (field.name.as_str(), v));
        return sqlite::rebuild(conn, old, new, fill).await;
    }
    let mut column = column_def(field, conn.get_database_backend());
    if let Some(value) = &op.one_off_default {
        column.default(sql_value(value));
    }
    let table = Alias::new(&new.table);
    conn.execute(Table::alter().table(table.clone()).add_column(column))
        .await?;
    if op.one_off_default.is_some() {
        // One-off: the rows have it now; the column keeps the field's default (none).
        let reset = if conn.get_database_backend() == DbBackend::MySql {
            // MySQL's MODIFY COLUMN takes the whole definition.
            mysql::modify_definition(field)
        } else {
            ColumnDef::new(Alias::new(&field.name))
                .default(Expr::value(Value::String(None)))
                .to_owned()
        };
        conn.execute(Table::alter().table(table).modify_column(reset))
            .await?;
    }
    if let Some(key) = &field.references {
        postgres::add_foreign_key(conn, &new.table, field, key).await?;
    }
    if field.index {
        conn.execute(&field_index(new, field, conn.get_database_backend()))
            .await?;
    }
    Ok(())
}

/// Redefines `op.field`: an index alone is added or dropped; otherwise
/// SQLite rebuilds the table and PostgreSQL alters the column in place.
async fn alter_field(
    conn: &impl ConnectionTrait,
    old_model: &ModelState,
    new_model: &ModelState,
    op: &AlterField,
) -> Result<(), MigrationError> {
    let old = field_of(old_model, &op.field.name)?;
    let new = &op.field;
    let only_index = Field {
        index: new.index,
        ..old.clone()
    } == *new;
    if only_index {
        if new.index {
            conn.execute(&field_index(new_model, new, conn.get_database_backend()))
                .await?;
        } else {
            let name = index_name(&old_model.table, &old.name, conn.get_database_backend());
            drop_index(conn, &old_model.table, &name).await?;
        }
        return Ok(());
    }
    let fill = op.one_off_default.as_ref().or(new.default.as_ref());
    if old.null && !new.null && fill.is_none() {
        require_no_nulls(conn, new_model, new).await?;
    }
    match conn.get_database_backend() {
        DbBackend::Sqlite => {
            let fill = op.one_off_default.as_ref().map(|v| (new.name.as_str(), v));
            sqlite::rebuild(conn, old_model, new_model, fill).await
        }
        DbBackend::MySql => mysql::alter_column(conn, new_model, old, new, fill).await,
        _ => postgres::alter_column(conn, new_model, old, new, fill).await,
    }
}

/// Whether `table` has a row.
async fn has_rows(conn: &impl ConnectionTrait, table: &str) -> Result<bool, DbErr> {
    let query = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new(table))
        .limit(1)
        .to_owned();
    Ok(conn.query_one(&query).await?.is_some())
}

/// Fails, naming the way out, when rows hold NULL in a column about to
/// become NOT NULL without a value for them.
async fn require_no_nulls(
    conn: &impl ConnectionTrait,
    model: &ModelState,
    field: &Field,
) -> Result<(), MigrationError> {
    let query = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new(&model.table))
        .and_where(Expr::col(Alias::new(&field.name)).is_null())
        .limit(1)
        .to_owned();
    if conn.query_one(&query).await?.is_none() {
        return Ok(());
    }
    Err(MigrationError::NullsInNotNullColumn {
        app: model.app.clone(),
        model: model.name.clone(),
        table: model.table.clone(),
        column: field.name.clone(),
    })
}

/// CREATE INDEX IF NOT EXISTS of `meta`'s default-ordering index (see
/// [`crate::model::ModelMeta::ordering_index`]) on `backend`, the same
/// statement migrations run, for databases made without migrations
/// (`App::create_tables`).
pub(crate) fn ordering_index_statement(
    meta: &crate::model::ModelMeta,
    backend: DbBackend,
) -> Option<sea_orm::sea_query::IndexCreateStatement> {
    let index = meta.ordering_index()?;
    let model = ModelState::from_meta(meta);
    let mut create = model_index(
        &model,
        &super::Index::new(index.name, index.columns),
        backend,
    );
    create.if_not_exists();
    Some(create)
}

/// Drops index `name` of `table` when it exists.
async fn drop_index(conn: &impl ConnectionTrait, table: &str, name: &str) -> Result<(), DbErr> {
    if conn.get_database_backend() == DbBackend::MySql {
        // MySQL has no DROP INDEX IF EXISTS (sea-query refuses to write it).
        return mysql::drop_index(conn, table, name).await;
    }
    conn.execute(
        SqlIndex::drop()
            .name(name)
            .table(Alias::new(table))
            .if_exists(),
    )
    .await?;
    Ok(())
}

/// Model `name` of `app` in `state`.
fn model_of<'a>(
    state: &'a ProjectState,
    app: &str,
    name: &str,
) -> Result<&'a ModelState, MigrationError> {
    state
        .model(app, name)
        .ok_or_else(|| MigrationError::UnknownModel {
            app: app.to_string(),
            model: name.to_string(),
        })
}

/// Field `name` of `model`.
fn field_of<'a>(model: &'a ModelState, name: &str) -> Result<&'a Field, MigrationError> {
    model
        .field(name)
        .ok_or_else(|| MigrationError::UnknownField {
            model: model.name.clone(),
            field: name.to_string(),
        })
}
