//! Django's `django_content_type` and `auth_permission`, as ferrobridge models
//! with Django's exact table and column names.

use ferrobridge::prelude::*;

/// A Django content type: one row per installed model.
#[derive(Model, Clone, Debug)]
#[model(
    app = "contenttypes",
    table = "django_content_type",
    plural = "content_types",
    ordering = "app_label,model",
    // Django's table, one row per model: Django's unique (app_label, model)
    // index serves this ordering, so no second one is added to it.
    ordering_index = false
)]
#[api(policy = "allow_any")]
pub struct ContentType {
    #[field(primary_key)]
    pub id: i32,
    #[field(max_length = 100)]
    pub app_label: String,
    /// Python model class name, lower case.
    #[field(max_length = 100)]
    pub model: String,
}

/// A Django permission, listed as the seed article's endpoint lists it:
/// `{"items":[{"pk":..,"name":..}]}`, every row, in Django's default
/// `Permission` ordering (through the content type).
#[derive(Model, Clone, Debug)]
#[model(
    app = "auth",
    table = "auth_permission",
    ordering = "content_type__app_label,content_type__model,codename"
)]
#[api(read(pk, name), pagination = "none", policy = "allow_any")]
pub struct Permission {
    #[field(primary_key)]
    pub id: i32,
    #[field(max_length = 255)]
    pub name: String,
    #[field(references = ContentType, on_delete = "cascade")]
    pub content_type_id: i32,
    #[field(max_length = 100)]
    pub codename: String,
}
