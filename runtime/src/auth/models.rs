//! Django's auth tables, as ferrobridge models: `django_content_type`,
//! `auth_permission`, `auth_group`, `auth_user` and the three link tables,
//! with Django's table and column names so a Django project's database can
//! be served as it is; plus ferrobridge's own token table, and Django's
//! session store `django_session` (app `sessions`), which the admin's login
//! and the API's session authentication share.

use crate::Model;
use sea_orm::prelude::DateTimeUtc;

/// A model known to the permission system (Django's `ContentType`).
#[derive(Model, Clone, Debug, PartialEq)]
#[model(
    app = "contenttypes",
    table = "django_content_type",
    plural = "content_types",
    ordering = "app_label,model",
    // One row per model, always read whole; a Django database has its
    // unique (app_label, model) index already.
    ordering_index = false,
    display = "{app_label} | {model}"
)]
#[admin(hidden, search(app_label, model))]
#[api(filter(app_label, model), ordering(app_label, model))]
pub struct ContentType {
    #[field(primary_key)]
    pub id: i32,
    /// The app the model belongs to.
    #[field(max_length = 100)]
    pub app_label: String,
    /// The model's name in lower case.
    #[field(max_length = 100)]
    pub model: String,
}

/// A permission such as `blog.change_post` (Django's `Permission`).
#[derive(Model, Clone, Debug, PartialEq)]
#[model(
    app = "auth",
    table = "auth_permission",
    ordering = "content_type_id,codename",
    // Four rows per model, read whole or by content type; a Django
    // database has its unique (content_type_id, codename) index already.
    ordering_index = false,
    display = "{codename} | {name}"
)]
#[admin(hidden, search(name, codename))]
#[api(
    filter(content_type_id, codename),
    search(name, codename),
    ordering(codename, name)
)]
pub struct Permission {
    #[field(primary_key)]
    pub id: i32,
    /// A label for people, e.g. "Can change post".
    #[field(max_length = 255)]
    pub name: String,
    /// The model this permission is about.
    #[field(references = ContentType, on_delete = "cascade")]
    pub content_type_id: i32,
    /// The action and model, e.g. `change_post`.
    #[field(max_length = 100)]
    pub codename: String,
}

/// A named set of permissions users can belong to (Django's `Group`).
#[derive(Model, Clone, Debug, PartialEq)]
#[model(
    app = "auth",
    table = "auth_group",
    ordering = "name",
    display = "{name}"
)]
#[admin(search(name), inlines(GroupPermission))]
#[api(filter(name), search(name), ordering(name))]
pub struct Group {
    #[field(primary_key)]
    pub id: i32,
    /// The group's unique name.
    #[field(max_length = 150, min_length = 1, unique)]
    pub name: String,
}

/// A user account (Django's `User`). The password is stored as a hash and
/// never shown: not in responses, not in `Debug` output, not in logs.
#[derive(Model, Clone, PartialEq)]
#[model(
    app = "auth",
    table = "auth_user",
    ordering = "username",
    display = "{username}"
)]
#[admin(
    list_display(username, email, first_name, last_name, is_staff),
    list_filter(is_staff, is_superuser, is_active),
    search(username, first_name, last_name, email),
    inlines(UserGroup, UserPermission)
)]
#[api(
    filter(username, email, is_active, is_staff, is_superuser),
    search(username, first_name, last_name, email),
    ordering(username, date_joined, last_login)
)]
pub struct User {
    #[field(primary_key)]
    pub id: i32,
    /// Set on write as an argon2 hash; write-only.
    #[field(password, max_length = 128, min_length = 1)]
    pub password: String,
    /// The last successful login.
    #[field(read_only)]
    pub last_login: Option<DateTimeUtc>,
    /// Has every permission without being given it. Like the other flags,
    /// only holders of `auth.change_user` set it: `auth.add_user` alone
    /// creates plain accounts, as Django's add-user form.
    #[field(default = false, write_perm = "change")]
    pub is_superuser: bool,
    /// Unique login name.
    #[field(max_length = 150, min_length = 1, unique, regex = r"^[\w.@+-]+$")]
    pub username: String,
    /// Given name.
    #[field(max_length = 150, default = "")]
    pub first_name: String,
    /// Family name.
    #[field(max_length = 150, default = "")]
    pub last_name: String,
    /// Email address (may be empty).
    #[field(max_length = 254, default = "")]
    pub email: String,
    /// May log in to the admin site.
    #[field(default = false, write_perm = "change")]
    pub is_staff: bool,
    /// May log in at all; unset this instead of deleting accounts.
    #[field(default = true, write_perm = "change")]
    pub is_active: bool,
    /// When the account was created.
    #[field(auto_now_add)]
    pub date_joined: DateTimeUtc,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password", &"***")
            .field("is_active", &self.is_active)
            .field("is_staff", &self.is_staff)
            .field("is_superuser", &self.is_superuser)
            .finish_non_exhaustive()
    }
}

/// A user's membership of a group (`auth_user_groups`).
#[derive(Model, Clone, Debug, PartialEq)]
///
/// Like Django's auto-created through table it has no permissions of its
/// own: reading a user's groups needs `auth.view_user`, changing them
/// `auth.change_user`.
#[model(
    app = "auth",
    table = "auth_user_groups",
    plural = "user_groups",
    unique_together(user_id, group_id)
)]
#[admin(hidden, autocomplete(user_id))]
#[api(permissions_of = user_id, filter(user_id, group_id))]
pub struct UserGroup {
    #[field(primary_key)]
    pub id: i32,
    /// The member.
    #[field(references = User, on_delete = "cascade")]
    pub user_id: i32,
    /// The group.
    #[field(references = Group, on_delete = "cascade")]
    pub group_id: i32,
}

