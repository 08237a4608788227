use crate::{ExecResult, ExecResultHolder, QueryResult, QueryResultRow, Statement, error::*};

use sea_query::{Value, ValueType};
use std::{collections::BTreeMap, fmt::Debug, sync::Arc};

/// Defines the [ProxyDatabaseTrait] to save the functions
#[async_trait::async_trait]
pub trait ProxyDatabaseTrait: Send + Sync + Debug {
    /// Execute a query in the [ProxyDatabase], and return the query results
    async fn query(&self, statement: Statement) -> Result<Vec<ProxyRow>, DbErr>;

    /// Execute a command in the [ProxyDatabase], and report the number of rows affected
    async fn execute(&self, statement: Statement) -> Result<ProxyExecResult, DbErr>;

    /// Begin a transaction in the [ProxyDatabase]
    async fn begin(&self) {}

    /// Commit a transaction in the [ProxyDatabase]
    async fn commit(&self) {}

    /// Rollback a transaction in the [ProxyDatabase]
    async fn rollback(&self) {}

    /// Start rollback a transaction in the [ProxyDatabase]
    fn start_rollback(&self) {}

    /// Ping the [ProxyDatabase], it should return an error if the database is not available
    async fn ping(&self) -> Result<(), DbErr> {
        Ok(())
    }
}

/// Defines the results obtained from a [ProxyDatabase]
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ProxyExecResult {
    /// The last inserted id on auto-increment
    pub last_insert_id: u64,
    /// The number of rows affected by the database operation
    pub rows_affected: u64,
}

impl ProxyExecResult {
    /// Create a new [ProxyExecResult] from the last inserted id and the number of rows affected
    pub fn new(last_insert_id: u64, rows_affected: u64) -> Self {
        Self {
            last_insert_id,
            rows_affected,
        }
    }
}

impl Default for ExecResultHolder {
    fn default() -> Self {
        Self::Proxy(ProxyExecResult::default())
    }
}

impl From<ProxyExecResult> for ExecResult {
    fn from(result: ProxyExecResult) -> Self {
        Self {
            result: ExecResultHolder::Proxy(result),
        }
    }
}

impl From<ExecResult> for ProxyExecResult {
    fn from(result: ExecResult) -> Self {
        match result.result {
            #[cfg(feature = "sqlx-mysql")]
            ExecResultHolder::SqlxMySql(result) => Self {
                last_insert_id: result.last_insert_id(),
                rows_affected: result.rows_affected(),
            },
            #[cfg(feature = "sqlx-postgres")]
            ExecResultHolder::SqlxPostgres(result) => Self {
                last_insert_id: 0,
                rows_affected: result.rows_affected(),
            },
            #[cfg(feature = "sqlx-sqlite")]
            ExecResultHolder::SqlxSqlite(result) => Self {
                last_insert_id: result.last_insert_rowid() as u64,
                rows_affected: result.rows_affected(),
            },
            #[cfg(feature = "mock")]
            ExecResultHolder::Mock(result) => Self {
                last_insert_id: result.last_insert_id,
                rows_affected: result.rows_affected,
            },
            ExecResultHolder::Proxy(result) => result,
        }
    }
}

/// Defines the structure of a Row for the [ProxyDatabase]
/// which is just a [BTreeMap]<[String], [Value]>
#[derive(Clone, Debug, Default)]
pub struct ProxyRow {
    /// The values of the single row; empty for a row made by
    /// [`ProxyRow::in_order`], which keeps its values in select order.
    pub values: BTreeMap<String, Value>,
    /// The values in select order, under column names every row of one
    /// result shares (patched in for ferrobridge, see PATCHED.md).
    pub(crate) ordered: Option<InOrder>,
}

/// A row's values in select order and the column names of its result.
/// The values of every row of one result may share one list: this row's
/// are `values[start..start + names.len()]`.
#[derive(Clone, Debug)]
pub(crate) struct InOrder {
    names: Arc<[String]>,
    values: Arc<Vec<Value>>,
    start: usize,
}

