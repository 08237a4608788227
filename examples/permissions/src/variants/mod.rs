//! The four hand-written variants; the `generated` one is [`crate::app`].

pub mod axum_seaorm;
pub mod runtime;
pub mod rusqlite;
pub mod sqlx;

/// The list query of the raw-SQL variants, as a literal for `concat!`.
macro_rules! list_sql {
    () => {
        "SELECT auth_permission.id, auth_permission.name \
         FROM auth_permission \
         INNER JOIN django_content_type ON auth_permission.content_type_id = django_content_type.id \
         ORDER BY django_content_type.app_label ASC, django_content_type.model ASC, auth_permission.codename ASC"
    };
}
pub(crate) use list_sql;

/// The list query of the raw-SQL variants: Django's SQL for
/// `Permission.objects.all()` (an INNER JOIN on the non-null foreign key).
pub const LIST_SQL: &str = list_sql!();
