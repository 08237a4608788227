//! PostgreSQL's side of the schema editor: it alters a column in place,
//! one change at a time, and converts values to a new type with
//! `USING CAST(...)`.

use sea_orm::sea_query::{
    Alias, ColumnDef, Expr, ExprTrait, ForeignKey as SqlForeignKey, Func, JoinType, Query, Table,
    Value,
};
use sea_orm::{ConnectionTrait, DbErr};

use super::super::state::ModelState;
use super::super::{DbType, DefaultValue, Field, ForeignKey, MigrationError};
use super::ddl::{action, field_index, foreign_key_name, index_name, sql_type, sql_value};
use super::drop_index;

/// Adds the foreign key of `field` (a column of `table`) to `key`.
pub(super) async fn add_foreign_key(
    conn: &impl ConnectionTrait,
    table: &str,
    field: &Field,
    key: &ForeignKey,
) -> Result<(), DbErr> {
    conn.execute(
        Table::alter().table(Alias::new(table)).add_foreign_key(
            SqlForeignKey::create()
                .name(foreign_key_name(
                    table,
                    &field.name,
                    conn.get_database_backend(),
                ))
                .from_tbl(Alias::new(table))
                .from_col(Alias::new(&field.name))
                .to_tbl(Alias::new(&key.table))
                .to_col(Alias::new(&key.column))
                .on_delete(action(key.on_delete))
                .get_foreign_key(),
        ),
    )
    .await?;
    Ok(())
}

/// PostgreSQL alters a column in place, one change at a time; `fill` is
/// what rows holding NULL get when the column becomes NOT NULL.
pub(super) async fn alter_column(
    conn: &impl ConnectionTrait,
    model: &ModelState,
    old: &Field,
    new: &Field,
    fill: Option<&DefaultValue>,
) -> Result<(), MigrationError> {
    let table = Alias::new(&model.table);
    if old.references.is_some() && old.references != new.references {
        conn.execute(
            Table::alter()
                .table(table.clone())
                .drop_foreign_key(Alias::new(foreign_key_name(
                    &model.table,
                    &old.name,
                    conn.get_database_backend(),
                ))),
        )
        .await?;
    }
    alter_type_and_default(conn, model, old, new).await?;
    if old.null != new.null {
        alter_null(conn, model, new, fill).await?;
    }
    alter_unique(conn, model, old, new).await?;
    if old.index != new.index {
        if new.index {
            conn.execute(&field_index(model, new, conn.get_database_backend()))
                .await?;
        } else {
            let name = index_name(&model.table, &old.name, conn.get_database_backend());
            drop_index(conn, &model.table, &name).await?;
        }
    }
    if let Some(key) = &new.references
        && old.references != new.references
    {
        add_foreign_key(conn, &model.table, new, key).await?;
    }
    Ok(())
}

/// `ALTER COLUMN ... SET DEFAULT NULL`: PostgreSQL's implicit default is
/// NULL, so setting it drops the column's default.
fn without_default(column: &Alias) -> ColumnDef {
    ColumnDef::new(column.clone())
        .default(Expr::value(Value::String(None)))
        .to_owned()
}

/// Converts the column to `new`'s type and sets `new`'s default, in the
/// order that lets the old default go first (it may not convert).
async fn alter_type_and_default(
    conn: &impl ConnectionTrait,
    model: &ModelState,
    old: &Field,
    new: &Field,
) -> Result<(), MigrationError> {
    let table = Alias::new(&model.table);
    let column = Alias::new(&new.name);
    let retyped = old.db_type != new.db_type;
    if retyped {
        if old.default.is_some() {
            // The old default may not convert to the new type; it is set again below.
            conn.execute(
                Table::alter()
                    .table(table.clone())
                    .modify_column(without_default(&column)),
            )
            .await?;
        }
        retype(conn, model, old, new).await?;
    }
    if old.default != new.default || (retyped && new.default.is_some()) {
        let def = match &new.default {
            Some(value) => ColumnDef::new(column).default(sql_value(value)).to_owned(),
            None => without_default(&column),
        };
        conn.execute(Table::alter().table(table).modify_column(def))
            .await?;
    }
    Ok(())
}

/// Makes the column nullable or NOT NULL; rows holding NULL take `fill`
/// first (the default, or the one-off value).
async fn alter_null(
    conn: &impl ConnectionTrait,
    model: &ModelState,
    new: &Field,
    fill: Option<&DefaultValue>,
) -> Result<(), MigrationError> {
    let table = Alias::new(&model.table);
    let column = Alias::new(&new.name);
    if !new.null
        && let Some(value) = fill
    {
        let value = Func::cast_as(
            Expr::val(sql_value(value)),
            Alias::new(postgres_type(new.db_type)),
        );
        conn.execute(
            Query::update()
                .table(table.clone())
                .value(column.clone(), value)
                .and_where(Expr::col(column.clone()).is_null()),
        )
        .await?;
    }
    let mut def = ColumnDef::new(column);
    if new.null {
        def.null();
    } else {
        def.not_null();
    }
    conn.execute(Table::alter().table(table).modify_column(def))
        .await?;
    Ok(())
}