impl InOrder {
    fn values(&self) -> &[Value] {
        let end = (self.start + self.names.len()).min(self.values.len());
        &self.values[self.start.min(end)..end]
    }
}

impl ProxyRow {
    /// Create a new [ProxyRow] from a [BTreeMap]<[String], [Value]>
    pub fn new(values: BTreeMap<String, Value>) -> Self {
        Self {
            values,
            ordered: None,
        }
    }

    /// A row whose values keep their select order: index `i` reads the
    /// `i`-th column, as a database row does. `names` are the columns'
    /// names, shared by every row of one result (a row is not a map of
    /// its own); `values` holds one value per name.
    pub fn in_order(names: Arc<[String]>, values: Vec<Value>) -> Self {
        debug_assert_eq!(names.len(), values.len(), "one value per column");
        Self {
            values: BTreeMap::new(),
            ordered: Some(InOrder {
                names,
                values: Arc::new(values),
                start: 0,
            }),
        }
    }

    /// The rows of one result whose values, row after row in select
    /// order, are `values` (one per name and row): every row shares the
    /// names and the one list of values, so a result allocates neither
    /// per row.
    pub fn all_in_order(
        names: Arc<[String]>,
        values: Vec<Value>,
    ) -> impl ExactSizeIterator<Item = Self> {
        let width = names.len();
        let rows = if width == 0 {
            0
        } else {
            assert_eq!(values.len() % width, 0, "one value per column and row");
            values.len() / width
        };
        let values = Arc::new(values);
        (0..rows).map(move |row| Self {
            values: BTreeMap::new(),
            ordered: Some(InOrder {
                names: names.clone(),
                values: values.clone(),
                start: row * width,
            }),
        })
    }

    /// The value of the column named `name`.
    fn named(&self, name: &str) -> Option<&Value> {
        match &self.ordered {
            // A handful of columns: a scan beats hashing or a tree.
            Some(row) => row
                .names
                .iter()
                .position(|n| n == name)
                .and_then(|i| row.values().get(i)),
            None => self.values.get(name),
        }
    }

    /// The value of the `index`-th selected column.
    fn at(&self, index: usize) -> Option<&Value> {
        match &self.ordered {
            Some(row) => row.values().get(index),
            None => self.values.iter().nth(index).map(|(_, value)| value),
        }
    }

    /// The row's columns and values, as a map.
    fn into_map(self) -> BTreeMap<String, Value> {
        match self.ordered {
            Some(row) => row
                .names
                .iter()
                .cloned()
                .zip(row.values().iter().cloned())
                .collect(),
            None => self.values,
        }
    }
}

impl From<BTreeMap<String, Value>> for ProxyRow {
    fn from(values: BTreeMap<String, Value>) -> Self {
        Self::new(values)
    }
}

impl From<ProxyRow> for BTreeMap<String, Value> {
    fn from(row: ProxyRow) -> Self {
        row.into_map()
    }
}

impl From<ProxyRow> for Vec<(String, Value)> {
    fn from(row: ProxyRow) -> Self {
        row.into_map().into_iter().collect()
    }
}

impl From<ProxyRow> for QueryResult {
    fn from(row: ProxyRow) -> Self {
        QueryResult {
            row: QueryResultRow::Proxy(row),
        }
    }
}

#[cfg(feature = "with-json")]
impl From<ProxyRow> for serde_json::Value {
    fn from(val: ProxyRow) -> serde_json::Value {
        val.into_map()
            .into_iter()
            .map(|(k, v)| (k, sea_query::sea_value_to_json_value(&v)))
            .collect()
    }
}

/// Convert [QueryResult] to [ProxyRow]
pub fn from_query_result_to_proxy_row(result: &QueryResult) -> ProxyRow {
    match &result.row {
        #[cfg(feature = "sqlx-mysql")]
        QueryResultRow::SqlxMySql(row) => crate::from_sqlx_mysql_row_to_proxy_row(row),
        #[cfg(feature = "sqlx-postgres")]
        QueryResultRow::SqlxPostgres(row) => crate::from_sqlx_postgres_row_to_proxy_row(row),
        #[cfg(feature = "sqlx-sqlite")]
        QueryResultRow::SqlxSqlite(row) => crate::from_sqlx_sqlite_row_to_proxy_row(row),
        #[cfg(feature = "mock")]
        QueryResultRow::Mock(row) => ProxyRow::new(row.values.clone()),
        QueryResultRow::Proxy(row) => row.to_owned(),
    }
}