/// A permission given to a group (`auth_group_permissions`).
#[derive(Model, Clone, Debug, PartialEq)]
///
/// No permissions of its own: reading a group's permissions needs
/// `auth.view_group`, changing them `auth.change_group`.
#[model(
    app = "auth",
    table = "auth_group_permissions",
    plural = "group_permissions",
    unique_together(group_id, permission_id)
)]
#[admin(hidden, autocomplete(permission_id))]
#[api(permissions_of = group_id, filter(group_id, permission_id))]
pub struct GroupPermission {
    #[field(primary_key)]
    pub id: i32,
    /// The group.
    #[field(references = Group, on_delete = "cascade")]
    pub group_id: i32,
    /// The permission.
    #[field(references = Permission, on_delete = "cascade")]
    pub permission_id: i32,
}

/// A permission given to a user directly (`auth_user_user_permissions`).
#[derive(Model, Clone, Debug, PartialEq)]
///
/// No permissions of its own: reading a user's permissions needs
/// `auth.view_user`, changing them `auth.change_user`.
#[model(
    app = "auth",
    table = "auth_user_user_permissions",
    plural = "user_permissions",
    unique_together(user_id, permission_id)
)]
#[admin(hidden, autocomplete(user_id, permission_id))]
#[api(permissions_of = user_id, filter(user_id, permission_id))]
pub struct UserPermission {
    #[field(primary_key)]
    pub id: i32,
    /// The user.
    #[field(references = User, on_delete = "cascade")]
    pub user_id: i32,
    /// The permission.
    #[field(references = Permission, on_delete = "cascade")]
    pub permission_id: i32,
}

/// An API access token: only its SHA-256 digest is stored, so a database
/// leak reveals no usable token; deleting the row revokes it.
#[derive(Model, Clone, PartialEq)]
#[model(app = "ferrobridge", table = "ferrobridge_token")]
pub struct Token {
    #[field(primary_key)]
    pub id: i64,
    /// Hex SHA-256 of the token.
    #[field(max_length = 64, unique, write_only)]
    pub digest: String,
    /// Whose token it is.
    #[field(references = User, on_delete = "cascade")]
    pub user_id: i32,
    /// When it was issued.
    #[field(auto_now_add)]
    pub created_at: DateTimeUtc,
    /// When it stops working.
    pub expires_at: DateTimeUtc,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// An account at an external identity provider (the `iss` and `sub` claims
/// of its tokens) linked to a local user: [`JwtAuthenticator`](crate::auth::JwtAuthenticator)
/// finds users only through these rows, never by name or email alone.
/// `key` (unique) is a digest of the pair, so one (issuer, subject) links to
/// at most one user on every backend.
#[derive(Model, Clone, Debug, PartialEq)]
#[model(
    app = "ferrobridge",
    table = "ferrobridge_external_identity",
    plural = "external_identities"
)]
pub struct ExternalIdentity {
    #[field(primary_key)]
    pub id: i64,
    /// Hex SHA-256 of the issuer and subject ([`identity_key`](crate::auth::identity_key)).
    #[field(max_length = 64, unique)]
    pub key: String,
    /// The `iss` claim: who vouches for the subject.
    #[field(max_length = 255)]
    pub issuer: String,
    /// The `sub` claim: the account's id at the issuer.
    #[field(max_length = 255)]
    pub subject: String,
    /// The local account.
    #[field(references = User, on_delete = "cascade")]
    pub user_id: i32,
    /// When it was linked.
    #[field(auto_now_add)]
    pub created_at: DateTimeUtc,
}

/// A login session (Django's `django_session`), made by the admin's login.
/// The cookie holds only the key; the data stays in the database, so any
/// instance can serve any request.
#[derive(Model, Clone, PartialEq)]
#[model(app = "sessions", table = "django_session")]
#[admin(hidden)]
pub struct Session {
    /// The random key the `sessionid` cookie carries.
    #[field(primary_key, max_length = 40)]
    pub session_key: String,
    /// JSON: the user, their password's fingerprint and pending messages.
    #[field(text, write_only)]
    pub session_data: String,
    /// After this the session is gone.
    #[field(index)]
    pub expire_date: DateTimeUtc,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("expire_date", &self.expire_date)
            .finish_non_exhaustive()
    }
}

/// Failed logins counted under one name of the [login throttle](crate::auth::LoginThrottle)
/// (a username, a client address, or the pair), shared by every instance
/// on the database. Rows whose window has passed are deleted as failures
/// are recorded, so the table holds only the last few minutes' failures.
#[derive(Model, Clone, Debug, PartialEq)]
#[model(app = "ferrobridge", table = "ferrobridge_login_failure")]
#[admin(hidden)]
pub struct LoginFailure {
    /// Hex SHA-256 of what is counted (`user:ann`, `addr:192.0.2.1`, ...):
    /// never the typed username itself, which may be a password typed in
    /// the wrong field, and may be of any length.
    #[field(primary_key, max_length = 64)]
    pub key: String,
    /// Failures since `window_start`.
    pub failures: i32,
    /// The first failure of the current window.
    #[field(index)]
    pub window_start: DateTimeUtc,
}

/// A username that logged in successfully from a client address: the
/// [login throttle](crate::auth::LoginThrottle)'s address and username
/// locks do not apply to it there. Rows older than the trust's age are
/// deleted as logins are recorded.
#[derive(Model, Clone, Debug, PartialEq)]
#[model(app = "ferrobridge", table = "ferrobridge_trusted_login")]
#[admin(hidden)]
pub struct TrustedLogin {
    /// Hex SHA-256 of the address and username.
    #[field(primary_key, max_length = 64)]
    pub key: String,
    /// The pair's last successful login.
    #[field(index)]
    pub logged_in_at: DateTimeUtc,
}