/// Drops or adds the single-column unique constraint.
async fn alter_unique(
    conn: &impl ConnectionTrait,
    model: &ModelState,
    old: &Field,
    new: &Field,
) -> Result<(), MigrationError> {
    let table = Alias::new(&model.table);
    if old.unique && !new.unique {
        for name in unique_constraints(conn, &model.table, &old.name).await? {
            conn.execute(
                Table::alter()
                    .table(table.clone())
                    .drop_constraint(Alias::new(name)),
            )
            .await?;
        }
    }
    if new.unique && !old.unique {
        conn.execute(
            Table::alter()
                .table(table)
                .modify_column(ColumnDef::new(Alias::new(&new.name)).unique_key()),
        )
        .await?;
    }
    Ok(())
}

/// Changes the column's type, converting each value as Django does
/// (`USING "column"::type`); a value that does not convert fails the
/// migration with the column and the value named.
async fn retype(
    conn: &impl ConnectionTrait,
    model: &ModelState,
    old: &Field,
    new: &Field,
) -> Result<(), MigrationError> {
    let column = Alias::new(&new.name);
    let cast = Func::cast_as(
        Expr::col(column.clone()),
        Alias::new(postgres_type(new.db_type)),
    );
    let def = ColumnDef::new_with_type(column, sql_type(new.db_type))
        .using(cast)
        .to_owned();
    let alter = Table::alter()
        .table(Alias::new(&model.table))
        .modify_column(def)
        .to_owned();
    conn.execute(&alter).await.map_err(|e| {
        let reason = e.to_string();
        let reason = reason
            .rsplit("error returned from database: ")
            .next()
            .unwrap_or(&reason);
        MigrationError::ConversionRefused {
            table: model.table.clone(),
            column: new.name.clone(),
            from: old.db_type.rust_name(),
            to: new.db_type.rust_name(),
            reason: reason.to_string(),
        }
    })?;
    Ok(())
}

/// PostgreSQL's name of the type `sql_type` gives `db_type`, for `CAST`.
fn postgres_type(db_type: DbType) -> String {
    match db_type {
        DbType::SmallInteger => "smallint".into(),
        DbType::Integer => "integer".into(),
        DbType::BigInteger => "bigint".into(),
        DbType::Float => "real".into(),
        DbType::Double => "double precision".into(),
        DbType::Boolean => "boolean".into(),
        DbType::String(Some(n)) => format!("varchar({n})"),
        DbType::String(None) => "varchar".into(),
        DbType::Text => "text".into(),
        DbType::Decimal(digits, places) => format!("numeric({digits}, {places})"),
        DbType::Date => "date".into(),
        DbType::DateTime => "timestamp with time zone".into(),
        DbType::Uuid => "uuid".into(),
        DbType::Json => "json".into(),
    }
}

/// The names of PostgreSQL's single-column unique constraints on `table.column`
/// (looked up, since a renamed column keeps its constraint's old name).
async fn unique_constraints(
    conn: &impl ConnectionTrait,
    table: &str,
    column: &str,
) -> Result<Vec<String>, DbErr> {
    let tc = Alias::new("tc");
    let ccu = Alias::new("ccu");
    let query = Query::select()
        .expr_as(
            Expr::col((tc.clone(), Alias::new("constraint_name"))),
            Alias::new("name"),
        )
        .from_as(
            (
                Alias::new("information_schema"),
                Alias::new("table_constraints"),
            ),
            tc.clone(),
        )
        .join_as(
            JoinType::InnerJoin,
            (
                Alias::new("information_schema"),
                Alias::new("constraint_column_usage"),
            ),
            ccu.clone(),
            Expr::col((tc.clone(), Alias::new("constraint_name")))
                .equals((ccu.clone(), Alias::new("constraint_name")))
                .and(
                    Expr::col((tc.clone(), Alias::new("table_schema")))
                        .equals((ccu.clone(), Alias::new("table_schema"))),
                ),
        )
        .and_where(Expr::col((tc.clone(), Alias::new("constraint_type"))).eq("UNIQUE"))
        .and_where(Expr::col((tc.clone(), Alias::new("table_name"))).eq(table))
        .and_where(
            Expr::col((tc.clone(), Alias::new("table_schema")))
                .eq(Func::cust(Alias::new("current_schema"))),
        )
        .and_where(Expr::col((ccu.clone(), Alias::new("column_name"))).eq(column))
        .to_owned();
    let rows = conn.query_all(&query).await?;
    rows.into_iter()
        .map(|row| row.try_get("", "name"))
        .collect()
}