/// `value` as `T`; a value of another variant is converted to one `T`
/// reads when the conversion is exact (patched in for ferrobridge, see
/// PATCHED.md: a row read by another driver holds what the database
/// stores, and SQLite stores `bool`, `i32` and `i64` alike as INTEGER and
/// datetimes as text).
fn read_as<T: ValueType>(value: &Value) -> Result<T, DbErr> {
    // Integers come as `BigInt` and are mostly read as narrower types:
    // convert first, instead of failing the exact reading on a clone.
    if let Value::BigInt(Some(i)) = *value {
        let target = T::column_type();
        if let Some(converted) = super::proxy_coerce::integer_as(i, &target) {
            if let Ok(v) = T::try_from(converted) {
                return Ok(v);
            }
        }
        for converted in super::proxy_coerce::candidates(value, &target) {
            if let Ok(v) = T::try_from(converted) {
                return Ok(v);
            }
        }
    }
    let error = match T::try_from(value.clone()) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    for converted in super::proxy_coerce::candidates(value, &T::column_type()) {
        if let Ok(v) = T::try_from(converted) {
            return Ok(v);
        }
    }
    Err(type_err(error))
}

impl ProxyRow {
    /// Get a value from the [ProxyRow]
    pub fn try_get<T, I: crate::ColIdx>(&self, index: I) -> Result<T, DbErr>
    where
        T: ValueType,
    {
        if let Some(index) = index.as_str() {
            read_as::<T>(
                self.named(index)
                    .ok_or_else(|| query_err(format!("No column for ColIdx {index:?}")))?,
            )
        } else if let Some(index) = index.as_usize() {
            read_as::<T>(
                self.at(*index)
                    .ok_or_else(|| query_err(format!("Column at index {index} not found")))?,
            )
        } else {
            unreachable!("Missing ColIdx implementation for ProxyRow");
        }
    }

    /// An iterator over the keys and values of a proxy row
    pub fn into_column_value_tuples(self) -> impl Iterator<Item = (String, Value)> {
        self.into_map().into_iter()
    }
}

#[cfg(test)]
mod tests {
    use crate::{
        Database, DbBackend, DbErr, ProxyDatabaseTrait, ProxyExecResult, ProxyRow, Statement,
        entity::*, tests_cfg::*,
    };
    use std::sync::Arc;

    #[derive(Debug)]
    struct ProxyDb {}

    #[async_trait::async_trait]
    impl ProxyDatabaseTrait for ProxyDb {
        async fn query(&self, statement: Statement) -> Result<Vec<ProxyRow>, DbErr> {
            println!("SQL query: {}", statement.sql);
            Ok(vec![].into())
        }

        async fn execute(&self, statement: Statement) -> Result<ProxyExecResult, DbErr> {
            println!("SQL execute: {}", statement.sql);
            Ok(ProxyExecResult {
                last_insert_id: 1,
                rows_affected: 1,
            })
        }
    }

    #[smol_potat::test]
    async fn create_proxy_conn() {
        let _db = Database::connect_proxy(DbBackend::MySql, Arc::new(Box::new(ProxyDb {})))
            .await
            .unwrap();
    }

    #[smol_potat::test]
    async fn select_rows() {
        let db = Database::connect_proxy(DbBackend::MySql, Arc::new(Box::new(ProxyDb {})))
            .await
            .unwrap();

        let _ = cake::Entity::find().all(&db).await;
    }

    #[smol_potat::test]
    async fn insert_one_row() {
        let db = Database::connect_proxy(DbBackend::MySql, Arc::new(Box::new(ProxyDb {})))
            .await
            .unwrap();

        let item = cake::ActiveModel {
            id: NotSet,
            name: Set("Alice".to_string()),
        };

        cake::Entity::insert(item).exec(&db).await.unwrap();
    }
}
